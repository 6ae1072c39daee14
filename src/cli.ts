/**
 * Command-line entry: parses arguments, maps every outcome to a documented exit code.
 * Only commander and the error types load up front: each command imports what it
 * uses when it runs (validate never loads SSH, listr2 or inquirer; --version and
 * --help load nothing else), and test/startup.test.ts holds that.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, InventoryError, KbError, UsageError, formatProblem } from './errors.js';
import { OS_NAMES, type OsName } from './inventory/os-names.js';
import { DEFAULTS } from './defaults.js';
import type { Io } from './io.js';
import { printable, printableIo } from './printable.js';
import type { RunState } from './commands/connected.js';
import type { Inventory } from './inventory/model.js';
import type { Plan } from './plan.js';
import { certsCommand } from './commands/certs-cli.js';


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

/** --dry-run of a command that is a plan (upgrade, certs renew): its scripts, without connecting or loading SSH. */
async function dryRunPlan(file: string, o: Record<string, unknown>, io: Io, plan: (inv: Inventory) => Plan): Promise<number> {
  const [{ load }, { dryRun }] = await Promise.all([import('./commands/load.js'), import('./dry-run.js')]);
  const inv = load(file, io, { keyFiles: false });
  const hosts = await dryRun(inv, { defaultOs: o.os as OsName | undefined, plan: plan(inv) });
  if (o.output === 'json') io.out(JSON.stringify({ mode: 'dry-run', hosts: hosts.map((h) => ({ host: h.host, script: h.script })) }, null, 2) + '\n');
  else io.out(hosts.map((h) => `# ===== ${h.host} =====\n${h.script}`).join('\n'));
  return EXIT.ok;
}

export function buildProgram(io: Io, setCode: (c: number) => void, state: RunState): Command {
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
        const [{ load }, { dryRun }, { filterFrom }] = await Promise.all([import('./commands/load.js'), import('./dry-run.js'), import('./plan.js')]);
        const inv = load(file, io, { keyFiles: false });
        const hosts = await dryRun(inv, { defaultOs: o.os as OsName | undefined, filter: filterFrom(o) });
        if (o.output === 'json') io.out(JSON.stringify({ mode: 'dry-run', hosts: hosts.map((h) => ({ host: h.host, script: h.script })) }, null, 2) + '\n');
        else io.out(hosts.map((h) => `# ===== ${h.host} =====\n${h.script}`).join('\n'));
        setCode(EXIT.ok);
        return;
      }
      const { runOverSsh } = await import('./commands/up.js');
      setCode(await runOverSsh(state, file, o, 'apply', io));
    });

  runOptions(program.command('plan')
    .description('connect and run only the checks: what is done and what would change, and why (exit 3 when something would)')
    .argument('<inventory>', 'inventory file (YAML)'))
    .action(async (file: string, o) => {
      const { runOverSsh } = await import('./commands/up.js');
      setCode(await runOverSsh(state, file, o, 'plan', io));
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
      const { buildUpgradePlan } = await import('./plan.js');
      if (o.dryRun) { setCode(await dryRunPlan(file, o, io, buildUpgradePlan)); return; }
      const { planCommand, upgradeQuestion } = await import('./commands/up.js');
      setCode(await planCommand(state, file, o, io, buildUpgradePlan, 'upgrade', (inv) => upgradeQuestion(inv, o.maxUnavailable as number)));
    });

  program.command('render')
    .description('write the dry-run script of every host to DIR/<host>.sh (or print them)')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('-o, --out <dir>', 'directory to write <host>.sh files into (- for standard output)')
    .addOption(osOption())
    .action(async (file: string, o) => {
      const [{ load }, { dryRun }, { makeDirs, writeFileSafely }, { join }] = await Promise.all([import('./commands/load.js'), import('./dry-run.js'), import('./local-file.js'), import('node:path')]);
      const inv = load(file, io, { keyFiles: false });
      const hosts = await dryRun(inv, { defaultOs: o.os as OsName | undefined });
      if (o.out && o.out !== '-') {
        makeDirs(o.out);
        for (const h of hosts) {
          const path = join(o.out, `${h.host}.sh`);
          writeFileSafely(path, h.script, { mode: 0o755 });
        }
        io.err(`wrote ${hosts.length} script${hosts.length === 1 ? '' : 's'} to ${o.out}\n`);
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
      const [{ load }, { sessionRun: run, terminalPrompt }, { tokenCreate, tokenList, tokenRevoke }] = await Promise.all([import('./commands/load.js'), import('./commands/connected.js'), import('./commands/token.js')]);
      const sessionRun = (command: string) => run(state, command, 'observe', io);
      const prompt = await terminalPrompt();
      if (a === 'list' && b) setCode(await tokenList(load(b, io), { ...o, run: sessionRun('token list') }, hostIo, prompt));
      else if (a === 'revoke' && b && c) setCode(await tokenRevoke(load(b, io), c, { ...o, run: sessionRun('token revoke') }, hostIo, prompt));
      else if (a === 'revoke' || a === 'list') throw new UsageError(`usage: kbootstrap token ${a} INVENTORY${a === 'revoke' ? ' ID' : ''}`);
      else if (b) throw new UsageError(`token: unexpected argument ${JSON.stringify(b)}`);
      else setCode(await tokenCreate(load(a, io), { ...o, run: sessionRun('token') }, hostIo, prompt));
    });

  sshOptions(program.command('reset')
    .description('undo kubeadm on hosts to rebuild them: drain and delete their nodes, kubeadm reset -f, clear CNI config, kubeconfigs, iptables and ipvs, restart the runtime')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--host <names>', 'hosts to reset (comma-separated)', list)
    .option('--all', 'reset every host: the cluster is destroyed')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)'))
    .action(async (file: string, o) => {
      const [{ load }, { sessionRun, terminalPrompt, terminalConfirm }, { reset }] = await Promise.all([import('./commands/load.js'), import('./commands/connected.js'), import('./commands/reset.js')]);
      const inv = load(file, io);
      const confirm = process.stdin.isTTY && process.stderr.isTTY ? terminalConfirm : undefined;
      setCode(await reset(inv, { ...o, run: sessionRun(state, 'reset', 'take', io) }, hostIo, confirm, await terminalPrompt()));
    });

  sshOptions(program.command('kubeconfig')
    .description("fetch the admin kubeconfig, pointed at controlPlaneEndpoint and named after the cluster")
    .argument('<inventory>', 'inventory file (YAML)')
    .option('-o, --output <file>', 'write it to FILE (mode 0600)')
    .option('--merge', 'merge it into $KUBECONFIG or ~/.kube/config, keeping the other contexts'))
    .action(async (file: string, o) => {
      const [{ load }, { sessionRun, terminalPrompt }, { kubeconfig }] = await Promise.all([import('./commands/load.js'), import('./commands/connected.js'), import('./commands/kubeconfig.js')]);
      setCode(await kubeconfig(load(file, io), { ...o, run: sessionRun(state, 'kubeconfig', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  sshOptions(program.command('status')
    .description('per host: reachable, OS, runtime and versions, joined, node Ready; the cluster\'s nodes against the inventory')
    .argument('<inventory>', 'inventory file (YAML)')
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text')))
    .action(async (file: string, o) => {
      const [{ load }, { sessionRun, terminalPrompt }, { status }] = await Promise.all([import('./commands/load.js'), import('./commands/connected.js'), import('./commands/status.js')]);
      setCode(await status(load(file, io), { ...o, run: sessionRun(state, 'status', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  sshOptions(program.command('check')
    .description('preflight before up (read-only): reachability, sudo, OS, CPUs and memory, unique product_uuid/MAC/hostname, ports, clocks, API port reachability')
    .argument('<inventory>', 'inventory file (YAML)')
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text')))
    .action(async (file: string, o) => {
      const [{ load }, { sessionRun, terminalPrompt }, { check }] = await Promise.all([import('./commands/load.js'), import('./commands/connected.js'), import('./commands/check.js')]);
      setCode(await check(load(file, io), { ...o, run: sessionRun(state, 'check', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  // kbootstrap certs check | certs renew (src/commands/certs-cli.ts; their code loads when they run)
  certsCommand(program, {
    io, hostIo, setCode, runOptions, sshOptions,
    prompt: async () => (await import('./commands/connected.js')).terminalPrompt(),
    load: async (f, opts) => (await import('./commands/load.js')).load(f, io, opts),
    session: async (c) => (await import('./commands/connected.js')).sessionRun(state, c, 'observe', io),
    run: async (file, o, plan, command, question, after) => o.dryRun ? dryRunPlan(file, o, io, plan)
      : (await import('./commands/up.js')).planCommand(state, file, o, io, plan, command, question, after),
    // after a JSON report, what the merge says goes to stderr: stdout stays one JSON document
    kubeconfigMerge: async (inv, o) => {
      const [{ kubeconfig }, { sessionRun, terminalPrompt }] = await Promise.all([import('./commands/kubeconfig.js'), import('./commands/connected.js')]);
      return kubeconfig(inv, { ...o, output: undefined, merge: true, run: sessionRun(state, 'kubeconfig', 'observe', io) }, o.output === 'json' ? { ...hostIo, out: hostIo.err } : hostIo, await terminalPrompt());
    },
  });

  program.command('init')
    .description('write a new inventory: a guided wizard, or a commented example with --defaults')
    .argument('[file]', 'where to write it (- for standard output, with --defaults)', 'inventory.yaml')
    .option('--defaults', 'write a commented example without asking')
    .option('--force', 'overwrite an existing file')
    .action(async (file: string, o) => {
      const { init, inquirerPrompter } = await import('./commands/init.js');
      const prompter = process.stdin.isTTY && process.stdout.isTTY ? await inquirerPrompter() : undefined;
      setCode(await init(file, o, io, prompter));
    });

  program.command('validate')
    .description('check an inventory file and exit 0 when it is valid')
    .argument('<inventory>', 'inventory file (YAML), or - for standard input')
    .action(async (file: string) => {
      const [{ load }, { plural }] = await Promise.all([import('./commands/load.js'), import('./report.js')]);
      const inv = load(file, io);
      io.out(`${file === '-' ? '<stdin>' : file}: valid (${plural(inv.hosts.length, 'host')}, Kubernetes ${inv.cluster.kubernetesVersion})\n`);
      setCode(EXIT.ok);
    });

  program.command('versions')
    .description('the versions table: supported Kubernetes minors, add-on releases and OS releases kbootstrap knows, with sources')
    .addOption(new Option('--output <format>', 'text or json (json has every row with its sources)').choices(['text', 'json']).default('text'))
    .action(async (o: { output: string }) => {
      const { matrixJson, matrixText } = await import('./versions/matrix.js');
      io.out(o.output === 'json' ? JSON.stringify(matrixJson(), null, 2) + '\n' : matrixText());
      setCode(EXIT.ok);
    });

  return program;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const state: RunState = { argv: argv.slice(2) };
  const code = await runCommand(argv, io, state);
  // (the command opened it, if it connected anywhere)
  const log = state.log;
  if (log) {
    log.close(`exit ${code}`);
    // plan's 3 says something would change: not a failure
    if (code !== EXIT.ok && code !== EXIT.changes && log.used) io.err(`kbootstrap: the log of this run: ${log.path}\n`);
  }
  return code;
}

async function runCommand(argv: string[], io: Io, state: RunState): Promise<number> {
  let code: number = EXIT.ok;
  const program = buildProgram(io, (c) => { code = c; }, state);
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
