/** A checked bundle as `up --bundle` serves it (src/steps/bundle.ts): its digest, and each image archive's. */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import type { BundleRun, Inventory } from '../inventory/model.js';
import { firstControlPlane } from '../inventory/model.js';
import { clusterFromBundle } from '../os/mirrors.js';
import { KbError } from '../errors.js';
import { canonicalRef, controlPlaneOnlyImage } from '../steps/bundle.js';
import type { BundleManifest } from './manifest.js';

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

export async function bundleRun(file: string, manifest: BundleManifest, inv: Inventory): Promise<BundleRun> {
  const digests = new Map(manifest.files.map((f) => [f.path, f.sha256]));
  const images = manifest.images.map((i) => {
    const sha256 = digests.get(i.file);
    if (!sha256) throw new KbError(`bundle ${file}: the image ${i.ref} lies in ${i.file}, which the manifest's file list lacks`);
    return { ref: canonicalRef(i.ref), file: i.file, sha256, controlPlaneOnly: controlPlaneOnlyImage(i.ref) };
  });
  return { file, sha256: await sha256File(file), size: statSync(file).size, address: firstControlPlane(inv).address, images };
}

/** The inventory as an `up --bundle` run sees it: the bundle to serve, every package tree on its server. */
export function withBundle(inv: Inventory, bundle: BundleRun): Inventory {
  return { ...inv, bundle, cluster: clusterFromBundle(inv.cluster, bundle.address) };
}
