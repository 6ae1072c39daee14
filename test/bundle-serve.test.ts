/**
 * `up --bundle FILE`, the real run (issue 21 item 2): the bundle goes once to the first control
 * plane, is unpacked there by its sha256 and served over HTTP for the length of the run, stopped at
 * the end, failed or not; each host imports the images its role needs, only those containerd lacks.
 * The runner tests drive the real steps over a transport double; the script tests run the rendered
 * scripts themselves on this machine (python3's http.server on loopback, sha256sum, tar).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec, Inventory } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/os/index.js';
import { buildPlan } from '../src/plan.js';
import { PHASES } from '../src/phases.js';
import { Runner } from '../src/runner.js';
import { verifyBundle } from '../src/bundle/verify.js';
import { bundleRun, withBundle } from '../src/bundle/run.js';
import { bundleImagesStep, bundleServeStep, bundleUploadStep, canonicalRef } from '../src/steps/bundle.js';
import { render } from '../src/shell/templates.js';
import { cniManifestSource } from '../src/steps/cni.js';
import type { ExecOptions, ExecResult } from '../src/transport/types.js';
import { FakeTransport, type Answer } from './support/fake-transport.js';
import { inventory, makeBundle, sha } from './support/bundle-fixture.js';

const BUNDLE_STEPS = { bundle: [bundleUploadStep, bundleServeStep], prepare: [bundleImagesStep] };
const cli = (args: string[]) => spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'kbootstrap.js'), ...args], { encoding: 'utf8' });

type Exec = (script: string, opts: ExecOptions) => ExecResult;

/** A host as the bundle's steps see it: what the scripts they send would leave behind. */
class HostState {
  unpacked = false;
  serving = false;
  python3 = true;
  ctr = false;
  images = new Set<string>();
  answers(): Record<string, Answer> {
    return {
      'bundle-upload': () => `unpacked=${this.unpacked ? 'yes' : 'no'}\n`,
      'bundle-serve': () => `python3=${this.python3 ? 'yes' : 'no'}\nserving=${this.serving ? 'yes' : 'no'}\n`,
      'bundle-images': () => (this.ctr ? `ctr=ok\n${[...this.images].map((i) => `image=${i}`).join('\n')}\n` : 'ctr=unavailable\n'),
    };
  }
  exec(script: string, refs: Map<string, string>): ExecResult {
    if (script.includes('tar -xf')) this.unpacked = true;
    if (script.includes('timeout hands the TERM on')) this.serving = false;
    else if (script.includes('python3 -m http.server')) this.serving = true;
    if (script.includes('images import')) {
      this.ctr = true;
      for (const [file, ref] of refs) if (script.includes(file)) this.images.add(ref);
    }
    return { code: 0, stdout: '', stderr: '' };
  }
}

async function run(inv: Inventory, states: Map<string, HostState>, opts: { mode?: 'apply' | 'plan'; exec?: (h: HostSpec) => Exec | undefined } = {}) {
  const transports = new Map<string, FakeTransport>();
  const refs = new Map(inv.bundle!.images.map((i) => [i.file, i.ref]));
  const runner = new Runner(inv, buildPlan(inv, {}, PHASES, BUNDLE_STEPS), async (spec) => {
    const st = states.get(spec.name)!;
    const t = new FakeTransport(st.answers(), (script, o) => opts.exec?.(spec)?.(script, o) ?? st.exec(script, refs));
    transports.set(spec.name, t);
    return new Host(spec, t, assumedFacts(spec.os ?? 'debian12'));
  }, { mode: opts.mode ?? 'apply', concurrency: 10, verifyTimeoutSeconds: 1 });
  return { result: await runner.run(), transports };
}

describe('up --bundle: upload once, serve for the run, import what is missing', () => {
  let dir: string;
  let inv: Inventory;
  let file: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kb-bundle-serve-'));
    const plain = inventory(dir);
    file = await makeBundle(dir, plain, ['debian12', 'ubuntu22.04'], 'good.bundle');
    inv = withBundle(plain, await bundleRun(file, await verifyBundle(file, plain), plain));
  });

  const fresh = () => new Map(inv.hosts.map((h) => [h.name, new HostState()]));
  /** every host after a whole first run */
  async function converged() {
    const states = fresh();
    const first = await run(inv, states);
    expect(first.result.failed).toBe(false);
    return states;
  }

  it('the first run sends the bundle byte for byte to the first control plane only, unpacks it under its sha256, serves it, then stops the server', async () => {
    const { result, transports } = await run(inv, fresh());
    expect(result.failed, JSON.stringify(result.outcomes)).toBe(false);
    const cp = transports.get('air-cp')!;
    const sha256 = sha(readFileSync(file));
    expect(inv.bundle!.sha256).toBe(sha256);
    expect([...cp.uploaded.keys()]).toEqual([`/var/lib/kbootstrap/bundle/${sha256}.tar`]);
    expect(cp.uploaded.get(`/var/lib/kbootstrap/bundle/${sha256}.tar`)!.equals(readFileSync(file))).toBe(true);
    expect([...transports.get('air-w1')!.uploaded.keys()]).toEqual([]);
    const cpSteps = cp.calls.filter((c) => c.kind !== 'check').map((c) => c.step);
    // upload, unpack, serve, import, and the teardown last of all
    expect(cpSteps).toEqual(['bundle-upload', 'bundle-upload', 'bundle-upload', 'bundle-serve', 'bundle-images', 'bundle-serve']);
    const last = cp.calls.at(-1)!;
    expect(last.detail).toContain('kill "$(cat "$kb_pidfile")"');
    expect(cp.applied('bundle-serve')[0]).toContain(`python3 -m http.server --bind 10.20.0.10 --directory /var/lib/kbootstrap/bundle/${sha256} 8473`);
  });

  it('a worker imports only the images a worker runs, from the bundle server, each checked against the manifest\'s sha256', async () => {
    const { transports } = await run(inv, fresh());
    const [script] = transports.get('air-w1')!.applied('bundle-images');
    expect(script).toContain('curl -fsS --retry 2 -o "$kb_tmp/image.tar" http://10.20.0.10:8473/images/registry.k8s.io_kube-proxy_v1.30.4.oci.tar');
    expect(script).toContain('ctr -n k8s.io images import "$kb_tmp/image.tar"');
    const proxy = inv.bundle!.images.find((i) => i.ref.includes('kube-proxy'))!;
    expect(script).toContain(proxy.sha256);
    expect(script).not.toMatch(/kube-apiserver|kube-scheduler|kube-controller-manager|etcd/);
    const [cpScript] = transports.get('air-cp')!.applied('bundle-images');
    expect(cpScript).toMatch(/kube-apiserver/);
  });

  it('a second run sends nothing and imports nothing: the bundle is there by its sha256, containerd holds the images', async () => {
    const { result, transports } = await run(inv, await converged());
    expect(result.failed).toBe(false);
    for (const [name, t] of transports) {
      expect(t.stats.roundTrips, name).toBeGreaterThan(0);
      expect(t.calls.filter((c) => c.kind === 'upload'), name).toEqual([]);
      expect(t.applied('bundle-images'), name).toEqual([]);
      expect(t.applied('bundle-upload'), name).toEqual([]);
    }
    // the server is started again for this run and stopped at its end: the host is left as it was, so the run reports
    // no change (the VM lab's offline test saw bundle-serve "changed" on every run: test/vm/offline.test.ts)
    expect(result.outcomes.filter((o) => o.status === 'changed')).toEqual([]);
    expect(result.outcomes.find((o) => o.step === 'bundle-serve')).toMatchObject({ status: 'ok', reason: expect.stringMatching(/nothing serves the bundle on http:\/\/10\.20\.0\.10:8473: set up for this run, undone at its end$/) });
  });

  it('the operator\'s link carries the bundle once, whatever the number of hosts (3 and 20)', async () => {
    for (const n of [3, 20]) {
      const w = inv.hosts[1]!;
      const hosts = [inv.hosts[0]!, ...Array.from({ length: n - 1 }, (_, i) => ({ ...w, index: i + 1, name: `air-w${i + 1}`, address: `10.20.0.${11 + i}` }))];
      const big: Inventory = { ...inv, hosts };
      const { result, transports } = await run(big, new Map(hosts.map((h) => [h.name, new HostState()])));
      expect(result.failed).toBe(false);
      const sent = [...transports.values()].flatMap((t) => [...t.uploaded.values()]).reduce((a, b) => a + b.length, 0);
      expect(sent, `${n} hosts`).toBe(inv.bundle!.size);
      expect([...transports.values()].filter((t) => t.applied('bundle-images').length).length).toBe(n);
    }
  });

  it('only missing images are imported', async () => {
    const missing = inv.bundle!.images.find((i) => i.ref.includes('pause'))!;
    const states = await converged();
    states.get('air-w1')!.images.delete(missing.ref);
    const { transports } = await run(inv, states);
    const [script] = transports.get('air-w1')!.applied('bundle-images');
    expect(script!.match(/ctr -n k8s.io images import/g)).toHaveLength(1);
    expect(script).toContain(missing.file);
  });

  it('the server is stopped when the run fails, and the failure names the host and step', async () => {
    const failImport = (h: HostSpec): Exec | undefined => (h.role === 'worker' ? (script) => (script.includes('images import')
      ? { code: 1, stdout: '', stderr: 'curl: (7) Failed to connect to 10.20.0.10 port 8473' } : { code: 0, stdout: '', stderr: '' }) : undefined);
    const { result, transports } = await run(inv, fresh(), { exec: failImport });
    expect(result.failed).toBe(true);
    expect(result.outcomes.find((o) => o.host === 'air-w1' && o.step === 'bundle-images')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/Failed to connect to 10\.20\.0\.10 port 8473/) });
    expect(transports.get('air-cp')!.calls.at(-1)).toMatchObject({ kind: 'exec', step: 'bundle-serve', detail: expect.stringContaining('timeout hands the TERM on to python3') });
  });

  it('without python3 on the first control plane the run stops before any host step, saying so', async () => {
    const states = fresh();
    states.get('air-cp')!.python3 = false;
    const { result } = await run(inv, states);
    expect(result.outcomes.find((o) => o.step === 'bundle-serve')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/air-cp: up --bundle serves the bundle with python3 -m http.server, and python3 is not on this host/) });
    expect(result.outcomes.find((o) => o.step === 'bundle-images')?.status).toBe('not-run');
  });

  it('plan reads and stops nothing', async () => {
    const { transports } = await run(inv, fresh(), { mode: 'plan' });
    for (const t of transports.values()) expect(t.calls.filter((c) => c.kind !== 'check')).toEqual([]);
  });

  it('the dry run shows the upload, the server and its stop on the first control plane, and a worker\'s imports', () => {
    const r = cli(['up', inv.file, '--bundle', file, '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    const at = r.stdout.indexOf('kbootstrap dry run for air-w1');
    const cp = r.stdout.slice(0, at);
    const w = r.stdout.slice(at);
    expect(cp).toMatch(/### bundle-upload: Upload the bundle to the first control plane and unpack it/);
    expect(cp).toContain(`sha256 ${inv.bundle!.sha256}>`);
    expect(cp).toMatch(/setsid timeout --kill-after=10s 12h python3 -m http\.server --bind 10\.20\.0\.10/);
    expect(cp).toMatch(/# the run is over: stop serving the bundle/);
    expect(w).not.toMatch(/### bundle-(upload|serve)/);
    expect(w).toMatch(/http:\/\/10\.20\.0\.10:8473\/images\/registry\.k8s\.io_pause_3\.9\.oci\.tar/);
  });

  it('the CNI manifest the bundle holds is fetched from the bundle server and applied only with the bundle\'s sha256', () => {
    const calico: Inventory = { ...inv, cluster: { ...inv.cluster, cni: { plugin: 'calico' } } };
    const b = { ...inv.bundle!, cniManifest: { file: 'cni/calico.yaml', sha256: 'c'.repeat(64) } };
    expect(cniManifestSource(withBundle(calico, b))).toEqual({ url: 'http://10.20.0.10:8473/cni/calico.yaml', sha256: 'c'.repeat(64) });
    // without one in the bundle (a local manifest, or none), the inventory's own source stays
    expect(withBundle(calico, { ...b, cniManifest: undefined }).cluster.cni).toEqual({ plugin: 'calico' });
  });

  it('a docker cluster is refused before anything connects: docker load is not built', async () => {
    const dockerInv = inventory(dir, ['  containerRuntime: docker', '  criDockerd:', '    sha256:',
      `      cri-dockerd_0.4.10.3-0.debian-bookworm_amd64.deb: "${'a'.repeat(64)}"`, `      cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb: "${'b'.repeat(64)}"`]);
    const docker = await makeBundle(dir, dockerInv, ['debian12', 'ubuntu22.04'], 'docker.bundle');
    const r = cli(['up', dockerInv.file, '--bundle', docker]);
    expect([r.status, r.stderr]).toEqual([1, expect.stringMatching(/docker load\) is not built yet/)]);
  });
});

describe('the rendered scripts, run here', () => {
  const sh = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8' });

  it('every bundle script passes bash -n and shellcheck', () => {
    const scripts = [
      render('bundle/unpacked-state', { dir: '/var/lib/kbootstrap/bundle/x' }),
      render('bundle/unpack', { tar: '/x.tar', dir: '/x', sha256: 'a'.repeat(64) }),
      render('bundle/server-state', { dir: '/x', pidFile: '/run/x.pid' }),
      render('bundle/serve', { pidFile: '/run/x.pid', logFile: '/var/log/x', limit: '12h', address: '10.0.0.1', dir: '/x', port: '8473' }),
      render('bundle/stop', { pidFile: '/run/x.pid' }),
      render('bundle/images-state', {}),
      render('bundle/import-images', { images: [{ ref: 'registry.k8s.io/pause:3.9', url: 'http://10.0.0.1:8473/images/p.oci.tar', sha256: 'b'.repeat(64) }] }),
    ];
    for (const s of scripts) {
      const f = join(mkdtempSync(join(tmpdir(), 'kb-sc-')), 's.sh');
      writeFileSync(f, `#!/bin/bash\n${s}`);
      expect(spawnSync('bash', ['-n', f]).status).toBe(0);
      const r = spawnSync('shellcheck', ['-s', 'bash', '-f', 'gcc', f], { encoding: 'utf8' });
      if (r.error) throw new Error(`shellcheck is required for this test: ${r.error.message}`);
      expect(r.stdout, s).toBe('');
    }
  });

  it('unpack refuses a bundle that arrived different and leaves nothing; a whole one is unpacked and served over HTTP until stopped', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-serve-run-'));
    const plain = inventory(dir);
    const file = await makeBundle(dir, plain, ['debian12'], 'b.bundle');
    const bytes = readFileSync(file);
    const target = join(dir, 'unpacked');
    const tarPath = join(dir, 'up.tar');
    // one byte changed on the way
    const bad = Buffer.from(bytes);
    bad[600] = bad[600]! ^ 1;
    writeFileSync(tarPath, bad);
    const refused = sh(render('bundle/unpack', { tar: tarPath, dir: target, sha256: sha(bytes) }));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`the bundle arrived with sha256 [0-9a-f]{64}, not ${sha(bytes)}: removed`));
    expect([existsSync(target), existsSync(tarPath)]).toEqual([false, false]);
    expect(sh(render('bundle/unpacked-state', { dir: target })).stdout).toBe('unpacked=no\n');

    writeFileSync(tarPath, bytes);
    expect(sh(render('bundle/unpack', { tar: tarPath, dir: target, sha256: sha(bytes) })).status).toBe(0);
    expect(sh(render('bundle/unpacked-state', { dir: target })).stdout).toBe('unpacked=yes\n');
    expect(existsSync(tarPath)).toBe(false);

    const port = String(20000 + Math.floor(Math.random() * 20000));
    const vars = { pidFile: join(dir, 'run', 'http.pid'), logFile: join(dir, 'http.log'), limit: '60s', address: '127.0.0.1', dir: target, port };
    try {
      const serve = sh(render('bundle/serve', vars));
      expect(serve.status, serve.stderr).toBe(0);
      expect(sh(render('bundle/server-state', { dir: target, pidFile: vars.pidFile })).stdout).toBe('python3=yes\nserving=yes\n');
      const got = await fetch(`http://127.0.0.1:${port}/manifest.json`);
      expect(got.status).toBe(200);
      expect(await got.text()).toBe(readFileSync(join(target, 'manifest.json'), 'utf8'));
      // python3's access log names who fetched what
      expect(readFileSync(vars.logFile, 'utf8')).toMatch(/127\.0\.0\.1 .*"GET \/manifest\.json HTTP\/1\.1" 200/);
    } finally {
      expect(sh(render('bundle/stop', { pidFile: vars.pidFile })).stdout).toBe('stopped\n');
    }
    expect(sh(render('bundle/server-state', { dir: target, pidFile: vars.pidFile })).stdout).toBe('python3=yes\nserving=no\n');
    await new Promise((r) => setTimeout(r, 300));
    await expect(fetch(`http://127.0.0.1:${port}/manifest.json`)).rejects.toThrow();
  });

  it('containerd\'s names for short references', () => {
    expect(canonicalRef('registry.k8s.io/pause:3.9')).toBe('registry.k8s.io/pause:3.9');
    expect(canonicalRef('calico/cni:v3.28.0')).toBe('docker.io/calico/cni:v3.28.0');
    expect(canonicalRef('busybox:1.36')).toBe('docker.io/library/busybox:1.36');
  });
});
