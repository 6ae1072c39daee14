/**
 * A hostile host must not drive the operator's terminal (issue 23): whatever a
 * host says (stderr in an error, a check's output, what kubeadm printed) is
 * shown with its control characters made visible, in every view of a run.
 */
import { describe, expect, it } from 'vitest';
import type { HostSpec, Inventory } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/os/index.js';
import { STEPS } from '../src/steps/index.js';
import { buildPlan } from '../src/plan.js';
import { Runner, type RunEvent } from '../src/runner.js';
import { Recorder } from '../src/run/recorder.js';
import { jsonReport, planText, plainEventLine, summaryTable } from '../src/report.js';
import { printable } from '../src/printable.js';
import { FakeTransport, type Answer } from './support/fake-transport.js';
import { convergedOutput } from './support/converged.js';
import { ctxFor, exampleInventory } from './support/contexts.js';

/** An OSC window title (ended by BEL), a screen clear, the 8-bit CSI, a carriage return that would overwrite the line, NUL and DEL. */
const HOSTILE = 'Rocky\x1b]0;pwned\x07 \x1b[2J\x9b31mLinux\rOK \x00\x7f';
// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;

describe('printable', () => {
  it('shows control characters as \\xNN, drops carriage returns, keeps newlines, tabs and other text', () => {
    expect(printable(HOSTILE)).toBe('Rocky\\x1b]0;pwned\\x07 \\x1b[2J\\x9b31mLinuxOK \\x00\\x7f');
    expect(printable('line 1\r\n\tline 2 — é 日本 ✔\n')).toBe('line 1\n\tline 2 — é 日本 ✔\n');
    expect(printable(printable(HOSTILE))).toBe(printable(HOSTILE));
  });
});

describe('a run reports what hosts said without their control characters', () => {
  it('the Recorder: outcomes, host errors, warnings, shown output and connection errors', () => {
    const events: RunEvent[] = [];
    const rec = new Recorder((e) => events.push(e));
    rec.emit({ type: 'connect-failed', host: 'h', error: `h: cannot read /etc/os-release: ${HOSTILE}` });
    rec.hostFailure('h', `h: swap: ${HOSTILE}`);
    rec.record({ host: 'h', step: 'swap', phase: 'prepare', status: 'failed', reason: HOSTILE, ms: 0 });
    rec.recordQuietly({ host: 'h', step: 'sysctl', phase: 'prepare', status: 'not-run', reason: HOSTILE, ms: 0 });
    rec.warn(`h: upgrade: ${HOSTILE}`);
    rec.show({ host: 'h', step: 'upgrade-apply', title: `kubeadm upgrade plan ${HOSTILE}`, text: `COMPONENT   CURRENT\n${HOSTILE}` });
    const lines = events.map((e) => plainEventLine(e, true) ?? '');
    const inv = exampleInventory('lab');
    const result = rec.result({ ...inv, hosts: [{ ...inv.hosts[0]!, name: 'h' }] }, ['h'], () => undefined, false, 0);
    for (const text of [...lines, summaryTable(result, 'apply'), planText(result)]) {
      expect(text).not.toMatch(CONTROL);
      expect(text).toContain('\\x1b]0;pwned\\x07');
    }
    // JSON escapes C0 characters itself, but not C1 ones such as the 8-bit CSI
    const json = jsonReport(result, 'apply', 1);
    expect(json).not.toMatch(CONTROL);
    expect(json).toContain('\\\\x9b31m');
  });

  it('a failed command\'s stderr (RemoteCommandError) reaches the outcome, the plain line and the summary printable', async () => {
    const inv: Inventory = exampleInventory('lab');
    const answers = (spec: HostSpec): Record<string, Answer> => Object.fromEntries(STEPS.filter((s) => s.hosts(inv).includes(spec))
      .map((s) => [s.id, s.id === 'hostname' ? '' : convergedOutput(s, ctxFor(inv, spec.index, s))]));
    const events: RunEvent[] = [];
    const runner = new Runner(inv, buildPlan(inv, { steps: ['hostname'] }), async (spec) => new Host(spec, new FakeTransport(answers(spec), () => ({ code: 1, stdout: '', stderr: `hostnamectl: ${HOSTILE}\n` })), assumedFacts(spec.os ?? 'rhel')),
      { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1, onEvent: (e) => events.push(e) });
    const result = await runner.run();
    const failed = result.outcomes.filter((o) => o.status === 'failed');
    expect(failed.length).toBeGreaterThan(0);
    for (const o of failed) expect(o.reason).toContain('hostnamectl: Rocky\\x1b]0;pwned\\x07 \\x1b[2J\\x9b31mLinuxOK');
    const shown = [...events.map((e) => plainEventLine(e, true) ?? ''), summaryTable(result, 'apply'), planText(result)];
    for (const text of shown) expect(text).not.toMatch(CONTROL);
  });
});
