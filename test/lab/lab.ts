/**
 * The lab: isolated Linux "hosts" on this machine, each a network namespace
 * on a private bridge plus its own UTS, PID and mount namespaces, an overlay
 * root whose upper layer records every change, and a real OpenSSH server.
 * Kubernetes-side programs are simulations (test/lab/sim). Root only.
 */
import type { OfflineState } from './vm/offline.js';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { createHash, randomUUID } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { hideMachineState } from './hermetic.js';
import { vmDown, vmExec } from './vm/vms.js';
import { defaultKubernetesVersion } from '../../src/versions/index.js';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const LAB_DIR = process.env.KBLAB_DIR ?? join(REPO, '.lab');
const INIT = join(REPO, 'test', 'lab', 'host-init.sh');
/** Where every host sees test/lab (bound read-only by host-init.sh; the checkout itself may be hidden under /tmp). */
export const IN_HOST_LAB = '/usr/lib/kblab/lab';
const SIM_MAIN = `${IN_HOST_LAB}/sim/main.mjs`;
/** Bridge, subnet and lab dir can be moved (KBLAB_BRIDGE, KBLAB_SUBNET, KBLAB_DIR) so a second lab (e.g. VMs) never collides with this one. */
export const BRIDGE = process.env.KBLAB_BRIDGE ?? 'kblab0';
/** 10.213.0.0/24: overlaps no default pod (10.244/16, calico 192.168/16) or service (10.96/12) subnet. */
export const SUBNET_PREFIX = process.env.KBLAB_SUBNET ?? '10.213.0';
export const GATEWAY = `${SUBNET_PREFIX}.1`;
const NETNS_PREFIX = 'kblab-';

export type Family = 'rhel' | 'debian';
/**
 * mixed: CentOS 7, Ubuntu 22.04, Rocky 9, Debian 12 in turn, at Kubernetes 1.30 (CentOS 7 goes no further: the
 * tests that hold what only CentOS 7 renders use it); current: Rocky 9, Ubuntu 22.04, Debian 12 in turn, at the
 * versions table's default Kubernetes with kube-proxy in iptables mode (ipvs is deprecated from 1.35): the demo,
 * whose newcomer meets no warning.
 */
export type FamilyChoice = Family | 'mixed' | 'current';

export interface LabHost {
  name: string;
  index: number;
  address: string;
  family: Family;
  os: string;
  netns: string;
  pid: number;
  hostKey: string;
}

export interface LabState {
  /** 'vm': real Debian 12 VMs (vm/vms.ts); absent on a namespace lab. */
  kind?: 'namespace' | 'vm';
  /** The VM lab's package repository server. */
  repo?: { url: string; pid: number };
  /** `up --vm --offline`: the site mirror, the registry and its images (vm/offline.ts) */
  offline?: OfflineState;
  hosts: LabHost[];
  family: FamilyChoice;
  seed?: Required<SeedOptions>;
  /** the directory of real etcd binaries bound into every host (UpOptions.etcd) */
  etcd?: string;
}

export const USERS = {
  kb: { uid: 1001, sudo: 'nopasswd' },
  kbpw: { uid: 1002, sudo: 'password', password: 'kbpw-lab-password' },
  nosudo: { uid: 1003, sudo: 'none' },
  /** a Vagrant-style user: logs in with a password, sudo never asks (issue 23: the password must not end up in a file) */
  kbnp: { uid: 1004, sudo: 'nopasswd', password: 'kbnp-lab-password' },
} as const;

// ---------------------------------------------------------------- availability

/** Why the lab cannot run here, or undefined when it can. */
export function labUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the lab needs Linux';
  if (process.getuid?.() !== 0) return 'the lab needs root (network namespaces, mounts)';
  for (const [bin, pkg] of [['/usr/sbin/sshd', 'openssh-server'], ['/usr/bin/sudo', 'sudo'], ['/usr/bin/ssh-keygen', 'openssh-client'], ['/usr/bin/nsenter', 'util-linux'], ['/usr/bin/unshare', 'util-linux']]) {
    if (!existsSync(bin!)) return `${bin} is missing (apt-get install ${pkg})`;
  }
  const ip = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  if (ip.error || ip.status !== 0) return `network namespaces are not available: ${ip.stderr || ip.error?.message}`;
  const probe = spawnSync('unshare', ['--mount', '--uts', '--pid', '--fork', 'true'], { encoding: 'utf8' });
  if (probe.status !== 0) return `cannot create mount/UTS/PID namespaces: ${probe.stderr.trim()}`;
  return undefined;
}

// ---------------------------------------------------------------- helpers

function run(cmd: string, args: string[], opts: { allowFail?: boolean; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input: opts.input });
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error?.message}`);
  return r.stdout ?? '';
}

function write(path: string, text: string, mode = 0o644, uid?: number): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
  if (uid !== undefined) chownSync(path, uid, uid);
}

const pad = (i: number) => String(i).padStart(2, '0');

export function hostName(i: number): string {
  return `lab-${pad(i)}`;
}

const OS_RELEASE: Record<string, string> = {
  centos7: 'NAME="CentOS Linux"\nVERSION="7 (Core)"\nID="centos"\nID_LIKE="rhel fedora"\nVERSION_ID="7"\nPRETTY_NAME="CentOS Linux 7 (Core)"\nANSI_COLOR="0;31"\nCPE_NAME="cpe:/o:centos:centos:7"\nHOME_URL="https://www.centos.org/"\n',
  rocky9: 'NAME="Rocky Linux"\nVERSION="9.4 (Blue Onyx)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPLATFORM_ID="platform:el9"\nPRETTY_NAME="Rocky Linux 9.4 (Blue Onyx)"\nANSI_COLOR="0;32"\n',
  'ubuntu22.04': 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\nVERSION="22.04.4 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n',
  debian12: 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\nVERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n',
};

/** The seed a host gets when labUp is not told otherwise. */
export const DEFAULT_SEED: Required<SeedOptions> = { centos7Repos: 'eol' };

/**
 * CentOS 7's stock /etc/yum.repos.d/CentOS-Base.repo (package centos-release-7-9.2009; the text as
 * quoted whole in e.g. sequenceiq/cloudbreak's Azure install docs). Its mirrorlist host has had no
 * A record since 2024-07-01 (serverfault.com/questions/1161816).
 */
export const CENTOS7_BASE_REPO_STOCK = `# CentOS-Base.repo
#
# The mirror system uses the connecting IP address of the client and the
# update status of each mirror to pick mirrors that are updated to and
# geographically close to the client.  You should use this for CentOS updates
# unless you are manually picking other mirrors.
#
# If the mirrorlist= does not work for you, as a fall back you can try the
# remarked out baseurl= line instead.
#
#

[base]
name=CentOS-$releasever - Base
mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=os&infra=$infra
#baseurl=http://mirror.centos.org/centos/$releasever/os/$basearch/
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7

#released updates
[updates]
name=CentOS-$releasever - Updates
mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=updates&infra=$infra
#baseurl=http://mirror.centos.org/centos/$releasever/updates/$basearch/
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7

#additional packages that may be useful
[extras]
name=CentOS-$releasever - Extras
mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=extras&infra=$infra
#baseurl=http://mirror.centos.org/centos/$releasever/extras/$basearch/
gpgcheck=1
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7

#additional packages that extend functionality of existing packages
[centosplus]
name=CentOS-$releasever - Plus
mirrorlist=http://mirrorlist.centos.org/?release=$releasever&arch=$basearch&repo=centosplus&infra=$infra
#baseurl=http://mirror.centos.org/centos/$releasever/centosplus/$basearch/
gpgcheck=1
enabled=0
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7
`;

/** The stock file with base/updates/extras on the vault's 7.9.2009 tree (https://vault.centos.org/7.9.2009/), as admins fixed it in July 2024. */
export const CENTOS7_BASE_REPO_VAULT = CENTOS7_BASE_REPO_STOCK
  .replace(/^mirrorlist=http:\/\/mirrorlist\.centos\.org\/\?release=\$releasever&arch=\$basearch&repo=(os|updates|extras)&infra=\$infra\n#baseurl=.*$/gm, 'baseurl=http://vault.centos.org/7.9.2009/$1/$basearch/');

/** Rocky 9's /etc/yum.repos.d/rocky.repo (package rocky-repos), its enabled sections only. */
const ROCKY9_REPO = `[baseos]
name=Rocky Linux $releasever - BaseOS
mirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=BaseOS-$releasever$rltype
#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/BaseOS/$basearch/os/
gpgcheck=1
enabled=1
countme=1
metadata_expire=6h
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9

[appstream]
name=Rocky Linux $releasever - AppStream
mirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=AppStream-$releasever$rltype
#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/AppStream/$basearch/os/
gpgcheck=1
enabled=1
countme=1
metadata_expire=6h
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9

[extras]
name=Rocky Linux $releasever - Extras
mirrorlist=https://mirrors.rockylinux.org/mirrorlist?arch=$basearch&repo=extras-$releasever$rltype
#baseurl=http://dl.rockylinux.org/$contentdir/$releasever/extras/$basearch/os/
gpgcheck=1
enabled=1
countme=1
metadata_expire=6h
gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9
`;

/** The distribution archives of a default install (signed by the OS's archive keyring, which apt trusts without signed-by). */
const APT_SOURCES: Record<string, string> = {
  'ubuntu22.04': 'deb http://archive.ubuntu.com/ubuntu/ jammy main restricted universe multiverse\ndeb http://archive.ubuntu.com/ubuntu/ jammy-updates main restricted universe multiverse\ndeb http://security.ubuntu.com/ubuntu/ jammy-security main restricted universe multiverse\n',
  debian12: 'deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian-security bookworm-security main\ndeb http://deb.debian.org/debian bookworm-updates main\n',
};

/** /etc/sysctl.conf of these releases holds only comments; settings live in the sysctl.d directories. */
const SYSCTL_CONF = '# System default settings live in /usr/lib/sysctl.d/00-system.conf.\n# To override those settings, enter new settings here, or in an /etc/sysctl.d/<name>.conf file\n#\n# For more information, see sysctl.conf(5) and sysctl.d(5).\n';

/** Host i's OS for a family choice: mixed alternates RHEL and Debian; versions alternate too. */
export function osFor(i: number, family: FamilyChoice): { family: Family; os: string } {
  if (family === 'current') {
    const os = (['rocky9', 'ubuntu22.04', 'debian12'] as const)[(i - 1) % 3]!;
    return { family: os === 'rocky9' ? 'rhel' : 'debian', os };
  }
  const f: Family = family === 'mixed' ? (i % 2 === 1 ? 'rhel' : 'debian') : family;
  const k = family === 'mixed' ? Math.floor((i - 1) / 2) : i - 1;
  if (f === 'rhel') return { family: f, os: k % 2 === 0 ? 'centos7' : 'rocky9' };
  return { family: f, os: k % 2 === 0 ? 'ubuntu22.04' : 'debian12' };
}

const ALWAYS = ['systemctl', 'hostnamectl', 'swapon', 'swapoff', 'modprobe', 'lsmod', 'sysctl', 'curl', 'iptables', 'iptables-save', 'reboot', 'shutdown', 'poweroff', 'halt'];
const RHEL_ONLY = ['getenforce', 'setenforce', 'firewall-cmd', 'yum', 'dnf', 'rpm'];
const DEBIAN_ONLY = ['apt-get', 'apt-mark', 'dpkg-query'];
/** Programs that packages install; absent until then, and never the machine's. */
const PACKAGED = ['containerd', 'ctr', 'containerd-shim', 'containerd-shim-runc-v1', 'containerd-shim-runc-v2', 'runc', 'crun', 'dockerd', 'docker', 'docker-init', 'docker-proxy', 'cri-dockerd', 'crictl', 'kubeadm', 'kubectl', 'kubelet', 'ipvsadm', 'ipset', 'conntrack', 'nft'];
const MACHINE_TOOLS_HIDDEN_ON_RHEL = ['apt-get', 'apt-mark', 'dpkg-query', 'dpkg', 'apt', 'apt-cache', 'apt-key', 'apt-config'];

const FAST_DIR = join(REPO, 'test', 'lab', 'sim', 'fast');

/**
 * The program's wrapper: its bash fast path for common read-only calls, if any (sim/fast), then the
 * Node.js simulation (plain sh when there is no fast path: it only starts node).
 */
export function simWrapper(prog: string): string {
  const fast = join(FAST_DIR, `${prog}.sh`);
  if (!existsSync(fast)) return `#!/bin/sh\n# kblab: simulated ${prog}\nexec /usr/bin/node ${SIM_MAIN} ${prog} "$@"\n`;
  const body = `${readFileSync(join(FAST_DIR, 'common.sh'), 'utf8')}${readFileSync(fast, 'utf8')}`.replaceAll('@KBLAB_FAST_DIR@', `${IN_HOST_LAB}/sim/fast`);
  return `#!/bin/bash\n# kblab: simulated ${prog}\n${body}exec /usr/bin/node ${SIM_MAIN} ${prog} "$@"\n`;
}

/** An overlay whiteout: the file disappears from the host's view of the machine. */
function whiteout(path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  if (!existsSync(path)) run('mknod', [path, 'c', '0', '0']);
}

// ---------------------------------------------------------------- seeding

/** /proc/cpuinfo of a host with n CPUs (bound over the real one inside the host). */
export function cpuinfo(n: number): string {
  return Array.from({ length: n }, (_, i) => `processor\t: ${i}\nvendor_id\t: GenuineIntel\nmodel name\t: kblab virtual CPU\ncpu MHz\t\t: 2400.000\n`).join('\n') + '\n';
}

/** /proc/meminfo of a host with this much memory. */
export function meminfo(mib: number): string {
  const kib = mib * 1024;
  return `MemTotal:       ${String(kib).padStart(8)} kB\nMemFree:        ${String(Math.round(kib * 0.8)).padStart(8)} kB\nMemAvailable:   ${String(Math.round(kib * 0.85)).padStart(8)} kB\nSwapTotal:       2097148 kB\nSwapFree:        2097148 kB\n`;
}

/** Change a running host's CPUs and memory (what /proc and kubeadm's preflight see). */
export function setHardware(name: string, hw: { cpus?: number; memMiB?: number }): void {
  if (hw.cpus !== undefined) labExec(name, ['/bin/sh', '-c', 'cat > /var/lib/kblab/cpuinfo'], cpuinfo(hw.cpus));
  if (hw.memMiB !== undefined) labExec(name, ['/bin/sh', '-c', 'cat > /var/lib/kblab/meminfo'], meminfo(hw.memMiB));
}

function seedHost(h: LabHost, upper: string, clientPub: string, seed: SeedOptions): void {
  const u = (p: string) => join(upper, p.replace(/^\//, ''));
  const rhel = h.family === 'rhel';
  write(u('/etc/hostname'), `${h.name}\n`);
  write(u('/etc/hosts'), '127.0.0.1   localhost localhost.localdomain\n::1         localhost ip6-localhost ip6-loopback\n');
  write(u('/etc/os-release'), OS_RELEASE[h.os]!);
  write(u('/etc/machine-id'), randomUUID().replace(/-/g, '') + '\n');
  write(u('/etc/fstab'), rhel
    ? '#\n# /etc/fstab\n# Created by anaconda\n#\n/dev/mapper/centos-root /                       xfs     defaults        0 0\nUUID=6b5c1f2e-swap-not-this-one /boot  xfs     defaults        0 0\n# the swap partition was /dev/sda2 during installation\n/dev/mapper/centos-swap swap                    swap    defaults        0 0\n'
    : '# /etc/fstab: static file system information.\n/dev/disk/by-uuid/1d2c-root / ext4 defaults 0 1\n/swap.img\tnone\tswap\tsw\t0\t0\n');
  write(u('/var/lib/kblab/swaps'), `Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n${rhel ? '/dev/dm-1                               partition\t2097148\t\t0\t\t-2' : '/swap.img                               file\t\t2097148\t\t0\t\t-2'}\n`);
  write(u('/var/lib/kblab/modules'), 'xfs 1990656 1 - Live 0x0000000000000000\next4 1048576 1 - Live 0x0000000000000000\n');
  const units: Record<string, { installed: boolean; enabled: boolean; active: boolean }> = { 'sshd.service': { installed: true, enabled: true, active: true } };
  if (rhel) {
    units['firewalld.service'] = { installed: true, enabled: true, active: true };
    if (h.os === 'centos7') write(u('/etc/yum.repos.d/CentOS-Base.repo'), seed.centos7Repos === 'eol' ? CENTOS7_BASE_REPO_STOCK : CENTOS7_BASE_REPO_VAULT);
    else write(u('/etc/yum.repos.d/rocky.repo'), ROCKY9_REPO);
    // the release key every installation has (package centos-release / rocky-gpg-keys), which its .repo files name:
    // a stand-in here (the lab's packages are not signed; the simulated dnf wants the file gpgcheck=1 names)
    write(u(h.os === 'centos7' ? '/etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7' : '/etc/pki/rpm-gpg/RPM-GPG-KEY-Rocky-9'), readFileSync(join(REPO, 'test', 'lab', 'fixtures', 'signing-key.asc'), 'utf8'));
    write(u('/etc/selinux/config'), '# This file controls the state of SELinux on the system.\nSELINUX=enforcing\nSELINUXTYPE=targeted\n');
    write(u('/var/lib/kblab/selinux/enforce'), '1');
    write(u('/var/lib/kblab/firewalld.json'), JSON.stringify({ permanent: ['22/tcp'], runtime: ['22/tcp'] }));
    write(u('/var/lib/kblab/fw.d/permanent'), '22/tcp\n');
    write(u('/var/lib/kblab/fw.d/runtime'), '22/tcp\n');
  }
  // the directories a fresh install has (empty of anything kbootstrap manages): the machine's are hidden
  write(u('/etc/sysctl.conf'), SYSCTL_CONF);
  mkdirSync(u('/etc/sysctl.d'), { recursive: true });
  symlinkSync('../sysctl.conf', u('/etc/sysctl.d/99-sysctl.conf'));
  for (const d of ['/etc/modules-load.d', '/etc/systemd/system', '/usr/lib/systemd/system']) mkdirSync(u(d), { recursive: true });
  if (!rhel) {
    write(u('/etc/apt/sources.list'), APT_SOURCES[h.os]!);
    // Debian 12 and Ubuntu 22.04 ship /etc/apt/keyrings; older releases do not
    // (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/ , "Debian-based distributions")
    mkdirSync(u('/etc/apt/keyrings'), { recursive: true });
    mkdirSync(u('/etc/apt/sources.list.d'), { recursive: true });
  }
  write(u('/var/lib/kblab/units.json'), JSON.stringify(units, null, 2));
  for (const [name, v] of Object.entries(units)) write(u(`/var/lib/kblab/units.d/${name}`), `installed=${v.installed ? 1 : 0} enabled=${v.enabled ? 1 : 0} active=${v.active ? 1 : 0} masked=0\n`);
  const pkgs: Record<string, { version: string }> = rhel ? {} : { curl: { version: '7.88.1-1' }, 'ca-certificates': { version: '20230311-1' } };
  write(u('/var/lib/kblab/pkgdb.json'), JSON.stringify(pkgs));
  mkdirSync(u('/var/lib/kblab/pkgs.d'), { recursive: true });
  for (const [name, v] of Object.entries(pkgs)) write(u(`/var/lib/kblab/pkgs.d/${name}`), v.version);
  const uuid = randomUUID();
  write(u('/etc/kblab/product_uuid'), `${uuid}\n`);
  write(u('/etc/kblab/lab-name'), `${h.name}\n`);
  write(u('/var/lib/kblab/cpuinfo'), cpuinfo(2));
  write(u('/var/lib/kblab/meminfo'), meminfo(2048));
  mkdirSync(u('/var/log/kblab'), { recursive: true });

  // simulated programs at their usual paths, so neither a bare name nor an absolute path reaches the machine
  const sims = [...ALWAYS, ...(rhel ? RHEL_ONLY : DEBIAN_ONLY)];
  for (const p of sims) {
    for (const dir of ['/usr/local/sbin', '/usr/sbin', '/usr/bin']) write(u(`${dir}/${p}`), simWrapper(p), 0o755);
  }
  for (const p of PACKAGED) for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin']) if (existsSync(`${dir}/${p}`)) whiteout(u(`${dir}/${p}`));
  if (rhel) for (const p of MACHINE_TOOLS_HIDDEN_ON_RHEL) if (existsSync(`/usr/bin/${p}`)) whiteout(u(`/usr/bin/${p}`));

  // users: root, kb (passwordless sudo), kbpw (password login, sudo asks), nosudo (no sudo rights), kbnp (password login, passwordless sudo)
  const hashOf = (n: string): string => {
    const pw = (USERS as Record<string, { password?: string }>)[n]!.password;
    return pw ? run('openssl', ['passwd', '-6', '-salt', 'kblabsalt', pw]).trim() : '*';
  };
  const passwd = readFileSync('/etc/passwd', 'utf8').trimEnd() + '\n' + Object.entries(USERS).map(([n, v]) => `${n}:x:${v.uid}:${v.uid}:kblab ${n}:/home/${n}:/bin/bash`).join('\n') + '\n';
  const group = readFileSync('/etc/group', 'utf8').trimEnd() + '\n' + Object.entries(USERS).map(([n, v]) => `${n}:x:${v.uid}:`).join('\n') + '\n';
  const shadow = readFileSync('/etc/shadow', 'utf8').trimEnd().split('\n').map((l) => (l.startsWith('root:') ? l.replace(/^root:[^:]*:/, 'root:*:') : l)).join('\n')
    + '\n' + Object.entries(USERS).map(([n]) => `${n}:${hashOf(n)}:19700:0:99999:7:::`).join('\n') + '\n';
  write(u('/etc/passwd'), passwd);
  write(u('/etc/group'), group);
  write(u('/etc/shadow'), shadow, 0o640);
  write(u('/etc/sudoers.d/kblab'), 'kb ALL=(ALL:ALL) NOPASSWD: ALL\nkbnp ALL=(ALL:ALL) NOPASSWD: ALL\nkbpw ALL=(ALL:ALL) ALL\nDefaults:kbpw !lecture\n', 0o440);
  const skel = existsSync('/etc/skel') ? readdirSync('/etc/skel') : [];
  for (const [home, uid] of [['/root', 0], ...Object.entries(USERS).map(([n, v]) => [`/home/${n}`, v.uid] as const)] as [string, number][]) {
    mkdirSync(u(home), { recursive: true });
    chmodSync(u(home), home === '/root' ? 0o700 : 0o755);
    chownSync(u(home), uid, uid);
    for (const f of skel) { copyFileSync(join('/etc/skel', f), u(`${home}/${f}`)); chownSync(u(`${home}/${f}`), uid, uid); }
    mkdirSync(u(`${home}/.ssh`), { recursive: true });
    chmodSync(u(`${home}/.ssh`), 0o700);
    chownSync(u(`${home}/.ssh`), uid, uid);
    write(u(`${home}/.ssh/authorized_keys`), clientPub, 0o600, uid);
  }

  // sshd with this host's own key
  const keyDir = u('/etc/ssh/kblab');
  mkdirSync(keyDir, { recursive: true });
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `${h.name}-host-key`, '-f', join(keyDir, 'ssh_host_ed25519_key')]);
  h.hostKey = readFileSync(join(keyDir, 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  write(join(keyDir, 'sshd_config'), [
    'Port 22', `ListenAddress ${h.address}`, 'HostKey /etc/ssh/kblab/ssh_host_ed25519_key', 'PidFile /run/sshd.pid',
    'UsePAM no', 'PermitRootLogin prohibit-password', 'PubkeyAuthentication yes', 'PasswordAuthentication no',
    'KbdInteractiveAuthentication no', 'AuthorizedKeysFile .ssh/authorized_keys', 'StrictModes yes', 'UseDNS no',
    'MaxStartups 200:30:400', 'MaxSessions 100', 'Subsystem sftp internal-sftp', 'LogLevel INFO',
    'Match User kbpw,kbnp', '  PasswordAuthentication yes', '',
  ].join('\n'));
}

// ---------------------------------------------------------------- up / down

function statePath(): string {
  return join(LAB_DIR, 'state.json');
}

export function readLabState(): LabState | undefined {
  try {
    return JSON.parse(readFileSync(statePath(), 'utf8')) as LabState;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** PID of the host's PID 1 (sshd), the child of the unshare process. */
export function hostInitPid(h: LabHost): number {
  const children = readFileSync(`/proc/${h.pid}/task/${h.pid}/children`, 'utf8').trim().split(/\s+/).map(Number).filter(Boolean);
  if (!children.length) throw new Error(`${h.name} is not running`);
  return children[0]!;
}

export function waitForSsh(address: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const s = connect({ host: address, port: 22 });
      let done = false;
      const retry = (why: string) => {
        if (done) return;
        done = true;
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd on ${address} did not answer: ${why}`));
        else setTimeout(attempt, 25);
      };
      s.setTimeout(1000, () => retry('timeout'));
      s.on('data', (d) => {
        if (d.toString().startsWith('SSH-')) { done = true; s.destroy(); resolve(); }
      });
      s.on('error', (e) => retry(e.message));
      s.on('close', () => retry('closed'));
    };
    attempt();
  });
}

export interface SeedOptions {
  /**
   * CentOS 7's base/updates/extras repositories. 'eol' is the stock
   * CentOS-Base.repo of a CentOS 7 install (mirrorlist.centos.org, gone since
   * the end of life on 2024-06-30): every yum install fails there until the
   * repositories are pointed at the vault. 'vault' is a host whose admin has
   * already done that. Default 'vault' until kbootstrap fixes the
   * repositories itself (issue 11); then the default becomes 'eol'.
   */
  centos7Repos?: 'eol' | 'vault';
}

export interface UpOptions extends SeedOptions {
  hosts: number;
  family?: FamilyChoice;
  /**
   * A directory holding real etcd, etcdctl and etcdutl (Debian's 3.5 build: test/lab/etcd.ts
   * fetches it). Every host gets it read-only at /usr/lib/kblab-etcd; the simulated kubelet runs
   * that etcd as the control planes' stacked etcd and the cluster's store (sim/etcd.mjs), and
   * /usr/bin/etcdctl and /usr/bin/etcdutl are there as Debian's etcd-client package puts them.
   */
  etcd?: string;
}

export async function labUp(opts: UpOptions): Promise<LabState> {
  const why = labUnavailable();
  if (why) throw new Error(`the lab cannot run here: ${why}`);
  if (opts.hosts < 1 || opts.hosts > 100) throw new Error('--hosts must be between 1 and 100');
  const family = opts.family ?? 'mixed';
  const seed: Required<SeedOptions> = { centos7Repos: opts.centos7Repos ?? DEFAULT_SEED.centos7Repos };
  const existing = readLabState();
  if (existing && existing.family === family && existing.hosts.length === opts.hosts && (existing.seed?.centos7Repos ?? 'vault') === seed.centos7Repos && existing.etcd === opts.etcd && existing.hosts.every((h) => alive(h.pid))) {
    return existing;
  }
  labDown();
  mkdirSync(join(LAB_DIR, 'cluster'), { recursive: true });
  mkdirSync(join(LAB_DIR, 'faults'), { recursive: true });
  const key = join(LAB_DIR, 'id_ed25519');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'kblab-client', '-f', key]);
  const clientPub = readFileSync(`${key}.pub`, 'utf8');

  run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  run('ip', ['addr', 'add', `${GATEWAY}/24`, 'dev', BRIDGE]);
  run('ip', ['link', 'set', BRIDGE, 'up']);

  const hosts: LabHost[] = [];
  for (let i = 1; i <= opts.hosts; i++) {
    const { family: f, os } = osFor(i, family);
    const h: LabHost = { name: hostName(i), index: i, address: `${SUBNET_PREFIX}.${10 + i}`, family: f, os, netns: `${NETNS_PREFIX}${pad(i)}`, pid: 0, hostKey: '' };
    const dir = join(LAB_DIR, 'hosts', h.name);
    const layer = join(dir, 'layer');
    mkdirSync(layer, { recursive: true });
    // etcd preallocates 64 MB of WAL per member, and a restore writes a second data directory
    run('mount', ['-t', 'tmpfs', '-o', `size=${opts.etcd ? 768 : 256}m,mode=755`, `kblab-${h.name}`, layer]);
    mkdirSync(join(layer, 'upper'));
    mkdirSync(join(layer, 'work'));
    seedHost(h, join(layer, 'upper'), clientPub, seed);
    if (opts.etcd) {
      for (const b of ['etcdctl', 'etcdutl']) symlinkSync(`/usr/lib/kblab-etcd/${b}`, join(layer, 'upper', 'usr', 'bin', b));
    }
    hideMachineState(join(layer, 'upper'));

    const veth = `kbv${pad(i)}`;
    run('ip', ['netns', 'add', h.netns]);
    run('ip', ['link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.netns]);
    run('ip', ['link', 'set', veth, 'master', BRIDGE, 'up']);
    run('ip', ['-n', h.netns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0']);
    run('ip', ['-n', h.netns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up']);

    const log = openSync(join(dir, 'init.log'), 'a');
    const child = spawn('ip', ['netns', 'exec', h.netns, 'unshare', '--mount', '--uts', '--pid', '--fork', '--kill-child', '--propagation', 'private', INIT], {
      detached: true,
      stdio: ['ignore', log, log],
      env: {
        PATH: '/usr/sbin:/usr/bin:/sbin:/bin', KBLAB_NAME: h.name, KBLAB_LAYER: layer, KBLAB_CLUSTER: join(LAB_DIR, 'cluster'), KBLAB_FAULTS: join(LAB_DIR, 'faults'), KBLAB_FAMILY: f,
        KBLAB_LABDIR: join(REPO, 'test', 'lab'), KBLAB_NODE_MODULES: join(REPO, 'node_modules'), KBLAB_ETCD: opts.etcd ?? '',
      },
    });
    closeSync(log);
    child.unref();
    h.pid = child.pid!;
    hosts.push(h);
  }
  const state: LabState = { hosts, family, seed, ...(opts.etcd ? { etcd: opts.etcd } : {}) };
  writeFileSync(statePath(), JSON.stringify(state, null, 2));
  try {
    await Promise.all(hosts.map((h) => waitForSsh(h.address, 20_000)));
  } catch (e) {
    const logs = hosts.map((h) => `${h.name}: ${readFileSync(join(LAB_DIR, 'hosts', h.name, 'init.log'), 'utf8').trim()}`).filter((l) => !l.endsWith(': ')).join('\n');
    throw new Error(`${(e as Error).message}\n${logs}`);
  }
  // ip netns exec's pid is what we spawned; the unshare process is its child after exec, same pid
  writeFileSync(join(LAB_DIR, 'known_hosts'), hosts.map((h) => `${h.address} ${h.hostKey}`).join('\n') + '\n');
  writeFileSync(join(LAB_DIR, 'inventory.yaml'), labInventory(hosts, family === 'current' ? { version: defaultKubernetesVersion(), kubeProxyMode: 'iptables' } : {}));
  return state;
}

/**
 * The lab's own repository signing key (test/lab/fixtures/signing-key.asc, served by the simulated
 * curl for every repository key URL): not a key kbootstrap trusts, so the lab's inventories name it
 * in cluster.repositoryKeyFingerprints, as an inventory for a mirror that signs with its own key does.
 */
export const LAB_KEY_FINGERPRINT = '8DD1C0224A7187196CD2CC29E2A1C84A8D08673B';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** sha256 of a file the simulated curl serves from test/lab/fixtures (calico.yaml, kube-flannel.yml). */
export function fixtureSha256(name: string): string {
  return createHash('sha256').update(readFileSync(join(FIXTURES, name))).digest('hex');
}

/** sha256 of the cri-dockerd release file the simulated curl makes (sim/system.mjs fixtureFor). */
export function simCriDockerdSha256(file: string): string {
  return createHash('sha256').update(`kblab package ${file}\n`).digest('hex');
}

export function labInventory(hosts: LabHost[], opts: { user?: string; mirror?: { url: string; keyFingerprints: string[] }; version?: string; kubeProxyMode?: 'ipvs' | 'iptables' | 'nftables' } = {}): string {
  const inv = {
    apiVersion: 'kbootstrap/v1',
    kind: 'Inventory',
    cluster: {
      name: 'lab',
      kubernetesVersion: opts.version ?? '1.30.4',
      podSubnet: '10.244.0.0/16',
      serviceSubnet: '10.96.0.0/12',
      packageMirror: opts.mirror?.url ?? 'upstream',
      ...(opts.mirror?.url.startsWith('http:') ? { allowInsecureHttp: true } : {}),
      repositoryKeyFingerprints: opts.mirror?.keyFingerprints ?? [LAB_KEY_FINGERPRINT],
      containerRuntime: 'containerd',
      // the simulated curl serves the lab's own calico.yaml for calico's release URL
      cni: { plugin: 'calico', sha256: fixtureSha256('calico.yaml') },
      kubeProxyMode: opts.kubeProxyMode ?? 'ipvs',
    },
    ssh: {
      user: opts.user ?? 'root',
      port: 22,
      privateKeyPath: join(LAB_DIR, 'id_ed25519'),
      knownHostsPath: join(LAB_DIR, 'known_hosts'),
      connectTimeoutSeconds: 5,
    },
    hosts: hosts.map((h, i) => ({ name: h.name, address: h.address, role: i === 0 ? 'control-plane' : 'worker', os: h.os })),
  };
  return `# Written by \`npm run lab -- up\`: the lab's hosts as a kbootstrap inventory.\n${stringify(inv)}`;
}

/** Remove every namespace, mount, bridge, process and file the lab made; safe with nothing up or after a crash. */
export function labDown(): void {
  // a VM lab in this lab directory first: its qemu processes, taps and repository server
  vmDown({ keepDir: true });
  // processes: every host's unshare (its --kill-child takes sshd and all in the host), and anything left in the netns.
  // Any checkout's lab: one lab per machine, and a stale one from another clone would hold the addresses.
  const pids = run('pgrep', ['-f', 'test/lab/host-init\\.sh'], { allowFail: true }).split('\n').map(Number).filter(Boolean);
  for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
  const namespaces = run('ip', ['netns', 'list'], { allowFail: true }).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n.startsWith(NETNS_PREFIX));
  for (const ns of namespaces) {
    for (const p of run('ip', ['netns', 'pids', ns], { allowFail: true }).split('\n').map(Number).filter(Boolean)) {
      try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    }
  }
  const deadline = Date.now() + 5000;
  while (pids.some(alive) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  // mounts under the lab directory, deepest first
  const mounts = run('findmnt', ['-rn', '-o', 'TARGET'], { allowFail: true }).split('\n')
    .filter((m) => m === LAB_DIR || m.startsWith(`${LAB_DIR}/`) || /\/\.lab\/hosts\/lab-\d+\/layer$/.test(m))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) run('umount', ['-l', m], { allowFail: true });
  for (const ns of namespaces) run('ip', ['netns', 'del', ns], { allowFail: true });
  if (run('ip', ['link', 'show', BRIDGE], { allowFail: true })) run('ip', ['link', 'del', BRIDGE], { allowFail: true });
  for (const l of run('ip', ['-o', 'link', 'show'], { allowFail: true }).split('\n')) {
    const m = /^\d+: (kbv\d+)@/.exec(l);
    if (m) run('ip', ['link', 'del', m[1]!], { allowFail: true });
  }
  rmSync(LAB_DIR, { recursive: true, force: true });
}

// ---------------------------------------------------------------- use

export function requireHost(name: string): LabHost {
  const st = readLabState();
  const h = st?.hosts.find((x) => x.name === name);
  if (!h) throw new Error(st ? `no lab host ${name} (hosts: ${st.hosts.map((x) => x.name).join(', ')})` : 'the lab is not up (npm run lab -- up --hosts 3)');
  return h;
}

/** Run a command inside a host as root, without SSH. */
export function labExec(name: string, cmd: string[], input?: string): { code: number; stdout: string; stderr: string } {
  const h = requireHost(name);
  if (readLabState()?.kind === 'vm') return vmExec(h, cmd, input);
  const pid = hostInitPid(h);
  const r = spawnSync('nsenter', ['-t', String(pid), '-m', '-u', '-n', '-p', '-i', '--', '/usr/bin/env', '-i', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'TERM=dumb', ...cmd], { encoding: 'utf8', input });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

export function labSh(name: string, script: string): { code: number; stdout: string; stderr: string } {
  return labExec(name, ['/bin/bash', '-c', script]);
}

/** The host's upper layer: an exact record of every file changed on it. */
export function upperDir(name: string): string {
  return join(LAB_DIR, 'hosts', name, 'layer', 'upper');
}

export interface SimCall { prog: string; args: string[]; mutating: boolean; at: string }

export function simCalls(name: string): SimCall[] {
  const f = join(upperDir(name), 'var', 'log', 'kblab', 'calls.jsonl');
  if (!existsSync(f)) return [];
  return readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as SimCall);
}

/**
 * Take a host off the internet as the lab models it: no place outside the lab network answers its
 * simulated yum/dnf or curl any more (sim/rpm-repos.mjs), as on a site without a route out.
 */
export function setOffline(name: string): void {
  const r = labExec(name, ['touch', '/var/lib/kblab/offline']);
  if (r.code !== 0) throw new Error(`${name}: cannot make it offline: ${r.stderr}`);
}

/** Every place outside the lab network a host's simulated yum/dnf or curl contacted, answered or not: the lab's access log of the internet. */
export function outsideLog(name: string): string[] {
  const f = join(upperDir(name), 'var', 'log', 'kblab', 'outside.log');
  return existsSync(f) ? readFileSync(f, 'utf8').split('\n').filter(Boolean) : [];
}

/** The drains and uncordons among a host's calls, in order, as "drain lab-02" / "uncordon lab-02". */
export function nodeMoves(calls: SimCall[]): string[] {
  return calls.filter((c) => c.prog === 'kubectl' && (c.args.includes('drain') || c.args.includes('uncordon')))
    .map((c) => { const i = c.args.findIndex((a) => a === 'drain' || a === 'uncordon'); return `${c.args[i]} ${c.args[i + 1]}`; });
}

/** Inject faults into a host's simulated programs (see test/lab/README.md). */
export function setFaults(name: string, rules: { match: string; action: 'fail' | 'hang' | 'drop'; stderr?: string; code?: number; times?: number }[]): void {
  writeFileSync(join(LAB_DIR, 'faults', `${name}.json`), JSON.stringify(rules));
}

export function clearFaults(): void {
  const dir = join(LAB_DIR, 'faults');
  if (existsSync(dir)) for (const f of readdirSync(dir)) rmSync(join(dir, f));
}

/**
 * A host that stops as a powered-off VM does, then comes back: every process
 * in it is frozen (SIGSTOP, so sshd and the simulated kubelet and kube-vip
 * stop mid-step, holding what they held) and its link to the bridge goes
 * down (so its kernel no longer answers ARP or TCP for any of its
 * addresses, the VIP included). startHost undoes both, in the other order.
 */
export function stopHost(name: string): void {
  const h = requireHost(name);
  run('ip', ['link', 'set', `kbv${pad(h.index)}`, 'down']);
  for (const p of netnsPids(h)) { try { process.kill(p, 'SIGSTOP'); } catch { /* gone */ } }
}

export function startHost(name: string): void {
  const h = requireHost(name);
  for (const p of netnsPids(h)) { try { process.kill(p, 'SIGCONT'); } catch { /* gone */ } }
  run('ip', ['link', 'set', `kbv${pad(h.index)}`, 'up']);
}

function netnsPids(h: LabHost): number[] {
  return run('ip', ['netns', 'pids', h.netns], { allowFail: true }).split('\n').map(Number).filter(Boolean);
}

/**
 * The lab's simulated clock for the cluster: every expiry and lease time in
 * the shared cluster state moves `ms` into the past, as if that much time
 * had gone by (bootstrap tokens, the uploaded certificates' key), and so do
 * the certificates: the CAs in the cluster state and every certificate on
 * every host that is up are re-signed (sim/pki.mjs, real openssl) with their
 * validity moved `ms` back, so `openssl x509 -enddate` on a host reads the aged
 * date. kube-vip's lease stays: its holder would have renewed it all along.
 * Programs keep the machine's clock; only the cluster's deadlines move.
 */
export function advanceClusterClock(ms: number): void {
  const dir = join(LAB_DIR, 'cluster');
  const lock = join(dir, '.lock');
  // the simulated programs' lock (sim/lib.mjs withClusterLock): mkdir is atomic
  for (let i = 0; ; i++) {
    try { mkdirSync(lock); break; } catch { if (i > 500) throw new Error('cluster state lock timed out'); spawnSync('sleep', ['0.02']); }
  }
  try {
    const file = join(dir, 'state.json');
    const s = JSON.parse(readFileSync(file, 'utf8')) as { clusters: Record<string, { tokens?: { expires?: number }[]; certKey?: { expires: number } }> };
    for (const c of Object.values(s.clusters)) {
      for (const t of c.tokens ?? []) if (t.expires) t.expires -= ms;
      if (c.certKey) c.certKey.expires -= ms;
    }
    writeFileSync(file, JSON.stringify(s, null, 2) + '\n');
    run(process.execPath, [join(REPO, 'test', 'lab', 'sim', 'pki.mjs'), 'age-cas', file, String(ms)]);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  for (const h of readLabState()?.hosts ?? []) {
    if (!alive(h.pid)) continue;
    const r = labExec(h.name, ['/usr/bin/node', `${IN_HOST_LAB}/sim/pki.mjs`, 'age-host', String(ms)]);
    if (r.code !== 0) throw new Error(`${h.name}: ageing its certificates failed: ${r.stderr}`);
  }
}

export function labStatus(): string {
  const st = readLabState();
  if (!st) return 'the lab is down\n';
  return st.hosts.map((h) => `${h.name}  ${h.address.padEnd(12)}  ${h.os.padEnd(12)}  ${alive(h.pid) ? 'up' : 'DOWN'}`).join('\n') + '\n';
}
