// npm run bench: first the CLI's start-up (--version, --help and validate of a
// 3-host inventory, each as a multiple of `node -e 0` measured interleaved with
// it: 7 runs each, medians); then for labs of 3, 20 and 100 hosts, time lab start-up, converging
// from fresh, a no-op `up` of every step and of the prepare steps only, and a
// plan; each measured against one parallel round of OpenSSH `ssh HOST true`
// to the same hosts in the same run (this machine is noisy: compare ratios,
// not seconds). Every kbootstrap figure is the median of 3 runs interleaved
// with 3 ssh rounds. Then the host steps on 2 real Debian 12 VMs beside the
// same steps on 2 namespace hosts (only with KB_BENCH_VM=1: the VM lab is slow
// and shared). The machine's 1-minute load average is sampled at every
// measurement and reported with the figures. Writes bench/results.json and
// prints the tables. Then the bundle's figures (bench/bundle.ts;
// KB_BENCH_PARTS=bundle runs only those; KB_BENCH_PARTS=sizes only the start-up
// and the labs, printed, no results.json). KB_BENCH_BASELINE=DIR/bin/kbootstrap.js
// (another build, say the last commit's) adds its no-op `up` to every round,
// interleaved with this build's and the ssh round: before and after in the
// same run. KB_BENCH_ROUNDS sets the rounds (3). KB_BENCH_NODE=PATH runs the CLI
// (and `node -e 0`) under another Node.js binary, e.g. a supported line when the
// machine's own is past its end of life (.ci/node-matrix keeps them under
// /var/cache/kbootstrap-node/VERSION/node). Needs root.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cpus, loadavg, tmpdir } from 'node:os';
import { parse } from 'yaml';
import { LAB_DIR, REPO, labDown, labUnavailable, labUp } from '../test/lab/lab.js';
import { UP_STEPS } from '../src/steps/index.js';
import { vmDown, vmUnavailable, vmUp } from '../test/lab/vm/vms.js';
import { VM_HOST_STEPS } from '../test/lab/vm/host-steps.js';

interface HostReport { host: string; error?: string; seconds: number; roundTrips: number; bytesSent: number; bytesReceived: number; changed: number; failed: number }
interface Report { exitCode: number; seconds: number; cpuSeconds: number; hosts: HostReport[] }

/**
 * kbootstrap's cache (the hosts' facts) and run logs, fresh for each lab: a converge from
 * fresh knows no host, as on a first run; the no-ops after it find what it cached.
 */
let cacheHome = '';
function freshCache(): void {
  if (cacheHome) rmSync(cacheHome, { recursive: true, force: true });
  cacheHome = mkdtempSync(join(tmpdir(), 'kb-bench-cache-'));
}

const failures: string[] = [];

/** The machine's 1-minute load average at each measurement (the machine is shared: the figures need it beside them). */
const loads: number[] = [];
const sampleLoad = () => { loads.push(loadavg()[0]!); };
const loadRange = (xs: number[]) => ({ min: Math.min(...xs), max: Math.max(...xs) });

const BIN = join(REPO, 'bin', 'kbootstrap.js');
/** another build's CLI, measured beside this one (its no-op `up`, interleaved) */
const baseline = process.env.KB_BENCH_BASELINE;
const rounds = Number(process.env.KB_BENCH_ROUNDS ?? 3);
/** the Node.js that runs the CLI and `node -e 0` */
const NODE = process.env.KB_BENCH_NODE ?? process.execPath;
const nodeVersion = spawnSync(NODE, ['--version'], { encoding: 'utf8' }).stdout.trim();

function kb(args: string[], bin = BIN): { seconds: number; report: Report } {
  sampleLoad();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(NODE, [bin, ...args, '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, XDG_CACHE_HOME: cacheHome } });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  let report: Report;
  try {
    report = JSON.parse(r.stdout) as Report;
  } catch (e) {
    // no figure from a run whose report is unreadable; and no lab left running behind the bench
    labDown();
    if (process.env.KB_BENCH_VM === '1') vmDown();
    throw new Error(`kbootstrap ${args.join(' ')}: its report is not JSON (${(e as Error).message}; exit ${r.status}, ${r.stdout.length} characters; stderr: ${r.stderr.slice(-500)})`);
  }
  if (report.exitCode !== 0 && report.exitCode !== 3) {
    const why = [
      ...report.hosts.filter((h) => h.error).map((h) => `${h.host}: ${h.error}`),
      ...(report as Report & { steps?: { host: string; step: string; status: string; reason: string }[] }).steps?.filter((x) => x.status === 'failed').map((x) => `${x.host}/${x.step}: ${x.reason}`) ?? [],
    ];
    // recorded and shown, not hidden: a failed run's time is no figure of a working one
    const line = `kbootstrap ${args.join(' ')} failed (exit ${report.exitCode}): ${why.slice(0, 20).join('; ')}`;
    failures.push(line);
    process.stderr.write(`bench: ${line}\n`);
  }
  return { seconds, report };
}

/** One parallel round of `ssh HOST true` to every lab host: a fresh connection each, as kbootstrap makes. */
async function sshRound(addresses: string[]): Promise<number> {
  sampleLoad();
  const t0 = process.hrtime.bigint();
  await Promise.all(addresses.map((a) => new Promise<void>((resolve, reject) => {
    const p = spawn('ssh', ['-i', join(LAB_DIR, 'id_ed25519'), '-o', `UserKnownHostsFile=${join(LAB_DIR, 'known_hosts')}`, '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=yes', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', `root@${a}`, 'true'], { stdio: 'ignore' });
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`ssh ${a} true exited ${code}`))));
  })));
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const per = (r: Report, k: 'roundTrips' | 'bytesSent' | 'bytesReceived') => {
  const v = r.hosts.map((h) => h[k]);
  return { min: Math.min(...v), max: Math.max(...v), mean: Math.round(v.reduce((a, b) => a + b, 0) / v.length) };
};

/** The first control plane's time against the mean of the other hosts' (the cluster checks run there). */
function firstCpRatio(r: Report, firstCp: string): number {
  const cp = r.hosts.find((h) => h.host === firstCp)!.seconds;
  const others = r.hosts.filter((h) => h.host !== firstCp).map((h) => h.seconds);
  return cp / (others.reduce((a, b) => a + b, 0) / others.length);
}

/** Wall time of one short command, in seconds. */
function timed(args: string[]): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(NODE, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Start-up against `node -e 0`, interleaved so that the machine's load weighs on both alike. */
function startup(): Record<string, number> {
  sampleLoad();
  const bin = join(REPO, 'bin', 'kbootstrap.js');
  const cases: Record<string, string[]> = {
    node: ['-e', '0'],
    version: [bin, '--version'],
    help: [bin, '--help'],
    validate: [bin, 'validate', join(REPO, 'inventories', 'lab.yaml')],
  };
  const times: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (const args of Object.values(cases)) timed(args); // warm the file cache
  for (let i = 0; i < 7; i++) for (const [k, args] of Object.entries(cases)) times[k]!.push(timed(args));
  const m = Object.fromEntries(Object.entries(times).map(([k, v]) => [k, median(v)]));
  return { nodeSeconds: m.node!, versionSeconds: m.version!, helpSeconds: m.help!, validateSeconds: m.validate!, version: m.version! / m.node!, help: m.help! / m.node!, validate: m.validate! / m.node! };
}

// KB_BENCH_PARTS=bundle: only the bundle's figures (bench/bundle.ts), written into results.json beside the others
if (process.env.KB_BENCH_PARTS === 'bundle') {
  const { benchBundle, bundleTable } = await import('./bundle.js');
  freshCache();
  const bundle = await benchBundle(kb);
  const file = join(REPO, 'bench', 'results.json');
  const previous = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...previous, bundle: { date: new Date().toISOString().slice(0, 10), ...bundle, failures } }, null, 2) + '\n');
  rmSync(cacheHome, { recursive: true, force: true });
  console.log(bundleTable(bundle as Parameters<typeof bundleTable>[0]));
  if (failures.length) console.log(`\nFAILED RUNS (${failures.length}):\n${failures.join('\n')}`);
  process.exit(failures.length ? 1 : 0);
}

const start = startup();
process.stderr.write(`bench: start-up done\n`);

const why = labUnavailable();
if (why) { console.error(`bench: the lab cannot run here: ${why}`); process.exit(2); }
const sizes = (process.env.KB_BENCH_SIZES ?? '3,20,100').split(',').filter(Boolean).map(Number);
const prepareSteps = UP_STEPS.prepare!.map((s) => s.id).join(',');
const results: Record<string, unknown>[] = [];
for (const n of sizes) {
  const loadsFrom = loads.length;
  labDown();
  const t0 = Date.now();
  await labUp({ hosts: n, family: 'mixed' });
  freshCache();
  const labUpSeconds = (Date.now() - t0) / 1000;
  const inv = join(LAB_DIR, 'inventory.yaml');
  // the ssh round's OpenSSH waits for its handshake as long as it takes; so does kbootstrap here (the lab's 5 s
  // is for small labs: 100 handshakes at once on 2 cores take longer, and a host given up on is no figure)
  writeFileSync(inv, readFileSync(inv, 'utf8').replace(/connectTimeoutSeconds: \d+/, 'connectTimeoutSeconds: 120'));
  const doc = parse(readFileSync(inv, 'utf8')) as { hosts: { name: string; address: string; role: string }[] };
  const addresses = doc.hosts.map((h) => h.address);
  const firstCp = doc.hosts.find((h) => h.role === 'control-plane')!.name;
  const base = ['--concurrency', String(Math.max(20, n))];
  const converge = kb(['up', inv, ...base]);
  const ssh: number[] = [];
  const noop: { seconds: number; report: Report }[] = [];
  const noopPrepare: number[] = [];
  const plan: number[] = [];
  const noopBaseline: number[] = [];
  for (let i = 0; i < rounds; i++) {
    ssh.push(await sshRound(addresses));
    noop.push(kb(['up', inv, ...base]));
    if (baseline) noopBaseline.push(kb(['up', inv, ...base], baseline).seconds);
    noopPrepare.push(kb(['up', inv, ...base, '--steps', prepareSteps]).seconds);
    plan.push(kb(['plan', inv, ...base]).seconds);
  }
  const sshSeconds = median(ssh);
  const noopBest = noop.find((x) => x.seconds === median(noop.map((y) => y.seconds)))!;
  results.push({
    hosts: n,
    labUpSeconds,
    sshRoundSeconds: sshSeconds,
    convergeSeconds: converge.seconds,
    noopUpSeconds: noopBest.seconds,
    noopPrepareSeconds: median(noopPrepare),
    planSeconds: median(plan),
    ratio: {
      converge: converge.seconds / sshSeconds,
      noopUp: noopBest.seconds / sshSeconds,
      noopPrepare: median(noopPrepare) / sshSeconds,
      plan: median(plan) / sshSeconds,
    },
    firstControlPlaneVsOthers: firstCpRatio(noopBest.report, firstCp),
    noopKbootstrapCpuSeconds: noopBest.report.cpuSeconds,
    convergeKbootstrapCpuSeconds: converge.report.cpuSeconds,
    noopChanged: noop.reduce((a, x) => a + x.report.hosts.reduce((b, h) => b + h.changed, 0), 0),
    converge: { roundTrips: per(converge.report, 'roundTrips'), bytesSent: per(converge.report, 'bytesSent'), bytesReceived: per(converge.report, 'bytesReceived') },
    noop: { roundTrips: per(noopBest.report, 'roundTrips'), bytesSent: per(noopBest.report, 'bytesSent'), bytesReceived: per(noopBest.report, 'bytesReceived') },
    loadAverage: loadRange(loads.slice(loadsFrom)),
    ...(baseline ? { baseline: { bin: baseline, noopUpSeconds: median(noopBaseline), ratio: median(noopBaseline) / sshSeconds, runs: noopBaseline } } : {}),
    runs: { ssh, noopUp: noop.map((x) => x.seconds) },
  });
  process.stderr.write(`bench: ${n} hosts done: ${JSON.stringify(results.at(-1))}\n`);
}
labDown();
if (cacheHome) rmSync(cacheHome, { recursive: true, force: true });
if (process.env.KB_BENCH_PARTS === 'sizes') {
  console.log(JSON.stringify({ node: nodeVersion, loadAverage: loadRange(loads), startup: start, results, failures }, null, 2));
  process.exit(failures.length ? 1 : 0);
}

/**
 * The host steps (no control plane needed) on 2 hosts of each kind, against an ssh round to the same
 * hosts: namespace hosts run simulated system programs on this machine's kernel, the VMs run Debian's
 * real ones under qemu (software emulation here: every VM figure carries the emulation's cost).
 */
async function hostStepsOn(kind: 'namespace' | 'vm'): Promise<Record<string, unknown>> {
  const loadsFrom = loads.length;
  const t0 = Date.now();
  let accel = 'none';
  if (kind === 'vm') accel = (await vmUp({ hosts: 2, say: (m) => process.stderr.write(`bench: vm: ${m}\n`) })).accel.kind;
  else await labUp({ hosts: 2, family: 'debian' });
  freshCache();
  const labUpSeconds = (Date.now() - t0) / 1000;
  const inv = join(LAB_DIR, 'inventory.yaml');
  // an emulated VM can take longer than the lab default to answer SSH on a busy machine (as in test/vm)
  writeFileSync(inv, readFileSync(inv, 'utf8').replace(/connectTimeoutSeconds: \d+/, 'connectTimeoutSeconds: 30'));
  const addresses = (parse(readFileSync(inv, 'utf8')) as { hosts: { address: string }[] }).hosts.map((h) => h.address);
  const steps = ['--steps', VM_HOST_STEPS.join(',')];
  const converge = kb(['up', inv, ...steps]);
  const ssh: number[] = [];
  const noop: number[] = [];
  let noopChanged = 0;
  for (let i = 0; i < 3; i++) {
    ssh.push(await sshRound(addresses));
    const r = kb(['up', inv, ...steps]);
    noop.push(r.seconds);
    noopChanged += r.report.hosts.reduce((a, h) => a + h.changed, 0);
  }
  if (kind === 'vm') vmDown(); else labDown();
  const sshSeconds = median(ssh);
  process.stderr.write(`bench: host steps on 2 ${kind} hosts done\n`);
  return {
    kind, hosts: 2, accel, loadAverage: loadRange(loads.slice(loadsFrom)), labUpSeconds, sshRoundSeconds: sshSeconds, convergeSeconds: converge.seconds, noopUpSeconds: median(noop), noopChanged,
    ratio: { converge: converge.seconds / sshSeconds, noopUp: median(noop) / sshSeconds },
  };
}

const hostSteps: Record<string, unknown>[] = [await hostStepsOn('namespace')];
const noVm = process.env.KB_BENCH_VM !== '1' ? 'the VMs run only with KB_BENCH_VM=1' : vmUnavailable();
if (noVm) process.stderr.write(`\n*** bench: NOT measuring VMs: ${noVm} ***\n`);
else hostSteps.push(await hostStepsOn('vm'));
const { benchBundle, bundleTable } = await import('./bundle.js');
const bundle = await benchBundle(kb);
rmSync(cacheHome, { recursive: true, force: true });

const out = { machine: `${cpus().length} cores, ${cpus()[0]?.model ?? ''}`, node: nodeVersion, date: new Date().toISOString().slice(0, 10), loadAverage: loadRange(loads), startup: start, results, hostSteps, bundle, failures };
writeFileSync(join(REPO, 'bench', 'results.json'), JSON.stringify(out, null, 2) + '\n');

console.log(`start-up (median of 7, as a multiple of node -e 0 = ${start.nodeSeconds!.toFixed(3)}s): --version ${start.versionSeconds!.toFixed(3)}s (${start.version!.toFixed(2)}x), --help ${start.helpSeconds!.toFixed(3)}s (${start.help!.toFixed(2)}x), validate of 3 hosts ${start.validateSeconds!.toFixed(3)}s (${start.validate!.toFixed(2)}x)\n`);

type Row = { hosts: number; loadAverage: { min: number; max: number }; labUpSeconds: number; sshRoundSeconds: number; convergeSeconds: number; noopUpSeconds: number; noopPrepareSeconds: number; planSeconds: number; firstControlPlaneVsOthers: number; noopKbootstrapCpuSeconds: number; ratio: Record<string, number>; converge: { roundTrips: { mean: number; max: number } }; noop: { roundTrips: { mean: number }; bytesSent: { mean: number } } };
const x = (s: number, r: number) => `${s.toFixed(2)}s (${r.toFixed(1)}x)`;
const rows = [['hosts', 'load avg', 'lab up', 'ssh round', 'converge', 'no-op up', 'no-op prepare', 'plan', '1st CP / others', 'CPU no-op', 'RT/host conv. (mean, max)', 'RT/host no-op', 'KB sent/host no-op']];
for (const r of results as Row[]) {
  rows.push([String(r.hosts), `${r.loadAverage.min.toFixed(1)}-${r.loadAverage.max.toFixed(1)}`, `${r.labUpSeconds.toFixed(1)}s`, `${r.sshRoundSeconds.toFixed(2)}s`, x(r.convergeSeconds, r.ratio.converge!), x(r.noopUpSeconds, r.ratio.noopUp!),
    x(r.noopPrepareSeconds, r.ratio.noopPrepare!), x(r.planSeconds, r.ratio.plan!), `${r.firstControlPlaneVsOthers.toFixed(2)}x`, `${r.noopKbootstrapCpuSeconds.toFixed(2)}s`,
    `${r.converge.roundTrips.mean}, ${r.converge.roundTrips.max}`, String(r.noop.roundTrips.mean), (r.noop.bytesSent.mean / 1024).toFixed(1)]);
}
const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(rows.map((r) => r.map((c, i) => c.padEnd(w[i]!)).join('  ')).join('\n'));

type HostStepsRow = { kind: string; loadAverage: { min: number; max: number }; accel: string; labUpSeconds: number; sshRoundSeconds: number; convergeSeconds: number; noopUpSeconds: number; noopChanged: number; ratio: Record<string, number> };
const rows2 = [['host steps, 2 hosts', 'load avg', 'acceleration', 'lab up', 'ssh round', 'converge', 'no-op up', 'changed in no-ops']];
for (const r of hostSteps as HostStepsRow[]) {
  rows2.push([r.kind, `${r.loadAverage.min.toFixed(1)}-${r.loadAverage.max.toFixed(1)}`, r.accel, `${r.labUpSeconds.toFixed(1)}s`, `${r.sshRoundSeconds.toFixed(2)}s`, x(r.convergeSeconds, r.ratio.converge!), x(r.noopUpSeconds, r.ratio.noopUp!), String(r.noopChanged)]);
}
for (const r of results as (Row & { baseline?: { bin: string; noopUpSeconds: number; ratio: number } })[]) {
  if (r.baseline) console.log(`${r.hosts} hosts: no-op up of ${r.baseline.bin} (KB_BENCH_BASELINE) ${x(r.baseline.noopUpSeconds, r.baseline.ratio)}, this build ${x(r.noopUpSeconds, r.ratio.noopUp!)}, interleaved`);
}
const goals = (results as Row[]).map((r) => `no-op ${r.hosts} hosts ${r.ratio.noopUp!.toFixed(2)}x (goal ${r.hosts >= 100 ? '1.2' : '1.5'}x), converge ${r.converge.roundTrips.mean} round trips per host (max ${r.converge.roundTrips.max}; goal 20)`);
if (failures.length) console.log(`\nFAILED RUNS (${failures.length}):\n${failures.join('\n')}`);
console.log(`\nthe machine's 1-minute load average during the run: ${out.loadAverage.min.toFixed(1)} to ${out.loadAverage.max.toFixed(1)}`);
console.log(`\ngoals: --version ${start.version!.toFixed(2)}x and --help ${start.help!.toFixed(2)}x (goal 2x), validate ${start.validate!.toFixed(2)}x (goal 3x); ${goals.join('; ')}`);
const w2 = rows2[0]!.map((_, i) => Math.max(...rows2.map((r) => r[i]!.length)));
console.log('\n' + rows2.map((r) => r.map((c, i) => c.padEnd(w2[i]!)).join('  ')).join('\n'));
console.log('\n' + bundleTable(bundle as Parameters<typeof bundleTable>[0]));
