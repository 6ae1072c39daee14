// npm run bench: for labs of 3 and 20 hosts, time lab start-up, converging
// from fresh, a no-op up and a plan, with SSH round trips and bytes per host.
// Writes bench/results.json and prints a table. Needs root (the lab).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus } from 'node:os';
import { LAB_DIR, REPO, labDown, labUnavailable, labUp } from '../test/lab/lab.js';

interface Report { exitCode: number; seconds: number; cpuSeconds: number; hosts: { host: string; roundTrips: number; bytesSent: number; bytesReceived: number; changed: number; failed: number }[] }

function kb(args: string[]): { seconds: number; report: Report } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [join(REPO, 'bin', 'kbootstrap.js'), ...args, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const report = JSON.parse(r.stdout) as Report;
  if (report.exitCode !== 0 && report.exitCode !== 3) throw new Error(`kbootstrap ${args[0]} failed: ${r.stdout.slice(0, 2000)}`);
  return { seconds, report };
}

const per = (r: Report, k: 'roundTrips' | 'bytesSent' | 'bytesReceived') => {
  const v = r.hosts.map((h) => h[k]);
  return { min: Math.min(...v), max: Math.max(...v), mean: Math.round(v.reduce((a, b) => a + b, 0) / v.length) };
};

const why = labUnavailable();
if (why) { console.error(`bench: the lab cannot run here: ${why}`); process.exit(2); }
const sizes = (process.env.KB_BENCH_SIZES ?? '3,20').split(',').map(Number);
const results: Record<string, unknown>[] = [];
for (const n of sizes) {
  labDown();
  const t0 = Date.now();
  await labUp({ hosts: n, family: 'mixed' });
  const labUpSeconds = (Date.now() - t0) / 1000;
  const inv = join(LAB_DIR, 'inventory.yaml');
  const converge = kb(['up', inv, '--concurrency', '20']);
  const noop = kb(['up', inv, '--concurrency', '20']);
  const noop2 = kb(['up', inv, '--concurrency', '20']);
  const plan = kb(['plan', inv, '--concurrency', '20']);
  results.push({
    hosts: n,
    labUpSeconds,
    convergeSeconds: converge.seconds,
    noopUpSeconds: Math.min(noop.seconds, noop2.seconds),
    noopKbootstrapCpuSeconds: Math.min(noop.report.cpuSeconds, noop2.report.cpuSeconds),
    convergeKbootstrapCpuSeconds: converge.report.cpuSeconds,
    planSeconds: plan.seconds,
    noopChanged: noop.report.hosts.reduce((a, h) => a + h.changed, 0),
    converge: { roundTrips: per(converge.report, 'roundTrips'), bytesSent: per(converge.report, 'bytesSent'), bytesReceived: per(converge.report, 'bytesReceived') },
    noop: { roundTrips: per(noop.report, 'roundTrips'), bytesSent: per(noop.report, 'bytesSent'), bytesReceived: per(noop.report, 'bytesReceived') },
  });
  process.stderr.write(`bench: ${n} hosts done\n`);
}
labDown();
const out = { machine: `${cpus().length} cores, ${cpus()[0]?.model ?? ''}`, node: process.version, date: new Date().toISOString().slice(0, 10), results };
writeFileSync(join(REPO, 'bench', 'results.json'), JSON.stringify(out, null, 2) + '\n');
const rows = [['hosts', 'lab up', 'converge', 'no-op up', 'plan', 'kbootstrap CPU no-op', 'RT/host converge', 'RT/host no-op', 'KB sent/host no-op']];
for (const r of results as { hosts: number; labUpSeconds: number; convergeSeconds: number; noopUpSeconds: number; planSeconds: number; noopKbootstrapCpuSeconds: number; converge: { roundTrips: { mean: number } }; noop: { roundTrips: { mean: number }; bytesSent: { mean: number } } }[]) {
  rows.push([String(r.hosts), `${r.labUpSeconds.toFixed(1)}s`, `${r.convergeSeconds.toFixed(1)}s`, `${r.noopUpSeconds.toFixed(1)}s`, `${r.planSeconds.toFixed(1)}s`, `${r.noopKbootstrapCpuSeconds.toFixed(2)}s`, String(r.converge.roundTrips.mean), String(r.noop.roundTrips.mean), (r.noop.bytesSent.mean / 1024).toFixed(1)]);
}
const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n'));
