/**
 * The `certs check` and `certs renew` commands as the CLI registers them: only
 * commander and the certificate facts load with --help; the commands' code
 * (src/commands/certs.ts, the plan, SSH) loads when one of them runs.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { Inventory } from '../inventory/model.js';
import type { SessionFlags } from '../session.js';
import { EXIT, UsageError } from '../errors.js';
import { DAY_MS, parseDurationFlag, residual, WARN_DAYS } from '../kube/certs.js';
import type { Io } from '../io.js';
import type { Prompt } from '../ssh/credentials.js';
import type { Plan } from '../plan.js';
import type { RunResult } from '../runner.js';

function minRemaining(v: string): number {
  const ms = parseDurationFlag(v);
  if (ms === undefined || ms <= 0) throw new InvalidArgumentError('expected a duration like 30d, 720h or 90m');
  if (ms > 365 * DAY_MS) throw new InvalidArgumentError('more than 365d would renew certificates kubeadm has just made');
  return ms;
}

/** What the CLI lends the certs commands (src/cli.ts keeps them). */
export interface CertsCli {
  io: Io;
  hostIo: Io;
  setCode: (c: number) => void;
  load: (file: string, opts?: { keyFiles: boolean }) => Promise<Inventory>;
  session: (command: string) => Promise<SessionFlags['run']>;
  prompt: () => Promise<Prompt | undefined>;
  runOptions: (cmd: Command, has: { dryRun?: boolean; verify?: boolean; select?: boolean }) => Command;
  sshOptions: (cmd: Command) => Command;
  /** the upgrade-style run: dry run, confirmation, the Runner; returns the exit code */
  run: (file: string, o: Record<string, unknown>, plan: (inv: Inventory) => Plan, command: string, question: (inv: Inventory) => string, after: (inv: Inventory, result: RunResult, code: number) => Promise<number>) => Promise<number>;
  kubeconfigMerge: (inv: Inventory, o: Record<string, unknown>) => Promise<number>;
}

/** `certs check` and `certs renew`, under the program (made with .command() so they inherit its error handling and output). */
export function certsCommand(program: Command, cli: CertsCli): Command {
  const certs = program.command('certs').summary('kubeadm\'s certificates: certs check, certs renew').description('kubeadm\'s certificates: certs check INVENTORY (expiry of every one), certs renew INVENTORY (renew, control planes one at a time)');
  cli.sshOptions(certs.command('check')
    .description('every kubeadm certificate, kubeconfig and CA per control plane, and each node\'s kubelet client certificate: expiry and time left (read-only)')
    .argument('<inventory>', 'inventory file (YAML)'))
    .action(async (file: string, o) => {
      const { certsCheck } = await import('./certs.js');
      cli.setCode(await certsCheck(await cli.load(file), { ...o, run: await cli.session('certs check') }, cli.hostIo, await cli.prompt()));
    });
  cli.runOptions(certs.command('renew')
    .description('kubeadm certs renew all on each control plane in turn, each followed by its static Pods\' restart (the VIP handed over first with kube-vip); then admin.conf for the SSH user. Renews only what has less than --min-remaining left')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--min-remaining <duration>', `renew when a certificate has less than this left (${WARN_DAYS}d, 720h, 90m)`, minRemaining, WARN_DAYS * DAY_MS)
    .option('--merge', 'afterwards, merge the renewed admin kubeconfig into $KUBECONFIG or ~/.kube/config')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--dry-run', 'print, per host, the checks and commands; connect to nothing'), { dryRun: true, select: false })
    .action(async (file: string, o) => {
      for (const f of ['only', 'steps', 'skipSteps'] as const) {
        if (o[f]) throw new UsageError(`certs renew: --${f.replace('S', '-s')} does not apply: every control plane is renewed, one at a time`);
      }
      const min = o.minRemaining as number;
      const question = (inv: Inventory) => `Renew the certificates of cluster ${inv.cluster.name} that have less than ${residual(min)} left, restarting each control plane's static Pods in turn (${inv.hosts.filter((h) => h.role === 'control-plane').map((h) => h.name).join(', ')})?`;
      const { buildCertsRenewPlan } = await import('../plan.js');
      cli.setCode(await cli.run(file, o, (inv) => buildCertsRenewPlan(inv, min), 'certs renew', question, async (inv, result, code) => {
        const { renewSummary } = await import('./certs.js');
        if (o.output !== 'json') cli.io.out(renewSummary(inv, result));
        if (code === EXIT.ok && o.merge) return cli.kubeconfigMerge(inv, o);
        return code;
      }));
    });
  return certs;
}
