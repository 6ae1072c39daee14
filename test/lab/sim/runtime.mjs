// Simulated container runtimes and network tools: containerd, docker,
// cri-dockerd, crictl, ipvsadm, ipset, iptables, conntrack, kubelet.
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { STATE, fail, readText, exists, units, readJson, writeJson } from './lib.mjs';
import { db } from './packages.mjs';
import { ON_VM, containerdCri } from './platform.mjs';

/** `containerd config default` of containerd 1.6/1.7: config version 2 (shared with the sh fast path). */
export const CONTAINERD_DEFAULT = readFileSync(new URL('./fast/containerd-default.toml', import.meta.url), 'utf8');
/**
 * `containerd config default` of containerd.io 2.1.4 (Docker's package everywhere but EL7):
 * config version 3, and no SystemdCgroup line under the runc options (containerd/containerd#12101,
 * fixed by #12244 only in later releases), pause 3.10 and an empty registry config_path. Text as
 * printed by 2.1.4 in a public install guide (the tables after the runc options are left out:
 * nothing kbootstrap reads or writes lives there).
 */
export const CONTAINERD_DEFAULT_V3 = readFileSync(new URL('./fast/containerd-default-v3.toml', import.meta.url), 'utf8');

export function containerd(args) {
  const version = db()['containerd.io']?.version ?? '2.1.4';
  if (args[0] === 'config' && args[1] === 'default' && args.length === 2) return { stdout: version.startsWith('2.') ? CONTAINERD_DEFAULT_V3 : CONTAINERD_DEFAULT, code: 0 };
  if (args[0] === '--version' || args[0] === '-v') return { stdout: `containerd containerd.io ${version} 7f7fdf5fed64eb6a7caf99b3e12efcf9d60e311c\n`, code: 0 };
  if (args[0] === 'config' && args[1] === 'dump') return { stdout: readText('/etc/containerd/config.toml'), code: 0 };
  fail(1, `containerd: the lab simulates "containerd config default", "config dump" and "--version" (the daemon itself is systemctl state)`);
}

export function dockerd(args) {
  if (args[0] === '--version') return { stdout: 'Docker version 27.3.1, build ce12230\n', code: 0 };
  fail(1, 'dockerd: the lab runs the daemon as systemctl state only');
}

export function docker(args) {
  const active = units()['docker.service']?.active;
  if (args[0] === '--version') return { stdout: 'Docker version 27.3.1, build ce12230\n', code: 0 };
  if (!active) fail(1, 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?');
  if (args[0] === 'info') {
    const cfg = readJson('/etc/docker/daemon.json', {});
    const driver = (cfg['exec-opts'] ?? []).includes('native.cgroupdriver=systemd') ? 'systemd' : 'cgroupfs';
    return { stdout: `Server Version: 27.3.1\n Cgroup Driver: ${driver}\n Registry Mirrors:\n${(cfg['registry-mirrors'] ?? []).map((m) => `  ${m}/\n`).join('')}`, code: 0 };
  }
  if (args[0] === 'version') return { stdout: 'Client: Docker Engine - Community\n Version: 27.3.1\nServer: Docker Engine - Community\n Version: 27.3.1\n', code: 0 };
  if (args[0] === 'ps' || args[0] === 'images') return { stdout: 'CONTAINER ID   IMAGE   COMMAND   CREATED   STATUS   PORTS   NAMES\n', code: 0 };
  fail(1, `docker: '${args[0]}' is not a docker command.\nSee 'docker --help'`);
}

export function criDockerd(args) {
  if (args[0] === '--version') return { stdout: 'cri-dockerd 0.3.16 (7119864)\n', code: 0 };
  if (ON_VM && args.some((a) => a.startsWith('--container-runtime-endpoint'))) {
    // on a VM the daemon is real systemd's: cri-dockerd first connects to dockerd and exits when it cannot
    // (its wrapper in test/lab/vm/repo.ts then stays as the daemon)
    if (!exists('/run/docker.sock')) fail(1, 'level=fatal msg="Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?"');
    return { code: 0 };
  }
  fail(1, 'cri-dockerd: the lab runs the daemon as systemctl state only');
}

/** Is a CRI endpoint serving? Used by crictl and kubeadm's preflight. */
export function criStatus(endpoint) {
  const path = endpoint.replace(/^unix:\/\//, '').replace(/^\/var\/run\//, '/run/');
  const u = units();
  if (ON_VM && path === '/run/containerd/containerd.sock') return containerdCri(path);
  if (path === '/run/containerd/containerd.sock') {
    if (!u['containerd.service']?.active || !exists(path)) return { ok: false, why: `dial unix ${path}: connect: no such file or directory`, code: 'Unavailable' };
    if (readText(`${STATE}/containerd-cri`).trim() !== 'on') return { ok: false, why: 'unknown service runtime.v1.RuntimeService', code: 'Unimplemented' };
    return { ok: true };
  }
  if (path === '/run/cri-dockerd.sock') {
    if (!u['cri-docker.service']?.active || !exists(path)) return { ok: false, why: `dial unix ${path}: connect: no such file or directory`, code: 'Unavailable' };
    if (!u['docker.service']?.active) return { ok: false, why: 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock', code: 'Unknown' };
    return { ok: true };
  }
  return { ok: false, why: `dial unix ${path}: connect: no such file or directory`, code: 'Unavailable' };
}

export function criError(endpoint, st) {
  return st.code === 'Unimplemented'
    ? `validate service connection: validate CRI v1 runtime API for endpoint "${endpoint}": rpc error: code = Unimplemented desc = ${st.why}`
    : `validate service connection: validate CRI v1 runtime API for endpoint "${endpoint}": rpc error: code = ${st.code} desc = connection error: desc = "transport: Error while dialing: ${st.why}"`;
}

const DEFAULT_ENDPOINTS = ['unix:///run/containerd/containerd.sock', 'unix:///run/crio/crio.sock', 'unix:///var/run/cri-dockerd.sock'];

export function crictl(args) {
  const cfgText = readText('/etc/crictl.yaml');
  const m = /^runtime-endpoint:\s*(\S+)/m.exec(cfgText);
  let stderr = '';
  let endpoint = m?.[1];
  const verbs = ['info', 'ps', 'images', 'version', 'pods', 'config'];
  const verb = args.find((a) => !a.startsWith('-'));
  if (!verbs.includes(verb)) fail(1, `No help topic for '${verb}'`);
  if (verb === 'config') return { stdout: cfgText, code: 0 };
  if (!endpoint) {
    stderr += `WARN[0000] runtime connect using default endpoints: [${DEFAULT_ENDPOINTS.join(' ')}]. As the default settings are now deprecated, you should set the endpoint instead.\n`;
    endpoint = DEFAULT_ENDPOINTS.find((e) => criStatus(e).ok) ?? DEFAULT_ENDPOINTS[0];
  }
  const st = criStatus(endpoint);
  if (!st.ok) fail(1, `${stderr}FATA[0000] ${criError(endpoint, st)}`);
  const out = { info: '{\n  "status": {\n    "conditions": [\n      { "type": "RuntimeReady", "status": true }\n    ]\n  }\n}\n',
    ps: 'CONTAINER           IMAGE               CREATED             STATE               NAME                ATTEMPT             POD ID              POD\n',
    images: 'IMAGE               TAG                 IMAGE ID            SIZE\n',
    pods: 'POD ID              CREATED             STATE               NAME                NAMESPACE           ATTEMPT             RUNTIME\n',
    version: `Version:  0.1.0\nRuntimeName:  ${endpoint.includes('docker') ? 'docker' : 'containerd'}\nRuntimeApiVersion:  v1\n` }[verb];
  return { stdout: out, stderr, code: 0 };
}

const NET = `${STATE}/netfilter.json`;

export function ipvsadm(args) {
  const st = readJson(NET, { ipvs: [], iptables: {} });
  if (args[0] === '--clear' || args[0] === '-C') { st.ipvs = []; writeJson(NET, st); return { stdout: '', code: 0 }; }
  if (args[0] === '-Ln' || (args[0] === '-L' && args[1] === '-n') || args.length === 0) {
    return { stdout: `IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n${st.ipvs.join('\n')}${st.ipvs.length ? '\n' : ''}`, code: 0 };
  }
  fail(2, `ipvsadm: invalid option -- '${args[0]}'`);
}

export function ipset(args) {
  if (args[0] === 'list' || args[0] === 'version' || args[0] === '-v') return { stdout: args[0] === 'list' ? '' : 'ipset v7.11, protocol version: 7\n', code: 0 };
  if (args[0] === 'destroy' || args[0] === 'flush') return { stdout: '', code: 0 };
  fail(1, `ipset v7.11: Unknown command "${args[0]}"`);
}

/** iptables: only what a reset needs (flush, delete chains, save). */
export function iptables(args) {
  const st = readJson(NET, { ipvs: [], iptables: {} });
  let table = 'filter';
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '-t') table = args[++i];
    else rest.push(args[i]);
  }
  if (rest[0] === '-F' || rest[0] === '--flush') { st.iptables[table] = []; writeJson(NET, st); return { stdout: '', code: 0 }; }
  if (rest[0] === '-X' || rest[0] === '--delete-chain') { writeJson(NET, st); return { stdout: '', code: 0 }; }
  if (rest[0] === '-S' || rest[0] === '-L') return { stdout: (st.iptables[table] ?? []).join('\n') + '\n', code: 0 };
  if (rest[0] === '-A') { (st.iptables[table] ??= []).push(rest.join(' ')); writeJson(NET, st); return { stdout: '', code: 0 }; }
  fail(2, `iptables v1.8.9 (nf_tables): unknown option "${rest[0]}"\nTry \`iptables -h' or 'iptables --help' for more information.`);
}

export function iptablesSave() {
  const st = readJson(NET, { ipvs: [], iptables: {} });
  return { stdout: Object.entries(st.iptables).map(([t, rules]) => `*${t}\n${rules.join('\n')}\nCOMMIT\n`).join(''), code: 0 };
}

export function kubelet(args) {
  if (args[0] === '--version') return { stdout: `Kubernetes v${db().kubelet?.version.replace(/-.*$/, '') ?? '0.0.0'}\n`, code: 0 };
  if (ON_VM) {
    // run by real systemd (kubelet.service with kubeadm's 10-kubeadm.conf): like the real kubelet it exits
    // while its configuration is missing, and systemd restarts it every 10 s (Restart=always, RestartSec=10)
    // until kubeadm init or join writes it; then it runs until systemd stops it
    const config = args.find((a) => a.startsWith('--config='))?.slice('--config='.length) ?? '/var/lib/kubelet/config.yaml';
    if (!exists(config)) fail(1, `E0000 run.go:74] "command failed" err="failed to load kubelet config file, path: ${config}, error: failed to load Kubelet config file ${config}, error failed to read kubelet config file \\"${config}\\", error: open ${config}: no such file or directory"`);
    execFileSync('sleep', ['infinity'], { stdio: 'ignore' });
    return { code: 0 };
  }
  fail(1, 'kubelet: the lab runs the kubelet as systemctl state only');
}

export const ctr = () => ({ stdout: '', code: 0 });
export const conntrack = () => ({ stdout: '', code: 0 });

/**
 * nft, from the nftables package: its version (Debian 12's nftables 1.0.6-2+deb12u2, apt-cache policy on
 * the lab machine, 2026-12-07; EL7's is 0.8) and the rule set, which the lab keeps empty (kube-proxy and
 * the CNI run as Pod states only).
 */
export function nft(args) {
  if (args[0] === '--version' || args[0] === '-v') return { stdout: `nftables v${db().nftables?.version ?? '1.0.6'} (Lester Gooch #5)\n`, code: 0 };
  if (args[0] === 'list') return { stdout: '', code: 0 };
  if (args[0] === 'delete' || args[0] === 'flush') return { stdout: '', code: 0 };
  fail(1, `Error: syntax error, unexpected ${args[0] ?? 'end of file'}`);
}
