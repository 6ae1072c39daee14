/**
 * `kbootstrap bundle` for RHEL-family hosts and for two architectures, against real servers on
 * loopback: a signed rpm mirror built with rpmbuild and createrepo_c (test/support/rpm-tree.ts)
 * served by the lab's repository server, and Debian's docker-registry with TLS and htpasswd holding
 * each image kubeadm's list names as a manifest list for linux/amd64 and linux/arm64. The bundle's
 * repositories are then read by real dnf (Debian's dnf 4), which checks repomd.xml's signature
 * (repo_gpgcheck) and installs from the bundle served on another port: the mirror's log shows no
 * request from it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventoryFile } from '../src/inventory/load.js';
import type { BundleRun, HostSpec, Inventory } from '../src/inventory/model.js';
import { imagesFor } from '../src/steps/bundle.js';
import { readRegistryAuth } from '../src/run/registry-auth.js';
import { buildBundle } from '../src/bundle/build.js';
import { BundleCache } from '../src/bundle/fetch.js';
import { bundleNeeds, kubeadmImages } from '../src/bundle/needs.js';
import { parseImageRef } from '../src/bundle/images.js';
import { compareEvr, rpmvercmp } from '../src/bundle/rpm.js';
import { verifyBundle } from '../src/bundle/verify.js';
import type { BundleManifest } from '../src/bundle/manifest.js';
import { serveMirror } from './support/apt-tree.js';
import { buildRpmMirror, type RpmMirror, type TestRpm } from './support/rpm-tree.js';
import { buildOciImage } from './support/oci-image.js';
import { pushImage, pushIndex } from './support/registry-push.js';
import { labCa, registryBinary, registryConfig, startUntil } from './support/registry.js';

const REG = registryBinary();
function missing(): string {
  if ('skip' in REG) return REG.skip;
  for (const t of ['gpg', 'rpmbuild', 'createrepo_c', 'dnf', 'rpm', 'skopeo', 'openssl', 'python3', 'tar']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is missing (Debian: rpm, createrepo-c, dnf, skopeo)`;
  }
  return '';
}
const SKIP = missing();
const PASSWORD = 'bundle-rpm-registry-pw-7730';

const RPMS: TestRpm[] = [
  // container-selinux is the OS's (EL9's appstream): listed, not bundled
  { name: 'containerd.io', version: '1.7.27', release: '3.1.el9', requires: ['container-selinux >= 2:2.74', 'runc-helper >= 1.1'], tree: 'docker' },
  { name: 'containerd.io', version: '1.6.33', release: '3.1.el9', tree: 'docker' },
  { name: 'runc-helper', version: '1.2.0', release: '1.el9', files: ['/usr/bin/runc-helper'], tree: 'docker' },
  { name: 'kubelet', version: '1.30.4', release: '150500.1.1', requires: ['kubernetes-cni >= 1.2.0', 'conntrack', '/usr/bin/crictl'], files: ['/usr/bin/kubelet'], tree: 'kube' },
  { name: 'kubelet', version: '1.30.3', release: '150500.1.1', requires: ['kubernetes-cni >= 1.2.0'], tree: 'kube' },
  { name: 'kubeadm', version: '1.30.4', release: '150500.1.1', requires: ['kube-tools >= 1.30.0'], tree: 'kube' },
  { name: 'kubeadm', version: '1.30.3', release: '150500.1.1', tree: 'kube' },
  { name: 'kubectl', version: '1.30.4', release: '150500.1.1', tree: 'kube' },
  // found by a provide and by a file, not by name
  { name: 'cri-tools', version: '1.30.1', release: '150500.1.1', provides: ['kube-tools = 1.30.1'], files: ['/usr/bin/crictl'], tree: 'kube' },
  { name: 'kubernetes-cni', version: '1.4.0', release: '150500.1.1', tree: 'kube' },
  { name: 'kubernetes-cni', version: '1.1.1', release: '150500.1.1', tree: 'kube' },
  // Rocky 9's own BaseOS and AppStream (x86_64): its comps group core is kb-core-utils (mandatory) and
  // policycoreutils (default), ipvsadm only optional; kb-libc comes in with core's closure
  { name: 'kb-core-utils', version: '9.0', release: '1.el9', requires: ['kb-libc'], tree: 'baseos' },
  { name: 'kb-libc', version: '2.34', release: '1.el9', tree: 'baseos' },
  { name: 'policycoreutils', version: '3.6', release: '1.el9', tree: 'baseos' },
  { name: 'conntrack-tools', version: '1.4.7', release: '2.el9', provides: ['conntrack'], requires: ['libnetfilter_cttimeout', 'kb-libc'], tree: 'baseos' },
  { name: 'libnetfilter_cttimeout', version: '1.0.0', release: '19.el9', tree: 'baseos' },
  { name: 'ipset', version: '7.11', release: '8.el9', requires: ['ipset-libs = 7.11-8.el9'], tree: 'baseos' },
  { name: 'ipset-libs', version: '7.11', release: '8.el9', tree: 'baseos' },
  { name: 'ipvsadm', version: '1.31', release: '6.el9', tree: 'baseos' },
  { name: 'container-selinux', version: '2.229.0', release: '1.el9', epoch: 2, requires: ['policycoreutils', 'selinux-policy-container-extra'], tree: 'appstream' },
  { name: 'selinux-policy-container-extra', version: '38.1', release: '1.el9', tree: 'appstream' },
];
const CORE = { mandatory: ['kb-core-utils'], default: ['policycoreutils'], optional: ['ipvsadm'] };

describe('rpm version order (rpm\'s rpmvercmp)', () => {
  it('orders versions as rpm does', () => {
    // cases from rpm's own test suite (tests/rpmvercmp.at)
    const cases: [string, string, number][] = [
      ['1.0', '1.0', 0], ['1.0', '2.0', -1], ['2.0', '1.0', 1], ['2.0.1', '2.0.1', 0], ['2.0', '2.0.1', -1], ['2.0.1a', '2.0.1', 1],
      ['5.5p1', '5.5p2', -1], ['5.5p10', '5.5p1', 1], ['10xyz', '10.1xyz', -1], ['xyz10', 'xyz10.1', -1], ['1.0aa', '1.0a', 1],
      ['10.0001', '10.1', 0], ['10.0039', '10.39', 0], ['4.999.9', '5.0', -1], ['20101121', '20101122', -1], ['2_0', '2_0', 0],
      ['2.0', '2_0', 0], ['a', 'a', 0], ['a+', 'a_', 0], ['+', '_', 0], ['1.0~rc1', '1.0', -1], ['1.0~rc1', '1.0~rc2', -1],
      ['1.0~rc1~git123', '1.0~rc1', -1], ['1.0^', '1.0', 1], ['1.0^git1', '1.0^git2', -1], ['1.0^git1', '1.01', -1],
      ['1.0^20160101', '1.0.1', -1], ['1.0~rc1^git1', '1.0~rc1', 1], ['1.0^git1~pre', '1.0^git1', -1], ['1b.fc17', '1.fc17', -1],
    ];
    for (const [a, b, want] of cases) expect(Math.sign(rpmvercmp(a, b)), `${a} vs ${b}`).toBe(want);
    expect(compareEvr({ epoch: '2', ver: '1.0' }, { epoch: '1', ver: '9.0' })).toBeGreaterThan(0);
    expect(compareEvr({ ver: '1.30.4', rel: '150500.1.1' }, { ver: '1.30.4' })).toBe(0);
  });
});

describe('up --bundle with a bundle of two architectures', () => {
  it('each host imports its own architecture\'s archives, and a control plane its role\'s', () => {
    const img = (ref: string, file: string, platform: string | undefined, controlPlaneOnly = false) => ({ ref, file, sha256: 'x', controlPlaneOnly, ...(platform ? { platform } : {}) });
    const b = {
      file: 'b', sha256: 'x', size: 1, address: '10.0.0.1',
      images: [img('registry.k8s.io/pause:3.9', 'p', 'linux/amd64'), img('registry.k8s.io/pause:3.9', 'p.arm64', 'linux/arm64'), img('registry.k8s.io/etcd:3.5.15-0', 'e.arm64', 'linux/arm64', true)],
    } satisfies BundleRun;
    const host = (role: 'worker' | 'control-plane') => ({ name: 'h', address: '10.0.0.2', role, labels: {} }) as unknown as HostSpec;
    expect(imagesFor(b, host('worker'), 'arm64').map((i) => i.file)).toEqual(['p.arm64']);
    expect(imagesFor(b, host('control-plane'), 'arm64').map((i) => i.file)).toEqual(['p.arm64', 'e.arm64']);
    expect(imagesFor(b, host('control-plane'), 'amd64').map((i) => i.file)).toEqual(['p']);
    // a bundle from before --arch names no platform: every host takes it
    expect(imagesFor({ ...b, images: [img('registry.k8s.io/pause:3.9', 'p', undefined)] }, host('worker'), 'arm64').map((i) => i.file)).toEqual(['p']);
  });
});

describe.skipIf(!!SKIP)('bundle for RHEL hosts against a loopback rpm mirror and registry', () => {
  const procs: ChildProcess[] = [];
  let dir: string;
  let inv: Inventory;
  let mirror: RpmMirror;
  let mirrorLog: string[];
  const repoPort = 24000 + Math.floor(Math.random() * 2000);
  const regPort = repoPort + 2100;
  const env = { ...process.env, KB_TEST_BUNDLE_PASSWORD: PASSWORD };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kb-bundle-rpm-'));
    mirror = buildRpmMirror(join(dir, 'mirror'), RPMS, undefined, { core: CORE });
    ({ log: mirrorLog } = await serveMirror(mirror.root, repoPort, procs));
    const reg = join(dir, 'registry');
    const tls = labCa(join(reg, 'ca'), 'kb-bundle-rpm-ca');
    const conf = registryConfig(reg, `127.0.0.1:${regPort}`, tls, { kb: PASSWORD });
    await startUntil([(REG as { bin: string }).bin, 'serve', conf], /listening on/, 'docker-registry', procs);
    copyFileSync(tls.ca, join(dir, 'registry-ca.crt'));
    writeFileSync(join(dir, 'inventory.yaml'), [
      'apiVersion: kbootstrap/v1', 'kind: Inventory', 'cluster:', '  name: air', '  kubernetesVersion: "1.30.4"', '  cni: { plugin: none }',
      `  packageMirror: "http://127.0.0.1:${repoPort}"`, '  allowInsecureHttp: true', `  repositoryKeyFingerprints: ["${mirror.fingerprint}"]`,
      '  registries:', `    - host: "127.0.0.1:${regPort}"`, '      mirrorOf: [registry.k8s.io]', '      caFile: registry-ca.crt',
      '      credentials: { username: kb, passwordEnv: KB_TEST_BUNDLE_PASSWORD }',
      'hosts:', '  - { name: el-cp, address: 10.20.0.10, role: control-plane, os: rocky9 }', '',
    ].join('\n'));
    inv = loadInventoryFile(join(dir, 'inventory.yaml')).inventory;
    // every image as a manifest list for linux/amd64 and linux/arm64 (one tiny image per platform)
    const ca = readFileSync(tls.ca);
    const amd = buildOciImage(join(dir, 'amd64.oci.tar'), 'kb/true:1', { '/bin/true': 'true' }, 'amd64');
    const arm = buildOciImage(join(dir, 'arm64.oci.tar'), 'kb/true:1', { '/bin/true': 'true' }, 'arm64');
    for (const ref of kubeadmImages(inv)) {
      const r = parseImageRef(ref);
      await pushImage(amd.archive, `127.0.0.1:${regPort}`, r.repo, 'p-amd64', ca, 'kb', PASSWORD);
      await pushImage(arm.archive, `127.0.0.1:${regPort}`, r.repo, 'p-arm64', ca, 'kb', PASSWORD);
      await pushIndex(`127.0.0.1:${regPort}`, r.repo, r.tag, [
        { digest: amd.manifestDigest, size: amd.manifestSize, architecture: 'amd64' }, { digest: arm.manifestDigest, size: arm.manifestSize, architecture: 'arm64' },
      ], ca, 'kb', PASSWORD);
    }
  }, 180_000);

  afterAll(() => {
    for (const p of procs) p.kill('SIGKILL');
    if (mirror) spawnSync('gpgconf', ['--homedir', mirror.gnupgHome, '--kill', 'gpg-agent']);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const bundle = async (file: string, cacheDir: string, arches: ('amd64' | 'arm64')[] = ['amd64', 'arm64']) => {
    const lines: string[] = [];
    const r = await buildBundle(inv, { releases: ['rocky9'], arches, file, cache: new BundleCache(cacheDir), concurrency: 4, auth: readRegistryAuth(inv, env).auth, say: (l) => lines.push(l) });
    return { ...r, lines };
  };
  const entries = (file: string) => execFileSync('tar', ['-tf', file], { encoding: 'utf8' }).split('\n').filter(Boolean);

  it('takes the pinned packages and the requirements the repositories provide, per architecture, with the repodata as upstream signed it', async () => {
    const file = join(dir, 'el.bundle');
    const t0 = Date.now();
    const r = await bundle(file, join(dir, 'cache'));
    const ms = Date.now() - t0;
    const m = r.manifest;
    expect(m.arches).toEqual(['amd64', 'arm64']);
    expect(m.osReleases.map((x) => `${x.os} ${x.arch}`)).toEqual(['rocky9 amd64', 'rocky9 arm64']);
    for (const rel of m.osReleases) {
      const a = rel.arch === 'amd64' ? 'x86_64' : 'aarch64';
      expect(rel.packages.map((p) => `${p.name}-${p.version}`).sort()).toEqual([
        'containerd.io-1.7.27-3.1.el9', 'cri-tools-1.30.1-150500.1.1', 'kubeadm-1.30.4-150500.1.1', 'kubectl-1.30.4-150500.1.1',
        'kubelet-1.30.4-150500.1.1', 'kubernetes-cni-1.4.0-150500.1.1', 'runc-helper-1.2.0-1.el9',
      ]);
      expect(rel.packages.every((p) => p.file.endsWith(`.${a}.rpm`))).toBe(true);
      expect(rel.fromOs).toEqual(['conntrack', 'container-selinux >= 2:2.74']);
    }
    const names = entries(file);
    expect(names).toContain('docker-ce/linux/centos/9/x86_64/stable/Packages/containerd.io-1.7.27-3.1.el9.x86_64.rpm');
    expect(names).toContain('docker-ce/linux/centos/9/aarch64/stable/Packages/containerd.io-1.7.27-3.1.el9.aarch64.rpm');
    expect(names).toContain('kubernetes-new/core/stable/v1.30/rpm/aarch64/kubelet-1.30.4-150500.1.1.aarch64.rpm');
    expect(names).not.toContain('kubernetes-new/core/stable/v1.30/rpm/x86_64/kubelet-1.30.3-150500.1.1.x86_64.rpm');
    // repomd.xml byte for byte, with its signature and every file it lists
    const kube = 'kubernetes-new/core/stable/v1.30/rpm';
    for (const f of ['repodata/repomd.xml', 'repodata/repomd.xml.asc', 'repodata/repomd.xml.key']) expect(names).toContain(`${kube}/${f}`);
    expect(names.filter((n) => n.startsWith(`${kube}/repodata/`) && /-(primary|filelists|other)\.xml\.gz$/.test(n))).toHaveLength(3);
    expect(names).toContain('docker-ce/linux/centos/gpg');
    const x = mkdtempSync(join(dir, 'x-'));
    execFileSync('tar', ['-xf', file, '-C', x]);
    expect(readFileSync(join(x, kube, 'repodata/repomd.xml'))).toEqual(readFileSync(join(mirror.kube, 'repodata/repomd.xml')));
    // images for both platforms
    expect(m.images.filter((i) => i.platform === 'linux/arm64').map((i) => i.file)).toContain('images/registry.k8s.io_pause_3.9.arm64.oci.tar');
    expect(m.images).toHaveLength(2 * kubeadmImages(inv).length);
    // the bundle is whole and for this inventory
    await expect(verifyBundle(file, inv)).resolves.toMatchObject({ kubernetesVersion: '1.30.4' });
    console.log(`rpm bundle (rocky9, amd64+arm64): ${(r.size / 1024).toFixed(0)} KiB, ${m.files.length} files, ${ms} ms, cold cache`);
  }, 120_000);

  it('real dnf reads the bundle\'s repositories (repo_gpgcheck) and installs from them, never from the mirror', async () => {
    const file = join(dir, 'el.bundle');
    const served = mkdtempSync(join(dir, 'served-'));
    execFileSync('tar', ['-xf', file, '-C', served]);
    const port = repoPort + 1;
    const { log } = await serveMirror(served, port, procs);
    const before = mirrorLog.length;
    const root = mkdtempSync(join(dir, 'root-'));
    const key = join(served, 'kubernetes-new/core/stable/v1.30/rpm/repodata/repomd.xml.key');
    // the repository as kbootstrap's kubernetes.repo has it under the bundle server, with repo_gpgcheck on top
    const conf = join(dir, 'dnf.conf');
    writeFileSync(conf, ['[main]', 'reposdir=/dev/null', 'install_weak_deps=0', '',
      '[kubernetes]', 'name=Kubernetes v1.30', `baseurl=http://127.0.0.1:${port}/kubernetes-new/core/stable/v1.30/rpm/`,
      'enabled=1', 'gpgcheck=0', 'repo_gpgcheck=1', `gpgkey=file://${key}`, ''].join('\n'));
    const dnf = (args: string[]) => spawnSync('dnf', ['-c', conf, `--installroot=${root}`, '--releasever=9', '--forcearch=x86_64', '-y', ...args], { encoding: 'utf8' });
    // kubeadm and kubectl need nothing the OS provides; cri-tools comes in by its provide
    const r = dnf(['install', 'kubeadm-1.30.4', 'kubectl-1.30.4']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const q = spawnSync('rpm', ['--root', root, '-qa', '--qf', '%{NAME}-%{VERSION}\\n'], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).sort();
    expect(q).toEqual(['cri-tools-1.30.1', 'kubeadm-1.30.4', 'kubectl-1.30.4']);
    // the servers' logs arrive through this process's event loop, which spawnSync held
    await new Promise((res) => setTimeout(res, 300));
    expect(log.some((l) => /GET \/kubernetes-new\/core\/stable\/v1\.30\/rpm\/repodata\/repomd\.xml\.asc/.test(l))).toBe(true);
    expect(mirrorLog.slice(before)).toEqual([]);
    // a repomd.xml changed after signing: dnf refuses it too (the oracle checks the signature)
    appendFileSync(join(served, 'kubernetes-new/core/stable/v1.30/rpm/repodata/repomd.xml'), '\n');
    const bad = dnf(['--setopt=*.metadata_expire=0', 'makecache']);
    expect(bad.status).not.toBe(0);
    // dnf left a gpg-agent for the keyring it imported the key into
    const cache = join(root, 'var/cache/dnf');
    for (const d of readdirSync(cache).filter((n) => n.startsWith('kubernetes-'))) spawnSync('gpgconf', ['--homedir', join(cache, d, 'pubring'), '--kill', 'gpg-agent']);
  }, 120_000);

  it('--with-os-packages: BaseOS and AppStream give what a minimal Rocky 9 lacks, with what that requires; real dnf installs the cluster\'s packages from the bundle alone on a root holding @core', async () => {
    const file = join(dir, 'os.bundle');
    const lines: string[] = [];
    const t0 = Date.now();
    const r = await buildBundle(inv, { releases: ['rocky9'], arches: ['amd64'], file, cache: new BundleCache(join(dir, 'cache')), concurrency: 4, auth: readRegistryAuth(inv, env).auth, say: (l) => lines.push(l), withOsPackages: true });
    const ms = Date.now() - t0;
    const rel = r.manifest.osReleases[0]!;
    const steps = bundleNeeds(inv, ['rocky9']).osReleases[0]!.osPackages.map((p) => p.name);
    // what the steps install (kube-proxy's mode) and what the bundled packages require, with their own requirements
    expect(rel.osPackages!.packages.map((p) => `${p.name}-${p.version}`).sort()).toEqual([
      'conntrack-tools-1.4.7-2.el9', 'container-selinux-2.229.0-1.el9', 'libnetfilter_cttimeout-1.0.0-19.el9', 'selinux-policy-container-extra-38.1-1.el9',
      ...(steps.includes('ipset') ? ['ipset-7.11-8.el9', 'ipset-libs-7.11-8.el9'] : []), ...(steps.includes('ipvsadm') ? ['ipvsadm-1.31-6.el9'] : []),
    ].sort());
    // on every installation already: core and its closure
    expect(rel.osPackages!.present).toEqual(['kb-libc', 'policycoreutils']);
    expect(rel.fromOs).toEqual([]);
    expect(rel.trees.map((t) => t.path)).toEqual(expect.arrayContaining(['rockylinux/9/BaseOS/x86_64/os', 'rockylinux/9/AppStream/x86_64/os']));
    const names = entries(file);
    expect(names).toContain('rockylinux/9/BaseOS/x86_64/os/repodata/repomd.xml.asc');
    expect(names).toContain('rockylinux/RPM-GPG-KEY-Rocky-9');
    expect(names.some((n) => n.includes('kb-core-utils'))).toBe(false);
    await expect(verifyBundle(file, inv)).resolves.toMatchObject({ kubernetesVersion: '1.30.4' });
    if (process.env.KB_BUNDLE_FIGURES) {
      const plain = await bundle(join(dir, 'plain-amd64.bundle'), join(dir, 'cache'), ['amd64']);
      console.log(`rocky9 amd64 bundle: ${plain.size} bytes, ${plain.manifest.files.length} files without --with-os-packages; ${r.size} bytes, ${r.manifest.files.length} files with it (${ms} ms)`);
    }

    // the judge: real dnf. A minimal Rocky 9 (dnf install @core from the mirror), then the cluster's packages from the bundle's repositories only
    const served = mkdtempSync(join(dir, 'served-os-'));
    execFileSync('tar', ['-xf', file, '-C', served]);
    const port = repoPort + 2;
    await serveMirror(served, port, procs);
    const root = mkdtempSync(join(dir, 'root-os-'));
    const repo = (id: string, base: string, key: string) => [`[${id}]`, `name=${id}`, `baseurl=${base}/`, 'enabled=1', 'gpgcheck=0', 'repo_gpgcheck=1', `gpgkey=file://${key}`, ''];
    const conf = (name: string, repos: string[][]) => { const f = join(dir, name); writeFileSync(f, ['[main]', 'reposdir=/dev/null', 'install_weak_deps=0', '', ...repos.flat()].join('\n')); return f; };
    const dnf = (c: string, args: string[]) => spawnSync('dnf', ['-c', c, `--installroot=${root}`, '--releasever=9', '--forcearch=x86_64', '-y', ...args], { encoding: 'utf8' });
    const up = `http://127.0.0.1:${repoPort}`, b = `http://127.0.0.1:${port}`;
    const minimal = dnf(conf('minimal.conf', [repo('baseos', `${up}/rockylinux/9/BaseOS/x86_64/os`, join(mirror.root, 'rockylinux/RPM-GPG-KEY-Rocky-9'))]), ['install', '@core']);
    expect(minimal.status, minimal.stdout + minimal.stderr).toBe(0);
    // the mirror's log of that install arrives through this process's event loop, which spawnSync held
    await new Promise((res) => setTimeout(res, 300));
    const before = mirrorLog.length;
    const key = (p: string) => join(served, p);
    const fromBundle = conf('bundle.conf', [
      repo('kubernetes', `${b}/kubernetes-new/core/stable/v1.30/rpm`, key('kubernetes-new/core/stable/v1.30/rpm/repodata/repomd.xml.key')),
      repo('docker-ce-stable', `${b}/docker-ce/linux/centos/9/x86_64/stable`, key('docker-ce/linux/centos/gpg')),
      repo('kbootstrap-bundle-baseos', `${b}/rockylinux/9/BaseOS/x86_64/os`, key('rockylinux/RPM-GPG-KEY-Rocky-9')),
      repo('kbootstrap-bundle-appstream', `${b}/rockylinux/9/AppStream/x86_64/os`, key('rockylinux/RPM-GPG-KEY-Rocky-9')),
    ]);
    const install = dnf(fromBundle, ['install', 'containerd.io', 'kubeadm-1.30.4', 'kubelet-1.30.4', 'kubectl-1.30.4', ...steps]);
    expect(install.status, install.stdout + install.stderr).toBe(0);
    const q = spawnSync('rpm', ['--root', root, '-qa', '--qf', '%{NAME}\\n'], { encoding: 'utf8' }).stdout;
    for (const n of ['container-selinux', 'selinux-policy-container-extra', 'conntrack-tools', 'libnetfilter_cttimeout', 'kubelet', ...steps]) expect(q).toContain(`${n}\n`);
    await new Promise((res) => setTimeout(res, 300));
    expect(mirrorLog.slice(before)).toEqual([]);
    const cache = join(root, 'var/cache/dnf');
    for (const d of readdirSync(cache)) spawnSync('gpgconf', ['--homedir', join(cache, d, 'pubring'), '--kill', 'gpg-agent']);
  }, 180_000);

  it('refuses a repository whose repomd.xml does not match its signature, naming the repository', async () => {
    const repomd = join(mirror.docker('x86_64'), 'repodata', 'repomd.xml');
    const good = readFileSync(repomd);
    writeFileSync(repomd, good.toString().replace('<revision>', '<revision>1'));
    try {
      await expect(bundle(join(dir, 'sig.bundle'), join(dir, 'cache-sig'), ['amd64'])).rejects.toThrow(
        /the repository docker-centos-9-x86_64 \(http:\/\/127\.0\.0\.1:\d+\/docker-ce\/linux\/centos\/9\/x86_64\/stable\): repodata\/repomd\.xml does not match its signature repomd\.xml\.asc/);
    } finally {
      writeFileSync(repomd, good);
    }
  }, 60_000);

  it('refuses a package with one byte changed, naming the file, when bundling and when checking a bundle', async () => {
    const rpm = join(mirror.kube, 'x86_64', 'kubectl-1.30.4-150500.1.1.x86_64.rpm');
    const good = readFileSync(rpm);
    const bad = Buffer.from(good);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    writeFileSync(rpm, bad);
    try {
      await expect(bundle(join(dir, 'tamper.bundle'), join(dir, 'cache-tamper'), ['amd64'])).rejects.toThrow(
        /kubernetes-new\/core\/stable\/v1\.30\/rpm\/x86_64\/kubectl-1\.30\.4-150500\.1\.1\.x86_64\.rpm: sha256 [0-9a-f]{64}, but the signed metadata says/);
    } finally {
      writeFileSync(rpm, good);
    }
    // a bundle whose rpm changed after it was made
    const file = join(dir, 'el.bundle');
    const x = mkdtempSync(join(dir, 't-'));
    execFileSync('tar', ['-xf', file, '-C', x]);
    const inside = join(x, 'kubernetes-new/core/stable/v1.30/rpm/x86_64/kubectl-1.30.4-150500.1.1.x86_64.rpm');
    const b = readFileSync(inside);
    b[100] = b[100]! ^ 1;
    writeFileSync(inside, b);
    const changed = join(dir, 'changed.bundle');
    execFileSync('tar', ['-cf', changed, '-C', x, ...readdirSync(x)]);
    await expect(verifyBundle(changed, inv)).rejects.toThrow(/kubernetes-new\/core\/stable\/v1\.30\/rpm\/x86_64\/kubectl-1\.30\.4-150500\.1\.1\.x86_64\.rpm has sha256 [0-9a-f]{64}, the manifest says/);
  }, 60_000);

  it('refuses an image that exists for one platform only when the bundle needs another', async () => {
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', join(dir, 'el.bundle'), 'manifest.json'], { encoding: 'utf8' })) as BundleManifest;
    // a bundle made for amd64 only is refused for the arm64 packages it lacks when it says it carries arm64
    expect(manifest.osReleases).toHaveLength(2);
    expect(bundleNeeds(inv, ['rocky9'], ['arm64']).osReleases[0]!.trees.map((t) => t.id)).toEqual(['docker-centos-9-aarch64', 'kubernetes-v1.30-rpm']);
    mkdirSync(join(dir, 'single'), { recursive: true });
    const ca = readFileSync(join(dir, 'registry-ca.crt'));
    const amd = buildOciImage(join(dir, 'single', 'amd64.oci.tar'), 'kb/true:1', { '/bin/true': 'true' }, 'amd64');
    const pause = parseImageRef(kubeadmImages(inv).find((i) => i.includes('pause'))!);
    await pushImage(amd.archive, `127.0.0.1:${regPort}`, pause.repo, pause.tag, ca, 'kb', PASSWORD);
    try {
      await expect(bundle(join(dir, 'single.bundle'), join(dir, 'cache'), ['arm64'])).rejects.toThrow(/registry\.k8s\.io\/pause:3\.9: https:\/\/127\.0\.0\.1:\d+ has it for linux\/amd64 only \(one image, no manifest list\), not linux\/arm64/);
    } finally {
      const arm = buildOciImage(join(dir, 'single', 'arm64.oci.tar'), 'kb/true:1', { '/bin/true': 'true' }, 'arm64');
      await pushIndex(`127.0.0.1:${regPort}`, pause.repo, pause.tag, [
        { digest: amd.manifestDigest, size: amd.manifestSize, architecture: 'amd64' }, { digest: arm.manifestDigest, size: arm.manifestSize, architecture: 'arm64' },
      ], ca, 'kb', PASSWORD);
    }
  }, 60_000);

  it('bundle --push copies the images into another registry of the inventory (TLS, htpasswd), two architectures as an image index: a second push sends nothing, up --bundle imports none of them', async () => {
    const file = join(dir, 'amd.bundle');
    await bundle(file, join(dir, 'cache'), ['amd64']);
    // the target: a second docker-registry with its own CA and password, standing in for registry.k8s.io
    const tport = regPort + 1;
    const treg = join(dir, 'target');
    const tls = labCa(join(treg, 'ca'), 'kb-push-ca');
    const TPW = 'push-target-pw-4471';
    await startUntil([(REG as { bin: string }).bin, 'serve', registryConfig(treg, `127.0.0.1:${tport}`, tls, { pusher: TPW })], /listening on/, 'docker-registry', procs);
    copyFileSync(tls.ca, join(dir, 'target-ca.crt'));
    const inv2 = join(dir, 'push.yaml');
    writeFileSync(inv2, readFileSync(join(dir, 'inventory.yaml'), 'utf8').replace('  registries:\n', [
      '  registries:', `    - host: "127.0.0.1:${tport}"`, '      mirrorOf: [registry.k8s.io]', '      caFile: target-ca.crt',
      '      credentials: { username: pusher, passwordEnv: KB_TEST_PUSH_PASSWORD }', ''].join('\n')).replace('mirrorOf: [registry.k8s.io]\n      caFile: registry-ca.crt', 'mirrorOf: [quay.io]\n      caFile: registry-ca.crt'));
    // spawned, not spawnSync: the registries' logs come through this process's pipes, which must keep flowing
    const cli = (args: string[], pw: string) => new Promise<{ status: number | null; stdout: string; stderr: string }>((res) => {
      const p = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'kbootstrap.js'), ...args], { env: { ...env, KB_TEST_PUSH_PASSWORD: pw, NO_COLOR: '1' } });
      let stdout = '', stderr = '';
      p.stdout.on('data', (b: Buffer) => { stdout += b.toString(); });
      p.stderr.on('data', (b: Buffer) => { stderr += b.toString(); });
      p.on('close', (status) => res({ status, stdout, stderr }));
    });
    const push = await cli(['bundle', inv2, '--push', `127.0.0.1:${tport}`, '--from', file], TPW);
    expect(push.status, push.stderr).toBe(0);
    const n = kubeadmImages(inv).length;
    expect(push.stdout).toBe(`${file}: ${n} images pushed to 127.0.0.1:${tport}, 0 already there; up --bundle imports on the hosts only what the registry lacks\n`);
    expect(push.stdout + push.stderr).not.toContain(TPW);
    expect(push.stdout + push.stderr).not.toContain(Buffer.from(`pusher:${TPW}`).toString('base64'));
    // the registry serves each under the upstream's path, with the bundle's digest
    const loaded = loadInventoryFile(inv2).inventory;
    const m = await verifyBundle(file, loaded);
    const auth = readRegistryAuth(loaded, { KB_TEST_PUSH_PASSWORD: TPW, KB_TEST_BUNDLE_PASSWORD: PASSWORD }).auth;
    const { registryHolds } = await import('../src/bundle/push.js');
    const reg = loaded.cluster.registries.find((r) => r.host === `127.0.0.1:${tport}`)!;
    for (const i of m.images) {
      const r = parseImageRef(i.ref);
      expect(await registryHolds(loaded, reg, r.repo, r.tag, i.digest, auth), i.ref).toBe(true);
    }
    // a second push sends nothing
    const again = await cli(['bundle', inv2, '--push', `127.0.0.1:${tport}`, '--from', file], TPW);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain(`0 images pushed to 127.0.0.1:${tport}, ${n} already there`);
    // up --bundle: nothing left to import (the hosts pull through hosts.toml); without the registry check, all of them
    const { bundleRun } = await import('../src/bundle/run.js');
    expect((await bundleRun(file, m, loaded, { registryAuth: auth })).images).toEqual([]);
    expect((await bundleRun(file, m, loaded)).images).toHaveLength(n);
    // the bundle of both architectures: each tag becomes an image index naming both platforms' manifests
    const both = join(dir, 'el.bundle');
    const multi = await cli(['bundle', inv2, '--push', `127.0.0.1:${tport}`, '--from', both], TPW);
    if (process.env.KB_BUNDLE_FIGURES) process.stderr.write(multi.stderr);
    expect(multi.status, multi.stderr).toBe(0);
    expect(multi.stdout).toContain(`${n} images pushed to 127.0.0.1:${tport}, 0 already there`);
    const mb = await verifyBundle(both, loaded);
    expect(mb.images).toHaveLength(2 * n);
    for (const i of mb.images) {
      const r = parseImageRef(i.ref);
      expect(await registryHolds(loaded, reg, r.repo, r.tag, i.digest, auth), `${i.ref} ${i.platform}`).toBe(true);
    }
    expect((await cli(['bundle', inv2, '--push', `127.0.0.1:${tport}`, '--from', both], TPW)).stdout).toContain(`0 images pushed to 127.0.0.1:${tport}, ${n} already there`);
    // a wrong password: refused naming the registry, the password in no output
    rmSync(join(treg, 'data'), { recursive: true, force: true });
    const bad = await cli(['bundle', inv2, '--push', `127.0.0.1:${tport}`, '--from', file], 'wrong-pw-9931');
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(new RegExp(`bundle --push: registry\\.k8s\\.io/[^ ]+ to 127\\.0\\.0\\.1:${tport}/[^ ]+: skopeo said: .*(unauthorized|authentication required)`, 'i'));
    expect(bad.stdout + bad.stderr).not.toContain('wrong-pw-9931');
    // a registry the inventory does not name
    const other = await cli(['bundle', inv2, '--push', 'registry.example:5000', '--from', file], TPW);
    expect(other.status).toBe(2);
    expect(other.stderr).toContain(`bundle --push registry.example:5000: not a registry of the inventory's cluster.registries (it has 127.0.0.1:${tport}, 127.0.0.1:${regPort})`);
  }, 480_000);
});
