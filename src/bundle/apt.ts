/**
 * apt repositories read the way apt reads them, on the operator's machine: the tree's InRelease
 * checked against its signing key (fetched from the URL the host would fetch it from, accepted only
 * for a fingerprint the inventory trusts, as the repositories step does on a host), the Packages
 * index checked against the SHA256 list of the signed Release, every .deb against the index
 * (https://wiki.debian.org/DebianRepository/Format, "Release files", "Packages Indices"; read
 * 2026-12-07). The dependencies the trees themselves provide are followed; the rest are the OS's.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
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

export async function readTree(tree: AptTree, arch: string, cache: BundleCache): Promise<ReadTree> {
  const key = await text(tree.keyUrl);
  const l = layout(tree, arch);
  const inRelease = await text(l.release);
  const release = paragraphs(await verifyInRelease(inRelease, key, tree.fingerprints, l.release))[0] ?? new Map<string, string>();
  const sums = new Map((release.get('SHA256') ?? '').split('\n').map((s) => s.trim().split(/\s+/)).filter((w) => w.length === 3).map(([h, n, p]) => [p!, { sha256: h!, size: Number(n) }]));
  const pick = ['Packages.gz', 'Packages'].map((f) => `${l.indexDir}${f}`).find((p) => sums.has(p));
  if (!pick) throw new KbError(`bundle: ${l.release}: the signed Release lists no SHA256 for ${l.indexDir}Packages(.gz)`);
  const sum = sums.get(pick)!;
  const file = await cache.get(`${tree.base}/${l.prefix}${pick}`, sum.sha256, sum.size);
  const raw = readFileSync(file);
  const body = (pick.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8');
  const paras = paragraphs(body);
  const archOf = paras.map((p) => p.get('Architecture'));
  const packages = paras.map((p) => ({
    name: p.get('Package') ?? '', version: p.get('Version') ?? '', filename: (p.get('Filename') ?? '').replace(/^\.\//, ''),
    sha256: p.get('SHA256') ?? '', size: Number(p.get('Size') ?? 0),
    depends: [p.get('Pre-Depends'), p.get('Depends')].filter(Boolean).join(', '), tree,
    // a flat repository's one index lists every architecture (pkgs.k8s.io's does): apt takes its own and all
  })).filter((p, i) => p.name && p.version && p.filename && /^[0-9a-f]{64}$/.test(p.sha256) && [arch, 'all', undefined].includes(archOf[i]));
  return { tree, inRelease, key, index: { path: `${l.prefix}${pick}`, ...sum }, packages };
}

export interface Resolved {
  packages: DebPackage[];
  /** dependencies no tree provides: the OS release's own packages (name -> who needs it) */
  fromOs: Map<string, string>;
}

/**
 * The wanted packages (exact version where pinned, else the newest) and, transitively, every
 * dependency one of the trees carries (the newest version that satisfies the relation); an
 * alternative group (a | b) takes its first member a tree has.
 */
export function resolve(trees: readonly ReadTree[], wanted: readonly { name: string; version?: string }[]): Resolved {
  const all = trees.flatMap((t) => t.packages);
  const byName = new Map<string, DebPackage[]>();
  for (const p of all) byName.set(p.name, [...(byName.get(p.name) ?? []), p]);
  const newest = (name: string, ok: (v: string) => boolean) => (byName.get(name) ?? []).filter((p) => ok(p.version)).sort((a, b) => compareDebVersions(b.version, a.version))[0];
  const chosen = new Map<string, DebPackage>();
  const fromOs = new Map<string, string>();
  const queue: DebPackage[] = [];
  for (const w of wanted) {
    const p = newest(w.name, (v) => !w.version || v === w.version);
    if (!p) {
      const have = (byName.get(w.name) ?? []).map((x) => x.version);
      throw new KbError(`bundle: no ${w.name}${w.version ? ` ${w.version}` : ''} in ${trees.map((t) => t.tree.base).join(' or ')}${have.length ? ` (it has ${have.join(', ')})` : ''}`);
    }
    if (!chosen.has(p.name)) { chosen.set(p.name, p); queue.push(p); }
  }
  while (queue.length) {
    const p = queue.shift()!;
    for (const group of p.depends.split(',').map((g) => g.trim()).filter(Boolean)) {
      const alts = group.split('|').map((a) => /^([a-z0-9][a-z0-9+.-]*)(?::\S+)?\s*(?:\(\s*(<<|<=|=|>=|>>)\s*([^)\s]+)\s*\))?/.exec(a.trim())).filter((m): m is RegExpExecArray => !!m);
      if (alts.some((m) => chosen.has(m[1]!))) continue;
      const hit = alts.map((m) => newest(m[1]!, (v) => satisfies(v, m[2], m[3]))).find(Boolean);
      if (hit) { chosen.set(hit.name, hit); queue.push(hit); continue; }
      if (!fromOs.has(alts[0]?.[1] ?? group)) fromOs.set(alts[0]?.[1] ?? group, p.name);
    }
  }
  return { packages: [...chosen.values()], fromOs };
}
