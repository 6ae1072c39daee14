/**
 * A bundle checked before any host changes: every file the manifest lists is in the archive with
 * its size and sha256, nothing else is, the archive is whole; and it is the bundle of this
 * inventory: its Kubernetes version and runtime, every OS release of its hosts, every image and
 * the CNI manifest the cluster needs. Each refusal names the file (or what is missing) and why.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import * as tar from 'tar';
import type { Inventory } from '../inventory/model.js';
import { assumedFacts } from '../os/index.js';
import { KbError } from '../errors.js';
import { bundleNeeds } from './needs.js';
import type { OsName } from '../inventory/schema.js';
import { BUNDLE_FORMAT, type BundleManifest } from './manifest.js';
import type { BundleArch } from './arch.js';

export class BundleRefused extends KbError {
  constructor(file: string, reason: string) {
    super(`bundle ${file}: ${reason}`);
    this.name = 'BundleRefused';
  }
}

function mustBeFile(file: string): void {
  try {
    if (!statSync(file).isFile()) throw new BundleRefused(file, 'not a file');
  } catch (e) {
    if (e instanceof BundleRefused) throw e;
    throw new BundleRefused(file, `cannot read it: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Read the whole archive once: the manifest and each entry's size and sha256. */
export async function readBundle(file: string): Promise<{ manifest: BundleManifest; entries: Map<string, { size: number; sha256: string }> }> {
  mustBeFile(file);
  const entries = new Map<string, { size: number; sha256: string }>();
  let manifestText: string | undefined;
  const pending: Promise<void>[] = [];
  try {
    await tar.t({
      file, strict: true,
      onReadEntry: (entry) => {
        const path = entry.path.replace(/^\.\//, '');
        const h = createHash('sha256');
        const chunks: Buffer[] = [];
        let size = 0;
        pending.push(new Promise((resolve, reject) => {
          entry.on('data', (b: Buffer) => { h.update(b); size += b.length; if (path === 'manifest.json') chunks.push(b); });
          entry.on('end', () => {
            if (entry.type === 'File') entries.set(path, { size, sha256: h.digest('hex') });
            if (path === 'manifest.json') manifestText = Buffer.concat(chunks).toString('utf8');
            resolve();
          });
          entry.on('error', reject);
        }));
      },
    });
    await Promise.all(pending);
  } catch (e) {
    throw new BundleRefused(file, `the archive is damaged or truncated: ${(e as Error).message}`);
  }
  return { manifest: parseManifest(file, manifestText), entries };
}

function parseManifest(file: string, text: string | undefined): BundleManifest {
  if (text === undefined) throw new BundleRefused(file, 'no manifest.json in it: not a kbootstrap bundle (or cut short)');
  let manifest: BundleManifest;
  try {
    manifest = JSON.parse(text) as BundleManifest;
  } catch (e) {
    throw new BundleRefused(file, `manifest.json is not JSON: ${(e as Error).message}`);
  }
  if (manifest.format !== BUNDLE_FORMAT) throw new BundleRefused(file, `manifest.json says format ${JSON.stringify(manifest.format)}; this kbootstrap reads ${BUNDLE_FORMAT}`);
  return manifest;
}

/** Only manifest.json of a bundle, without hashing the rest (check --bundle: what it leaves to the OS; up --bundle checks the whole). */
export async function readBundleManifest(file: string): Promise<BundleManifest> {
  mustBeFile(file);
  let text: string | undefined;
  const pending: Promise<void>[] = [];
  try {
    await tar.t({
      file, strict: true, filter: (p) => p.replace(/^\.\//, '') === 'manifest.json',
      onReadEntry: (entry) => {
        const chunks: Buffer[] = [];
        pending.push(new Promise((resolve, reject) => {
          entry.on('data', (b: Buffer) => chunks.push(b));
          entry.on('end', () => { text = Buffer.concat(chunks).toString('utf8'); resolve(); });
          entry.on('error', reject);
        }));
      },
    });
    await Promise.all(pending);
  } catch (e) {
    throw new BundleRefused(file, `the archive is damaged or truncated: ${(e as Error).message}`);
  }
  return parseManifest(file, text);
}

/** The archive holds exactly the files its manifest lists, each with its size and sha256. */
export function checkIntegrity(file: string, manifest: BundleManifest, entries: ReadonlyMap<string, { size: number; sha256: string }>): void {
  for (const f of manifest.files) {
    const e = entries.get(f.path);
    if (!e) throw new BundleRefused(file, `${f.path} is missing (the manifest lists it: the bundle is truncated or incomplete)`);
    if (e.size !== f.size) throw new BundleRefused(file, `${f.path} is ${e.size} bytes, the manifest says ${f.size}: the bundle is damaged`);
    if (e.sha256 !== f.sha256) throw new BundleRefused(file, `${f.path} has sha256 ${e.sha256}, the manifest says ${f.sha256}: changed after the bundle was made`);
  }
  const listed = new Set(manifest.files.map((f) => f.path));
  const extra = [...entries.keys()].filter((p) => p !== 'manifest.json' && !listed.has(p));
  if (extra.length) throw new BundleRefused(file, `${extra[0]} is in the archive but not in its manifest${extra.length > 1 ? ` (and ${extra.length - 1} more)` : ''}`);
}

/** The bundle was made for this inventory: version, runtime, the hosts' OS releases, every image and the CNI manifest. */
export function checkMatches(file: string, manifest: BundleManifest, inv: Inventory): void {
  const c = inv.cluster;
  if (manifest.kubernetesVersion !== c.kubernetesVersion) {
    throw new BundleRefused(file, `it is for Kubernetes ${manifest.kubernetesVersion}; the inventory's cluster.kubernetesVersion is ${c.kubernetesVersion}: make a bundle for this inventory (kbootstrap bundle)`);
  }
  if (manifest.containerRuntime !== c.containerRuntime) {
    throw new BundleRefused(file, `it carries the ${manifest.containerRuntime} runtime's packages; the inventory's cluster.containerRuntime is ${c.containerRuntime}`);
  }
  for (const h of inv.hosts) {
    if (!h.os) continue;
    const f = assumedFacts(h.os);
    if (!manifest.osReleases.some((r) => r.osId === f.osId && r.versionId === f.versionId)) {
      throw new BundleRefused(file, `it has no packages for ${f.prettyName} (host ${h.name}, os: ${h.os}); it has ${manifest.osReleases.map((r) => r.os).join(', ') || 'none'}: add the release with bundle --os ${h.os}`);
    }
  }
  // the releases the bundle has (the hosts' are among them, checked above; a host without os: gets its release read at run time)
  const arches = (manifest.arches ?? ['amd64']) as BundleArch[];
  const releases = [...new Set(manifest.osReleases.map((r) => r.os as OsName))];
  const needs = bundleNeeds(inv, releases, arches);
  for (const i of needs.images) {
    for (const a of arches) {
      if (!manifest.images.some((m) => m.ref === i.ref && (m.platform ?? 'linux/amd64') === `linux/${a}`)) throw new BundleRefused(file, `the image ${i.ref}${arches.length > 1 ? ` for linux/${a}` : ''} (${i.why}) is not in it`);
    }
  }
  for (const r of needs.osReleases) {
    const have = manifest.osReleases.find((m) => m.osId === r.facts.osId && m.versionId === r.facts.versionId && (m.arch ?? 'amd64') === r.arch);
    if (!have) throw new BundleRefused(file, `it has no ${r.arch} packages for ${r.os}, though it says it carries ${arches.join(', ')}`);
    for (const p of r.packages) {
      // apt pins the whole version (1.30.4-1.1); yum NAME-VERSION takes any release of that version (1.30.4-150500.1.1)
      if (!have.packages.some((x) => x.name === p.name && (!p.version || x.version === p.version || x.version.startsWith(`${p.version}-`) && r.trees.every((t) => t.kind === 'rpm')))) {
        throw new BundleRefused(file, `the package ${p.name}${p.version ? ` ${p.version}` : ''} for ${r.os} ${r.arch} (${p.why}) is not in it`);
      }
    }
    const d = r.criDockerd;
    if (d) {
      const f = manifest.files.find((x) => x.path === d.path);
      if (!f) throw new BundleRefused(file, `cri-dockerd's ${d.file} for ${r.os} (${d.why}) is not in it`);
      if (f.sha256 !== d.sha256) throw new BundleRefused(file, `its ${d.path} has sha256 ${f.sha256}; cluster.criDockerd.sha256 says ${d.sha256} for ${d.file}`);
    }
  }
  const n = needs.cniManifest;
  if (n) {
    const have = manifest.cniManifest;
    const same = have && ('url' in n ? 'url' in have && have.url === n.url : 'local' in have);
    if (!same) throw new BundleRefused(file, `the CNI manifest ${'url' in n ? n.url : n.local} (${n.why}) is not in it`);
    if ('local' in n && 'sha256' in have && have.sha256 !== sha256Of(n.local)) {
      throw new BundleRefused(file, `its images are those of another ${n.local}: the file changed since the bundle was made (sha256 ${have.sha256}); make the bundle again`);
    }
    for (const ref of have.images) if (!manifest.images.some((i) => i.ref === ref)) throw new BundleRefused(file, `the image ${ref} (named by the CNI manifest) is not in it`);
  }
}

function sha256Of(path: string): string {
  try {
    return createHash('sha256').update(readFileSync(path)).digest('hex');
  } catch {
    return '';
  }
}

/** Everything above, in order: a bundle `up --bundle` may use. */
export async function verifyBundle(file: string, inv: Inventory): Promise<BundleManifest> {
  const { manifest, entries } = await readBundle(file);
  checkIntegrity(file, manifest, entries);
  checkMatches(file, manifest, inv);
  return manifest;
}
