/**
 * Runs a plan: connect to every host once (HostPool), send each host's
 * checks in one batch (CheckCache), then phase by phase apply what is not
 * done and check it again (the phase executor below), recording every
 * outcome (Recorder). The same code runs over SSH, in the dry run and
 * against test doubles.
 */
import type { HostSpec, Inventory } from './inventory/model.js';
import type { Host } from './host/host.js';
import type { CheckRequest, ExecResult } from './transport/types.js';
import { JoinCredentials } from './run/join-credentials.js';
import { HostPool, type Connect } from './run/host-pool.js';
import { CheckCache, dependentsOf } from './run/check-cache.js';
import { splitTrailer, trailerScript } from './run/trailing-checks.js';
import { STEPS, UPGRADE_STEPS } from './steps/index.js';
import { Host as HostClass } from './host/host.js';
import { Recorder } from './run/recorder.js';
import { bindHost } from './run/bound-host.js';
import { pool } from './run/pool.js';
import { stepsFor, type Phase, type Plan } from './plan.js';
import type { AnyStep, CheckResult, StepContext, StepHost } from './steps/types.js';
import type { CheckOutput } from './transport/types.js';
import { firstControlPlane } from './inventory/model.js';
import { KbError } from './errors.js';
import { hostRequirements } from './kube/host-requirements.js';
import { osRowFor, osWarning } from './versions/index.js';

export type { StepOutcome, RunEvent, RunResult } from './run/events.js';
import type { RunEvent, RunResult } from './run/events.js';

export interface RunOptions {
  mode: 'apply' | 'plan';
  concurrency: number;
  verifyTimeoutSeconds: number;
  onEvent?: (e: RunEvent) => void;
  /** dry run: a recording transport cannot observe an apply's effect, so skip the re-check */
  assumeApplied?: boolean;
  /** nodes out of service at once in phases that drain them (upgrade --max-unavailable) */
  maxUnavailable?: number;
  /** up --force: steps that refuse a dangerous change (a kube-vip VIP change) go ahead */
  force?: boolean;
  /** checked before each step starts: a first Ctrl-C sets it */
  shouldStop?: () => boolean;
}

/** A step's check as the list of snippets it sends. */
function snippets(step: AnyStep, ctx: StepContext): readonly string[] {
  const c = step.check(ctx);
  return typeof c === 'string' ? [c] : c;
}

/** The output of several snippets as one check output: their stdout in order, the first failure's code. */
function joinOutputs(step: string, outs: CheckOutput[]): CheckOutput {
  return { step, code: outs.find((o) => o.code !== 0)?.code ?? 0, stdout: outs.map((o) => o.stdout).join('') };
}

/**
 * The outcome of an apply. A step with a teardown (the bundle's HTTP server) sets up only what the
 * run needs and undoes it at the end: the host is left as it was, so the outcome is `ok`, with what
 * was done for the run, not `changed` (a second `up --bundle` on converged hosts must report no change:
 * the VM lab's offline test found every run reporting bundle-serve as changed).
 */
export function applied(step: AnyStep, reason: string): { status: 'ok' | 'changed'; reason: string } {
  return step.teardown ? { status: 'ok', reason: `${reason}: set up for this run, undone at its end` } : { status: 'changed', reason };
}

export class Runner {
  private readonly hosts: HostPool;
  private readonly cache: CheckCache;
  private readonly rec: Recorder;
  private readonly join: JoinCredentials;
  private readonly firstCp: HostSpec;
  private interrupted = false;
  /** why nothing ran: another run holds a host's lock */
  private lockedBy?: string;
  /** hosts a haltOnFailure phase did not start, by phase */
  private readonly haltedBy = new Map<string, string>();

  constructor(private readonly inv: Inventory, private readonly plan: Plan, connect: Connect, private readonly opts: RunOptions) {
    // what an apply makes stale: the steps that require it (Step.requires), over every command's steps and this plan's
    this.cache = new CheckCache(dependentsOf([...new Set([...STEPS, ...Object.values(UPGRADE_STEPS).flat(), ...plan.order])]));
    // the first batch of checks goes with the connect round trip when the host's facts are known from before
    this.hosts = new HostPool((spec) => connect(spec, (host) => this.requests(this.initialWanted(spec, host)).checks), opts.concurrency);
    this.rec = new Recorder(opts.onEvent);
    this.firstCp = plan.anchor ?? firstControlPlane(inv);
    this.join = new JoinCredentials(() => this.hosts.require(this.firstCp.name), inv.cluster.controlPlaneEndpoint);
  }

  async run(): Promise<RunResult> {
    const t0 = Date.now();
    const toConnect = [...this.plan.hosts];
    // cluster-wide phases read and act through the first control plane, even when --only leaves it out
    if (this.plan.phases.some((p) => p.clusterWide) && !toConnect.includes(this.firstCp)) toConnect.unshift(this.firstCp);
    try {
      await this.hosts.open(toConnect, (host, ms, error) => {
        this.rec.addTime(host, ms);
        if (error === undefined) {
          this.rec.emit({ type: 'connected', host, ms });
          for (const n of this.hosts.get(host)?.notices ?? []) this.rec.warn(n);
        } else {
          this.rec.hostFailure(host, error);
          this.rec.emit({ type: 'connect-failed', host, error });
        }
      });
      // a host the Kubernetes minor cannot run on stops the run before any step (docs/compatibility.md D2)
      // another run holds a host: this one changes nothing anywhere (the hosts it did lock are free again when it disconnects)
      const locked = toConnect.map((h) => h.name).filter((n) => this.hosts.lockedNames.includes(n));
      if (locked.length) this.lockedBy = `not run: another kbootstrap run holds the lock of ${locked.join(', ')}`;
      const refused = locked.length > 0 || this.vetHosts(toConnect);
      if (!refused) await pool(toConnect.filter((h) => this.hosts.get(h.name)), this.opts.concurrency, (h) => this.rec.timed(h.name, () => this.initialChecks(h)));
      for (const phase of refused ? [] : this.plan.phases) {
        if (this.stopRequested()) break;
        this.rec.emit({ type: 'phase', phase });
        const run = async (h: HostSpec) => {
          if (phase.haltOnFailure && this.rec.failedIn(phase.id)) { this.haltedBy.set(h.name, phase.id); return; }
          await this.rec.timed(h.name, () => this.runHostPhase(phase, h));
        };
        if (phase.mode === 'parallel') await pool(phase.hosts, phase.limit === 'max-unavailable' ? this.opts.maxUnavailable ?? 1 : this.opts.concurrency, run);
        else for (const h of phase.hosts) await run(h);
        // the other hosts finished this phase; a failure stops the run before the next one.
        // A gate changes nothing: only its own refusal stops the run there (a host
        // that could not connect still lets the others finish the first phase that works)
        if (phase.gate ? this.rec.failedIn(phase.id) : this.rec.anyFailure) break;
      }
      await this.teardown();
      this.markNotRun();
      const why = await this.join.dispose();
      if (why) this.rec.warn(why);
    } finally {
      await this.hosts.closeAll();
    }
    const names = [...new Set([...this.plan.hosts.map((h) => h.name), ...toConnect.map((h) => h.name)])];
    return this.rec.result(this.inv, names, (n) => this.hosts.get(n)?.transport.stats, this.interrupted, Date.now() - t0);
  }

  /** Kernel and cgroup against the minor (src/kube/host-requirements.ts): warnings are printed, refusals fail the host. */
  private vetHosts(specs: HostSpec[]): boolean {
    let refused = false;
    for (const spec of specs) {
      const host = this.hosts.get(spec.name);
      if (!host) continue;
      const v = hostRequirements(host.facts, this.inv.cluster.minor, this.inv.cluster.kubeProxyMode);
      const os = osWarning(osRowFor(host.facts.osId, host.facts.versionId));
      for (const w of [...(os ? [os] : []), ...v.warnings]) this.rec.warn(`${spec.name}: ${w}`);
      if (!v.refusals.length) continue;
      refused = true;
      const why = `${host.facts.prettyName} cannot run Kubernetes ${this.inv.cluster.minorVersion}: ${v.refusals.join('; ')}`;
      this.rec.hostFailure(spec.name, why);
      const phase = this.plan.phases.find((p) => p.hosts.includes(spec));
      const first = phase && stepsFor(phase, spec, this.inv)[0];
      if (phase && first) this.rec.record({ host: spec.name, step: first.id, phase: phase.id, status: 'failed', reason: why, ms: 0 });
    }
    return refused;
  }

  private stopRequested(): boolean {
    if (!this.interrupted && this.opts.shouldStop?.()) {
      this.interrupted = true;
      this.rec.emit({ type: 'stopping', why: 'interrupted: no new steps start; running ones finish' });
    }
    return this.interrupted;
  }

  private context(host: Host, step: AnyStep): StepContext {
    // while connecting (the prefetch), a stand-in with the first control plane's name
    const cp = this.hosts.get(this.firstCp.name) ?? (host.name === this.firstCp.name ? host : new HostClass(this.firstCp, host.transport, host.facts, host.redactor));
    return {
      inv: this.inv,
      cluster: this.inv.cluster,
      host: bindHost(host, step.id),
      firstControlPlane: bindHost(cp, step.id),
      join: this.join,
      options: { verifyTimeoutSeconds: this.opts.verifyTimeoutSeconds, force: this.opts.force },
      show: (title, text) => {
        if (text.trim()) this.rec.show({ host: host.name, step: step.id, title, text: host.redactor.redact(text.trimEnd()) });
      },
      progress: (text) => this.rec.emit({ type: 'step-progress', host: host.name, step: step.id, text: host.redactor.redact(text) }),
    };
  }

  private parse(step: AnyStep, out: CheckOutput, ctx: StepContext): CheckResult<unknown> {
    if (out.code !== 0) {
      return { done: false, found: step.unknown(ctx), reason: `check failed with exit code ${out.code}: ${out.stdout.trim().split('\n').slice(-2).join(' ')}` };
    }
    // every check prints something on a real host; silence means we know nothing, so the step is not done
    if (!out.stdout.trim()) return { done: false, found: step.unknown(ctx), reason: 'the check printed nothing' };
    return step.parse(out, ctx);
  }

  /**
   * Run checks in one round trip. Snippets several steps share (the cluster
   * read) are sent once and their output handed to each of them.
   */
  private async batch(host: Host, wanted: { step: AnyStep; ctx: StepContext }[]): Promise<CheckResult<unknown>[]> {
    const r = this.requests(wanted);
    return r.results(await host.checkBatch(r.checks));
  }

  /** The check requests of these steps (a snippet several share goes once), and how their outputs become results. */
  private requests(wanted: { step: AnyStep; ctx: StepContext }[]): { checks: CheckRequest[]; results: (outs: CheckOutput[]) => CheckResult<unknown>[] } {
    const perStep = wanted.map(({ step, ctx }) => snippets(step, ctx));
    const unique = [...new Set(perStep.flat())];
    const readers = (script: string) => [...new Set(wanted.filter((_, j) => perStep[j]!.includes(script)).map((w) => w.step.id))];
    const checks = unique.map((script) => {
      const [step, ...sharedWith] = readers(script);
      return { step: step!, script, ...(sharedWith.length ? { sharedWith } : {}) };
    });
    return {
      checks,
      results: (outs) => {
        const byScript = new Map(unique.map((s, i) => [s, outs[i]!]));
        return wanted.map(({ step, ctx }, i) => this.parse(step, joinOutputs(step.id, perStep[i]!.map((s) => byScript.get(s)!)), ctx));
      },
    };
  }

  /** Every check this host runs, in plan order (its first batch). */
  private initialWanted(spec: HostSpec, host: Host): { step: AnyStep; phase: Phase; ctx: StepContext }[] {
    const wanted: { step: AnyStep; phase: Phase; ctx: StepContext }[] = [];
    for (const phase of this.plan.phases) {
      if (!phase.hosts.includes(spec) || phase.lateChecks) continue;
      for (const step of stepsFor(phase, spec, this.inv)) {
        const ctx = this.context(host, step);
        if (!step.skip?.(ctx)) wanted.push({ step, phase, ctx });
      }
    }
    return wanted;
  }

  /** Every check of this host, in one round trip (none when they went with the connection's). */
  private async initialChecks(spec: HostSpec): Promise<void> {
    const host = this.hosts.require(spec.name);
    const wanted = this.initialWanted(spec, host);
    if (!wanted.length) return;
    try {
      const readAt = this.cache.clock();
      const results = await this.batch(host, wanted);
      wanted.forEach(({ step }, i) => this.cache.set(spec.name, step.id, results[i]!, readAt));
    } catch (e) {
      // the first step pays for it: the rest of this host will not run
      const msg = host.redactor.redact((e as Error).message);
      this.rec.hostFailure(spec.name, msg);
      const first = wanted[0]!;
      this.rec.record({ host: spec.name, step: first.step.id, phase: first.phase.id, status: 'failed', reason: msg, ms: 0 });
    }
  }

  private async check(step: AnyStep, host: Host, phase: Phase, ctx: StepContext): Promise<CheckResult<unknown>> {
    const cached = this.cache.get(host.name, step.id, phase.clusterWide);
    if (cached) return cached;
    const readAt = this.cache.clock();
    const [result] = await this.batch(host, [{ step, ctx }]);
    this.cache.set(host.name, step.id, result!, readAt);
    return result!;
  }

  private async runHostPhase(phase: Phase, spec: HostSpec): Promise<void> {
    for (const step of stepsFor(phase, spec, this.inv)) {
      if (this.rec.failedHost(spec.name) || this.stopRequested()) return;
      await this.runStep(phase, step, spec);
    }
  }

  private async runStep(phase: Phase, step: AnyStep, spec: HostSpec): Promise<void> {
    const base = { host: spec.name, step: step.id, phase: phase.id };
    const host = this.hosts.get(spec.name);
    if (!host) {
      this.rec.record({ ...base, status: 'failed', reason: this.hosts.error(spec.name) ?? 'not connected', ms: 0 });
      return;
    }
    const t0 = Date.now();
    this.rec.emit({ type: 'step-start', host: spec.name, step, phase: phase.id });
    const ctx = this.context(host, step);
    const skip = step.skip?.(ctx);
    if (skip) {
      this.rec.record({ ...base, status: 'skipped', reason: skip, ms: 0 });
      return;
    }
    try {
      const before = await this.check(step, host, phase, ctx);
      if (before.warning) this.rec.warn(`${spec.name}: ${step.id}: ${before.warning}`);
      if (before.done) {
        this.rec.record({ ...base, status: 'ok', reason: before.reason, ms: Date.now() - t0 });
        return;
      }
      if (this.opts.mode === 'plan') {
        this.rec.record({ ...base, status: 'would-change', reason: before.reason, ms: Date.now() - t0 });
        return;
      }
      if (this.opts.assumeApplied) {
        // a dry run: the recording transport cannot show an apply's effect, so there is no re-check
        await step.apply(ctx, before.found);
        this.cache.applied(spec.name, step.id);
        this.rec.record({ ...base, ...applied(step, before.reason), ms: Date.now() - t0 });
        return;
      }
      // what the apply makes stale on this host: this step's check and those of the steps after it that depend on it
      const recheck = [{ step, phase, ctx }, ...this.dependentsToRun(spec, host, step, phase)];
      const r = this.requests(recheck);
      let trailing: CheckOutput[] | undefined;
      // stale from the start of the apply: a read that overlaps an apply elsewhere stays stale for cluster-wide checks
      this.cache.applied(spec.name, step.id);
      const readAt = this.cache.clock();
      await step.apply(this.trailing(host, step.id, ctx, r.checks, (outs) => { trailing = outs; }), before.found);
      const results = r.results(trailing ?? await host.checkBatch(r.checks));
      recheck.forEach((w, i) => this.cache.set(spec.name, w.step.id, results[i]!, readAt));
      const after = results[0]!;
      if (!after.done) throw new KbError(`${spec.name}: ${step.id}: still not done after apply: ${after.reason}`);
      this.rec.record({ ...base, ...applied(step, before.reason), ms: Date.now() - t0 });
    } catch (e) {
      const msg = host.redactor.redact((e as Error).message);
      this.rec.hostFailure(spec.name, msg);
      this.rec.record({ ...base, status: 'failed', reason: msg, ms: Date.now() - t0 });
    }
  }

  /** What lasts only for the run is undone where it was set up, whether the run failed or not (Step.teardown). */
  private async teardown(): Promise<void> {
    if (this.opts.mode !== 'apply') return;
    for (const phase of this.plan.phases) {
      for (const spec of phase.hosts) {
        const host = this.hosts.get(spec.name);
        if (!host) continue;
        for (const step of stepsFor(phase, spec, this.inv)) {
          if (!step.teardown || !this.rec.ranOn(spec.name, step.id)) continue;
          try {
            await step.teardown(this.context(host, step));
          } catch (e) {
            this.rec.warn(`${spec.name}: ${step.id}: could not undo at the end of the run: ${host.redactor.redact((e as Error).message)}`);
          }
        }
      }
    }
  }

  /**
   * The checks an apply of `step` makes stale that this host still needs: those of the host-local steps
   * still to run here that require it, and, in a cluster-wide phase, those of the phase's later steps
   * here (every cluster-wide check is stale after an apply; in the same phase nothing else runs between).
   */
  private dependentsToRun(spec: HostSpec, host: Host, step: AnyStep, current: Phase): { step: AnyStep; phase: Phase; ctx: StepContext }[] {
    const deps = this.cache.dependentsOn(step.id);
    const out: { step: AnyStep; phase: Phase; ctx: StepContext }[] = [];
    for (const phase of this.plan.phases) {
      if (!phase.hosts.includes(spec) || (phase.clusterWide && phase !== current)) continue;
      for (const s of stepsFor(phase, spec, this.inv)) {
        if (!(phase.clusterWide || deps.has(s.id)) || s.id === step.id || this.rec.has(spec.name, s.id) || out.some((w) => w.step.id === s.id)) continue;
        const ctx = this.context(host, s);
        if (!s.skip?.(ctx)) out.push({ step: s, phase, ctx });
      }
    }
    return out;
  }

  /**
   * The step's context while it applies: each command that changes its host
   * ends with these checks (src/run/trailing-checks.ts); `got` hears their
   * output from the last such command, or undefined once anything changes
   * after it (an upload, a command that did not reach the checks, a change
   * through the first control plane).
   */
  private trailing(target: Host, stepId: string, ctx: StepContext, checks: CheckRequest[], got: (outs: CheckOutput[] | undefined) => void): StepContext {
    const trailer = trailerScript(checks);
    const invalidate = (h: StepHost): StepHost => ({
      ...h,
      exec: (script, opts) => { if (opts.mutates) got(undefined); return h.exec(script, opts); },
      upload: (content, dest, opts) => { got(undefined); return h.upload(content, dest, opts); },
    });
    const own = ctx.host;
    const host: StepHost = {
      ...own,
      exec: async (script, opts): Promise<ExecResult> => {
        if (!opts.mutates) return own.exec(script, opts);
        got(undefined);
        // a command that may wait for the next one (ExecOptions.carry): the checks ride on a later command, or on the re-check that carries it
        if (opts.carry && !opts.allowFailure) return own.exec(script, opts);
        const res = await target.exec(script, { ...opts, step: stepId, trailer });
        const split = splitTrailer(res.stdout, checks);
        got(split.outputs);
        return { ...res, stdout: split.stdout };
      },
      upload: (content, dest, opts) => { got(undefined); return own.upload(content, dest, opts); },
    };
    return { ...ctx, host, firstControlPlane: invalidate(ctx.firstControlPlane) };
  }

  private markNotRun(): void {
    for (const phase of this.plan.phases) {
      for (const spec of phase.hosts) {
        for (const step of stepsFor(phase, spec, this.inv)) {
          if (this.rec.has(spec.name, step.id)) continue;
          const why = this.lockedBy ? this.lockedBy
            // a host that never connected did not fail at a step: say so, not "failed earlier"
            : this.rec.failedHost(spec.name) && !this.hosts.get(spec.name)
            ? `not run: could not connect to ${spec.name}`
            : this.rec.failedHost(spec.name)
            ? `not run: ${spec.name} failed earlier`
            : this.interrupted ? 'not run: interrupted'
              : this.haltedBy.get(spec.name) === phase.id ? 'not run: another node of this phase failed, and an upgrade takes no further node down'
                : 'not run: an earlier phase failed';
          this.rec.recordQuietly({ host: spec.name, step: step.id, phase: phase.id, status: 'not-run', reason: why, ms: 0 });
        }
      }
    }
  }
}

