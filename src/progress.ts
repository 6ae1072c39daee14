/**
 * The interactive view of a run on a terminal: listr2 draws a line per host
 * and step. It only displays: the runner drives, and its events settle the
 * listr tasks (the exit code comes from the run's own results, never listr's).
 */
import { Listr, type ListrTask } from 'listr2';
import type { Inventory } from './inventory/model.js';
import type { Plan } from './plan.js';
import { stepsFor } from './plan.js';
import type { RunEvent, StepOutcome } from './runner.js';

interface Deferred { promise: Promise<StepOutcome>; resolve: (o: StepOutcome) => void }

function deferred(): Deferred {
  let resolve!: (o: StepOutcome) => void;
  const promise = new Promise<StepOutcome>((r) => { resolve = r; });
  return { promise, resolve };
}

export class ListrView {
  private waits = new Map<string, Deferred>();
  private listr: Listr;
  private done: Promise<unknown>;

  constructor(inv: Inventory, plan: Plan, mode: 'apply' | 'plan') {
    const hostSteps = new Map<string, { id: string; title: string }[]>();
    for (const phase of plan.phases) {
      for (const h of phase.hosts) {
        const list = hostSteps.get(h.name) ?? [];
        for (const s of stepsFor(phase, h, inv)) {
          list.push({ id: s.id, title: s.title });
          this.waits.set(`${h.name}/${s.id}`, deferred());
        }
        hostSteps.set(h.name, list);
      }
    }
    const tasks: ListrTask[] = plan.hosts.map((h) => ({
      title: h.name,
      task: (_ctx, hostTask) => hostTask.newListr((hostSteps.get(h.name) ?? []).map((s) => ({
        title: `${s.id}`,
        task: async (_c, t) => {
          const o = await this.waits.get(`${h.name}/${s.id}`)!.promise;
          if (o.status === 'ok') t.title = `${s.id}: ok`;
          else if (o.status === 'changed') t.title = `${s.id}: changed (${o.reason})`;
          else if (o.status === 'would-change') t.title = `${s.id}: would change (${o.reason})`;
          else if (o.status === 'skipped' || o.status === 'not-run') t.skip(`${s.id}: ${o.status === 'skipped' ? 'skipped' : 'not run'} (${o.reason})`);
          else throw new Error(`${s.id}: ${o.reason}`);
        },
      })), { concurrent: false, exitOnError: false }),
    }));
    this.listr = new Listr(tasks, {
      concurrent: true,
      exitOnError: false,
      collectErrors: false,
      rendererOptions: { collapseSubtasks: false, collapseSkips: true, suffixSkips: false },
    });
    this.done = this.listr.run().catch(() => undefined);
    void mode;
  }

  onEvent(e: RunEvent): void {
    if (e.type === 'step-end') this.waits.get(`${e.outcome.host}/${e.outcome.step}`)?.resolve(e.outcome);
  }

  /** Settle what never ran and wait for the renderer to finish drawing. */
  async finish(outcomes: StepOutcome[]): Promise<void> {
    for (const o of outcomes) this.waits.get(`${o.host}/${o.step}`)?.resolve(o);
    for (const [key, d] of this.waits) {
      const [host, step] = key.split('/') as [string, string];
      d.resolve({ host, step, phase: '', status: 'not-run', reason: 'not run', ms: 0 });
    }
    await this.done;
  }
}
