/**
 * Input and download integrity (issue 23): local CNI manifests stay under the
 * inventory's directory, downloads are checked on the host (signing-key
 * fingerprints, sha256) before they are trusted, plain http only where the
 * inventory says so, and values written into files are validated first.
 */
import { describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInventory, loadInventoryFile } from '../src/inventory/load.js';
import { InventoryError, formatProblem } from '../src/errors.js';
import { dryRun } from '../src/dry-run.js';
import { containerdHostFiles } from '../src/steps/container-runtime.js';
import { installKeys, keyInstallScript, keysCheck, missingKeys } from '../src/steps/repositories.js';
import { cniFetchScript } from '../src/steps/cni.js';
import type { StepHost } from '../src/steps/types.js';
import { debian } from '../src/os/debian.js';
import { rhel } from '../src/os/rhel.js';
import { assumedFacts } from '../src/os/index.js';
import { PRELUDE } from '../src/shell/prelude.js';

const BASE = readFileSync(join(import.meta.dirname, 'fixtures', 'base.yaml'), 'utf8');

function edit(from: string, to: string): string {
  if (!BASE.includes(from)) throw new Error(`fixture has no ${JSON.stringify(from)}`);
  return BASE.replace(from, to);
}

function errors(text: string, file = 'lab.yaml'): string[] {
  try {
    parseInventory(text, file);
  } catch (e) {
    if (e instanceof InventoryError) return e.problems.filter((p) => p.severity === 'error').map(formatProblem);
    throw e;
  }
  return [];
}

const withCluster = (lines: string) => edit('  kubeProxyMode: iptables', `  kubeProxyMode: iptables\n${lines}`);
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** An inventory in a fresh directory (with the given files beside it); returns its path. */
function inventoryDir(cni: string, files: Record<string, string> = {}): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kb-integrity-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const file = join(dir, 'inv.yaml');
  writeFileSync(file, edit('cni: { plugin: calico }', `cni: ${cni}`));
  return { dir, file };
}

function loadErrors(file: string): string[] {
  try {
    loadInventoryFile(file);
  } catch (e) {
    if (e instanceof InventoryError) return e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`);
    throw e;
  }
  return [];
}

describe('cni.manifest as a local file', () => {
  it('refuses an absolute path, ../, /proc/self/environ, a symlink out of the directory and a directory', () => {
    const outside = mkdtempSync(join(tmpdir(), 'kb-outside-'));
    writeFileSync(join(outside, 'secret.yaml'), 'password: hunter2\n');
    const { dir, file } = inventoryDir('{ plugin: calico, manifest: ./x.yaml }', { 'sub/ok.yaml': 'kind: List\n' });
    symlinkSync(join(outside, 'secret.yaml'), join(dir, 'link.yaml'));
    const cases: [string, RegExp][] = [
      [join(outside, 'secret.yaml'), /is an absolute path: a local manifest must be a file under the inventory's directory/],
      ['/proc/self/environ', /is an absolute path/],
      [`../${outside.split('/').pop()}/secret.yaml`, /outside the inventory's directory/],
      ['./link.yaml', /outside the inventory's directory/],
      ['./sub', /is not a regular file/],
    ];
    for (const [manifest, why] of cases) {
      writeFileSync(file, edit('cni: { plugin: calico }', `cni: { plugin: calico, manifest: ${JSON.stringify(manifest)} }`));
      const errs = loadErrors(file);
      expect(errs, manifest).toHaveLength(1);
      expect(errs[0], manifest).toMatch(/^cluster\.cni\.manifest: /);
      expect(errs[0], manifest).toMatch(why);
    }
    writeFileSync(file, edit('cni: { plugin: calico }', 'cni: { plugin: calico, manifest: ./sub/ok.yaml }'));
    expect(loadErrors(file)).toEqual([]);
  });

  it('refuses a manifest over 4 MiB, naming the cap', () => {
    const { file } = inventoryDir('{ plugin: calico, manifest: ./big.yaml }', { 'big.yaml': 'x'.repeat(4 * 1024 * 1024 + 1) });
    expect(loadErrors(file)).toEqual([`cluster.cni.manifest: "./big.yaml" is ${4 * 1024 * 1024 + 1} bytes, more than the 4 MiB a CNI manifest may have`]);
  });

  it('the error names the file, line and field', () => {
    const { file } = inventoryDir('{ plugin: calico, manifest: /etc/passwd }');
    expect(() => loadInventoryFile(file)).toThrow(`${file}:10:36 cluster.cni.manifest: "/etc/passwd" is an absolute path`);
  });

  it('the dry run shows the path and sha256, never the content', async () => {
    const content = 'kind: DaemonSet\n# - name: CALICO_IPV4POOL_CIDR\n#   value: "192.168.0.0/16"\nsecret-looking: s3cr3t-token\n';
    const { file } = inventoryDir('{ plugin: calico, manifest: ./calico.yaml }', { 'calico.yaml': content });
    const { inventory } = loadInventoryFile(file);
    const script = (await dryRun(inventory)).find((h) => h.host === 'k8s-master')!.script;
    expect(script).not.toContain('s3cr3t-token');
    expect(script).toContain(`sha256 ${sha(content)}`);
    expect(script).toContain('calico.yaml');
  });
});

describe('plain http is refused unless the inventory allows it', () => {
  it.each([
    ['packageMirror', 'packageMirror: aliyun', 'packageMirror: http://mirror.example.com', 'lab.yaml:8:18 cluster.packageMirror'],
    ['cni.manifest', 'cni: { plugin: calico }', 'cni: { plugin: calico, manifest: "http://example.com/calico.yaml", sha256: "' + 'a'.repeat(64) + '" }', 'lab.yaml:10:36 cluster.cni.manifest'],
    ['criDockerd.url', 'containerRuntime: containerd', `containerRuntime: docker\n  criDockerd: { url: "http://example.com/cri-dockerd", sha256: { cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb: "${'a'.repeat(64)}" } }`, 'lab.yaml:10:22 cluster.criDockerd.url'],
  ])('%s', (_name, from, to, where) => {
    const text = edit(from, to);
    expect(errors(text)).toEqual([expect.stringMatching(new RegExp(`^${where.replace(/\./g, '\\.')}: plain http:// lets anyone on the way change what the hosts install: use https, or set cluster.allowInsecureHttp: true`))]);
    expect(errors(text.replace('  kubeProxyMode: iptables', '  kubeProxyMode: iptables\n  allowInsecureHttp: true'))).toEqual([]);
  });
});

describe('loose values are refused before they reach a file', () => {
  it.each([
    ['..', 'insecureRegistries: [".."]'],
    ['.', 'insecureRegistries: ["."]'],
    ['a/../..', 'insecureRegistries: ["a/../.."]'],
    ['port 0', 'insecureRegistries: ["registry.local:0"]'],
  ])('insecureRegistries %s', (_name, line) => {
    expect(errors(withCluster(`  ${line}`))).toEqual([expect.stringMatching(/^lab\.yaml:12:\d+ cluster\.insecureRegistries\[0\]: expected a registry host or host:port like registry\.local:5000, got /)]);
  });

  it('a valid insecure registry writes under /etc/containerd/certs.d/ only', () => {
    const { inventory } = parseInventory(withCluster('  insecureRegistries: ["10.0.0.66:5000", "registry.local"]'), 'lab.yaml');
    expect(containerdHostFiles(inventory.cluster).map((f) => f.path)).toEqual(['/etc/containerd/certs.d/10.0.0.66:5000/hosts.toml', '/etc/containerd/certs.d/registry.local/hosts.toml']);
  });

  it.each([
    ['a quote', 'https://mirror.example.com/x"y'],
    ['$()', 'https://mirror.example.com/$(id)'],
    ['a backtick', 'https://mirror.example.com/`id`'],
    ['whitespace', 'https://mirror.example.com/a b'],
    ['a newline', 'https://mirror.example.com/a\nb'],
    ['a query', 'https://mirror.example.com/?x=1'],
  ])('packageMirror with %s', (_name, url) => {
    expect(errors(edit('packageMirror: aliyun', `packageMirror: ${JSON.stringify(url)}`))).toEqual([expect.stringMatching(/^lab\.yaml:8:18 cluster\.packageMirror: expected "upstream", "aliyun" or an https base URL/)]);
  });

  it('a clean mirror URL is accepted', () => {
    expect(errors(edit('packageMirror: aliyun', 'packageMirror: https://mirror.example.com:8443/pub/'))).toEqual([]);
  });

  it.each([
    ['a space', 'ghcr.io/kube-vip/kube-vip :v0.8.9'],
    ['a shell word', 'ghcr.io/kube-vip/kube-vip:v0.8.9;reboot'],
    ['upper case', 'ghcr.io/Kube-Vip/kube-vip:v0.8.9'],
    ['a short digest', 'ghcr.io/kube-vip/kube-vip@sha256:abc'],
  ])('loadBalancer.image with %s', (_name, image) => {
    expect(errors(withCluster(`  loadBalancer: { type: kube-vip, address: 192.168.40.100, image: "${image}" }`)))
      .toEqual([expect.stringMatching(/^lab\.yaml:12:\d+ cluster\.loadBalancer\.image: expected an image reference like ghcr\.io\/kube-vip\/kube-vip:v0\.8\.9 or ghcr\.io\/kube-vip\/kube-vip@sha256:<64 hex digits>, got /)]);
  });

  it('kube-vip pinned by digest is accepted and runs by that digest', async () => {
    const image = `registry.local:5000/kube-vip/kube-vip@sha256:${'ab'.repeat(32)}`;
    const { inventory } = parseInventory(withCluster(`  loadBalancer: { type: kube-vip, address: 192.168.40.100, image: "${image}" }`), 'lab.yaml');
    const script = (await dryRun(inventory)).find((h) => h.host === 'k8s-master')!.script;
    expect(script).toContain(image);
  });
});

describe('digests in messages', () => {
  it('an image digest and a file digest stay readable; certificate keys and CA hashes do not', async () => {
    const { Redactor } = await import('../src/redact.js');
    const hex = 'ab'.repeat(32);
    const r = new Redactor();
    expect(r.redact(`image: ghcr.io/kube-vip/kube-vip@sha256:${hex}`)).toBe(`image: ghcr.io/kube-vip/kube-vip@sha256:${hex}`);
    expect(r.redact(`has sha256 ${hex}, not`)).toBe(`has sha256 ${hex}, not`);
    expect(r.redact(`--discovery-token-ca-cert-hash sha256:${hex}`)).toBe('--discovery-token-ca-cert-hash sha256:<redacted>');
    expect(r.redact(`Using certificate key:\n${hex}`)).toBe('Using certificate key:\n<redacted-key>');
  });
});

// ---------------------------------------------------------------- downloads, checked on the host
// The scripts run here in bash, with a curl that serves local files; no network, nothing under /etc.

const LAB_KEY = join(import.meta.dirname, 'lab', 'fixtures', 'signing-key.asc');
const LAB_FPR = '8DD1C0224A7187196CD2CC29E2A1C84A8D08673B';
const OTHER_KEY = join(import.meta.dirname, 'fixtures', 'untrusted-signing-key.asc');

/** Run script after the prelude in bash; curl serves serve[url]; other fake programs record their calls. */
function runLocal(script: string, serve: Record<string, string>, fakes: string[] = [], opts: { noGpg?: boolean } = {}): { code: number; stderr: string; calls: string } {
  const dir = mkdtempSync(join(tmpdir(), 'kb-run-'));
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  writeFileSync(join(dir, 'serve.json'), JSON.stringify(serve));
  writeFileSync(join(bin, 'curl'), `#!/usr/bin/env node
const a = process.argv.slice(2); const out = a[a.indexOf('-o') + 1]; const url = a.filter((x) => !x.startsWith('-') && x !== out).pop();
const src = JSON.parse(require('fs').readFileSync(${JSON.stringify(join(dir, 'serve.json'))}, 'utf8'))[url];
if (!src) { process.stderr.write('curl: (6) Could not resolve host\\n'); process.exit(6); }
require('fs').copyFileSync(src, out);
`, { mode: 0o755 });
  for (const f of fakes) writeFileSync(join(bin, f), `#!/bin/sh\necho "${f} $*" >> ${join(dir, 'calls')}\n`, { mode: 0o755 });
  let path = `${bin}:${process.env.PATH}`;
  if (opts.noGpg) {
    // a host without gpg: only the programs the scripts use besides it
    const sys = join(dir, 'sys');
    mkdirSync(sys);
    for (const p of ['bash', 'install', 'mktemp', 'rm', 'chmod', 'mv', 'tr', 'env', 'sleep', 'awk', 'cat', 'node']) {
      const found = spawnSync('bash', ['-c', `command -v ${p}`], { encoding: 'utf8' }).stdout.trim();
      if (found) symlinkSync(found, join(sys, p));
    }
    path = `${bin}:${sys}`;
  }
  const r = spawnSync('bash', ['-c', `set -euo pipefail\n${PRELUDE}\n${script}`], { env: { ...process.env, PATH: path }, encoding: 'utf8' });
  let calls = '';
  try { calls = readFileSync(join(dir, 'calls'), 'utf8'); } catch { /* none */ }
  return { code: r.status ?? -1, stderr: r.stderr, calls };
}

/** A StepHost whose commands run locally (runLocal). */
function localHost(serve: Record<string, string>, results: { code: number; stderr: string }[]) {
  return {
    os: debian,
    exec: async (script: string) => {
      const r = runLocal(script, serve);
      results.push(r);
      if (r.code !== 0) throw new Error(r.stderr);
      return { code: 0, stdout: '', stderr: '' };
    },
  } as unknown as StepHost;
}

describe('repository signing keys: installed only with a trusted fingerprint, whoever serves them', () => {
  const cluster = (extra: string[] = []) => ({ ...parseInventory(BASE.replace('packageMirror: aliyun', 'packageMirror: upstream'), 'lab.yaml').inventory.cluster, repositoryKeyFingerprints: extra });

  it('the pinned upstream fingerprints are the ones kbootstrap trusts', () => {
    const facts = assumedFacts('ubuntu22.04');
    expect(debian.kubernetesRepository(cluster(), facts).key!.fingerprints).toEqual(['DE15B14486CD377B9E876E1A234654DA9A296436']);
    expect(debian.dockerRepository(cluster(), facts).key!.fingerprints).toEqual(['9DC858229FC7DD38854AE2D88D81803C0EBFCD88']);
    const el = assumedFacts('rocky9');
    const kube = rhel.kubernetesRepository(cluster(), el);
    expect(kube.key!.fingerprints).toEqual(['DE15B14486CD377B9E876E1A234654DA9A296436']);
    expect(kube.content).toContain(`gpgkey=file://${kube.key!.path}\n`);
    const docker = rhel.dockerRepository(cluster(), el);
    expect(docker.key!.fingerprints).toEqual(['060A61C51B558A7F742B77AAC52FEB6B621E9F35']);
    expect(docker.content).toContain(`gpgkey=file://${docker.key!.path}\n`);
  });

  it('a key the mirror serves with another fingerprint is refused, and not installed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-keys-'));
    const repo = { ...debian.kubernetesRepository(cluster(), assumedFacts('ubuntu22.04')) };
    repo.key = { ...repo.key!, path: join(dir, 'kubernetes.asc') };
    const results: { code: number; stderr: string }[] = [];
    await expect(installKeys(localHost({ [repo.key.url]: LAB_KEY }, results), [repo], [repo.key.path])).rejects.toThrow(
      `the signing key from ${repo.key.url} is not trusted: its fingerprints are [${LAB_FPR}], the trusted ones DE15B14486CD377B9E876E1A234654DA9A296436`);
    expect(existsSync(repo.key.path)).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a host without gpg is told so, not that the key is untrusted; nothing is installed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-keys-'));
    const repo = { ...debian.kubernetesRepository(cluster(), assumedFacts('ubuntu22.04')) };
    repo.key = { ...repo.key!, path: join(dir, 'kubernetes.asc') };
    const r = runLocal(keyInstallScript({ ...repo, key: repo.key }, ''), { [repo.key.url]: LAB_KEY }, [], { noGpg: true });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`gpg is not installed: it reads the fingerprint of the signing key from ${repo.key.url} before the key is trusted (install gnupg, then run again)\n`);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a key whose fingerprint the inventory adds is installed; one trusted key beside an untrusted one is not', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-keys-'));
    const both = join(dir, 'both.asc');
    writeFileSync(both, readFileSync(LAB_KEY, 'utf8') + readFileSync(OTHER_KEY, 'utf8'));
    const repo = { ...debian.dockerRepository(cluster([LAB_FPR]), assumedFacts('debian12')) };
    repo.key = { ...repo.key!, path: join(dir, 'docker.asc') };
    await expect(installKeys(localHost({ [repo.key.url]: both }, []), [repo], [repo.key.path])).rejects.toThrow(/is not trusted: its fingerprints are \[8DD1C0224A7187196CD2CC29E2A1C84A8D08673B CC8C9547E95212215400FB23F91017EC67371613\]/);
    expect(existsSync(repo.key.path)).toBe(false);
    await installKeys(localHost({ [repo.key.url]: LAB_KEY }, []), [repo], [repo.key.path]);
    expect(readFileSync(repo.key.path, 'utf8')).toBe(readFileSync(LAB_KEY, 'utf8'));
  });

  it('the check reports a key file that is there but untrusted, so the run replaces it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-keys-'));
    const repo = { ...debian.kubernetesRepository(cluster(), assumedFacts('ubuntu22.04')) };
    repo.key = { ...repo.key!, path: join(dir, 'kubernetes.asc') };
    copyFileSync(LAB_KEY, repo.key.path);
    const r = spawnSync('bash', ['-c', `${PRELUDE}\n${keysCheck([repo])}`], { encoding: 'utf8' });
    expect(r.stdout).toBe(`key=${repo.key.path}=untrusted\n`);
    expect(missingKeys(r.stdout, [repo])).toEqual([repo.key.path]);
  });
});

describe('cri-dockerd: installed only with the sha256 the inventory gives', () => {
  const file = 'cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb';
  const pkg = join(mkdtempSync(join(tmpdir(), 'kb-pkg-')), file);
  writeFileSync(pkg, 'a cri-dockerd package\n');
  const docker = (digest: string) => parseInventory(edit('containerRuntime: containerd', `containerRuntime: docker\n  criDockerd: { url: "https://files.example.com/cri-dockerd", sha256: { ${file}: "${digest}" } }`), 'lab.yaml').inventory.cluster;

  it('a docker inventory without digests is refused, naming the field', () => {
    expect(errors(edit('packageMirror: aliyun', 'packageMirror: upstream').replace('containerRuntime: containerd', 'containerRuntime: docker')))
      .toEqual([expect.stringMatching(/^lab\.yaml:9:21 cluster\.criDockerd\.sha256: docker installs cri-dockerd 0\.4\.10 from a release file, and its project publishes no checksum kbootstrap could pin: set cluster\.criDockerd\.sha256/)]);
  });

  it('a package with another digest is not installed', () => {
    const r = runLocal(debian.criDockerdInstall(docker('0'.repeat(64)), assumedFacts('ubuntu22.04')), { [`https://files.example.com/cri-dockerd/${file}`]: pkg }, ['apt-get']);
    expect(r.code).toBe(1);
    expect(r.calls).toBe('');
    expect(r.stderr).toContain(`https://files.example.com/cri-dockerd/${file} has sha256 ${sha('a cri-dockerd package\n')}, not sha256 ${'0'.repeat(64)} (cluster.criDockerd.sha256): not installed`);
    const el = runLocal(rhel.criDockerdInstall({ ...docker('0'.repeat(64)), criDockerd: { version: '0.4.10', url: 'https://files.example.com/cri-dockerd', sha256: { 'cri-dockerd-0.4.10-3.el9.x86_64.rpm': '0'.repeat(64) } } }, assumedFacts('rocky9')),
      { 'https://files.example.com/cri-dockerd/cri-dockerd-0.4.10-3.el9.x86_64.rpm': pkg }, ['yum']);
    expect(el.code).toBe(1);
    expect(el.calls).toBe('');
  });

  it('the package with the digest is installed from the checked file', () => {
    const r = runLocal(debian.criDockerdInstall(docker(sha('a cri-dockerd package\n')), assumedFacts('ubuntu22.04')), { [`https://files.example.com/cri-dockerd/${file}`]: pkg }, ['apt-get']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.calls).toMatch(/^apt-get install -y -q \/tmp\/tmp\.\w+\.deb\n$/);
  });

  it('a host whose package has no digest is refused before anything is fetched', () => {
    expect(() => debian.criDockerdInstall(docker(sha('x')), assumedFacts('debian12'))).toThrow('cri-dockerd: cluster.criDockerd.sha256 has no digest for cri-dockerd_0.4.10.3-0.debian-bookworm_amd64.deb, the package this host installs');
  });
});

describe('CNI manifests fetched by URL: applied only with the expected sha256', () => {
  const manifest = join(mkdtempSync(join(tmpdir(), 'kb-cni-')), 'calico.yaml');
  writeFileSync(manifest, 'kind: DaemonSet\n');
  const url = 'https://example.com/calico.yaml';

  it('a manifest URL kbootstrap pins no digest for needs cluster.cni.sha256', () => {
    expect(errors(edit('cni: { plugin: calico }', `cni: { plugin: calico, manifest: "${url}" }`)))
      .toEqual([`lab.yaml:10:36 cluster.cni.sha256: kbootstrap knows no sha256 for ${url}: set cluster.cni.sha256 to the digest of the manifest you checked (sha256sum), or give a local file as cluster.cni.manifest`]);
    expect(errors(edit('cni: { plugin: calico }', 'cni: { plugin: flannel }')))
      .toEqual(['lab.yaml:10:18 cluster.cni.sha256: kbootstrap knows no sha256 for https://github.com/flannel-io/flannel/releases/download/v0.28.9/kube-flannel.yml: set cluster.cni.sha256 to the digest of the manifest you checked (sha256sum), or give a local file as cluster.cni.manifest']);
    expect(errors(edit('cni: { plugin: calico }', `cni: { plugin: calico, manifest: "${url}", sha256: "${sha('x')}" }`))).toEqual([]);
    // the default calico release has its digest pinned
    expect(errors(BASE)).toEqual([]);
  });

  it('a manifest with another digest is not kept', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'kb-cni-')), 'cni.yaml');
    const r = runLocal(cniFetchScript(url, '0'.repeat(64), path), { [url]: manifest });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`the CNI manifest from ${url} has sha256 ${sha('kind: DaemonSet\n')}, not sha256 ${'0'.repeat(64)} (cluster.cni.sha256): not applied`);
    expect(readdirSync(join(path, '..'))).toEqual([]);
    const ok = runLocal(cniFetchScript(url, sha('kind: DaemonSet\n'), path), { [url]: manifest });
    expect(ok.code, ok.stderr).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('kind: DaemonSet\n');
  });
});
