/**
 * `up --bundle` streams the bundle from disk (issue 21, what was missing): bundle-upload hands the
 * transport a slice of the file (from the resume offset), and the SSH transport reads it as the
 * channel takes it, so the process's memory does not grow with the bundle's size. Before, the rest
 * of the bundle was read into one Buffer: a 256 MiB bundle grew the process by 256 MiB.
 *
 * Over a throwaway sshd on 127.0.0.1:2226 (kbootstrap's real transport, the host's bundle directory
 * mapped into a temporary one): a 256 MiB bundle is cut after about 96 MiB by dropping the
 * connection, the next run sends only the rest, the host checks the whole file's sha256 and unpacks
 * it; the resident set is sampled all along. Needs root and /usr/sbin/sshd, skips loudly otherwise.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BundleRun, Inventory } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/os/index.js';
import { buildPlan } from '../src/plan.js';
import { PHASES } from '../src/phases.js';
import { Runner, type RunResult } from '../src/runner.js';
import { withBundle } from '../src/bundle/run.js';
import { BUNDLE_ROOT, bundleUploadStep } from '../src/steps/bundle.js';
import { RecordingTransport } from '../src/transport/recording.js';
import type { CheckOutput, CheckRequest, DownloadOptions, ExecOptions, ExecResult, Transport, UploadOptions } from '../src/transport/types.js';
import type { SshTransport } from '../src/ssh/transport.js';
import { FakeTransport } from './support/fake-transport.js';
import { inventory } from './support/bundle-fixture.js';
import { sshdMissing, startSshd, type Sshd } from './support/sshd.js';

const PORT = 2226;
const MIB = 1024 * 1024;
const why = sshdMissing();
if (why) console.warn(`bundle-stream.test: ${why}: streaming a bundle over real SSH is SKIPPED`);

/** The real SSH transport, with the host's bundle directory in a temporary one (the machine's own /var/lib stays untouched). */
class Mapped implements Transport {
  constructor(readonly inner: SshTransport, private root: string) {}
  get stats() { return this.inner.stats; }
  private map(s: string): string { return s.split(BUNDLE_ROOT).join(this.root); }
  exec(script: string, opts: ExecOptions): Promise<ExecResult> { return this.inner.exec(this.map(script), opts); }
  upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void> { return this.inner.upload(content, this.map(dest), opts); }
  download(path: string, opts: DownloadOptions): Promise<Buffer> { return this.inner.download(this.map(path), opts); }
  checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> { return this.inner.checkBatch(checks.map((c) => ({ ...c, script: this.map(c.script) }))); }
  close(): Promise<void> { return this.inner.close(); }
}

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A bundle-shaped tar: a manifest.json (what the host's check looks for once unpacked) and SIZE bytes of bulk. */
async function bigBundle(dir: string, bulk: number): Promise<{ file: string; sha256: string; size: number }> {
  const stage = join(dir, 'stage');
  mkdirSync(stage);
  writeFileSync(join(stage, 'manifest.json'), '{}\n');
  // sparse on this disk; tar without --sparse stores every byte, so the archive carries all of them
  writeFileSync(join(stage, 'bulk.bin'), 'kbootstrap');
  truncateSync(join(stage, 'bulk.bin'), bulk);
  const file = join(dir, 'big.bundle');
  execFileSync('tar', ['-cf', file, '-C', stage, 'manifest.json', 'bulk.bin']);
  rmSync(stage, { recursive: true });
  return { file, sha256: await sha256File(file), size: statSync(file).size };
}

/** The process's resident set, sampled while FN runs: how far it rose above where it started. */
async function rssGrowth<T>(fn: () => Promise<T>): Promise<{ value: T; growth: number }> {
  const start = process.memoryUsage.rss();
  let peak = start;
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage.rss()); }, 20);
  try {
    const value = await fn();
    peak = Math.max(peak, process.memoryUsage.rss());
    return { value, growth: peak - start };
  } finally {
    clearInterval(timer);
  }
}

let sshd: Sshd | undefined;
let dir = '';

beforeAll(async () => {
  if (why) return;
  sshd = await startSshd(PORT);
  dir = mkdtempSync(join(tmpdir(), 'kb-bundle-stream-'));
});

afterAll(async () => {
  await sshd?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function served(plain: Inventory, b: { file: string; sha256: string; size: number }): Inventory {
  const bundle: BundleRun = { ...b, address: '10.20.0.10', images: [] };
  return withBundle(plain, bundle);
}

/** One `up --bundle` run of bundle-upload alone, the first control plane over T, the worker a double. */
function runUpload(inv: Inventory, t: Transport): Promise<RunResult> {
  const plan = buildPlan(inv, {}, PHASES, { bundle: [bundleUploadStep] });
  return new Runner(inv, plan, async (spec) => new Host(spec, spec.role === 'control-plane' ? t : new FakeTransport(), assumedFacts(spec.os ?? 'debian12')),
    { mode: 'apply', concurrency: 2, verifyTimeoutSeconds: 1, assumeApplied: t instanceof RecordingTransport }).run();
}

describe.skipIf(why !== '')('bundle-upload streams the bundle from disk over real SSH', () => {
  it('a 256 MiB bundle, cut after ~96 MiB, then resumed: the process grows by a few MiB, not by the bundle; the host checks the sha256 and unpacks it', async () => {
    const b = await bigBundle(dir, 256 * MIB);
    const inv = served(inventory(dir), b);
    const root = join(dir, 'host-root');
    const part = join(root, `${b.sha256}.part`);

    // the first run: the link drops once ~96 MiB have arrived
    const first = new Mapped(await sshd!.connect('air-cp'), root);
    const cutAt = 96 * MIB;
    const watch = setInterval(() => { if (existsSync(part) && statSync(part).size >= cutAt) { clearInterval(watch); void first.close(); } }, 20);
    const r1 = await rssGrowth(() => runUpload(inv, first));
    clearInterval(watch);
    expect(r1.value.failed).toBe(true);
    expect(r1.value.outcomes.find((o) => o.step === 'bundle-upload')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/connection/) });
    // what arrived stays on the host (sshd's cat has written all it got once the size holds still)
    let arrived = -1;
    for (let i = 0; i < 100 && statSync(part).size !== arrived; i++) { arrived = statSync(part).size; await new Promise((r) => setTimeout(r, 100)); }
    expect(arrived).toBeGreaterThanOrEqual(cutAt);
    expect(arrived).toBeLessThan(b.size);

    // the second run sends only the rest, and the host checks the whole
    const inner = await sshd!.connect('air-cp');
    const second = new Mapped(inner, root);
    const r2 = await rssGrowth(() => runUpload(inv, second));
    await second.close();
    expect(r2.value.failed, JSON.stringify(r2.value.outcomes)).toBe(false);
    expect(r2.value.outcomes.find((o) => o.step === 'bundle-upload')).toMatchObject({ status: 'changed' });
    const rest = b.size - arrived;
    expect(inner.stats.bytesSent).toBeGreaterThanOrEqual(rest);
    expect(inner.stats.bytesSent).toBeLessThan(rest + 256 * 1024);
    expect(statSync(join(root, b.sha256, 'bulk.bin')).size).toBe(256 * MIB);
    expect(readFileSync(join(root, b.sha256, 'manifest.json'), 'utf8')).toBe('{}\n');
    expect(existsSync(part)).toBe(false);

    // bounded memory: a Buffer of the bundle (or of its rest) would be 256 (160) MiB on its own
    console.log(`bundle-stream: ${(b.size / MIB).toFixed(0)} MiB bundle, cut at ${(arrived / MIB).toFixed(1)} MiB; rss growth ${(r1.growth / MIB).toFixed(1)} MiB (first run), ${(r2.growth / MIB).toFixed(1)} MiB (the rest)`);
    expect(r1.growth).toBeLessThan(48 * MIB);
    expect(r2.growth).toBeLessThan(48 * MIB);
  }, 240_000);

  it('a bundle changed after it was checked: shorter, the send stops naming the file; same size, the host\'s sha256 check refuses it and removes it', async () => {
    const sub = mkdtempSync(join(dir, 'changed-'));
    const b = await bigBundle(sub, 2 * MIB);
    const inv = served(inventory(sub), b);
    const root = join(sub, 'host-root');
    const bytes = readFileSync(b.file);

    truncateSync(b.file, b.size - 4096);
    const short = new Mapped(await sshd!.connect('air-cp'), root);
    const r1 = await runUpload(inv, short);
    await short.close();
    expect(r1.outcomes.find((o) => o.step === 'bundle-upload')).toMatchObject({
      status: 'failed', reason: expect.stringContaining(`air-cp: bundle-upload: ${b.file} ended at byte ${b.size - 4096}; ${b.size} were expected: was it changed during the run?`),
    });

    const changed = Buffer.from(bytes);
    changed[b.size - 100] = changed[b.size - 100]! ^ 1;
    writeFileSync(b.file, changed);
    const other = new Mapped(await sshd!.connect('air-cp'), root);
    const r2 = await runUpload(inv, other);
    await other.close();
    expect(r2.outcomes.find((o) => o.step === 'bundle-upload')).toMatchObject({ status: 'failed', reason: expect.stringMatching(/the bundle arrived with sha256 [0-9a-f]{64}, not \S+: removed/) });
    expect(existsSync(join(root, `${b.sha256}.part`))).toBe(false);
    expect(existsSync(join(root, b.sha256))).toBe(false);
  }, 60_000);
});

describe('the dry run records the bundle without reading it', () => {
  it('the recorded stdin names the file and the size; the file is never opened (it does not even exist)', async () => {
    const gone = join(tmpdir(), `kb-no-such-bundle-${process.pid}`);
    const inv = served(inventory(mkdtempSync(join(tmpdir(), 'kb-bundle-dry-'))), { file: gone, sha256: 'a'.repeat(64), size: 300 * MIB });
    const t = new RecordingTransport();
    const r = await runUpload(inv, t);
    expect(r.failed, JSON.stringify(r.outcomes)).toBe(false);
    const sent = t.recorded.find((x) => x.kind === 'exec' && x.stdin !== undefined);
    expect(sent).toMatchObject({ step: 'bundle-upload', stdin: `<${300 * MIB} bytes of ${gone}>` });
  });
});
