/**
 * `up --bundle FILE`, the real run (issue 21 item 2): the bundle goes once to the first control
 * plane, is unpacked there by its sha256 and served over HTTP for the length of the run, stopped at
 * the end, failed or not; each host imports the images its role needs, only those containerd lacks.
 * The runner tests drive the real steps over a transport double; the script tests run the rendered
 * scripts themselves on this machine (python3's http.server on loopback, sha256sum, tar).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec, Inventory } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/os/index.js';
import { debian } from '../src/os/debian.js';
import { buildPlan } from '../src/plan.js';
import { PHASES } from '../src/phases.js';
import { Runner } from '../src/runner.js';
import { verifyBundle } from '../src/bundle/verify.js';
import { bundleNeeds } from '../src/bundle/needs.js';
import { bundleRun, withBundle } from '../src/bundle/run.js';
import { BUNDLE_ROOT, bundleImagesStep, bundleServeStep, bundleUploadStep, canonicalRef } from '../src/steps/bundle.js';
import { render } from '../src/shell/templates.js';
import { cniManifestSource } from '../src/steps/cni.js';
import type { CheckOutput, CheckRequest, ExecOptions, ExecResult, Transport } from '../src/transport/types.js';
import { FakeTransport, stdinBuffer, type Answer } from './support/fake-transport.js';
import { criDockerdBody, inventory, makeBundle, sha } from './support/bundle-fixture.js';

const BUNDLE_STEPS = { bundle: [bundleUploadStep, bundleServeStep], prepare: [bundleImagesStep] };
const cli = (args: string[]) => spawnSync(process.execPath, [join(import.meta.dirname, '..', 'bin', 'kbootstrap.js'), ...args], { encoding: 'utf8' });

type Exec = (script: string, opts: ExecOptions) => ExecResult;

/** A host as the bundle's steps see it: what the scripts they send would leave behind. */
class HostState {
  unpacked = false;
  /** bytes of the bundle gathered in its .part file */
  part = 0;
  serving = false;
  python3 = true;
  ctr = false;
  images = new Set<string>();
  answers(): Record<string, Answer> {
    return {
      'bundle-upload': () => `unpacked=${this.unpacked ? 'yes' : 'no'}\npart=${this.part}\n`,
      'bundle-serve': () => `python3=${this.python3 ? 'yes' : 'no'}\nserving=${this.serving ? 'yes' : 'no'}\n`,
      'bundle-images': () => (this.ctr ? `runtime=ok\n${[...this.images].map((i) => `image=${i}`).join('\n')}\n` : 'runtime=unavailable\n'),
    };
  }
  exec(script: string, refs: Map<string, string>, stdin?: string | Buffer): ExecResult {
    if (script.includes('exec cat >>"$kb_part"')) this.part += stdin?.length ?? 0;
    if (script.includes('tar -xf')) { this.unpacked = true; this.part = 0; }
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
    const t = new FakeTransport(st.answers(), (script, o) => opts.exec?.(spec)?.(script, o) ?? st.exec(script, refs, o.stdin === undefined ? undefined : stdinBuffer(o.stdin)));
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
    expect(cp.applied('bundle-upload')[0]).toContain(`kb_part=/var/lib/kbootstrap/bundle/${sha256}.part`);
    expect(cp.stdins).toHaveLength(1);
    expect(cp.stdins[0]!.equals(readFileSync(file))).toBe(true);
    // a slice of the file, read by the transport as it sends: never the whole bundle in memory (test/bundle-stream.test.ts)
    expect(cp.stdinArgs).toEqual([{ file, offset: 0, length: inv.bundle!.size }]);
    expect(transports.get('air-w1')!.stdins).toEqual([]);
    const cpSteps = cp.calls.filter((c) => c.kind !== 'check').map((c) => c.step);
    // upload, unpack, serve, import, and the teardown last of all
    expect(cpSteps).toEqual(['bundle-upload', 'bundle-upload', 'bundle-serve', 'bundle-images', 'bundle-serve']);
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
      expect(t.stdins, name).toEqual([]);
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
      const sent = [...transports.values()].flatMap((t) => [...t.uploaded.values(), ...t.stdins]).reduce((a, b) => a + b.length, 0);
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
    expect(cp).toMatch(/### bundle-upload: Upload the bundle to its server and unpack it/);
    expect(cp).toContain(`the bundle, once: ${inv.bundle!.size} bytes of ${file} (sha256 ${inv.bundle!.sha256})`);
    expect(cp).toMatch(/setsid timeout --kill-after=10s 12h python3 -m http\.server --bind 10\.20\.0\.10/);
    expect(cp).toMatch(/# the run is over: stop serving the bundle/);
    expect(w).not.toMatch(/### bundle-(upload|serve)/);
    expect(w).toMatch(/http:\/\/10\.20\.0\.10:8473\/images\/registry\.k8s\.io_pause_3\.9\.oci\.tar/);
  });

  it('cluster.offline.server: the named host receives and serves the bundle, every host\'s packages come from it (run and dry run)', async () => {
    const plain = inventory(dir, ['  offline: { server: air-w1 }']);
    const served = withBundle(plain, await bundleRun(file, await verifyBundle(file, plain), plain));
    expect(served.bundle!.address).toBe('10.20.0.11');
    expect(served.cluster.packageMirror).toBe('http://10.20.0.11:8473');
    const { result, transports } = await run(served, new Map(served.hosts.map((h) => [h.name, new HostState()])));
    expect(result.failed).toBe(false);
    expect(transports.get('air-w1')!.stdins.map((b) => b.length)).toEqual([served.bundle!.size]);
    expect(transports.get('air-cp')!.stdins).toEqual([]);
    expect(transports.get('air-cp')!.applied('bundle-serve')).toEqual([]);
    const r = cli(['up', plain.file, '--bundle', file, '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    const at = r.stdout.indexOf('kbootstrap dry run for air-w1');
    expect(r.stdout.slice(0, at)).not.toMatch(/### bundle-(upload|serve)/);
    const w = r.stdout.slice(at);
    expect(w).toMatch(/### bundle-upload: Upload the bundle to its server and unpack it/);
    expect(w).toMatch(/python3 -m http\.server --bind 10\.20\.0\.11/);
    expect(r.stdout).toMatch(/Packages from http:\/\/10\.20\.0\.11:8473: the bundle unpacked on air-w1/);
    expect(r.stdout).toMatch(/http:\/\/10\.20\.0\.11:8473\/images\/registry\.k8s\.io_pause_3\.9\.oci\.tar/);
  });

  it('a bundle made --with-os-packages: a host of that release gets a source list for its own repositories on the bundle server, checked with its own archive keyring; other releases keep theirs', async () => {
    const plain = inventory(dir);
    const os = await makeBundle(dir, plain, ['debian12', 'ubuntu22.04'], 'os.bundle', (m) => {
      const deb = m.osReleases.find((r) => r.os === 'debian12')!;
      deb.osPackages = { packages: [], present: ['libc6'], why: 'test' };
    });
    const served = withBundle(plain, await bundleRun(os, await verifyBundle(os, plain), plain));
    expect(served.bundle!.osReleases).toEqual(['debian 12 amd64']);
    expect(debian.baseRepositories(served.cluster, assumedFacts('debian12'))).toEqual([{
      path: '/etc/apt/sources.list.d/kbootstrap-bundle-os.list',
      content: ['# kbootstrap: Debian GNU/Linux 12 (bookworm)\'s own packages from the bundle (up --bundle)',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://10.20.0.10:8473/debian bookworm main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://10.20.0.10:8473/debian bookworm-updates main',
        'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://10.20.0.10:8473/debian-security bookworm-security main', ''].join('\n'),
    }]);
    expect(debian.baseRepositories(served.cluster, assumedFacts('ubuntu22.04'))).toEqual([]);
    // without such a bundle, nothing changes
    expect(debian.baseRepositories(inv.cluster, assumedFacts('debian12'))).toEqual([]);
    const r = cli(['up', plain.file, '--bundle', os, '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    const at = r.stdout.indexOf('kbootstrap dry run for air-w1');
    expect(r.stdout.slice(0, at)).toMatch(/### base-repositories:[\s\S]*kbootstrap-bundle-os\.list[\s\S]*http:\/\/10\.20\.0\.10:8473\/debian-security bookworm-security main/);
    expect(r.stdout.slice(at)).not.toContain('kbootstrap-bundle-os.list');
    expect(r.stdout).toMatch(/debian12 amd64: its own packages \(0\) from the bundle's copy of its repositories/);
  });

  it('upgrade --bundle: a bundle for another version is refused naming it, before anything connects', () => {
    // the inventory moved to 1.31; the bundle is the 1.30 one (its hosts, 10.20.0.x, are never reached)
    const next = join(dir, 'next.yaml');
    writeFileSync(next, readFileSync(inv.file, 'utf8').replace('kubernetesVersion: "1.30.4"', 'kubernetesVersion: "1.31.2"'));
    const t0 = Date.now();
    const r = cli(['upgrade', next, '--bundle', file, '--yes']);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`bundle ${file}: it is for Kubernetes 1.30.4; the inventory's cluster.kubernetesVersion is 1.31.2`);
    expect(r.stderr).not.toMatch(/10\.20\.0\.10|connect/i);
    expect(Date.now() - t0).toBeLessThan(15_000);
  });

  it('upgrade --bundle --dry-run: served after the preflight, the target minor\'s repository on the bundle server, images imported before kubeadm upgrade', () => {
    const r = cli(['upgrade', inv.file, '--bundle', file, '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    const at = r.stdout.indexOf('kbootstrap dry run for air-w1');
    const cp = r.stdout.slice(0, at);
    const w = r.stdout.slice(at);
    const order = [...cp.matchAll(/^### ([a-z-]+):/gm)].map((m) => m[1]);
    expect(order.slice(0, 7)).toEqual(['upgrade-preflight', 'upgrade-cni', 'bundle-upload', 'bundle-serve', 'upgrade-repository', 'bundle-images', 'upgrade-kubeadm']);
    expect(order.indexOf('bundle-images')).toBeLessThan(order.indexOf('upgrade-apply'));
    expect(cp).toContain('curl -fsSL http://10.20.0.10:8473/kubernetes-new/core/stable/v1.30/deb/Release.key');
    expect(cp).toMatch(/# the run is over: stop serving the bundle/);
    expect(w).not.toMatch(/### bundle-(upload|serve)/);
    expect(w).toMatch(/### bundle-images[\s\S]*http:\/\/10\.20\.0\.10:8473\/images\/registry\.k8s\.io_kube-proxy_v1\.30\.4\.oci\.tar/);
    // without --bundle the upgrade has none of these steps
    const plain = cli(['upgrade', inv.file, '--dry-run']);
    expect(plain.stdout).not.toMatch(/### bundle-/);
  });

  it('the CNI manifest the bundle holds is fetched from the bundle server and applied only with the bundle\'s sha256', () => {
    const calico: Inventory = { ...inv, cluster: { ...inv.cluster, cni: { plugin: 'calico' } } };
    const b = { ...inv.bundle!, cniManifest: { file: 'cni/calico.yaml', sha256: 'c'.repeat(64) } };
    expect(cniManifestSource(withBundle(calico, b))).toEqual({ url: 'http://10.20.0.10:8473/cni/calico.yaml', sha256: 'c'.repeat(64) });
    // without one in the bundle (a local manifest, or none), the inventory's own source stays
    expect(withBundle(calico, { ...b, cniManifest: undefined }).cluster.cni).toEqual({ plugin: 'calico' });
  });

  it('a docker cluster: docker load of the archives docker lacks (with the manifest.json it reads), cri-dockerd from the bundle server', async () => {
    const deb = 'cri-dockerd_0.4.10.3-0.debian-bookworm_amd64.deb';
    const jammy = 'cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb';
    const dockerInv = inventory(dir, ['  containerRuntime: docker', '  criDockerd:', '    sha256:',
      `      ${deb}: "${sha(criDockerdBody(deb))}"`, `      ${jammy}: "${sha(criDockerdBody(jammy))}"`]);
    // what bundle fetches for it: the release file hosts would fetch, with the inventory's sha256
    expect(bundleNeeds(dockerInv, ['debian12']).osReleases[0]!.criDockerd).toMatchObject({
      file: deb, path: `cri-dockerd/${deb}`, sha256: sha(criDockerdBody(deb)), url: `https://github.com/Mirantis/cri-dockerd/releases/download/v0.4.10/${deb}`,
    });
    const docker = await makeBundle(dir, dockerInv, ['debian12', 'ubuntu22.04'], 'docker.bundle', undefined, { realImages: true });
    const d = withBundle(dockerInv, await bundleRun(docker, await verifyBundle(docker, dockerInv), dockerInv));
    expect(d.cluster.criDockerd.url).toBe('http://10.20.0.10:8473/cri-dockerd');
    const pause = d.bundle!.images.find((i) => i.ref.includes('pause'))!;
    const [entry] = JSON.parse(pause.dockerManifest!) as { Config: string; RepoTags: string[]; Layers: string[] }[];
    expect(entry).toMatchObject({ RepoTags: ['registry.k8s.io/pause:3.9'], Config: expect.stringMatching(/^blobs\/sha256\/[0-9a-f]{64}$/), Layers: [expect.stringMatching(/^blobs\/sha256\/[0-9a-f]{64}$/)] });

    // docker holds all but pause, listed the way `docker image ls` does
    const states = new Map(d.hosts.map((h) => [h.name, new HostState()]));
    const loaded = new Set<string>();
    const answers = (h: string): Record<string, Answer> => ({
      ...states.get(h)!.answers(),
      'bundle-images': () => `runtime=ok\n${d.bundle!.images.filter((i) => i !== pause || loaded.has(h)).map((i) => `image=${i.ref}`).join('\n')}\n`,
    });
    const transports = new Map<string, FakeTransport>();
    const runner = new Runner(d, buildPlan(d, {}, PHASES, BUNDLE_STEPS), async (spec) => {
      const t = new FakeTransport(answers(spec.name), (script, o) => {
        if (script.includes('docker load')) loaded.add(spec.name);
        return states.get(spec.name)!.exec(script, new Map(), o.stdin === undefined ? undefined : stdinBuffer(o.stdin));
      });
      transports.set(spec.name, t);
      return new Host(spec, t, assumedFacts(spec.os ?? 'debian12'));
    }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1 });
    const result = await runner.run();
    expect(result.failed, JSON.stringify(result.outcomes.filter((o) => o.status === 'failed'))).toBe(false);
    const [script] = transports.get('air-w1')!.applied('bundle-images');
    expect(script!.match(/docker load -i/g)).toHaveLength(1);
    expect(script).toContain(pause.file);
    expect(script).not.toContain('ctr -n k8s.io');
    expect(script).toContain(`printf '%s\\n' '${pause.dockerManifest}' >"$kb_tmp/manifest.json"`);

    const r = cli(['up', dockerInv.file, '--bundle', docker, '--dry-run']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`curl -fsSL http://10.20.0.10:8473/cri-dockerd/${deb} -o "$kb_deb"`);
    expect(r.stdout).toContain(`curl -fsSL http://10.20.0.10:8473/cri-dockerd/${jammy} -o "$kb_deb"`);
    expect(r.stdout).toMatch(/docker load -i "\$kb_tmp\/image\.tar"/);
  });

  it('a docker bundle without cri-dockerd\'s file, or with another one, is refused naming it', async () => {
    const deb = 'cri-dockerd_0.4.10.3-0.debian-bookworm_amd64.deb';
    const jammy = 'cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb';
    const dockerInv = inventory(dir, ['  containerRuntime: docker', '  criDockerd:', '    sha256:',
      `      ${deb}: "${'a'.repeat(64)}"`, `      ${jammy}: "${sha(criDockerdBody(jammy))}"`]);
    const other = await makeBundle(dir, dockerInv, ['debian12', 'ubuntu22.04'], 'docker-other.bundle');
    await expect(verifyBundle(other, dockerInv)).rejects.toThrow(`its cri-dockerd/${deb} has sha256 ${sha(criDockerdBody(deb))}; cluster.criDockerd.sha256 says ${'a'.repeat(64)} for ${deb}`);
    const none = await makeBundle(dir, dockerInv, ['debian12', 'ubuntu22.04'], 'docker-none.bundle', (m) => {
      // in place: the fixture tars the files this list names
      for (let i = m.files.length - 1; i >= 0; i--) if (m.files[i]!.path.startsWith('cri-dockerd/')) m.files.splice(i, 1);
    });
    await expect(verifyBundle(none, dockerInv)).rejects.toThrow(/cri-dockerd's cri-dockerd_0\.4\.10\.3-0\.debian-bookworm_amd64\.deb for debian12 .* is not in it/);
  });
});

describe('the rendered scripts, run here', () => {
  const sh = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8' });

  it('every bundle script passes bash -n and shellcheck', () => {
    const scripts = [
      render('bundle/unpacked-state', { dir: '/var/lib/kbootstrap/bundle/x', part: '/var/lib/kbootstrap/bundle/x.part' }),
      render('bundle/append', { part: '/var/lib/kbootstrap/bundle/x.part', offset: '100' }),
      render('bundle/unpack', { tar: '/x.tar', dir: '/x', sha256: 'a'.repeat(64), size: '100' }),
      render('bundle/server-state', { dir: '/x', pidFile: '/run/x.pid' }),
      render('bundle/serve', { pidFile: '/run/x.pid', logFile: '/var/log/x', limit: '12h', address: '10.0.0.1', dir: '/x', port: '8473' }),
      render('bundle/stop', { pidFile: '/run/x.pid' }),
      render('bundle/images-state', {}),
      render('bundle/images-state', { docker: true }),
      render('bundle/import-images', { images: [{ ref: 'registry.k8s.io/pause:3.9', url: 'http://10.0.0.1:8473/images/p.oci.tar', sha256: 'b'.repeat(64), dockerManifest: '[{"Config":"blobs/sha256/c","RepoTags":["registry.k8s.io/pause:3.9"],"Layers":[]}]' }] }),
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
    const refused = sh(render('bundle/unpack', { tar: tarPath, dir: target, sha256: sha(bytes), size: String(bytes.length) }));
    expect(refused.status).toBe(1);
    expect(refused.stderr).toMatch(new RegExp(`the bundle arrived with sha256 [0-9a-f]{64}, not ${sha(bytes)}: removed`));
    expect([existsSync(target), existsSync(tarPath)]).toEqual([false, false]);
    expect(sh(render('bundle/unpacked-state', { dir: target, part: tarPath })).stdout).toBe('unpacked=no\npart=0\n');

    writeFileSync(tarPath, bytes);
    expect(sh(render('bundle/unpack', { tar: tarPath, dir: target, sha256: sha(bytes), size: String(bytes.length) })).status).toBe(0);
    expect(sh(render('bundle/unpacked-state', { dir: target, part: tarPath })).stdout).toBe('unpacked=yes\npart=0\n');
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

/**
 * A transport whose host is this machine: checks and commands run in real bash, with the host's
 * bundle directory mapped into a temporary one. `cut` kills the command that receives the bundle
 * once the host holds that many bytes of it: the link dropped mid-way.
 */
class BashHost implements Transport {
  readonly stats = { roundTrips: 0, bytesSent: 0, bytesReceived: 0 };
  readonly stdinBytes: number[] = [];
  constructor(private root: string, private cut?: number) {}
  private map(script: string): string { return script.split(BUNDLE_ROOT).join(this.root); }
  private bash(script: string, stdin?: string | Buffer): Promise<ExecResult> {
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', `set -euo pipefail\n${this.map(script)}`]);
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
      child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 255 : 1), stdout, stderr }));
      child.stdin.on('error', () => undefined);
      const input = stdin === undefined ? Buffer.alloc(0) : Buffer.from(stdin);
      const cut = this.cut;
      if (cut === undefined || cut >= input.length || !script.includes('exec cat >>')) { child.stdin.end(input); return; }
      this.cut = undefined;
      // the first `cut` bytes arrive; once the host holds them, the transfer is killed (cat, exec'd by the script)
      child.stdin.write(input.subarray(0, cut));
      const part = this.map(script).match(/kb_part='?([^'\n]+)'?/)![1]!;
      const wait = setInterval(() => {
        if (existsSync(part) && statSync(part).size >= cut) { clearInterval(wait); process.kill(child.pid!, 'SIGKILL'); }
      }, 10);
    });
  }
  async exec(script: string, opts: ExecOptions): Promise<ExecResult> {
    this.stats.roundTrips++;
    const input = opts.stdin === undefined ? undefined : stdinBuffer(opts.stdin);
    const n = input?.length ?? 0;
    this.stdinBytes.push(n);
    const r = await this.bash(script, input);
    if (r.code === 255) throw new Error(`the connection dropped while the command ran (the test cut it after ${n} bytes were offered)`);
    return r;
  }
  async upload(): Promise<void> { throw new Error('the bundle goes on an exec\'s stdin, not as an upload'); }
  async download(): Promise<Buffer> { throw new Error('no download here'); }
  async checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    this.stats.roundTrips++;
    return Promise.all(checks.map(async (c) => ({ step: c.step, ...(await this.bash(c.script)) })));
  }
  async close(): Promise<void> {}
}

describe('a cut upload resumes: the next run sends only the rest (real bash, real files)', () => {
  it('the first run is killed mid-way; the second sends size minus what arrived, checks the sha256 of the whole and unpacks', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-resume-'));
    const plain = inventory(dir);
    // some bulk, so that the cut falls well inside the file
    const file = await makeBundle(dir, plain, ['debian12', 'ubuntu22.04'], 'big.bundle', (m) => {
      const body = randomBytes(3 * 1024 * 1024);
      // makeBundle's staging directory, the only one in this fresh directory
      const stage = readdirSync(dir).find((n) => n.startsWith('stage-'))!;
      writeFileSync(join(dir, stage, 'filler.bin'), body);
      m.files.push({ path: 'filler.bin', sha256: sha(body), size: body.length, origin: 'test', why: 'bulk' });
    });
    const inv = withBundle(plain, await bundleRun(file, await verifyBundle(file, plain), plain));
    const b = inv.bundle!;
    const root = join(dir, 'host-root');
    const plan = buildPlan(inv, {}, PHASES, { bundle: [bundleUploadStep] });
    const runOnce = async (t: BashHost) => new Runner(inv, plan, async (spec) => new Host(spec, t, assumedFacts(spec.os ?? 'debian12')), { mode: 'apply', concurrency: 1, verifyTimeoutSeconds: 1 }).run();
    const cutAt = Math.floor(b.size * 0.4);

    const first = new BashHost(root, cutAt);
    const r1 = await runOnce(first);
    expect(r1.failed).toBe(true);
    expect(r1.outcomes.find((o) => o.step === 'bundle-upload')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/connection dropped/) });
    expect(first.stdinBytes.filter((n) => n > 0)).toEqual([b.size]);
    const part = join(root, `${b.sha256}.part`);
    // what arrived before the cut stays on the host
    expect(statSync(part).size).toBe(cutAt);

    const second = new BashHost(root);
    const r2 = await runOnce(second);
    expect(r2.failed, JSON.stringify(r2.outcomes)).toBe(false);
    expect(r2.outcomes.find((o) => o.step === 'bundle-upload')).toMatchObject({ status: 'changed' });
    // only the rest crossed the link
    expect(second.stdinBytes.filter((n) => n > 0)).toEqual([b.size - cutAt]);
    expect(readFileSync(join(root, b.sha256, 'manifest.json'), 'utf8')).toContain('filler.bin');
    expect(readFileSync(join(root, b.sha256, 'filler.bin')).length).toBe(3 * 1024 * 1024);
    expect(existsSync(part)).toBe(false);

    const third = new BashHost(root);
    const r3 = await runOnce(third);
    expect(r3.outcomes.find((o) => o.step === 'bundle-upload')).toMatchObject({ status: 'ok' });
    expect(third.stdinBytes.filter((n) => n > 0)).toEqual([]);
  }, 60_000);

  it('a part that is whole but not the bundle (a changed byte) is removed, and one that is short is kept', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-resume-bad-'));
    const body = randomBytes(4096);
    const tar = join(dir, 'x.part');
    const sh = (s: string) => spawnSync('bash', ['-c', s], { encoding: 'utf8' });
    writeFileSync(tar, body.subarray(0, 1000));
    const short = sh(render('bundle/unpack', { tar, dir: join(dir, 'x'), sha256: sha(body), size: String(body.length) }));
    expect([short.status, short.stderr]).toEqual([1, 'the bundle arrived in part: 1000 of 4096 bytes (kept: the next run sends the rest)\n']);
    expect(statSync(tar).size).toBe(1000);
    const bad = Buffer.from(body);
    bad[10] = bad[10]! ^ 1;
    writeFileSync(tar, bad);
    const changed = sh(render('bundle/unpack', { tar, dir: join(dir, 'x'), sha256: sha(body), size: String(body.length) }));
    expect(changed.status).toBe(1);
    expect(changed.stderr).toMatch(/arrived with sha256 [0-9a-f]{64}, not [0-9a-f]{64}: removed/);
    expect(existsSync(tar)).toBe(false);
    // the append refuses to go on from a byte the host does not end at
    writeFileSync(tar, body.subarray(0, 10));
    const wrong = spawnSync('bash', ['-c', render('bundle/append', { part: tar, offset: '20' })], { input: body.subarray(20), encoding: 'utf8' });
    expect(wrong.status).toBe(1);
    expect(wrong.stderr).toContain('holds 10 bytes, and this run sends from byte 20');
    expect(statSync(tar).size).toBe(10);
  });
});
