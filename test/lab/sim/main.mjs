// Entry point of every simulated program on a lab host:
//   node main.mjs <program> [args...]
// Logs the call, applies injected faults, runs the simulation, and exits
// with the program's exit code and output. Modules load lazily, so a call
// costs about a bare node start.
import { Exit, applyFaults, logCall } from './lib.mjs';

const sys = () => import('./system.mjs');
const pkg = () => import('./packages.mjs');
const rt = () => import('./runtime.mjs');
const kube = () => import('./kube.mjs');

const ro = () => false;
const rw = () => true;

// program -> [module, function, does this call change the host?]
const PROGRAMS = {
  systemctl: [sys, 'systemctl', (m, a) => m.systemctlMutates(a)],
  hostnamectl: [sys, 'hostnamectl', (m, a) => a[0] === 'set-hostname'],
  swapoff: [sys, 'swapoff', rw],
  swapon: [sys, 'swapon', (m, a) => !a.includes('--show') && !a.includes('-s') && a.length > 0],
  modprobe: [sys, 'modprobe', rw],
  lsmod: [sys, 'lsmod', ro],
  sysctl: [sys, 'sysctl', (m, a) => m.sysctlMutates(a)],
  getenforce: [sys, 'getenforce', ro],
  setenforce: [sys, 'setenforce', rw],
  'firewall-cmd': [sys, 'firewallCmd', (m, a) => m.firewallMutates(a)],
  curl: [sys, 'curl', (m, a) => a.includes('-o') || a.includes('--output')],
  reboot: [sys, 'reboot', ro],
  shutdown: [sys, 'shutdown', ro],
  poweroff: [sys, 'poweroff', ro],
  halt: [sys, 'halt', ro],
  yum: [pkg, 'yum', (m, a) => m.packageMutates('yum', a)],
  dnf: [pkg, 'dnf', (m, a) => m.packageMutates('dnf', a)],
  rpm: [pkg, 'rpm', ro],
  'apt-get': [pkg, 'aptGet', (m, a) => m.packageMutates('apt-get', a)],
  'apt-mark': [pkg, 'aptMark', (m, a) => m.packageMutates('apt-mark', a)],
  'dpkg-query': [pkg, 'dpkgQuery', ro],
  containerd: [rt, 'containerd', ro],
  ctr: [rt, 'ctr', (m, a) => a.includes('import')],
  dockerd: [rt, 'dockerd', ro],
  docker: [rt, 'docker', (m, a) => a[0] === 'pull' || (a[0] === 'image' && a[1] === 'pull')],
  'cri-dockerd': [rt, 'criDockerd', ro],
  crictl: [rt, 'crictl', (m, a) => a.includes('pull')],
  ipvsadm: [rt, 'ipvsadm', (m, a) => a[0] === '--clear' || a[0] === '-C'],
  ipset: [rt, 'ipset', (m, a) => a[0] === 'destroy' || a[0] === 'flush'],
  nft: [rt, 'nft', (m, a) => a[0] === 'delete' || a[0] === 'flush'],
  iptables: [rt, 'iptables', (m, a) => a.some((x) => ['-F', '-X', '-A', '--flush', '--delete-chain'].includes(x))],
  'iptables-save': [rt, 'iptablesSave', ro],
  conntrack: [rt, 'conntrack', ro],
  kubelet: [rt, 'kubelet', ro],
  kubeadm: [kube, 'kubeadm', (m, a) => m.kubeadmMutates(a)],
  kubectl: [kube, 'kubectl', (m, a) => m.kubectlMutates(a)],
};

export const SIMULATED = Object.keys(PROGRAMS);

const [prog, ...args] = process.argv.slice(2);
const entry = PROGRAMS[prog];
let code = 0;
try {
  if (!entry) throw new Exit(127, '', `kblab: no simulation for ${prog}\n`);
  const mod = await entry[0]();
  logCall(prog, args, entry[2](mod, args));
  applyFaults(prog, args);
  // a simulation that reaches the lab network (curl to the lab's registry) answers asynchronously
  const r = await mod[entry[1]](args);
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
