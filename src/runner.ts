/**
 * Runs a plan: connect to every host once, send each host's checks in one
 * batch, then phase by phase apply what is not done and check it again.
 * The same code runs over SSH, in the dry run and against test doubles.
 */
import type { HostSpec, Inventory } from './inventory/model.js';
import type { Host } from './host/host.js';
import { JoinCredentials } from './join-credentials.js';
import { stepsFor, type Phase, type Plan } from './plan.js';
import type { CheckResult, Step, StepContext } from './steps/types.js';
import type { CheckOutput } from './transport/types.js';
import { KbError } from './errors.js';
import { shqAll } from './shell/quote.js';

/** How long verify waits by default (the CLI's --verify-timeout and the dry run share it). */
export const DEFAULT_VERIFY_TIMEOUT_SECONDS = 300;

export type StepStatus = 'ok' | 'changed' | 'skipped' | 'failed' | 'would-change' | 'not-run';

export interface StepOutcome {
  host: string;
  step: string;
  phase: string;
  status: StepStatus;
  reason: string;
  ms: number;
}

export type RunEvent =
  | { type: 'phase'; phase: Phase }
  | { type: 'connected'; host: string; ms: number }
  | { type: 'connect-failed'; host: string; error: string }
  | { type: 'step-start'; host: string; step: Step; phase: string }
  | { type: 'step-end'; outcome: StepOutcome }
  | { type: 'stopping'; why: string };

export interface RunOptions {
  mode: 'apply' | 'plan';
  concurrency: number;
  verifyTimeoutSeconds: number;
  onEvent?: (e: RunEvent) => void;
  /** dry run: a recording transport cannot observe an apply's effect, so skip the re-check */
  assumeApplied?: boolean;
  /** checked before each step starts: a first Ctrl-C sets it */
  shouldStop?: () => boolean;
}

export interface HostSummary {
  host: string;
  ok: number;
  changed: number;
  skipped: number;
  failed: number;
  wouldChange: number;
  ms: number;
  roundTrips: number;
  bytesSent: number;
  bytesReceived: number;
  error?: string;
}

export interface RunResult {
  outcomes: StepOutcome[];
  hosts: HostSummary[];
  failed: boolean;
  interrupted: boolean;
  ms: number;
}

type Connect = (h: HostSpec) => Promise<Host>;

/** Run tasks with at most n at a time, in order of the list. */
export async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(n, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

interface CachedCheck {
  result: CheckResult;
  /** apply counter (host-local or global) when it was taken */
  at: number;
}

export class Runner {
  private hosts = new Map<string, Host>();
  private connectErrors = new Map<string, string>();
  private hostFailed = new Map<string, string>();
  private checks = new Map<string, CachedCheck>();
  private hostApplies = new Map<string, number>();
  private globalApplies = 0;
  private outcomes: StepOutcome[] = [];
  private hostMs = new Map<string, number>();
  private interrupted = false;
  private join: JoinCredentials;

  constructor(private inv: Inventory, private plan: Plan, private connect: Connect, private opts: RunOptions) {
    const firstCp = inv.hosts.find((h) => h.role === 'control-plane')!;
    this.join = new JoinCredentials(() => this.requireHost(firstCp.name), inv.cluster.controlPlaneEndpoint);
  }

  private emit(e: RunEvent): void {
    this.opts.onEvent?.(e);
  }

  private requireHost(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new KbError(`${name} is not connected${this.connectErrors.has(name) ? `: ${this.connectErrors.get(name)}` : ''}`);
    return h;
  }

  private needsFirstControlPlane(): boolean {
    return this.plan.phases.some((p) => p.id !== 'prepare');
  }

  async run(): Promise<RunResult> {
    const t0 = Date.now();
    const firstCp = this.inv.hosts.find((h) => h.role === 'control-plane')!;
    const toConnect = [...this.plan.hosts];
    if (this.needsFirstControlPlane() && !toConnect.includes(firstCp)) toConnect.unshift(firstCp);
    try {
      await pool(toConnect, this.opts.concurrency, async (h) => {
        const c0 = Date.now();
        try {
          this.hosts.set(h.name, await this.connect(h));
          this.addTime(h.name, Date.now() - c0);
          this.emit({ type: 'connected', host: h.name, ms: Date.now() - c0 });
        } catch (e) {
          const msg = (e as Error).message;
          this.connectErrors.set(h.name, msg);
          this.hostFailed.set(h.name, msg);
          this.emit({ type: 'connect-failed', host: h.name, error: msg });
        }
      });
      await pool(toConnect.filter((h) => this.hosts.has(h.name)), this.opts.concurrency, (h) => this.initialChecks(h));

      for (const phase of this.plan.phases) {
        if (this.stopRequested()) break;
        this.emit({ type: 'phase', phase });
        const run = (h: HostSpec) => this.runHostPhase(phase, h);
        if (phase.mode === 'parallel') await pool(phase.hosts, this.opts.concurrency, run);
        else for (const h of phase.hosts) await run(h);
        // the other hosts finished this phase; a failure stops the run before the next one
        if (this.anyFailure()) break;
      }
      this.markNotRun();
      await this.revokeJoinTokens();
    } finally {
      await Promise.all([...this.hosts.values()].map((h) => h.transport.close().catch(() => undefined)));
    }
    return this.result(Date.now() - t0);
  }

  private stopRequested(): boolean {
    if (!this.interrupted && this.opts.shouldStop?.()) {
      this.interrupted = true;
      this.emit({ type: 'stopping', why: 'interrupted: no new steps start; running ones finish' });
    }
    return this.interrupted;
  }

  private anyFailure(): boolean {
    return this.hostFailed.size > 0 || this.outcomes.some((o) => o.status === 'failed');
  }

  private context(host: Host): StepContext {
    const firstCp = this.inv.hosts.find((h) => h.role === 'control-plane')!;
    return {
      inv: this.inv,
      cluster: this.inv.cluster,
      host,
      firstControlPlane: this.hosts.get(firstCp.name) ?? host,
      selected: this.plan.hosts,
      join: this.join,
      options: { verifyTimeoutSeconds: this.opts.verifyTimeoutSeconds },
    };
  }

  private isClusterStep(phase: string): boolean {
    return phase !== 'prepare';
  }

  private clock(phase: string, host: string): number {
    return this.isClusterStep(phase) ? this.globalApplies : this.hostApplies.get(host) ?? 0;
  }

  private addTime(host: string, ms: number): void {
    this.hostMs.set(host, (this.hostMs.get(host) ?? 0) + ms);
  }

  /** Every check of this host, in one round trip. */
  private async initialChecks(spec: HostSpec): Promise<void> {
    const t0 = Date.now();
    try {
      await this.initialChecksTimed(spec);
    } finally {
      this.addTime(spec.name, Date.now() - t0);
    }
  }

  private async initialChecksTimed(spec: HostSpec): Promise<void> {
    const host = this.hosts.get(spec.name)!;
    const ctx = this.context(host);
    const wanted: { step: Step; phase: string }[] = [];
    for (const phase of this.plan.phases) {
      if (!phase.hosts.includes(spec)) continue;
      for (const step of stepsFor(phase, spec, this.inv)) if (!step.skip?.(ctx)) wanted.push({ step, phase: phase.id });
    }
    if (!wanted.length) return;
    try {
      const outs = await host.checkBatch(wanted.map(({ step }) => ({ step: step.id, script: step.check(ctx) })));
      wanted.forEach(({ step, phase }, i) => {
        this.checks.set(`${spec.name}/${step.id}`, { result: this.parse(step, outs[i]!, ctx), at: this.clock(phase, spec.name) });
      });
    } catch (e) {
      // the first step pays for it: the rest of this host will not run
      const msg = host.redactor.redact((e as Error).message);
      this.hostFailed.set(spec.name, msg);
      const first = wanted[0]!;
      this.record({ host: spec.name, step: first.step.id, phase: first.phase, status: 'failed', reason: msg, ms: 0 });
    }
  }

  private parse(step: Step, out: CheckOutput, ctx: StepContext): CheckResult {
    if (out.code !== 0) {
      return { done: false, reason: `check failed with exit code ${out.code}: ${out.stdout.trim().split('\n').slice(-2).join(' ')}` };
    }
    // every check prints something on a real host; silence means we know nothing, so the step is not done
    if (!out.stdout.trim()) return { done: false, reason: 'the check printed nothing' };
    return step.parse(out, ctx);
  }

  private async check(step: Step, host: Host, phase: string): Promise<CheckResult> {
    const key = `${host.name}/${step.id}`;
    const cached = this.checks.get(key);
    if (cached && cached.at === this.clock(phase, host.name)) return cached.result;
    const ctx = this.context(host);
    const [out] = await host.checkBatch([{ step: step.id, script: step.check(ctx) }]);
    const result = this.parse(step, out!, ctx);
    this.checks.set(key, { result, at: this.clock(phase, host.name) });
    return result;
  }

  private async runHostPhase(phase: Phase, spec: HostSpec): Promise<void> {
    const t0 = Date.now();
    try {
      for (const step of stepsFor(phase, spec, this.inv)) {
        if (this.hostFailed.has(spec.name) || this.stopRequested()) return;
        await this.runStep(phase, step, spec);
      }
    } finally {
      this.addTime(spec.name, Date.now() - t0);
    }
  }

  private record(o: StepOutcome): void {
    this.outcomes.push(o);
    this.emit({ type: 'step-end', outcome: o });
  }

  private async runStep(phase: Phase, step: Step, spec: HostSpec): Promise<void> {
    const host = this.hosts.get(spec.name);
    const base = { host: spec.name, step: step.id, phase: phase.id };
    if (!host) {
      this.record({ ...base, status: 'failed', reason: this.connectErrors.get(spec.name) ?? 'not connected', ms: 0 });
      return;
    }
    const t0 = Date.now();
    this.emit({ type: 'step-start', host: spec.name, step, phase: phase.id });
    const ctx = this.context(host);
    const skip = step.skip?.(ctx);
    if (skip) {
      this.record({ ...base, status: 'skipped', reason: skip, ms: 0 });
      return;
    }
    try {
      const before = await this.check(step, host, phase.id);
      if (before.done) {
        this.record({ ...base, status: 'ok', reason: before.reason, ms: Date.now() - t0 });
        return;
      }
      if (this.opts.mode === 'plan') {
        this.record({ ...base, status: 'would-change', reason: before.reason, ms: Date.now() - t0 });
        return;
      }
      await step.apply(ctx, before);
      this.hostApplies.set(spec.name, (this.hostApplies.get(spec.name) ?? 0) + 1);
      this.globalApplies++;
      const after = this.opts.assumeApplied ? { done: true, reason: '' } : await this.check(step, host, phase.id);
      if (!after.done) throw new KbError(`${spec.name}: ${step.id}: still not done after apply: ${after.reason}`);
      this.record({ ...base, status: 'changed', reason: before.reason, ms: Date.now() - t0 });
    } catch (e) {
      const msg = host.redactor.redact((e as Error).message);
      this.hostFailed.set(spec.name, msg);
      this.record({ ...base, status: 'failed', reason: msg, ms: Date.now() - t0 });
    }
  }

  private markNotRun(): void {
    const seen = new Set(this.outcomes.map((o) => `${o.host}/${o.step}`));
    for (const phase of this.plan.phases) {
      for (const spec of phase.hosts) {
        for (const step of stepsFor(phase, spec, this.inv)) {
          if (seen.has(`${spec.name}/${step.id}`)) continue;
          const why = this.hostFailed.get(spec.name)
            ? `not run: ${spec.name} failed earlier`
            : this.interrupted ? 'not run: interrupted' : 'not run: an earlier phase failed';
          this.outcomes.push({ host: spec.name, step: step.id, phase: phase.id, status: 'not-run', reason: why, ms: 0 });
        }
      }
    }
  }

  /** Tokens this run created for joins are deleted once the joins are over. */
  private async revokeJoinTokens(): Promise<void> {
    const ids = this.join.tokenIds;
    if (!ids.length) return;
    const firstCp = this.inv.hosts.find((h) => h.role === 'control-plane')!;
    const cp = this.hosts.get(firstCp.name);
    if (!cp) return;
    await cp.exec(`kubeadm token delete ${shqAll(ids)}`, {
      step: 'join', mutates: true, allowFailure: true, note: 'delete the join tokens this run created',
    }).catch(() => undefined);
  }

  private result(ms: number): RunResult {
    const names = [...new Set([...this.plan.hosts.map((h) => h.name), ...this.hosts.keys(), ...this.connectErrors.keys()])];
    const order = this.inv.hosts.map((h) => h.name).filter((n) => names.includes(n));
    const hosts: HostSummary[] = order.map((name) => {
      const os = this.outcomes.filter((o) => o.host === name);
      const stats = this.hosts.get(name)?.transport.stats ?? { roundTrips: 0, bytesSent: 0, bytesReceived: 0 };
      return {
        host: name,
        ok: os.filter((o) => o.status === 'ok').length,
        changed: os.filter((o) => o.status === 'changed').length,
        skipped: os.filter((o) => o.status === 'skipped').length,
        failed: os.filter((o) => o.status === 'failed').length + (this.connectErrors.has(name) ? 1 : 0),
        wouldChange: os.filter((o) => o.status === 'would-change').length,
        ms: this.hostMs.get(name) ?? 0,
        ...stats,
        error: this.hostFailed.get(name),
      };
    });
    const stepOrder = (o: StepOutcome) => order.indexOf(o.host);
    const outcomes = [...this.outcomes].sort((a, b) => stepOrder(a) - stepOrder(b));
    return { outcomes, hosts, failed: this.anyFailure(), interrupted: this.interrupted, ms };
  }
}
