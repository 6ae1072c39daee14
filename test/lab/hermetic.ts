/**
 * What a lab host must NOT inherit from the machine. A host's root is an
 * overlay whose lower layer is the machine's own /, so without this anything
 * installed here (Debian's containerd and its /etc/containerd/config.toml, a
 * kubelet, CNI plugins, apt sources, sysctl drop-ins, ~/.kube...) shows up on
 * every host and a test passes or fails because of this machine, not because
 * of kbootstrap (issue 11).
 *
 * The list covers every absolute path the rendered scripts read or write
 * (`kbootstrap render` for each inventory and OS; hermetic.test.ts fails when
 * a rendered script touches a path outside HIDDEN, SEEDED or NOT_STATE) plus
 * the state the real programs keep, and is hidden with overlay whiteouts
 * before the overlay is mounted (writing into the upper layer of a mounted
 * overlay is not seen: test/lab README, lab-notes pitfall 2).
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';

/** Machine paths a fresh host must not see; a seed may then put its own files there. */
export const HIDDEN: readonly string[] = [
  // container runtimes: configuration, state, unit drop-ins
  '/etc/containerd', '/etc/docker', '/var/lib/containerd', '/var/lib/docker', '/var/lib/dockershim', '/opt/containerd',
  '/etc/crictl.yaml', '/var/lib/cri-dockerd',
  // Kubernetes and CNI
  '/etc/kubernetes', '/var/lib/kubelet', '/var/lib/etcd', '/etc/cni', '/opt/cni', '/var/lib/cni', '/var/lib/calico',
  '/var/log/pods', '/var/log/containers', '/etc/default/kubelet', '/etc/sysconfig/kubelet', '/etc/kbootstrap', '/var/lib/kbootstrap',
  // kernel settings applied at boot (sysctl --system reads all of these, modules-load too)
  '/etc/sysctl.d', '/etc/sysctl.conf', '/usr/lib/sysctl.d', '/usr/local/lib/sysctl.d', '/etc/modules-load.d', '/usr/lib/modules-load.d',
  // package repositories and their keys
  '/etc/apt/sources.list', '/etc/apt/sources.list.d', '/etc/apt/keyrings', '/etc/apt/trusted.gpg', '/etc/apt/trusted.gpg.d', '/etc/apt/preferences.d',
  '/etc/yum.repos.d', '/etc/yum.conf', '/etc/dnf', '/etc/yum', '/etc/pki/rpm-gpg',
  // systemd units (the machine's containerd.service, enablement links)
  '/etc/systemd/system', '/usr/lib/systemd/system', '/usr/local/lib/systemd/system', '/etc/systemd/zram-generator.conf', '/usr/lib/systemd/zram-generator.conf',
  // security and firewall configuration of the RHEL family
  '/etc/selinux', '/etc/firewalld',
  // locally installed programs (this machine's /usr/local/bin has a docker)
  '/usr/local/bin', '/usr/local/sbin',
  // home directories: ~/.kube/config, known_hosts, shell history
  '/root', '/home',
];

/** Paths every host's seed writes (lab.ts seedHost): the host's own, not the machine's. */
export const SEEDED: readonly string[] = ['/etc/hostname', '/etc/hosts', '/etc/os-release', '/etc/fstab', '/etc/machine-id', '/etc/passwd', '/etc/group', '/etc/shadow'];

/**
 * Paths a rendered script names that are not state a host could inherit: the
 * per-host kernel views (/proc, /sys, /dev, /run and /tmp are private mounts in
 * host-init.sh), programs, and directory names used only as a parent.
 */
export const NOT_STATE: readonly RegExp[] = [
  /^\/(proc|sys|dev|run|tmp)(\/|$)/, /^\/var\/run\//, /^\/usr\/bin\/env$/, /^\/(usr\/)?s?bin\/[^/]+$/, /^\/etc\/?$/,
  /^\/lib\/sysctl\.d\/?$/, // /lib is /usr/lib on merged-/usr systems: covered by /usr/lib/sysctl.d
];

/** Is this absolute path hidden (or seeded) on a fresh host? */
export function covered(path: string): boolean {
  const p = path.replace(/\/+$/, '') || '/';
  return [...HIDDEN, ...SEEDED].some((h) => p === h || p.startsWith(`${h}/`)) || NOT_STATE.some((r) => r.test(path));
}

/**
 * The machine's path with every symlinked parent resolved: /lib/x is
 * /usr/lib/x on Debian 12, and creating upper/lib as a directory would shadow
 * the machine's /lib symlink and break every program on the host.
 */
function canonical(path: string): string | undefined {
  try {
    return join(realpathSync(dirname(path)), basename(path));
  } catch {
    return undefined;
  }
}

function lexists(p: string): boolean {
  try { lstatSync(p); return true; } catch { return false; }
}

/**
 * Whiteouts in `upper` for every machine entry under the hidden paths that
 * the seed did not write: a hidden path with nothing seeded disappears as a
 * whole; a seeded directory keeps only the seed's entries. Call after seeding
 * and before mounting. Returns the whiteouts made (relative to /).
 */
export function hideMachineState(upper: string, hidden: readonly string[] = HIDDEN): string[] {
  const outs: string[] = [];
  const visit = (path: string) => {
    if (!lexists(path)) return;
    const up = join(upper, path);
    let st;
    try { st = lstatSync(up); } catch { outs.push(path); return; }
    // the seed put a file (or a whiteout) here: the machine's entry is already covered
    if (!st.isDirectory()) return;
    if (!lstatSync(path).isDirectory()) return;
    for (const e of readdirSync(path)) visit(join(path, e));
  };
  for (const h of hidden) {
    const c = canonical(h);
    if (c) visit(c);
  }
  if (outs.length) {
    for (const o of outs) mkdirSync(dirname(join(upper, o)), { recursive: true });
    // one process for all of them: hundreds of mknod spawns per host would slow every lab start
    const r = spawnSync('/bin/sh', ['-c', 'for p; do mknod "$p" c 0 0 || exit 1; done', 'whiteouts', ...outs.map((o) => join(upper, o))], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`whiteouts in ${upper} failed: ${r.stderr}`);
  }
  return outs;
}

/** Machine paths under the hidden list that exist here (what a host must not see). */
export function machineStatePaths(hidden: readonly string[] = HIDDEN): string[] {
  const out: string[] = [];
  for (const h of hidden) {
    const c = canonical(h);
    if (!c || !existsSync(c)) continue;
    out.push(c);
    try { if (lstatSync(c).isDirectory()) for (const e of readdirSync(c)) out.push(join(c, e)); } catch { /* unreadable: the path itself is listed */ }
  }
  return out;
}
