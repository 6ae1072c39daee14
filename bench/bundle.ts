/**
 * The bundle's figures (issue 21, "Speed"), part of `npm run bench` (alone: KB_BENCH_PARTS=bundle):
 *
 * - `kbootstrap bundle` for a 3-host Debian 12 inventory with the tool's defaults (containerd,
 *   calico, iptables), against the lab's own servers on loopback: a signed apt mirror built with
 *   Debian's tools (test/support/apt-tree.ts: tiny made-up packages) and Debian's docker-registry
 *   with TLS and htpasswd holding a tiny image under every name the cluster pulls. Cold cache, then
 *   warm. The packages and images are small, so this is kbootstrap's own cost (metadata checks,
 *   signatures, registry round trips, tar), not what real upstream packages weigh.
 * - `up --bundle` on 3 and 20 namespace-lab hosts with a bundle made bigger by a 32 MiB filler
 *   file: the bytes the operator's link carries (every host's SSH bytes, as the JSON report counts
 *   them), the time of the upload+unpack and of starting the server, and a second run. The lab's
 *   hosts have no ctr and a simulated apt, so the host steps run are `swap` only; what is timed of
 *   "install" is the serving: every host fetches, in parallel, every image archive its role needs
 *   from the server (python3, the sha256 of each checked), as bundle-images does before importing.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { REPO, hostInitPid, labDown, labExec, labUp, readLabState } from '../test/lab/lab.js';
import { writeInventory } from '../test/e2e/inventory.js';
import { makeBundle } from '../test/support/bundle-fixture.js';
import { buildAptMirror, serveMirror, type TestDeb } from '../test/support/apt-tree.js';
import { buildOciImage } from '../test/support/oci-image.js';
import { pushImage } from '../test/support/registry-push.js';
import { labCa, registryBinary, registryConfig, startUntil } from '../test/support/registry.js';
import { loadInventoryFile } from '../src/inventory/load.js';
import { kubeadmImages } from '../src/bundle/needs.js';
import { parseImageRef } from '../src/bundle/images.js';
import { render } from '../src/shell/templates.js';
import { BUNDLE_PORT } from '../src/os/mirrors.js';

interface HostReport { host: string; bytesSent: number; bytesReceived: number }
interface StepReport { host: string; step: string; status: string; seconds?: number }
export interface KbRun { seconds: number; report: { exitCode: number; hosts: HostReport[]; steps?: StepReport[] } }
type Kb = (args: string[]) => KbRun;

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const MiB = 1 << 20;

const CALICO_IMAGES = ['docker.io/calico/cni:v3.29.7', 'docker.io/calico/node:v3.29.7', 'docker.io/calico/kube-controllers:v3.29.7'];
const CALICO = [
  'apiVersion: apps/v1', 'kind: DaemonSet', 'metadata: { name: calico-node, namespace: kube-system }', 'spec:', '  template:', '    spec:',
  '      initContainers:', `        - { name: install-cni, image: ${CALICO_IMAGES[0]} }`, '      containers:', `        - { name: calico-node, image: ${CALICO_IMAGES[1]} }`,
  '---', 'apiVersion: apps/v1', 'kind: Deployment', 'metadata: { name: calico-kube-controllers, namespace: kube-system }', 'spec:', '  template:', '    spec:',
  '      containers:', `        - { name: calico-kube-controllers, image: ${CALICO_IMAGES[2]} }`, '',
].join('\n');
const DEBS: TestDeb[] = [
  { name: 'containerd.io', version: '1.7.27-1', depends: 'runc-helper (>= 1.1), libc6', tree: 'docker' },
  { name: 'runc-helper', version: '1.2.0-1', tree: 'docker' },
  { name: 'kubelet', version: '1.30.4-1.1', depends: 'kubernetes-cni (>= 1.2.0), mount', tree: 'kube' },
  { name: 'kubeadm', version: '1.30.4-1.1', depends: 'cri-tools (>= 1.30.0)', tree: 'kube' },
  { name: 'kubectl', version: '1.30.4-1.1', tree: 'kube' },
  { name: 'cri-tools', version: '1.30.1-1.1', tree: 'kube' },
  { name: 'kubernetes-cni', version: '1.4.0-1.1', tree: 'kube' },
];

/** `kbootstrap bundle` against loopback servers: seconds and size, cold and warm cache. */
export async function buildFigures(): Promise<Record<string, unknown>> {
  const reg = registryBinary();
  if ('skip' in reg) return { skipped: reg.skip };
  const procs: ChildProcess[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kb-bench-bundle-'));
  try {
    const repoPort = 27000 + Math.floor(Math.random() * 1000);
    const regPort = repoPort + 1000;
    const mirror = buildAptMirror(join(dir, 'mirror'), DEBS);
    mkdirSync(join(mirror.root, 'cni'));
    writeFileSync(join(mirror.root, 'cni', 'calico.yaml'), CALICO);
    await serveMirror(mirror.root, repoPort, procs);
    const tls = labCa(join(dir, 'registry', 'ca'), 'kb-bench-ca');
    const password = randomBytes(12).toString('hex');
    await startUntil([reg.bin, 'serve', registryConfig(join(dir, 'registry'), `127.0.0.1:${regPort}`, tls, { kb: password })], /listening on/, 'docker-registry', procs);
    copyFileSync(tls.ca, join(dir, 'registry-ca.crt'));
    const file = join(dir, 'inventory.yaml');
    writeFileSync(file, [
      'apiVersion: kbootstrap/v1', 'kind: Inventory', 'cluster:', '  name: bench', '  kubernetesVersion: "1.30.4"',
      `  cni: { plugin: calico, manifest: "http://127.0.0.1:${repoPort}/cni/calico.yaml", sha256: "${sha(CALICO)}" }`,
      `  packageMirror: "http://127.0.0.1:${repoPort}"`, '  allowInsecureHttp: true', `  repositoryKeyFingerprints: ["${mirror.fingerprint}"]`,
      '  registries:', `    - host: "127.0.0.1:${regPort}"`, '      mirrorOf: [registry.k8s.io, docker.io]', '      caFile: registry-ca.crt',
      '      credentials: { username: kb, passwordEnv: KB_BENCH_REGISTRY_PASSWORD }',
      'hosts:', '  - { name: cp1, address: 10.30.0.10, role: control-plane, os: debian12 }',
      '  - { name: w1, address: 10.30.0.11, role: worker, os: debian12 }', '  - { name: w2, address: 10.30.0.12, role: worker, os: debian12 }', '',
    ].join('\n'));
    const inv = loadInventoryFile(file).inventory;
    const image = buildOciImage(join(dir, 'true.oci.tar'), 'kb/true:1', { '/bin/true': 'true' });
    for (const ref of [...kubeadmImages(inv), ...CALICO_IMAGES]) {
      const r = parseImageRef(ref);
      await pushImage(image.archive, `127.0.0.1:${regPort}`, r.repo, r.tag, readFileSync(tls.ca), 'kb', password);
    }
    const env = { ...process.env, KB_BENCH_REGISTRY_PASSWORD: password, XDG_CACHE_HOME: join(dir, 'cache') };
    const build = (out: string) => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [join(REPO, 'bin', 'kbootstrap.js'), 'bundle', file, '--file', out], { encoding: 'utf8', env });
      if (r.status !== 0) throw new Error(`bundle failed: ${r.stderr}`);
      return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, bytes: statSync(out).size, files: (JSON.parse(spawnSync('tar', ['-xOf', out, 'manifest.json'], { encoding: 'utf8' }).stdout) as { files: unknown[] }).files.length };
    };
    const cold = build(join(dir, 'cold.bundle'));
    const warm = build(join(dir, 'warm.bundle'));
    return { packages: DEBS.length, images: kubeadmImages(inv).length + CALICO_IMAGES.length, cold, warm };
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Every host fetches the image archives of its role from the server at once; wall seconds of the slowest. */
async function serveFigure(server: { name: string; address: string }, hosts: { name: string; role: string }[], bundleDir: string,
  images: { file: string; sha256: string; controlPlaneOnly: boolean }[]): Promise<{ seconds: number; bytes: number }> {
  const pidFile = '/run/kbootstrap/bundle-bench.pid';
  const serve = labExec(server.name, ['/bin/bash', '-c', render('bundle/serve', {
    pidFile, logFile: '/var/log/kbootstrap-bundle-bench.log', limit: '10m', address: server.address, dir: bundleDir, port: String(BUNDLE_PORT),
  })]);
  if (serve.code !== 0) throw new Error(`serve on ${server.name}: ${serve.stderr}`);
  let bytes = 0;
  const st = readLabState()!;
  const t0 = process.hrtime.bigint();
  try {
    await Promise.all(hosts.map((h) => {
      const mine = images.filter((i) => h.role === 'control-plane' || !i.controlPlaneOnly);
      const py = [
        'import hashlib, sys, urllib.request', `want = ${JSON.stringify(mine.map((i) => [i.file, i.sha256]))}`, 'n = 0',
        'for f, s in want:',
        `    b = urllib.request.urlopen("http://${server.address}:${BUNDLE_PORT}/" + f, timeout=60).read()`,
        '    n += len(b)',
        '    assert hashlib.sha256(b).hexdigest() == s, f',
        'print(n)',
      ].join('\n');
      const pid = hostInitPid(st.hosts.find((x) => x.name === h.name)!);
      return new Promise<void>((ok, fail) => {
        const p = spawn('nsenter', ['-t', String(pid), '-m', '-u', '-n', '-p', '-i', '--', '/usr/bin/env', '-i', 'PATH=/usr/bin:/bin', 'python3', '-c', py], { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        p.stdout.on('data', (d: Buffer) => { out += d.toString(); });
        p.stderr.on('data', (d: Buffer) => { err += d.toString(); });
        p.on('exit', (code) => {
          if (code === 0) { bytes += Number(out.trim()); ok(); } else fail(new Error(`${h.name}: ${err.trim()}`));
        });
      });
    }));
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, bytes };
  } finally {
    labExec(server.name, ['/bin/bash', '-c', render('bundle/stop', { pidFile })]);
  }
}

/** `up --bundle` twice on n lab hosts. */
async function upFigures(kb: Kb, n: number, filler: number): Promise<Record<string, unknown>> {
  labDown();
  await labUp({ hosts: n, family: 'debian' });
  const inv = writeInventory();
  const loaded = loadInventoryFile(inv).inventory;
  const dir = mkdtempSync(join(tmpdir(), 'kb-bench-upb-'));
  try {
    const local = resolve(join(inv, '..'), loaded.cluster.cni.manifest!);
    const bundle = await makeBundle(dir, loaded, ['ubuntu22.04', 'debian12'], 'lab.bundle', (m) => {
      m.cniManifest = { local, sha256: sha(readFileSync(local)), images: [] };
      // the bulk a real bundle has, so that the bytes on the link are the bundle's and not the scripts'
      const body = randomBytes(filler);
      const stage = readdirSync(dir).find((x) => x.startsWith('stage-'))!;
      writeFileSync(join(dir, stage, 'filler.bin'), body);
      m.files.push({ path: 'filler.bin', sha256: sha(body), size: body.length, origin: 'bench', why: 'bulk' });
    }, { realImages: true });
    const size = statSync(bundle).size;
    const digest = sha(readFileSync(bundle));
    const args = ['up', inv, '--bundle', bundle, '--steps', 'swap', '--concurrency', String(Math.max(10, n))];
    const sum = (r: KbRun) => r.report.hosts.reduce((a, h) => a + h.bytesSent + h.bytesReceived, 0);
    const stepMs = (r: KbRun, step: string) => (r.report.steps?.find((s) => s.step === step)?.seconds ?? NaN) * 1000;
    const first = kb(args);
    const server = loaded.hosts[0]!;
    const manifest = JSON.parse(labExec(server.name, ['cat', `/var/lib/kbootstrap/bundle/${digest}/manifest.json`]).stdout) as { files: { path: string; sha256: string }[]; images: { ref: string; file: string }[] };
    const images = manifest.images.map((i) => ({ file: i.file, sha256: manifest.files.find((f) => f.path === i.file)!.sha256, controlPlaneOnly: /kube-(apiserver|controller-manager|scheduler)|etcd|kube-vip/.test(i.ref) }));
    const served = await serveFigure(server, loaded.hosts, `/var/lib/kbootstrap/bundle/${digest}`, images);
    const second = kb(args);
    return {
      hosts: n, bundleBytes: size,
      first: { exitCode: first.report.exitCode, seconds: first.seconds, linkBytes: sum(first), serverBytesSent: first.report.hosts.find((h) => h.host === server.name)!.bytesSent, uploadMs: stepMs(first, 'bundle-upload'), serveStartMs: stepMs(first, 'bundle-serve') },
      serve: { hostsFetching: n, seconds: served.seconds, bytes: served.bytes },
      second: { exitCode: second.report.exitCode, seconds: second.seconds, linkBytes: sum(second), upload: second.report.steps?.find((s) => s.step === 'bundle-upload')?.status },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    labDown();
  }
}

export async function benchBundle(kb: Kb): Promise<Record<string, unknown>> {
  const build = await buildFigures();
  process.stderr.write(`bench: bundle build ${JSON.stringify(build)}\n`);
  const up: Record<string, unknown>[] = [];
  for (const n of [3, 20]) {
    up.push(await upFigures(kb, n, 32 * MiB));
    process.stderr.write(`bench: up --bundle ${n} hosts ${JSON.stringify(up.at(-1))}\n`);
  }
  return { build, up };
}

type UpRow = { hosts: number; bundleBytes: number; first: { linkBytes: number; seconds: number; uploadMs: number; serveStartMs: number }; serve: { seconds: number; bytes: number }; second: { linkBytes: number; seconds: number; upload: string } };
export function bundleTable(b: { build: Record<string, unknown>; up: Record<string, unknown>[] }): string {
  const mib = (n: number) => `${(n / MiB).toFixed(1)} MiB`;
  const rows = [['up --bundle', 'bundle', 'link, 1st run', 'link / bundle', '1st run', 'upload+unpack', 'server start', 'hosts fetch images', 'link, 2nd run', '2nd run']];
  for (const r of b.up as UpRow[]) {
    rows.push([`${r.hosts} hosts`, mib(r.bundleBytes), mib(r.first.linkBytes), (r.first.linkBytes / r.bundleBytes).toFixed(3), `${r.first.seconds.toFixed(1)}s`, `${(r.first.uploadMs / 1000).toFixed(1)}s`,
      `${(r.first.serveStartMs / 1000).toFixed(1)}s`, `${r.serve.seconds.toFixed(2)}s (${mib(r.serve.bytes)})`, `${(r.second.linkBytes / 1024).toFixed(1)} KiB`, `${r.second.seconds.toFixed(1)}s (${r.second.upload})`]);
  }
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  const bb = b.build as { cold?: { seconds: number; bytes: number; files: number }; warm?: { seconds: number }; skipped?: string };
  const build = bb.cold ? `bundle build (3 Debian 12 hosts, loopback mirror and registry): ${bb.cold.seconds.toFixed(1)}s cold cache, ${bb.warm!.seconds.toFixed(1)}s warm; ${(bb.cold.bytes / 1024).toFixed(0)} KiB, ${bb.cold.files} files` : `bundle build: skipped (${bb.skipped})`;
  return `${build}\n${rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n')}`;
}
