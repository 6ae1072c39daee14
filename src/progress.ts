/**
 * The interactive view of a run on a terminal: listr2 draws a line per host
 * and step. It only displays: the runner drives, and its events settle the
 * listr tasks (the exit code comes from the run's own results, never listr's).
 *
 * A host that fails is drawn with a red ✖ and its reason on its own line; the
 * steps it then does not run collapse into one line under the failed step.
 */
import { Listr, ListrDefaultRendererLogLevels, figures, type ListrTask } from 'listr2';
import type { Inventory } from './inventory/model.js';
import type { Plan } from './plan.js';
import { stepsFor } from './plan.js';
import type { RunEvent, StepOutcome } from './runner.js';
import { plural } from './report.js';

interface Deferred<T> { promise: Promise<T>; resolve: (v: T) => void }

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => { resolve = r; });
  return { promise, resolve };
}

/** How the host's connection went: the steps wait for it so that a host that never connected shows one line. */
type Gate = { ok: true } | { ok: false; error: string };

const firstLine = (s: string) => s.split('\n')[0]!;

export class ListrView {
  private waits = new Map<string, Deferred<StepOutcome>>();
  /** the running steps' lines, by host/step: what a step-progress event writes to */
  private progressLines = new Map<string, (text: string) => void>();
  private gates = new Map<string, Deferred<Gate>>();
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
    for (const h of plan.hosts) this.gates.set(h.name, deferred());
    const tasks: ListrTask[] = plan.hosts.map((h) => ({
      title: h.name,
      task: async (_ctx, hostTask) => {
        const steps = hostSteps.get(h.name) ?? [];
        const gate = await this.gates.get(h.name)!.promise;
        if (!gate.ok) {
          // a failed task without subtasks is drawn with its error message as the title (collapseErrors)
          throw new Error(`${h.name}: cannot connect: ${firstLine(gate.error.replace(`${h.name}: `, ''))} (${plural(steps.length, 'step')} not run)`);
        }
        // once a step fails or does not run, the host's later steps are hidden and counted on one line
        let stop: { failedAt: number } | { notRunAt: number } | undefined;
        const stepTasks: ListrTask[] = steps.map((s, i) => ({
          title: s.id,
          enabled: () => stop === undefined,
          // a failure stops this list (and fails the host) only when no collapsed line follows to do it
          exitOnError: () => i === steps.length - 1,
          task: async (_c, t) => {
            // how far it is, while it runs (bytes of a snapshot): its line says so until its outcome does
            this.progressLines.set(`${h.name}/${s.id}`, (text) => { t.title = `${s.id}: ${text}`; });
            const o = await this.waits.get(`${h.name}/${s.id}`)!.promise;
            this.progressLines.delete(`${h.name}/${s.id}`);
            const rest = steps.length - i - 1;
            if (o.status === 'ok') t.title = `${s.id}: ok`;
            else if (o.status === 'changed') t.title = `${s.id}: changed (${o.reason})`;
            else if (o.status === 'would-change') t.title = `${s.id}: would change (${o.reason})`;
            else if (o.status === 'skipped') t.skip(`${s.id}: skipped (${o.reason})`);
            else if (o.status === 'not-run') {
              stop = { notRunAt: i };
              t.skip(`${plural(rest + 1, 'step')} ${o.reason}`);
            } else {
              stop = { failedAt: i };
              hostTask.title = `${h.name}: ${s.id} failed`;
              throw new Error(`${s.id}: ${o.reason.replace(`${h.name}: `, '')}`);
            }
          },
        }));
        const sub = hostTask.newListr([...stepTasks, {
          title: 'not run',
          enabled: () => stop !== undefined && 'failedAt' in stop && stop.failedAt < steps.length - 1,
          task: () => {
            const n = steps.length - 1 - (stop as { failedAt: number }).failedAt;
            throw new Error(`${plural(n, 'more step')} not run: ${h.name} failed`);
          },
        }], { concurrent: false, exitOnError: true });
        return sub;
      },
    }));
    this.listr = new Listr(tasks, {
      concurrent: true,
      exitOnError: false,
      collectErrors: false,
      // listr2 would otherwise exit(127) on the first Ctrl-C; the CLI's own handler lets running steps finish
      registerSignalListeners: false,
      rendererOptions: {
        collapseSubtasks: false, collapseSkips: true, suffixSkips: false, collapseErrors: true,
        // a host whose step failed is a failed host: the same red ✖ as a host that never connected
        icon: { [ListrDefaultRendererLogLevels.FAILED_WITH_FAILED_SUBTASKS]: figures.cross },
      },
    });
    this.done = this.listr.run().catch(() => undefined);
    void mode;
  }

  onEvent(e: RunEvent): void {
    if (e.type === 'connected') this.gates.get(e.host)?.resolve({ ok: true });
    else if (e.type === 'connect-failed') this.gates.get(e.host)?.resolve({ ok: false, error: e.error });
    else if (e.type === 'step-progress') this.progressLines.get(`${e.host}/${e.step}`)?.(e.text);
    else if (e.type === 'step-end') {
      this.gates.get(e.outcome.host)?.resolve({ ok: true });
      this.waits.get(`${e.outcome.host}/${e.outcome.step}`)?.resolve(e.outcome);
    }
  }

  /**
   * A line above the live view, shown now. listr2 holds every write to stdout
   * and stderr while it draws (its ProcessOutput hijack) and prints them only
   * when the run ends, so a plain write would show up after the summary: clear
   * the drawn lines, write through the stream listr2 keeps for itself, redraw.
   */
  notice(line: string): boolean {
    const r = (this.listr as unknown as { renderer?: unknown }).renderer as { updater?: { clear(): void }; update?(): void; logger?: { process?: { stderr?: { write(s: string): unknown } } } } | undefined;
    const out = r?.logger?.process?.stderr;
    if (!r?.updater || !r.update || !out) return false;
    r.updater.clear();
    out.write(line);
    r.update();
    return true;
  }

  /**
   * Stop drawing for good (a second Ctrl-C): the last frame stays on screen,
   * whatever listr2 held back is printed, and the cursor it hid is shown again.
   */
  abort(): void {
    const r = (this.listr as unknown as { renderer?: unknown }).renderer as { end?(): void } | undefined;
    try { r?.end?.(); } catch { /* the renderer had not started: nothing is drawn or held */ }
  }

  /** Settle what never ran and wait for the renderer to finish drawing. */
  async finish(outcomes: StepOutcome[]): Promise<void> {
    for (const g of this.gates.values()) g.resolve({ ok: true });
    for (const o of outcomes) this.waits.get(`${o.host}/${o.step}`)?.resolve(o);
    for (const [key, d] of this.waits) {
      const [host, step] = key.split('/') as [string, string];
      d.resolve({ host, step, phase: '', status: 'not-run', reason: 'not run', ms: 0 });
    }
    await this.done;
  }
}
