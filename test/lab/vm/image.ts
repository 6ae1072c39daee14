/**
 * The lab VMs' disk images, one per Debian release (12 bookworm, 13 trixie), from Debian's packages
 * only (debootstrap minbase with a fixed package list from this machine's own Debian mirror, which
 * serves every suite), configured by configure-root.sh, packed into a sparse raw ext4 image with
 * `mkfs.ext4 -d` (no loop mount). Each is cached under cacheRoot()/<recipe hash> with the kernel and
 * initrd for direct boot; the lab's archive key (one for every image, so one repository serves VMs
 * of both releases) and the Debian packages the lab's archive serves are cached beside them. A
 * change to a recipe changes its hash and so builds a new image.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { downloadDebs } from '../../support/debian-suites.js';

const VM_DIR = dirname(fileURLToPath(import.meta.url));

/** The releases a lab VM can run: the inventory's os: value, Debian's suite and /etc/os-release's VERSION_ID. */
export const VM_OSES = {
  debian12: { suite: 'bookworm', versionId: '12' },
  debian13: { suite: 'trixie', versionId: '13' },
} as const;
export type VmOs = keyof typeof VM_OSES;
export const isVmOs = (x: string): x is VmOs => Object.hasOwn(VM_OSES, x);

/**
 * What the image holds. Everything kbootstrap expects of a fresh Debian 12 server (sshd, sudo, curl,
 * gnupg, iptables, kmod, procps, the kernel) and the programs kubelet's package depends on (socat,
 * conntrack, ethtool, ebtables); nodejs runs the lab's simulated kubeadm/kubelet/kubectl/crictl
 * (Debian 12's nodejs 18). No container runtime: that comes from the lab's archive when kbootstrap
 * installs it. The vm-notes trial's list.
 */
export const IMAGE_PACKAGES = [
  'linux-image-amd64', 'systemd-sysv', 'udev', 'dbus', 'openssh-server', 'iproute2', 'kmod', 'procps', 'sudo',
  'iptables', 'ca-certificates', 'curl', 'gnupg', 'socat', 'conntrack', 'ethtool', 'ebtables', 'util-linux',
  'netbase', 'nodejs', 'passwd',
  // python3: `up --bundle` serves the bundle from the first control plane with python3 -m http.server (Debian's cloud images have it)
  'python3',
];

/**
 * Debian's own packages the lab's archive serves to the VMs (they have no route to Debian's mirrors):
 * containerd.io depends on containerd and runc, kubernetes-cni on containernetworking-plugins;
 * kube-packages installs ipset and ipvsadm for kube-proxy's ipvs mode; docker.io becomes docker-ce. Their dependencies that the
 * image lacks are listed too (apt-cache depends); libc6 and libseccomp2 are in the image.
 * Not part of the image: cached on their own, keyed on this list.
 * Debian 13 serves containerd only: cri-dockerd publishes no package for it (the versions table's
 * cri-dockerd rows), so a Debian 13 VM never runs Docker. trixie renamed libipset13 for the 64-bit
 * time_t transition (libipset13t64) and dropped lsb-base (apt-cache policy on trixie, 2026-12-07).
 */
export const ARCHIVE_DEBS: Record<VmOs, readonly string[]> = {
  debian12: ['containerd', 'runc', 'containernetworking-plugins', 'ipset', 'libipset13', 'ipvsadm', 'libnl-3-200', 'libnl-genl-3-200', 'libpopt0', 'lsb-base',
    // Debian's Docker Engine, repackaged by the lab as docker-ce and docker-ce-cli (repo.ts); tini is its docker-init
    'docker.io', 'tini'],
  debian13: ['containerd', 'runc', 'containernetworking-plugins', 'ipset', 'libipset13t64', 'ipvsadm', 'libnl-3-200', 'libnl-genl-3-200', 'libpopt0'],
};

export interface VmImage {
  os: VmOs;
  hash: string;
  dir: string;
  image: string;
  kernel: string;
  initrd: string;
  /** `uname -r` of the image's kernel (from its /boot file name) */
  kernelRelease: string;
  /** GnuPG home holding the lab's archive signing key (no passphrase: a lab key). */
  gnupgHome: string;
}

/** Where built images are kept between runs: $KBLAB_VM_CACHE, else $XDG_CACHE_HOME or ~/.cache, /kbootstrap-lab. */
export function cacheRoot(): string {
  return process.env.KBLAB_VM_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kbootstrap-lab');
}

/**
 * The recipe's hash: package lists, suite, the configuration scripts the image is made with and the
 * lab archive key the image trusts (so a new key builds new images).
 */
export function recipeHash(os: VmOs, keyFingerprint: string): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ suite: VM_OSES[os].suite, IMAGE_PACKAGES, keyFingerprint, format: 4 }));
  for (const f of ['configure-root.sh', 'firstboot.sh']) h.update(readFileSync(join(VM_DIR, f)));
  return h.digest('hex').slice(0, 16);
}

/** The suite this machine's apt sources name; its archive serves the other suites too (vm-notes). */
const SUITE = 'bookworm';

/** This machine's Debian archive (deb822 .sources or one-line sources.list, the bookworm entry), or $KBLAB_VM_MIRROR. */
export function debianMirror(): string {
  if (process.env.KBLAB_VM_MIRROR) return process.env.KBLAB_VM_MIRROR;
  const files = [...(existsSync('/etc/apt/sources.list') ? ['/etc/apt/sources.list'] : []), ...(existsSync('/etc/apt/sources.list.d') ? readdirSync('/etc/apt/sources.list.d').map((f) => join('/etc/apt/sources.list.d', f)) : [])];
  for (const f of files) {
    const text = readFileSync(f, 'utf8');
    if (f.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (k: string) => new RegExp(`^${k}:\\s*(.+)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
        if (field('Types').includes('deb') && field('Suites').includes(SUITE) && field('Components').includes('main')) return field('URIs')[0]!;
      }
    } else {
      const m = new RegExp(`^deb\\s+(?:\\[[^\\]]*\\]\\s+)?(\\S+)\\s+${SUITE}\\s+.*\\bmain\\b`, 'm').exec(text);
      if (m) return m[1]!;
    }
  }
  throw new Error(`no Debian ${SUITE} archive in this machine's apt sources: set KBLAB_VM_MIRROR`);
}

function run(cmd: string, args: string[], log: number, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const r = spawnSync(cmd, args, { stdio: ['ignore', log, log], cwd: opts.cwd, env: opts.env ?? process.env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.error?.message ?? `exit ${r.status}`})`);
}

/**
 * The lab's archive signing key (no passphrase: a lab key), made once and shared by every image and
 * by the repository that signs the trees the VMs install from. Returns its GnuPG home and fingerprint.
 */
export function ensureArchiveKey(): { gnupgHome: string; fingerprint: string } {
  const home = join(cacheRoot(), 'archive-key');
  const fprOf = (dir: string) => {
    const r = spawnSync('gpg', ['--batch', '--homedir', dir, '--list-keys', '--with-colons'], { encoding: 'utf8' });
    return /^fpr:(?:[^:]*:){8}([0-9A-F]{40}):/m.exec(r.stdout ?? '')?.[1];
  };
  if (existsSync(join(home, 'complete'))) {
    const fpr = fprOf(home);
    if (fpr) return { gnupgHome: home, fingerprint: fpr };
  }
  mkdirSync(cacheRoot(), { recursive: true });
  // made beside its final place and renamed into it: an interrupted run never leaves half a key
  const tmp = mkdtempSync(join(cacheRoot(), '.archive-key-'));
  try {
    const r = spawnSync('gpg', ['--batch', '--homedir', tmp, '--passphrase', '', '--quick-gen-key', 'kblab archive <kblab@lab.invalid>', 'ed25519', 'sign', 'never'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`gpg --quick-gen-key failed: ${r.stderr}`);
    // the agent gpg started is bound to this directory, which is about to be renamed: end it
    spawnSync('gpgconf', ['--homedir', tmp, '--kill', 'gpg-agent']);
    writeFileSync(join(tmp, 'complete'), '');
    rmSync(home, { recursive: true, force: true });
    renameSync(tmp, home);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  const fpr = fprOf(home);
  if (!fpr) throw new Error(`no key in ${home}`);
  return { gnupgHome: home, fingerprint: fpr };
}

function imageOf(os: VmOs, hash: string, dir: string, gnupgHome: string): VmImage {
  const img = { os, hash, dir, image: join(dir, 'base.img'), kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), gnupgHome, kernelRelease: '' };
  if (existsSync(join(dir, 'kernel-release'))) img.kernelRelease = readFileSync(join(dir, 'kernel-release'), 'utf8').trim();
  return img;
}

/** The cached image of a release for the current recipe, built first if missing. */
export function ensureImage(os: VmOs = 'debian12', say: (msg: string) => void = () => {}): VmImage {
  const key = ensureArchiveKey();
  const hash = recipeHash(os, key.fingerprint);
  const dir = join(cacheRoot(), hash);
  const { suite } = VM_OSES[os];
  if (existsSync(join(dir, 'complete'))) {
    say(`image ${os} ${hash}: cached in ${dir}`);
    return imageOf(os, hash, dir, key.gnupgHome);
  }
  mkdirSync(cacheRoot(), { recursive: true });
  const t0 = Date.now();
  // built beside its final place and renamed into it, so an interrupted build never looks complete
  const tmp = mkdtempSync(join(cacheRoot(), `.build-${hash}-`));
  const logPath = join(cacheRoot(), `build-${hash}.log`);
  const log = openSync(logPath, 'w');
  say(`image ${os} ${hash}: building Debian ${suite} from Debian packages (about 2 minutes; log ${logPath})`);
  try {
    const root = join(tmp, 'root');
    const mirror = debianMirror();
    run('debootstrap', ['--variant=minbase', `--include=${IMAGE_PACKAGES.join(',')}`, suite, root, mirror], log);
    run('sh', [join(VM_DIR, 'configure-root.sh'), root], log);

    // the lab's archive key, trusted by the image like Debian's own keyring
    const pub = spawnSync('gpg', ['--batch', '--homedir', key.gnupgHome, '--export'], { maxBuffer: 1 << 20 });
    if (pub.status !== 0 || !pub.stdout.length) throw new Error('gpg --export of the lab archive key failed');
    writeFileSync(join(root, 'usr/share/keyrings/kblab-archive-keyring.gpg'), pub.stdout);
    run('gpgconf', ['--homedir', key.gnupgHome, '--kill', 'gpg-agent'], log);

    // kernel and initrd for direct boot (-kernel/-initrd), from the root's /boot
    const boot = readdirSync(join(root, 'boot'));
    const kernel = boot.find((f) => f.startsWith('vmlinuz-'));
    const initrd = boot.find((f) => f.startsWith('initrd.img-'));
    if (!kernel || !initrd) throw new Error(`no kernel/initrd in the image's /boot (${boot.join(' ')})`);
    renameSync(join(root, 'boot', kernel), join(tmp, 'vmlinuz'));
    renameSync(join(root, 'boot', initrd), join(tmp, 'initrd.img'));
    writeFileSync(join(tmp, 'kernel-release'), `${kernel.slice('vmlinuz-'.length)}\n`);

    run('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', root, join(tmp, 'base.img'), '3G'], log);
    rmSync(root, { recursive: true, force: true });
    writeFileSync(join(tmp, 'complete'), `${new Date().toISOString()} ${os} (${suite}) built in ${((Date.now() - t0) / 1000).toFixed(0)}s from ${mirror}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`building the ${os} VM image failed: ${(e as Error).message} (log: ${logPath})`);
  } finally {
    closeSync(log);
  }
  say(`image ${os} ${hash}: built in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  return imageOf(os, hash, dir, key.gnupgHome);
}

/**
 * Debian's real packages of a release for the lab's archive, fetched once: Debian 12's with this
 * machine's own apt (its lists name the same archive), Debian 13's from trixie through a private
 * apt state (test/support/debian-suites.ts: never a mixed-suite install on this machine).
 */
export function ensureArchiveDebs(os: VmOs = 'debian12', say: (msg: string) => void = () => {}): string {
  const list = ARCHIVE_DEBS[os];
  const { suite } = VM_OSES[os];
  // the debian12 key is the one earlier runs cached under (a hash of the list alone)
  const hash = createHash('sha256').update(JSON.stringify(os === 'debian12' ? list : { suite, list })).digest('hex').slice(0, 16);
  const dir = join(cacheRoot(), `debs-${hash}`);
  if (existsSync(join(dir, 'complete'))) return dir;
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = mkdtempSync(join(cacheRoot(), `.debs-${hash}-`));
  const log = openSync(join(cacheRoot(), `debs-${hash}.log`), 'w');
  try {
    say(`fetching ${list.join(' ')} from ${suite} with apt-get download`);
    if (os === 'debian12') {
      // apt's sandbox user cannot write under root's cache: download as root, as apt itself falls back to
      run('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', ...list], log, { cwd: tmp });
    } else downloadDebs('trixie', [...list], tmp);
    writeFileSync(join(tmp, 'complete'), '');
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  } finally {
    closeSync(log);
  }
  return dir;
}
