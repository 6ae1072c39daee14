/** Command-line entry: parses arguments, maps every outcome to a documented exit code. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { join } from 'node:path';
import { EXIT, InventoryError, KbError, UsageError, formatProblem } from './errors.js';
import { loadInventoryFile, type LoadOptions } from './inventory/load.js';
import { firstControlPlane, type HostSpec } from './inventory/model.js';
import { plural } from './report.js';
import type { Inventory } from './inventory/model.js';
import { OS_NAMES, type OsName } from './inventory/schema.js';
import { dryRun } from './dry-run.js';
import { buildPlan, buildUpgradePlan, type Plan, type PlanFilter } from './plan.js';
import { Runner, type RunEvent, type RunResult } from './runner.js';
import { DEFAULTS } from './defaults.js';
import { connectHost } from './connect.js';
import { applySshConfig } from './ssh/resolve.js';
import { resolveCredentials, type Prompt } from './ssh/credentials.js';
import { jsonReport, planText, plainEventLine, shownText, summaryTable } from './report.js';
import { ListrView } from './progress.js';
import { tokenCreate, tokenList, tokenRevoke } from './commands/token.js';
import { reset, type Confirm } from './commands/reset.js';
import { kubeconfig } from './commands/kubeconfig.js';
import { status } from './commands/status.js';
import { check } from './commands/check.js';
import { certsCommand } from './commands/certs.js';
import { init, inquirerPrompter } from './commands/init.js';
import type { Io } from './io.js';
import { makeDirs, writeFileSafely } from './local-file.js';
import { printable, printableIo } from './printable.js';
import { RunLog } from './run/run-log.js';
import { Redactor } from './redact.js';
import { thisRun, type LockMode } from './run/host-lock.js';
import type { ConnectContext } from './connect.js';
import type { SessionRun } from './session.js';
import { matrixJson, matrixText } from './versions/matrix.js';


const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stdout.isTTY),
};

function list(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

const osOption = () => new Option('--os <os>', 'OS assumed for hosts without an os: field (dry run only)').choices([...OS_NAMES]);

/** Commands that connect also warn about key files that are not there (dry runs do not need them). */
export function load(file: string, io: Io, opts: LoadOptions = { keyFiles: true }): Inventory {
  const { inventory, warnings } = loadInventoryFile(file, opts);
  for (const w of warnings) io.err(formatProblem(w) + '\n');
  return inventory;
}

function filterFrom(o: { only?: string[]; steps?: string[]; skipSteps?: string[] }): PlanFilter {
  return { only: o.only, steps: o.steps, skipSteps: o.skipSteps };
}

/**
 * This process's run log, opened by the first command that connects to hosts;
 * main() closes it and prints its path when the command fails.
 */
let runLog: RunLog | undefined;
let runArgv: string[] = [];

/** What a command's connections share: its lock (take for commands that change hosts, else observe), the log, one Redactor. */
function connectContext(command: string, lock: LockMode, io: Io): ConnectContext {
  if (!runLog) {
    const { log, error } = RunLog.open(runArgv, new Redactor());
    if (error) io.err(`kbootstrap: warning: ${error}\n`);
    runLog = log;
  }
  return { lock: { mode: lock, me: thisRun(command) }, log: runLog, redactor: runLog?.redactor ?? new Redactor() };
}

function sessionRun(command: string, lock: LockMode, io: Io): SessionRun {
  return { ctx: connectContext(command, lock, io), warn: (m) => io.err(`kbootstrap: warning: ${m}\n`) };
}

/** Ask on the terminal without echo (inquirer), only when there is one. */
async function terminalPrompt(): Promise<Prompt | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const { default: inquirer } = await import('inquirer');
  return async (message) => (await inquirer.prompt<{ secret: string }>([{ type: 'password', name: 'secret', message, mask: '*' }])).secret;
}

interface RunFlags {
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
interface RunExtras {
  plan?: (inv: Inventory) => Plan;
  /** false: stop with nothing done (exit 1) */
  confirm?: (inv: Inventory, plan: Plan) => Promise<boolean>;
  maxUnavailable?: number;
  /** the command's name for the run lock (default: up, or plan) */
  command?: string;
  /** after the run (not in JSON's place): a line of its own, a follow-up; returns the exit code */
  after?: (inv: Inventory, result: RunResult, code: number) => Promise<number>;
}

/** Exit once stdout and stderr have taken what was written (to a pipe, process.exit would drop it). */
function exitFlushed(code: number): void {
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  // a stream that never drains (a stopped reader) must not keep kbootstrap alive
  setTimeout(() => process.exit(code), 2000).unref();
}

/** up, plan and upgrade over SSH. */
export async function runOverSsh(file: string, o: RunFlags, mode: 'apply' | 'plan', io: Io, extras: RunExtras = {}): Promise<number> {
  const inv = load(file, io);
  const plan = extras.plan ? extras.plan(inv) : buildPlan(inv, filterFrom(o));
  if (extras.confirm && !(await extras.confirm(inv, plan))) {
    io.err(`${extras.command ?? 'upgrade'}: nothing done\n`);
    return EXIT.failed;
  }
  const firstCp = firstControlPlane(inv);
  // OpenSSH's configuration fills in what the inventory leaves out (aliases, users, ports, keys, jump hosts)
  const hosts = applySshConfig(inv, plan.hosts.includes(firstCp) ? plan.hosts : [firstCp, ...plan.hosts], o.sshConfig ?? inv.sshConfigFile);
  const resolved = new Map(hosts.map((h) => [h.name, h]));
  if (o.verbose) for (const h of hosts) io.out(`${h.name}: ssh ${Object.entries(h.ssh.resolved!.sources).map(([k, v]) => `${k} ${v}`).join('; ')}\n`);
  const creds = await resolveCredentials(hosts, process.env, await terminalPrompt());
  const sshOpts = { creds, acceptNewHostKeys: Boolean(o.acceptNewHostKeys), commandTimeoutMs: o.commandTimeout * 1000, connectAttempts: DEFAULTS.connectAttempts };
  // plan only reads: it says who holds a host's lock, and takes none
  const ctx = connectContext(extras.command ?? (mode === 'plan' ? 'plan' : 'up'), mode === 'plan' ? 'observe' : 'take', io);
  ctx.redactor?.add(creds.password, creds.sudoPassword, creds.passphrase);
  const connect = (spec: HostSpec) => connectHost(resolved.get(spec.name) ?? spec, sshOpts, ctx);

  const json = o.output === 'json';
  const plain = !json && !o.quiet && (o.verbose || !io.isTTY);
  const view = !json && !o.quiet && !plain ? new ListrView(inv, plan, mode) : undefined;

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
      io.err('kbootstrap: aborted; a command already sent may still finish on its host: run the same command again to resume\n');
      if (runLog?.used) io.err(`kbootstrap: the log of this run: ${runLog.path}\n`);
      exitFlushed(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSigint);
  const onEvent = (e: RunEvent) => {
    const logged = plainEventLine(e, true);
    if (logged) ctx.log?.note(logged);
    if (view) view.onEvent(e);
    else if (plain) {
      const line = plainEventLine(e, Boolean(o.verbose));
      if (line) io.out(line + '\n');
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
      if (!plain) for (const w of result.warnings) io.err(`kbootstrap: warning: ${w}\n`);
    }
    return extras.after ? await extras.after(inv, result, code) : code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/**
 * A command that is a plan on the Runner and asks first (upgrade, certs renew): --dry-run prints the
 * plan's scripts without connecting; otherwise a confirmation (refused off a terminal without --yes), then the run.
 */
async function planCommand(file: string, o: Record<string, unknown>, io: Io, plan: (inv: Inventory) => Plan, command: string,
  question: (inv: Inventory) => string, after?: RunExtras['after']): Promise<number> {
  if (o.dryRun) {
    const inv = load(file, io, { keyFiles: false });
    const hosts = await dryRun(inv, { defaultOs: o.os as OsName | undefined, plan: plan(inv) });
    if (o.output === 'json') io.out(JSON.stringify({ mode: 'dry-run', hosts: hosts.map((h) => ({ host: h.host, script: h.script })) }, null, 2) + '\n');
    else io.out(hosts.map((h) => `# ===== ${h.host} =====\n${h.script}`).join('\n'));
    return EXIT.ok;
  }
  const confirm = async (inv: Inventory) => {
    if (o.yes) return true;
    if (!process.stdin.isTTY || !process.stderr.isTTY) throw new UsageError(`${command}: refusing without --yes: there is no terminal to confirm on`);
    const { default: inquirer } = await import('inquirer');
    return (await inquirer.prompt<{ ok: boolean }>([{ type: 'confirm', name: 'ok', message: question(inv), default: false }])).ok;
  };
  return runOverSsh(file, o as unknown as RunFlags, 'apply', io, { plan, confirm, maxUnavailable: o.maxUnavailable as number | undefined, command, after });
}

export function buildProgram(io: Io, setCode: (c: number) => void): Command {
  // what the lifecycle commands print is mostly what hosts answered (up, plan and upgrade print through the run's Recorder)
  const hostIo = printableIo(io);
  const program = new Command('kbootstrap')
    .description('Turn fresh Linux machines into a kubeadm Kubernetes cluster over SSH, from one inventory file')
    .version(process.env.npm_package_version ?? '0.1.0')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .configureHelp({
      // wrap at the terminal's width (80 when it is not a terminal), never past 100 columns
      helpWidth: Math.min(process.stdout.columns || 80, 100),
      // the command column stays narrow enough that commander can wrap the descriptions
      subcommandTerm: (cmd) => cmd.name() === 'token' ? 'token [list|revoke] <inventory>' : [cmd.name(), ...cmd.registeredArguments.map((a) => a.required ? `<${a.name()}>` : `[${a.name()}]`)].join(' '),
    })
    .showHelpAfterError('(run kbootstrap --help for usage)')
    .addHelpText('after', `
Examples:
  kbootstrap init inventory.yaml          write an inventory, asking questions
  kbootstrap validate inventory.yaml
  kbootstrap up inventory.yaml --dry-run  what would run, per host (offline)
  kbootstrap plan inventory.yaml          what is done, what would change
  kbootstrap up inventory.yaml
  kbootstrap kubeconfig inventory.yaml --merge

"-" is standard input for validate, standard output for init --defaults.
Run kbootstrap help COMMAND for a command's options.

Exit codes:
  0    success (plan: nothing would change)
  1    a host or step failed
  2    bad input or usage: invalid inventory, unknown flag/host/step, bad path
  3    plan: something would change
  130  interrupted: after Ctrl-C running steps finish; a second Ctrl-C aborts
`)
    .exitOverride();

  const runOptions = (cmd: Command) => cmd
    .option('--only <hosts>', 'limit the run to these hosts (comma-separated names)', list)
    .option('--steps <ids>', 'run only these steps (comma-separated ids)', list)
    .option('--skip-steps <ids>', 'skip these steps (comma-separated ids)', list)
    .option('--concurrency <n>', 'hosts worked on at once', positiveInt, 10)
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts (like ssh -o StrictHostKeyChecking=accept-new)')
    .option('--ssh-config <file>', 'OpenSSH client configuration to read (default: ssh.configFile, else ~/.ssh/config; none: ignore it)')
    .addOption(new Option('--output <format>', 'text, or json for scripts').choices(['text', 'json']).default('text'))
    .option('--verbose', 'one plain line per event, each prefixed with the host name')
    .option('--quiet', 'print only failures and the summary of a failed run')
    .option('--command-timeout <seconds>', 'limit for each remote command without its own', positiveInt, 600)
    .option('--verify-timeout <seconds>', 'how long verify waits for nodes and kube-system pods', positiveInt, DEFAULTS.verifyTimeoutSeconds)
    .addOption(osOption());

  runOptions(program.command('up')
    .description('bring every host to the state the inventory describes (a second run changes nothing)')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--dry-run', 'print, per host, the checks and commands that would run; connect to nothing')
    .option('--force', 'go ahead with a change kbootstrap otherwise refuses (a changed kube-vip VIP; its message says what to redo)'))
    .action(async (file: string, o) => {
      if (o.dryRun) {
        const inv = load(file, io, { keyFiles: false });
        const hosts = await dryRun(inv, { defaultOs: o.os as OsName | undefined, filter: filterFrom(o) });
        if (o.output === 'json') io.out(JSON.stringify({ mode: 'dry-run', hosts: hosts.map((h) => ({ host: h.host, script: h.script })) }, null, 2) + '\n');
        else io.out(hosts.map((h) => `# ===== ${h.host} =====\n${h.script}`).join('\n'));
        setCode(EXIT.ok);
        return;
      }
      setCode(await runOverSsh(file, o, 'apply', io));
    });

  runOptions(program.command('plan')
    .description('connect and run only the checks: what is done and what would change, and why (exit 3 when something would)')
    .argument('<inventory>', 'inventory file (YAML)'))
    .action(async (file: string, o) => {
      setCode(await runOverSsh(file, o, 'plan', io));
    });

  runOptions(program.command('upgrade')
    .description('upgrade a running cluster to the inventory\'s kubernetesVersion (one minor at a time): kubeadm upgrade apply on the first control plane, then every node drained in turn')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--max-unavailable <n>', 'workers upgraded (drained) at once', positiveInt, 1)
    .option('--dry-run', 'print, per host, the upgrade\'s checks and commands; connect to nothing'))
    .action(async (file: string, o) => {
      for (const f of ['only', 'steps', 'skipSteps'] as const) {
        if (o[f]) throw new UsageError(`upgrade: --${f.replace('S', '-s')} does not apply: an upgrade moves every node, in kubeadm's order`);
      }
      setCode(await planCommand(file, o, io, buildUpgradePlan, 'upgrade', (inv) => upgradeQuestion(inv, o.maxUnavailable as number)));
    });

  program.command('render')
    .description('write the dry-run script of every host to DIR/<host>.sh (or print them)')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('-o, --out <dir>', 'directory to write <host>.sh files into (- for standard output)')
    .addOption(osOption())
    .action(async (file: string, o) => {
      const inv = load(file, io, { keyFiles: false });
      const hosts = await dryRun(inv, { defaultOs: o.os as OsName | undefined });
      if (o.out && o.out !== '-') {
        makeDirs(o.out);
        for (const h of hosts) {
          const path = join(o.out, `${h.host}.sh`);
          writeFileSafely(path, h.script, { mode: 0o755 });
        }
        io.err(`wrote ${plural(hosts.length, 'script')} to ${o.out}\n`);
      } else {
        io.out(hosts.map((h) => `# ===== ${h.host} =====\n${h.script}`).join('\n'));
      }
      setCode(EXIT.ok);
    });

  const sshOptions = (cmd: Command) => cmd
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts')
    .option('--ssh-config <file>', 'OpenSSH client configuration to read (default: ssh.configFile, else ~/.ssh/config; none: ignore it)')
    .option('--verbose', 'also show, per host, where each SSH setting came from')
    .option('--command-timeout <seconds>', 'limit for each remote command', positiveInt, 600);

  sshOptions(program.command('token')
    .description('print a fresh join command (a secret, to stdout only); or: token list INVENTORY, token revoke INVENTORY ID')
    .argument('<inventory|list|revoke>', 'inventory file, or list / revoke followed by the inventory')
    .argument('[inventory]', 'inventory file (after list or revoke)')
    .argument('[id]', 'token id to revoke')
    .option('--ttl <duration>', 'how long the token lives (30m, 2h, 24h); 0 never expires and needs --force', '2h')
    .option('--control-plane', 'also upload the control-plane certificates and add a fresh certificate key (valid 2h)')
    .option('--force', 'allow --ttl 0'))
    .action(async (a: string, b: string | undefined, c: string | undefined, o) => {
      const prompt = await terminalPrompt();
      if (a === 'list' && b) setCode(await tokenList(load(b, io), { ...o, run: sessionRun('token list', 'observe', io) }, hostIo, prompt));
      else if (a === 'revoke' && b && c) setCode(await tokenRevoke(load(b, io), c, { ...o, run: sessionRun('token revoke', 'observe', io) }, hostIo, prompt));
      else if (a === 'revoke' || a === 'list') throw new UsageError(`usage: kbootstrap token ${a} INVENTORY${a === 'revoke' ? ' ID' : ''}`);
      else if (b) throw new UsageError(`token: unexpected argument ${JSON.stringify(b)}`);
      else setCode(await tokenCreate(load(a, io), { ...o, run: sessionRun('token', 'observe', io) }, hostIo, prompt));
    });

  sshOptions(program.command('reset')
    .description('undo kubeadm on hosts to rebuild them: drain and delete their nodes, kubeadm reset -f, clear CNI config, kubeconfigs, iptables and ipvs, restart the runtime')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--host <names>', 'hosts to reset (comma-separated)', list)
    .option('--all', 'reset every host: the cluster is destroyed')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)'))
    .action(async (file: string, o) => {
      const inv = load(file, io);
      let confirm: Confirm | undefined;
      if (process.stdin.isTTY && process.stderr.isTTY) {
        const { default: inquirer } = await import('inquirer');
        confirm = async (message) => (await inquirer.prompt<{ ok: boolean }>([{ type: 'confirm', name: 'ok', message, default: false }])).ok;
      }
      setCode(await reset(inv, { ...o, run: sessionRun('reset', 'take', io) }, hostIo, confirm, await terminalPrompt()));
    });

  sshOptions(program.command('kubeconfig')
    .description("fetch the admin kubeconfig, pointed at controlPlaneEndpoint and named after the cluster")
    .argument('<inventory>', 'inventory file (YAML)')
    .option('-o, --output <file>', 'write it to FILE (mode 0600)')
    .option('--merge', 'merge it into $KUBECONFIG or ~/.kube/config, keeping the other contexts'))
    .action(async (file: string, o) => {
      setCode(await kubeconfig(load(file, io), { ...o, run: sessionRun('kubeconfig', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  sshOptions(program.command('status')
    .description('per host: reachable, OS, runtime and versions, joined, node Ready; the cluster\'s nodes against the inventory')
    .argument('<inventory>', 'inventory file (YAML)')
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text')))
    .action(async (file: string, o) => {
      setCode(await status(load(file, io), { ...o, run: sessionRun('status', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  sshOptions(program.command('check')
    .description('preflight before up (read-only): reachability, sudo, OS, CPUs and memory, unique product_uuid/MAC/hostname, ports, clocks, API port reachability')
    .argument('<inventory>', 'inventory file (YAML)')
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text')))
    .action(async (file: string, o) => {
      setCode(await check(load(file, io), { ...o, run: sessionRun('check', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  // kbootstrap certs check | certs renew (src/commands/certs.ts)
  certsCommand(program, {
    io, hostIo, setCode, runOptions, sshOptions, prompt: terminalPrompt,
    load: (f, opts) => load(f, io, opts),
    session: (c) => sessionRun(c, 'observe', io),
    run: (file, o, plan, command, question, after) => planCommand(file, o, io, plan, command, question, after),
    // after a JSON report, what the merge says goes to stderr: stdout stays one JSON document
    kubeconfigMerge: async (inv, o) => kubeconfig(inv, { ...o, output: undefined, merge: true, run: sessionRun('kubeconfig', 'observe', io) },
      o.output === 'json' ? { ...hostIo, out: hostIo.err } : hostIo, await terminalPrompt()),
  });

  program.command('init')
    .description('write a new inventory: a guided wizard, or a commented example with --defaults')
    .argument('[file]', 'where to write it (- for standard output, with --defaults)', 'inventory.yaml')
    .option('--defaults', 'write a commented example without asking')
    .option('--force', 'overwrite an existing file')
    .action(async (file: string, o) => {
      const prompter = process.stdin.isTTY && process.stdout.isTTY ? await inquirerPrompter() : undefined;
      setCode(await init(file, o, io, prompter));
    });

  program.command('validate')
    .description('check an inventory file and exit 0 when it is valid')
    .argument('<inventory>', 'inventory file (YAML), or - for standard input')
    .action((file: string) => {
      const inv = load(file, io);
      io.out(`${file === '-' ? '<stdin>' : file}: valid (${plural(inv.hosts.length, 'host')}, Kubernetes ${inv.cluster.kubernetesVersion})\n`);
      setCode(EXIT.ok);
    });

  program.command('versions')
    .description('the versions table: supported Kubernetes minors, add-on releases and OS releases kbootstrap knows, with sources')
    .addOption(new Option('--output <format>', 'text or json (json has every row with its sources)').choices(['text', 'json']).default('text'))
    .action((o: { output: string }) => {
      io.out(o.output === 'json' ? JSON.stringify(matrixJson(), null, 2) + '\n' : matrixText());
      setCode(EXIT.ok);
    });

  return program;
}

/** The confirmation question: the version and every host, in the order they are upgraded. */
export function upgradeQuestion(inv: Inventory, maxUnavailable: number): string {
  const cps = inv.hosts.filter((h) => h.role === 'control-plane');
  const workers = inv.hosts.filter((h) => h.role === 'worker');
  const names = (hs: HostSpec[]) => hs.map((h) => `${h.name} (${h.address})`).join(', ');
  return `Upgrade cluster ${inv.cluster.name} to Kubernetes ${inv.cluster.kubernetesVersion} (the preflight refuses anything but the next minor or a newer patch)? `
    + `Control planes one at a time: ${names(cps)}${workers.length ? `; then workers, ${maxUnavailable} at a time, each drained first: ${names(workers)}` : ''}.`;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  runLog = undefined;
  runArgv = argv.slice(2);
  const code = await runCommand(argv, io);
  // (the command opened it, if it connected anywhere)
  const log = runLog as RunLog | undefined;
  if (log) {
    log.close(`exit ${code}`);
    // plan's 3 says something would change: not a failure
    if (code !== EXIT.ok && code !== EXIT.changes && log.used) io.err(`kbootstrap: the log of this run: ${log.path}\n`);
    runLog = undefined;
  }
  return code;
}

async function runCommand(argv: string[], io: Io): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => { code = c; });
  if (argv.length <= 2) {
    // no command is a usage error like any other: help goes to stderr, exit 2
    io.err(program.helpInformation());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    // inquirer rejects with ExitPromptError on Ctrl-C or Ctrl-D at a prompt
    if (e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError')) {
      io.err('\nkbootstrap: interrupted\n');
      return EXIT.interrupted;
    }
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof InventoryError) {
      io.err(e.problems.map(formatProblem).join('\n') + '\n');
      return EXIT.usage;
    }
    if (e instanceof KbError) {
      // an error can quote a host (stderr, a node name): printable, like everything else a host says
      io.err(`kbootstrap: ${printable(e.message)}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
