// Shared plumbing of the lab's simulated programs: per-host state files,
// the call log, injected faults, and a lock for the shared cluster state.
// Everything here runs inside a lab host; paths are the host's own.
import { appendFileSync, existsSync, mkdirSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { execFileSync } from 'node:child_process';
import { ON_VM, applyUnits, systemdUnits } from './platform.mjs';
import { readRecord, writeRecord } from './etcd.mjs';

export const STATE = '/var/lib/kblab';
export const CLUSTER = '/var/lib/kblab-cluster';
export const FAULTS = '/var/lib/kblab-faults';

export class Exit extends Error {
  constructor(code, stdout = '', stderr = '') {
    super(`exit ${code}`);
    this.code = code;
    this.stdout = stdout;
    this.stderr = stderr;
  }
}

export const fail = (code, stderr, stdout = '') => { throw new Exit(code, stdout, stderr.endsWith('\n') || !stderr ? stderr : stderr + '\n'); };

export function readJson(path, fallback) {
  try { return JSON.parse(readFileSync(path, 'utf8')); } catch { return fallback; }
}

export function writeJson(path, value) {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2) + '\n');
  renameSync(tmp, path);
}

export function readText(path, fallback = '') {
  try { return readFileSync(path, 'utf8'); } catch { return fallback; }
}

export function writeText(path, text, mode) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text, mode ? { mode } : undefined);
}

/** All of stdin, also when it is a non-blocking pipe (readFileSync('/dev/stdin') then fails with EAGAIN). */
export function readStdin() {
  const chunks = [];
  const buf = Buffer.alloc(65536);
  for (;;) {
    let n;
    try {
      n = readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === 'EAGAIN') { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5); continue; }
      if (e.code === 'EOF') break;
      throw e;
    }
    if (n === 0) break;
    chunks.push(Buffer.from(buf.subarray(0, n)));
  }
  return Buffer.concat(chunks).toString('utf8');
}

export const exists = (p) => existsSync(p);
export const isDir = (p) => { try { return statSync(p).isDirectory(); } catch { return false; } };
export const remove = (p) => rmSync(p, { recursive: true, force: true });

export function hostname() {
  return readText('/proc/sys/kernel/hostname').trim();
}

/** Every call is logged so tests can assert that a repeated run changed nothing. */
export function logCall(prog, args, mutating) {
  try {
    mkdirSync('/var/log/kblab', { recursive: true });
    appendFileSync('/var/log/kblab/calls.jsonl', JSON.stringify({ prog, args, mutating, at: new Date().toISOString() }) + '\n');
  } catch { /* logging must never break the simulated program */ }
}

/**
 * Faults injected from outside: /var/lib/kblab-faults/<host>.json holds
 * [{ match: "yum install", action: "fail"|"hang"|"drop", stderr?, code?, times? }].
 * match is a prefix of "prog arg arg…".
 */
export function applyFaults(prog, args) {
  // keyed by the lab's name for the host, which stays put when kbootstrap renames it
  const file = `${FAULTS}/${readText('/etc/kblab/lab-name').trim()}.json`;
  const rules = readJson(file, []);
  if (!Array.isArray(rules) || !rules.length) return;
  const line = [prog, ...args].join(' ');
  const i = rules.findIndex((r) => line.startsWith(r.match));
  if (i < 0) return;
  const rule = rules[i];
  if (typeof rule.times === 'number') {
    rule.times -= 1;
    if (rule.times <= 0) rules.splice(i, 1);
    try { writeJson(file, rules); } catch { /* read-only is fine */ }
  }
  if (rule.action === 'hang') {
    // sleep until killed, like a command stuck on a dead mirror
    execFileSync('sleep', ['infinity'], { stdio: 'ignore' });
  }
  if (rule.action === 'drop') {
    dropConnection();
  }
  fail(rule.code ?? 1, rule.stderr ?? `${prog}: injected failure`);
}

/** Kill the sshd session process this command runs under: the client sees the connection drop. */
function dropConnection() {
  let pid = process.ppid;
  for (let i = 0; i < 20 && pid > 1; i++) {
    const stat = readText(`/proc/${pid}/stat`);
    const comm = readText(`/proc/${pid}/comm`).trim();
    if (comm.startsWith('sshd')) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone already */ }
      execFileSync('sleep', ['5'], { stdio: 'ignore' });
      return;
    }
    pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
  }
}

/** A lock shared by every host for the cluster state (mkdir is atomic). */
export function withClusterLock(fn) {
  // a lab VM has no shared cluster directory bind-mounted in: its own starts empty
  mkdirSync(CLUSTER, { recursive: true });
  return withLock(`${CLUSTER}/.lock`, 'cluster state', fn);
}

/** fn under a lock directory (mkdir is atomic); a lock older than 10 s is a crashed holder's and is taken over. */
export function withLock(lock, what, fn) {
  const deadline = Date.now() + 30_000;
  mkdirSync(dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (Date.now() > deadline) fail(1, `kblab: ${what} lock timed out`);
      try {
        if (Date.now() - statSync(lock).mtimeMs > 10_000) { rmSync(lock, { recursive: true, force: true }); continue; }
      } catch { continue; }
      execFileSync('sleep', ['0.02']);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/**
 * The shared cluster state. A cluster whose store is a real etcd (sim/etcd.mjs) has only a
 * pointer in state.json ({ etcd: { endpoints, dir } }); its record is read from etcd here. An
 * etcd that does not answer (no quorum, every member gone) leaves that cluster out: to kubectl
 * and kubeadm its API server does not answer.
 */
export function clusterState() {
  const s = readJson(`${CLUSTER}/state.json`, { clusters: {} });
  for (const [endpoint, c] of Object.entries(s.clusters)) {
    if (!c.etcd) continue;
    let record;
    try { record = readRecord(c.etcd.dir, c.etcd.endpoints); } catch { record = undefined; }
    if (!record) { delete s.clusters[endpoint]; continue; }
    s.clusters[endpoint] = { ...record, etcd: c.etcd };
    // what was read, to write back only what changed
    Object.defineProperty(s.clusters[endpoint], READ_AS, { value: JSON.stringify(record), enumerable: false });
  }
  return s;
}

const READ_AS = Symbol('kblab-etcd-read-as');

export function saveClusterState(s) {
  const file = readJson(`${CLUSTER}/state.json`, { clusters: {} });
  const out = { ...s, clusters: {} };
  for (const [endpoint, c] of Object.entries(s.clusters)) {
    if (!c.etcd) { out.clusters[endpoint] = c; continue; }
    const { etcd, ...record } = c;
    if (JSON.stringify(record) !== c[READ_AS]) writeRecord(etcd.dir, etcd.endpoints, record);
    out.clusters[endpoint] = { etcd };
  }
  // an etcd cluster that did not answer when read stays as it was: nobody could have changed it
  for (const [endpoint, c] of Object.entries(file.clusters ?? {})) {
    if (c.etcd && !(endpoint in s.clusters) && !s.removed?.includes(endpoint)) out.clusters[endpoint] = c;
  }
  delete out.removed;
  writeJson(`${CLUSTER}/state.json`, out);
}

/** Host facts the lab driver seeded: cpus, memory, MAC, product_uuid. */
export function hw() {
  const cpus = (readText('/proc/cpuinfo').match(/^processor\s*:/gm) ?? []).length;
  const kib = Number((/^MemTotal:\s+(\d+)/m.exec(readText('/proc/meminfo')) ?? [])[1] ?? 0);
  return { cpus, memMiB: Math.round(kib / 1024) };
}

export function units() {
  if (ON_VM) return systemdUnits();
  return readJson(`${STATE}/units.json`, {});
}

export function saveUnits(u) {
  if (ON_VM) { applyUnits(u); return; }
  writeJson(`${STATE}/units.json`, u);
  writeUnitFlags(u);
}

/** The same state as flat sh-readable files, for the fast paths (sim/fast/systemctl.sh). */
export function writeUnitFlags(u) {
  for (const [name, v] of Object.entries(u)) {
    if (!/^[A-Za-z0-9@._-]+$/.test(name)) continue;
    writeText(`${STATE}/units.d/${name}`, `installed=${v.installed ? 1 : 0} enabled=${v.enabled ? 1 : 0} active=${v.active ? 1 : 0} masked=${v.masked ? 1 : 0}\n`);
  }
}

export function unitName(n) {
  return n.includes('.') ? n : `${n}.service`;
}

/** Parse options of a command line: returns { flags: Map, positional: [] }; known maps flag -> takesValue. */
export function parseArgs(args, known, progForErrors) {
  const flags = new Map();
  const positional = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '--') { positional.push(...args.slice(i + 1)); break; }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(0, eq) : a;
      if (!(name in known)) fail(1, `${progForErrors.unknown(name)}`);
      if (known[name]) {
        const v = eq > 0 ? a.slice(eq + 1) : args[++i];
        if (v === undefined) fail(1, progForErrors.missing(name));
        flags.set(name, [...(flags.get(name) ?? []), v]);
      } else flags.set(name, [...(flags.get(name) ?? []), true]);
    } else if (a.startsWith('-') && a.length > 1) {
      // short flags: -y, -q, -n X, -f X, -o X, -fsSL
      const letters = a.slice(1);
      for (let j = 0; j < letters.length; j++) {
        const name = `-${letters[j]}`;
        if (!(name in known)) fail(1, progForErrors.unknown(name));
        if (known[name]) {
          const rest = letters.slice(j + 1);
          const v = rest || args[++i];
          if (v === undefined) fail(1, progForErrors.missing(name));
          flags.set(name, [...(flags.get(name) ?? []), v]);
          break;
        }
        flags.set(name, [...(flags.get(name) ?? []), true]);
      }
    } else positional.push(a);
  }
  return { flags, positional, has: (f) => flags.has(f), get: (f) => flags.get(f)?.at(-1) };
}
