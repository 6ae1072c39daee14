/**
 * Programs from Debian's suites (bookworm, trixie, sid) for the tests, without
 * touching this machine's own apt state or installing a mixed-suite package
 * (issue 20 item 8; /work/shared/reference/vm-notes.md "Debian's newer suites").
 *
 * `apt-get download PKG/SUITE` runs against a private apt state (its own
 * sources.list naming this machine's Debian mirror, its own lists and cache),
 * and each .deb is unpacked with `dpkg -x` into a folder under the lab's cache
 * (cacheRoot() of test/lab/vm/image.ts). The `/SUITE` suffix matters: without
 * it a package installed on the machine with a higher epoch picks the version.
 * A fetched set is kept until its `ready` marker is removed (delete the folder
 * to fetch again); the suite's indexes are shared by every set of that suite
 * and serialised with flock(1), so parallel test files do not race on apt's lock.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, debianMirror } from '../lab/vm/image.js';

export type Suite = 'bookworm' | 'trixie' | 'sid';

export interface Unpacked {
  /** the root the packages were unpacked into (dpkg -x): usr/bin/…, usr/lib/… */
  root: string;
  /** package name → the Debian version fetched */
  versions: Record<string, string>;
  /** how long the fetch took (0 when it came from the cache) */
  fetchMs: number;
}

function sh(cmd: string, args: string[], cwd?: string): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

/** Why packages cannot be fetched here (a missing tool), or undefined. */
export function debianFetchUnavailable(): string | undefined {
  for (const [bin, pkg] of [['apt-get', 'apt'], ['dpkg', 'dpkg'], ['flock', 'util-linux']] as const) {
    if (!sh('sh', ['-c', `command -v ${bin}`]).ok) return `${bin} is missing (apt-get install ${pkg})`;
  }
  if (!existsSync('/usr/share/keyrings/debian-archive-keyring.gpg')) return 'no /usr/share/keyrings/debian-archive-keyring.gpg (apt-get install debian-archive-keyring)';
  return undefined;
}

/** The private apt state of a suite: its folder and the apt options that select it. */
function aptState(suite: Suite): { dir: string; opts: string[] } {
  const dir = join(cacheRoot(), 'debian-suites', suite, 'apt');
  for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(dir, d), { recursive: true });
  const sources = join(dir, 'sources.list');
  const line = `deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${debianMirror()} ${suite} main\n`;
  if (!existsSync(sources) || readFileSync(sources, 'utf8') !== line) writeFileSync(sources, line);
  const opts = ['-o', `Dir::Etc::SourceList=${sources}`, '-o', 'Dir::Etc::SourceParts=/dev/null', '-o', `Dir::State::Lists=${join(dir, 'lists')}`,
    '-o', `Dir::Cache=${join(dir, 'cache')}`, '-o', 'APT::Sandbox::User=root', '-o', 'Acquire::Retries=3'];
  return { dir, opts };
}

const INDEX_MAX_AGE_MS = 24 * 3600_000;

/** The suite's private apt state with indexes no older than a day (apt-get update under the suite's lock otherwise). */
function freshIndexes(suite: Suite): { apt: { dir: string; opts: string[] }; lock: string } {
  const apt = aptState(suite);
  const lock = join(apt.dir, 'kb.lock');
  const inRelease = readdirSync(join(apt.dir, 'lists')).find((f) => f.endsWith(`_dists_${suite}_InRelease`));
  if (!inRelease || Date.now() - statSync(join(apt.dir, 'lists', inRelease)).mtimeMs > INDEX_MAX_AGE_MS) {
    const upd = sh('flock', [lock, 'apt-get', ...apt.opts, 'update', '-q']);
    // apt-get update exits 0 on some fetch failures ("W: Failed to fetch"): no Packages file is the failure that matters
    if (!upd.ok || !readdirSync(join(apt.dir, 'lists')).some((f) => f.includes(`_dists_${suite}_main_binary-`))) {
      throw new Error(`apt-get update (${suite}, ${debianMirror()}) failed:\n${upd.out}`);
    }
  }
  return { apt, lock };
}

/**
 * The .deb files themselves of `packages` from `suite`, downloaded into `dir` (for the VM lab's
 * archive: test/lab/vm/image.ts ensureArchiveDebs), with the same private apt state.
 */
export function downloadDebs(suite: Suite, packages: string[], dir: string): void {
  const why = debianFetchUnavailable();
  if (why) throw new Error(why);
  const { apt, lock } = freshIndexes(suite);
  const dl = sh('flock', [lock, 'apt-get', ...apt.opts, 'download', '-q', ...packages.map((p) => `${p}/${suite}`)], dir);
  if (!dl.ok) throw new Error(`apt-get download ${packages.map((p) => `${p}/${suite}`).join(' ')} failed:\n${dl.out}`);
}

/**
 * Fetch (once, cached) `packages` from `suite` and unpack them together into
 * cacheRoot()/debian-suites/<suite>/<name>/root. Throws with apt's own words
 * when the archive cannot be reached or a package is not in the suite.
 */
export function fetchDebianPackages(suite: Suite, name: string, packages: string[]): Unpacked {
  const base = join(cacheRoot(), 'debian-suites', suite, name);
  const ready = join(base, 'ready.json');
  const wanted = [...packages].sort();
  if (existsSync(ready)) {
    const r = JSON.parse(readFileSync(ready, 'utf8')) as { packages: string[]; versions: Record<string, string> };
    if (JSON.stringify(r.packages) === JSON.stringify(wanted)) return { root: join(base, 'root'), versions: r.versions, fetchMs: 0 };
  }
  const why = debianFetchUnavailable();
  if (why) throw new Error(why);
  const t0 = Date.now();
  const { apt, lock } = freshIndexes(suite);
  mkdirSync(base, { recursive: true });
  const tmp = mkdtempSync(join(base, '.fetch-'));
  try {
    const debs = join(tmp, 'debs');
    mkdirSync(debs);
    const dl = sh('flock', [lock, 'apt-get', ...apt.opts, 'download', '-q', ...wanted.map((p) => `${p}/${suite}`)], debs);
    if (!dl.ok) throw new Error(`apt-get download ${wanted.map((p) => `${p}/${suite}`).join(' ')} failed:\n${dl.out}`);
    const versions: Record<string, string> = {};
    for (const deb of readdirSync(debs).filter((f) => f.endsWith('.deb'))) {
      const x = sh('dpkg', ['-x', join(debs, deb), join(tmp, 'root')]);
      if (!x.ok) throw new Error(`dpkg -x ${deb}: ${x.out}`);
      const v = sh('dpkg-deb', ['-f', join(debs, deb), 'Package', 'Version']);
      const pkg = /^Package: (.+)$/m.exec(v.out)?.[1];
      const ver = /^Version: (.+)$/m.exec(v.out)?.[1];
      if (pkg && ver) versions[pkg] = ver;
    }
    for (const p of wanted) if (!versions[p]) throw new Error(`apt-get download gave no ${p} from ${suite}`);
    rmSync(join(base, 'root'), { recursive: true, force: true });
    renameSync(join(tmp, 'root'), join(base, 'root'));
    writeFileSync(ready, JSON.stringify({ suite, packages: wanted, versions, fetched: new Date().toISOString() }, null, 2) + '\n');
    return { root: join(base, 'root'), versions, fetchMs: Date.now() - t0 };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/**
 * What the CI and a developer's machine do when a fetch fails: in CI (CI=true)
 * (CI set, as the CI's runner sets it; the lab and VM tests read it the same way)
 * the test must fail loudly, elsewhere it is skipped with the reason printed.
 * Returns the fetched packages, or the reason to skip.
 */
export function fetchOrSkip(suite: Suite, name: string, packages: string[]): Unpacked | { skip: string } {
  try {
    const u = fetchDebianPackages(suite, name, packages);
    if (u.fetchMs) console.log(`fetched ${Object.entries(u.versions).map(([p, v]) => `${p} ${v}`).join(', ')} from ${suite} in ${(u.fetchMs / 1000).toFixed(1)} s`);
    return u;
  } catch (e) {
    const msg = `cannot fetch ${packages.join(', ')} from Debian ${suite}: ${(e as Error).message}`;
    if (process.env.CI && !/^(false|0)$/i.test(process.env.CI)) throw new Error(`${msg}\n(CI=true: a missing oracle is a failure, not a skip)`, { cause: e });
    console.warn(`SKIPPED: ${msg}`);
    return { skip: msg.split('\n')[0]! };
  }
}

/**
 * Point a binary unpacked under `root` at the glibc unpacked beside it (libc6
 * of the same suite), when it needs a newer glibc than this machine's (sid's
 * runc wants GLIBC_2.38, Debian 12 has 2.36): patchelf sets its interpreter
 * and library path to root/usr/lib/x86_64-linux-gnu, as test/lab/sudo-rs.ts
 * does for sudo-rs. Idempotent; other libraries (libseccomp) are found there
 * first, then in the machine's own directories.
 */
export function relocateOntoSuiteLibc(root: string, binary: string): void {
  const lib = join(root, 'usr/lib/x86_64-linux-gnu');
  const ld = join(lib, 'ld-linux-x86-64.so.2');
  if (!existsSync(ld)) throw new Error(`no ${ld}: fetch libc6 of the suite with the binary`);
  if (sh('patchelf', ['--print-interpreter', binary]).out.trim() === ld) return;
  const pe = sh('patchelf', ['--set-interpreter', ld, '--set-rpath', lib, binary]);
  if (!pe.ok) throw new Error(`patchelf ${binary}: ${pe.out}`);
}
