/** Command-line entry: parses arguments, maps every outcome to a documented exit code. */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXIT, InventoryError, KbError, UsageError, formatProblem } from './errors.js';
import { loadInventoryFile } from './inventory/load.js';
import type { Inventory } from './inventory/model.js';
import { OS_NAMES, type OsName } from './inventory/schema.js';
import { dryRun } from './dry-run.js';
import { buildPlan, type PlanFilter } from './plan.js';
import { Runner, type RunEvent } from './runner.js';
import { DEFAULTS } from './defaults.js';
import { connectHost } from './connect.js';
import { resolveCredentials, type Prompt } from './ssh/credentials.js';
import { jsonReport, planText, plainEventLine, summaryTable } from './report.js';
import { ListrView } from './progress.js';
import { tokenCreate, tokenList, tokenRevoke } from './commands/token.js';
import { reset, type Confirm } from './commands/reset.js';
import { kubeconfig } from './commands/kubeconfig.js';
import { status } from './commands/status.js';
import { check } from './commands/check.js';
import { init, inquirerPrompter } from './commands/init.js';
import type { Io } from './io.js';


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

export function load(file: string, io: Io): Inventory {
  const { inventory, warnings } = loadInventoryFile(file);
  for (const w of warnings) io.err(formatProblem(w) + '\n');
  return inventory;
}

function filterFrom(o: { only?: string[]; steps?: string[]; skipSteps?: string[] }): PlanFilter {
  return { only: o.only, steps: o.steps, skipSteps: o.skipSteps };
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
  output: 'text' | 'json';
  verbose?: boolean;
  quiet?: boolean;
  commandTimeout: number;
  verifyTimeout: number;
}

/** up and plan over SSH. */
export async function runOverSsh(file: string, o: RunFlags, mode: 'apply' | 'plan', io: Io): Promise<number> {
  const inv = load(file, io);
  const plan = buildPlan(inv, filterFrom(o));
  const firstCp = inv.hosts.find((h) => h.role === 'control-plane')!;
  const hosts = plan.hosts.includes(firstCp) ? plan.hosts : [firstCp, ...plan.hosts];
  const creds = await resolveCredentials(hosts, process.env, await terminalPrompt());
  const sshOpts = { creds, acceptNewHostKeys: Boolean(o.acceptNewHostKeys), commandTimeoutMs: o.commandTimeout * 1000, connectAttempts: 3 };

  let interrupts = 0;
  const onSigint = () => {
    interrupts++;
    if (interrupts === 1) io.err('\nkbootstrap: stopping after the running steps (Ctrl-C again to abort)\n');
    else { io.err('kbootstrap: aborted\n'); process.exit(EXIT.interrupted); }
  };
  process.on('SIGINT', onSigint);

  const json = o.output === 'json';
  const plain = !json && !o.quiet && (o.verbose || !io.isTTY);
  const view = !json && !o.quiet && !plain ? new ListrView(inv, plan, mode) : undefined;
  const onEvent = (e: RunEvent) => {
    if (view) view.onEvent(e);
    else if (plain) {
      const line = plainEventLine(e, Boolean(o.verbose));
      if (line) io.out(line + '\n');
    }
  };
  try {
    const runner = new Runner(inv, plan, (spec) => connectHost(spec, sshOpts), {
      mode, concurrency: o.concurrency, verifyTimeoutSeconds: o.verifyTimeout, onEvent, shouldStop: () => interrupts > 0,
    });
    const result = await runner.run();
    await view?.finish(result.outcomes);
    const wouldChange = result.outcomes.some((x) => x.status === 'would-change');
    const code = result.interrupted ? EXIT.interrupted : result.failed ? EXIT.failed : mode === 'plan' && wouldChange ? EXIT.changes : EXIT.ok;
    if (json) io.out(jsonReport(result, mode, code));
    else {
      if (mode === 'plan') io.out(planText(result));
      if (!o.quiet || code !== EXIT.ok) io.out('\n' + summaryTable(result, mode));
    }
    return code;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export function buildProgram(io: Io, setCode: (c: number) => void): Command {
  const program = new Command('kbootstrap')
    .description('Turn fresh Linux machines into a kubeadm Kubernetes cluster over SSH, from one inventory file')
    .version(process.env.npm_package_version ?? '0.1.0')
    .configureOutput({ writeOut: io.out, writeErr: io.err })
    .showHelpAfterError('(run kbootstrap --help for usage)')
    .exitOverride();

  const runOptions = (cmd: Command) => cmd
    .option('--only <hosts>', 'limit the run to these hosts (comma-separated names)', list)
    .option('--steps <ids>', 'run only these steps (comma-separated ids)', list)
    .option('--skip-steps <ids>', 'skip these steps (comma-separated ids)', list)
    .option('--concurrency <n>', 'hosts worked on at once', positiveInt, 10)
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts (like ssh -o StrictHostKeyChecking=accept-new)')
    .addOption(new Option('--output <format>', 'text, or json for scripts').choices(['text', 'json']).default('text'))
    .option('--verbose', 'one plain line per event, each prefixed with the host name')
    .option('--quiet', 'print only failures and the summary of a failed run')
    .option('--command-timeout <seconds>', 'limit for each remote command without its own', positiveInt, 600)
    .option('--verify-timeout <seconds>', 'how long verify waits for nodes and kube-system pods', positiveInt, DEFAULTS.verifyTimeoutSeconds)
    .addOption(osOption());

  runOptions(program.command('up')
    .description('bring every host to the state the inventory describes (a second run changes nothing)')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--dry-run', 'print, per host, the checks and commands that would run; connect to nothing'))
    .action(async (file: string, o) => {
      const inv = load(file, io);
      if (o.dryRun) {
        const hosts = await dryRun(inv, { defaultOs: o.os as OsName | undefined, filter: filterFrom(o) });
        io.out(hosts.map((h) => `# ===== ${h.host} =====\n${h.script}`).join('\n'));
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

  program.command('render')
    .description('write the dry-run script of every host to DIR/<host>.sh (or print them)')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('-o, --out <dir>', 'directory to write <host>.sh files into')
    .addOption(osOption())
    .action(async (file: string, o) => {
      const inv = load(file, io);
      const hosts = await dryRun(inv, { defaultOs: o.os as OsName | undefined });
      if (o.out) {
        mkdirSync(o.out, { recursive: true });
        for (const h of hosts) writeFileSync(join(o.out, `${h.host}.sh`), h.script, { mode: 0o755 });
        io.err(`wrote ${hosts.length} scripts to ${o.out}\n`);
      } else {
        io.out(hosts.map((h) => `# ===== ${h.host} =====\n${h.script}`).join('\n'));
      }
      setCode(EXIT.ok);
    });

  const sshOptions = (cmd: Command) => cmd
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts')
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
      if (a === 'list' && b) setCode(await tokenList(load(b, io), o, io, prompt));
      else if (a === 'revoke' && b && c) setCode(await tokenRevoke(load(b, io), c, o, io, prompt));
      else if (a === 'revoke' || a === 'list') throw new UsageError(`usage: kbootstrap token ${a} INVENTORY${a === 'revoke' ? ' ID' : ''}`);
      else if (b) throw new UsageError(`token: unexpected argument ${JSON.stringify(b)}`);
      else setCode(await tokenCreate(load(a, io), o, io, prompt));
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
      setCode(await reset(inv, o, io, confirm, await terminalPrompt()));
    });

  sshOptions(program.command('kubeconfig')
    .description("fetch the admin kubeconfig, pointed at controlPlaneEndpoint and named after the cluster")
    .argument('<inventory>', 'inventory file (YAML)')
    .option('-o, --output <file>', 'write it to FILE (mode 0600)')
    .option('--merge', 'merge it into $KUBECONFIG or ~/.kube/config, keeping the other contexts'))
    .action(async (file: string, o) => {
      setCode(await kubeconfig(load(file, io), o, io, await terminalPrompt()));
    });

  sshOptions(program.command('status')
    .description('per host: reachable, OS, runtime and versions, joined, node Ready; the cluster\'s nodes against the inventory')
    .argument('<inventory>', 'inventory file (YAML)')
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text')))
    .action(async (file: string, o) => {
      setCode(await status(load(file, io), o, io, await terminalPrompt()));
    });

  sshOptions(program.command('check')
    .description('preflight before up (read-only): reachability, sudo, OS, CPUs and memory, unique product_uuid/MAC/hostname, ports, clocks, API port reachability')
    .argument('<inventory>', 'inventory file (YAML)')
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text')))
    .action(async (file: string, o) => {
      setCode(await check(load(file, io), o, io, await terminalPrompt()));
    });

  program.command('init')
    .description('write a new inventory: a guided wizard, or a commented example with --defaults')
    .argument('[file]', 'where to write it', 'inventory.yaml')
    .option('--defaults', 'write a commented example without asking')
    .option('--force', 'overwrite an existing file')
    .action(async (file: string, o) => {
      const prompter = process.stdin.isTTY && process.stdout.isTTY ? await inquirerPrompter() : undefined;
      setCode(await init(file, o, io, prompter));
    });

  program.command('validate')
    .description('check an inventory file and exit 0 when it is valid')
    .argument('<inventory>', 'inventory file (YAML)')
    .action((file: string) => {
      const inv = load(file, io);
      io.out(`${file}: valid (${inv.hosts.length} hosts, Kubernetes ${inv.cluster.kubernetesVersion})\n`);
      setCode(EXIT.ok);
    });

  return program;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => { code = c; });
  try {
    await program.parseAsync(argv);
    return code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT.ok;
      return EXIT.usage;
    }
    if (e instanceof InventoryError) {
      io.err(e.problems.map(formatProblem).join('\n') + '\n');
      return EXIT.usage;
    }
    if (e instanceof KbError) {
      io.err(`kbootstrap: ${e.message}\n`);
      return e.exitCode;
    }
    throw e;
  }
}
