/**
 * Refusals of a bundle before any host changes (issue 21): a truncated archive, one byte changed in
 * one package, a file the manifest does not list, and a bundle for another inventory (other
 * Kubernetes version, runtime, a missing OS release, a missing image or package). Each names the
 * file or what is missing. The bundles here are made by the test with the `tar` library from a
 * manifest shaped like the one `bundle` writes (test/bundle.test.ts builds real ones).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { loadInventoryFile } from '../src/inventory/load.js';
import type { Inventory } from '../src/inventory/model.js';
import { bundleNeeds, bundleReleases } from '../src/bundle/needs.js';
import { compareDebVersions } from '../src/bundle/apt.js';
import type { BundleManifest } from '../src/bundle/manifest.js';
import { verifyBundle } from '../src/bundle/verify.js';
import { inventory, makeBundle, sha } from './support/bundle-fixture.js';

describe('a bundle is checked before any host changes', () => {
  let dir: string;
  let inv: Inventory;
  let good: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kb-bundle-verify-'));
    inv = inventory(dir);
    good = await makeBundle(dir, inv, ['debian12', 'ubuntu22.04'], 'good.bundle');
  });

  it('a whole bundle for the inventory passes', async () => {
    const m = await verifyBundle(good, inv);
    expect(m.osReleases.map((r) => r.os)).toEqual(['debian12', 'ubuntu22.04']);
  });

  it('a truncated bundle is refused, naming it', async () => {
    const bytes = readFileSync(good);
    const cut = join(dir, 'cut.bundle');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    await expect(verifyBundle(cut, inv)).rejects.toThrow(new RegExp(`bundle ${cut}: .*(truncated|damaged)`));
  });

  it('one byte changed in one package is refused, naming the package and the digests', async () => {
    const bytes = Buffer.from(readFileSync(good));
    const at = bytes.indexOf('kubeadm package bytes');
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] = 'X'.charCodeAt(0);
    const bad = join(dir, 'tampered.bundle');
    writeFileSync(bad, bytes);
    await expect(verifyBundle(bad, inv)).rejects.toThrow(/repos\/t-debian12\/kubeadm_1\.30\.4-1\.1_amd64\.deb has sha256 [0-9a-f]{64}, the manifest says [0-9a-f]{64}: changed after the bundle was made/);
  });

  it('a file the manifest does not list is refused', async () => {
    const extra = await makeBundle(dir, inv, ['debian12', 'ubuntu22.04'], 'extra.bundle', (m) => { m.files = m.files.filter((f) => !f.path.includes('kubectl')); });
    await expect(verifyBundle(extra, inv)).rejects.toThrow(/kubectl_1\.30\.4-1\.1_amd64\.deb is in the archive but not in its manifest/);
  });

  it('a file the manifest lists but the archive lacks is refused', async () => {
    const m = JSON.parse(await new Promise<string>((resolve) => {
      let s = '';
      void tar.t({ file: good, onReadEntry: (e) => { if (e.path === 'manifest.json') { e.on('data', (b: Buffer) => { s += b.toString(); }); e.on('end', () => resolve(s)); } else e.resume(); } });
    })) as BundleManifest;
    const lacking = join(dir, 'lacking.bundle');
    const stage = mkdtempSync(join(dir, 'stage-'));
    await tar.x({ file: good, cwd: stage });
    await tar.c({ file: lacking, cwd: stage, portable: true }, ['manifest.json', ...m.files.filter((f) => !f.path.includes('etcd')).map((f) => f.path)]);
    await expect(verifyBundle(lacking, inv)).rejects.toThrow(/images\/registry\.k8s\.io_etcd_3\.5\.15-0\.oci\.tar is missing/);
  });

  it('a bundle for another Kubernetes version is refused, naming both versions', async () => {
    const other = inventory(dir, []);
    other.cluster.kubernetesVersion = '1.30.5';
    await expect(verifyBundle(good, other)).rejects.toThrow(/it is for Kubernetes 1\.30\.4; the inventory's cluster\.kubernetesVersion is 1\.30\.5/);
  });

  it('a bundle for the other runtime is refused', async () => {
    const docker = inventory(dir);
    docker.cluster.containerRuntime = 'docker';
    await expect(verifyBundle(good, docker)).rejects.toThrow(/containerd runtime's packages; the inventory's cluster\.containerRuntime is docker/);
  });

  it('a bundle without a host\'s OS release is refused, naming the host and the --os to add', async () => {
    const one = await makeBundle(dir, inv, ['debian12'], 'debian-only.bundle');
    await expect(verifyBundle(one, inv)).rejects.toThrow(/no packages for Ubuntu 22\.04.* \(host air-w1, os: ubuntu22\.04\).*bundle --os ubuntu22\.04/);
  });

  it('a bundle without an image the cluster pulls is refused, naming the image', async () => {
    const vip = inventory(dir, ['  controlPlaneEndpoint: "10.20.0.100:6443"', '  loadBalancer: { type: kube-vip, address: 10.20.0.100, interface: eth0 }']);
    await expect(verifyBundle(good, vip)).rejects.toThrow(/the image ghcr\.io\/kube-vip\/kube-vip:\S+ \(kube-vip \(cluster\.loadBalancer\)\) is not in it/);
  });

  it('the images a local CNI manifest names must be in it, and the manifest must be the one they were read from', async () => {
    writeFileSync(join(dir, 'calico.yaml'), 'kind: DaemonSet\n');
    const file = join(dir, 'calico-inv.yaml');
    writeFileSync(file, readFileSync(inv.file, 'utf8').replace('  cni: { plugin: none }', '  cni: { plugin: calico, manifest: calico.yaml }'));
    const withCni = loadInventoryFile(file).inventory;
    const sum = sha(readFileSync(join(dir, 'calico.yaml')));
    const lacking = await makeBundle(dir, withCni, ['debian12', 'ubuntu22.04'], 'cni-lacking.bundle', (m) => {
      m.cniManifest = { local: join(dir, 'calico.yaml'), sha256: sum, images: ['docker.io/calico/node:v3.29.7'] };
    });
    await expect(verifyBundle(lacking, withCni)).rejects.toThrow(/the image docker\.io\/calico\/node:v3\.29\.7 \(named by the CNI manifest\) is not in it/);
    const stale = await makeBundle(dir, withCni, ['debian12', 'ubuntu22.04'], 'cni-stale.bundle', (m) => {
      m.cniManifest = { local: join(dir, 'calico.yaml'), sha256: sha('an older calico.yaml'), images: [] };
    });
    await expect(verifyBundle(stale, withCni)).rejects.toThrow(/its images are those of another .*calico\.yaml: the file changed since the bundle was made/);
    await expect(verifyBundle(good, withCni)).rejects.toThrow(/the CNI manifest .*calico\.yaml .* is not in it/);
  });

  it('a file that is not a bundle is refused', async () => {
    const junk = join(dir, 'junk.bundle');
    writeFileSync(junk, 'not a tar at all\n'.repeat(100));
    await expect(verifyBundle(junk, inv)).rejects.toThrow(/bundle .*junk\.bundle: (the archive is damaged|no manifest\.json)/);
    await expect(verifyBundle(join(dir, 'absent.bundle'), inv)).rejects.toThrow(/cannot read it: ENOENT/);
  });
});

describe('up --bundle checks the bundle before it connects to anything', () => {
  let dir: string;
  let inv: Inventory;
  let good: string;
  const cli = (args: string[]) => spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'kbootstrap.js'), ...args], { encoding: 'utf8' });
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kb-up-bundle-'));
    inv = inventory(dir);
    good = await makeBundle(dir, inv, ['debian12', 'ubuntu22.04'], 'good.bundle');
  });

  it('a changed byte is refused naming the file, before any host is contacted', () => {
    const bytes = Buffer.from(readFileSync(good));
    bytes[bytes.indexOf('kubelet package bytes') + 1] = 'Z'.charCodeAt(0);
    const bad = join(dir, 'bad.bundle');
    writeFileSync(bad, bytes);
    const t0 = Date.now();
    // the hosts (10.20.0.10, .11) are not reachable from here: a connection attempt would show as an SSH error and take seconds
    const r = cli(['up', inv.file, '--bundle', bad]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(new RegExp(`kbootstrap: bundle ${bad}: repos/t-debian12/kubelet_1\\.30\\.4-1\\.1_amd64\\.deb has sha256`));
    expect(r.stderr).not.toMatch(/ssh|connect|10\.20\.0\.1[01]/i);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('a bundle for another version is refused naming the version', () => {
    const other = join(dir, 'other.yaml');
    writeFileSync(other, readFileSync(inv.file, 'utf8').replace('kubernetesVersion: "1.30.4"', 'kubernetesVersion: "1.30.5"'));
    const r = cli(['up', other, '--bundle', good, '--dry-run']);
    expect([r.status, r.stderr]).toEqual([1, expect.stringMatching(/it is for Kubernetes 1\.30\.4; the inventory's cluster\.kubernetesVersion is 1\.30\.5/)]);
  });

  it('the dry run shows where each artifact comes from: the packages from the bundle server on the first control plane, the images from the bundle', () => {
    const r = cli(['up', inv.file, '--bundle', good, '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    const cp = r.stdout.slice(0, r.stdout.indexOf('kbootstrap dry run for air-w1'));
    expect(cp).toMatch(/# Packages from http:\/\/10\.20\.0\.10:8473: the bundle unpacked on air-cp/);
    expect(cp).toMatch(/# Image registry\.k8s\.io\/kube-apiserver:v1\.30\.4 \(sha256:[0-9a-f]{64}\): imported from the bundle's images\/registry\.k8s\.io_kube-apiserver_v1\.30\.4\.oci\.tar/);
    expect(r.stdout).toContain('deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.asc] http://10.20.0.10:8473/kubernetes-new/core/stable/v1.30/deb/ /');
    expect(r.stdout).toMatch(/deb \[arch=amd64 signed-by=\/etc\/apt\/keyrings\/docker\.asc\] http:\/\/10\.20\.0\.10:8473\/docker-ce\/linux\/ubuntu jammy stable/);
    expect(r.stdout).not.toMatch(/pkgs\.k8s\.io|download\.docker\.com/);
  });
});

describe('what a bundle is for', () => {
  it('dpkg\'s version order, judged by dpkg --compare-versions itself', () => {
    const pairs: [string, string][] = [
      ['1.0~rc1-1', '1.0-1'], ['1.0-1', '1.0-1.1'], ['2.0', '1:0.1'], ['1.30.3-1.1', '1.30.4-1.1'], ['1.30.4-1.1', '1.30.10-1.1'],
      ['5:20.10.24~3-0~debian-bookworm', '5:27.3.1-1~debian.12~bookworm'], ['1.6.33-1', '1.7.27-1'], ['1.0a', '1.0+'], ['1.0', '1.0a'], ['2.0~', '2.0'],
    ];
    for (const [a, b] of pairs) {
      expect(spawnSync('dpkg', ['--compare-versions', a, 'lt', b]).status, `${a} < ${b} for dpkg`).toBe(0);
      expect(compareDebVersions(a, b), `${a} < ${b}`).toBeLessThan(0);
      expect(compareDebVersions(b, a), `${b} > ${a}`).toBeGreaterThan(0);
      expect(compareDebVersions(a, a)).toBe(0);
    }
  });

  it('the hosts\' releases, each once (debian is debian12); a host without os: needs --os; the RHEL family\'s yum repositories per architecture, CentOS 7 refused with the reason', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-bundle-for-'));
    const write = (hosts: string[]) => {
      const f = join(dir, `i-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(f, ['apiVersion: kbootstrap/v1', 'kind: Inventory', 'cluster:', '  name: air', '  kubernetesVersion: "1.30.4"', '  cni: { plugin: none }', 'hosts:', ...hosts, ''].join('\n'));
      return loadInventoryFile(f).inventory;
    };
    const a = write(['  - { name: a, address: 10.0.0.1, role: control-plane, os: debian }', '  - { name: b, address: 10.0.0.2, role: worker, os: debian12 }']);
    expect(bundleReleases(a, ['ubuntu22.04', 'debian12'])).toEqual(['debian', 'ubuntu22.04']);
    const b = write(['  - { name: a, address: 10.0.0.1, role: control-plane }', '  - { name: b, address: 10.0.0.2, role: worker, os: debian12 }']);
    expect(() => bundleReleases(b, [])).toThrow(/bundle: a has no os: in the inventory: say which releases to bundle for with --os/);
    expect(bundleReleases(b, ['ubuntu24.04'])).toEqual(['debian12', 'ubuntu24.04']);
    // the RHEL family: the repositories of its .repo files, $releasever and $basearch expanded; CentOS 7's vault is not bundled
    const c = write(['  - { name: a, address: 10.0.0.1, role: control-plane, os: rocky9 }']);
    expect(bundleNeeds(c, bundleReleases(c, []), ['amd64', 'arm64']).osReleases.map((r) => [r.arch, r.trees.map((t) => t.base)])).toEqual([
      ['amd64', ['https://download.docker.com/linux/centos/9/x86_64/stable', 'https://pkgs.k8s.io/core:/stable:/v1.30/rpm']],
      ['arm64', ['https://download.docker.com/linux/centos/9/aarch64/stable', 'https://pkgs.k8s.io/core:/stable:/v1.30/rpm']],
    ]);
    const d = write(['  - { name: a, address: 10.0.0.1, role: control-plane, os: centos7 }']);
    expect(() => bundleNeeds(d, bundleReleases(d, []))).toThrow(/CentOS Linux 7.*not bundled: its base repositories \(CentOS 7's vault\) are not in a bundle/);
  });
});
