/**
 * `kbootstrap bundle` against real servers on loopback, never the internet: a signed apt mirror
 * built with Debian's tools (test/support/apt-tree.ts) served by the lab's repository server, and
 * Debian's docker-registry (distribution 2.8, trixie) with TLS from a lab CA and htpasswd
 * credentials, holding a tiny OCI image built from this machine's /bin/true under every name
 * kubeadm's image list gives (the inventory's private registry stands in for registry.k8s.io).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventoryFile } from '../src/inventory/load.js';
import type { Inventory } from '../src/inventory/model.js';
import { readRegistryAuth } from '../src/run/registry-auth.js';
import { buildBundle } from '../src/bundle/build.js';
import { BundleCache } from '../src/bundle/fetch.js';
import { kubeadmImages } from '../src/bundle/needs.js';
import { parseImageRef } from '../src/bundle/images.js';
import type { BundleManifest } from '../src/bundle/manifest.js';
import { buildAptMirror, serveMirror, type TestDeb } from './support/apt-tree.js';
import { BOOKWORM_TREES, DEBIAN_KEYRING, bookwormIndexes, layOutBookworm, minimalStatus, osTreeUnavailable } from './support/debian-os-tree.js';
import { packagesOf, resolveOs, type ReadTree } from '../src/bundle/apt.js';
import type { AptTree } from '../src/bundle/needs.js';
import { buildOciImage } from './support/oci-image.js';
import { pushImage } from './support/registry-push.js';
import { labCa, registryBinary, registryConfig, startUntil } from './support/registry.js';

const REG = registryBinary();
function missing(): string {
  if ('skip' in REG) return REG.skip;
  for (const t of ['gpg', 'apt-ftparchive', 'dpkg-deb', 'openssl', 'python3', 'tar', 'gzip']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is missing`;
  }
  return '';
}
const SKIP = missing();

const PASSWORD = 'bundle-registry-pw-5521';
const CALICO_IMAGES = ['docker.io/calico/cni:v3.29.7', 'docker.io/calico/node:v3.29.7', 'calico/kube-controllers:v3.29.7'];
/** A CNI manifest cut down to what the bundle reads: the images of its workloads' containers and init containers. */
const CALICO = [
  'apiVersion: apps/v1', 'kind: DaemonSet', 'metadata: { name: calico-node, namespace: kube-system }', 'spec:', '  template:', '    spec:',
  '      initContainers:', `        - { name: install-cni, image: ${CALICO_IMAGES[0]} }`,
  '      containers:', `        - { name: calico-node, image: ${CALICO_IMAGES[1]} }`,
  '---', 'apiVersion: apps/v1', 'kind: Deployment', 'metadata: { name: calico-kube-controllers, namespace: kube-system }', 'spec:', '  template:', '    spec:',
  '      containers:', `        - { name: calico-kube-controllers, image: ${CALICO_IMAGES[2]} }`,
  '      # image: not/this-one:1 (a comment)', '',
].join('\n');
const DEBS: TestDeb[] = [
  { name: 'containerd.io', version: '1.7.27-1', depends: 'runc-helper (>= 1.1), libc6 (>= 2.34) | libc6.1', tree: 'docker' },
  { name: 'containerd.io', version: '1.6.33-1', depends: 'libc6', tree: 'docker' },
  { name: 'runc-helper', version: '1.2.0-1', tree: 'docker' },
  { name: 'docker-ce', version: '5:27.3.1-1~debian.12~bookworm', depends: 'containerd.io', tree: 'docker' },
  // what it needs of the OS as pkgs.k8s.io's kubelet names it (conntrack, socat, ebtables…): bundle --with-os-packages takes them from Debian's own trees
  { name: 'kubelet', version: '1.30.4-1.1', depends: 'kubernetes-cni (>= 1.2.0), mount, util-linux, iptables (>= 1.4.21), iproute2, socat, ebtables, ethtool, conntrack', tree: 'kube' },
  { name: 'kubelet', version: '1.30.3-1.1', depends: 'kubernetes-cni (>= 1.2.0)', tree: 'kube' },
  { name: 'kubeadm', version: '1.30.4-1.1', depends: 'cri-tools (>= 1.30.0)', tree: 'kube' },
  { name: 'kubeadm', version: '1.30.3-1.1', depends: 'cri-tools (>= 1.30.0)', tree: 'kube' },
  { name: 'kubectl', version: '1.30.4-1.1', tree: 'kube' },
  { name: 'cri-tools', version: '1.30.1-1.1', tree: 'kube' },
  // newer, but for arm64: an amd64 bundle takes the amd64 one from the flat index that lists both
  { name: 'cri-tools', version: '1.30.9-1.1', tree: 'kube', arch: 'arm64' },
  { name: 'kubernetes-cni', version: '1.4.0-1.1', tree: 'kube' },
];

describe.skipIf(!!SKIP)('bundle against a loopback apt mirror and registry', () => {
  const procs: ChildProcess[] = [];
  let dir: string;
  let inv: Inventory;
  let mirrorLog: string[];
  let registryLog: string[];
  let fingerprint: string;
  let mirrorRoot: string;
  const repoPort = 21000 + Math.floor(Math.random() * 2000);
  const regPort = repoPort + 2500;
  const env = { ...process.env, KB_TEST_BUNDLE_PASSWORD: PASSWORD };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kb-bundle-'));
    const mirror = buildAptMirror(join(dir, 'mirror'), DEBS);
    fingerprint = mirror.fingerprint;
    mirrorRoot = mirror.root;
    // the CNI manifest the inventory names by URL on the mirror, with its sha256
    mkdirSync(join(mirror.root, 'cni'));
    writeFileSync(join(mirror.root, 'cni', 'calico.yaml'), CALICO);
    ({ log: mirrorLog } = await serveMirror(mirror.root, repoPort, procs));
    const reg = join(dir, 'registry');
    const tls = labCa(join(reg, 'ca'), 'kb-bundle-ca');
    const conf = registryConfig(reg, `127.0.0.1:${regPort}`, tls, { kb: PASSWORD });
    registryLog = await startUntil([(REG as { bin: string }).bin, 'serve', conf], /listening on/, 'docker-registry', procs);
    copyFileSync(tls.ca, join(dir, 'registry-ca.crt'));
    writeFileSync(join(dir, 'inventory.yaml'), [
      'apiVersion: kbootstrap/v1', 'kind: Inventory', 'cluster:', '  name: air', '  kubernetesVersion: "1.30.4"',
      `  cni: { plugin: calico, manifest: "http://127.0.0.1:${repoPort}/cni/calico.yaml", sha256: "${createHash('sha256').update(CALICO).digest('hex')}" }`,
      `  packageMirror: "http://127.0.0.1:${repoPort}"`, '  allowInsecureHttp: true', `  repositoryKeyFingerprints: ["${fingerprint}"]`,
      '  registries:', `    - host: "127.0.0.1:${regPort}"`, '      mirrorOf: [registry.k8s.io, docker.io]', '      caFile: registry-ca.crt',
      '      credentials: { username: kb, passwordEnv: KB_TEST_BUNDLE_PASSWORD }',
      'hosts:', '  - { name: air-cp, address: 10.20.0.10, role: control-plane, os: debian12 }',
      '  - { name: air-w1, address: 10.20.0.11, role: worker, os: debian }', '',
    ].join('\n'));
    inv = loadInventoryFile(join(dir, 'inventory.yaml')).inventory;
    const image = buildOciImage(join(dir, 'true.oci.tar'), 'kb/true:1', { '/bin/true': 'true' });
    const ca = readFileSync(tls.ca);
    for (const ref of [...kubeadmImages(inv), ...CALICO_IMAGES]) {
      const r = parseImageRef(ref);
      await pushImage(image.archive, `127.0.0.1:${regPort}`, r.repo, r.tag, ca, 'kb', PASSWORD);
    }
  }, 120_000);

  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const bundle = async (file: string, cacheDir: string) => {
    const lines: string[] = [];
    const cache = new BundleCache(cacheDir);
    const r = await buildBundle(inv, { releases: ['debian12'], arches: ['amd64'], file, cache, concurrency: 4, auth: readRegistryAuth(inv, env).auth, say: (l) => lines.push(l) });
    return { ...r, cache, lines };
  };
  const entries = (file: string) => execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);

  it('collects the pinned packages with the dependencies their trees carry, kubeadm\'s images and a manifest of every file', async () => {
    const file = join(dir, 'air.bundle');
    const r = await bundle(file, join(dir, 'cache'));
    const m = r.manifest;
    expect(m.kubernetesVersion).toBe('1.30.4');
    expect(m.osReleases.map((o) => o.os)).toEqual(['debian12']);
    const pk = m.osReleases[0]!.packages.map((p) => `${p.name}=${p.version}`).sort();
    expect(pk).toEqual(['containerd.io=1.7.27-1', 'cri-tools=1.30.1-1.1', 'kubeadm=1.30.4-1.1', 'kubectl=1.30.4-1.1', 'kubelet=1.30.4-1.1', 'kubernetes-cni=1.4.0-1.1', 'runc-helper=1.2.0-1']);
    // what only the OS's own repositories carry is listed, not bundled
    expect(m.osReleases[0]!.fromOs).toEqual(expect.arrayContaining(['libc6', 'mount', 'util-linux']));
    expect(m.images.map((i) => i.ref)).toEqual([...kubeadmImages(inv), ...CALICO_IMAGES]);
    // the CNI manifest the cluster applies, checked against cluster.cni.sha256, and the images it names, pulled through the registry that mirrors docker.io
    expect(m.cniManifest).toEqual({ file: 'cni/calico.yaml', url: `http://127.0.0.1:${repoPort}/cni/calico.yaml`, images: CALICO_IMAGES });
    expect(execFileSync('tar', ['-xOf', file, 'cni/calico.yaml'], { encoding: 'utf8' })).toBe(CALICO);
    const listed = entries(file);
    expect(listed).toContain('manifest.json');
    for (const f of m.files) expect(listed).toContain(f.path);
    expect(listed.length).toBe(m.files.length + 1);
    // every file has its sha256, its origin and why
    const inBundle = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json'], { encoding: 'utf8' })) as BundleManifest;
    expect(inBundle).toEqual(m);
    for (const f of m.files) {
      const bytes = execFileSync('tar', ['-xOf', file, f.path], { maxBuffer: 64 << 20 });
      expect(bytes.length).toBe(f.size);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(f.sha256);
      expect(f.origin).toBeTruthy();
      expect(f.why).toBeTruthy();
    }
    expect(m.files.find((f) => f.path.endsWith('kubeadm_1.30.4-1.1_amd64.deb'))).toMatchObject({ origin: `http://127.0.0.1:${repoPort}/kubernetes-new/core/stable/v1.30/deb/kubeadm_1.30.4-1.1_amd64.deb` });
    // the trees' signed metadata goes with them, each where a packageMirror has it: the unpacked bundle is a mirror
    expect(listed).toEqual(expect.arrayContaining([
      'docker-ce/linux/debian/dists/bookworm/InRelease', 'docker-ce/linux/debian/dists/bookworm/stable/binary-amd64/Packages.gz', 'docker-ce/linux/debian/gpg',
      'kubernetes-new/core/stable/v1.30/deb/InRelease', 'kubernetes-new/core/stable/v1.30/deb/Release.key', 'kubernetes-new/core/stable/v1.30/deb/Packages.gz',
      'kubernetes-new/core/stable/v1.30/deb/kubeadm_1.30.4-1.1_amd64.deb', 'docker-ce/linux/debian/pool/stable/amd64/containerd.io_1.7.27-1_amd64.deb',
    ]));
    // the image archives are OCI layouts holding the manifest the registry sent, named as the cluster names the image
    const x = join(dir, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-xf', file, '-C', x, m.images[0]!.file]);
    const oci = execFileSync('tar', ['-xOf', join(x, m.images[0]!.file), 'index.json'], { encoding: 'utf8' });
    expect(JSON.parse(oci).manifests[0]).toMatchObject({ digest: m.images[0]!.digest, annotations: { 'io.containerd.image.name': 'registry.k8s.io/kube-apiserver:v1.30.4' } });
    // the password went to the registry and nowhere else
    expect(JSON.stringify(m) + r.lines.join('\n')).not.toContain(PASSWORD);
    expect(r.lines.join('\n')).toMatch(/packages: 7 files/);
  });

  it('a second bundle reads only the signed metadata again: packages and blobs come from the cache', async () => {
    const cacheDir = join(dir, 'cache2');
    await bundle(join(dir, 'first.bundle'), cacheDir);
    const before = mirrorLog.length;
    const regBefore = registryLog.length;
    const r = await bundle(join(dir, 'second.bundle'), cacheDir);
    const again = mirrorLog.slice(before);
    expect(again.filter((l) => l.includes('.deb'))).toEqual([]);
    // the signed metadata and the CNI manifest (checked against its sha256) are read again; nothing else
    expect(again.filter((l) => !/InRelease|Release\.key|\/gpg |\/cni\/calico\.yaml /.test(l))).toEqual([]);
    expect(r.cache.fetched).toBe(0);
    // the registry is asked for manifests only (tags move), never for a blob again
    expect(registryLog.slice(regBefore).filter((l) => /GET \/v2\/[^ ]*\/blobs\//.test(l))).toEqual([]);
    expect(readFileSync(join(dir, 'first.bundle')).equals(readFileSync(join(dir, 'second.bundle')))).toBe(true);
  });

  it('resumes a cut download from its partial file with a Range request', async () => {
    const cacheDir = join(dir, 'cache3');
    await bundle(join(dir, 'whole.bundle'), cacheDir);
    // cut: the kubelet .deb half there, as a killed run leaves it
    const m = JSON.parse(execFileSync('tar', ['-xOf', join(dir, 'whole.bundle'), 'manifest.json'], { encoding: 'utf8' })) as BundleManifest;
    const kubelet = m.files.find((f) => f.path.endsWith('kubelet_1.30.4-1.1_amd64.deb'))!;
    const cached = join(cacheDir, 'sha256', kubelet.sha256);
    const bytes = readFileSync(cached);
    rmSync(cached);
    writeFileSync(join(cacheDir, 'partial', kubelet.sha256), bytes.subarray(0, Math.floor(bytes.length / 2)));
    const before = mirrorLog.length;
    const r = await bundle(join(dir, 'resumed.bundle'), cacheDir);
    expect(mirrorLog.slice(before).filter((l) => l.includes('kubelet_'))).toEqual([`127.0.0.1 GET /kubernetes-new/core/stable/v1.30/deb/kubelet_1.30.4-1.1_amd64.deb 206 bytes=${Math.floor(bytes.length / 2)}-`]);
    expect(r.cache.fetched).toBe(bytes.length - Math.floor(bytes.length / 2));
    expect(existsSync(cached)).toBe(true);
    expect(readFileSync(join(dir, 'resumed.bundle')).equals(readFileSync(join(dir, 'whole.bundle')))).toBe(true);
  });

  it('the CLI writes the bundle, prints its size and what stays with the OS, and --check reads it back; a changed byte is refused', () => {
    const out = join(dir, 'cli.bundle');
    const cli = (args: string[]) => spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'kbootstrap.js'), ...args], {
      encoding: 'utf8', env: { ...env, KBOOTSTRAP_CACHE_DIR: join(dir, 'cli-cache') },
    });
    const r = cli(['bundle', join(dir, 'inventory.yaml'), '--file', out, '--concurrency', '2']);
    expect(r.stderr).toMatch(/wrote .*cli\.bundle: [\d.]+ (KiB|MiB), \d+ files \([\d.]+ (KiB|MiB) downloaded, [\d.]+ (KiB|MiB) from the cache\)/);
    expect(r.stderr).toMatch(/not in the bundle, from each release's own repositories: .*libc6/);
    if (process.env.KB_BUNDLE_FIGURES) process.stderr.write(r.stderr);
    expect(r.stderr + r.stdout).not.toContain(PASSWORD);
    expect(r.status).toBe(0);
    // a second run does not overwrite it
    const again = cli(['bundle', join(dir, 'inventory.yaml'), '--file', out]);
    expect([again.status, again.stderr]).toEqual([2, expect.stringMatching(/cli\.bundle exists; kbootstrap does not overwrite it/)]);
    const ok = cli(['bundle', join(dir, 'inventory.yaml'), '--check', out]);
    expect([ok.status, ok.stdout]).toEqual([0, expect.stringMatching(/a whole bundle for air: Kubernetes 1\.30\.4, debian12 \(amd64\), 10 images, \d+ files checked/)]);
    const bytes = readFileSync(out);
    // one byte of the kubectl .deb, where it lies in the archive
    const m = JSON.parse(execFileSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' })) as BundleManifest;
    const deb = m.files.find((f) => f.path.endsWith('kubectl_1.30.4-1.1_amd64.deb'))!;
    const debBytes = execFileSync('tar', ['-xOf', out, deb.path], { maxBuffer: 64 << 20 });
    const where = bytes.indexOf(debBytes);
    bytes[where + debBytes.length - 10] = bytes[where + debBytes.length - 10]! ^ 0xff;
    writeFileSync(join(dir, 'tampered.bundle'), bytes);
    const bad = cli(['bundle', join(dir, 'inventory.yaml'), '--check', join(dir, 'tampered.bundle')]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`${deb.path} has sha256`);
  });

  it('the unpacked bundle served over HTTP is a package mirror real apt accepts: signatures checked, the pinned versions there', async () => {
    const file = join(dir, 'apt.bundle');
    await bundle(file, join(dir, 'cache'));
    const root = join(dir, 'served');
    mkdirSync(root);
    execFileSync('tar', ['-xf', file, '-C', root]);
    const served = await serveMirror(root, repoPort + 1, procs);
    const st = join(dir, 'apt-state');
    for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(st, d), { recursive: true });
    // the keys as the hosts' repository step installs them (signed-by= an armored .asc file)
    copyFileSync(join(root, 'kubernetes-new/core/stable/v1.30/deb/Release.key'), join(st, 'kubernetes.asc'));
    copyFileSync(join(root, 'docker-ce/linux/debian/gpg'), join(st, 'docker.asc'));
    writeFileSync(join(st, 'sources.list'), [
      `deb [signed-by=${join(st, 'kubernetes.asc')}] ${served.url}/kubernetes-new/core/stable/v1.30/deb/ /`,
      `deb [arch=amd64 signed-by=${join(st, 'docker.asc')}] ${served.url}/docker-ce/linux/debian bookworm stable`, '',
    ].join('\n'));
    const opts = ['-o', `Dir::Etc::SourceList=${join(st, 'sources.list')}`, '-o', 'Dir::Etc::SourceParts=/dev/null', '-o', `Dir::State::Lists=${join(st, 'lists')}`,
      '-o', `Dir::Cache=${join(st, 'cache')}`, '-o', 'Dir::State::status=/dev/null', '-o', 'APT::Sandbox::User=root'];
    const upd = spawnSync('apt-get', [...opts, 'update'], { encoding: 'utf8' });
    expect(upd.stdout + upd.stderr).not.toMatch(/^(W|E):/m);
    expect(upd.status).toBe(0);
    const policy = execFileSync('apt-cache', [...opts, 'policy', 'kubeadm', 'containerd.io'], { encoding: 'utf8' });
    expect(policy).toMatch(/kubeadm:\n\s+Installed: \(none\)\n\s+Candidate: 1\.30\.4-1\.1/);
    expect(policy).toMatch(/containerd\.io:\n\s+Installed: \(none\)\n\s+Candidate: 1\.7\.27-1/);
    // apt checks each .deb against the signed index when it fetches it
    const dl = join(dir, 'apt-dl');
    mkdirSync(dl);
    const get = spawnSync('apt-get', [...opts, 'download', 'kubeadm=1.30.4-1.1', 'cri-tools'], { cwd: dl, encoding: 'utf8' });
    expect(get.status, get.stderr).toBe(0);
    expect(readdirSync(dl).sort()).toEqual(['cri-tools_1.30.1-1.1_amd64.deb', 'kubeadm_1.30.4-1.1_amd64.deb']);
    expect(served.log.every((l) => / 200$/.test(l) || / 404$/.test(l))).toBe(true);
  });

  it.skipIf(!!osTreeUnavailable())('--with-os-packages: Debian 12\'s own signed trees (real InRelease, Packages and .debs on the loopback mirror); real apt installs the OS packages from the unpacked bundle alone, on a minimal installation', async () => {
    // Debian 12's trees where the packageMirror has them, with the .debs a bundle may want (fetched once into the lab's cache)
    const indexes = bookwormIndexes();
    const trees = indexes.map((t) => ({ tree: { id: t.suite, base: t.base, suite: t.suite, path: t.path } as AptTree, packages: [] as ReturnType<typeof packagesOf> }))
      .map((t, i) => ({ ...t, packages: packagesOf(indexes[i]!.packages, t.tree, 'amd64') })) as unknown as ReadTree[];
    const wanted = ['curl', 'ca-certificates', 'gpg', 'ipset', 'ipvsadm', 'iptables', 'iproute2', 'socat', 'ebtables', 'ethtool', 'conntrack', 'mount', 'util-linux', 'libc6'];
    const superset = resolveOs(trees, wanted);
    layOutBookworm(mirrorRoot, superset.packages.map((p) => ({ path: p.tree.path, file: p.filename, sha256: p.sha256 })));
    const ipvs = join(dir, 'inventory-ipvs.yaml');
    writeFileSync(ipvs, readFileSync(join(dir, 'inventory.yaml'), 'utf8').replace('  packageMirror:', '  kubeProxyMode: ipvs\n  packageMirror:'));
    const ipvsInv = loadInventoryFile(ipvs).inventory;
    const file = join(dir, 'os.bundle');
    const lines: string[] = [];
    const before = mirrorLog.length;
    const r = await buildBundle(ipvsInv, { releases: ['debian12'], arches: ['amd64'], file, cache: new BundleCache(join(dir, 'cache')), concurrency: 4, auth: readRegistryAuth(ipvsInv, env).auth, say: (l) => lines.push(l), withOsPackages: true });
    const rel = r.manifest.osReleases[0]!;
    const os = rel.osPackages!;
    const names = os.packages.map((p) => p.name);
    // what the steps install (the key tools, ipvs' tools) and what kubelet needs of the OS, with their dependencies
    expect(names).toEqual(expect.arrayContaining(['curl', 'ca-certificates', 'gpg', 'ipset', 'ipvsadm', 'socat', 'conntrack', 'ebtables', 'iptables', 'libcurl4', 'libipset13']));
    // not what every installation has: Priority required (mount, dpkg, apt…) and what they need, unless a relation asks a newer version
    for (const base of ['mount', 'util-linux', 'apt', 'bash']) expect(names).not.toContain(base);
    expect(os.present).toEqual(expect.arrayContaining(['mount']));
    expect(os.why).toMatch(/Priority required/);
    expect(rel.fromOs).toEqual([]);
    // the trees' signed metadata, from the mirror, byte for byte
    const listed = entries(file);
    for (const t of BOOKWORM_TREES) expect(listed).toEqual(expect.arrayContaining([`${t.path}/dists/${t.suite}/InRelease`, expect.stringMatching(new RegExp(`^${t.path}/dists/${t.suite}/main/binary-amd64/Packages\\.(gz|xz)$`))]));
    for (const p of os.packages) expect(listed).toContain(p.file);
    expect(mirrorLog.slice(before).filter((l) => / 404$/.test(l))).toEqual([]);
    const sizeOf = (paths: string[]) => r.manifest.files.filter((f) => paths.includes(f.path)).reduce((n, f) => n + f.size, 0);
    const debBytes = sizeOf(os.packages.map((p) => p.file));
    const indexBytes = sizeOf(r.manifest.files.map((f) => f.path).filter((f) => /^debian(-security)?\/dists\//.test(f)));
    console.log(`bundle --with-os-packages: ${os.packages.length} Debian 12 packages bundled, ${(debBytes / 1048576).toFixed(1)} MiB of .debs and ${(indexBytes / 1048576).toFixed(1)} MiB of signed metadata (${os.packages.map((p) => p.name).join(' ')}); ${os.present.length} present on a minimal install`);

    // the judge: real apt on this machine, with the bundle's trees as its only sources and a minimal installation's status
    const root = join(dir, 'os-served');
    mkdirSync(root);
    execFileSync('tar', ['-xf', file, '-C', root]);
    const served = await serveMirror(root, repoPort + 3, procs);
    const st = join(dir, 'os-apt');
    for (const d of ['lists/partial', 'cache/archives/partial']) mkdirSync(join(st, d), { recursive: true });
    writeFileSync(join(st, 'status'), minimalStatus());
    // the host's own keyring checks its release's trees, as on a host (signed-by the archive keyring every Debian has)
    writeFileSync(join(st, 'sources.list'), BOOKWORM_TREES.map((t) => `deb [signed-by=${DEBIAN_KEYRING}] ${served.url}/${t.path} ${t.suite} main\n`).join(''));
    const opts = ['-o', `Dir::Etc::SourceList=${join(st, 'sources.list')}`, '-o', 'Dir::Etc::SourceParts=/dev/null', '-o', `Dir::State::Lists=${join(st, 'lists')}`,
      '-o', `Dir::Cache=${join(st, 'cache')}`, '-o', `Dir::State::status=${join(st, 'status')}`, '-o', 'APT::Sandbox::User=root', '-o', 'Dir::Etc::Preferences=/dev/null', '-o', 'Dir::Etc::PreferencesParts=/dev/null'];
    const upd = spawnSync('apt-get', [...opts, 'update'], { encoding: 'utf8' });
    expect(upd.stdout + upd.stderr).not.toMatch(/^(W|E):/m);
    const wantOnHost = ['curl', 'ca-certificates', 'gpg', 'ipset', 'ipvsadm', 'iptables', 'iproute2', 'socat', 'ebtables', 'ethtool', 'conntrack'];
    const inst = spawnSync('apt-get', [...opts, 'install', '-y', '-q', '--download-only', '--no-install-recommends', ...wantOnHost], { encoding: 'utf8' });
    expect(inst.status, inst.stdout + inst.stderr).toBe(0);
    const got = readdirSync(join(st, 'cache', 'archives')).filter((f) => f.endsWith('.deb'));
    expect(got.length).toBeGreaterThan(10);
    // everything apt fetched is one of the bundle's OS packages, and came from the bundle server
    for (const f of got) expect(names, f).toContain(f.split('_')[0]);
    expect(served.log.filter((l) => l.includes('.deb')).every((l) => / 200$/.test(l))).toBe(true);

    // the CLI's flag, and what it says
    const out = join(dir, 'os-cli.bundle');
    const c = spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'kbootstrap.js'), 'bundle', ipvs, '--file', out, '--with-os-packages'], {
      encoding: 'utf8', env: { ...env, KBOOTSTRAP_CACHE_DIR: join(dir, 'cache') },
    });
    expect(c.status, c.stderr).toBe(0);
    expect(c.stderr).toMatch(new RegExp(`debian12 amd64: ${os.packages.length} packages of its own repositories bundled \\(.*conntrack.*\\); \\d+ more it needs are on every installation \\(Priority required\\)`));
    expect(c.stderr).not.toMatch(/not in the bundle, from each release's own repositories/);
  }, 300_000);

  it('refuses a tree whose InRelease is signed by a key the inventory does not trust, and writes no bundle', async () => {
    const other = buildAptMirror(join(dir, 'other'), DEBS.slice(0, 1));
    const saved = inv.cluster.repositoryKeyFingerprints;
    inv.cluster.repositoryKeyFingerprints = [other.fingerprint];
    try {
      await expect(bundle(join(dir, 'untrusted.bundle'), join(dir, 'cache4'))).rejects.toThrow(/InRelease|fingerprint .* is not one the inventory trusts/);
    } finally {
      inv.cluster.repositoryKeyFingerprints = saved;
    }
    expect(readdirSync(dir).filter((f) => f.startsWith('untrusted.bundle') || f.startsWith('.untrusted'))).toEqual([]);
  });
});
