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
import type { RpmTree } from '../../src/bundle/rpm.js';
import { rpmOsTrees } from '../../src/os/rhel-trees.js';

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

/** The lab's repository signing key (its fingerprint is LAB_KEY_FINGERPRINT): what a lab host's key check trusts. */
const LAB_KEY = readFileSync(join(import.meta.dirname, '..', 'lab', 'fixtures', 'signing-key.asc'), 'utf8');

type Put = (path: string, body: string | Buffer, why: string) => void;

/** One package of a made-up rpm repository: its bytes and what primary.xml says of it. */
interface FakeRpm { name: string; ver: string; rel: string; requires?: { name: string; flags: string; epoch?: string; ver: string }[] }

const esc = (v: string) => v.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * A made-up rpm repository at `path` as createrepo_c lays one out: Packages/*.rpm (made-up bytes),
 * repodata/<sha256>-primary.xml.gz with each package's sha256, location and requirements, and
 * repodata/repomd.xml listing it with its sha256 (http://yum.baseurl.org/wiki/RepoMetadata). The
 * lab's simulated dnf reads it over HTTP; the bytes are no rpm (test/bundle-rpm.test.ts runs real dnf).
 */
export function fakeRpmTree(put: Put, path: string, packages: FakeRpm[], why: string): { name: string; version: string; file: string }[] {
  const out: { name: string; version: string; file: string }[] = [];
  const entries = packages.map((p) => {
    const href = `Packages/${p.name}-${p.ver}-${p.rel}.x86_64.rpm`;
    const body = `${p.name}-${p.ver}-${p.rel} made-up rpm bytes\n`.repeat(30);
    put(`${path}/${href}`, body, why);
    out.push({ name: p.name, version: `${p.ver}-${p.rel}`, file: `${path}/${href}` });
    const req = (p.requires ?? []).map((r) => `<rpm:entry name="${esc(r.name)}" flags="${r.flags}" epoch="${r.epoch ?? '0'}" ver="${esc(r.ver)}"/>`).join('');
    return `<package type="rpm"><name>${esc(p.name)}</name><arch>x86_64</arch><version epoch="0" ver="${esc(p.ver)}" rel="${esc(p.rel)}"/>`
      + `<checksum type="sha256" pkgid="YES">${sha(body)}</checksum><size package="${Buffer.byteLength(body)}"/><location href="${href}"/>`
      + `<format><rpm:provides><rpm:entry name="${esc(p.name)}" flags="EQ" epoch="0" ver="${esc(p.ver)}" rel="${esc(p.rel)}"/></rpm:provides>${req ? `<rpm:requires>${req}</rpm:requires>` : ''}</format></package>`;
  });
  const primary = gzipSync(Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="${entries.length}">\n${entries.join('\n')}\n</metadata>\n`));
  const primaryHref = `repodata/${sha(primary)}-primary.xml.gz`;
  put(`${path}/${primaryHref}`, primary, why);
  put(`${path}/repodata/repomd.xml`, `<?xml version="1.0" encoding="UTF-8"?>\n<repomd xmlns="http://linux.duke.edu/metadata/repo"><revision>1</revision>`
    + `<data type="primary"><checksum type="sha256">${sha(primary)}</checksum><location href="${primaryHref}"/><size>${primary.length}</size></data></repomd>\n`, why);
  return out;
}

/** An EL release's part of a made-up bundle: the Docker and Kubernetes trees, and (osPackages) its BaseOS and AppStream with what the steps take from them. */
function rpmRelease(put: Put, inv: Inventory, r: ReturnType<typeof bundleNeeds>['osReleases'][number]): BundleManifest['osReleases'][number] {
  const v = inv.cluster.kubernetesVersion;
  const minor = v.split('.').slice(0, 2).join('.');
  const [docker, kube] = r.trees as RpmTree[];
  const runtime = inv.cluster.containerRuntime === 'docker'
    ? [{ name: 'containerd.io', ver: '1.7.27', rel: '3.1.el9', requires: [{ name: 'container-selinux', flags: 'GE', epoch: '2', ver: '2.74' }] }, { name: 'docker-ce', ver: '27.3.1', rel: '1.el9', requires: [{ name: 'docker-ce-cli', flags: 'GE', ver: '27.3.1' }] }, { name: 'docker-ce-cli', ver: '27.3.1', rel: '1.el9' }]
    : [{ name: 'containerd.io', ver: '1.7.27', rel: '3.1.el9', requires: [{ name: 'container-selinux', flags: 'GE', epoch: '2', ver: '2.74' }] }];
  for (const t of [docker!, kube!]) put(t.keyPath, LAB_KEY, `the signing key of ${t.id}`);
  const packages = [
    ...fakeRpmTree(put, docker!.path, runtime, `container runtime ${inv.cluster.containerRuntime}`).map((p) => ({ ...p, tree: docker!.id })),
    ...fakeRpmTree(put, kube!.path, [
      { name: 'kubeadm', ver: v, rel: '150500.1.1', requires: [{ name: 'cri-tools', flags: 'GE', ver: `${minor}.0` }] },
      { name: 'kubelet', ver: v, rel: '150500.1.1', requires: [{ name: 'kubernetes-cni', flags: 'GE', ver: '1.2.0' }] },
      { name: 'kubectl', ver: v, rel: '150500.1.1' },
      { name: 'cri-tools', ver: `${minor}.1`, rel: '150500.1.1' },
      { name: 'kubernetes-cni', ver: '1.4.0', rel: '150500.1.1' },
    ], `Kubernetes ${v}`).map((p) => ({ ...p, tree: kube!.id })),
  ];
  const [baseos, appstream] = rpmOsTrees({ ...inv.cluster, packageMirror: 'http://mirror.invalid' }, r.facts);
  const os = [
    ...fakeRpmTree(put, baseos!.path, r.osPackages.map((p) => ({ name: p.name, ver: '1.0', rel: '1.el9' })), 'the release\'s own packages the steps install').map((p) => ({ ...p, tree: baseos!.id })),
    ...fakeRpmTree(put, appstream!.path, [{ name: 'container-selinux', ver: '2.229.0', rel: '1.el9' }], 'containerd.io requires it').map((p) => ({ ...p, tree: appstream!.id })),
  ];
  return {
    os: r.os, osId: r.facts.osId, versionId: r.facts.versionId, codename: r.facts.codename, arch: 'amd64', fromOs: [],
    trees: [...r.trees, baseos!, appstream!].map((t) => ({ kind: 'rpm' as const, id: t.id, base: t.base, suite: '', components: [], path: t.path })),
    packages, osPackages: { packages: os, present: [], why: 'made-up: BaseOS and AppStream' },
  };
}

/** A bundle with everything `inv` needs for `releases`, small made-up contents; `edit` may change the manifest first. */
export async function makeBundle(dir: string, inv: Inventory, releases: ('debian12' | 'ubuntu22.04' | 'rocky9')[], name: string, edit?: (m: BundleManifest) => void,
  o: { realImages?: boolean; keys?: boolean } = {}): Promise<string> {
  const stage = mkdtempSync(join(dir, 'stage-'));
  const needs = bundleNeeds(inv, releases);
  const files: BundleManifest['files'] = [];
  const put: Put = (path, body, why) => {
    if (files.some((f) => f.path === path)) return;
    mkdirSync(dirname(join(stage, path)), { recursive: true });
    writeFileSync(join(stage, path), body);
    files.push({ path, sha256: sha(body), size: Buffer.byteLength(body), origin: `http://mirror.invalid/${path}`, why });
  };
  const m: BundleManifest = {
    format: BUNDLE_FORMAT, cluster: 'air', kubernetesVersion: inv.cluster.kubernetesVersion, containerRuntime: inv.cluster.containerRuntime, cni: 'none',
    osReleases: needs.osReleases.map((r) => r.trees.some((t) => t.kind === 'rpm') ? rpmRelease(put, inv, r) : ({
      os: r.os, osId: r.facts.osId, versionId: r.facts.versionId, codename: r.facts.codename, arch: 'amd64', trees: [], fromOs: [],
      packages: r.packages.map((p) => {
        const file = `repos/t-${r.os}/${p.name}_${p.version ?? '1.0'}_amd64.deb`;
        put(file, `${p.name} package bytes `.repeat(40), p.why);
        if (o.keys) for (const t of r.trees) put(t.keyPath, LAB_KEY, `the signing key of ${t.id}`);
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

