// Simulated package managers: yum/dnf/rpm on RHEL-flavoured hosts,
// apt-get/apt-mark/dpkg-query/dpkg on Debian-flavoured ones. Packages come
// from a small catalog; installing one puts the lab's simulation of its
// programs on the host and registers its systemd units.
import { readdirSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { STATE, fail, readText, writeText, exists, isDir, readJson, writeJson, units, saveUnits, remove } from './lib.mjs';
import { ON_VM, dpkgPackages } from './platform.mjs';
import { LAB_NET, fetchPackage, loadRepo, logOutside, offline } from './rpm-repos.mjs';

const SIM_MAIN = new URL('./main.mjs', import.meta.url).pathname;
const DB = `${STATE}/pkgdb.json`;

const FAST = new URL('./fast/', import.meta.url).pathname;

/** Same wrapper as test/lab/lab.ts writes at seed time: bash fast path if any, then Node.js. */
export function wrapper(prog) {
  const fast = `${FAST}${prog}.sh`;
  if (!existsSync(fast)) return `#!/bin/sh\n# kblab: simulated ${prog}\nexec /usr/bin/node ${SIM_MAIN} ${prog} "$@"\n`;
  const body = (readFileSync(`${FAST}common.sh`, 'utf8') + readFileSync(fast, 'utf8')).replaceAll('@KBLAB_FAST_DIR@', FAST.replace(/\/$/, ''));
  return `#!/bin/bash\n# kblab: simulated ${prog}\n${body}exec /usr/bin/node ${SIM_MAIN} ${prog} "$@"\n`;
}

const CATALOG = {
  // containerd.io's RPM requires container-selinux >= 2:2.74, which EL7 has in extras and EL8/9 in appstream
  // (https://docs.docker.com/engine/install/centos/ : "the centos-extras repository must be enabled")
  // containerd.io is frozen at 1.6.33 on EL7 (docker/containerd-packaging#372) and is 2.x elsewhere
  // (no 1.x builds any more: docker/containerd-packaging#407)
  'containerd.io': { repo: 'docker', version: (el) => (el === 7 ? '1.6.33' : '2.1.4'), bins: ['containerd', 'ctr'], units: ['containerd.service'], rhelDeps: ['container-selinux'],
    files: { '/etc/containerd/config.toml': '#   Copyright 2018-2022 Docker Inc.\n\ndisabled_plugins = ["cri"]\n\n#root = "/var/lib/containerd"\n#state = "/run/containerd"\n' } },
  'docker-ce': { repo: 'docker', version: () => '27.3.1', bins: ['dockerd'], units: ['docker.service', 'docker.socket'], deps: ['containerd.io', 'docker-ce-cli'] },
  'docker-ce-cli': { repo: 'docker', version: () => '27.3.1', bins: ['docker'] },
  'cri-dockerd': { repo: 'file', version: () => '0.3.16', bins: ['cri-dockerd'], units: ['cri-docker.service', 'cri-docker.socket'] },
  kubelet: { repo: 'kubernetes', bins: ['kubelet'], units: ['kubelet.service'], deps: ['kubernetes-cni'] },
  kubeadm: { repo: 'kubernetes', bins: ['kubeadm'], deps: ['cri-tools'] },
  kubectl: { repo: 'kubernetes', bins: ['kubectl'] },
  'cri-tools': { repo: 'kubernetes', bins: ['crictl'] },
  'kubernetes-cni': { repo: 'kubernetes' },
  'container-selinux': { repo: 'extras', version: (el) => (el === 7 ? '2.119.2' : '2.229.0') },
  ipset: { repo: 'base', version: () => '7.11', bins: ['ipset'] },
  ipvsadm: { repo: 'base', version: () => '1.31', bins: ['ipvsadm'] },
  conntrack: { repo: 'base', version: () => '1.4.7', bins: ['conntrack'] },
  // Debian 12: nftables 1.0.6-2+deb12u2 (apt-cache policy, 2026-12-07); EL7 ships 0.8
  nftables: { repo: 'base', version: (el) => (el === 7 ? '0.8' : '1.0.6'), bins: ['nft'] },
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
  if (ON_VM) return dpkgPackages();
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
  const entry = CATALOG[name] ?? {};
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
// CentOS 7 runs yum 3 (yum-3.4.3), EL8/9 run dnf 4 behind the yum name. They
// word the same failures differently; each message below is the real one,
// with its source.

function yumVars() {
  // $releasever is the major version on both (yum 3: from centos-release's provides; dnf: from os-release)
  return { releasever: String(el()), basearch: 'x86_64', arch: 'x86_64', infra: 'stock', contentdir: 'pub/rocky', rltype: '' };
}

const subst = (v, vars) => v.replace(/\$(\w+)/g, (m, k) => vars[k] ?? m);

/** Every repository section of /etc/yum.repos.d, enabled or not (--enablerepo may enable one). */
export function allYumRepos() {
  const repos = [];
  if (!isDir('/etc/yum.repos.d')) return repos;
  const vars = yumVars();
  for (const f of readdirSync('/etc/yum.repos.d').sort()) {
    if (!f.endsWith('.repo')) continue;
    let cur;
    for (const line of readText(`/etc/yum.repos.d/${f}`).split('\n')) {
      const sec = /^\[(.+)\]/.exec(line.trim());
      if (sec) { cur = { id: sec[1], name: sec[1], enabled: true, exclude: [], gpgcheck: false, repoGpgcheck: false }; repos.push(cur); continue; }
      const kv = /^(\w+)\s*=\s*(.*)$/.exec(line.trim());
      if (!cur || !kv) continue;
      if (kv[1] === 'name') cur.name = subst(kv[2], vars);
      if (kv[1] === 'baseurl') cur.baseurl = subst(kv[2].trim().split(/[\s,]+/)[0], vars);
      if (kv[1] === 'mirrorlist') cur.mirrorlist = subst(kv[2].trim(), vars);
      if (kv[1] === 'metalink') cur.mirrorlist = subst(kv[2].trim(), vars);
      if (kv[1] === 'enabled') cur.enabled = kv[2].trim() === '1';
      if (kv[1] === 'exclude') cur.exclude = kv[2].split(/[\s,]+/).filter(Boolean);
      if (kv[1] === 'gpgcheck') cur.gpgcheck = kv[2].trim() === '1';
      if (kv[1] === 'repo_gpgcheck') cur.repoGpgcheck = kv[2].trim() === '1';
      if (kv[1] === 'gpgkey') cur.gpgkey = kv[2].trim();
      if (kv[1] === 'skip_if_unavailable') cur.skipIfUnavailable = /^(1|true|yes)$/i.test(kv[2].trim());
    }
  }
  return repos;
}

export const yumRepos = () => allYumRepos().filter((r) => r.enabled && (r.baseurl || r.mirrorlist));

/** dnf's repoid globs (fnmatch: * and ?), as --disablerepo/--enablerepo take them (dnf(8)). */
const globMatch = (glob, id) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(id);

/**
 * Which repository URLs answer today. The lab has no internet: this table is
 * its model of the mirrors kbootstrap may use, and anything not in it fails
 * the way an unresolvable host does.
 * - mirrorlist.centos.org has had no A record since CentOS 7's end of life
 *   (2024-07-01; https://serverfault.com/questions/1161816), and
 *   mirror.centos.org no longer serves centos/7: CentOS 7 lives on only in the
 *   vault (https://vault.centos.org/7.9.2009/) and mirrors' copies of it
 *   (https://mirrors.aliyun.com/centos-vault/7.9.2009/).
 * - pkgs.k8s.io serves one repository per minor under core:/stable:/v1.XX/
 *   (https://kubernetes.io/blog/2023/08/15/pkgs-k8s-io-introduction/); Aliyun
 *   mirrors it as kubernetes-new (https://developer.aliyun.com/mirror/kubernetes).
 */
const ANSWERING = [
  /^https?:\/\/vault\.centos\.org\/7\.9\.2009\/(os|updates|extras|centosplus)\/x86_64\/?$/,
  /^https?:\/\/mirrors\.aliyun\.com\/centos-vault\/7\.9\.2009\/(os|updates|extras|centosplus)\/x86_64\/?$/,
  /^https?:\/\/mirrors\.rockylinux\.org\/mirrorlist\?/, /^https?:\/\/dl\.rockylinux\.org\//,
  /^https?:\/\/download\.docker\.com\/linux\/(centos|rhel)\/\d+\/x86_64\/stable\/?$/,
  /^https?:\/\/mirrors\.aliyun\.com\/docker-ce\/linux\/(centos|rhel)\/\d+\/x86_64\/stable\/?$/,
  /^https?:\/\/pkgs\.k8s\.io\/core:\/stable:\/v1\.\d+\/rpm\/?$/,
  /^https?:\/\/mirrors\.aliyun\.com\/kubernetes-new\/core\/stable\/v1\.\d+\/rpm\/?$/,
];

const hostOf = (url) => (/^[a-z]+:\/\/([^/:?]+)/.exec(url) ?? [])[1] ?? url;

/** undefined when the repository answers, else why not. */
function repoFailure(r, prog = 'yum') {
  const url = r.baseurl ?? r.mirrorlist;
  logOutside(prog, url);
  // an offline host (test/lab/lab.ts setOffline) reaches nothing outside the lab network
  if (!offline() && ANSWERING.some((re) => re.test(url))) return undefined;
  return { host: hostOf(url), via: r.baseurl ? 'baseurl' : 'mirrorlist', url };
}

/**
 * yum 3's text when a repository does not answer: the lines before the
 * advice, the advice itself (yum's yummain.py, as printed by CentOS 7
 * machines in July 2024, e.g. https://github.com/dod-advana/gamechanger-crawlers/pull/236
 * and devopshydclub/vprofile-project#213), and the last line.
 */
function yum3RepoError(r, f) {
  const id = f.via === 'mirrorlist' ? '<repoid>' : r.id;
  const head = f.via === 'mirrorlist'
    ? `Could not retrieve mirrorlist ${f.url} error was\n14: curl#6 - "Could not resolve host: ${f.host}; Unknown error"\n`
    : `${f.url.replace(/\/?$/, '/')}repodata/repomd.xml: [Errno 14] curl#6 - "Could not resolve host: ${f.host}; Unknown error"\nTrying other mirror.\n`;
  const advice = `

 One of the configured repositories failed (${f.via === 'mirrorlist' ? 'Unknown' : r.name}),
 and yum doesn't have enough cached data to continue. At this point the only
 safe thing yum can do is fail. There are a few ways to work "fix" this:

     1. Contact the upstream for the repository and get them to fix the problem.

     2. Reconfigure the baseurl/etc. for the repository, to point to a working
        upstream. This is most often useful if you are using a newer
        distribution release than is supported by the repository (and the
        packages for the previous distribution release still work).

     3. Run the command with the repository temporarily disabled
            yum --disablerepo=${id} ...

     4. Disable the repository permanently, so yum won't use it by default. Yum
        will then just ignore the repository until you permanently enable it
        again or use --enablerepo for temporary usage:

            yum-config-manager --disable ${id}
        or
            subscription-manager repos --disable=${id}

     5. Configure the failing repository to be skipped, if it is unavailable.
        Note that yum will try to contact the repo. when it runs most commands,
        so will have to try and fail each time (and thus. yum will be be much
        slower). If it is a very temporary problem though, this is often a nice
        compromise:

            yum-config-manager --save --setopt=${id}.skip_if_unavailable=true

`;
  const last = f.via === 'mirrorlist'
    ? `Cannot find a valid baseurl for repo: ${r.id}/${yumVars().releasever}/x86_64`
    : `failure: repodata/repomd.xml from ${r.id}: [Errno 256] No more mirrors to try.`;
  return head + advice + last;
}

/** dnf 4's text for a repository that does not answer (libdnf's "Failed to download metadata", as in the dnf issue tracker). */
function dnfRepoError(r, f) {
  return `Errors during downloading metadata for repository '${r.id}':\n  - Curl error (6): Couldn't resolve host name for ${f.via === 'mirrorlist' ? f.url : `${f.url.replace(/\/?$/, '/')}repodata/repomd.xml`} [Could not resolve host: ${f.host}]\nError: Failed to download metadata for repo '${r.id}': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried`;
}

function repoKind(url) {
  if (/docker-ce|download\.docker\.com/.test(url)) return { kind: 'docker' };
  const m = /\/v1\.(\d+)\//.exec(url.endsWith('/') ? url : url + '/');
  if (m && /kubernetes|pkgs\.k8s\.io/.test(url)) return { kind: 'kubernetes', minor: Number(m[1]) };
  return { kind: 'other' };
}

/** The OS's own repositories: EL7's base/updates/extras, EL8/9's baseos/appstream/extras. */
function distroRepoIds(repos) {
  return repos.filter((r) => /centos|rockylinux|rocky|almalinux|redhat/.test(r.baseurl ?? r.mirrorlist ?? '')).map((r) => r.id);
}

const newest = (list) => [...list].sort((a, b) => b.ver.localeCompare(a.ver, undefined, { numeric: true }) || b.rel.localeCompare(a.rel, undefined, { numeric: true }))[0];

/**
 * "name" or "name-version" among the packages of the lab network's repositories (x86_64 or noarch):
 * the newest that matches, unless its repository's exclude= hides it (dnf's exclude applies unless
 * --disableexcludes names the repository or all: dnf.conf(5) "excludepkgs", dnf(8) "--disableexcludes").
 */
function resolveNet(arg, disabledExcludes, netPackages) {
  const ok = (p) => (p.arch === 'x86_64' || p.arch === 'noarch') && !(p.repo.exclude.includes(p.name) && !disabledExcludes.includes(p.repo.id) && !disabledExcludes.includes('all'));
  const hit = newest(netPackages.filter((p) => ok(p) && (p.name === arg || (arg.startsWith(`${p.name}-`) && (arg.slice(p.name.length + 1) === p.ver || arg.slice(p.name.length + 1) === `${p.ver}-${p.rel}`)))));
  return hit ? { name: hit.name, version: hit.ver, net: hit } : undefined;
}

/** Resolve "name" or "name-version" against the enabled repos. */
function resolveRpm(arg, disabledExcludes, repos) {
  const yum3 = el() === 7;
  const names = Object.keys(CATALOG).sort((a, b) => b.length - a.length);
  let name = names.find((n) => arg === n);
  let version;
  if (!name) {
    name = names.find((n) => arg.startsWith(`${n}-`) && /^\d/.test(arg.slice(n.length + 1)));
    if (name) version = arg.slice(name.length + 1).replace(/-.*$/, '');
  }
  // yum 3 prints "No package X available." (cli.py, _checkMaybeYouMeant); dnf "No match for argument: X" (dnf/cli/commands/install.py)
  const missing = yum3 ? `No package ${arg} available.` : `No match for argument: ${arg}`;
  const entry = name && CATALOG[name];
  if (!entry || entry.repo === 'file') return { error: missing };
  const distro = distroRepoIds(repos);
  if (entry.repo === 'base') return distro.length ? { name, version: entry.version(el()) } : { error: missing };
  if (entry.repo === 'extras') {
    // container-selinux: EL7's extras, EL8/9's appstream
    return distro.some((id) => (el() === 7 ? id === 'extras' : id === 'appstream')) ? { name, version: entry.version(el()) } : { error: missing };
  }
  let filtered = false;
  for (const r of repos) {
    const k = repoKind(r.baseurl ?? r.mirrorlist);
    if (k.kind !== entry.repo) continue;
    if (r.exclude.includes(name) && !disabledExcludes.includes(r.id) && !disabledExcludes.includes('all')) { filtered = true; continue; }
    const available = entry.repo === 'kubernetes' ? kubeVersions(name, k.minor) : [entry.version(el())];
    const v = version ?? available.at(-1);
    if (available.includes(v)) return { name, version: v };
  }
  // yum 3 just does not see excluded packages; dnf says so (dnf/base.py, _raise_package_not_found_error)
  if (filtered && !yum3) return { error: `All matches were filtered out by exclude filtering for argument: ${arg}` };
  return { error: missing };
}

export async function yum(args, prog = 'yum') {
  const yum3 = el() === 7;
  const verb = args.find((a) => !a.startsWith('-'));
  const opts = args.filter((a) => a.startsWith('-'));
  for (const o of opts) {
    if (!['-y', '-q', '--assumeyes', '--quiet'].includes(o) && !/^--(disableexcludes|setopt|disablerepo|enablerepo)=/.test(o)) {
      fail(2, `usage: ${prog} [options] COMMAND\n${prog}: error: unrecognized arguments: ${o}`);
    }
  }
  const optValues = (name) => opts.filter((o) => o.startsWith(`--${name}=`)).flatMap((o) => o.slice(name.length + 3).split(','));
  const rest = args.filter((a) => !a.startsWith('-')).slice(1);
  const d = db();
  const needsRepos = ['install', 'makecache', 'update', 'upgrade', 'repolist'].includes(verb);
  // --disablerepo and --enablerepo apply in the order given, each a comma-separated list of ids or globs
  // (dnf(8) "--disablerepo=<repoid>", "--enablerepo=<repoid>"; yum(8) alike)
  const all = allYumRepos();
  const on = new Map(all.map((r) => [r.id, r.enabled]));
  for (const o of opts) {
    const m = /^--(disablerepo|enablerepo)=(.*)$/.exec(o);
    if (!m) continue;
    for (const g of m[2].split(',')) for (const r of all) if (globMatch(g, r.id)) on.set(r.id, m[1] === 'enablerepo');
  }
  const enabled = all.filter((r) => on.get(r.id));
  // an enabled repository with no baseurl, mirrorlist or metalink: nothing to load, and both stop there
  // (libdnf's Repo::Impl "Cannot find a valid baseurl for repo: %s"; yum 3's yumRepo.py, the same words)
  const nowhere = needsRepos ? enabled.find((r) => !r.baseurl && !r.mirrorlist) : undefined;
  if (nowhere) fail(1, `${yum3 ? '' : 'Error: '}Cannot find a valid baseurl for repo: ${nowhere.id}`);
  // a repository on the lab network (the bundle server) is read for real; the rest go by the table above
  const netRepos = enabled.filter((r) => r.baseurl && LAB_NET.test(r.baseurl));
  const repos = enabled.filter((r) => !netRepos.includes(r) && (r.baseurl || r.mirrorlist));
  // skip_if_unavailable: False unless set (dnf.conf(5); rpm-software-management/dnf#1358); --setopt=skip_if_unavailable=True sets it for all
  const skipAll = opts.some((o) => /^--setopt=(\*\.)?skip_if_unavailable=(1|true|yes)$/i.test(o));
  let netPackages = [];
  if (needsRepos) {
    // both load every enabled repository's metadata before doing anything, and stop at the first that fails
    for (const r of repos) {
      const f = repoFailure(r, prog);
      if (f && !(skipAll || r.skipIfUnavailable)) fail(1, yum3 ? yum3RepoError(r, f) : dnfRepoError(r, f), yum3 ? 'Loaded plugins: fastestmirror\n' : '');
    }
    for (const r of netRepos) {
      try {
        netPackages.push(...await loadRepo(r));
      } catch (e) {
        if (!e.repoId || !(skipAll || r.skipIfUnavailable)) fail(1, e.repoId ? e.message : String(e));
      }
    }
  }
  if (verb === 'install') {
    if (!rest.length) fail(1, 'Error: Need to pass a list of pkgs to install');
    const disabled = optValues('disableexcludes');
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
      const n = resolveNet(a, disabled, netPackages);
      if (n) { plan.push(n); continue; }
      const r = resolveRpm(a, disabled, repos);
      if (r.error) errors.push(r.error); else plan.push(r);
    }
    let notes = '';
    if (errors.length) {
      // yum 3 on CentOS 7 installs what it found and skips missing names with exit 0
      // (skip_missing_names_on_install defaults to True, yum.conf(5) of yum-3.4.3-168);
      // only when nothing is left is it an error: "Error: Nothing to do" (yummain.py)
      if (yum3) {
        notes = errors.join('\n') + '\n';
        if (!plan.length) fail(1, 'Error: Nothing to do', `Loaded plugins: fastestmirror\n${notes}`);
      } else fail(1, `${errors.join('\n')}\nError: Unable to find a match: ${rest.join(' ')}`);
    }
    const todo = plan.filter((p) => d[p.name]?.version !== p.version);
    if (!todo.length) {
      // yum 3: "Package X already installed and latest version" (yum/__init__.py); dnf: "Package X is already installed."
      return yum3
        ? { stdout: `Loaded plugins: fastestmirror\n${notes}${plan.map((p) => `Package ${p.name}-${p.version}-150500.1.1.x86_64 already installed and latest version`).join('\n')}\nNothing to do\n`, code: 0 }
        : { stdout: `${plan.map((p) => `Package ${p.name}-${p.version} is already installed.`).join('\n')}\nDependencies resolved.\nNothing to do.\nComplete!\n`, code: 0 };
    }
    if (!opts.some((o) => o === '-y' || o === '--assumeyes')) fail(1, yum3 ? 'Exiting on user command' : 'Operation aborted.', yum3 ? 'Is this ok [y/d/N]: ' : 'Is this ok [y/N]: ');
    // a package from the lab network brings what its primary metadata requires, resolved in those repositories
    // (libsolv's problem text when nothing provides it: "nothing provides R needed by NEVRA", dnf issue tracker)
    for (let i = 0; i < todo.length; i++) {
      const p = todo[i];
      if (!p.net) continue;
      for (const req of p.net.requires) {
        if (req.name.startsWith('rpmlib(') || req.name.startsWith('/')) continue;
        const has = (x) => x.name === req.name || x.net?.provides.some((v) => v.name === req.name);
        if (d[req.name] || todo.some(has)) continue;
        const hit = newest(netPackages.filter((x) => x.name === req.name || x.provides.some((v) => v.name === req.name)));
        if (!hit) fail(1, `Error: \n Problem: cannot install the best candidate for the job\n  - nothing provides ${req.name}${req.ver ? ` ${({ GE: '>=', LE: '<=', EQ: '=', GT: '>', LT: '<' })[req.flags] ?? ''} ${req.ver}` : ''} needed by ${p.name}-${p.net.ver}-${p.net.rel}.${p.net.arch}`, notes);
        todo.push({ name: hit.name, version: hit.ver, net: hit });
      }
    }
    for (const p of todo) {
      if (!p.net) continue;
      const r = await fetchPackage(p.net);
      if (r.error) fail(1, r.error, 'Downloading Packages:\n');
    }
    const deps = todo.filter((p) => !p.net).flatMap((p) => (CATALOG[p.name].deps ?? []).concat(CATALOG[p.name].rhelDeps ?? [])).filter((n) => !d[n] && !todo.some((p) => p.name === n));
    for (const n of deps) {
      const r = resolveRpm(n, ['all'], repos);
      const by = todo.find((p) => [...(CATALOG[p.name].deps ?? []), ...(CATALOG[p.name].rhelDeps ?? [])].includes(n));
      if (r.error) {
        // yum 3's depsolve error (yum/depsolve.py via cli.py) vs dnf's libsolv problem text
        const req = n === 'container-selinux' ? 'container-selinux >= 2:2.74' : n;
        fail(1, yum3
          ? `Error: Package: ${by.name}-${by.version}-3.1.el7.x86_64 (${repos.find((x) => repoKind(x.baseurl ?? x.mirrorlist ?? '').kind === CATALOG[by.name].repo)?.id ?? 'installed'})\n           Requires: ${req}\n You could try using --skip-broken to work around the problem\n You could try running: rpm -Va --nofiles --nodigest`
          : `Error: \n Problem: cannot install the best candidate for the job\n  - nothing provides ${req} needed by ${by.name}-${by.version}-3.1.el${el()}.x86_64`, notes);
      }
      todo.push(r);
    }
    for (const p of todo) install(p.name, p.version, d);
    saveDb(d);
    return yum3
      ? { stdout: `Loaded plugins: fastestmirror\n${notes}Resolving Dependencies\n\nInstalled:\n${todo.map((p) => `  ${p.name}.x86_64 0:${p.version}-150500.1.1`).join('\n')}\n\nComplete!\n`, code: 0 }
      : { stdout: `Dependencies resolved.\nInstalled:\n${todo.map((p) => `  ${p.name}-${p.version}`).join('\n')}\n\nComplete!\n`, code: 0 };
  }
  if (verb === 'remove' || verb === 'erase') {
    for (const a of rest) delete d[a];
    saveDb(d);
    return { stdout: 'Complete!\n', code: 0 };
  }
  if (verb === 'makecache' || verb === 'clean') return { stdout: verb === 'makecache' ? 'Metadata Cache Created\n' : '', code: 0 };
  if (verb === 'repolist') return { stdout: `repo id   repo name\n${repos.map((r) => `${r.id}   ${r.name}`).join('\n')}\n`, code: 0 };
  fail(1, `No such command: ${verb}. Please use /usr/bin/${prog} --help`);
}

export function rpm(args) {
  const d = db();
  if (args[0] === '-qa') return { stdout: Object.entries(d).map(([n, v]) => `${n}-${v.version}`).join('\n') + '\n', code: 0 };
  if (args[0] !== '-q') fail(1, 'rpm: the lab simulates rpm -q [--qf FORMAT] NAME..., rpm -q --whatprovides NAME... and rpm -qa only');
  if (args[1] === '--whatprovides') {
    // by package name only (the lab's packages provide nothing else); rpm names each capability nothing
    // installed provides with "no package provides X", a notice on stdout, and exits 1
    // (rpm-software-management/rpm lib/query.c RPMQV_WHATPROVIDES, rpmio/rpmlog.c; read 2026-12-07)
    const names = args.slice(2);
    if (!names.length || names.some((n) => n.startsWith('-') || n.startsWith('/'))) fail(1, 'rpm: the lab simulates rpm -q --whatprovides NAME... (package names) only');
    const out = names.map((n) => (d[n] ? `${n}-${d[n].version}-1.x86_64` : `no package provides ${n}`)).join('\n') + '\n';
    return { stdout: out, code: names.every((n) => d[n]) ? 0 : 1 };
  }
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
      // A repository is trusted through its signed-by key, or (without signed-by) through the
      // keys apt trusts globally: on a fresh host only the distribution's archive keyring, so
      // a third-party repository without signed-by fails like one whose key file is missing.
      // Text of apt 2.4/2.6 (Ubuntu 22.04, Debian 12), as in kubernetes/release#3480 reports:
      //   W: GPG error: URL  InRelease: ... NO_PUBKEY 234654DA9A296436
      //   E: The repository 'URL  InRelease' is not signed.   (two spaces: a flat repository's suite is "/")
      const distro = /^https?:\/\/(archive|security)\.ubuntu\.com\/|^https?:\/\/deb\.debian\.org\//.test(s.url);
      const keyMissing = s.signedBy ? !exists(s.signedBy) : !distro;
      if (keyMissing) {
        const where = `${s.url}${s.rest.trim() === '/' ? ' ' : ` ${s.rest.trim().split(/\s+/)[0]}`} InRelease`;
        const keyId = /docker\.com|docker-ce/.test(s.url) ? '7EA0A9C3F273FCD8' : '234654DA9A296436';
        errs.push(`W: GPG error: ${where}: The following signatures couldn't be verified because the public key is not available: NO_PUBKEY ${keyId}\nE: The repository '${where}' is not signed.\nN: Updating from such a repository can't be done securely, and is therefore disabled by default.\nN: See apt-secure(8) manpage for repository creation and user configuration details.`);
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
      // apt's own texts (apt-private/private-cacheset.cc: "Unable to locate package %s",
      // "Version '%s' for '%s' was not found"); "Reading package lists..." goes to stdout
      if (!cands.length) fail(100, `E: Unable to locate package ${name}`, 'Reading package lists...\n');
      if (want && !cands.includes(want)) fail(100, `E: Version '${want}' for '${name}' was not found`, 'Reading package lists...\n');
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
  // no names: every package dpkg knows (dpkg-query(1): "If no package-name-pattern is given, all packages
  // are listed"; read 2026-12-07). The lab's packages provide nothing: ${Provides} is empty.
  for (const n of names.length ? names : Object.keys(d)) {
    if (!d[n]) { err += `dpkg-query: no packages found matching ${n}\n`; continue; }
    out += fmt.replace(/\$\{(binary:Package|Package)\}/g, n).replace(/\$\{Version\}/g, d[n].version).replace(/\$\{Provides\}/g, '')
      .replace(/\$\{db:Status-Abbrev\}/g, d[n].held ? 'hi ' : 'ii ').replace(/\$\{Status\}/g, 'install ok installed').replace(/\\n/g, '\n').replace(/\\t/g, '\t');
  }
  return { stdout: out, stderr: err, code: err ? 1 : 0 };
}

export const packageMutates = (prog, args) => {
  if (prog === 'rpm' || prog === 'dpkg-query') return false;
  if (prog === 'apt-mark') return args[0] === 'hold' || args[0] === 'unhold';
  return args.some((a) => ['install', 'remove', 'erase', 'purge', 'update'].includes(a));
};
