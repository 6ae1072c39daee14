/** What a run tells people: one line per event, a summary table, or JSON for scripts. */
import type { RunEvent, RunResult, StepOutcome } from './runner.js';
import type { ShownOutput } from './run/events.js';
import { table } from './table.js';

const STATUS_WORD: Record<StepOutcome['status'], string> = {
  ok: 'ok',
  changed: 'changed',
  skipped: 'skipped',
  failed: 'failed',
  'would-change': 'would change',
  'not-run': 'not run',
};

export function outcomeLine(o: StepOutcome): string {
  const why = o.status === 'ok' || o.status === 'changed' ? '' : ` (${o.reason})`;
  const detail = o.status === 'changed' ? ` (was: ${o.reason})` : '';
  return `${o.host}: ${o.step}: ${STATUS_WORD[o.status]}${why}${detail}`;
}

/** The plain renderer: each line prefixed with the host name, for logs and CI. */
export function plainEventLine(e: RunEvent, verbose: boolean): string | undefined {
  switch (e.type) {
    case 'phase': return verbose ? `== ${e.phase.title} (${e.phase.hosts.map((h) => h.name).join(', ')})` : undefined;
    case 'connected': return verbose ? `${e.host}: connected in ${e.ms} ms` : undefined;
    case 'connect-failed': return `${e.host}: cannot connect: ${e.error.replace(new RegExp(`^${e.host}: `), '')}`;
    case 'step-start': return verbose ? `${e.host}: ${e.step.id}: running` : undefined;
    case 'step-end': return outcomeLine(e.outcome);
    case 'stopping': return `kbootstrap: ${e.why}`;
    case 'warning': return `kbootstrap: warning: ${e.message}`;
    case 'output': return shownText(e.output);
    case 'step-progress': return verbose ? `${e.host}: ${e.step}: ${e.text}` : undefined;
  }
}

/** What a step showed, each line under the host's name so that a log of several hosts stays readable. */
export function shownText(s: ShownOutput): string {
  return [`${s.host}: ${s.step}: ${s.title}:`, ...s.text.split('\n').map((l) => `${s.host}: | ${l}`.trimEnd())].join('\n');
}


export function summaryTable(r: RunResult, mode: 'apply' | 'plan'): string {
  const head = mode === 'plan' ? ['HOST', 'OK', 'WOULD CHANGE', 'SKIPPED', 'FAILED', 'TIME'] : ['HOST', 'OK', 'CHANGED', 'SKIPPED', 'FAILED', 'TIME'];
  const rows = r.hosts.map((h) => [h.host, String(h.ok), String(mode === 'plan' ? h.wouldChange : h.changed), String(h.skipped), String(h.failed), `${(h.ms / 1000).toFixed(1)}s`]);
  const failures = r.hosts.filter((h) => h.error).map((h) => `${h.host}: ${h.error!.split('\n')[0]!.replace(new RegExp(`^${h.host}: `), '')}`);
  return table([head, ...rows], { rightAlign: [1, 2, 3, 4, 5] }) + (failures.length ? `\nfailed:\n${failures.map((f) => `  ${f}`).join('\n')}\n` : '') + `\n${(r.ms / 1000).toFixed(1)}s in all\n`;
}

/** "1 host", "3 hosts". */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Consecutive outcomes that did not run for the same reason, as one line. */
export function collapseNotRun(outcomes: StepOutcome[]): (StepOutcome | { notRun: number; reason: string })[] {
  const out: (StepOutcome | { notRun: number; reason: string })[] = [];
  for (const o of outcomes) {
    const last = out[out.length - 1];
    if (o.status === 'not-run' && last && 'notRun' in last && last.reason === o.reason) last.notRun++;
    else out.push(o.status === 'not-run' ? { notRun: 1, reason: o.reason } : o);
  }
  return out;
}

export function planText(r: RunResult): string {
  const out: string[] = [];
  for (const h of r.hosts) {
    out.push(`${h.host}:`);
    const mine = r.outcomes.filter((x) => x.host === h.host);
    for (const o of collapseNotRun(mine)) {
      if ('notRun' in o) { out.push(`  -      ${plural(o.notRun, 'step')} ${o.reason}`); continue; }
      const mark = o.status === 'ok' ? '  ok     ' : o.status === 'would-change' ? '  change ' : o.status === 'skipped' ? '  skip   ' : o.status === 'failed' ? '  FAILED ' : '  -      ';
      out.push(`${mark}${o.step}: ${o.reason}`);
    }
    // the error itself is in the summary's failed: list, once; here only a failure the steps did not already show
    if (h.error && !mine.some((x) => x.status === 'failed') && !mine.some((x) => x.status === 'not-run' && x.reason.startsWith('not run: could not connect'))) out.push(`  FAILED ${h.error}`);
  }
  return out.join('\n') + '\n';
}

export function jsonReport(r: RunResult, mode: 'apply' | 'plan', exitCode: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    mode,
    exitCode,
    interrupted: r.interrupted,
    seconds: Number((r.ms / 1000).toFixed(3)),
    // kbootstrap's own CPU time, apart from the hosts' (for the benchmark)
    cpuSeconds: Number(((process.cpuUsage().user + process.cpuUsage().system) / 1e6).toFixed(3)),
    hosts: r.hosts.map((h) => ({ ...h, seconds: Number((h.ms / 1000).toFixed(3)), ms: undefined })),
    steps: r.outcomes.map((o) => ({ host: o.host, step: o.step, phase: o.phase, status: o.status, reason: o.reason, seconds: Number((o.ms / 1000).toFixed(3)) })),
    warnings: r.warnings,
    shown: r.shown,
    ...extra,
  }, null, 2) + '\n';
}
