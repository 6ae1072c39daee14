/**
 * apt repositories read the way apt reads them, on the operator's machine: the tree's InRelease
 * checked against its signing key (fetched from the URL the host would fetch it from, accepted only
 * for a fingerprint the inventory trusts, as the repositories step does on a host), the Packages
 * index checked against the SHA256 list of the signed Release, every .deb against the index
 * (https://wiki.debian.org/DebianRepository/Format, "Release files", "Packages Indices"; read
 * 2026-12-07). The dependencies the trees themselves provide are followed; the rest are the OS's.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { xz } from '@napi-rs/lzma';
import * as openpgp from 'openpgp';
import { KbError } from '../errors.js';
import type { AptTree } from './needs.js';
import { fetchRetry, type BundleCache } from './fetch.js';

export interface DebPackage {
  name: string;
  version: string;
  /** path under the tree's base */
  filename: string;
  sha256: string;
  size: number;
  depends: string;
  /** Priority (required, important, standard, optional, extra): required and important are on every installation */
  priority?: string;
  /** virtual packages it provides (`mail-transport-agent`, `awk`), as the index lists them */
  provides?: string;
  tree: AptTree;
}

/** A tree's metadata as read and checked: the signed InRelease text, the index, the packages in it. */
export interface ReadTree {
  tree: AptTree;
  inRelease: string;
  key: string;
  /** index file path under the tree's base, and its sha256 */
  index: { path: string; sha256: string; size: number };
  packages: DebPackage[];
}

/** deb822 paragraphs (Release, Packages): Field: value, continuation lines start with a space. */
export function paragraphs(text: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const m = new Map<string, string>();
    let last = '';
    for (const line of block.split('\n')) {
      if (!line) continue;
      if (/^[ \t]/.test(line) && last) { m.set(last, `${m.get(last)}\n${line.trim()}`); continue; }
      const i = line.indexOf(':');
      if (i <= 0) continue;
      last = line.slice(0, i);
      m.set(last, line.slice(i + 1).trim());
    }
    if (m.size) out.push(m);
  }
  return out;
}

/**
 * dpkg's version order (deb-version(7), "Sorting algorithm"; read 2026-12-07): epoch numerically,
 * then upstream version and revision compared as alternating non-digit and digit runs, where `~`
 * sorts before everything, even the end, and letters before other characters.
 */
export function compareDebVersions(a: string, b: string): number {
  const split = (v: string) => {
    const c = v.indexOf(':');
    const epoch = c >= 0 ? Number(v.slice(0, c)) : 0;
    const rest = c >= 0 ? v.slice(c + 1) : v;
    const d = rest.lastIndexOf('-');
    return { epoch, upstream: d >= 0 ? rest.slice(0, d) : rest, revision: d >= 0 ? rest.slice(d + 1) : '' };
  };
  const order = (ch: string | undefined) => {
    if (ch === undefined) return 0;
    if (ch === '~') return -1;
    if (/[A-Za-z]/.test(ch)) return ch.charCodeAt(0);
    return ch.charCodeAt(0) + 256;
  };
  const part = (x: string, y: string): number => {
    let i = 0, j = 0;
    while (i < x.length || j < y.length) {
      while ((i < x.length && !/\d/.test(x[i]!)) || (j < y.length && !/\d/.test(y[j]!))) {
        const ox = i < x.length && !/\d/.test(x[i]!) ? order(x[i]) : 0;
        const oy = j < y.length && !/\d/.test(y[j]!) ? order(y[j]) : 0;
        if (ox !== oy) return ox - oy;
        if (i < x.length && !/\d/.test(x[i]!)) i++;
        if (j < y.length && !/\d/.test(y[j]!)) j++;
      }
      let nx = '', ny = '';
      while (i < x.length && /\d/.test(x[i]!)) nx += x[i++];
      while (j < y.length && /\d/.test(y[j]!)) ny += y[j++];
      const dn = Number(nx || '0') - Number(ny || '0');
      if (dn) return dn;
    }
    return 0;
  };
  const va = split(a), vb = split(b);
  return (va.epoch - vb.epoch) || part(va.upstream, vb.upstream) || part(va.revision, vb.revision);
}

function satisfies(version: string, op: string | undefined, want: string | undefined): boolean {
  if (!op || !want) return true;
  const c = compareDebVersions(version, want);
  return { '<<': c < 0, '<=': c <= 0, '=': c === 0, '>=': c >= 0, '>>': c > 0 }[op] ?? false;
}

async function text(url: string): Promise<string> {
  const res = await fetchRetry(url);
  if (!res.ok) throw new KbError(`bundle: ${url}: HTTP ${res.status} ${res.statusText}`);
  return res.text();
}

/** The Release text of a signed InRelease, if a key with one of the fingerprints signed it; else a refusal naming the tree. */
export async function verifyInRelease(inRelease: string, armoredKeys: string, fingerprints: readonly string[], where: string): Promise<string> {
  let keys: openpgp.Key[];
  try {
    keys = await openpgp.readKeys({ armoredKeys });
  } catch (e) {
    throw new KbError(`bundle: ${where}: the signing key is not an OpenPGP key: ${(e as Error).message}`);
  }
  const trusted = keys.filter((k) => fingerprints.includes(k.getFingerprint().toUpperCase()));
  if (!trusted.length) {
    throw new KbError(`bundle: ${where}: the signing key's fingerprint ${keys.map((k) => k.getFingerprint().toUpperCase()).join(', ')} is not one the inventory trusts (the pinned upstream key or cluster.repositoryKeyFingerprints)`);
  }
  try {
    const message = await openpgp.readCleartextMessage({ cleartextMessage: inRelease });
    const r = await openpgp.verify({ message, verificationKeys: trusted, expectSigned: true });
    return r.data as string;
  } catch (e) {
    throw new KbError(`bundle: ${where}: InRelease is not validly signed by the trusted key: ${(e as Error).message}`);
  }
}

/** InRelease's URL and the index's path (relative to the base) for a tree: flat (suite "/") or dists/SUITE/COMPONENT/binary-ARCH. */
function layout(tree: AptTree, arch: string): { release: string; indexDir: string; prefix: string } {
  if (tree.suite === '/') return { release: `${tree.base}/InRelease`, indexDir: '', prefix: '' };
  return { release: `${tree.base}/dists/${tree.suite}/InRelease`, indexDir: `${tree.components[0]}/binary-${arch}/`, prefix: `dists/${tree.suite}/` };
}

/**
 * The tree's signing key as armored text: from the first of its keyring files on this machine
 * that exists (an OS release's archive keyring, binary or armored), else fetched from its URL.
 */
async function treeKey(tree: AptTree): Promise<string> {
  for (const f of tree.keyFiles ?? []) {
    if (!existsSync(f)) continue;
    const raw = readFileSync(f);
    if (raw.subarray(0, 5).toString('latin1') === '-----') return raw.toString('utf8');
    try {
      // checked that it reads, then armored whole: one armor block holds every key (readKeys reads only a first block)
      await openpgp.readKeys({ binaryKeys: raw });
      return openpgp.armor(openpgp.enums.armor.publicKey, raw);
    } catch (e) {
      throw new KbError(`bundle: ${f}: not an OpenPGP keyring: ${(e as Error).message}`);
    }
  }
  return text(tree.keyUrl);
}

export async function readTree(tree: AptTree, arch: string, cache: BundleCache): Promise<ReadTree> {
  const key = await treeKey(tree);
  const l = layout(tree, arch);
  const inRelease = await text(l.release);
  const release = paragraphs(await verifyInRelease(inRelease, key, tree.fingerprints, l.release))[0] ?? new Map<string, string>();
  const sums = new Map((release.get('SHA256') ?? '').split('\n').map((s) => s.trim().split(/\s+/)).filter((w) => w.length === 3).map(([h, n, p]) => [p!, { sha256: h!, size: Number(n) }]));
  const picks = ['Packages.gz', 'Packages.xz', 'Packages'].map((f) => `${l.indexDir}${f}`).filter((p) => sums.has(p));
  if (!picks.length) throw new KbError(`bundle: ${l.release}: the signed Release lists no SHA256 for ${l.indexDir}Packages(.gz, .xz)`);
  // as apt does, the next listed form when a mirror lacks one (a Release lists the plain index's digest too, which few serve)
  let pick = picks[0]!;
  let file: string | undefined;
  for (const [i, p] of picks.entries()) {
    pick = p;
    const sum = sums.get(p)!;
    try {
      file = await cache.get(`${tree.base}/${l.prefix}${p}`, sum.sha256, sum.size);
      break;
    } catch (e) {
      if (i === picks.length - 1 || !/HTTP 404/.test((e as Error).message)) throw e;
    }
  }
  const sum = sums.get(pick)!;
  const raw = readFileSync(file!);
  // Debian's -updates and -security suites publish their index as .xz only (and the plain file's digest in the Release)
  const body = (pick.endsWith('.gz') ? gunzipSync(raw) : pick.endsWith('.xz') ? xz.decompressSync(raw) : raw).toString('utf8');
  return { tree, inRelease, key, index: { path: `${l.prefix}${pick}`, ...sum }, packages: packagesOf(paragraphs(body), tree, arch) };
}

/** The packages of a Packages index this architecture installs (its own and `all`), each with the fields the bundle reads. */
export function packagesOf(paras: Map<string, string>[], tree: AptTree, arch: string): DebPackage[] {
  const archOf = paras.map((p) => p.get('Architecture'));
  return paras.map((p) => ({
    name: p.get('Package') ?? '', version: p.get('Version') ?? '', filename: (p.get('Filename') ?? '').replace(/^\.\//, ''),
    sha256: p.get('SHA256') ?? '', size: Number(p.get('Size') ?? 0),
    depends: [p.get('Pre-Depends'), p.get('Depends')].filter(Boolean).join(', '), tree,
    ...(p.has('Priority') ? { priority: p.get('Priority') } : {}), ...(p.has('Provides') ? { provides: p.get('Provides') } : {}),
    // a flat repository's one index lists every architecture (pkgs.k8s.io's does): apt takes its own and all
  })).filter((p, i) => p.name && p.version && p.filename && /^[0-9a-f]{64}$/.test(p.sha256) && [arch, 'all', undefined].includes(archOf[i]));
}

export interface Resolved {
  packages: DebPackage[];
  /** dependencies no tree provides: the OS release's own packages (name -> who needs it) */
  fromOs: Map<string, string>;
}

/** A relation's alternatives: name, operator and version of each (`a (>= 1) | b`); an architecture qualifier (`python3:any`) is dropped. */
function alternatives(group: string): RegExpExecArray[] {
  return group.split('|').map((a) => /^([a-z0-9][a-z0-9+.-]*)(?::\S+)?\s*(?:\(\s*(<<|<=|=|>=|>>)\s*([^)\s]+)\s*\))?/.exec(a.trim())).filter((m): m is RegExpExecArray => !!m);
}

const PRIORITY_RANK = ['required', 'important', 'standard', 'optional', 'extra'];

/** Packages by name, and by the virtual names they provide, across the trees; the newest that satisfies a relation. */
class Index {
  private byName = new Map<string, DebPackage[]>();
  private providers = new Map<string, { p: DebPackage; version?: string }[]>();
  constructor(trees: readonly { packages: DebPackage[] }[]) {
    for (const t of trees) {
      for (const p of t.packages) {
        this.byName.set(p.name, [...(this.byName.get(p.name) ?? []), p]);
        for (const v of alternatives((p.provides ?? '').replace(/,/g, '|'))) this.providers.set(v[1]!, [...(this.providers.get(v[1]!) ?? []), { p, version: v[2] === '=' ? v[3] : undefined }]);
      }
    }
  }
  versions(name: string): string[] {
    return (this.byName.get(name) ?? []).map((p) => p.version);
  }
  all(): DebPackage[] {
    return [...this.byName.values()].flat();
  }
  /**
   * The newest package of this name whose version satisfies the relation; else (as apt does for a
   * virtual package) the newest that provides it, with a version when the relation asks for one.
   */
  pick(name: string, op?: string, want?: string): DebPackage | undefined {
    const newest = (xs: DebPackage[]) => xs.sort((a, b) => compareDebVersions(b.version, a.version))[0];
    const real = newest((this.byName.get(name) ?? []).filter((p) => satisfies(p.version, op, want)));
    if (real) return real;
    // of several providers, the one of the highest Priority, as apt's resolver prefers (an `awk` is mawk, required, not gawk)
    const providers = (this.providers.get(name) ?? []).filter((x) => (!op || (x.version !== undefined && satisfies(x.version, op, want)))).map((x) => x.p);
    const rank = (p: DebPackage) => PRIORITY_RANK.indexOf(p.priority ?? 'optional');
    const best = Math.min(...providers.map(rank));
    return newest(providers.filter((p) => rank(p) === best));
  }
}

/**
 * From `start`, every dependency one of the trees carries, transitively (the newest version that
 * satisfies the relation); an alternative group (a | b) takes its first member a tree has. A group
 * that `present` already satisfies (a package on every installation) is not followed, unless it asks
 * for a version (`libssl3 (>= 3.0.17)`): a host of an older point release has an older one, so the
 * newest is taken too (apt replaces it only when the installed one does not satisfy the relation).
 */
function closure(index: Index, start: readonly DebPackage[], present: (name: string) => boolean = () => false): Resolved {
  const chosen = new Map<string, DebPackage>();
  const fromOs = new Map<string, string>();
  const queue: DebPackage[] = [];
  for (const p of start) if (!chosen.has(p.name)) { chosen.set(p.name, p); queue.push(p); }
  while (queue.length) {
    const p = queue.shift()!;
    for (const group of p.depends.split(',').map((g) => g.trim()).filter(Boolean)) {
      const alts = alternatives(group);
      if (alts.some((m) => chosen.has(m[1]!))) continue;
      const there = alts.find((m) => present(m[1]!));
      if (there) {
        const newer = there[2] ? index.pick(there[1]!, there[2], there[3]) : undefined;
        if (newer && !chosen.has(newer.name)) { chosen.set(newer.name, newer); queue.push(newer); }
        continue;
      }
      const hit = alts.map((m) => index.pick(m[1]!, m[2], m[3])).find(Boolean);
      if (hit && present(hit.name)) continue;
      if (hit && !chosen.has(hit.name)) { chosen.set(hit.name, hit); queue.push(hit); continue; }
      if (hit) continue;
      if (!fromOs.has(alts[0]?.[1] ?? group)) fromOs.set(alts[0]?.[1] ?? group, p.name);
    }
  }
  return { packages: [...chosen.values()], fromOs };
}

/**
 * The wanted packages (exact version where pinned, else the newest) and, transitively, every
 * dependency one of the trees carries (the newest version that satisfies the relation); an
 * alternative group (a | b) takes its first member a tree has.
 */
export function resolve(trees: readonly ReadTree[], wanted: readonly { name: string; version?: string }[], also: readonly { name: string; depends: string }[] = []): Resolved {
  const index = new Index(trees);
  // packages from elsewhere (cri-dockerd's release file): their dependencies are followed, they are not bundled from a tree
  const outside = also.map((a): DebPackage => ({ name: a.name, version: '', filename: '', sha256: '', size: 0, depends: a.depends, tree: trees[0]!.tree }));
  const start = wanted.map((w) => {
    const p = index.pick(w.name, w.version ? '=' : undefined, w.version);
    if (!p || (p.name !== w.name)) {
      const have = index.versions(w.name);
      throw new KbError(`bundle: no ${w.name}${w.version ? ` ${w.version}` : ''} in ${trees.map((t) => t.tree.base).join(' or ')}${have.length ? ` (it has ${have.join(', ')})` : ''}`);
    }
    return p;
  });
  const r = closure(index, [...start, ...outside]);
  return { ...r, packages: r.packages.filter((p) => !outside.includes(p)) };
}

export interface OsResolved {
  /** what the wanted packages need that a minimal installation lacks, and the newest of what it has that a relation asks a version of: the packages to bundle */
  packages: DebPackage[];
  /** what they need that every installation has (Priority required, or needed by one of those), not bundled */
  present: string[];
  /** wanted packages or dependencies none of the release's repositories carries */
  missing: Map<string, string>;
}

/**
 * An OS release's own packages for hosts without its repositories (bundle --with-os-packages): the
 * wanted packages and their dependency closure in the release's trees, without what every
 * installation of the release has. That is every package of Priority required, and what those depend
 * on: the smallest installation (debootstrap --variant=minbase, Debian's container images) has only
 * those (Debian Policy 2.5, https://www.debian.org/doc/debian-policy/ch-archive.html#priorities, read
 * 2026-12-07). Priority important is not assumed: a minbase Debian 12 lacks nftables, logrotate and
 * readline, which important packages bring, and real apt on such a system failed for want of them
 * (test/bundle.test.ts).
 */
export function resolveOs(trees: readonly ReadTree[], wanted: readonly string[]): OsResolved {
  const index = new Index(trees);
  const newestOf = new Map<string, DebPackage>();
  for (const p of index.all()) {
    const have = newestOf.get(p.name);
    if (!have || compareDebVersions(p.version, have.version) > 0) newestOf.set(p.name, p);
  }
  const base = closure(index, [...newestOf.values()].filter((p) => p.priority === 'required'));
  const inBase = new Set(base.packages.map((p) => p.name));
  const missing = new Map<string, string>();
  const start: DebPackage[] = [];
  const present = new Set<string>();
  for (const w of wanted) {
    if (inBase.has(w)) { present.add(w); continue; }
    const p = index.pick(w);
    if (p) start.push(p); else missing.set(w, 'wanted');
  }
  const r = closure(index, start, (name) => {
    if (!inBase.has(name)) return false;
    present.add(name);
    return true;
  });
  for (const [name, by] of r.fromOs) missing.set(name, by);
  const bundled = new Set(r.packages.map((p) => p.name));
  return { packages: r.packages, present: [...present].filter((n) => !bundled.has(n)).sort(), missing };
}
