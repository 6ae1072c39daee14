/**
 * A private registry of cluster.registries, judged by real programs (issue 21):
 * Debian's docker-registry (distribution 2.8, trixie) serving TLS with a
 * certificate from a lab CA made here with openssl and htpasswd (bcrypt)
 * credentials, and sid's containerd 2.1 (test/support/debian-suites.ts, as in
 * containerd2.test.ts) reading the hosts.toml files and the CA kbootstrap
 * renders for the inventory:
 *  - an image the test builds from this machine's Debian binaries
 *    (test/support/oci-image.ts) is pushed into the registry through the
 *    registry's own hosts.toml, then pulled back by its own name and, through
 *    the mirror entries, as registry.k8s.io/... and docker.io/... ;
 *  - a wrong password, a CA that did not sign the registry's certificate: the
 *    pull fails at the registry;
 *  - the step's own probe (what `up` runs before it writes a registry's files)
 *    passes with the right credentials and fails with a wrong password or CA,
 *    naming the registry, the host and the step, with the password in no
 *    output, and nothing written.
 * Everything runs in a network namespace of its own with only loopback (the
 * registry on 127.0.0.1:5000, the daemon, ctr, curl): no request leaves it,
 * not even the fallback to the upstream registries.
 * hosts.toml names its CA by absolute path under /etc/containerd/certs.d; the
 * files are written under a temporary directory here and that prefix
 * rewritten, as the containerd2 oracle moves the daemon's root and state.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadInventoryFile } from '../../src/inventory/load.js';
import type { Inventory } from '../../src/inventory/model.js';
import { containerRuntimeStep, containerdHostFiles } from '../../src/steps/container-runtime.js';
import { CONTAINERD_CERTS_D } from '../../src/os/mirrors.js';
import { readRegistryAuth } from '../../src/run/registry-auth.js';
import { PRELUDE } from '../../src/shell/prelude.js';
import { Redactor } from '../../src/redact.js';
import { Host } from '../../src/host/host.js';
import { assumedFacts } from '../../src/os/index.js';
import { bindHost } from '../../src/run/bound-host.js';
import { JoinCredentials } from '../../src/run/join-credentials.js';
import type { StepContext } from '../../src/steps/types.js';
import { FakeTransport, stdinBuffer } from '../support/fake-transport.js';
import { fetchOrSkip, relocateOntoSuiteLibc } from '../support/debian-suites.js';
import { buildOciImage, type BuiltImage } from '../support/oci-image.js';
import { labCa, registryConfig, startUntil } from '../support/registry.js';

const SID = fetchOrSkip('sid', 'containerd', ['containerd', 'runc', 'libc6', 'libseccomp2']);
const TRIXIE = fetchOrSkip('trixie', 'docker-registry', ['docker-registry']);

function tools(): string {
  if ('skip' in SID) return SID.skip;
  if ('skip' in TRIXIE) return TRIXIE.skip;
  try {
    relocateOntoSuiteLibc(SID.root, join(SID.root, 'usr/sbin/runc'));
  } catch (e) {
    if (process.env.CI && !/^(false|0)$/i.test(process.env.CI)) throw e;
    return `sid's runc cannot run here: ${(e as Error).message} (apt-get install patchelf)`;
  }
  if (process.getuid?.() !== 0) return 'needs root (a network namespace of its own)';
  for (const t of ['openssl', 'curl', 'python3', 'nsenter', 'unshare', 'tar', 'gzip']) {
    if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is missing`;
  }
  return '';
}
const SKIP = tools();
const BIN = 'skip' in SID ? '' : join(SID.root, 'usr/bin');
const REGISTRY_BIN = 'skip' in TRIXIE ? '' : join(TRIXIE.root, 'usr/bin/docker-registry');

const PASSWORD = 'Lab-registry-pw-7319';
const WRONG = 'not-the-password-4242';
const REG = '127.0.0.1:5000';

/** The inventory a user writes: the CA next to it, the password in the environment. */
function inventoryIn(dir: string, caFrom: string): Inventory {
  copyFileSync(caFrom, join(dir, 'registry-ca.crt'));
  writeFileSync(join(dir, 'inventory.yaml'), [
    'apiVersion: kbootstrap/v1', 'kind: Inventory', 'cluster:', '  name: air', '  kubernetesVersion: "1.30.4"', '  cni: { plugin: none }',
    '  registries:', `    - host: "${REG}"`, '      mirrorOf: [registry.k8s.io, docker.io]', '      caFile: registry-ca.crt',
    '      credentials: { username: kb, passwordEnv: KB_TEST_REGISTRY_PASSWORD }',
    'hosts:', '  - { name: air-cp, address: 10.20.0.10, role: control-plane, os: debian12 }', '',
  ].join('\n'));
  return loadInventoryFile(join(dir, 'inventory.yaml')).inventory;
}

/** Write what kbootstrap would put under /etc/containerd/certs.d into `dir` (the CA path rewritten to it). */
function writeCertsD(inv: Inventory, password: string, dir: string): { secrets: string[] } {
  const { auth, secrets } = readRegistryAuth(inv, { KB_TEST_REGISTRY_PASSWORD: password });
  rmSync(dir, { recursive: true, force: true });
  for (const f of containerdHostFiles(inv.cluster, auth)) {
    const path = join(dir, f.path.slice(CONTAINERD_CERTS_D.length + 1));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, f.content.split(CONTAINERD_CERTS_D).join(dir), { mode: Number.parseInt(f.mode, 8) });
  }
  return { secrets };
}

describe.skipIf(!!SKIP)('a private registry with TLS and credentials, through what kbootstrap renders (docker-registry 2.8 + containerd 2.1)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-privreg-'));
  const procs: ChildProcess[] = [];
  let netns = 0;
  let image: BuiltImage;
  let inv: Inventory;
  let otherCaInv: Inventory;
  const sock = join(dir, 'containerd.sock');
  const inNs = (cmd: string, args: string[], input?: string | Buffer) =>
    spawnSync('nsenter', ['-t', String(netns), '-n', cmd, ...args], { encoding: 'utf8', input, timeout: 60_000 });
  const ctr = (hostsDir: string, ...args: string[]) => inNs(join(BIN, 'ctr'), ['--address', sock, '-n', 'k8s.io', ...args.flatMap((a) => a === '@hosts' ? ['--hosts-dir', hostsDir] : [a])]);

  beforeAll(async () => {
    const tls = labCa(join(dir, 'pki'), 'kbootstrap lab CA');
    const other = labCa(join(dir, 'pki-other'), 'some other CA');
    const config = registryConfig(dir, REG, tls, { kb: PASSWORD });
    mkdirSync(join(dir, 'inv')); mkdirSync(join(dir, 'inv-other'));
    inv = inventoryIn(join(dir, 'inv'), tls.ca);
    otherCaInv = inventoryIn(join(dir, 'inv-other'), other.ca);
    // the network namespace: a holder process with loopback up; everything else joins it
    const holder = spawn('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec sleep 3600'], { stdio: 'ignore' });
    procs.push(holder);
    netns = holder.pid!;
    for (let i = 0; i < 50 && spawnSync('nsenter', ['-t', String(netns), '-n', 'ip', '-o', 'link', 'show', 'lo']).stdout?.toString().includes('UP') !== true; i++) await new Promise((r) => setTimeout(r, 50));
    const start = (args: string[], ready: RegExp, what: string) => startUntil(['nsenter', '-t', String(netns), '-n', ...args], ready, what, procs);
    await start([REGISTRY_BIN, 'serve', config], /listening on 127\.0\.0\.1:5000/, 'docker-registry');
    writeFileSync(join(dir, 'containerd.toml'), [
      'version = 3', `root = "${join(dir, 'root')}"`, `state = "${join(dir, 'state')}"`, '[grpc]', `  address = "${sock}"`,
      "[plugins.'io.containerd.nri.v1.nri']", `  socket_path = "${join(dir, 'nri.sock')}"`, '',
    ].join('\n'));
    await start([join(BIN, 'containerd'), '--config', join(dir, 'containerd.toml')], /containerd successfully booted/, 'containerd 2.1');
    image = buildOciImage(join(dir, 'pause.tar'), `${REG}/kb/pause:1`, { '/usr/bin/true': 'pause' });
  }, 60_000);

  afterAll(async () => {
    for (const p of procs.reverse()) if (p.exitCode === null) p.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('the judges are the programs we think: docker-registry 2.8 (distribution), containerd 2.1', () => {
    expect(execFileSync(REGISTRY_BIN, ['--version'], { encoding: 'utf8' })).toMatch(/distribution 2\.8\./);
    expect(execFileSync(join(BIN, 'containerd'), ['--version'], { encoding: 'utf8' })).toMatch(/ 2\.1\.\d+/);
  });

  it('renders a hosts.toml per namespace, 0600 where it holds the credentials, and the CA', () => {
    const certs = join(dir, 'certs.d');
    writeCertsD(inv, PASSWORD, certs);
    expect(readdirSync(certs).sort()).toEqual([REG, 'docker.io', 'registry.k8s.io']);
    expect(statSync(join(certs, REG, 'hosts.toml')).mode & 0o777).toBe(0o600);
    expect(statSync(join(certs, 'docker.io', 'hosts.toml')).mode & 0o777).toBe(0o600);
    expect(statSync(join(certs, REG, 'ca.crt')).mode & 0o777).toBe(0o644);
  });

  it('pushes an image into the registry and pulls it back by its own name, with the CA and the credentials kbootstrap rendered', () => {
    const certs = join(dir, 'certs.d');
    writeCertsD(inv, PASSWORD, certs);
    expect(ctr(certs, 'images', 'import', image.archive).status).toBe(0);
    const push = ctr(certs, 'images', 'push', '--local', '@hosts', image.name);
    expect(push.stderr).not.toMatch(/error|failed/i);
    expect(push.status).toBe(0);
    expect(ctr(certs, 'images', 'rm', image.name).status).toBe(0);
    const pull = ctr(certs, 'images', 'pull', '--local', '@hosts', image.name);
    expect(pull.status, pull.stderr).toBe(0);
    const ls = ctr(certs, 'images', 'ls');
    expect(ls.stdout).toContain(`${image.name} `);
    expect(ls.stdout).toContain(image.manifestDigest);
  });

  it.each(['registry.k8s.io', 'docker.io'])('pulls %s/kb/pause:1 from the private registry it mirrors (the upstream is never asked)', (ns) => {
    const certs = join(dir, 'certs.d');
    writeCertsD(inv, PASSWORD, certs);
    const pull = ctr(certs, 'images', 'pull', '--local', '@hosts', `${ns}/kb/pause:1`);
    expect(pull.status, pull.stderr).toBe(0);
    expect(pull.stderr).not.toMatch(/trying next host/);
    expect(ctr(certs, 'images', 'ls').stdout).toMatch(new RegExp(`${ns.replace(/\./g, '\\.')}/kb/pause:1 .*${image.manifestDigest}`));
  });

  it('can fail: with a wrong password the registry refuses the pull, and no output holds either password', () => {
    const certs = join(dir, 'certs-wrong');
    const { secrets } = writeCertsD(inv, WRONG, certs);
    const pull = ctr(certs, 'images', 'pull', '--local', '@hosts', `${REG}/kb/pause:2`);
    expect(pull.status).not.toBe(0);
    expect(pull.stderr).toMatch(/authorization failed|unauthorized|401/i);
    for (const s of [PASSWORD, WRONG, ...secrets]) expect(pull.stdout + pull.stderr).not.toContain(s);
  });

  it('can fail: a CA that did not sign the registry\'s certificate is refused by containerd', () => {
    const certs = join(dir, 'certs-other-ca');
    writeCertsD(otherCaInv, PASSWORD, certs);
    const pull = ctr(certs, 'images', 'pull', '--local', '@hosts', `${REG}/kb/pause:3`);
    expect(pull.status).not.toBe(0);
    expect(pull.stderr).toMatch(/x509: certificate signed by unknown authority|tls: failed to verify certificate/);
  });

  describe('the container-runtime step\'s probe, run on this machine against the registry', () => {
    /** The step's apply on a host whose registry files are all missing; only the probe really runs (bash, in the namespace). */
    async function applyWith(i: Inventory, password: string): Promise<{ error?: Error; t: FakeTransport; secrets: string[] }> {
      const { auth, secrets } = readRegistryAuth(i, { KB_TEST_REGISTRY_PASSWORD: password });
      const withAuth: Inventory = { ...i, registryAuth: auth };
      const t = new FakeTransport({}, (script, opts) => {
        if (!script.includes('kb_probe_dir')) return { code: 0, stdout: '', stderr: '' };
        const r = inNs('bash', ['-c', `set -euo pipefail\n${PRELUDE}\n${script}`], opts.stdin === undefined ? undefined : stdinBuffer(opts.stdin));
        return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
      });
      const spec = withAuth.hosts[0]!;
      const host = new Host(spec, t, assumedFacts('debian12'), new Redactor());
      const ctx: StepContext = {
        inv: withAuth, cluster: withAuth.cluster, host: bindHost(host, containerRuntimeStep.id), firstControlPlane: bindHost(host, containerRuntimeStep.id),
        join: new JoinCredentials(() => host, withAuth.cluster.controlPlaneEndpoint), options: { verifyTimeoutSeconds: 5 }, show: () => undefined, progress: () => undefined,
      };
      const files = containerdHostFiles(withAuth.cluster, auth).map((f) => ({ path: f.path, state: 'missing' as const }));
      try {
        await containerRuntimeStep.apply(ctx, { files: [{ path: '/etc/apt/sources.list.d/docker.list', state: 'same' }, ...files], missingPackages: [], config: 'same', missingKeys: [] });
        return { t, secrets };
      } catch (e) {
        return { error: e as Error, t, secrets };
      }
    }
    const uploadsUnderCertsD = (t: FakeTransport) => t.calls.filter((c) => c.kind === 'upload' && c.detail.startsWith(CONTAINERD_CERTS_D));

    it('passes with the right credentials and CA, then the files are written', async () => {
      const r = await applyWith(inv, PASSWORD);
      expect(r.error).toBeUndefined();
      expect(uploadsUnderCertsD(r.t).length).toBe(4);
      // the credentials went on stdin only: no script sent holds them
      for (const c of r.t.calls) for (const s of r.secrets) expect(c.detail).not.toContain(s);
    });

    it('can fail: a wrong password fails the step naming the registry, the host and the step; no output holds it; nothing is written', async () => {
      const r = await applyWith(inv, WRONG);
      expect(r.error?.message).toMatch(/^air-cp: container-runtime: /);
      expect(r.error?.message).toContain(`the registry ${REG} refused the credentials of kb (HTTP 401 at /v2/)`);
      for (const s of r.secrets) expect(r.error?.message).not.toContain(s);
      expect(uploadsUnderCertsD(r.t)).toEqual([]);
    });

    it('can fail: a CA that does not match fails the step with curl\'s words; nothing is written', async () => {
      const r = await applyWith(otherCaInv, PASSWORD);
      expect(r.error?.message).toMatch(/^air-cp: container-runtime: /);
      expect(r.error?.message).toMatch(new RegExp(`the registry ${REG.replace(/\./g, '\\.')} did not answer from this host \\(curl exit 60\\): .*certificate`));
      expect(uploadsUnderCertsD(r.t)).toEqual([]);
    });
  });
});

if (SKIP) describe('a private registry through what kbootstrap renders', () => it.skip(`SKIPPED: ${SKIP}`, () => {}));
