/** Bundles made by the tests with the `tar` library, from a manifest shaped like the one `bundle` writes (small made-up contents). */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { loadInventoryFile } from '../../src/inventory/load.js';
import type { Inventory } from '../../src/inventory/model.js';
import { bundleNeeds } from '../../src/bundle/needs.js';
import { imageFileName } from '../../src/bundle/build.js';
import { BUNDLE_FORMAT, type BundleManifest } from '../../src/bundle/manifest.js';

export const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

export function inventory(dir: string, lines: string[] = []): Inventory {
  const file = join(dir, `inv-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, [
    'apiVersion: kbootstrap/v1', 'kind: Inventory', 'cluster:', '  name: air', '  kubernetesVersion: "1.30.4"', '  cni: { plugin: none }', ...lines,
    'hosts:', '  - { name: air-cp, address: 10.20.0.10, role: control-plane, os: debian12 }', '  - { name: air-w1, address: 10.20.0.11, role: worker, os: ubuntu22.04 }', '',
  ].join('\n'));
  return loadInventoryFile(file).inventory;
}

/** A bundle with everything `inv` needs for `releases`, small made-up contents; `edit` may change the manifest first. */
export async function makeBundle(dir: string, inv: Inventory, releases: ('debian12' | 'ubuntu22.04')[], name: string, edit?: (m: BundleManifest) => void): Promise<string> {
  const stage = mkdtempSync(join(dir, 'stage-'));
  const needs = bundleNeeds(inv, releases);
  const files: BundleManifest['files'] = [];
  const put = (path: string, body: string, why: string) => {
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    writeFileSync(join(stage, path), body);
    files.push({ path, sha256: sha(body), size: Buffer.byteLength(body), origin: `http://mirror.invalid/${path}`, why });
  };
  const m: BundleManifest = {
    format: BUNDLE_FORMAT, cluster: 'air', kubernetesVersion: inv.cluster.kubernetesVersion, containerRuntime: inv.cluster.containerRuntime, cni: 'none',
    osReleases: needs.osReleases.map((r) => ({
      os: r.os, osId: r.facts.osId, versionId: r.facts.versionId, codename: r.facts.codename, arch: 'amd64', trees: [], fromOs: [],
      packages: r.packages.map((p) => {
        const file = `repos/t-${r.os}/${p.name}_${p.version ?? '1.0'}_amd64.deb`;
        if (!files.some((f) => f.path === file)) put(file, `${p.name} package bytes `.repeat(40), p.why);
        return { name: p.name, version: p.version ?? '1.0', tree: `t-${r.os}`, file };
      }),
    })),
    images: needs.images.map((i) => {
      put(imageFileName(i.ref), `oci archive of ${i.ref}`, i.why);
      return { ref: i.ref, file: imageFileName(i.ref), digest: `sha256:${sha(i.ref)}`, platform: 'linux/amd64' };
    }),
    files,
  };
  edit?.(m);
  writeFileSync(join(stage, 'manifest.json'), JSON.stringify(m, null, 2));
  const out = join(dir, name);
  await tar.c({ file: out, cwd: stage, portable: true }, ['manifest.json', ...files.map((f) => f.path)]);
  return out;
}

