/**
 * `up --bundle` with containerRuntime docker, judged by a real dockerd (Debian 12's docker.io 20.10,
 * its containerd and runc, fetched with apt-get download and unpacked with dpkg -x, never installed):
 * the rendered bundle-images scripts run here against it. The bundle's OCI archive alone is refused
 * by docker's own image store (it reads manifest.json); with the manifest.json kbootstrap makes from
 * the archive appended on the "host", `docker load` takes it under the name the cluster pulls, with
 * the config's digest as its id, and the check script lists it so that a second run imports nothing.
 * dockerd runs in mount and network namespaces of its own (vfs storage, no bridge, no iptables);
 * the archives come from a python3 http.server on loopback standing in for the bundle server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BundleRun } from '../../src/inventory/model.js';
import { bundleRun } from '../../src/bundle/run.js';
import { verifyBundle } from '../../src/bundle/verify.js';
import { canonicalRef } from '../../src/steps/bundle.js';
import { render } from '../../src/shell/templates.js';
import { fetchOrSkip } from '../support/debian-suites.js';
import { criDockerdBody, inventory, makeBundle, sha } from '../support/bundle-fixture.js';

const DOCKER = fetchOrSkip('bookworm', 'docker', ['docker.io', 'containerd', 'runc', 'tini']);
function missing(): string {
  if ('skip' in DOCKER) return DOCKER.skip;
  if (process.getuid?.() !== 0) return 'needs root (dockerd, namespaces of its own)';
  for (const t of ['unshare', 'python3', 'curl', 'sha256sum', 'tar', 'ip']) if (spawnSync('sh', ['-c', `command -v ${t}`]).status !== 0) return `${t} is missing`;
  return '';
}
const SKIP = missing();

describe.skipIf(!!SKIP)('a docker bundle\'s images load into a real dockerd (20.10) through the rendered scripts', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-docker-load-'));
  const procs: ChildProcess[] = [];
  const sock = join(dir, 'docker.sock');
  const bin = 'skip' in DOCKER ? '' : join(DOCKER.root, 'usr/bin');
  const sbin = 'skip' in DOCKER ? '' : join(DOCKER.root, 'usr/sbin');
  const env = { ...process.env, DOCKER_HOST: `unix://${sock}`, PATH: `${bin}:${process.env.PATH}` };
  const sh = (script: string) => spawnSync('bash', ['-c', script], { encoding: 'utf8', env, timeout: 120_000 });
  let images: BundleRun['images'] = [];
  const port = 19000 + Math.floor(Math.random() * 2000);

  beforeAll(async () => {
    const deb = 'cri-dockerd_0.4.10.3-0.debian-bookworm_amd64.deb';
    const jammy = 'cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb';
    const inv = inventory(dir, ['  containerRuntime: docker', '  criDockerd:', '    sha256:', `      ${deb}: "${sha(criDockerdBody(deb))}"`, `      ${jammy}: "${sha(criDockerdBody(jammy))}"`]);
    const file = await makeBundle(dir, inv, ['debian12', 'ubuntu22.04'], 'docker.bundle', undefined, { realImages: true });
    images = (await bundleRun(file, await verifyBundle(file, inv), inv)).images.filter((i) => /pause|coredns/.test(i.ref));
    // the bundle server's directory: the archives where the bundle has them
    const served = join(dir, 'served');
    for (const i of images) {
      mkdirSync(join(served, 'images'), { recursive: true });
      writeFileSync(join(served, i.file), spawnSync('tar', ['-xOf', file, i.file], { maxBuffer: 1 << 26 }).stdout);
    }
    procs.push(spawn('python3', ['-m', 'http.server', '--bind', '127.0.0.1', '--directory', served, String(port)], { stdio: 'ignore' }));
    for (let i = 0; i < 100 && sh(`curl -fsS -o /dev/null http://127.0.0.1:${port}/`).status !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    for (const d of ['data', 'exec']) mkdirSync(join(dir, d));
    writeFileSync(join(dir, 'daemon.json'), '{}\n');
    // --kill-child: dockerd goes when the namespaces' holder does
    procs.push(spawn('unshare', ['--kill-child', '-m', '-n', '-f', 'sh', '-c', `ip link set lo up && exec dockerd --data-root ${dir}/data --exec-root ${dir}/exec --host unix://${sock} --pidfile ${dir}/docker.pid --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs --config-file ${dir}/daemon.json`],
      { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, PATH: `${bin}:${sbin}:${process.env.PATH}` } }));
    for (let i = 0; i < 100 && sh('docker version >/dev/null 2>&1').status !== 0; i++) await new Promise((r) => setTimeout(r, 200));
    expect(sh('docker version --format "{{.Server.Version}}"').stdout).toMatch(/^20\.10\./);
  }, 180_000);

  afterAll(async () => {
    // dockerd stops its own containerd on TERM
    if (existsSync(join(dir, 'docker.pid'))) spawnSync('kill', [readFileSync(join(dir, 'docker.pid'), 'utf8').trim()]);
    for (let i = 0; i < 50 && existsSync(join(dir, 'docker.pid')); i++) await new Promise((r) => setTimeout(r, 200));
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  const held = () => sh(render('bundle/images-state', { docker: true })).stdout;

  it('the bare OCI archive is refused by docker load; with kbootstrap\'s manifest.json appended after the sha256 check it loads, named as the cluster pulls it', () => {
    const pause = images.find((i) => i.ref.includes('pause'))!;
    const bare = sh(`curl -fsS -o ${dir}/bare.tar http://127.0.0.1:${port}/${pause.file} && docker load -i ${dir}/bare.tar`);
    expect(bare.status).not.toBe(0);
    expect(bare.stderr).toMatch(/no such file or directory/);
    expect(held()).toBe('runtime=ok\n');

    const script = render('bundle/import-images', { images: images.map((i) => ({ ref: i.ref, url: `http://127.0.0.1:${port}/${i.file}`, sha256: i.sha256, dockerManifest: i.dockerManifest })) });
    const r = sh(script);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('Loaded image: registry.k8s.io/pause:3.9');
    expect(r.stdout).toContain('Loaded image: registry.k8s.io/coredns/coredns:v1.11.3');
    // listed as the check parses it: a second run finds nothing missing
    const listed = held().split('\n').filter((l) => l.startsWith('image=')).map((l) => canonicalRef(l.slice(6)));
    for (const i of images) expect(listed).toContain(canonicalRef(i.ref));
    // the image is the archive's: its id is the config's digest from the manifest.json
    const config = (JSON.parse(pause.dockerManifest!) as { Config: string }[])[0]!.Config.replace('blobs/sha256/', '');
    expect(sh('docker image inspect registry.k8s.io/pause:3.9 --format "{{.Id}}"').stdout.trim()).toBe(`sha256:${config}`);
  });

  it('an archive the bundle server sends changed is refused before docker sees it', () => {
    const pause = images.find((i) => i.ref.includes('pause'))!;
    const r = sh(render('bundle/import-images', { images: [{ ref: pause.ref, url: `http://127.0.0.1:${port}/${pause.file}`, sha256: 'f'.repeat(64), dockerManifest: pause.dockerManifest }] }));
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`registry.k8s.io/pause:3.9: the bundle server sent http://127.0.0.1:${port}/${pause.file} with sha256 ${pause.sha256}, not ${'f'.repeat(64)}`);
    expect(r.stdout).not.toContain('Loaded image');
  });
});
