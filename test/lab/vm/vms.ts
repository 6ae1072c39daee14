/**
 * Lab hosts that are real Debian 12 or Debian 13 virtual machines (qemu): one tap per VM on the lab's bridge, the
 * same address plan, inventory, client key and known_hosts as the namespace lab (../lab.ts), so
 * `lab exec`, `lab status`, `lab down` and the e2e helpers work on either kind.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BRIDGE, GATEWAY, LAB_DIR, SUBNET_PREFIX, hostName, labInventory, readLabState, waitForSsh, type LabHost, type LabState } from '../lab.js';
import { shqAll } from '../../../src/shell/quote.js';
import { chooseAccel, type Accel } from './accel.js';
import { ensureImage, type VmImage, type VmOs } from './image.js';
import { KUBE, REPO_PORT, repoKeyFingerprints, startRepo, stopRepo } from './repo.js';
import { INTERNET_ADDR, startOffline, stopOffline, type OfflineState } from './offline.js';
import { parseDocument } from 'yaml';

/** Guest memory and CPUs: 3 VMs must fit a 2-core, 24 GiB machine (about 1 GB qemu RSS each, measured). */
export const VM_MEM_MIB = 1024;
export const VM_CPUS = 1;
/** A control plane gets what kubeadm's preflight demands of one (NumCPU >= 2, Mem >= 1700 MB). */
export const VM_CONTROL_PLANE = { memMiB: 2048, cpus: 2 };
/** First boot under TCG took 35–55 s in the trial (66 s for Debian 13); three guests booting at once on a busy 2-core machine took over 240 s once: allow 480 s. */
const BOOT_TIMEOUT_MS = 480_000;

const pad = (i: number) => String(i).padStart(2, '0');
/** Tap names carry the bridge's name, so labs on different bridges never touch each other's taps. */
const tapName = (i: number) => `${BRIDGE}t${pad(i)}`;
const vmDir = () => join(LAB_DIR, 'vms');

function run(cmd: string, args: string[], opts: { allowFail?: boolean } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout ?? '';
}

export function vmUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'VMs need Linux';
  if (process.getuid?.() !== 0) return 'VMs need root (bridge, taps, debootstrap)';
  for (const [bin, pkg] of [['qemu-system-x86_64', 'qemu-system-x86'], ['qemu-img', 'qemu-utils'], ['debootstrap', 'debootstrap'], ['mkfs.ext4', 'e2fsprogs'], ['gpg', 'gpg'], ['apt-ftparchive', 'apt-utils'], ['dpkg-deb', 'dpkg']]) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is missing (apt-get install ${pkg})`;
  }
  return undefined;
}

/** A qemu process this lab started: its pid, checked against its command line so a reused pid is never killed. */
function ourQemu(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.startsWith('qemu-system') && cmd.includes(vmDir());
  } catch { return false; }
}

function hostKeyFromConsole(consoleFile: string): string | undefined {
  if (!existsSync(consoleFile)) return undefined;
  // the console also carries kernel messages interleaved with lines: take the line the first-boot unit wrote
  const m = /KBLAB-HOSTKEY (ssh-ed25519 [A-Za-z0-9+/=]+)/.exec(readFileSync(consoleFile, 'utf8'));
  return m?.[1];
}

function consoleTail(consoleFile: string): string {
  return existsSync(consoleFile) ? readFileSync(consoleFile, 'utf8').split('\n').slice(-25).join('\n') : '(no console output)';
}

async function waitForHostKey(h: LabHost, consoleFile: string, deadline: number): Promise<string> {
  for (;;) {
    const k = hostKeyFromConsole(consoleFile);
    if (k) return k;
    if (!ourQemu(h.pid)) throw new Error(`${h.name}: qemu exited during boot (console: ${consoleFile})`);
    // the console's last lines go into the message: a test's `down` removes the lab dir with the console file
    if (Date.now() > deadline) throw new Error(`${h.name}: no host key on the console in ${BOOT_TIMEOUT_MS / 1000}s (console: ${consoleFile}); its last lines:\n${consoleTail(consoleFile)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * controlPlanes: the first N VMs are sized for kubeadm init (VM_CONTROL_PLANE); the default 0 gives every VM the small size.
 * os: the release of every VM (default debian12), or one per VM in order (lab-01 first).
 * offline: the repository server and a registry play "the internet" on a loopback address no VM reaches
 * (offline.ts); the VMs reach each other and the site's Debian mirror only.
 */
export interface VmUpOptions { hosts: number; controlPlanes?: number; os?: VmOs | readonly VmOs[]; offline?: boolean; say?: (msg: string) => void }

export async function vmUp(opts: VmUpOptions): Promise<LabState & { accel: Accel }> {
  const say = opts.say ?? (() => {});
  const why = vmUnavailable();
  if (why) throw new Error(`the VM lab cannot run here: ${why}`);
  if (opts.hosts < 1 || opts.hosts > 20) throw new Error('--hosts must be between 1 and 20 for VMs');
  const oses: VmOs[] = Array.from({ length: opts.hosts }, (_, i) => (typeof opts.os === 'object' ? opts.os[i] : opts.os) ?? 'debian12');
  if (typeof opts.os === 'object' && opts.os.length !== opts.hosts) throw new Error(`${opts.os.length} releases given for ${opts.hosts} VMs`);
  vmDown();
  // one cached image per release, each built once
  const images = new Map<VmOs, VmImage>();
  for (const os of oses) if (!images.has(os)) images.set(os, ensureImage(os, say));
  const accel = chooseAccel(images.get(oses[0]!)!.kernel);
  say(`acceleration: ${accel.kind} (${accel.why})`);

  mkdirSync(vmDir(), { recursive: true });
  const key = join(LAB_DIR, 'id_ed25519');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kblab-client', '-f', key]);
  const keyBlob = readFileSync(`${key}.pub`, 'utf8').split(' ')[1]!;

  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${GATEWAY}/24`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);

  const hosts: LabHost[] = [];
  const state: LabState & { accel: Accel } = { kind: 'vm', hosts, family: 'debian', accel };
  const saveState = () => writeFileSync(join(LAB_DIR, 'state.json'), JSON.stringify(state, null, 2));
  saveState();
  const repo = await startRepo([...images.values()], opts.offline ? INTERNET_ADDR : GATEWAY, say);
  state.repo = repo;
  saveState();
  // the VMs' Debian archive: the repository's own /debian, or offline the site mirror that serves it alone
  let archive = `${repo.url}/debian`;
  if (opts.offline) {
    state.offline = await startOffline(join(LAB_DIR, 'repo'), REPO_PORT, KUBE.version.replace(/-.*$/, ''), say);
    archive = `${state.offline.siteMirror.url}/debian`;
    saveState();
  }

  for (let i = 1; i <= opts.hosts; i++) {
    const os = oses[i - 1]!;
    const image = images.get(os)!;
    const h: LabHost = { name: hostName(i), index: i, address: `${SUBNET_PREFIX}.${10 + i}`, family: 'debian', os, netns: '', pid: 0, hostKey: '' };
    const disk = join(vmDir(), `${h.name}.qcow2`);
    // a copy-on-write overlay: the cached image is never written, a fresh VM costs nothing to make
    run('qemu-img', ['create', '-q', '-f', 'qcow2', '-b', image.image, '-F', 'raw', disk, '10G']);
    const tap = tapName(i);
    run('ip', ['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
    run('ip', ['link', 'set', tap, 'master', BRIDGE, 'up']);
    const mac = `52:54:00:${randomBytes(3).toString('hex').match(/../g)!.join(':')}`;
    const pidFile = join(vmDir(), `${h.name}.pid`);
    const append = ['root=/dev/vda', 'rw', 'console=ttyS0', 'net.ifnames=0', 'quiet',
      `kblab.addr=${h.address}/24`, `kblab.gw=${GATEWAY}`, `kblab.key=${keyBlob}`, `kblab.mirror=${archive}`].join(' ');
    // qemu takes no shell: arguments go straight to execve. -daemonize returns once the VM runs;
    // the -uuid becomes the guest's product_uuid (kubeadm requires them unique)
    const size = i <= (opts.controlPlanes ?? 0) ? VM_CONTROL_PLANE : { memMiB: VM_MEM_MIB, cpus: VM_CPUS };
    run('qemu-system-x86_64', [...accel.args, '-name', h.name, '-m', String(size.memMiB), '-smp', String(size.cpus), '-uuid', randomUUID(),
      '-kernel', image.kernel, '-initrd', image.initrd, '-append', append,
      // cache=unsafe: the guest's flushes stop at qemu (qemu-system-x86_64(1), -drive cache=), so dpkg's fsync after every file
      // does not reach this machine's disk; a lab VM's overlay is thrown away, and a clean guest reboot loses nothing
      '-drive', `file=${disk},if=virtio,format=qcow2,cache=unsafe`,
      '-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`, '-device', `virtio-net-pci,netdev=n0,mac=${mac}`,
      '-serial', `file:${join(vmDir(), `${h.name}.console`)}`, '-display', 'none', '-monitor', 'none',
      '-pidfile', pidFile, '-daemonize']);
    h.pid = Number(readFileSync(pidFile, 'utf8').trim());
    hosts.push(h);
    saveState();
  }
  const deadline = Date.now() + BOOT_TIMEOUT_MS;
  await Promise.all(hosts.map(async (h) => {
    h.hostKey = await waitForHostKey(h, join(vmDir(), `${h.name}.console`), deadline);
    await waitForSsh(h.address, Math.max(1000, deadline - Date.now()));
  }));
  saveState();
  writeFileSync(join(LAB_DIR, 'known_hosts'), hosts.map((x) => `${x.address} ${x.hostKey}`).join('\n') + '\n');
  // the repository server is plain http and signs with the lab's archive key: the inventory says both
  let inv = labInventory(hosts, { mirror: { url: repo.url, keyFingerprints: repoKeyFingerprints() } });
  if (state.offline) inv = offlineInventory(inv, state.offline);
  writeFileSync(join(LAB_DIR, 'inventory.yaml'), inv);
  return state;
}

/**
 * The offline lab's inventory is the one `kbootstrap bundle` runs with here: the registry standing in for
 * registry.k8s.io (its CA beside the inventory: caFile is relative to it), no CNI (no CNI image is in the registry).
 */
function offlineInventory(text: string, off: OfflineState): string {
  copyFileSync(off.registry.ca, join(LAB_DIR, 'registry-ca.crt'));
  const doc = parseDocument(text);
  doc.setIn(['cluster', 'cni'], { plugin: 'none' });
  doc.setIn(['cluster', 'registries'], [{ host: off.registry.host, mirrorOf: ['registry.k8s.io'], caFile: 'registry-ca.crt', credentials: { username: off.registry.user, passwordFile: off.registry.passwordFile } }]);
  return doc.toString();
}

/** Remove every VM, tap, bridge, server and file this lab directory's VM lab made; safe to repeat and after a crash. */
export function vmDown(opts: { keepDir?: boolean } = {}): void {
  const dir = vmDir();
  const pids: number[] = [];
  // the shared connections first (they would notice the VMs' end within 6 s anyway)
  const st = readLabState();
  if (st?.kind === 'vm') for (const h of st.hosts) vmForget(h);
  if (existsSync(dir)) {
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.pid'))) {
      const pid = Number(readFileSync(join(dir, f), 'utf8').trim());
      if (pid && ourQemu(pid)) { pids.push(pid); try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    }
  }
  const deadline = Date.now() + 5000;
  while (pids.some(ourQemu) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  stopRepo();
  stopOffline();
  const tapRe = new RegExp(`^\\d+: (${BRIDGE}t\\d+)[:@]`);
  for (const l of run('ip', ['-o', 'link', 'show'], { allowFail: true }).split('\n')) {
    const m = tapRe.exec(l);
    if (m) run('ip', ['link', 'del', m[1]!], { allowFail: true });
  }
  if (run('ip', ['link', 'show', BRIDGE], { allowFail: true })) run('ip', ['link', 'del', BRIDGE], { allowFail: true });
  if (!opts.keepDir) rmSync(LAB_DIR, { recursive: true, force: true });
}

/**
 * The tests' own commands on a VM share one SSH connection per VM (OpenSSH connection multiplexing, ssh_config(5)
 * ControlMaster/ControlPath/ControlPersist): a new connection costs an emulated key exchange, host-key signature and
 * PAM session (about 1-3 s each under TCG on a busy machine, and the VM tests make hundreds), a multiplexed session a
 * channel and a shell. The master lives 60 s past its last use; ServerAlive* ends a master whose VM went away (a
 * reboot, a stop) within 6 s, so a command never hangs on a dead connection. kbootstrap's own connections are its own.
 */
function muxArgs(): string[] {
  // %C: a hash of the connection's parameters (short: a socket path has at most 107 bytes)
  return ['-o', 'ControlMaster=auto', '-o', `ControlPath=${join(LAB_DIR, 'mux-%C')}`, '-o', 'ControlPersist=60',
    '-o', 'ServerAliveInterval=2', '-o', 'ServerAliveCountMax=3'];
}

function sshBase(h: LabHost): string[] {
  return ['-i', join(LAB_DIR, 'id_ed25519'), '-o', `UserKnownHostsFile=${join(LAB_DIR, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR', ...muxArgs(), `root@${h.address}`];
}

/** Run a command on a VM as root over SSH (a VM has no namespace to enter); each argument quoted for the remote shell. */
export function vmExec(h: LabHost, cmd: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('ssh', [...sshBase(h), '--', shqAll(cmd)], { encoding: 'utf8', input: input ?? '' });
  return { code: r.status ?? 255, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** End the shared connection to a VM (before a reboot, and at vmDown): the next command opens a new one. */
export function vmForget(h: LabHost): void {
  spawnSync('ssh', [...sshBase(h), '-O', 'exit'], { encoding: 'utf8', timeout: 10_000 });
}

