// Simulated package managers: yum/dnf/rpm on RHEL-flavoured hosts,
// apt-get/apt-mark/dpkg-query/dpkg on Debian-flavoured ones. Packages come
// from a small catalog; installing one puts the lab's simulation of its
// programs on the host and registers its systemd units.
import { readdirSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { STATE, fail, readText, writeText, exists, isDir, readJson, writeJson, units, saveUnits, remove } from './lib.mjs';

const SIM_MAIN = new URL('./main.mjs', import.meta.url).pathname;
const DB = `${STATE}/pkgdb.json`;

const FAST = new URL('./fast/', import.meta.url).pathname;

/** Same wrapper as test/lab/lab.ts writes at seed time: sh fast path if any, then Node.js. */
export function wrapper(prog) {
  const fast = `${FAST}${prog}.sh`;
  const body = existsSync(fast) ? (readFileSync(`${FAST}common.sh`, 'utf8') + readFileSync(fast, 'utf8')).replaceAll('@KBLAB_FAST_DIR@', FAST.replace(/\/$/, '')) : '';
  return `#!/bin/sh\n# kblab: simulated ${prog}\n${body}exec /usr/bin/node ${SIM_MAIN} ${prog} "$@"\n`;
}

const KUBE = ['kubelet', 'kubeadm', 'kubectl', 'cri-tools', 'kubernetes-cni'];
const CATALOG = {
  'containerd.io': { repo: 'docker', version: (el) => (el === 7 ? '1.6.33' : '1.7.22'), bins: ['containerd', 'ctr'], units: ['containerd.service'],
    files: { '/etc/containerd/config.toml': '#   Copyright 2018-2022 Docker Inc.\n\ndisabled_plugins = ["cri"]\n\n#root = "/var/lib/containerd"\n#state = "/run/containerd"\n' } },
  'docker-ce': { repo: 'docker', version: () => '27.3.1', bins: ['dockerd'], units: ['docker.service', 'docker.socket'], deps: ['containerd.io', 'docker-ce-cli'] },
  'docker-ce-cli': { repo: 'docker', version: () => '27.3.1', bins: ['docker'] },
  'cri-dockerd': { repo: 'file', version: () => '0.3.16', bins: ['cri-dockerd'], units: ['cri-docker.service', 'cri-docker.socket'] },
  kubelet: { repo: 'kubernetes', bins: ['kubelet'], units: ['kubelet.service'], deps: ['kubernetes-cni'] },
  kubeadm: { repo: 'kubernetes', bins: ['kubeadm'], deps: ['cri-tools'] },
  kubectl: { repo: 'kubernetes', bins: ['kubectl'] },
  'cri-tools': { repo: 'kubernetes', bins: ['crictl'] },
  'kubernetes-cni': { repo: 'kubernetes' },
  ipset: { repo: 'base', version: () => '7.11', bins: ['ipset'] },
  ipvsadm: { repo: 'base', version: () => '1.31', bins: ['ipvsadm'] },
  conntrack: { repo: 'base', version: () => '1.4.7', bins: ['conntrack'] },
  socat: { repo: 'base', version: () => '1.7.4' },
  curl: { repo: 'base', version: () => '7.88.1' },
  'ca-certificates': { repo: 'base', version: () => '20230311' },
};

function el() {
  const m = /VERSION_ID="?(\d+)/.exec(readText('/etc/os-release'));
  return m ? Number(m[1]) : 0;
}

function family() {
  return /ID_LIKE=.*(rhel|fedora|centos)|^ID="?(centos|rocky|almalinux|rhel)/m.test(readText('/etc/os-release')) ? 'rhel' : 'debian';
}

/** Versions a package has in a Kubernetes repo for minor m (patches 0..15). */
function kubeVersions(name, minor) {
  if (name === 'cri-tools') return [`1.${minor}.1`];
  if (name === 'kubernetes-cni') return ['1.4.0'];
  return Array.from({ length: 16 }, (_, p) => `1.${minor}.${p}`);
}

export function db() {
  return readJson(DB, {});
}

function saveDb(d) {
  writeJson(DB, d);
  // flat copies for the sh fast paths (sim/fast/rpm.sh, dpkg-query.sh, apt-mark.sh)
  remove(`${STATE}/pkgs.d`);
  for (const [name, v] of Object.entries(d)) {
    writeText(`${STATE}/pkgs.d/${name}`, v.version);
    if (v.held) writeText(`${STATE}/pkgs.d/${name}.held`, '');
  }
}

/** Put a package's programs, units and files on the host. */
function install(name, version, d) {
  const entry = CATALOG[name];
  d[name] = { ...(d[name] ?? {}), version };
  for (const bin of entry.bins ?? []) {
    writeText(`/usr/bin/${bin}`, wrapper(bin));
    chmodSync(`/usr/bin/${bin}`, 0o755);
  }
  const u = units();
  for (const un of entry.units ?? []) {
    u[un] = { ...(u[un] ?? { enabled: false, active: false }), installed: true };
    // Debian's maintainer scripts enable and start services; RPM scriptlets do not
    if (family() === 'debian' && un.endsWith('.service')) u[un] = { ...u[un], enabled: true, active: true };
  }
  saveUnits(u);
  for (const [path, text] of Object.entries(entry.files ?? {})) if (!exists(path)) writeText(path, text);
  if (family() === 'debian' && (entry.units ?? []).includes('containerd.service')) {
    writeText('/run/containerd/containerd.sock', '');
    writeText(`${STATE}/containerd-cri`, 'off');
  }
}

// ---------------------------------------------------------------- RHEL
function yumRepos() {
  const repos = [];
  if (!isDir('/etc/yum.repos.d')) return repos;
  for (const f of readdirSync('/etc/yum.repos.d')) {
    if (!f.endsWith('.repo')) continue;
    let cur;
    for (const line of readText(`/etc/yum.repos.d/${f}`).split('\n')) {
      const sec = /^\[(.+)\]/.exec(line.trim());
      if (sec) { cur = { id: sec[1], enabled: true, exclude: [] }; repos.push(cur); continue; }
      const kv = /^(\w+)\s*=\s*(.*)$/.exec(line.trim());
      if (!cur || !kv) continue;
      if (kv[1] === 'baseurl') cur.baseurl = kv[2];
      if (kv[1] === 'enabled') cur.enabled = kv[2] === '1';
      if (kv[1] === 'exclude') cur.exclude = kv[2].split(/[\s,]+/).filter(Boolean);
    }
  }
  return repos.filter((r) => r.enabled && r.baseurl);
}

function repoKind(url) {
  if (/docker-ce|download\.docker\.com/.test(url)) return { kind: 'docker' };
  const m = /\/v1\.(\d+)\//.exec(url.endsWith('/') ? url : url + '/');
  if (m && /kubernetes|pkgs\.k8s\.io/.test(url)) return { kind: 'kubernetes', minor: Number(m[1]) };
  return { kind: 'other' };
}

/** Resolve "name" or "name-version" against the enabled repos. */
function resolveRpm(arg, disabledExcludes) {
  const names = Object.keys(CATALOG).sort((a, b) => b.length - a.length);
  let name = names.find((n) => arg === n);
  let version;
  if (!name) {
    name = names.find((n) => arg.startsWith(`${n}-`) && /^\d/.test(arg.slice(n.length + 1)));
    if (name) version = arg.slice(name.length + 1).replace(/-.*$/, '');
  }
  const entry = name && CATALOG[name];
  if (!entry || entry.repo === 'file') return { error: `No match for argument: ${arg}` };
  if (entry.repo === 'base') return { name, version: entry.version(el()) };
  for (const r of yumRepos()) {
    const k = repoKind(r.baseurl);
    if (k.kind !== entry.repo) continue;
    if (r.exclude.includes(name) && !disabledExcludes.includes(r.id) && !disabledExcludes.includes('all')) {
      return { error: `All matches were filtered out by exclude filtering for argument: ${arg}` };
    }
    const available = entry.repo === 'kubernetes' ? kubeVersions(name, k.minor) : [entry.version(el())];
    const v = version ?? available.at(-1);
    if (available.includes(v)) return { name, version: v };
  }
  return { error: `No match for argument: ${arg}` };
}

export function yum(args, prog = 'yum') {
  const verb = args.find((a) => !a.startsWith('-'));
  const opts = args.filter((a) => a.startsWith('-'));
  for (const o of opts) {
    if (!['-y', '-q', '--assumeyes', '--quiet'].includes(o) && !o.startsWith('--disableexcludes=') && !o.startsWith('--setopt=')) {
      fail(2, `usage: ${prog} [options] COMMAND\n${prog}: error: unrecognized arguments: ${o}`);
    }
  }
  const rest = args.filter((a) => !a.startsWith('-')).slice(1);
  const d = db();
  if (verb === 'install') {
    if (!rest.length) fail(1, 'Error: Need to pass a list of pkgs to install');
    const disabled = opts.filter((o) => o.startsWith('--disableexcludes=')).map((o) => o.split('=')[1]);
    const plan = [];
    const errors = [];
    for (const a of rest) {
      if (/^(https?:\/\/|\/).*\.rpm$/.test(a)) {
        const m = /(cri-dockerd)-(\d+\.\d+\.\d+)/.exec(basename(a));
        if (!m) { errors.push(`No match for argument: ${a}`); continue; }
        if (/^https?:/.test(a) && !/github\.com|\/\/[^/]*\//.test(a)) { errors.push(`Curl error (6): Couldn't resolve host name for ${a}`); continue; }
        plan.push({ name: m[1], version: m[2] });
        continue;
      }
      const r = resolveRpm(a, disabled);
      if (r.error) errors.push(r.error); else plan.push(r);
    }
    if (errors.length) fail(1, `${errors.join('\n')}\nError: Unable to find a match: ${rest.join(' ')}`);
    const todo = plan.filter((p) => d[p.name]?.version !== p.version);
    if (!todo.length) return { stdout: `${plan.map((p) => `Package ${p.name}-${p.version} is already installed.`).join('\n')}\nDependencies resolved.\nNothing to do.\nComplete!\n`, code: 0 };
    if (!opts.some((o) => o === '-y' || o === '--assumeyes')) fail(1, 'Is this ok [y/N]: Operation aborted.');
    const deps = todo.flatMap((p) => CATALOG[p.name].deps ?? []).filter((n) => !d[n] && !todo.some((p) => p.name === n));
    for (const n of deps) {
      const r = resolveRpm(n, ['all']);
      if (r.error) fail(1, `Error:\n Problem: conflicting requests\n  - nothing provides ${n} needed by ${todo[0].name}`);
      todo.push(r);
    }
    for (const p of todo) install(p.name, p.version, d);
    saveDb(d);
    return { stdout: `Dependencies resolved.\nInstalled:\n${todo.map((p) => `  ${p.name}-${p.version}`).join('\n')}\n\nComplete!\n`, code: 0 };
  }
  if (verb === 'remove' || verb === 'erase') {
    for (const a of rest) delete d[a];
    saveDb(d);
    return { stdout: 'Complete!\n', code: 0 };
  }
  if (verb === 'makecache' || verb === 'clean' || verb === 'repolist') return { stdout: '', code: 0 };
  fail(1, `No such command: ${verb}. Please use /usr/bin/${prog} --help`);
}

export function rpm(args) {
  const d = db();
  if (args[0] === '-qa') return { stdout: Object.entries(d).map(([n, v]) => `${n}-${v.version}`).join('\n') + '\n', code: 0 };
  if (args[0] !== '-q') fail(1, 'rpm: the lab simulates rpm -q [--qf FORMAT] NAME... and rpm -qa only');
  let fmt = '%{NAME}-%{VERSION}-1.x86_64\\n';
  const names = [];
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '--qf' || args[i] === '--queryformat') fmt = args[++i];
    else if (args[i].startsWith('--qf=')) fmt = args[i].slice(5);
    else if (args[i].startsWith('-')) fail(1, `rpm: ${args[i]}: unknown option`);
    else names.push(args[i]);
  }
  if (!names.length) fail(1, 'rpm: no arguments given for query');
  let out = '';
  let code = 0;
  for (const n of names) {
    if (!d[n]) { out += `package ${n} is not installed\n`; code = 1; continue; }
    out += fmt.replace(/%\{NAME\}/g, n).replace(/%\{VERSION\}/g, d[n].version).replace(/%\{RELEASE\}/g, '150500.1.1').replace(/\\n/g, '\n');
  }
  return { stdout: out, code };
}

// ---------------------------------------------------------------- Debian
const LISTS = `${STATE}/apt-lists.json`;

function aptSources() {
  const out = [];
  const files = [];
  if (exists('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  if (isDir('/etc/apt/sources.list.d')) for (const f of readdirSync('/etc/apt/sources.list.d')) if (f.endsWith('.list')) files.push(`/etc/apt/sources.list.d/${f}`);
  for (const f of files) {
    for (const line of readText(f).split('\n')) {
      const m = /^deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(.*)$/.exec(line.trim());
      if (!m) continue;
      const opts = Object.fromEntries((m[1] ?? '').split(/\s+/).filter(Boolean).map((o) => o.split('=')));
      out.push({ url: m[2], rest: m[3], signedBy: opts['signed-by'], file: f });
    }
  }
  return out;
}

function debVersion(name, v) {
  return CATALOG[name]?.repo === 'kubernetes' ? `${v}-1.1` : `${v}-1`;
}

function aptCandidates(name) {
  const entry = CATALOG[name];
  if (!entry) return [];
  if (entry.repo === 'base') return [debVersion(name, entry.version(0))];
  const lists = readJson(LISTS, []);
  const out = [];
  for (const l of lists) {
    const k = repoKind(l.url);
    if (k.kind !== entry.repo) continue;
    if (entry.repo === 'kubernetes') out.push(...kubeVersions(name, k.minor).map((v) => debVersion(name, v)));
    else out.push(debVersion(name, entry.version(0)));
  }
  return out;
}

export function aptGet(args) {
  const known = new Set(['-y', '-q', '-qq', '--yes', '--assume-yes', '--allow-downgrades', '--allow-change-held-packages', '--no-install-recommends', '--quiet', '-o']);
  const opts = [];
  const rest = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('-')) {
      if (!known.has(a)) fail(100, `E: Command line option '${a.replace(/^-+/, '')}' [from ${a}] is not understood in combination with the other options.`);
      opts.push(a);
      if (a === '-o') i++;
    } else rest.push(a);
  }
  const [verb, ...pkgs] = rest;
  const d = db();
  if (verb === 'update') {
    const ok = [];
    const errs = [];
    for (const s of aptSources()) {
      if (s.signedBy && !exists(s.signedBy)) {
        errs.push(`W: GPG error: ${s.url} InRelease: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY 234654DA9A296436\nE: The repository '${s.url} ${s.rest} InRelease' is not signed.`);
        continue;
      }
      ok.push({ url: s.url });
    }
    writeJson(LISTS, ok);
    if (errs.length) fail(100, errs.join('\n'), 'Reading package lists...\n');
    return { stdout: 'Reading package lists... Done\n', code: 0 };
  }
  if (verb === 'install') {
    const plan = [];
    for (const p of pkgs) {
      if (p.endsWith('.deb')) {
        if (!exists(p)) fail(100, `E: Unsupported file ${p} given on commandline`);
        const m = /(cri-dockerd)_(\d+\.\d+\.\d+)/.exec(readText(p) + basename(p));
        if (!m) fail(100, `E: Unsupported file ${p} given on commandline`);
        plan.push({ name: m[1], version: `${m[2]}.3-0` });
        continue;
      }
      const [name, want] = p.split('=');
      const cands = aptCandidates(name);
      if (!cands.length) fail(100, `Reading package lists...\nE: Unable to locate package ${name}`);
      if (want && !cands.includes(want)) fail(100, `Reading package lists...\nE: Version '${want}' for '${name}' was not found`);
      plan.push({ name, version: want ?? cands.at(-1) });
    }
    const todo = plan.filter((p) => d[p.name]?.version !== p.version);
    if (!todo.length) return { stdout: plan.map((p) => `${p.name} is already the newest version (${p.version}).`).join('\n') + '\n0 upgraded, 0 newly installed, 0 to remove and 0 not upgraded.\n', code: 0 };
    const held = todo.filter((p) => d[p.name]?.held && d[p.name].version !== p.version);
    if (held.length && !opts.includes('--allow-change-held-packages')) {
      fail(100, `The following held packages will be changed:\n  ${held.map((p) => p.name).join(' ')}\nE: Held packages were changed and -y was used without --allow-change-held-packages.`);
    }
    if (todo.some((p) => d[p.name] && d[p.name].version > p.version) && !opts.includes('--allow-downgrades')) {
      fail(100, 'E: Packages were downgraded and -y was used without --allow-downgrades.');
    }
    if (!opts.some((o) => ['-y', '--yes', '--assume-yes'].includes(o))) fail(1, 'Do you want to continue? [Y/n] Abort.');
    const deps = todo.flatMap((p) => CATALOG[p.name]?.deps ?? []).filter((n) => !d[n] && !todo.some((p) => p.name === n));
    for (const n of deps) {
      const c = aptCandidates(n);
      if (!c.length) fail(100, `The following packages have unmet dependencies:\n ${todo[0].name} : Depends: ${n} but it is not installable\nE: Unable to correct problems, you have held broken packages.`);
      todo.push({ name: n, version: c.at(-1) });
    }
    for (const p of todo) install(p.name, p.version, d);
    saveDb(d);
    return { stdout: `Reading package lists... Done\nSetting up ${todo.map((p) => `${p.name} (${p.version})`).join(' ...\nSetting up ')} ...\n`, code: 0 };
  }
  if (verb === 'remove' || verb === 'purge') {
    for (const p of pkgs) delete d[p];
    saveDb(d);
    return { stdout: '', code: 0 };
  }
  fail(100, `E: Invalid operation ${verb}`);
}

export function aptMark(args) {
  const [verb, ...pkgs] = args;
  const d = db();
  if (verb === 'showhold') return { stdout: Object.entries(d).filter(([, v]) => v.held).map(([n]) => n).sort().map((n) => n + '\n').join(''), code: 0 };
  if (verb !== 'hold' && verb !== 'unhold') fail(100, `E: Invalid operation ${verb}`);
  const out = [];
  for (const p of pkgs) {
    if (!d[p]) fail(100, `E: Unable to locate package ${p}`);
    const want = verb === 'hold';
    out.push(d[p].held === want ? `${p} was already ${want ? 'set on hold' : 'not on hold'}.` : `${p} ${want ? 'set on hold' : 'canceled hold'}.`);
    d[p].held = want;
  }
  saveDb(d);
  return { stdout: out.join('\n') + '\n', code: 0 };
}

export function dpkgQuery(args) {
  let fmt = '${binary:Package}\t${Version}\n';
  const names = [];
  let show = false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-W' || a === '--show') show = true;
    else if (a === '-f' || a === '--showformat') fmt = args[++i];
    else if (a.startsWith('-f=') || a.startsWith('--showformat=')) fmt = a.slice(a.indexOf('=') + 1);
    else if (a.startsWith('-')) fail(2, `dpkg-query: error: unknown option ${a}`);
    else names.push(a);
  }
  if (!show) fail(2, 'dpkg-query: the lab simulates dpkg-query -W [-f FORMAT] only');
  const d = db();
  let out = '';
  let err = '';
  for (const n of names) {
    if (!d[n]) { err += `dpkg-query: no packages found matching ${n}\n`; continue; }
    out += fmt.replace(/\$\{(binary:Package|Package)\}/g, n).replace(/\$\{Version\}/g, d[n].version)
      .replace(/\$\{db:Status-Abbrev\}/g, 'ii ').replace(/\$\{Status\}/g, 'install ok installed').replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  }
  return { stdout: out, stderr: err, code: err ? 1 : 0 };
}

export const packageMutates = (prog, args) => {
  if (prog === 'rpm' || prog === 'dpkg-query') return false;
  if (prog === 'apt-mark') return args[0] === 'hold' || args[0] === 'unhold';
  return args.some((a) => ['install', 'remove', 'erase', 'purge', 'update'].includes(a));
};
