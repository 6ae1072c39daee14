/**
 * The record of a run: each step's outcome, which hosts failed and why,
 * the time spent per host (connect, checks and steps), and the summary.
 *
 * Everything a run reports passes through here on its way to the terminal
 * view, the plain lines, the summary and the JSON report, so this is where
 * what hosts said (reasons, errors, shown output) is made printable: no
 * control characters from a host reach the operator's terminal. Callers
 * redact secrets first (printable() rewrites control characters, which
 * would hide a secret that holds one from the redactor).
 */
import type { Inventory } from '../inventory/model.js';
import { printable } from '../printable.js';
import type { HostSummary, RunEvent, RunResult, ShownOutput, StepOutcome } from './events.js';

type Stats = { roundTrips: number; bytesSent: number; bytesReceived: number };

export class Recorder {
  private readonly outcomes: StepOutcome[] = [];
  private readonly hostFailed = new Map<string, string>();
  private readonly hostMs = new Map<string, number>();
  readonly warnings: string[] = [];
  private readonly shown: ShownOutput[] = [];

  constructor(private readonly onEvent?: (e: RunEvent) => void) {}

  emit(e: RunEvent): void {
    // a connection error can quote the host (a refused sudo, a failed facts read)
    this.onEvent?.(e.type === 'connect-failed' ? { ...e, error: printable(e.error) } : e);
  }

  record(o: StepOutcome): void {
    const clean = { ...o, reason: printable(o.reason) };
    this.outcomes.push(clean);
    this.emit({ type: 'step-end', outcome: clean });
  }

  /** An outcome nobody needs to see while the run goes (steps not run). */
  recordQuietly(o: StepOutcome): void {
    this.outcomes.push({ ...o, reason: printable(o.reason) });
  }

  warn(message: string): void {
    const clean = printable(message);
    this.warnings.push(clean);
    this.emit({ type: 'warning', message: clean });
  }

  show(output: ShownOutput): void {
    const clean = { ...output, title: printable(output.title), text: printable(output.text) };
    this.shown.push(clean);
    this.emit({ type: 'output', output: clean });
  }

  hostFailure(host: string, why: string): void {
    if (!this.hostFailed.has(host)) this.hostFailed.set(host, printable(why));
  }

  failedHost(host: string): string | undefined {
    return this.hostFailed.get(host);
  }

  has(host: string, step: string): boolean {
    return this.outcomes.some((o) => o.host === host && o.step === step);
  }

  /** The step was done, changed or started and failed on the host (not skipped, not run, not only planned). */
  ranOn(host: string, step: string): boolean {
    return this.outcomes.some((o) => o.host === host && o.step === step && (o.status === 'ok' || o.status === 'changed' || o.status === 'failed'));
  }

  addTime(host: string, ms: number): void {
    this.hostMs.set(host, (this.hostMs.get(host) ?? 0) + ms);
  }

  /** Time the callback and charge it to the host. */
  async timed<T>(host: string, fn: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await fn();
    } finally {
      this.addTime(host, Date.now() - t0);
    }
  }

  /** A step of this phase failed (not a connection, not another phase). */
  failedIn(phase: string): boolean {
    return this.outcomes.some((o) => o.phase === phase && o.status === 'failed');
  }

  get anyFailure(): boolean {
    return this.hostFailed.size > 0 || this.outcomes.some((o) => o.status === 'failed');
  }

  result(inv: Inventory, names: string[], stats: (host: string) => Stats | undefined, interrupted: boolean, ms: number): RunResult {
    const order = inv.hosts.map((h) => h.name).filter((n) => names.includes(n));
    const hosts: HostSummary[] = order.map((name) => {
      const os = this.outcomes.filter((o) => o.host === name);
      const count = (s: StepOutcome['status']) => os.filter((o) => o.status === s).length;
      const failedSteps = count('failed');
      const error = this.hostFailed.get(name);
      return {
        host: name,
        ok: count('ok'),
        changed: count('changed'),
        skipped: count('skipped'),
        // a host that never connected failed without a step to show for it
        failed: failedSteps || (error ? 1 : 0),
        wouldChange: count('would-change'),
        ms: this.hostMs.get(name) ?? 0,
        ...(stats(name) ?? { roundTrips: 0, bytesSent: 0, bytesReceived: 0 }),
        error,
      };
    });
    const outcomes = [...this.outcomes].sort((a, b) => order.indexOf(a.host) - order.indexOf(b.host));
    return { outcomes, hosts, failed: this.anyFailure, interrupted, ms, warnings: [...this.warnings], shown: [...this.shown] };
  }
}
