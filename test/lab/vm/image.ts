/**
 * The lab VMs' disk image: Debian 12 from Debian's packages only (debootstrap minbase with a fixed
 * package list from this machine's own Debian mirror), configured by configure-root.sh, packed into
 * a sparse raw ext4 image with `mkfs.ext4 -d` (no loop mount). Cached under cacheRoot()/<recipe hash>
 * with the kernel and initrd for direct boot, the lab's archive key and the Debian packages the lab's
 * archive serves; a change to the recipe changes the hash and so builds a new image.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync, openSync, closeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const VM_DIR = dirname(fileURLToPath(import.meta.url));
const SUITE = 'bookworm';

/**
 * What the image holds. Everything kbootstrap expects of a fresh Debian 12 server (sshd, sudo, curl,
 * gnupg, iptables, kmod, procps, the kernel) and the programs kubelet's package depends on (socat,
 * conntrack, ethtool, ebtables); nodejs runs the lab's simulated kubeadm/kubelet/kubectl/crictl
 * (Debian 12's nodejs 18). No container runtime: that comes from the lab's archive when kbootstrap
 * installs it. The vm-notes trial's list, without python3 (nothing here needs it).
 */
export const IMAGE_PACKAGES = [
  'linux-image-amd64', 'systemd-sysv', 'udev', 'dbus', 'openssh-server', 'iproute2', 'kmod', 'procps', 'sudo',
  'iptables', 'ca-certificates', 'curl', 'gnupg', 'socat', 'conntrack', 'ethtool', 'ebtables', 'util-linux',
  'netbase', 'nodejs', 'passwd',
];

/**
 * Debian's own packages the lab's archive serves to the VMs (they have no route to Debian's mirrors):
 * containerd.io depends on containerd and runc, kubernetes-cni on containernetworking-plugins;
 * kube-packages installs ipset and ipvsadm for kube-proxy's ipvs mode; docker.io becomes docker-ce. Their dependencies that the
 * image lacks are listed too (apt-cache depends); libc6 and libseccomp2 are in the image.
 * Not part of the image: cached on their own, keyed on this list.
 */
export const ARCHIVE_DEBS = ['containerd', 'runc', 'containernetworking-plugins', 'ipset', 'libipset13', 'ipvsadm', 'libnl-3-200', 'libnl-genl-3-200', 'libpopt0', 'lsb-base',
  // Debian's Docker Engine, repackaged by the lab as docker-ce and docker-ce-cli (repo.ts); tini is its docker-init
  'docker.io', 'tini'];

export interface VmImage {
  hash: string;
  dir: string;
  image: string;
  kernel: string;
  initrd: string;
  /** GnuPG home holding the lab's archive signing key (no passphrase: a lab key). */
  gnupgHome: string;
}

/** Where built images are kept between runs: $KBLAB_VM_CACHE, else $XDG_CACHE_HOME or ~/.cache, /kbootstrap-lab. */
export function cacheRoot(): string {
  return process.env.KBLAB_VM_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kbootstrap-lab');
}

/** The recipe's hash: package lists, suite and the configuration scripts the image is made with. */
export function recipeHash(): string {
  const h = createHash('sha256');
  h.update(JSON.stringify({ SUITE, IMAGE_PACKAGES, format: 3 }));
  for (const f of ['configure-root.sh', 'firstboot.sh']) h.update(readFileSync(join(VM_DIR, f)));
  return h.digest('hex').slice(0, 16);
}

/** This machine's Debian archive for the suite (deb822 .sources or one-line sources.list), or $KBLAB_VM_MIRROR. */
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

/** The cached image for the current recipe, built first if missing. */
export function ensureImage(say: (msg: string) => void = () => {}): VmImage {
  const hash = recipeHash();
  const dir = join(cacheRoot(), hash);
  const img: VmImage = { hash, dir, image: join(dir, 'base.img'), kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img'), gnupgHome: join(dir, 'gnupg') };
  if (existsSync(join(dir, 'complete'))) {
    say(`image ${hash}: cached in ${dir}`);
    return img;
  }
  mkdirSync(cacheRoot(), { recursive: true });
  const t0 = Date.now();
  // built beside its final place and renamed into it, so an interrupted build never looks complete
  const tmp = mkdtempSync(join(cacheRoot(), `.build-${hash}-`));
  const logPath = join(cacheRoot(), `build-${hash}.log`);
  const log = openSync(logPath, 'w');
  say(`image ${hash}: building from Debian packages (about 2 minutes; log ${logPath})`);
  try {
    const root = join(tmp, 'root');
    const mirror = debianMirror();
    run('debootstrap', ['--variant=minbase', `--include=${IMAGE_PACKAGES.join(',')}`, SUITE, root, mirror], log);
    run('sh', [join(VM_DIR, 'configure-root.sh'), root], log);

    // the lab's archive key: made with the image so the image can trust it like Debian's own keyring
    const gnupg = join(tmp, 'gnupg');
    mkdirSync(gnupg, { mode: 0o700 });
    run('gpg', ['--batch', '--homedir', gnupg, '--passphrase', '', '--quick-gen-key', 'kblab archive <kblab@lab.invalid>', 'ed25519', 'sign', 'never'], log);
    const pub = spawnSync('gpg', ['--batch', '--homedir', gnupg, '--export'], { maxBuffer: 1 << 20 });
    if (pub.status !== 0 || !pub.stdout.length) throw new Error('gpg --export of the lab archive key failed');
    writeFileSync(join(root, 'usr/share/keyrings/kblab-archive-keyring.gpg'), pub.stdout);
    // the agent gpg started is bound to this build directory, which is about to be renamed: end it
    run('gpgconf', ['--homedir', gnupg, '--kill', 'gpg-agent'], log);

    // kernel and initrd for direct boot (-kernel/-initrd), from the root's /boot
    const boot = readdirSync(join(root, 'boot'));
    const kernel = boot.find((f) => f.startsWith('vmlinuz-'));
    const initrd = boot.find((f) => f.startsWith('initrd.img-'));
    if (!kernel || !initrd) throw new Error(`no kernel/initrd in the image's /boot (${boot.join(' ')})`);
    renameSync(join(root, 'boot', kernel), join(tmp, 'vmlinuz'));
    renameSync(join(root, 'boot', initrd), join(tmp, 'initrd.img'));

    run('mkfs.ext4', ['-q', '-F', '-L', 'root', '-d', root, join(tmp, 'base.img'), '3G'], log);
    rmSync(root, { recursive: true, force: true });
    writeFileSync(join(tmp, 'complete'), `${new Date().toISOString()} built in ${((Date.now() - t0) / 1000).toFixed(0)}s from ${mirror}\n`);
    rmSync(dir, { recursive: true, force: true });
    renameSync(tmp, dir);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`building the VM image failed: ${(e as Error).message} (log: ${logPath})`);
  } finally {
    closeSync(log);
  }
  say(`image ${hash}: built in ${((Date.now() - t0) / 1000).toFixed(0)}s`);
  return img;
}

/** Debian's real packages for the lab's archive, fetched once with this machine's apt (its lists name the same archive). */
export function ensureArchiveDebs(say: (msg: string) => void = () => {}): string {
  const hash = createHash('sha256').update(JSON.stringify(ARCHIVE_DEBS)).digest('hex').slice(0, 16);
  const dir = join(cacheRoot(), `debs-${hash}`);
  if (existsSync(join(dir, 'complete'))) return dir;
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = mkdtempSync(join(cacheRoot(), `.debs-${hash}-`));
  const log = openSync(join(cacheRoot(), `debs-${hash}.log`), 'w');
  try {
    say(`fetching ${ARCHIVE_DEBS.join(' ')} with apt-get download`);
    // apt's sandbox user cannot write under root's cache: download as root, as apt itself falls back to
    run('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', ...ARCHIVE_DEBS], log, { cwd: tmp });
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
