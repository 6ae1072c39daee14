/** A checked bundle as `up --bundle` serves it (src/steps/bundle.ts): its digest, and each image archive's. */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import type { BundleRun, Inventory } from '../inventory/model.js';
import { firstControlPlane } from '../inventory/model.js';
import { bundleServerUrl, clusterFromBundle } from '../os/mirrors.js';
import { KbError } from '../errors.js';
import { canonicalRef, controlPlaneOnlyImage } from '../steps/bundle.js';
import type { BundleManifest } from './manifest.js';
import { parseImageRef } from './images.js';

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
  const images = wanted.map((i) => {
    const sha256 = digests.get(i.file);
    if (!sha256) throw new KbError(`bundle ${file}: the image ${i.ref} lies in ${i.file}, which the manifest's file list lacks`);
    return { ref: canonicalRef(i.ref), file: i.file, sha256, controlPlaneOnly: controlPlaneOnlyImage(i.ref), platform: i.platform };
  });
  const cni = manifest.cniManifest && 'file' in manifest.cniManifest ? manifest.cniManifest.file : undefined;
  const cniSha = cni ? digests.get(cni) : undefined;
  if (cni && !cniSha) throw new KbError(`bundle ${file}: the CNI manifest lies in ${cni}, which the manifest's file list lacks`);
  return {
    file, sha256: await sha256File(file), size: statSync(file).size, address: firstControlPlane(inv).address, images,
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
  if (bundle.cniManifest) cluster.cni = { ...cluster.cni, manifest: `${bundleServerUrl(bundle.address)}/${bundle.cniManifest.file}`, sha256: bundle.cniManifest.sha256 };
  return { ...inv, bundle, cluster };
}
