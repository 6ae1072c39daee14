/**
 * cluster.registries without a registry: what the inventory may say (errors
 * with file:line:col), where the password comes from (never the inventory),
 * what the docker runtime gets, where src/os/mirrors.ts sends each image, and
 * the CLI: a missing password stops `up` before anything else, and no output
 * (the dry run included) ever holds it. The real registry and containerd
 * judge the containerd files in test/oracles/private-registry.test.ts.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadInventoryFile } from '../src/inventory/load.js';
import { InventoryError, formatProblem } from '../src/errors.js';
import type { Inventory } from '../src/inventory/model.js';
import { readRegistryAuth } from '../src/run/registry-auth.js';
import { imageSources } from '../src/os/mirrors.js';
import { containerRuntimeStep } from '../src/steps/container-runtime.js';
import { Redactor } from '../src/redact.js';
import { ctxFor } from './support/contexts.js';
import { parse as parseToml } from 'smol-toml';

const REPO = join(import.meta.dirname, '..');
const CA = join(REPO, 'inventories', 'registry-ca.crt');

/** An inventory file in a fresh directory (with the example CA beside it) whose cluster ends with `registries`. */
function write(registries: string, extra = ''): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-reg-'));
  copyFileSync(CA, join(dir, 'ca.crt'));
  writeFileSync(join(dir, 'not-a-cert.pem'), 'hello\n');
  const file = join(dir, 'inv.yaml');
  writeFileSync(file, [
    'apiVersion: kbootstrap/v1', 'kind: Inventory', 'cluster:', '  name: air', '  kubernetesVersion: "1.30.4"', '  cni: { plugin: none }', extra,
    '  registries:', registries, 'hosts:', '  - { name: cp, address: 10.0.0.10, role: control-plane, os: debian12 }', '',
  ].filter((l) => l !== '').join('\n'));
  return file;
}

function errors(file: string): string[] {
  try {
    loadInventoryFile(file);
  } catch (e) {
    if (e instanceof InventoryError) return e.problems.filter((p) => p.severity === 'error').map((p) => formatProblem(p).replace(file, 'inv.yaml'));
    throw e;
  }
  return [];
}

const load = (file: string): Inventory => loadInventoryFile(file).inventory;

describe('cluster.registries in the inventory', () => {
  it.each([
    ['the password itself', '    - host: r.lab:5000\n      credentials: { username: kb, password: hunter22 }',
      'inv.yaml:9:36 cluster.registries[0].credentials.password: a password never goes in the inventory: name the environment variable that holds it (passwordEnv) or a file (passwordFile)'],
    ['both password sources', '    - host: r.lab:5000\n      credentials: { username: kb, passwordEnv: A, passwordFile: ./p }',
      'inv.yaml:9:20 cluster.registries[0].credentials: expected exactly one of passwordEnv (an environment variable) or passwordFile (a file) for the password'],
    ['no password source', '    - host: r.lab:5000\n      credentials: { username: kb }',
      'inv.yaml:9:20 cluster.registries[0].credentials: expected exactly one of passwordEnv (an environment variable) or passwordFile (a file) for the password'],
    ['a URL for a host', '    - host: https://r.lab:5000',
      'inv.yaml:8:13 cluster.registries[0].host: expected a registry host or host:port like registry.lab:5000 or docker.io, got "https://r.lab:5000"'],
    ['a path in mirrorOf', '    - host: r.lab\n      mirrorOf: [docker.io, ../etc]',
      'inv.yaml:9:29 cluster.registries[0].mirrorOf[1]: expected a registry host or host:port like registry.lab:5000 or docker.io, got "../etc"'],
    ['an absolute CA path', '    - host: r.lab\n      caFile: /etc/ssl/certs/ca-certificates.crt',
      'inv.yaml:9:15 cluster.registries[0].caFile: "/etc/ssl/certs/ca-certificates.crt" is an absolute path: a CA file must be a file under the inventory\'s directory, given relative to it (a path like ./registry-ca.crt)'],
    ['a CA that is no certificate', '    - host: r.lab\n      caFile: not-a-cert.pem',
      'inv.yaml:9:15 cluster.registries[0].caFile: "not-a-cert.pem" holds no PEM certificate (-----BEGIN CERTIFICATE-----)'],
    ['a CA with plain HTTP', '    - host: r.lab\n      plainHttp: true\n      caFile: ca.crt',
      'inv.yaml:10:15 cluster.registries[0].caFile: a plain-HTTP registry has no certificate: drop caFile or plainHttp'],
    ['one upstream, two registries', '    - { host: a.lab, mirrorOf: [quay.io] }\n    - { host: b.lab, mirrorOf: [quay.io] }',
      'inv.yaml:9:33 cluster.registries[1].mirrorOf[0]: quay.io is already mirrored by cluster.registries[0]: one private registry per upstream'],
  ])('%s is refused with the line and field', (_n, registries, message) => {
    expect(errors(write(registries))).toEqual([message]);
  });

  it('the docker runtime mirrors docker.io only (dockerd\'s registry-mirrors)', () => {
    expect(errors(write('    - { host: r.lab, mirrorOf: [docker.io, registry.k8s.io] }', '  containerRuntime: docker\n  criDockerd: { sha256: { cri-dockerd_0.3.16.3-0.debian-bookworm_amd64.deb: "' + 'a'.repeat(64) + '" } }')))
      .toEqual([expect.stringMatching(/cluster\.registries\[0\]\.mirrorOf\[1\]: docker mirrors only docker\.io \(daemon\.json registry-mirrors\): registry\.k8s\.io cannot be mirrored with containerRuntime docker$/)]);
  });

  it('a registry also in insecureRegistries is refused', () => {
    expect(errors(write('    - { host: r.lab }', '  insecureRegistries: [r.lab]'))).toEqual([expect.stringMatching(/cluster\.registries\[0\]\.host: r\.lab is also in cluster\.insecureRegistries/)]);
  });
});

describe('the password: from the environment or a file, never the inventory', () => {
  const env = write('    - { host: r.lab:5000, mirrorOf: [docker.io], caFile: ca.crt, credentials: { username: kb, passwordEnv: KB_T_PW } }');

  it('is read from the environment variable and becomes basic auth; the password and its base64 are the secrets', () => {
    const { auth, secrets } = readRegistryAuth(load(env), { KB_T_PW: 'pa55-word' });
    const b64 = Buffer.from('kb:pa55-word').toString('base64');
    expect(auth.get('r.lab:5000')).toBe(`Basic ${b64}`);
    expect(secrets).toEqual(['pa55-word', b64]);
  });

  it('an unset variable stops with the field, the variable and the registry', () => {
    expect(() => readRegistryAuth(load(env), {})).toThrow('cluster.registries[0].credentials.passwordEnv: the environment variable KB_T_PW is not set (the password of kb at the registry r.lab:5000)');
  });

  it('a password file holds the password on one line', () => {
    const file = write('    - { host: r.lab, credentials: { username: kb, passwordFile: ./pw } }');
    const pw = join(file, '..', 'pw');
    writeFileSync(pw, 's3cret\n');
    expect(readRegistryAuth(load(file), {}).auth.get('r.lab')).toBe(`Basic ${Buffer.from('kb:s3cret').toString('base64')}`);
    writeFileSync(pw, 'line one\nline two\n');
    expect(() => readRegistryAuth(load(file), {})).toThrow(/cluster\.registries\[0\]\.credentials\.passwordFile: .*pw must hold the password on one line, and nothing else/);
  });
});

describe('what the runtimes get', () => {
  const yaml = '    - { host: r.lab:5000, mirrorOf: [docker.io], caFile: ca.crt, credentials: { username: kb, passwordEnv: KB_T_PW } }';

  it('docker: the CA under /etc/docker/certs.d, the credentials for kubelet (0600), the mirror in daemon.json', () => {
    const inv = load(write(yaml, '  containerRuntime: docker\n  criDockerd: { sha256: { cri-dockerd_0.3.16.3-0.debian-bookworm_amd64.deb: "' + 'a'.repeat(64) + '" } }'));
    inv.registryAuth = readRegistryAuth(inv, { KB_T_PW: 'pa55-word' }).auth;
    const files = containerRuntimeStep.managedFiles!(ctxFor(inv, 0, containerRuntimeStep));
    const byPath = new Map(files.map((f) => [f.path, f]));
    expect(byPath.get('/etc/docker/certs.d/r.lab:5000/ca.crt')?.mode).toBe('644');
    const cfg = byPath.get('/var/lib/kubelet/config.json')!;
    expect(cfg.mode).toBe('600');
    expect(JSON.parse(cfg.content)).toEqual({ auths: { 'r.lab:5000': { auth: Buffer.from('kb:pa55-word').toString('base64') } } });
    expect(cfg.secrets).toEqual([Buffer.from('kb:pa55-word').toString('base64')]);
    expect(JSON.parse(byPath.get('/etc/docker/daemon.json')!.content)['registry-mirrors']).toEqual(['https://r.lab:5000']);
    // containerd's files are not written for docker, nor docker's for containerd
    expect([...byPath.keys()].some((p) => p.startsWith('/etc/containerd/'))).toBe(false);
  });

  it('containerd: nothing under /etc/docker or /var/lib/kubelet', () => {
    const inv = load(write(yaml));
    const files = containerRuntimeStep.managedFiles!(ctxFor(inv, 0, containerRuntimeStep)).map((f) => f.path);
    expect(files.filter((p) => p.startsWith('/etc/docker') || p.startsWith('/var/lib/kubelet'))).toEqual([]);
    expect(files).toContain('/etc/containerd/certs.d/docker.io/hosts.toml');
  });

  it('containerd: every hosts.toml has a host table, the registry\'s own namespace an empty one (containerd 1.6 refuses a file without it)', () => {
    const inv = load(write(yaml));
    inv.registryAuth = readRegistryAuth(inv, { KB_T_PW: 'pa55-word' }).auth;
    const files = containerRuntimeStep.managedFiles!(ctxFor(inv, 0, containerRuntimeStep)).filter((f) => f.path.endsWith('/hosts.toml'));
    expect(files.map((f) => f.path).sort()).toEqual(['/etc/containerd/certs.d/docker.io/hosts.toml', '/etc/containerd/certs.d/r.lab:5000/hosts.toml']);
    for (const f of files) expect(parseToml(f.content), f.path).toHaveProperty('host');
    // its own namespace: the server with its CA and credentials, then [host] with nothing to try before it
    const own = parseToml(files.find((f) => f.path.includes('r.lab:5000'))!.content);
    expect(own).toEqual({ server: 'https://r.lab:5000', ca: '/etc/containerd/certs.d/r.lab:5000/ca.crt', header: { Authorization: `Basic ${Buffer.from('kb:pa55-word').toString('base64')}` }, host: {} });
  });

  it('mirrors.ts: where an image comes from, in the order the runtime tries', () => {
    const inv = load(write(yaml, '  registryMirrors: [https://mirror.example.com]'));
    expect(imageSources(inv.cluster, 'calico/node:v3.28.2')).toEqual([
      'https://r.lab:5000 (private registry, mirror of docker.io)', 'https://mirror.example.com (mirror)', 'https://registry-1.docker.io (upstream)',
    ]);
    expect(imageSources(inv.cluster, 'registry.k8s.io/pause:3.9')).toEqual(['https://registry.k8s.io (upstream)']);
    expect(imageSources(inv.cluster, 'r.lab:5000/app:1')).toEqual(['https://r.lab:5000 (private registry)']);
  });
});

describe('the Redactor and basic credentials', () => {
  it('hides a Basic Authorization value it was never told about (a hosts.toml or curl config echoed by a host)', () => {
    const r = new Redactor();
    const b64 = Buffer.from('kb:pw-never-added').toString('base64');
    expect(r.redact(`  Authorization = "Basic ${b64}"`)).toBe('  Authorization = "Basic <redacted>"');
    expect(r.redact(`header = "Authorization: Basic ${b64}"`)).toBe('header = "Authorization: Basic <redacted>"');
    // the dry run's placeholder is no credential and stays readable
    expect(r.redact('Authorization = "Basic <BASE64 OF kb:PASSWORD FROM $X>"')).toBe('Authorization = "Basic <BASE64 OF kb:PASSWORD FROM $X>"');
  });
});

describe('kbootstrap with a private registry (the CLI)', () => {
  const INV = join(REPO, 'inventories', 'private-registry.yaml');
  const run = (args: string[], env: Record<string, string | undefined>) =>
    spawnSync(process.execPath, [join(REPO, 'bin', 'kbootstrap.js'), ...args], { encoding: 'utf8', env: { ...process.env, KB_REGISTRY_PASSWORD: undefined, HOME: mkdtempSync(join(tmpdir(), 'kb-home-')), ...env }, timeout: 60_000 });

  it('up without the password stops before any connection, naming the field and the variable (exit 2)', () => {
    const r = run(['up', INV, '--yes'].filter((a) => a !== '--yes'), {});
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('cluster.registries[0].credentials.passwordEnv: the environment variable KB_REGISTRY_PASSWORD is not set');
    expect(r.stderr).not.toMatch(/connect(ed|ing|ion)|refused|timed out|log of this run/i);
  });

  it('the dry run never reads the password and shows a placeholder: no output holds it', () => {
    const secret = 'Very-secret-registry-pw';
    const r = run(['up', INV, '--dry-run'], { KB_REGISTRY_PASSWORD: secret });
    expect(r.status).toBe(0);
    const out = r.stdout + r.stderr;
    expect(out).toContain('Authorization = "Basic <BASE64 OF kbootstrap:PASSWORD FROM $KB_REGISTRY_PASSWORD>"');
    expect(out).not.toContain(secret);
    expect(out).not.toContain(Buffer.from(`kbootstrap:${secret}`).toString('base64'));
  });
});
