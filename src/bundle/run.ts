/** A checked bundle as `up --bundle` serves it (src/steps/bundle.ts): its digest, and each image archive's. */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import * as tar from 'tar';
import type { BundleRun, Inventory } from '../inventory/model.js';
import { bundleServerHost } from '../inventory/model.js';
import { bundleServerUrl, clusterFromBundle } from '../os/mirrors.js';
import { KbError } from '../errors.js';
import { canonicalRef, controlPlaneOnlyImage } from '../steps/bundle.js';
import type { BundleManifest } from './manifest.js';
import { parseImageRef } from './images.js';
import { verifyBundle } from './verify.js';
import { CRI_DOCKERD_DIR } from './needs.js';
import { bundleOsRelease } from '../os/debian-trees.js';

/**
 * containerRuntime docker: the manifest.json `docker load` reads for each image archive of the bundle.
 * The bundle's archives are OCI image layouts (index.json), which ctr imports; docker's own image
 * store loads only archives with a manifest.json listing the config, the layers (compressed ones
 * are decompressed) and the tags (moby image/tarexport/load.go, read 2026-12-07:
 * https://github.com/moby/moby/blob/master/image/tarexport/load.go). That file is made here from each
 * archive's index and manifest and added on the host after the archive's sha256 is checked, as
 * `docker save` since Docker 25 writes both into one archive.
 */
async function dockerLoadManifests(file: string, refs: ReadonlyMap<string, string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const pending: Promise<void>[] = [];
  await tar.t({
    file,
    onReadEntry: (entry) => {
      const path = entry.path.replace(/^\.\//, '');
      const ref = refs.get(path);
      if (!ref) { entry.resume(); return; }
      pending.push(new Promise((resolve, reject) => {
        // the index and the manifest are small; layers are only counted past
        const small = new Map<string, Buffer>();
        const inner = new tar.Parser({
          onReadEntry: (e) => {
            const chunks: Buffer[] = [];
            let n = 0;
            e.on('data', (b: Buffer) => { n += b.length; if (n <= SMALL) chunks.push(b); });
            e.on('end', () => { if (n <= SMALL) small.set(e.path.replace(/^\.\//, ''), Buffer.concat(chunks)); });
          },
        });
        inner.on('end', () => {
          try { out.set(path, dockerManifestOf(small, ref, path)); resolve(); } catch (err) { reject(err as Error); }
        });
        inner.on('error', reject);
        entry.pipe(inner);
      }));
    },
  });
  await Promise.all(pending);
  for (const [path, ref] of refs) if (!out.has(path)) throw new KbError(`bundle ${file}: ${path} (${ref}) is not in it`);
  return out;
}

const SMALL = 1 << 20;

function dockerManifestOf(files: ReadonlyMap<string, Buffer>, ref: string, where: string): string {
  const json = (p: string): unknown => {
    const b = files.get(p);
    if (!b) throw new KbError(`bundle: ${where} has no ${p}`);
    return JSON.parse(b.toString('utf8'));
  };
  const index = json('index.json') as { manifests?: { digest: string }[] };
  const top = index.manifests?.[0];
  if (!top) throw new KbError(`bundle: ${where}: index.json names no manifest`);
  const m = json(`blobs/sha256/${top.digest.replace(/^sha256:/, '')}`) as { config?: { digest: string }; layers?: { digest: string }[]; manifests?: unknown[] };
  if (!m.config || !m.layers) throw new KbError(`bundle: ${where}: its manifest is not one image's (a manifest list?): docker load needs one platform's`);
  const blob = (d: string) => `blobs/sha256/${d.replace(/^sha256:/, '')}`;
  // docker tags only name:tag references (a digest reference would load unnamed)
  const tagged = /:[^/@]+$/.test(ref.split('@')[0]!) && !ref.includes('@');
  return JSON.stringify([{ Config: blob(m.config.digest), RepoTags: tagged ? [ref] : [], Layers: m.layers.map((l) => blob(l.digest)) }]);
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/**
 * With `registryAuth` (a real run, not a dry run, which connects to nothing), an image that a
 * private registry standing in for its registry already holds with the bundle's digest (pushed
 * with bundle --push) is left out of the imports: the hosts pull it from there through hosts.toml.
 */
export async function bundleRun(file: string, manifest: BundleManifest, inv: Inventory, opts: { registryAuth?: ReadonlyMap<string, string> } = {}): Promise<BundleRun> {
  const digests = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  let wanted = manifest.images;
  if (opts.registryAuth) {
    const { registryHolds, pushedName } = await import('./push.js');
    const held = await Promise.all(manifest.images.map(async (i) => {
      const ns = parseImageRef(i.ref).namespace;
      const reg = inv.cluster.registries.find((r) => r.host === ns) ?? inv.cluster.registries.find((r) => r.mirrorOf.includes(ns));
      if (!reg) return false;
      const { repo, tag } = pushedName(i.ref);
      return registryHolds(inv, reg, repo, tag, i.digest, opts.registryAuth!);
    }));
    wanted = manifest.images.filter((_, k) => !held[k]);
  }
  const images: BundleRun['images'] = wanted.map((i) => {
    const sha256 = digests.get(i.file);
    if (!sha256) throw new KbError(`bundle ${file}: the image ${i.ref} lies in ${i.file}, which the manifest's file list lacks`);
    return { ref: canonicalRef(i.ref), file: i.file, sha256, controlPlaneOnly: controlPlaneOnlyImage(i.ref), platform: i.platform };
  });
  if (inv.cluster.containerRuntime === 'docker') {
    const manifests = await dockerLoadManifests(file, new Map(images.map((i) => [i.file, i.ref])));
    for (const i of images) i.dockerManifest = manifests.get(i.file);
  }
  const cni = manifest.cniManifest && 'file' in manifest.cniManifest ? manifest.cniManifest.file : undefined;
  const cniSha = cni ? digests.get(cni) : undefined;
  if (cni && !cniSha) throw new KbError(`bundle ${file}: the CNI manifest lies in ${cni}, which the manifest's file list lacks`);
  const osReleases = manifest.osReleases.filter((r) => r.osPackages).map((r) => bundleOsRelease({ osId: r.osId, versionId: r.versionId, arch: r.arch }));
  return {
    file, sha256: await sha256File(file), size: statSync(file).size, address: bundleServerHost(inv).address, images,
    ...(osReleases.length ? { osReleases } : {}),
    ...(cni && cniSha ? { cniManifest: { file: cni, sha256: cniSha } } : {}),
  };
}

/**
 * The inventory as an `up --bundle` run sees it: the bundle to serve, every package tree on its
 * server, and the CNI manifest fetched from there too, applied only with the bundle's sha256
 * (a local cni.manifest stays where it is: it is uploaded from this machine as without a bundle).
 */
export function withBundle(inv: Inventory, bundle: BundleRun): Inventory {
  const cluster = clusterFromBundle(inv.cluster, bundle.address);
  // cri-dockerd's release file is checked on the host against cluster.criDockerd.sha256, as from its own URL
  if (cluster.containerRuntime === 'docker') cluster.criDockerd = { ...cluster.criDockerd, url: `${bundleServerUrl(bundle.address)}/${CRI_DOCKERD_DIR}` };
  if (bundle.osReleases?.length) cluster.bundleOsReleases = bundle.osReleases;
  if (bundle.cniManifest) cluster.cni = { ...cluster.cni, manifest: `${bundleServerUrl(bundle.address)}/${bundle.cniManifest.file}`, sha256: bundle.cniManifest.sha256 };
  return { ...inv, bundle, cluster };
}

/**
 * What `up --bundle` and `upgrade --bundle` do before anything connects: the whole bundle read and
 * matched against the inventory (a damaged, foreign or other-version bundle changes no host), then
 * its digests for the run, and the dry run's lines saying where each artifact comes from.
 */
export async function prepareBundleRun(file: string, inv: Inventory, opts: { registryAuth?: ReadonlyMap<string, string> } = {}): Promise<{ manifest: BundleManifest; bundle: BundleRun; notes: string[] }> {
  const manifest = await verifyBundle(file, inv);
  const bundle = await bundleRun(file, manifest, inv, opts);
  const server = bundleServerHost(inv);
  return { manifest, bundle, notes: bundleNotes(file, manifest, server.name, bundleServerUrl(server.address)) };
}

/** The dry run's header under `up --bundle` and `upgrade --bundle`: where each artifact comes from. */
export function bundleNotes(file: string, m: BundleManifest, server: string, url: string): string[] {
  return [
    `Bundle ${file} (Kubernetes ${m.kubernetesVersion}; ${m.osReleases.map((r) => r.os).join(', ')}): every file's sha256 checked here before any host changes`,
    `Packages from ${url}: the bundle unpacked on ${server}, served for the length of the run; apt and dnf check the trees' own signatures`,
    ...m.osReleases.filter((r) => r.osPackages).map((r) => {
      const names = r.osPackages!.packages.map((p) => p.name);
      return `${r.os} ${r.arch}: its own packages (${names.length}${names.length ? `: ${names.slice(0, 4).join(', ')}${names.length > 4 ? '…' : ''}` : ''}) from the bundle's copy of its repositories on ${url}, checked with the host's own ${r.trees.some((t) => t.kind === 'rpm') ? 'release key (/etc/pki/rpm-gpg)' : 'archive keyring'}`;
    }),
    ...m.images.map((i) => `Image ${i.ref} (${i.digest}): imported from the bundle's ${i.file} where the runtime lacks it`),
    ...(!m.cniManifest ? [] : 'file' in m.cniManifest
      ? [`CNI manifest from the bundle's ${m.cniManifest.file} (${m.cniManifest.url})`]
      : [`CNI manifest uploaded from ${m.cniManifest.local} as without a bundle; its images from the bundle`]),
  ];
}
