/** Bundles made by the tests with the `tar` library, from a manifest shaped like the one `bundle` writes (small made-up contents). */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { dirname, join } from 'node:path';
import * as tar from 'tar';
import { loadInventoryFile } from '../../src/inventory/load.js';
import type { Inventory } from '../../src/inventory/model.js';
import { bundleNeeds } from '../../src/bundle/needs.js';
import { imageFileName } from '../../src/bundle/build.js';
import { writeOciArchive } from '../../src/bundle/images.js';
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

/** What the made-up cri-dockerd release file holds: pin sha(criDockerdBody(file)) in the inventory. */
export const criDockerdBody = (file: string) => `cri-dockerd release file ${file}\n`.repeat(20);

/**
 * A real OCI image layout archive (what writeOciArchive makes) of a one-layer image whose only file
 * says its reference: small, but what ctr import and docker load read.
 */
async function ociArchive(ref: string, dir: string, out: string): Promise<void> {
  const root = mkdtempSync(join(dir, 'img-'));
  writeFileSync(join(root, 'hello.txt'), `${ref}\n`);
  const layerTar = join(dir, `layer-${sha(ref)}.tar`);
  await tar.c({ file: layerTar, cwd: root, portable: true, mtime: new Date(0) }, ['hello.txt']);
  const layer = gzipSync(readFileSync(layerTar));
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: { Cmd: ['/hello.txt'] },
    rootfs: { type: 'layers', diff_ids: [`sha256:${sha(readFileSync(layerTar))}`] }, history: [{ created_by: 'kbootstrap test fixture' }],
  }));
  const blob = (b: Buffer, mediaType: string) => {
    const path = join(dir, `blob-${sha(b)}`);
    writeFileSync(path, b);
    return { digest: `sha256:${sha(b)}`, size: b.length, mediaType, path };
  };
  const cfg = blob(config, 'application/vnd.oci.image.config.v1+json');
  const lay = blob(layer, 'application/vnd.oci.image.layer.v1.tar+gzip');
  const manifestBytes = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: cfg.mediaType, digest: cfg.digest, size: cfg.size }, layers: [{ mediaType: lay.mediaType, digest: lay.digest, size: lay.size }],
  }));
  await writeOciArchive({ ref, digest: `sha256:${sha(manifestBytes)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', manifestBytes, blobs: [cfg, lay], source: 'test' }, 'amd64', out, dir);
}

/** A bundle with everything `inv` needs for `releases`, small made-up contents; `edit` may change the manifest first. */
export async function makeBundle(dir: string, inv: Inventory, releases: ('debian12' | 'ubuntu22.04')[], name: string, edit?: (m: BundleManifest) => void,
  o: { realImages?: boolean } = {}): Promise<string> {
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
      if (!o.realImages) put(imageFileName(i.ref), `oci archive of ${i.ref}`, i.why);
      return { ref: i.ref, file: imageFileName(i.ref), digest: `sha256:${sha(i.ref)}`, platform: 'linux/amd64' };
    }),
    files,
  };
  for (const r of needs.osReleases) if (r.criDockerd && !files.some((f) => f.path === r.criDockerd!.path)) put(r.criDockerd.path, criDockerdBody(r.criDockerd.file), r.criDockerd.why);
  if (o.realImages) {
    const work = mkdtempSync(join(dir, 'oci-'));
    for (const i of m.images) {
      const out = join(stage, i.file);
      mkdirSync(dirname(out), { recursive: true });
      await ociArchive(i.ref, work, out);
      const body = readFileSync(out);
      files.push({ path: i.file, sha256: sha(body), size: body.length, origin: 'test', why: 'image' });
    }
  }
  edit?.(m);
  writeFileSync(join(stage, 'manifest.json'), JSON.stringify(m, null, 2));
  const out = join(dir, name);
  await tar.c({ file: out, cwd: stage, portable: true }, ['manifest.json', ...files.map((f) => f.path)]);
  return out;
}

