/**
 * `up` with a private registry (issue 21), over SSH to a lab host, against a
 * real registry: Debian's docker-registry on the machine's side of the lab
 * bridge (10.213.0.1:5443), TLS from a lab CA, htpasswd credentials. The
 * container-runtime step's probe reaches it from the host (the lab's curl
 * makes the real request: test/lab/sim/system.mjs), before anything of the
 * registry is written:
 *  - a wrong password fails `up` naming the registry, the host and the step,
 *    exit 1; the password (and its base64) appears in no output: stdout, stderr,
 *    the JSON report, the run log; nothing was written under /etc/containerd/certs.d;
 *  - the right password converges: the hosts.toml files (0600, with the
 *    credentials) and the CA are on the host, and a second `up` changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labUp, upperDir } from '../lab/lab.js';
import { changed, kb, notOk } from './cli.js';
import { writeInventory } from './inventory.js';
import { labCa, registryBinary, registryConfig, startUntil } from '../support/registry.js';

const REG_BIN = registryBinary();
const SKIP = LAB_SKIP_REASON || ('skip' in REG_BIN ? REG_BIN.skip : '');
const REG = '10.213.0.1:5443';
const PASSWORD = 'E2e-registry-pw-5521';
const WRONG = 'Wrong-registry-pw-8830';

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe.skipIf(!!SKIP)('up with a private registry (TLS + credentials) reached from a lab host', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-e2e-reg-'));
  const cache = join(dir, 'cache');
  const procs: ChildProcess[] = [];
  let inv = '';
  const secretsOf = (pw: string) => [pw, Buffer.from(`kb:${pw}`).toString('base64')];

  beforeAll(async () => {
    labDown();
    const lab = await labUp({ hosts: 1, family: 'debian' });
    const tls = labCa(join(dir, 'pki'), 'kbootstrap e2e CA', '10.213.0.1');
    const config = registryConfig(dir, REG, tls, { kb: PASSWORD });
    await startUntil([(REG_BIN as { bin: string }).bin, 'serve', config], /listening on 10\.213\.0\.1:5443/, 'docker-registry', procs);
    inv = writeInventory({
      hosts: lab.hosts,
      cluster: {
        registries: [{ host: REG, mirrorOf: ['registry.k8s.io', 'docker.io'], caFile: './registry-ca.crt', credentials: { username: 'kb', passwordEnv: 'KB_E2E_REGISTRY_PASSWORD' } }],
      },
    });
    copyFileSync(tls.ca, join(dirname(inv), 'registry-ca.crt'));
  }, 180_000);

  afterAll(() => {
    for (const p of procs) if (p.exitCode === null) p.kill('SIGTERM');
    labDown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a wrong password: up fails naming the registry, the host and the step; the password is in no output or log; nothing is written', async () => {
    const r = await kb(['up', inv, '--output', 'json'], { env: { KB_E2E_REGISTRY_PASSWORD: WRONG, XDG_CACHE_HOME: cache } });
    expect(r.code).toBe(1);
    // the host's later steps are 'not run' after the failure: the one failure is the registry's
    expect(notOk(r).filter((l) => /: failed: /.test(l))).toEqual([expect.stringMatching(new RegExp(`^lab-01/container-runtime: failed: .*the registry ${REG.replace(/\./g, '\\.')} refused the credentials of kb \\(HTTP 401 at /v2/\\)`, 's'))]);
    expect(notOk(r).filter((l) => !/: (failed|not-run): /.test(l))).toEqual([]);
    const log = /^kbootstrap: the log of this run: (\S+)$/m.exec(r.stderr)?.[1];
    expect(log).toBeDefined();
    const everything = r.stdout + r.stderr + readFileSync(log!, 'utf8');
    for (const s of secretsOf(WRONG)) expect(everything).not.toContain(s);
    expect(walk(join(upperDir('lab-01'), 'etc', 'containerd', 'certs.d'))).toEqual([]);
  }, 300_000);

  it('the right password converges: the files are on the host (0600 with the credentials), and a second up changes nothing', async () => {
    const env = { KB_E2E_REGISTRY_PASSWORD: PASSWORD, XDG_CACHE_HOME: cache };
    const r = await kb(['up', inv, '--output', 'json'], { env });
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(changed(r)).toContain('lab-01/container-runtime');
    const certs = join(upperDir('lab-01'), 'etc', 'containerd', 'certs.d');
    const toml = join(certs, 'registry.k8s.io', 'hosts.toml');
    expect(statSync(toml).mode & 0o777).toBe(0o600);
    expect(readFileSync(toml, 'utf8')).toContain(`Authorization = "Basic ${secretsOf(PASSWORD)[1]}"`);
    expect(readFileSync(join(certs, REG, 'ca.crt'), 'utf8')).toContain('BEGIN CERTIFICATE');
    for (const s of secretsOf(PASSWORD)) expect(r.stdout + r.stderr).not.toContain(s);
    const again = await kb(['up', inv, '--output', 'json'], { env });
    expect(again.code).toBe(0);
    expect(changed(again)).toEqual([]);
  }, 600_000);
});

if (SKIP) describe('up with a private registry', () => it.skip(`SKIPPED: ${SKIP}`, () => {}));
