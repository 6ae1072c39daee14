/**
 * Command-line entry: parses arguments, maps every outcome to a documented exit code.
 * Only commander and small modules load up front: each command imports what it
 * uses when it runs (validate never loads SSH, listr2 or inquirer; --version and
 * --help load nothing else), and test/startup.test.ts holds that.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { EXIT, InventoryError, KbError, UsageError, formatProblem, jsonError } from './errors.js';
import type { HostSpec, Inventory } from './inventory/model.js';
import { parseDuration } from './duration.js';
import { errLine } from './wrap.js';
import { OS_NAMES, type OsName } from './inventory/os-names.js';
import type { Plan } from './plan.js';
import { DEFAULTS } from './defaults.js';
import type { Io } from './io.js';
import { printable, printableIo } from './printable.js';
import type { RunState } from './commands/connected.js';
import type { RunFlags } from './commands/up.js';
import { certsCommand } from './commands/certs-cli.js';
import { registerEtcdCommands } from './commands/etcd-cli.js';
import { registerResetCommand } from './commands/reset-cli.js';
import { printDryRun, type RunExtras as PlanRunExtras, type RunFlags as PlanRunFlags } from './commands/plan-io.js';
import { registerBundleCommand } from './commands/bundle-cli.js';


const defaultIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stdout.isTTY),
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  errColumns: process.stderr.isTTY ? process.stderr.columns : undefined,
};

function list(v: string, prev: string[] = []): string[] {
  return [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

/** A time limit: seconds (300) or a duration (90s, 5m, 1h30m), parsed as --ttl is: one duration parser everywhere. */
function timeLimit(v: string): number {
  const n = parseDuration(v);
  if (n === undefined || n < 1) throw new InvalidArgumentError('expected seconds (300) or a duration (90s, 5m, 1h) of at least 1s');
  return n;
}

/**
 * -o/--output is the output format on every command, as in kubectl: text, or
 * json, where standard output carries one JSON document and nothing else.
 * Anything else is refused with what the user may have meant (HINT), never
 * read as a file name.
 */
function outputOption(hint?: string): Option {
  return new Option('-o, --output <format>', 'text, or json (stdout then carries only JSON)').default('text').argParser((v: string) => {
    if (v === 'text' || v === 'json') return v;
    throw new InvalidArgumentError(`expected text or json: -o/--output is the output format on every command, as in kubectl${hint ? `; ${hint}` : ''}`);
  });
}

async function suggest(wrong: string, choices: string[]): Promise<string> {
  const { didYouMean } = await import('./inventory/load.js');
  const best = didYouMean(wrong, choices);
  return best ? ` (did you mean ${JSON.stringify(best)}?)` : '';
}

/** Whether the command line asks for JSON: then even a refusal or the help is a JSON document on stdout. */
export function jsonRequested(args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return false;
    if ((a === '--output' || a === '-o') && args[i + 1] === 'json') return true;
    if (a === '--output=json' || a === '-ojson' || a === '-o=json') return true;
  }
  return false;
}

const osOption = () => new Option('--os <os>', 'OS assumed for hosts without an os: field (dry run only)').choices([...OS_NAMES]);

/** --dry-run of a command that is a plan (upgrade, certs renew): its scripts, without connecting or loading SSH. */
async function dryRunPlan(file: string, o: Record<string, unknown>, io: Io, plan: (inv: Inventory) => Plan): Promise<number> {
  const [{ load }, { dryRun }] = await Promise.all([import('./commands/load.js'), import('./dry-run.js')]);
  const inv = load(file, io, { keyFiles: false });
  printDryRun(io, await dryRun(inv, { defaultOs: o.os as OsName | undefined, plan: plan(inv) }), o.output as string);
  return EXIT.ok;
}

/** The three commands a new user runs, in order: what a bare `kbootstrap` and `--help` lead with. */
export const START_HERE = `Start here:
  1. kbootstrap init inventory.yaml    answer a few questions; writes the file
  2. kbootstrap check inventory.yaml   preflight: SSH, sudo, OS, CPUs, ports
  3. kbootstrap up inventory.yaml      build the cluster; run again: no change
`;

const EXIT_CODES = `Exit codes:
  0    success (plan: nothing would change)
  1    a host or step failed
  2    bad input or usage: invalid inventory, unknown flag/host/step, bad path
  3    plan: something would change
  130  interrupted: after Ctrl-C running steps finish; a second Ctrl-C aborts
`;

/** What `kbootstrap` alone prints (to stderr, exit 2): where to start, and where the rest is. */
export function shortUsage(): string {
  return `Usage: kbootstrap COMMAND INVENTORY [options]

Turn fresh Linux machines into a kubeadm Kubernetes cluster over SSH.

${START_HERE}
kbootstrap --help lists every command; kbootstrap help COMMAND its options.
`;
}

export function buildProgram(io: Io, setCode: (c: number) => void, state: RunState, opts: { helpOut?: (s: string) => void } = {}): Command {
  // what the lifecycle commands print is mostly what hosts answered (up, plan and upgrade print through the run's Recorder)
  const hostIo = printableIo(io);
  const dryRunOut = (hosts: { host: string; script: string }[], output: string) => printDryRun(io, hosts, output);
  const program = new Command('kbootstrap')
    .description(`Turn fresh Linux machines into a kubeadm Kubernetes cluster over SSH.\n\n${START_HERE.trimEnd()}`)
    .version(process.env.npm_package_version ?? '0.1.0')
    // with --output json the help becomes part of the one JSON document (runCommand wraps it), never loose text on stdout
    .configureOutput({ writeOut: opts.helpOut ?? io.out, writeErr: io.err })
    .configureHelp({
      // wrap at the terminal's width (80 when it is not a terminal), never past 100 columns
      helpWidth: Math.min(process.stdout.columns || 80, 100),
      // the command column stays narrow enough that commander can wrap the descriptions
      // the command's name only (the usage line says INVENTORY follows): a narrow column keeps every summary on one line
      subcommandTerm: (cmd) => cmd.name(),
    })
    .usage('COMMAND INVENTORY [options]')
    .showHelpAfterError('(run kbootstrap --help for usage)')
    .helpCommand(false)
    .addHelpText('after', `
Options of a command: kbootstrap help COMMAND. "-" is standard input for
validate, standard output for init --defaults.

${EXIT_CODES}`)
    .exitOverride();

  /** up, plan and upgrade; --os only where there is a dry run, --verify-timeout only where verify runs (up). */
  const runOptions = (cmd: Command, has: { dryRun?: boolean; verify?: boolean; select?: boolean }) => {
    if (has.select !== false) {
      cmd.option('--only <hosts>', 'limit the run to these hosts (comma-separated names)', list)
        .option('--steps <ids>', 'run only these steps (comma-separated ids)', list)
        .option('--skip-steps <ids>', 'skip these steps (comma-separated ids)', list);
    } else {
      // not listed (they do nothing here), but refused in words by the command rather than as unknown
      cmd.addOption(new Option('--only <hosts>').hideHelp())
        .addOption(new Option('--steps <ids>').hideHelp())
        .addOption(new Option('--skip-steps <ids>').hideHelp());
    }
    cmd.option('--concurrency <n>', 'hosts worked on at once', positiveInt, 10)
      .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts (like ssh -o StrictHostKeyChecking=accept-new)')
      .option('--ssh-config <file>', 'OpenSSH client configuration to read (default: ssh.configFile, else ~/.ssh/config; none: ignore it)')
      .addOption(outputOption())
      .option('--verbose', 'one plain line per event, each prefixed with the host name; where each SSH setting came from (stderr)')
      .option('--quiet', 'print only failures and the summary of a failed run')
      .option('--command-timeout <duration>', 'limit for each remote command without its own (600, 90s, 10m)', timeLimit, DEFAULTS.commandTimeoutSeconds);
    if (has.verify) cmd.option('--verify-timeout <duration>', 'how long verify waits for nodes and kube-system pods (300, 5m, 1h)', timeLimit, DEFAULTS.verifyTimeoutSeconds);
    if (has.dryRun) cmd.addOption(osOption());
    return cmd;
  };

  runOptions(program.command('up')
    .summary('bring every host to the state the inventory describes')
    .description('bring every host to the state the inventory describes (a second run changes nothing)')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--dry-run', 'print, per host, the checks and commands that would run; connect to nothing')
    .option('--force', 'go ahead with a change kbootstrap otherwise refuses (a changed kube-vip VIP; its message says what to redo)')
    .option('--bundle <file>', 'install from a bundle (kbootstrap bundle) instead of the internet: checked whole against the inventory before any host changes; with --dry-run, shows where each artifact comes from'), { dryRun: true, verify: true })
    .action(async (file: string, o) => {
      if (o.bundle) {
        // the whole bundle is read and matched before anything connects: a damaged or foreign one changes no host
        const [{ load }, { prepareBundleRun, withBundle }, { dryRun }, { filterFrom }] = await Promise.all([
          import('./commands/load.js'), import('./bundle/run.js'), import('./dry-run.js'), import('./plan.js')]);
        const inv = load(file, io, { keyFiles: false });
        // a real run leaves out the images a private registry already holds (bundle --push): the hosts pull those
        const registryAuth = o.dryRun ? undefined : (await import('./run/registry-auth.js')).readRegistryAuth(inv, process.env).auth;
        const { bundle, notes } = await prepareBundleRun(o.bundle as string, inv, { registryAuth });
        if (!o.dryRun) {
          if (o.os) throw new UsageError('up: --os is for --dry-run: a real run reads each host\'s OS from the host');
          // the file was read and matched above; the run's own load attaches it to the inventory it uses
          const { runOverSsh } = await import('./commands/up.js');
          setCode(await runOverSsh(state, file, { verifyTimeout: DEFAULTS.verifyTimeoutSeconds, ...o }, 'apply', io, { inventory: async (loaded) => withBundle(loaded, bundle) }));
          return;
        }
        dryRunOut(await dryRun(withBundle(inv, bundle), { defaultOs: o.os as OsName | undefined, filter: filterFrom(o), notes }), o.output as string);
        setCode(EXIT.ok);
        return;
      }
      if (o.dryRun) {
        const [{ load }, { dryRun }, { filterFrom }] = await Promise.all([import('./commands/load.js'), import('./dry-run.js'), import('./plan.js')]);
        const inv = load(file, io, { keyFiles: false });
        dryRunOut(await dryRun(inv, { defaultOs: o.os as OsName | undefined, filter: filterFrom(o) }), o.output as string);
        setCode(EXIT.ok);
        return;
      }
      if (o.os) throw new UsageError('up: --os is for --dry-run: a real run reads each host\'s OS from the host');
      const { runOverSsh } = await import('./commands/up.js');
      setCode(await runOverSsh(state, file, { verifyTimeout: DEFAULTS.verifyTimeoutSeconds, ...o }, 'apply', io));
    });

  runOptions(program.command('plan')
    .summary('run only the checks: what is done, what would change (exit 3)')
    .description('connect and run only the checks: what is done and what would change, and why (exit 3 when something would)')
    .argument('<inventory>', 'inventory file (YAML)'), {})
    .action(async (file: string, o) => {
      const { runOverSsh } = await import('./commands/up.js');
      setCode(await runOverSsh(state, file, { verifyTimeout: DEFAULTS.verifyTimeoutSeconds, ...o }, 'plan', io));
    });

  runOptions(program.command('upgrade')
    .summary('upgrade the cluster to the inventory\'s kubernetesVersion')
    .description('upgrade a running cluster to the inventory\'s kubernetesVersion (one minor at a time): kubeadm upgrade apply on the first control plane, then every node drained in turn')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--max-unavailable <n>', 'workers upgraded (drained) at once', positiveInt, 1)
    .option('--bundle <file>', 'take the target version\'s packages and images from a bundle (kbootstrap bundle) instead of the internet: refused before any host changes when it is for another version')
    .option('--dry-run', 'print, per host, the upgrade\'s checks and commands; connect to nothing'), { dryRun: true, select: false })
    .action(async (file: string, o) => {
      for (const f of ['only', 'steps', 'skipSteps'] as const) {
        if (o[f]) throw new UsageError(`upgrade: --${f.replace('S', '-s')} does not apply: an upgrade moves every node, in kubeadm's order`);
      }
      const { buildUpgradePlan } = await import('./plan.js');
      if (o.bundle) {
        // as for up: the whole bundle is read and matched (the target version first) before anything connects
        const [{ load }, { prepareBundleRun, withBundle }] = await Promise.all([import('./commands/load.js'), import('./bundle/run.js')]);
        const loaded = load(file, io, { keyFiles: false });
        const registryAuth = o.dryRun ? undefined : (await import('./run/registry-auth.js')).readRegistryAuth(loaded, process.env).auth;
        const { bundle, notes } = await prepareBundleRun(o.bundle as string, loaded, { registryAuth });
        if (o.dryRun) {
          const { dryRun } = await import('./dry-run.js');
          const inv = withBundle(load(file, io, { keyFiles: false }), bundle);
          printDryRun(io, await dryRun(inv, { defaultOs: o.os as OsName | undefined, plan: buildUpgradePlan(inv), notes }), o.output as string);
          setCode(EXIT.ok);
          return;
        }
        const { planCommand } = await import('./commands/up.js');
        setCode(await planCommand(state, file, o, io, buildUpgradePlan, 'upgrade', (inv, running) => upgradeQuestion(inv, o.maxUnavailable as number, running), undefined,
          async (loaded) => withBundle(loaded, bundle)));
        return;
      }
      if (o.dryRun) { setCode(await dryRunPlan(file, o, io, buildUpgradePlan)); return; }
      const { planCommand } = await import('./commands/up.js');
      setCode(await planCommand(state, file, o, io, buildUpgradePlan, 'upgrade', (inv, running) => upgradeQuestion(inv, o.maxUnavailable as number, running)));
    });

  // backup and restore: plans on the Runner (src/commands/etcd-cli.ts registers them, etcd.ts loads when one runs)
  const planDeps = {
    io, setCode,
    run: async (file: string, o: PlanRunFlags, mode: 'apply', runIo: Io, extras: PlanRunExtras) => (await import('./commands/up.js')).runOverSsh(state, file, o as unknown as RunFlags, mode, runIo, extras),
    confirm: async (message: string) => {
      if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
      return (await import('./commands/connected.js')).terminalConfirm(message);
    },
  };
  registerEtcdCommands(program, planDeps, runOptions);

  // offline: the bundle (src/commands/bundle.ts)
  registerBundleCommand(program, { io, setCode });

  program.command('render')
    .summary('the dry-run scripts, one file per host (--dir DIR) or stdout')
    .description('write the dry-run script of every host to DIR/<host>.sh (or print them)')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--dir <dir>', 'directory to write <host>.sh files into (- for standard output)')
    .addOption(outputOption('to write the scripts into a directory use --dir DIR'))
    .addOption(osOption())
    .action(async (file: string, o) => {
      const [{ load }, { dryRun }, { makeDirs, writeFileSafely }, { join }, { plural }] = await Promise.all([
        import('./commands/load.js'), import('./dry-run.js'), import('./local-file.js'), import('node:path'), import('./report.js')]);
      const inv = load(file, io, { keyFiles: false });
      const hosts = await dryRun(inv, { defaultOs: o.os as OsName | undefined });
      if (o.dir && o.dir !== '-') {
        makeDirs(o.dir);
        const files = hosts.map((h) => {
          const path = join(o.dir, `${h.host}.sh`);
          writeFileSafely(path, h.script, { mode: 0o755 });
          return path;
        });
        if (o.output === 'json') io.out(JSON.stringify({ dir: o.dir, files }, null, 2) + '\n');
        io.err(`wrote ${plural(hosts.length, 'script')} to ${o.dir}\n`);
      } else dryRunOut(hosts, o.output as string);
      setCode(EXIT.ok);
    });

  const sshOptions = (cmd: Command, outputHint?: string) => cmd
    .option('--accept-new-host-keys', 'trust and record host keys not yet in known_hosts')
    .option('--ssh-config <file>', 'OpenSSH client configuration to read (default: ssh.configFile, else ~/.ssh/config; none: ignore it)')
    .addOption(outputOption(outputHint))
    .option('--verbose', 'show, per host, where each SSH setting came from (on stderr)')
    .option('--command-timeout <duration>', 'limit for each remote command (600, 90s, 10m)', timeLimit, DEFAULTS.commandTimeoutSeconds);

  sshOptions(program.command('token')
    .summary('print a fresh join command; token list, token revoke')
    .description('print a fresh join command (a secret, to stdout only); or: token list INVENTORY, token revoke INVENTORY ID')
    .argument('<inventory|list|revoke>', 'inventory file, or list / revoke followed by the inventory')
    .argument('[inventory]', 'inventory file (after list or revoke)')
    .argument('[id]', 'token id to revoke')
    .option('--ttl <duration>', 'how long the token lives (30m, 2h, 24h, or seconds); 0 never expires and needs --force', '2h')
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

  // reset: a plan on the Runner (src/commands/reset-cli.ts registers it, reset.ts loads when it runs)
  registerResetCommand(program, planDeps, runOptions);

  sshOptions(program.command('kubeconfig')
    .summary('fetch the admin kubeconfig (to stdout, --file FILE or --merge)')
    .description('fetch the admin kubeconfig, pointed at controlPlaneEndpoint and named after the cluster')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--file <file>', 'write it to FILE (mode 0600)')
    .option('--merge', 'merge it into $KUBECONFIG or ~/.kube/config, keeping the other contexts'), 'to write the kubeconfig to a file use --file FILE')
    .action(async (file: string, o) => {
      if (o.file && o.merge) throw new UsageError('kubeconfig: give --file FILE or --merge, not both');
      const [{ load }, { sessionRun, terminalPrompt }, { kubeconfig }] = await Promise.all([import('./commands/load.js'), import('./commands/connected.js'), import('./commands/kubeconfig.js')]);
      setCode(await kubeconfig(load(file, io), { ...o, run: sessionRun(state, 'kubeconfig', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  sshOptions(program.command('status')
    .summary('per host and per node: reachable, versions, joined, Ready')
    .description('per host: reachable, OS, runtime and versions, joined, node Ready; the cluster\'s nodes against the inventory')
    .argument('<inventory>', 'inventory file (YAML)'))
    .action(async (file: string, o) => {
      const [{ load }, { sessionRun, terminalPrompt }, { status }] = await Promise.all([import('./commands/load.js'), import('./commands/connected.js'), import('./commands/status.js')]);
      setCode(await status(load(file, io), { ...o, run: sessionRun(state, 'status', 'observe', io) }, hostIo, await terminalPrompt()));
    });

  sshOptions(program.command('check')
    .summary('preflight before up (read-only): a pass/warn/fail table')
    .description('preflight before up (read-only): reachability, sudo, OS, CPUs and memory, unique product_uuid/MAC/hostname, ports, clocks, API port reachability')
    .argument('<inventory>', 'inventory file (YAML)'))
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
      return kubeconfig(inv, { ...o, output: undefined, merge: true, run: sessionRun(state, 'kubeconfig', 'observe', io) },
        o.output === 'json' ? { ...hostIo, out: hostIo.err } : hostIo, await terminalPrompt());
    },
  });

  program.command('init')
    .summary('write a new inventory: a wizard, or an example with --defaults')
    .description('write a new inventory: a guided wizard, or a commented example with --defaults')
    .argument('[file]', 'where to write it (- for standard output, with --defaults)', 'inventory.yaml')
    .option('--defaults', 'write a commented example without asking')
    .option('--force', 'overwrite an existing file')
    .addOption(outputOption())
    .action(async (file: string, o) => {
      if (o.output === 'json' && !o.defaults) throw new UsageError('init: the wizard talks on the terminal; --output json goes with --defaults');
      const { init, inquirerPrompter } = await import('./commands/init.js');
      const prompter = process.stdin.isTTY && process.stdout.isTTY ? await inquirerPrompter() : undefined;
      setCode(await init(file, o, io, prompter));
    });

  program.command('validate')
    .summary('check an inventory file; exit 0 when it is valid')
    .description('check an inventory file and exit 0 when it is valid')
    .argument('<inventory>', 'inventory file (YAML), or - for standard input')
    .addOption(outputOption())
    .action(async (file: string, o) => {
      const [{ loadInventoryFile }, { plural }] = await Promise.all([import('./inventory/load.js'), import('./report.js')]);
      const { inventory: inv, warnings } = loadInventoryFile(file, { keyFiles: true });
      for (const w of warnings) errLine(io, formatProblem(w));
      const name = file === '-' ? '<stdin>' : file;
      if (o.output === 'json') {
        io.out(JSON.stringify({ file: name, valid: true, hosts: inv.hosts.length, kubernetesVersion: inv.cluster.kubernetesVersion, warnings: warnings.map(formatProblem) }, null, 2) + '\n');
      } else io.out(`${name}: valid (${plural(inv.hosts.length, 'host')}, Kubernetes ${inv.cluster.kubernetesVersion})\n`);
      setCode(EXIT.ok);
    });

  program.command('completion')
    .summary('shell completion: source <(kbootstrap completion bash)')
    .description('print the completion script for bash, zsh or fish: commands, options, step ids and the hosts of the inventory on the line')
    .argument('<shell>', 'bash, zsh or fish')
    .addOption(outputOption())
    .addHelpText('after', `
  bash:  source <(kbootstrap completion bash)        (or in ~/.bashrc)
  zsh:   source <(kbootstrap completion zsh)         (after compinit)
  fish:  kbootstrap completion fish | source
`)
    .action(async (shell: string, o) => {
      const { completionScript } = await import('./completion.js');
      const script = completionScript(shell);
      io.out(o.output === 'json' ? JSON.stringify({ shell, script }, null, 2) + '\n' : script);
      setCode(EXIT.ok);
    });

  // what the shells' completion functions call: the candidates for the word being typed, one a line
  program.command('__complete', { hidden: true })
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[words...]')
    .action(async (words: string[]) => {
      const { complete } = await import('./completion.js');
      io.out(complete(program, words).join('\n') + '\n');
      setCode(EXIT.ok);
    });

  program.command('help')
    .summary('a command\'s options: help COMMAND')
    .description('show the help of a command')
    .argument('[command]')
    .action(async (name?: string) => {
      if (!name) { program.outputHelp(); setCode(EXIT.ok); return; }
      const cmd = program.commands.find((c) => c.name() === name && name !== '__complete');
      if (!cmd) throw new UsageError(`help: no command ${JSON.stringify(name)}${await suggest(name, program.commands.map((c) => c.name()).filter((c) => !c.startsWith('__')))}; kbootstrap --help lists them`);
      cmd.outputHelp();
      setCode(EXIT.ok);
    });

  program.command('versions')
    .summary('the versions table: Kubernetes minors, add-ons, OS releases')
    .description('the versions table: supported Kubernetes minors, add-on releases and OS releases kbootstrap knows, with sources')
    .addOption(outputOption())
    .action(async (o: { output: string }) => {
      const { matrixJson, matrixText } = await import('./versions/matrix.js');
      io.out(o.output === 'json' ? JSON.stringify(matrixJson(), null, 2) + '\n' : matrixText());
      setCode(EXIT.ok);
    });

  return program;
}

/** The confirmation question: the version and every host, in the order they are upgraded. */
export function upgradeQuestion(inv: Inventory, maxUnavailable: number, running?: string): string {
  const cps = inv.hosts.filter((h) => h.role === 'control-plane');
  const workers = inv.hosts.filter((h) => h.role === 'worker');
  const names = (hs: HostSpec[]) => hs.map((h) => `${h.name} (${h.address})`).join(', ');
  return `${running ? `${running[0]!.toUpperCase()}${running.slice(1)}. ` : ''}Upgrade cluster ${inv.cluster.name} to Kubernetes ${inv.cluster.kubernetesVersion} (the preflight refuses anything but the next minor or a newer patch)? `
    + `Control planes one at a time: ${names(cps)}${workers.length ? `; then workers, ${maxUnavailable} at a time, each drained first: ${names(workers)}` : ''}.`;
}

export async function main(argv: string[], io: Io = defaultIo): Promise<number> {
  const state: RunState = { argv: argv.slice(2) };
  const code = await runCommand(argv, io, state);
  // (the command opened it, if it connected anywhere)
  const log = state.log;
  if (log) {
    log.close(`exit ${code}`);
    // plan's 3 says something would change: not a failure
    if (code !== EXIT.ok && code !== EXIT.changes && log.used) errLine(io, `kbootstrap: the log of this run: ${log.path}`);
  }
  return code;
}

async function runCommand(argv: string[], realIo: Io, state: RunState): Promise<number> {
  let code: number = EXIT.ok;
  const json = jsonRequested(argv.slice(2));
  // with --output json, stdout carries exactly one JSON document: the command's, or else one made here
  let wroteOut = false;
  const io: Io = { ...realIo, out: (s) => { wroteOut = true; realIo.out(s); } };
  const captured: string[] = [];
  const program = buildProgram(io, (c) => { code = c; }, state, json ? { helpOut: (s) => captured.push(s) } : {});
  const fail = (message: string, exitCode: number): number => {
    if (json && !wroteOut) io.out(jsonError(message, exitCode));
    return exitCode;
  };
  if (argv.length <= 2) {
    // no command is a usage error like any other: where to start goes to stderr, exit 2
    io.err(shortUsage());
    return EXIT.usage;
  }
  try {
    await program.parseAsync(argv);
    if (json && !wroteOut && captured.length) io.out(JSON.stringify({ help: captured.join('') }, null, 2) + '\n');
    return code;
  } catch (e) {
    // inquirer rejects with ExitPromptError on Ctrl-C or Ctrl-D at a prompt
    if (e instanceof Error && (e.name === 'ExitPromptError' || e.name === 'AbortPromptError')) {
      io.err('\nkbootstrap: interrupted\n');
      return fail('interrupted', EXIT.interrupted);
    }
    if (e instanceof CommanderError) {
      if (e.code === 'commander.version') {
        if (json && !wroteOut) io.out(JSON.stringify({ version: captured.join('').trim() }, null, 2) + '\n');
        return EXIT.ok;
      }
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') {
        if (json && !wroteOut) io.out(JSON.stringify({ help: captured.join('') }, null, 2) + '\n');
        return EXIT.ok;
      }
      return fail(e.message.replace(/^error: /, ''), EXIT.usage);
    }
    if (e instanceof InventoryError) {
      for (const p of e.problems) errLine(io, formatProblem(p));
      if (json && !wroteOut) {
        io.out(JSON.stringify({ error: { message: 'invalid inventory', exitCode: EXIT.usage, problems: e.problems.filter((p) => p.severity === 'error') } }, null, 2) + '\n');
      }
      return EXIT.usage;
    }
    if (e instanceof KbError) {
      // an error can quote a host (stderr, a node name): printable, like everything else a host says
      errLine(io, `kbootstrap: ${printable(e.message)}`);
      return fail(printable(e.message), e.exitCode);
    }
    throw e;
  }
}
