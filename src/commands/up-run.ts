/** up, plan, upgrade (and the plans that run like them) over SSH: the plan, the runner, the progress view and the report. Loaded by src/commands/up.ts once the inventory is read. */
import { EXIT, jsonError } from '../errors.js';
import { firstControlPlane, type HostSpec, type Inventory } from '../inventory/model.js';
import { buildPlan, filterFrom } from '../plan.js';
import { Runner, type RunEvent } from '../runner.js';
import { connectHost, type ConnectContext } from '../connect.js';
import { FactsCache } from '../run/facts-cache.js';
import type { Connect } from '../run/host-pool.js';
import { jsonReport, planText, plainEventLine, shownText, summaryTable } from '../report.js';
import { render } from '../shell/templates.js';
import { clusterState } from '../kube/cluster-state.js';
import { clusterVersion, formatVersion } from '../kube/versions.js';
import { errLine, wrap } from '../wrap.js';
import type { Io } from '../io.js';
import { connectContext, type RunState } from './connected.js';
import type { Reach, RunExtras, RunFlags } from './run-options.js';

/** Exit once stdout and stderr have taken what was written (to a pipe, process.exit would drop it). */
function exitFlushed(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  // a stream that never drains (a stopped reader) must not keep kbootstrap alive
  setTimeout(() => process.exit(code), 2000).unref();
}

/** What the cluster runs now, read through the first control plane (one short connection, no lock), in words. */
async function runningVersion(cp: HostSpec, sshOpts: Parameters<typeof connectHost>[1], ctx: ConnectContext): Promise<string> {
  let host;
  try {
    host = await connectHost(cp, sshOpts, { log: ctx.log, redactor: ctx.redactor });
    const state = clusterState((await host.exec(render('cluster/state', {}), { step: 'upgrade', mutates: false, allowFailure: true })).stdout);
    if (state.kind === 'absent') return `there is no cluster on ${cp.name} yet`;
    if (state.kind === 'down') return `the API server on ${cp.name} does not answer (${state.error})`;
    const v = clusterVersion(state);
    return v ? `the cluster runs ${formatVersion(v)}` : 'the cluster does not say its version';
  } catch (e) {
    return `cannot ask ${cp.name}: ${(e as Error).message.replace(`${cp.name}: `, '')}`;
  } finally {
    await host?.transport.close();
  }
}

/**
 * The run of up, plan and upgrade once the inventory is read (src/commands/up.ts): the plan, a
 * question when the command asks one, the connections (REACH: OpenSSH's configuration and the
 * credentials for these hosts, and the handshakes a plain up or plan started already), the runner,
 * the progress view and the report.
 */
export async function runPlanned(state: RunState, inv: Inventory, registries: { secrets: string[] }, o: RunFlags, mode: 'apply' | 'plan', io: Io, extras: RunExtras,
  reach: (hosts: HostSpec[]) => Promise<Reach>): Promise<number> {
  const plan = extras.plan ? extras.plan(inv) : buildPlan(inv, filterFrom(o));
  if (extras.confirmFirst && !(await extras.confirmFirst(inv, plan))) {
    io.err(`${extras.command ?? 'upgrade'}: nothing done\n`);
    return EXIT.failed;
  }
  const firstCp = firstControlPlane(inv);
  const { resolved, sshOpts, handshakes } = await reach(plan.hosts.includes(firstCp) ? plan.hosts : [firstCp, ...plan.hosts]);
  const creds = sshOpts.creds;
  // plan only reads: it says who holds a host's lock, and takes none
  const ctx = connectContext(state, extras.command ?? (mode === 'plan' ? 'plan' : 'up'), mode === 'plan' ? 'observe' : 'take', io);
  ctx.redactor?.add(creds.password, creds.sudoPassword, creds.passphrase);
  ctx.redactor?.add(...registries.secrets);
  // each host's facts from the last run let its first checks go with the connection
  const facts = new FactsCache();
  const connect: Connect = (spec, prefetch) => connectHost(resolved.get(spec.name) ?? spec, sshOpts, { ...ctx, facts, early: handshakes }, prefetch);
  // the confirmation comes after connecting once to the first control plane, so that it can say what the cluster runs now
  if (extras.confirm && !(await extras.confirm(inv, plan, () => runningVersion(resolved.get(firstCp.name) ?? firstCp, sshOpts, ctx)))) {
    io.err(`${extras.command ?? 'upgrade'}: nothing done\n`);
    return EXIT.failed;
  }

  const json = o.output === 'json';
  const plain = !json && !o.quiet && (o.verbose || !io.isTTY);
  // listr2 is loaded only for the terminal view
  const view = !json && !o.quiet && !plain ? new (await import('../progress.js')).ListrView(inv, plan, mode) : undefined;
  // --output json --verbose: the event lines still come, on stderr; stdout is the JSON document alone
  const eventsToStderr = json && Boolean(o.verbose) && !o.quiet;

  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) {
      const line = 'kbootstrap: stopping after the running steps (Ctrl-C again to abort)\n';
      // on the terminal view the line goes above the drawn steps, now; elsewhere straight to stderr
      if (!view?.notice(line)) io.err(`\n${line}`);
    } else {
      // the last frame stays, listr2's held output is printed and the cursor it hid comes back
      view?.abort();
      const aborted = 'aborted; a command already sent may still finish on its host: run the same command again to resume';
      io.err(`kbootstrap: ${aborted}\n`);
      if (state.log?.used) errLine(io, `kbootstrap: the log of this run: ${state.log.path}`);
      if (json) io.out(jsonError(aborted, EXIT.interrupted));
      exitFlushed(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSigint);
  const onEvent = (e: RunEvent) => {
    const logged = plainEventLine(e, true);
    if (logged) ctx.log?.note(logged);
    if (view) view.onEvent(e);
    else if (plain || eventsToStderr) {
      const line = plainEventLine(e, Boolean(o.verbose));
      if (line) (plain && !extras.productOnStdout ? io.out : io.err)(wrap(line, plain && !extras.productOnStdout ? io.columns : io.errColumns) + '\n');
    }
  };
  try {
    const runner = new Runner(inv, plan, connect, {
      mode, concurrency: o.concurrency, verifyTimeoutSeconds: o.verifyTimeout, onEvent, shouldStop: () => interrupts > 0, maxUnavailable: extras.maxUnavailable, force: Boolean(o.force),
    });
    const result = await runner.run();
    await view?.finish(result.outcomes);
    const wouldChange = result.outcomes.some((x) => x.status === 'would-change');
    const code = result.interrupted ? EXIT.interrupted : result.failed ? EXIT.failed : mode === 'plan' && wouldChange ? EXIT.changes : EXIT.ok;
    if (json) io.out(jsonReport(result, mode, code, extras.json?.(result)));
    else {
      const out = extras.productOnStdout ? io.err : io.out;
      // the terminal view already listed every step with its reason
      if (mode === 'plan' && !view) out(planText(result));
      // the plain view printed it as it came; the terminal view has no room for it until the table is drawn
      if (!plain && !o.quiet) for (const x of result.shown) out('\n' + shownText(x) + '\n');
      if (!o.quiet || code !== EXIT.ok) out('\n' + summaryTable(result, mode));
      // the plain view printed them as they came; the terminal view shows them once, after the table
      if (!plain) for (const w of result.warnings) errLine(io, `kbootstrap: warning: ${w}`);
    }
    return extras.after ? await extras.after(inv, result, code) : code;
  } finally {
    process.off('SIGINT', onSigint);
    // a handshake started for a host the run did not connect to after all
    for (const h of handshakes?.values() ?? []) h.then((c) => { c.ssh.dispose(); for (const j of c.jumps) j.dispose(); }, () => undefined);
  }
}

