// Which kind of lab host the simulations run on, and the real state they read there.
//
// On a namespace host (test/lab/lab.ts) every system program is simulated and its state lives in
// files under /var/lib/kblab (units.json, pkgdb.json, modules). On a lab VM (test/lab/vm) only
// kubeadm, kubelet, kubectl and crictl are simulated (the kblab-sim package puts them there and
// writes VM_MARKER): systemd, dpkg, the kernel and containerd are Debian's own, so the sims must
// read and change *their* state, never a record of their own that the real programs do not keep.
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';

/** Shipped by the lab's kblab-sim package only (test/lab/vm/repo.ts); a namespace host never has it. */
export const VM_MARKER = '/usr/lib/kblab/vm-host';
export const ON_VM = existsSync(VM_MARKER);

/**
 * Installed packages as dpkg records them: name -> { version, held }. Installed means dpkg's
 * status abbreviation has `i` as its second letter ("ii" or, after apt-mark hold, "hi": dpkg-query(1),
 * db:Status-Abbrev: desired action, then package status).
 */
export function dpkgPackages() {
  const out = execFileSync('dpkg-query', ['-W', '-f', '${Package}\t${Version}\t${db:Status-Abbrev}\n'], { encoding: 'utf8' });
  const d = {};
  for (const line of out.split('\n')) {
    const [name, version, abbrev] = line.split('\t');
    if (!name || !abbrev || abbrev[1] !== 'i') continue;
    d[name] = { version, held: abbrev[0] === 'h' };
  }
  return d;
}

/** The units the simulations look at; systemd is asked about exactly these. */
const UNITS = ['kubelet.service', 'containerd.service', 'docker.service', 'cri-docker.service', 'cri-docker.socket', 'firewalld.service'];

/** systemd's view of UNITS in the shape of the namespace lab's units.json (`systemctl show`, one block per unit). */
export function systemdUnits() {
  const r = spawnSync('systemctl', ['show', '-p', 'Id,LoadState,ActiveState,UnitFileState', ...UNITS], { encoding: 'utf8' });
  const u = {};
  for (const block of (r.stdout ?? '').split(/\n\s*\n/)) {
    const f = Object.fromEntries(block.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    if (!f.Id) continue;
    // systemctl show answers for a unit that does not exist too, with LoadState=not-found
    if (f.LoadState === 'not-found') continue;
    u[f.Id] = { installed: true, masked: f.LoadState === 'masked', enabled: f.UnitFileState === 'enabled', active: f.ActiveState === 'active', state: f.ActiveState };
  }
  return u;
}

/**
 * Make systemd match what a simulation decided (kubeadm init starts the kubelet, reset stops it:
 * cmd/kubeadm/app/phases/kubelet/kubelet.go TryStartKubelet/TryStopKubelet call `systemctl start|stop kubelet`).
 * Only active is carried over: kubeadm never enables or disables a unit. A unit between runs
 * ("activating" while Restart= waits, as a kubelet without its configuration does) is not
 * active, and not stopped either: it gets the stop.
 */
export function applyUnits(wanted) {
  const now = systemdUnits();
  for (const [name, want] of Object.entries(wanted)) {
    const unit = now[name];
    if (!UNITS.includes(name) || !unit) continue;
    const stopped = unit.state === 'inactive' || unit.state === 'failed';
    if (want.active ? unit.active : stopped) continue;
    spawnSync('systemctl', [want.active ? 'start' : 'stop', name], { stdio: 'ignore' });
  }
}

/** The kernel's loaded modules (/proc/modules), real on a VM. */
export function kernelModules() {
  return readFileSync('/proc/modules', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
}

/**
 * Whether Debian's real containerd serves the CRI on a VM: the service is active, the socket is
 * there, and `ctr plugins ls` lists io.containerd.grpc.v1 cri as ok (containerd.io's packaged
 * config.toml carries disabled_plugins = ["cri"], and then the plugin is absent from that list).
 */
export function containerdCri(socket) {
  if (!systemdUnits()['containerd.service']?.active || !existsSync(socket)) return { ok: false, why: `dial unix ${socket}: connect: no such file or directory`, code: 'Unavailable' };
  const r = spawnSync('ctr', ['--address', socket, 'plugins', 'ls'], { encoding: 'utf8' });
  if (!/^io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok\b/m.test(r.stdout ?? '')) return { ok: false, why: 'unknown service runtime.v1.RuntimeService', code: 'Unimplemented' };
  return { ok: true };
}
