/**
 * The bundle's image archives, judged by real programs: an image the test builds from this
 * machine's /usr/bin/true is pushed into Debian's docker-registry (distribution 2.8, TLS from a lab
 * CA, htpasswd), pulled back by kbootstrap's pullImage (the registry client, through the inventory's
 * private registry that mirrors registry.k8s.io) and written as the OCI archive `bundle` puts in a
 * bundle; sid's containerd 2.1 then imports it with `ctr -n k8s.io images import`, as `up --bundle`
 * is to do on a host, and lists it under the name the cluster pulls, with the registry's digest.
 * The registry listens on this machine's loopback only; containerd runs in a network namespace of
 * its own with only loopback (an import needs no network, and it may reach none).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventoryFile } from '../../src/inventory/load.js';
import { readRegistryAuth } from '../../src/run/registry-auth.js';
import { BundleCache } from '../../src/bundle/fetch.js';
import { pullImage, writeOciArchive } from '../../src/bundle/images.js';
import { fetchOrSkip } from '../support/debian-suites.js';
import { buildOciImage } from '../support/oci-image.js';
import { pushImage } from '../support/registry-push.js';
import { labCa, registryConfig, startUntil } from '../support/registry.js';

const SID = fetchOrSkip('sid', 'containerd', ['containerd', 'runc', 'libc6', 'libseccomp2']);
const TRIXIE = fetchOrSkip('trixie', 'docker-registry', ['docker-registry']);
function tools(): string {
  if ('skip' in SID) return SID.skip;
  if ('skip' in TRIXIE) return TRIXIE.skip;
  if (process.getuid?.() !== 0) return 'needs root (a network namespace of its own)';
  for (const t of ['openssl', 'python3', 'nsenter', 'unshare', 'tar', 'gzip']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is missing`;
  }
  return '';
}
const SKIP = tools();
const BIN = 'skip' in SID ? '' : join(SID.root, 'usr/bin');
const REGISTRY_BIN = 'skip' in TRIXIE ? '' : join(TRIXIE.root, 'usr/bin/docker-registry');
const PASSWORD = 'bundle-oracle-pw-8812';
const REG = `127.0.0.1:${24000 + Math.floor(Math.random() * 2000)}`;

describe.skipIf(!!SKIP)('a bundle\'s image archive imports into containerd 2.1 under the name the cluster pulls', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-bundle-ctr-'));
  const procs: ChildProcess[] = [];
  let netns = 0;
  const sock = join(dir, 'containerd.sock');
  const inNs = (cmd: string, args: string[]) => spawnSync('nsenter', ['-t', String(netns), '-n', cmd, ...args], { encoding: 'utf8', timeout: 60_000 });
  const ctr = (...args: string[]) => inNs(join(BIN, 'ctr'), ['--address', sock, '-n', 'k8s.io', ...args]);

  beforeAll(async () => {
    const tls = labCa(join(dir, 'pki'), 'kbootstrap bundle oracle CA');
    const config = registryConfig(dir, REG, tls, { kb: PASSWORD });
    const holder = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec sleep 3600'], { stdio: 'ignore' });
    procs.push(holder);
    netns = holder.pid!;
    for (let i = 0; i < 50 && spawnSync('nsenter', ['-t', String(netns), '-n', 'ip', '-o', 'link', 'show', 'lo']).stdout?.toString().includes('UP') !== true; i++) await new Promise((r) => setTimeout(r, 50));
    const start = (args: string[], ready: RegExp, what: string) => startUntil(['nsenter', '-t', String(netns), '-n', ...args], ready, what, procs);
    await startUntil([REGISTRY_BIN, 'serve', config], /listening on/, 'docker-registry', procs);
    writeFileSync(join(dir, 'containerd.toml'), [
      'version = 3', `root = "${join(dir, 'root')}"`, `state = "${join(dir, 'state')}"`, '[grpc]', `  address = "${sock}"`,
      "[plugins.'io.containerd.nri.v1.nri']", `  socket_path = "${join(dir, 'nri.sock')}"`, '',
    ].join('\n'));
    await start([join(BIN, 'containerd'), '--config', join(dir, 'containerd.toml')], /containerd successfully booted/, 'containerd 2.1');
    copyFileSync(tls.ca, join(dir, 'registry-ca.crt'));
    writeFileSync(join(dir, 'inventory.yaml'), [
      'apiVersion: kbootstrap/v1', 'kind: Inventory', 'cluster:', '  name: air', '  kubernetesVersion: "1.30.4"', '  cni: { plugin: none }',
      '  registries:', `    - host: "${REG}"`, '      mirrorOf: [registry.k8s.io]', '      caFile: registry-ca.crt',
      '      credentials: { username: kb, passwordEnv: KB_TEST_ORACLE_PASSWORD }',
      'hosts:', '  - { name: air-cp, address: 10.20.0.10, role: control-plane, os: debian12 }', '',
    ].join('\n'));
  }, 90_000);

  afterAll(async () => {
    for (const p of procs.reverse()) if (p.exitCode === null) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('pull (registry client) -> OCI archive -> ctr images import -> listed by the cluster\'s name and the registry\'s digest', async () => {
    const built = buildOciImage(join(dir, 'pause.oci.tar'), 'kb/pause:1', { '/usr/bin/true': 'pause' });
    await pushImage(built.archive, REG, 'pause', '3.9', readFileSync(join(dir, 'pki', 'ca.crt')), 'kb', PASSWORD);
    const inv = loadInventoryFile(join(dir, 'inventory.yaml')).inventory;
    const { auth } = readRegistryAuth(inv, { KB_TEST_ORACLE_PASSWORD: PASSWORD });
    const p = await pullImage('registry.k8s.io/pause:3.9', 'amd64', inv.cluster, auth, new BundleCache(join(dir, 'cache')));
    await writeOciArchive(p, 'amd64', join(dir, 'bundle-pause.oci.tar'), dir);
    const digest = p.digest;
    expect(digest).toBe(built.manifestDigest);
    const imp = ctr('images', 'import', join(dir, 'bundle-pause.oci.tar'));
    expect(imp.status, imp.stderr).toBe(0);
    const ls = ctr('images', 'ls');
    expect(ls.stdout).toMatch(new RegExp(`^registry\\.k8s\\.io/pause:3\\.9\\s+\\S+\\s+${digest}`, 'm'));
    // the CRI plugin adds the image's id (its config digest) as a second name in k8s.io, as for a pull
    const names = ctr('images', 'ls', '-q').stdout.trim().split('\n');
    expect(names).toEqual(['registry.k8s.io/pause:3.9', expect.stringMatching(/^sha256:[0-9a-f]{64}$/)]);
    // a second import of the same archive changes nothing (what `up --bundle` is to check first: present, skipped)
    expect(ctr('images', 'import', join(dir, 'bundle-pause.oci.tar')).status).toBe(0);
    expect(ctr('images', 'ls', '-q').stdout.trim().split('\n')).toEqual(names);
  });
});
