/** up, plan, upgrade (and the plans that run like them) over SSH: the plan, the runner, the progress view and the report. Loaded only by those commands. */
import { EXIT, UsageError, jsonError } from '../errors.js';
import { firstControlPlane, type HostSpec, type Inventory } from '../inventory/model.js';
import { buildPlan, filterFrom, type Plan } from '../plan.js';
import { Runner, type RunEvent, type RunResult } from '../runner.js';
import { DEFAULTS } from '../defaults.js';
import { connectHost, type ConnectContext } from '../connect.js';
import { FactsCache } from '../run/facts-cache.js';
import type { Connect } from '../run/host-pool.js';
import { readRegistryAuth } from '../run/registry-auth.js';
import { applySshConfig, sshSourcesLine } from '../ssh/resolve.js';
import { resolveCredentials } from '../ssh/credentials.js';
import { jsonReport, planText, plainEventLine, shownText, summaryTable } from '../report.js';
import { render } from '../shell/templates.js';
import { clusterState } from '../kube/cluster-state.js';
import { clusterVersion, formatVersion } from '../kube/versions.js';
import { errLine, wrap } from '../wrap.js';
import type { Io } from '../io.js';
import { load } from './load.js';
import { connectContext, terminalConfirm, terminalPrompt, type RunState } from './connected.js';

export interface RunFlags {
  only?: string[];
  steps?: string[];
  skipSteps?: string[];
  concurrency: number;
  acceptNewHostKeys?: boolean;
  sshConfig?: string;
  output: 'text' | 'json';
  verbose?: boolean;
  quiet?: boolean;
  commandTimeout: number;
  verifyTimeout: number;
  /** up only */
  force?: boolean;
}

/** What upgrade adds to a run: its own plan, a confirmation before connecting, nodes out of service at once. */
export interface RunExtras {
  plan?: (inv: Inventory) => Plan;
  /** false: stop with nothing done (exit 1); RUNNING says what the cluster runs now */
  confirm?: (inv: Inventory, plan: Plan, running: () => Promise<string>) => Promise<boolean>;
  /** asked before anything else (credentials, connections): a question that needs nothing from the hosts (reset) */
  confirmFirst?: (inv: Inventory, plan: Plan) => Promise<boolean>;
  maxUnavailable?: number;
  /** the command's name for the run lock (default: up, or plan) */
  command?: string;
  /** after the run (not in JSON's place): a line of its own, a follow-up; returns the exit code */
  after?: (inv: Inventory, result: RunResult, code: number) => Promise<number>;
  /** the inventory as this run sees it (up --bundle: the checked bundle, package trees on its server) */
  inventory?: (inv: Inventory) => Promise<Inventory>;
}

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

/** up, plan and upgrade over SSH. */
export async function runOverSsh(state: RunState, file: string, o: RunFlags, mode: 'apply' | 'plan', io: Io, extras: RunExtras = {}): Promise<number> {
  const inv = extras.inventory ? await extras.inventory(load(file, io)) : load(file, io);
  // the private registries' passwords, read first (a missing one stops the run before anything else) and hidden everywhere
  const registries = readRegistryAuth(inv, process.env);
  inv.registryAuth = registries.auth;
  const plan = extras.plan ? extras.plan(inv) : buildPlan(inv, filterFrom(o));
  if (extras.confirmFirst && !(await extras.confirmFirst(inv, plan))) {
    io.err(`${extras.command ?? 'upgrade'}: nothing done\n`);
    return EXIT.failed;
  }
  const firstCp = firstControlPlane(inv);
  // OpenSSH's configuration fills in what the inventory leaves out (aliases, users, ports, keys, jump hosts)
  const hosts = applySshConfig(inv, plan.hosts.includes(firstCp) ? plan.hosts : [firstCp, ...plan.hosts], o.sshConfig ?? inv.sshConfigFile);
  const resolved = new Map(hosts.map((h) => [h.name, h]));
  // diagnostics, like ssh -v: on stderr, so that stdout stays the report (and only JSON with --output json)
  if (o.verbose) for (const h of hosts) io.err(sshSourcesLine(h));
  const creds = await resolveCredentials(hosts, process.env, await terminalPrompt());
  const sshOpts = { creds, acceptNewHostKeys: Boolean(o.acceptNewHostKeys), commandTimeoutMs: o.commandTimeout * 1000, connectAttempts: DEFAULTS.connectAttempts };
  // plan only reads: it says who holds a host's lock, and takes none
  const ctx = connectContext(state, extras.command ?? (mode === 'plan' ? 'plan' : 'up'), mode === 'plan' ? 'observe' : 'take', io);
  ctx.redactor?.add(creds.password, creds.sudoPassword, creds.passphrase);
  ctx.redactor?.add(...registries.secrets);
  // each host's facts from the last run let its first checks go with the connection
  const facts = new FactsCache();
  const connect: Connect = (spec, prefetch) => connectHost(resolved.get(spec.name) ?? spec, sshOpts, { ...ctx, facts }, prefetch);
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
      if (line) (plain ? io.out : io.err)(wrap(line, plain ? io.columns : io.errColumns) + '\n');
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
    if (json) io.out(jsonReport(result, mode, code));
    else {
      // the terminal view already listed every step with its reason
      if (mode === 'plan' && !view) io.out(planText(result));
      // the plain view printed it as it came; the terminal view has no room for it until the table is drawn
      if (!plain && !o.quiet) for (const x of result.shown) io.out('\n' + shownText(x) + '\n');
      if (!o.quiet || code !== EXIT.ok) io.out('\n' + summaryTable(result, mode));
      // the plain view printed them as they came; the terminal view shows them once, after the table
      if (!plain) for (const w of result.warnings) errLine(io, `kbootstrap: warning: ${w}`);
    }
    return extras.after ? await extras.after(inv, result, code) : code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * A command that is a plan on the Runner and asks first (upgrade, certs renew): a confirmation after
 * connecting once to the first control plane (so that it can say what the cluster runs now; refused off
 * a terminal without --yes), then the run. (Their --dry-run is src/cli.ts's dryRunPlan: no SSH.)
 */
export async function planCommand(state: RunState, file: string, o: Record<string, unknown>, io: Io, plan: (inv: Inventory) => Plan, command: string,
  question: (inv: Inventory, running?: string) => string, after?: RunExtras['after'], inventory?: RunExtras['inventory']): Promise<number> {
  if (o.os) throw new UsageError(`${command}: --os is for --dry-run: a real run reads each host's OS from the host`);
  if (!o.yes && !(process.stdin.isTTY && process.stderr.isTTY)) throw new UsageError(`${command}: refusing without --yes: there is no terminal to confirm on`);
  const confirm = async (inv: Inventory, _plan: Plan, running: () => Promise<string>) => {
    if (o.yes) return true;
    return terminalConfirm(question(inv, await running()));
  };
  return runOverSsh(state, file, { verifyTimeout: DEFAULTS.verifyTimeoutSeconds, ...o } as unknown as RunFlags, 'apply', io, { plan, confirm, maxUnavailable: o.maxUnavailable as number | undefined, command, after, inventory });
}
