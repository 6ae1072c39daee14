// Simulated system programs: systemd, hostname, swap, modules, sysctl,
// SELinux, firewalld, curl. They act on per-host state files, never on the machine.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { execFileSync } from 'node:child_process';
import { basename, dirname } from 'node:path';
import {
  STATE, fail, readText, writeText, exists, units, saveUnits, unitName, readJson, writeJson, isDir,
  withClusterLock, clusterState, saveClusterState, hostname, parseArgs,
} from './lib.mjs';
import { db } from './packages.mjs';
import { ON_VM, kernelModules } from './platform.mjs';
import { LAB_NET, get, logOutside, offline } from './rpm-repos.mjs';

// ---------------------------------------------------------------- systemctl
const SOCKETS = {
  'containerd.service': ['/run/containerd/containerd.sock'],
  'docker.service': ['/run/docker.sock'],
  'cri-docker.service': ['/run/cri-dockerd.sock'],
};

/**
 * Keep the node's kubelet/runtime state in the shared cluster, as a real kubelet's status would.
 * A kubelet process that (re)starts reports its binary's version as status.nodeInfo.kubeletVersion:
 * upgrading the kubelet package alone changes nothing the API shows until "systemctl restart kubelet"
 * (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/, "Restart the kubelet").
 */
function syncNodeState(u, kubeletStarted = false) {
  const name = hostname();
  withClusterLock(() => {
    const s = clusterState();
    for (const c of Object.values(s.clusters)) {
      const node = c.nodes?.[name];
      if (!node) continue;
      node.kubeletActive = u['kubelet.service']?.active === true;
      node.runtimeActive = ['containerd.service', 'cri-docker.service'].some((x) => u[x]?.active === true);
      const installed = db().kubelet?.version.replace(/-.*$/, ''); // without a .deb's revision (1.30.4-1.1)
      if (kubeletStarted && installed) node.version = `v${installed}`;
    }
    saveClusterState(s);
  });
}

function setActive(u, name, active) {
  u[name].active = active;
  for (const sock of SOCKETS[name] ?? []) {
    if (active) writeText(sock, '');
    else if (exists(sock)) execFileSync('rm', ['-f', sock]);
  }
  // containerd with the CRI plugin disabled (the containerd.io package default) serves no CRI
  if (name === 'containerd.service') {
    const cfg = readText('/etc/containerd/config.toml');
    const cri = active && !/disabled_plugins\s*=\s*\[\s*"cri"\s*\]/.test(cfg);
    writeText(`${STATE}/containerd-cri`, cri ? 'on' : 'off');
    // the CRI plugin watches the CNI config dir and creates it (0700) when it is missing: newCNINetConfSyncer,
    // containerd pkg/cri/server/cni_conf_syncer.go ("failed to create cni conf dir=... for watch"); a real
    // VM showed it after kbootstrap reset removed the dir and restarted containerd
    if (cri && !exists('/etc/cni/net.d')) execFileSync('mkdir', ['-p', '-m', '0700', '/etc/cni/net.d']);
  }
}

export function systemctl(args) {
  const p = parseArgs(args, { '--quiet': false, '-q': false, '--now': false, '--no-legend': false, '--plain': false, '--type': true, '--state': true, '--no-pager': false, '--all': false }, {
    unknown: (f) => `systemctl: unrecognized option '${f}'`, missing: (f) => `systemctl: option '${f}' requires an argument`,
  });
  const [verb, ...names] = p.positional;
  const quiet = p.has('--quiet') || p.has('-q');
  const u = units();
  // a unit file an administrator wrote to /etc/systemd/system is a unit too (systemd.unit(5), "Unit File
  // Load Path": /etc/systemd/system comes first); packages' units come from the package simulation
  for (const n of names) {
    const un = unitName(n);
    if (!u[un]?.installed && exists(`/etc/systemd/system/${un}`)) u[un] = { ...(u[un] ?? {}), installed: true, enabled: false, active: false };
  }
  const known = (n) => u[unitName(n)]?.installed;
  const out = [];
  const need = () => { if (!names.length) fail(1, `Too few arguments.`); };
  switch (verb) {
    case 'is-active': {
      need();
      let code = 0;
      for (const n of names) {
        const a = known(n) && u[unitName(n)].active;
        if (!quiet) out.push(a ? 'active' : 'inactive');
        if (!a) code = 3;
      }
      return { stdout: out.join('\n') + (out.length ? '\n' : ''), code };
    }
    case 'is-enabled': {
      need();
      let code = 0;
      let err = '';
      for (const n of names) {
        if (!known(n)) { err += `Failed to get unit file state for ${unitName(n)}: No such file or directory\n`; code = 1; continue; }
        const st = u[unitName(n)].masked ? 'masked' : u[unitName(n)].enabled ? 'enabled' : 'disabled';
        if (!quiet) out.push(st);
        if (st !== 'enabled') code = 1;
      }
      return { stdout: out.join('\n') + (out.length ? '\n' : ''), stderr: err, code };
    }
    case 'enable': case 'disable': case 'start': case 'stop': case 'restart': case 'reload': case 'mask': case 'unmask': {
      need();
      for (const n of names) {
        const un = unitName(n);
        if (!known(n)) {
          const what = verb === 'enable' || verb === 'disable' ? `Failed to ${verb} unit: Unit file ${un} does not exist.` : `Failed to ${verb} ${un}: Unit ${un} not found.`;
          fail(verb === 'start' || verb === 'restart' || verb === 'stop' ? 5 : 1, what);
        }
      }
      // a new kubelet process: restart always, start only when it was not running (systemd's semantics)
      const kubeletStarted = names.some((n) => unitName(n) === 'kubelet.service')
        && (verb === 'restart' || ((verb === 'start' || (verb === 'enable' && p.has('--now'))) && !u['kubelet.service'].active));
      for (const n of names) {
        const un = unitName(n);
        if (verb === 'enable') u[un].enabled = true;
        if (verb === 'disable') u[un].enabled = false;
        if (verb === 'mask') u[un].masked = true;
        if (verb === 'unmask') u[un].masked = false;
        if (verb === 'start' || verb === 'restart' || verb === 'reload' || (verb === 'enable' && p.has('--now'))) {
          if (u[un].masked) fail(1, `Failed to start ${un}: Unit ${un} is masked.`);
          setActive(u, un, true);
          u[un].restarts = (u[un].restarts ?? 0) + (verb === 'restart' ? 1 : 0);
        }
        // systemctl(1), --now: "When used with disable or mask, the units will also be stopped."
        if (verb === 'stop' || ((verb === 'disable' || verb === 'mask') && p.has('--now'))) setActive(u, un, false);
      }
      saveUnits(u);
      if (names.some((n) => ['kubelet', 'containerd', 'cri-docker', 'cri-docker.service', 'docker'].includes(n))) syncNodeState(u, kubeletStarted);
      return { stdout: '', code: 0 };
    }
    case 'daemon-reload':
      return { stdout: '', code: 0 };
    case 'list-units': {
      const type = p.get('--type');
      const lines = Object.entries(u).filter(([n, v]) => v.installed && (!type || n.endsWith(`.${type}`)) && (p.get('--state') !== 'active' || v.active))
        .map(([n, v]) => `${n} loaded ${v.active ? 'active running' : 'inactive dead'} ${n}`);
      return { stdout: lines.join('\n') + (lines.length ? '\n' : ''), code: 0 };
    }
    case 'status': {
      need();
      const un = unitName(names[0]);
      if (!known(names[0])) fail(4, `Unit ${un} could not be found.`);
      return { stdout: `● ${un}\n     Loaded: loaded\n     Active: ${u[un].active ? 'active (running)' : 'inactive (dead)'}\n`, code: u[un].active ? 0 : 3 };
    }
    case undefined:
      return fail(1, 'systemctl: the lab simulates systemctl verbs only (is-active, is-enabled, enable, disable, start, stop, restart, mask, daemon-reload, list-units, status)');
    default:
      fail(1, `Unknown command verb ${verb}.`);
  }
}

export function systemctlMutates(args) {
  return ['enable', 'disable', 'start', 'stop', 'restart', 'reload', 'mask', 'unmask'].some((v) => args.includes(v));
}

// ---------------------------------------------------------------- hostnamectl
export function hostnamectl(args) {
  const [verb, name, ...rest] = args;
  if (verb === 'set-hostname') {
    if (!name || rest.length) fail(1, 'Invalid number of arguments.');
    if (!/^[a-zA-Z0-9][a-zA-Z0-9.-]{0,62}$/.test(name)) fail(1, `Invalid static hostname '${name}'`);
    writeText('/etc/hostname', `${name}\n`);
    execFileSync('hostname', [name]);
    return { stdout: '', code: 0 };
  }
  if (verb === undefined || verb === 'status') {
    return { stdout: ` Static hostname: ${readText('/etc/hostname').trim()}\n Operating System: ${(/PRETTY_NAME="?([^"\n]*)/.exec(readText('/etc/os-release')) ?? [])[1]}\n`, code: 0 };
  }
  fail(1, `Unknown command verb ${verb}.`);
}

// ---------------------------------------------------------------- swap
const SWAPS = `${STATE}/swaps`;
const SWAP_HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';

function activeSwaps() {
  return readText(SWAPS).split('\n').slice(1).filter(Boolean).map((l) => l.split(/\s+/)[0]);
}

function fstabSwaps() {
  return readText('/etc/fstab').split('\n').filter((l) => !/^\s*#/.test(l) && l.trim().split(/\s+/)[2] === 'swap').map((l) => l.trim().split(/\s+/)[0]);
}

export function swapoff(args) {
  const p = parseArgs(args, { '-a': false, '--all': false, '-v': false }, { unknown: (f) => `swapoff: invalid option -- '${f.replace(/^-+/, '')}'`, missing: (f) => f });
  const active = activeSwaps();
  const off = p.has('-a') || p.has('--all') ? active : p.positional;
  for (const dev of off) if (!active.includes(dev)) fail(4, `swapoff: ${dev}: swapoff failed: Invalid argument`);
  const keep = readText(SWAPS).split('\n').slice(1).filter((l) => l && !off.includes(l.split(/\s+/)[0]));
  writeText(SWAPS, SWAP_HEADER + keep.map((l) => l + '\n').join(''));
  return { stdout: '', code: 0 };
}

export function swapon(args) {
  const p = parseArgs(args, { '-a': false, '--all': false, '--show': false, '-s': false, '--noheadings': false }, { unknown: (f) => `swapon: unrecognized option '${f}'`, missing: (f) => f });
  if (p.has('--show') || p.has('-s') || (!p.positional.length && !p.has('-a'))) {
    const lines = readText(SWAPS).split('\n').slice(1).filter(Boolean);
    if (p.has('-s')) return { stdout: readText(SWAPS), code: 0 };
    return { stdout: lines.length ? `NAME TYPE SIZE USED PRIO\n${lines.map((l) => { const f = l.split(/\s+/); return `${f[0]} ${f[1]} 2G 0B ${f[4]}`; }).join('\n')}\n` : '', code: 0 };
  }
  const want = p.has('-a') ? fstabSwaps() : p.positional;
  const active = activeSwaps();
  const add = want.filter((d) => !active.includes(d));
  writeText(SWAPS, readText(SWAPS) + add.map((d) => `${d}\t\t\t\tpartition\t2097148\t\t0\t\t-2\n`).join(''));
  return { stdout: '', code: 0 };
}

// ---------------------------------------------------------------- kernel modules
const MODULES = `${STATE}/modules`;
export const KNOWN_MODULES = ['overlay', 'br_netfilter', 'ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack', 'bridge', 'xfs', 'ext4', 'ip_tables', 'iptable_nat', 'iptable_filter', 'nf_nat', 'veth', 'vxlan', 'ipip', 'dm_mod'];
const DEPS = { br_netfilter: ['bridge'], ip_vs_rr: ['ip_vs'], ip_vs_wrr: ['ip_vs'], ip_vs_sh: ['ip_vs'], ip_vs: ['nf_conntrack'] };

export function loadedModules() {
  if (ON_VM) return kernelModules();
  return readText(MODULES).split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
}

export function modprobe(args) {
  const p = parseArgs(args, { '-r': false, '-q': false, '-v': false, '--remove': false }, { unknown: (f) => `modprobe: invalid option -- '${f.replace(/^-+/, '')}'`, missing: (f) => f });
  const [name] = p.positional;
  if (!name) fail(1, 'modprobe: ERROR: missing parameters. See -h.');
  const kernel = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  const mod = name.replace(/-/g, '_');
  if (!KNOWN_MODULES.includes(mod)) fail(1, p.has('-q') ? '' : `modprobe: FATAL: Module ${name} not found in directory /lib/modules/${kernel}`);
  const loaded = loadedModules();
  if (p.has('-r') || p.has('--remove')) {
    writeText(MODULES, readText(MODULES).split('\n').filter((l) => l && l.split(' ')[0] !== mod).map((l) => l + '\n').join(''));
    return { stdout: '', code: 0 };
  }
  const add = [];
  const visit = (m) => { for (const d of DEPS[m] ?? []) visit(d); if (!loaded.includes(m) && !add.includes(m)) add.push(m); };
  visit(mod);
  writeText(MODULES, readText(MODULES) + add.map((m) => `${m} 36864 0 - Live 0x0000000000000000\n`).join(''));
  return { stdout: '', code: 0 };
}

export function lsmod() {
  const lines = readText(MODULES).split('\n').filter(Boolean).map((l) => { const f = l.split(' '); return `${f[0].padEnd(24)}${f[1].padStart(8)}  ${f[2]}`; });
  return { stdout: `Module                  Size  Used by\n${lines.join('\n')}${lines.length ? '\n' : ''}`, code: 0 };
}

// ---------------------------------------------------------------- sysctl
const SIM_SYSCTL = `${STATE}/sysctl.json`;
const SIM_DEFAULTS = { 'vm.swappiness': '60', 'kernel.panic': '0', 'fs.inotify.max_user_watches': '8192', 'vm.overcommit_memory': '0', 'kernel.pid_max': '4194304' };

function keyPath(key) {
  return `/proc/sys/${key.replace(/\./g, '/')}`;
}

/** net.* is real (this host's network namespace), gated like the kernel: bridge keys need br_netfilter. */
function readKey(key) {
  if (key.startsWith('net.')) {
    if (key.startsWith('net.bridge.') && !loadedModules().includes('br_netfilter')) return undefined;
    const v = readText(keyPath(key), null);
    return v === null ? undefined : v.trim();
  }
  const sim = readJson(SIM_SYSCTL, {});
  return sim[key] ?? SIM_DEFAULTS[key];
}

function writeKey(key, value) {
  if (key.startsWith('net.')) {
    if (readKey(key) === undefined) return `sysctl: cannot stat ${keyPath(key)}: No such file or directory`;
    writeText(keyPath(key), `${value}\n`);
    return undefined;
  }
  const sim = readJson(SIM_SYSCTL, {});
  if (!(key in SIM_DEFAULTS) && !(key in sim)) return `sysctl: cannot stat ${keyPath(key)}: No such file or directory`;
  sim[key] = String(value);
  writeJson(SIM_SYSCTL, sim);
  return undefined;
}

/** The files sysctl --system reads, in its order (by name across directories, /etc/sysctl.conf last). */
function systemFiles() {
  const dirs = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'];
  const byName = new Map();
  for (const d of dirs) {
    if (!isDir(d)) continue;
    for (const f of readdirSync(d)) if (f.endsWith('.conf') && !byName.has(f)) byName.set(f, `${d}/${f}`);
  }
  const files = [...byName.keys()].sort().map((k) => byName.get(k));
  if (exists('/etc/sysctl.conf')) files.push('/etc/sysctl.conf');
  return files;
}

function applyFile(file, out, errs) {
  for (const raw of readText(file).split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';')) continue;
    const i = line.indexOf('=');
    if (i < 0) continue;
    const key = line.slice(0, i).trim().replace(/^-/, '').replace(/\//g, '.');
    const value = line.slice(i + 1).trim();
    const e = writeKey(key, value);
    if (e) errs.push(e);
    else out.push(`${key} = ${value}`);
  }
}

export function sysctl(args) {
  const p = parseArgs(args, { '-n': false, '-w': false, '-p': false, '--system': false, '-q': false, '-a': false, '--values': false }, {
    unknown: (f) => `sysctl: unknown option '${f}'`, missing: (f) => f,
  });
  const out = [];
  const errs = [];
  if (p.has('--system')) {
    for (const f of systemFiles()) {
      out.push(`* Applying ${f} ...`);
      applyFile(f, out, errs);
    }
    return { stdout: out.join('\n') + '\n', stderr: errs.map((e) => e + '\n').join(''), code: 0 };
  }
  if (p.has('-p')) {
    const files = p.positional.length ? p.positional : ['/etc/sysctl.conf'];
    for (const f of files) {
      if (!exists(f)) fail(255, `sysctl: cannot open "${f}": No such file or directory`);
      applyFile(f, out, errs);
    }
    return { stdout: out.join('\n') + (out.length ? '\n' : ''), stderr: errs.map((e) => e + '\n').join(''), code: errs.length ? 255 : 0 };
  }
  let code = 0;
  for (const a of p.positional) {
    if (a.includes('=')) {
      const [k, v] = [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)];
      const e = writeKey(k, v);
      if (e) { errs.push(e); code = 255; } else out.push(p.has('-q') ? null : `${k} = ${v}`);
    } else {
      const v = readKey(a);
      if (v === undefined) { errs.push(`sysctl: cannot stat ${keyPath(a)}: No such file or directory`); code = 255; }
      else out.push(p.has('-n') ? v : `${a} = ${v}`);
    }
  }
  const text = out.filter((x) => x !== null).join('\n');
  return { stdout: text ? text + '\n' : '', stderr: errs.map((e) => e + '\n').join(''), code };
}

export function sysctlMutates(args) {
  return args.includes('--system') || args.includes('-p') || args.includes('-w') || args.some((a) => a.includes('='));
}

// ---------------------------------------------------------------- SELinux
const ENFORCE = '/sys/fs/selinux/enforce';

function selinuxMode() {
  if (!exists(ENFORCE)) return 'Disabled';
  return readText(ENFORCE).trim() === '1' ? 'Enforcing' : 'Permissive';
}

export function getenforce(args) {
  if (args.length) fail(1, 'usage:  getenforce');
  return { stdout: `${selinuxMode()}\n`, code: 0 };
}

export function setenforce(args) {
  if (args.length !== 1) fail(1, 'usage:  setenforce [ Enforcing | Permissive | 1 | 0 ]');
  if (selinuxMode() === 'Disabled') fail(1, 'setenforce: SELinux is disabled');
  const v = { 1: '1', 0: '0', enforcing: '1', permissive: '0' }[args[0].toLowerCase()];
  if (v === undefined) fail(1, 'usage:  setenforce [ Enforcing | Permissive | 1 | 0 ]');
  writeText(ENFORCE, v);
  return { stdout: '', code: 0 };
}

// ---------------------------------------------------------------- firewalld
const FW = `${STATE}/firewalld.json`;

/** firewalld state, and the flat copies the sh fast path reads (sim/fast/firewall-cmd.sh). */
function saveFw(st) {
  writeJson(FW, st);
  writeText(`${STATE}/fw.d/permanent`, `${st.permanent.join(' ')}\n`);
  writeText(`${STATE}/fw.d/runtime`, `${st.runtime.join(' ')}\n`);
  writeText(`${STATE}/fw.d/permanent-protocols`, `${st.permanentProtocols.join(' ')}\n`);
  writeText(`${STATE}/fw.d/runtime-protocols`, `${st.runtimeProtocols.join(' ')}\n`);
}

/**
 * firewalld's checkProtocol (src/firewall/functions.py): a number 0-255, or a name
 * getprotobyname knows, i.e. one in the host's /etc/protocols.
 */
function validProtocol(p) {
  if (/^\d+$/.test(p)) return Number(p) <= 255;
  return readText('/etc/protocols').split('\n').some((l) => l.replace(/#.*/, '').trim().split(/\s+/).filter((w, i) => i !== 1).includes(p));
}

export function firewallCmd(args) {
  const u = units();
  const running = u['firewalld.service']?.active;
  const st = { permanentProtocols: [], runtimeProtocols: [], ...readJson(FW, { permanent: [], runtime: [] }) };
  if (args[0] === '--state') return running ? { stdout: 'running\n', code: 0 } : { stdout: 'not running\n', code: 252 };
  if (!running) fail(252, 'FirewallD is not running');
  const known = new Set(['--permanent', '--list-ports', '--reload', '--zone', '--list-all', '--add-port', '--remove-port', '--query-port',
    '--list-protocols', '--add-protocol', '--remove-protocol']);
  let permanent = false;
  const adds = [];
  const removes = [];
  const addProtos = [];
  const removeProtos = [];
  let list = false;
  let listProtos = false;
  let reload = false;
  for (const a of args) {
    const [name, value] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    if (!known.has(name)) fail(2, `usage: see firewall-cmd man page\nfirewall-cmd: error: unrecognized arguments: ${a}`);
    if (name === '--permanent') permanent = true;
    if (name === '--list-ports') list = true;
    if (name === '--reload') reload = true;
    if (name === '--add-port') {
      if (!/^\d+(-\d+)?\/(tcp|udp|sctp|dccp)$/.test(value ?? '')) fail(254, `Error: INVALID_PORT: ${value}`);
      adds.push(value);
    }
    if (name === '--remove-port') removes.push(value);
    if (name === '--list-protocols') listProtos = true;
    if (name === '--add-protocol') {
      if (!validProtocol(value ?? '')) fail(103, `Error: INVALID_PROTOCOL: ${value}`);
      addProtos.push(value);
    }
    if (name === '--remove-protocol') removeProtos.push(value);
  }
  const target = permanent ? st.permanent : st.runtime;
  const protos = permanent ? st.permanentProtocols : st.runtimeProtocols;
  if (list) return { stdout: target.join(' ') + '\n', code: 0 };
  if (listProtos) return { stdout: protos.join(' ') + '\n', code: 0 };
  if (reload) { st.runtime = [...st.permanent]; st.runtimeProtocols = [...st.permanentProtocols]; saveFw(st); return { stdout: 'success\n', code: 0 }; }
  for (const a of adds) if (!target.includes(a)) target.push(a);
  for (const r of removes) { const i = target.indexOf(r); if (i >= 0) target.splice(i, 1); }
  for (const a of addProtos) if (!protos.includes(a)) protos.push(a);
  for (const r of removeProtos) { const i = protos.indexOf(r); if (i >= 0) protos.splice(i, 1); }
  saveFw(st);
  return { stdout: 'success\n', code: 0 };
}

export function firewallMutates(args) {
  return args.some((a) => a.startsWith('--add-port') || a.startsWith('--remove-port') || a.startsWith('--add-protocol') || a.startsWith('--remove-protocol') || a === '--reload');
}

// ---------------------------------------------------------------- curl
const FIXTURES = `${dirname(new URL(import.meta.url).pathname)}/../fixtures`;

/** The lab has no network: curl serves the few files kbootstrap fetches from fixtures, else fails like DNS would. */
export async function curl(args) {
  if (args.includes('-K')) return registryProbe(args);
  const p = parseArgs(args, { '-f': false, '-s': false, '-S': false, '-L': false, '-o': true, '--retry': true, '-k': false, '--fail': false, '--silent': false, '--location': false, '--show-error': false, '--output': true, '--connect-timeout': true, '-m': true }, {
    unknown: (f) => `curl: option ${f}: is unknown\ncurl: try 'curl --help' or 'curl --manual' for more information`, missing: (f) => `curl: option ${f}: requires parameter`,
  });
  const url = p.positional[0];
  if (!url) fail(2, "curl: no URL specified!\ncurl: try 'curl --help' or 'curl --manual' for more information");
  const outFile = p.get('-o') ?? p.get('--output');
  // the lab network (the bundle server of up --bundle): a real GET; -f makes an HTTP error exit 22 (curl(1) "-f, --fail")
  if (LAB_NET.test(url)) {
    const r = await get(url);
    const quiet = p.has('-s') && !p.has('-S');
    if (r.error) fail(r.error[0], quiet ? '' : `curl: (${r.error[0]}) ${r.error[1]}`);
    if (r.status >= 400 && (p.has('-f') || p.has('--fail'))) fail(22, quiet ? '' : `curl: (22) The requested URL returned error: ${r.status}`);
    if (outFile) { writeFileSync(outFile, r.body); return { stdout: '', code: 0 }; }
    return { stdout: r.body.toString('utf8'), code: 0 };
  }
  logOutside('curl', url);
  const file = offline() ? undefined : fixtureFor(url);
  if (!file) {
    const host = (/^[a-z]+:\/\/([^/:]+)/.exec(url) ?? [])[1] ?? url;
    fail(6, p.has('-s') && !p.has('-S') ? '' : `curl: (6) Could not resolve host: ${host}`);
  }
  const body = readText(file);
  if (outFile) { writeText(outFile, body); return { stdout: '', code: 0 }; }
  return { stdout: body, code: 0 };
}


/**
 * curl as the container-runtime step's registry probe runs it
 * (templates/container-runtime/registry-probe.sh.hbs): a real GET over the lab
 * network to a registry the test runs on the machine, with the CA of --cacert,
 * the headers of the config on stdin (-K -, "header = ..." lines, curl(1)
 * "-K, --config"), the response headers to -D, the status for -w '%{http_code}'
 * ('000' when none, as curl prints it). Failures exit with curl's codes and words
 * (curl(1) "EXIT CODES": 6 could not resolve host, 7 failed to connect, 28
 * timeout, 60 peer certificate cannot be authenticated with known CA certificates).
 */
async function registryProbe(args) {
  const p = parseArgs(args, {
    '-s': false, '-S': false, '-o': true, '-D': true, '-w': true, '--connect-timeout': true, '--max-time': true, '--proto': true, '--cacert': true, '-K': true,
  }, { unknown: (f) => `curl: option ${f}: is unknown`, missing: (f) => `curl: option ${f}: requires parameter` });
  const url = p.positional[0];
  const code = (p.get('-w') ?? '') === '%{http_code}';
  const out = (status) => (code ? status : '');
  if (!url || !LAB_NET.test(url)) {
    const host = (/^[a-z]+:\/\/([^/:]+)/.exec(url ?? '') ?? [])[1] ?? url;
    return { stdout: out('000'), stderr: `curl: (6) Could not resolve host: ${host}\n`, code: 6 };
  }
  const headers = {};
  if (p.get('-K') === '-') {
    for (const line of readFileSync(0, 'utf8').split('\n')) {
      const m = /^header\s*=\s*(".*")\s*$/.exec(line.trim());
      if (m) {
        const h = JSON.parse(m[1]);
        headers[h.slice(0, h.indexOf(':')).trim()] = h.slice(h.indexOf(':') + 1).trim();
      }
    }
  }
  const ca = p.get('--cacert') ? readText(p.get('--cacert')) : undefined;
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const res = await new Promise((resolve) => {
    const req = mod.get(url, { headers, ca, timeout: Number(p.get('--max-time') ?? 30) * 1000 }, (r) => {
      r.resume();
      r.on('end', () => resolve({ status: r.statusCode, reason: r.statusMessage, raw: r.rawHeaders, version: r.httpVersion }));
    });
    req.on('timeout', () => { req.destroy(); resolve({ error: 28, message: `Operation timed out after ${p.get('--max-time')} seconds` }); });
    req.on('error', (e) => {
      if (e.code === 'ECONNREFUSED') resolve({ error: 7, message: `Failed to connect to ${u.hostname} port ${u.port} after 0 ms: Couldn't connect to server` });
      else if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY/.test(e.code ?? '')) resolve({ error: 60, message: 'SSL certificate problem: unable to get local issuer certificate' });
      else resolve({ error: 35, message: `${e.code ?? e.message}` });
    });
  });
  if (res.error) return { stdout: out('000'), stderr: `curl: (${res.error}) ${res.message}\n`, code: res.error };
  if (p.get('-D')) {
    const lines = [`HTTP/${res.version} ${res.status} ${res.reason}`];
    for (let i = 0; i < res.raw.length; i += 2) lines.push(`${res.raw[i]}: ${res.raw[i + 1]}`);
    writeText(p.get('-D'), lines.join('\r\n') + '\r\n\r\n');
  }
  return { stdout: out(String(res.status)), code: 0 };
}

function fixtureFor(url) {
  if (/\/(gpg|Release\.key|repomd\.xml\.key)$/.test(url)) return `${FIXTURES}/signing-key.asc`;
  // a CNI manifest: the fixture named like the URL's file (calico.yaml, kube-flannel.yml, a third plugin's)
  const manifest = /\/([A-Za-z0-9._-]+\.ya?ml)$/.exec(url)?.[1];
  if (manifest && exists(`${FIXTURES}/${manifest}`)) return `${FIXTURES}/${manifest}`;
  const pkg = /\/(cri-dockerd[-_][^/]+\.(rpm|deb))$/.exec(url);
  if (pkg) {
    const path = `/tmp/.kblab-${basename(pkg[1])}`;
    writeText(path, `kblab package ${pkg[1]}\n`);
    return path;
  }
  return undefined;
}

// ---------------------------------------------------------------- power
export function refusePower(prog) {
  fail(1, `${prog}: refused in the lab: a lab host cannot be rebooted (it would be the machine)`);
}

export const reboot = () => refusePower('reboot');
export const shutdown = () => refusePower('shutdown');
export const poweroff = () => refusePower('poweroff');
export const halt = () => refusePower('halt');
