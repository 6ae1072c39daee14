/**
 * rpm-md (yum/dnf) repositories read on the operator's machine the way dnf reads them with
 * repo_gpgcheck: repodata/repomd.xml checked against its detached signature repodata/repomd.xml.asc
 * (OpenPGP, the `openpgp` library) made by a key whose fingerprint the inventory trusts, every
 * metadata file repomd.xml lists against the sha256 it gives, every package against the sha256 the
 * primary metadata gives. Formats: createrepo_c's repomd and primary
 * (https://github.com/rpm-software-management/createrepo_c, doc and src/xml_dump_primary.c; and
 * http://yum.baseurl.org/wiki/RepoMetadata; read 2026-12-07). The XML is parsed with
 * fast-xml-parser, zstd-compressed metadata (what createrepo_c 1.0 writes by default) with fzstd.
 *
 * A bundle keeps the repository's repodata as upstream made it, byte for byte (the signature holds
 * and dnf/yum read it as they read the upstream), and only the packages the cluster needs: the
 * metadata lists packages the bundle does not carry, which no host asks for, because the hosts
 * install exactly what the bundle resolved (the pinned Kubernetes packages, the newest runtime and
 * the newest dependency that satisfies each requirement, which is also what dnf picks).
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import * as openpgp from 'openpgp';
import { XMLParser } from 'fast-xml-parser';
import { decompress as unzstd } from 'fzstd';
import { KbError } from '../errors.js';
import { fetchRetry, type BundleCache } from './fetch.js';

/** One yum repository as a host's .repo file names it (its variables expanded), and the key it is checked with. */
export interface RpmTree {
  kind: 'rpm';
  /** stable id: docker-centos-9-x86_64, kubernetes-v1.30-rpm */
  id: string;
  /** the baseurl: where repodata/ lies */
  base: string;
  keyUrl: string;
  fingerprints: string[];
  /** rpm architectures taken from it (x86_64, aarch64); noarch always */
  arches: string[];
  /** where the repository and its key lie in a bundle: the paths a packageMirror gives them */
  path: string;
  keyPath: string;
}

export interface RpmDep { name: string; flags?: string; epoch?: string; ver?: string; rel?: string }

export interface RpmPackage {
  name: string;
  arch: string;
  epoch: string;
  ver: string;
  rel: string;
  /** location href, relative to the base */
  href: string;
  sha256: string;
  size: number;
  provides: RpmDep[];
  requires: RpmDep[];
  files: string[];
  tree: RpmTree;
}

/** A repository's metadata as read and checked. */
export interface ReadRpmTree {
  tree: RpmTree;
  repomd: Buffer;
  signature: string;
  key: string;
  /** every metadata file repomd.xml lists: href (relative to the base), sha256, size */
  data: { type: string; href: string; sha256: string; size: number }[];
  packages: RpmPackage[];
  /** comps.xml (the group metadata), when repomd.xml lists one uncompressed or gzip'd */
  comps?: string;
}

/**
 * rpm's version comparison, rpmvercmp (rpm's rpmio/rpmvercmp.c, read 2026-12-07): the strings are
 * split into runs of digits and of letters, everything else separates; `~` sorts before anything,
 * even the end, `^` after the end but before anything else; a digit run is newer than a letter run;
 * digit runs compare as numbers, letter runs as strings; when one string runs out, the longer wins.
 */
export function rpmvercmp(a: string, b: string): number {
  if (a === b) return 0;
  let i = 0, j = 0;
  const alnum = (c: string | undefined) => c !== undefined && /[A-Za-z0-9]/.test(c);
  while (i < a.length || j < b.length) {
    while (i < a.length && !alnum(a[i]) && a[i] !== '~' && a[i] !== '^') i++;
    while (j < b.length && !alnum(b[j]) && b[j] !== '~' && b[j] !== '^') j++;
    if (a[i] === '~' || b[j] === '~') {
      if (a[i] !== '~') return 1;
      if (b[j] !== '~') return -1;
      i++; j++;
      continue;
    }
    if (a[i] === '^' || b[j] === '^') {
      if (i >= a.length) return -1;
      if (j >= b.length) return 1;
      if (a[i] !== '^') return 1;
      if (b[j] !== '^') return -1;
      i++; j++;
      continue;
    }
    if (i >= a.length || j >= b.length) break;
    const digits = /\d/.test(a[i]!);
    const run = (s: string, k: number) => { let e = k; while (e < s.length && (digits ? /\d/.test(s[e]!) : /[A-Za-z]/.test(s[e]!))) e++; return e; };
    const ei = run(a, i), ej = run(b, j);
    const x = a.slice(i, ei), y = b.slice(j, ej);
    // b's run is of the other kind: a digit run is newer
    if (!y) return digits ? 1 : -1;
    if (digits) {
      const xs = x.replace(/^0+/, ''), ys = y.replace(/^0+/, '');
      if (xs.length !== ys.length) return xs.length > ys.length ? 1 : -1;
      if (xs !== ys) return xs > ys ? 1 : -1;
    } else if (x !== y) return x > y ? 1 : -1;
    i = ei; j = ej;
  }
  if (i >= a.length && j >= b.length) return 0;
  return i >= a.length ? -1 : 1;
}

/** epoch:version-release order; a release missing on either side is not compared (rpm's rpmdsCompare for requirements). */
export function compareEvr(a: { epoch?: string; ver?: string; rel?: string }, b: { epoch?: string; ver?: string; rel?: string }): number {
  const e = Number(a.epoch || 0) - Number(b.epoch || 0);
  if (e) return e;
  const v = rpmvercmp(a.ver ?? '', b.ver ?? '');
  if (v || !a.rel || !b.rel) return v;
  return rpmvercmp(a.rel, b.rel);
}

/** Whether a package's provide (or the package itself) satisfies a requirement's version relation. */
function satisfies(have: RpmDep, want: RpmDep): boolean {
  if (!want.flags || !want.ver) return true;
  // an unversioned provide satisfies any versioned requirement (rpm's rule)
  if (!have.ver) return true;
  const c = compareEvr(have, want);
  return ({ EQ: c === 0, LT: c < 0, LE: c <= 0, GT: c > 0, GE: c >= 0 } as Record<string, boolean>)[want.flags] ?? false;
}

const ARRAYS = new Set(['data', 'package', 'rpm:entry', 'file']);
const parser = new XMLParser({
  ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, parseAttributeValue: false,
  isArray: (name) => ARRAYS.has(name),
});

type Xml = Record<string, unknown>;
const str = (v: unknown): string => (typeof v === 'string' ? v : v && typeof v === 'object' && '#text' in v ? String((v as Xml)['#text']) : '');

async function get(url: string): Promise<Response> {
  const res = await fetchRetry(url);
  if (!res.ok) throw new KbError(`bundle: ${url}: HTTP ${res.status} ${res.statusText}`);
  return res;
}

/** repomd.xml's bytes, if a key with one of the fingerprints made the detached signature; else a refusal naming the repository. */
export async function verifyRepomd(repomd: Buffer, armoredSignature: string, armoredKeys: string, fingerprints: readonly string[], tree: { id: string; base: string }): Promise<void> {
  const where = `the repository ${tree.id} (${tree.base})`;
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
    const signature = await openpgp.readSignature({ armoredSignature });
    const message = await openpgp.createMessage({ binary: new Uint8Array(repomd) });
    const r = await openpgp.verify({ message, signature, verificationKeys: trusted, expectSigned: true });
    void r;
  } catch (e) {
    throw new KbError(`bundle: ${where}: repodata/repomd.xml does not match its signature repomd.xml.asc by the trusted key: ${(e as Error).message}`);
  }
}

/** The metadata files repomd.xml lists, each with the sha256 it gives. */
export function parseRepomd(xml: string, where: string): ReadRpmTree['data'] {
  const doc = parser.parse(xml) as { repomd?: { data?: Xml[] } };
  const out: ReadRpmTree['data'] = [];
  for (const d of doc.repomd?.data ?? []) {
    const checksum = d.checksum as Xml | undefined;
    const type = String(d.type ?? '');
    const href = String((d.location as Xml | undefined)?.href ?? '');
    if ((d.location as Xml | undefined)?.['xml:base']) throw new KbError(`bundle: ${where}: its ${type} metadata names another server (xml:base): hosts would fetch from there, not from the bundle`);
    if (String(checksum?.type) !== 'sha256') throw new KbError(`bundle: ${where}: the ${type} metadata's checksum is ${String(checksum?.type)}, not sha256`);
    out.push({ type, href, sha256: str(checksum).trim(), size: Number(str(d.size) || 0) });
  }
  if (!out.some((d) => d.type === 'primary')) throw new KbError(`bundle: ${where}: repomd.xml lists no primary metadata`);
  return out;
}

function decompress(raw: Buffer, href: string, where: string): string {
  if (href.endsWith('.gz')) return gunzipSync(raw).toString('utf8');
  if (href.endsWith('.zst')) return Buffer.from(unzstd(new Uint8Array(raw))).toString('utf8');
  if (href.endsWith('.xml')) return raw.toString('utf8');
  throw new KbError(`bundle: ${where}: ${href}: compression not read (gzip, zstd or none)`);
}

const deps = (v: unknown): RpmDep[] => (((v as Xml | undefined)?.['rpm:entry'] as Xml[] | undefined) ?? []).map((e) => ({
  name: String(e.name), ...(e.flags ? { flags: String(e.flags) } : {}), ...(e.epoch ? { epoch: String(e.epoch) } : {}),
  ...(e.ver ? { ver: String(e.ver) } : {}), ...(e.rel ? { rel: String(e.rel) } : {}),
}));

/** The packages of a primary.xml for the tree's architectures (and noarch). */
export function parsePrimary(xml: string, tree: RpmTree, where: string): RpmPackage[] {
  const doc = parser.parse(xml) as { metadata?: { package?: Xml[] } };
  const out: RpmPackage[] = [];
  for (const p of doc.metadata?.package ?? []) {
    const arch = str(p.arch);
    if (arch !== 'noarch' && !tree.arches.includes(arch)) continue;
    const v = (p.version ?? {}) as Xml;
    const checksum = p.checksum as Xml | undefined;
    const location = (p.location ?? {}) as Xml;
    if (location['xml:base']) throw new KbError(`bundle: ${where}: ${str(p.name)} lies on another server (xml:base ${String(location['xml:base'])}): hosts would fetch it from there, not from the bundle`);
    if (String(checksum?.type) !== 'sha256') throw new KbError(`bundle: ${where}: ${str(p.name)}'s checksum is ${String(checksum?.type)}, not sha256`);
    const format = (p.format ?? {}) as Xml;
    out.push({
      name: str(p.name), arch, epoch: String(v.epoch ?? '0'), ver: String(v.ver ?? ''), rel: String(v.rel ?? ''),
      href: String(location.href ?? ''), sha256: str(checksum).trim(), size: Number((p.size as Xml | undefined)?.package ?? 0),
      provides: deps(format['rpm:provides']), requires: deps(format['rpm:requires']),
      files: ((format.file as unknown[] | undefined) ?? []).map(str), tree,
    });
  }
  return out;
}

export async function readRpmTree(tree: RpmTree, cache: BundleCache): Promise<ReadRpmTree> {
  const key = await (await get(tree.keyUrl)).text();
  const repomd = Buffer.from(await (await get(`${tree.base}/repodata/repomd.xml`)).arrayBuffer());
  const signature = await (await get(`${tree.base}/repodata/repomd.xml.asc`)).text();
  await verifyRepomd(repomd, signature, key, tree.fingerprints, tree);
  const where = `${tree.base}/repodata/repomd.xml`;
  const data = parseRepomd(repomd.toString('utf8'), where);
  const primary = data.find((d) => d.type === 'primary')!;
  const file = await cache.get(`${tree.base}/${primary.href}`, primary.sha256, primary.size || undefined);
  const packages = parsePrimary(decompress(readFileSync(file), primary.href, where), tree, where);
  // the group metadata (comps) as createrepo_c --groupfile lists it: type group, or group_gz
  const group = data.find((d) => d.type === 'group') ?? data.find((d) => d.type === 'group_gz');
  const comps = group ? decompress(readFileSync(await cache.get(`${tree.base}/${group.href}`, group.sha256, group.size || undefined)), group.href, where) : undefined;
  return { tree, repomd, signature, key, data, packages, ...(comps ? { comps } : {}) };
}

export const nevra = (p: RpmPackage) => `${p.name}-${p.epoch !== '0' ? `${p.epoch}:` : ''}${p.ver}-${p.rel}.${p.arch}`;

export interface ResolvedRpm {
  packages: RpmPackage[];
  /** requirements no repository of the bundle provides: the OS release's own packages (what -> who needs it) */
  fromOs: Map<string, string>;
  /** the same requirements as relations, for resolving them in the release's own repositories */
  fromOsDeps: RpmDep[];
}

/** Whether a package satisfies a requirement: by its name, one of its provides, or a file it lists (rpm's rules). */
export function providesDep(p: RpmPackage, d: RpmDep): boolean {
  if (d.name.startsWith('/')) return p.files.includes(d.name);
  if (p.name === d.name && satisfies({ name: p.name, epoch: p.epoch, ver: p.ver, rel: p.rel }, d)) return true;
  return p.provides.some((x) => x.name === d.name && satisfies(x, d));
}

const relation = (d: RpmDep) => (d.flags && d.ver ? `${d.name} ${({ EQ: '=', LT: '<', LE: '<=', GT: '>', GE: '>=' } as Record<string, string>)[d.flags] ?? d.flags} ${d.epoch && d.epoch !== '0' ? `${d.epoch}:` : ''}${d.ver}` : d.name);

/** The names a rich dependency ("(a >= 1 if b)", rpm 4.13) mentions. */
function richNames(expr: string): string[] {
  return expr.replace(/[()]/g, ' ').split(/\s+/).filter((w) => w && !/^(and|or|if|else|with|without|unless)$/.test(w) && !/^[<>=]+$/.test(w) && !/^[\d:]/.test(w));
}

/**
 * The wanted packages (a pinned version: the newest release of it; else the newest) for each
 * architecture, and transitively every requirement a repository of the bundle provides (by a
 * package's name, its provides or a file it lists), the newest package that satisfies it, of the
 * same architecture or noarch. `rpmlib(...)` requirements are rpm's own; what no repository provides
 * is the OS release's (listed). A rich dependency takes every package it names that a repository has.
 */
export function resolveRpm(trees: readonly ReadRpmTree[], wanted: readonly { name: string; version?: string }[], arch: string): ResolvedRpm {
  const all = trees.flatMap((t) => t.packages).filter((p) => p.arch === arch || p.arch === 'noarch');
  const newestFirst = (a: RpmPackage, b: RpmPackage) => compareEvr(b, a) || (a.arch === arch ? -1 : 1);
  const provides = providesDep;
  const fromOsDeps: RpmDep[] = [];
  const chosen = new Map<string, RpmPackage>();
  const fromOs = new Map<string, string>();
  const queue: RpmPackage[] = [];
  const take = (p: RpmPackage) => { if (!chosen.has(`${p.name}.${p.arch}`)) { chosen.set(`${p.name}.${p.arch}`, p); queue.push(p); } };
  for (const w of wanted) {
    const p = all.filter((x) => x.name === w.name && (!w.version || x.ver === w.version)).sort(newestFirst)[0];
    if (!p) {
      const have = [...new Set(all.filter((x) => x.name === w.name).map((x) => x.ver))];
      throw new KbError(`bundle: no ${w.name}${w.version ? ` ${w.version}` : ''} for ${arch} in ${trees.map((t) => t.tree.base).join(' or ')}${have.length ? ` (it has ${have.join(', ')})` : ''}`);
    }
    take(p);
  }
  while (queue.length) {
    const p = queue.shift()!;
    for (const d of p.requires) {
      if (d.name.startsWith('rpmlib(')) continue;
      if (d.name.startsWith('(')) {
        for (const n of richNames(d.name)) {
          const hit = all.filter((x) => provides(x, { name: n })).sort(newestFirst)[0];
          if (hit) take(hit);
        }
        continue;
      }
      if ([...chosen.values()].some((x) => provides(x, d))) continue;
      const hit = all.filter((x) => provides(x, d)).sort(newestFirst)[0];
      if (hit) { take(hit); continue; }
      const what = relation(d);
      if (!fromOs.has(what)) { fromOs.set(what, p.name); fromOsDeps.push(d); }
    }
  }
  return { packages: [...chosen.values()], fromOs, fromOsDeps };
}

/**
 * The packages of a comps group that an installation of it gets: its packagereq entries of type
 * mandatory and default (optional ones only when asked, conditional ones only with another package).
 * Format: comps.xml (https://pagure.io/fedora-comps, README "packagereq type"; dnf's comps handling,
 * libcomps; read 2026-12-07).
 */
export function parseCompsGroup(xml: string, id: string): string[] | undefined {
  const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseTagValue: false, isArray: (n) => n === 'group' || n === 'packagereq' })
    .parse(xml) as { comps?: { group?: Xml[] } };
  const g = (doc.comps?.group ?? []).find((x) => str(x.id) === id);
  if (!g) return undefined;
  const reqs = (((g.packagelist as Xml | undefined)?.packagereq as Xml[] | undefined) ?? []);
  return reqs.filter((r) => ['mandatory', 'default', undefined].includes((r.type as string | undefined))).map(str).filter(Boolean);
}

export interface ResolvedOsRpm {
  packages: RpmPackage[];
  /** what the steps or the bundled packages need that a minimal installation has (not bundled) */
  present: string[];
  /** relations neither the release's repositories nor a minimal installation satisfy */
  missing: Map<string, string>;
}

/**
 * What the steps install from a release's own repositories (`names`) and what the bundled packages
 * require of them (`deps`), for one architecture: the newest package of BaseOS/AppStream that
 * satisfies each, and transitively what those require, except what a minimal installation has.
 * "Minimal" is the comps group core (@core: what the Minimal Install environment, minimal-environment,
 * installs on every Rocky/Alma 9) with everything its packages require: a relation one of them
 * satisfies is not bundled. Requirements the bundled Docker/Kubernetes packages satisfy are not either.
 */
export function resolveRpmOs(trees: readonly ReadRpmTree[], names: readonly string[], deps: readonly RpmDep[], minimal: readonly string[], bundled: readonly RpmPackage[], arch: string): ResolvedOsRpm {
  const all = trees.flatMap((t) => t.packages).filter((p) => p.arch === arch || p.arch === 'noarch');
  const newestFirst = (a: RpmPackage, b: RpmPackage) => compareEvr(b, a) || (a.arch === arch ? -1 : 1);
  const best = (d: RpmDep) => all.filter((x) => providesDep(x, d)).sort(newestFirst)[0];
  // a minimal installation: @core and its closure in the release's repositories
  const present = new Map<string, RpmPackage>();
  const stack = minimal.map((n) => best({ name: n })).filter((p): p is RpmPackage => !!p);
  while (stack.length) {
    const p = stack.pop()!;
    if (present.has(p.name)) continue;
    present.set(p.name, p);
    for (const d of p.requires) {
      if (d.name.startsWith('rpmlib(') || d.name.startsWith('(')) continue;
      if ([...present.values()].some((x) => providesDep(x, d))) continue;
      const hit = best(d);
      if (hit) stack.push(hit);
    }
  }
  const chosen = new Map<string, RpmPackage>();
  const presentNeeded = new Set<string>();
  const missing = new Map<string, string>();
  const queue: RpmPackage[] = [];
  const need = (d: RpmDep, by: string) => {
    if (d.name.startsWith('rpmlib(') || d.name.startsWith('(')) return;
    if (bundled.some((x) => providesDep(x, d)) || [...chosen.values()].some((x) => providesDep(x, d))) return;
    const have = [...present.values()].find((x) => providesDep(x, d));
    if (have) { presentNeeded.add(have.name); return; }
    const hit = best(d);
    if (!hit) { if (!missing.has(relation(d))) missing.set(relation(d), by); return; }
    chosen.set(`${hit.name}.${hit.arch}`, hit);
    queue.push(hit);
  };
  for (const n of names) need({ name: n }, 'the steps');
  for (const d of deps) need(d, 'the bundled packages');
  while (queue.length) {
    const p = queue.shift()!;
    for (const d of p.requires) need(d, p.name);
  }
  return { packages: [...chosen.values()], present: [...presentNeeded].sort(), missing };
}
