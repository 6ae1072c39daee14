/**
 * `kbootstrap bundle`: everything the inventory's cluster would download, in one tar file with a
 * manifest. Inside, each apt tree keeps its own layout (InRelease, its signing key, the Packages
 * index, the .debs at their Filename) at the path a packageMirror gives it (src/os/mirrors.ts), so
 * the unpacked bundle served over HTTP is a package mirror for the hosts, signatures and all; images
 * are OCI archives under images/; the CNI manifest under cni/.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import * as tar from 'tar';
import type { Inventory } from '../inventory/model.js';
import type { OsName } from '../inventory/schema.js';
import { pool } from '../run/pool.js';
import { EXIT, KbError } from '../errors.js';
import { bundleNeeds, manifestImages, type AptTree } from './needs.js';
import { RPM_ARCH, type BundleArch } from './arch.js';
import { readTree, resolve, resolveOs, type ReadTree } from './apt.js';
import { debControl } from './deb-control.js';
import { nevra, parseCompsGroup, readRpmTree, resolveRpm, resolveRpmOs, type ReadRpmTree, type RpmTree } from './rpm.js';
import { BundleCache, fetchRetry, sha256File } from './fetch.js';
import { pullImage, writeOciArchive, type PulledImage } from './images.js';
import { BUNDLE_FORMAT, type BundleManifest, type BundleFile } from './manifest.js';

export interface BundleOptions {
  releases: OsName[];
  /** the hosts' architectures: packages and image platforms for each (default amd64) */
  arches: BundleArch[];
  file: string;
  cache: BundleCache;
  concurrency: number;
  /** Authorization header per private registry host (read like `up` reads them) */
  auth: ReadonlyMap<string, string>;
  /**
   * --with-os-packages: the packages the steps install from a Debian-family release's own
   * repositories (and those the bundled packages need from them), with their dependencies, less what
   * every installation has; from the release's signed trees (or the packageMirror's copy)
   */
  withOsPackages?: boolean;
  say(line: string): void;
}

const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/**
 * Safe file name for an image archive: registry.k8s.io/kube-apiserver:v1.30.4 ->
 * registry.k8s.io_kube-apiserver_v1.30.4.oci.tar for amd64, ….arm64.oci.tar for another architecture.
 */
export function imageFileName(ref: string, arch: BundleArch = 'amd64'): string {
  return `images/${ref.replace(/[/:@]/g, '_')}${arch === 'amd64' ? '' : `.${arch}`}.oci.tar`;
}

export async function buildBundle(inv: Inventory, o: BundleOptions): Promise<{ manifest: BundleManifest; size: number }> {
  const needs = bundleNeeds(inv, o.releases, o.arches);
  const c = inv.cluster;
  const out = resolvePath(o.file);
  const work = mkdtempSync(join(dirname(out), `.${basename(out)}.work-`));
  try {
    const files: BundleFile[] = [];
    const place = (path: string, from: string, f: Omit<BundleFile, 'path'>) => {
      const dest = join(work, path);
      mkdirSync(dirname(dest), { recursive: true });
      try { linkSync(from, dest); } catch { copyFileSync(from, dest); }
      files.push({ path, ...f });
    };
    const write = (path: string, body: string | Buffer, origin: string, why: string) => {
      const dest = join(work, path);
      mkdirSync(dirname(dest), { recursive: true });
      writeFileSync(dest, body);
      files.push({ path, sha256: hex(body), size: Buffer.byteLength(body), origin, why });
    };

    // package trees: read once each (per architecture for apt, whose index is per architecture), whichever releases share them
    const aptTrees = new Map<string, Promise<ReadTree>>();
    const rpmTrees = new Map<string, Promise<ReadRpmTree>>();
    const treeOf = (t: AptTree | RpmTree, arch: string): Promise<ReadTree | ReadRpmTree> => {
      if (t.kind === 'rpm') {
        if (!rpmTrees.has(t.id)) rpmTrees.set(t.id, readRpmTree(t, o.cache));
        return rpmTrees.get(t.id)!;
      }
      const k = `${t.id}/${arch}`;
      if (!aptTrees.has(k)) aptTrees.set(k, readTree(t, arch, o.cache));
      return aptTrees.get(k)!;
    };
    const downloads: { url: string; sha256: string; size: number; path: string; why: string }[] = [];
    const want = (d: (typeof downloads)[number]) => { if (!downloads.some((x) => x.path === d.path)) downloads.push(d); };
    const osReleases: BundleManifest['osReleases'] = [];
    for (const r of needs.osReleases) {
      const read = await Promise.all(r.trees.map((t) => treeOf(t, r.arch)));
      const why = (name: string) => r.packages.find((w) => w.name === name)?.why ?? 'a dependency its tree carries';
      let packages: BundleManifest['osReleases'][number]['packages'];
      let fromOs: string[];
      let rpmResolved: ReturnType<typeof resolveRpm> | undefined;
      if (read.every((t): t is ReadRpmTree => t.tree.kind === 'rpm')) {
        const resolved = rpmResolved = resolveRpm(read, r.packages, RPM_ARCH[r.arch]);
        for (const p of resolved.packages) want({ url: `${p.tree.base}/${p.href}`, sha256: p.sha256, size: p.size, path: `${p.tree.path}/${p.href}`, why: `${nevra(p)}: ${why(p.name)}` });
        packages = resolved.packages.map((p) => ({ name: p.name, version: `${p.ver}-${p.rel}`, tree: p.tree.id, file: `${p.tree.path}/${p.href}` }));
        fromOs = [...resolved.fromOs.keys()];
      } else {
        // cri-dockerd's .deb (containerRuntime docker) comes from its release, not a tree: what it depends on is
        // resolved like the rest (Mirantis/cri-dockerd packaging/deb/common/control: containerd.io, iptables, libseccomp2)
        const control = r.criDockerd ? await debControl(await o.cache.get(r.criDockerd.url, r.criDockerd.sha256)) : undefined;
        const cri = control ? [{ name: 'cri-dockerd', depends: [control.get('Pre-Depends'), control.get('Depends')].filter(Boolean).join(', ') }] : [];
        const resolved = resolve(read as ReadTree[], r.packages, cri);
        for (const p of resolved.packages) want({ url: `${p.tree.base}/${p.filename}`, sha256: p.sha256, size: p.size, path: `${p.tree.path}/${p.filename}`, why: `${p.name} ${p.version}: ${why(p.name)}` });
        packages = resolved.packages.map((p) => ({ name: p.name, version: p.version, tree: p.tree.id, file: `${p.tree.path}/${p.filename}` }));
        fromOs = [...resolved.fromOs.keys()];
      }
      const needFromOs = [...new Set([...r.osPackages.map((p) => p.name), ...fromOs])].sort();
      let os: BundleManifest['osReleases'][number]['osPackages'];
      let osTrees: (AptTree | RpmTree)[] = [];
      if (o.withOsPackages && r.osRefusal) throw new KbError(`bundle --with-os-packages: ${r.osRefusal}`, EXIT.usage);
      if (o.withOsPackages && rpmResolved && r.osTrees.length) {
        // an EL release: BaseOS and AppStream, less what @core installs everywhere
        osTrees = r.osTrees;
        const osRead = await Promise.all(osTrees.map((t) => treeOf(t, r.arch))) as ReadRpmTree[];
        const comps = osRead.find((t) => t.comps && parseCompsGroup(t.comps, 'core'));
        if (!comps) throw new KbError(`bundle --with-os-packages: ${r.facts.prettyName}: no comps group core in ${osTrees.map((t) => t.base).join(' or ')}: cannot tell what a minimal installation has`);
        const minimal = parseCompsGroup(comps.comps!, 'core')!;
        const got = resolveRpmOs(osRead, r.osPackages.map((p) => p.name), rpmResolved.fromOsDeps, minimal, rpmResolved.packages, RPM_ARCH[r.arch]);
        const osWhy = (name: string) => r.osPackages.find((w) => w.name === name)?.why ?? `needed by the bundled packages, or by one of its own taken for them`;
        for (const p of got.packages) want({ url: `${p.tree.base}/${p.href}`, sha256: p.sha256, size: p.size, path: `${p.tree.path}/${p.href}`, why: `${nevra(p)} from ${r.facts.prettyName}'s ${p.tree.id}: ${osWhy(p.name)}` });
        os = {
          packages: got.packages.map((p) => ({ name: p.name, version: `${p.ver}-${p.rel}`, tree: p.tree.id, file: `${p.tree.path}/${p.href}` })),
          present: got.present,
          why: `the packages a minimal ${r.facts.prettyName} lacks, with what they require, from its own signed BaseOS and AppStream; not bundled: ${got.present.length} it needs that the comps group core (a Minimal Install) or what core requires provides`,
        };
        fromOs = [...got.missing.keys()];
      } else if (o.withOsPackages && r.osTrees.length) {
        osTrees = r.osTrees;
        const osRead = await Promise.all(osTrees.map((t) => treeOf(t, r.arch))) as ReadTree[];
        const got = resolveOs(osRead, needFromOs);
        const osWhy = (name: string) => r.osPackages.find((w) => w.name === name)?.why ?? (fromOs.includes(name) ? `needed by the bundled ${packages.map((p) => p.name).join(', ')}` : `a dependency in ${r.facts.prettyName}'s own repositories`);
        for (const p of got.packages) want({ url: `${p.tree.base}/${p.filename}`, sha256: p.sha256, size: p.size, path: `${p.tree.path}/${p.filename}`, why: `${p.name} ${p.version} from ${r.facts.prettyName}'s ${p.tree.suite}: ${osWhy(p.name)}` });
        os = {
          packages: got.packages.map((p) => ({ name: p.name, version: p.version, tree: p.tree.id, file: `${p.tree.path}/${p.filename}` })),
          present: got.present,
          why: `the packages a minimal ${r.facts.prettyName} lacks, with their dependencies, from its own signed repositories; not bundled: ${got.present.length} it needs of Priority required, or needed by one (${BASE_NOTE}), unless a relation asks a newer version than the oldest point release may have`,
        };
        fromOs = [...got.missing.keys()];
      } else fromOs = needFromOs;
      osReleases.push({
        os: r.os, osId: r.facts.osId, versionId: r.facts.versionId, codename: r.facts.codename, arch: r.arch,
        trees: [...r.trees, ...osTrees].map((t) => (t.kind === 'rpm'
          ? { kind: 'rpm' as const, id: t.id, base: t.base, suite: '', components: [], path: t.path }
          : { id: t.id, base: t.base, suite: t.suite, components: t.components, path: t.path })),
        packages,
        ...(os ? { osPackages: os } : {}),
        fromOs: fromOs.sort(),
      });
    }
    const written = new Set<string>();
    const once = (path: string, fn: () => void) => { if (!written.has(path)) { written.add(path); fn(); } };
    for (const t of await Promise.all([...aptTrees.values()])) {
      const inRelease = `${t.tree.path}/${t.tree.suite === '/' ? '' : `dists/${t.tree.suite}/`}InRelease`;
      once(inRelease, () => write(inRelease, t.inRelease, t.tree.base, 'the tree\'s signed Release (checked against its key)'));
      once(t.tree.keyPath, () => write(t.tree.keyPath, t.key, t.tree.keyUrl, `the tree's signing key (fingerprint ${t.tree.fingerprints[0]} or one the inventory trusts)`));
      once(`${t.tree.path}/${t.index.path}`, () => place(`${t.tree.path}/${t.index.path}`, o.cache.path(t.index.sha256), { sha256: t.index.sha256, size: t.index.size, origin: `${t.tree.base}/${t.index.path}`, why: 'the tree\'s package index (its sha256 from the signed Release)' }));
    }
    // an rpm repository's repodata as upstream made it: repomd.xml, its signature and every file it lists
    for (const t of await Promise.all([...rpmTrees.values()])) {
      const base = t.tree.path;
      once(`${base}/repodata/repomd.xml`, () => write(`${base}/repodata/repomd.xml`, t.repomd, `${t.tree.base}/repodata/repomd.xml`, 'the repository\'s metadata index (its signature checked against its key)'));
      once(`${base}/repodata/repomd.xml.asc`, () => write(`${base}/repodata/repomd.xml.asc`, t.signature, `${t.tree.base}/repodata/repomd.xml.asc`, 'repomd.xml\'s signature'));
      once(t.tree.keyPath, () => write(t.tree.keyPath, t.key, t.tree.keyUrl, `the repository's signing key (fingerprint ${t.tree.fingerprints[0]} or one the inventory trusts)`));
      for (const d of t.data) want({ url: `${t.tree.base}/${d.href}`, sha256: d.sha256, size: d.size, path: `${base}/${d.href}`, why: `the repository's ${d.type} metadata (its sha256 from the signed repomd.xml)` });
    }

    // containerRuntime docker: cri-dockerd's release file per release, checked against the inventory's sha256
    for (const r of needs.osReleases) {
      const d = r.criDockerd;
      if (d && !downloads.some((x) => x.path === d.path)) downloads.push({ url: d.url, sha256: d.sha256, size: 0, path: d.path, why: d.why });
    }
    let total = downloads.reduce((n, d) => n + d.size, 0);
    o.say(`packages: ${downloads.length} files, ${mb(total)} (${o.releases.join(', ')}; ${o.arches.join(', ')})`);
    let done = 0;
    await pool(downloads, o.concurrency, async (d) => {
      const from = await o.cache.get(d.url, d.sha256, d.size || undefined);
      place(d.path, from, { sha256: d.sha256, size: d.size || statSync(from).size, origin: d.url, why: d.why });
      done += d.size;
      o.say(`  [${Math.round((done / Math.max(total, 1)) * 100)}%] ${basename(d.path)}`);
    });

    // the CNI manifest the cluster applies, and the images it names
    let cniManifest: BundleManifest['cniManifest'];
    const images$ = [...needs.images];
    if (needs.cniManifest) {
      let body: Buffer;
      const n = needs.cniManifest;
      if ('url' in n) {
        const res = await fetchRetry(n.url);
        if (!res.ok) throw new KbError(`bundle: ${n.url}: HTTP ${res.status}`);
        body = Buffer.from(await res.arrayBuffer());
        if (n.sha256 && hex(body) !== n.sha256) throw new KbError(`bundle: ${n.url}: sha256 ${hex(body)}, expected ${n.sha256} (cluster.cni.sha256 or the pinned digest): refused`);
        const path = `cni/${basename(new URL(n.url).pathname)}`;
        write(path, body, n.url, n.why + (n.sha256 ? '' : ' (no sha256 pinned for it: the digest is what was read today)'));
        cniManifest = { file: path, url: n.url, images: [] };
      } else {
        body = readFileSync(n.local);
        cniManifest = { local: n.local, sha256: hex(body), images: [] };
      }
      cniManifest.images = manifestImages(body.toString('utf8'));
      for (const ref of cniManifest.images) if (!images$.some((i) => i.ref === ref)) images$.push({ ref, why: `named by the CNI manifest (${n.why})` });
    }

    // images, for each architecture
    const pulls = o.arches.flatMap((arch) => images$.map((i) => ({ ...i, arch })));
    const pulled = new Map<string, PulledImage>();
    await pool(pulls, o.concurrency, async (i) => {
      const p = await pullImage(i.ref, i.arch, c, o.auth, o.cache);
      pulled.set(`${i.ref} ${i.arch}`, p);
      o.say(`  image ${i.ref} linux/${i.arch} ${p.digest.slice(0, 19)} (${mb(p.blobs.reduce((n, b) => n + b.size, 0))})`);
    });
    const images: BundleManifest['images'] = [];
    for (const i of pulls) {
      const p = pulled.get(`${i.ref} ${i.arch}`)!;
      const path = imageFileName(i.ref, i.arch);
      mkdirSync(join(work, 'images'), { recursive: true });
      await writeOciArchive(p, i.arch, join(work, path), work);
      const size = statSync(join(work, path)).size;
      files.push({ path, sha256: await sha256File(join(work, path)), size, origin: `${p.source} (${i.ref} linux/${i.arch}${p.indexDigest ? `, index ${p.indexDigest}` : ''})`, why: i.why });
      images.push({ ref: i.ref, file: path, digest: p.digest, platform: `linux/${i.arch}` });
      total += size;
    }

    const manifest: BundleManifest = {
      format: BUNDLE_FORMAT, cluster: c.name, arches: [...o.arches], kubernetesVersion: c.kubernetesVersion, containerRuntime: c.containerRuntime,
      cni: c.cni.plugin, osReleases, images, ...(cniManifest ? { cniManifest } : {}),
      files: files.sort((a, b) => a.path.localeCompare(b.path)),
    };
    writeFileSync(join(work, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
    // the tar is written beside the target and renamed: a cut run leaves no half bundle under its name
    const partial = `${out}.partial`;
    await tar.c({ file: partial, cwd: work, portable: true, mtime: new Date(0) }, ['manifest.json', ...manifest.files.map((f) => f.path)]);
    renameSync(partial, out);
    return { manifest, size: statSync(out).size };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Why packages of Priority required and important are left out of a bundle's OS packages. */
const BASE_NOTE = 'Debian Policy 2.5: on every installation, the smallest (debootstrap --variant=minbase) included';

export function mb(n: number): string {
  return n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : `${(n / 1024).toFixed(1)} KiB`;
}
