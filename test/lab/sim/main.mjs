// Entry point of every simulated program on a lab host:
//   node main.mjs <program> [args...]
// Logs the call, applies injected faults, runs the simulation, and exits
// with the program's exit code and output.
import { Exit, applyFaults, logCall } from './lib.mjs';
import * as sys from './system.mjs';
import * as pkg from './packages.mjs';
import * as rt from './runtime.mjs';
import * as kube from './kube.mjs';

const PROGRAMS = {
  systemctl: [sys.systemctl, sys.systemctlMutates],
  hostnamectl: [sys.hostnamectl, (a) => a[0] === 'set-hostname'],
  swapoff: [sys.swapoff, () => true],
  swapon: [sys.swapon, (a) => !a.includes('--show') && !a.includes('-s') && a.length > 0],
  modprobe: [sys.modprobe, () => true],
  lsmod: [sys.lsmod, () => false],
  sysctl: [sys.sysctl, sys.sysctlMutates],
  getenforce: [sys.getenforce, () => false],
  setenforce: [sys.setenforce, () => true],
  'firewall-cmd': [sys.firewallCmd, sys.firewallMutates],
  curl: [sys.curl, (a) => a.includes('-o') || a.includes('--output')],
  yum: [(a) => pkg.yum(a, 'yum'), (a) => pkg.packageMutates('yum', a)],
  dnf: [(a) => pkg.yum(a, 'dnf'), (a) => pkg.packageMutates('dnf', a)],
  rpm: [pkg.rpm, () => false],
  'apt-get': [pkg.aptGet, (a) => pkg.packageMutates('apt-get', a)],
  'apt-mark': [pkg.aptMark, (a) => pkg.packageMutates('apt-mark', a)],
  'dpkg-query': [pkg.dpkgQuery, () => false],
  containerd: [rt.containerd, () => false],
  ctr: [() => ({ stdout: '', code: 0 }), () => false],
  dockerd: [rt.dockerd, () => false],
  docker: [rt.docker, () => false],
  'cri-dockerd': [rt.criDockerd, () => false],
  crictl: [rt.crictl, () => false],
  ipvsadm: [rt.ipvsadm, (a) => a[0] === '--clear' || a[0] === '-C'],
  ipset: [rt.ipset, (a) => a[0] === 'destroy' || a[0] === 'flush'],
  iptables: [rt.iptables, (a) => a.some((x) => ['-F', '-X', '-A', '--flush', '--delete-chain'].includes(x))],
  'iptables-save': [rt.iptablesSave, () => false],
  conntrack: [() => ({ stdout: '', code: 0 }), () => false],
  kubelet: [rt.kubelet, () => false],
  kubeadm: [kube.kubeadm, kube.kubeadmMutates],
  kubectl: [kube.kubectl, kube.kubectlMutates],
  reboot: [() => sys.refusePower('reboot'), () => false],
  shutdown: [() => sys.refusePower('shutdown'), () => false],
  poweroff: [() => sys.refusePower('poweroff'), () => false],
  halt: [() => sys.refusePower('halt'), () => false],
};

export const SIMULATED = Object.keys(PROGRAMS);

const [prog, ...args] = process.argv.slice(2);
const entry = PROGRAMS[prog];
let code = 0;
try {
  if (!entry) throw new Exit(127, '', `kblab: no simulation for ${prog}\n`);
  logCall(prog, args, entry[1](args));
  applyFaults(prog, args);
  const r = entry[0](args);
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  code = r.code ?? 0;
} catch (e) {
  if (e instanceof Exit) {
    if (e.stdout) process.stdout.write(e.stdout);
    if (e.stderr) process.stderr.write(e.stderr);
    code = e.code;
  } else {
    process.stderr.write(`kblab ${prog}: internal error: ${e?.stack ?? e}\n`);
    code = 70;
  }
}
process.exitCode = code;
