// What `npm run demo` and `npm test` need from the machine, set up where it
// can be: on Debian or Ubuntu as root the missing packages are installed
// with apt-get (and named first); anywhere else every missing prerequisite
// is printed in one short block. `tsx scripts/prereqs.ts demo|test` (npm
// runs it as pretest); the demo imports it.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

export type Purpose = 'demo' | 'test';

/** Debian package → a file it installs, to tell whether it is there without dpkg. */
const LAB_PACKAGES: Record<string, string> = {
  'openssh-server': '/usr/sbin/sshd',
  'openssh-client': '/usr/bin/ssh-keygen',
  sudo: '/usr/bin/sudo',
  iproute2: '/usr/sbin/ip',
  'util-linux': '/usr/bin/unshare',
  procps: '/usr/bin/pgrep',
  // the simulated kube-vip's gratuitous ARP (test/lab/sim/garp.py: a raw AF_PACKET socket)
  python3: '/usr/bin/python3',
};
/** The tests also lint rendered scripts (shellcheck), make certificates (openssl), load containerd configs, drive a terminal (tmux) and boot VMs (qemu). */
const TEST_PACKAGES: Record<string, string> = {
  ...LAB_PACKAGES,
  shellcheck: '/usr/bin/shellcheck',
  openssl: '/usr/bin/openssl',
  containerd: '/usr/bin/containerd',
  tmux: '/usr/bin/tmux',
  // systemd-analyze verifies the unit files kbootstrap writes (test/oracles)
  systemd: '/usr/bin/systemd-analyze',
  // the VM lab (test/lab/vm): qemu, the image recipe, the signed lab repository
  'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
  'qemu-utils': '/usr/bin/qemu-img',
  debootstrap: '/usr/sbin/debootstrap',
  e2fsprogs: '/usr/sbin/mkfs.ext4',
  'apt-utils': '/usr/bin/apt-ftparchive',
  gpg: '/usr/bin/gpg',
  // the rpm bundle tests: tiny packages, their repodata, and real dnf reading the bundle (test/bundle-rpm.test.ts)
  rpm: '/usr/bin/rpmbuild',
  'createrepo-c': '/usr/bin/createrepo_c',
  dnf: '/usr/bin/dnf',
  // bundle --push copies images with it (src/bundle/push.ts, test/bundle-rpm.test.ts)
  skopeo: '/usr/bin/skopeo',
  // sid's sudo-rs relocated onto sid's glibc for a lab host (test/lab/sudo-rs.ts), and sid's runc for the containerd 2.x oracle
  patchelf: '/usr/bin/patchelf',
};

const MIN_NODE = 20;

function osRelease(): Record<string, string> {
  try {
    return Object.fromEntries(readFileSync('/etc/os-release', 'utf8').split('\n').map((l) => /^([A-Z_]+)=("?)(.*)\2$/.exec(l)).filter((m) => m).map((m) => [m![1]!, m![3]!]));
  } catch {
    return {};
  }
}

function isDebianLike(os: Record<string, string>): boolean {
  return [os.ID, ...(os.ID_LIKE ?? '').split(' ')].some((id) => id === 'debian' || id === 'ubuntu');
}

/** Missing prerequisites after installing what can be installed: an empty list means all is there. */
export function ensurePrereqs(purpose: Purpose, log: (s: string) => void = (s) => process.stderr.write(s)): string[] {
  const problems: string[] = [];
  const major = Number(process.versions.node.split('.')[0]);
  if (major < MIN_NODE) problems.push(`Node.js ${MIN_NODE} or later (this is ${process.versions.node}; Debian 12's own nodejs is 18: use NodeSource or nvm)`);
  if (process.platform !== 'linux') {
    problems.push('Linux: the lab uses network namespaces');
    return problems;
  }
  const root = process.getuid?.() === 0;
  if (!root) problems.push('root: the lab creates network namespaces and mounts (run as root, e.g. sudo -E npm run demo)');
  const wanted = purpose === 'test' ? TEST_PACKAGES : LAB_PACKAGES;
  let missing = Object.entries(wanted).filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
  const os = osRelease();
  if (missing.length && root && isDebianLike(os)) {
    log(`kbootstrap ${purpose}: installing ${missing.join(' ')} (apt-get)\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const update = spawnSync('apt-get', ['update', '-q'], { stdio: ['ignore', 'ignore', 'inherit'], env });
    const install = update.status === 0
      ? spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: ['ignore', 'ignore', 'inherit'], env })
      : update;
    if (install.status !== 0) log(`kbootstrap ${purpose}: apt-get failed (exit ${install.status ?? install.error?.message})\n`);
    missing = Object.entries(wanted).filter(([, file]) => !existsSync(file)).map(([pkg]) => pkg);
  }
  if (missing.length) {
    const how = isDebianLike(os) ? `apt-get install ${missing.join(' ')}` : `this is ${os.PRETTY_NAME ?? 'not Debian or Ubuntu'}: install the equivalents`;
    problems.push(`packages ${missing.join(', ')} (${how})`);
  }
  return problems;
}

/** One short block, meant to be the last thing on screen. */
export function prereqBlock(purpose: Purpose, problems: string[]): string {
  const what = purpose === 'demo' ? 'the lab demo' : 'the lab tests';
  return `\nkbootstrap: ${what} cannot run here; missing:\n${problems.map((p) => `  - ${p}`).join('\n')}\n`;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const purpose: Purpose = process.argv[2] === 'demo' ? 'demo' : 'test';
  const problems = ensurePrereqs(purpose);
  // the unit tests run anyway and the lab tests skip loudly: this only explains why
  if (problems.length) process.stderr.write(prereqBlock(purpose, problems));
}
