/**
 * kbootstrap certs check / certs renew. `check` reads every host's
 * certificates (read-only, the same snippet and parser as status and check);
 * `renew` is a plan of steps on the Runner (src/steps/certs.ts), like up and
 * upgrade: dry run, JSON, progress, resume.
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { Inventory } from '../inventory/model.js';
import { Session, type SessionFlags } from '../session.js';
import { EXIT, UsageError } from '../errors.js';
import { readCerts } from '../steps/certs.js';
import { certState, certVerdict, DAY_MS, parseCerts, parseDurationFlag, residual, WARN_DAYS, type CertFacts } from '../kube/certs.js';
import type { Io } from '../io.js';
import { table } from '../table.js';
import type { Prompt } from '../ssh/credentials.js';
import { buildCertsRenewPlan, type Plan } from '../plan.js';
import type { RunResult } from '../runner.js';

export interface CertsCheckFlags extends SessionFlags { output?: 'text' | 'json' }

interface HostCerts {
  host: string;
  role: string;
  reachable: boolean;
  error?: string;
  facts?: CertFacts;
}

export async function certsCheck(inv: Inventory, o: CertsCheckFlags, io: Io, prompt?: Prompt): Promise<number> {
  const s = await Session.open(inv, o, prompt);
  const hosts: HostCerts[] = [];
  try {
    await s.connect(inv.hosts);
    await Promise.all(inv.hosts.map(async (spec) => {
      const h = s.host(spec.name);
      if (!h) { hosts.push({ host: spec.name, role: spec.role, reachable: false, error: s.error(spec.name) }); return; }
      const r = await h.exec(readCerts(spec.role === 'control-plane'), { step: 'certs', mutates: false, allowFailure: true });
      hosts.push({ host: spec.name, role: spec.role, reachable: true, facts: parseCerts(r.stdout) });
    }));
  } finally {
    await s.close();
  }
  hosts.sort((a, b) => inv.hosts.findIndex((h) => h.name === a.host) - inv.hosts.findIndex((h) => h.name === b.host));
  const verdicts = hosts.map((h) => (h.facts ? certVerdict(h.facts, h.role === 'control-plane') : { verdict: 'fail' as const, detail: `unreachable: ${h.error}` }));
  const failed = verdicts.some((v) => v.verdict === 'fail');
  const warnings = hosts.flatMap((h, i) => (verdicts[i]!.verdict === 'warn' ? [`${h.host}: ${verdicts[i]!.detail}`] : []));
  const rotation = hosts.filter((h) => h.facts?.kubeletRotation);
  const notRotating = rotation.filter((h) => !(h.facts!.kubeletRotation!.file && h.facts!.kubeletRotation!.enabled)).map((h) => h.host);
  if (o.output === 'json') {
    io.out(JSON.stringify({
      hosts: hosts.map((h) => ({
        host: h.host, reachable: h.reachable, ...(h.error ? { error: h.error } : {}),
        ...(h.facts ? {
          certificates: h.facts.certs.map((c) => ({ name: c.name, kind: c.kind, ...(c.missing ? { missing: true } : { expires: c.expires, residual: residual(c.residualMs!), residualSeconds: Math.floor(c.residualMs! / 1000) }), state: certState(c) })),
          ...(h.facts.kubeletRotation ? { kubeletRotation: h.facts.kubeletRotation.file && h.facts.kubeletRotation.enabled } : {}),
        } : {}),
      })),
      warnings,
      failed,
    }, null, 2) + '\n');
    return failed ? EXIT.failed : EXIT.ok;
  }
  const rows: string[][] = [['HOST', 'CERTIFICATE', 'EXPIRES', 'RESIDUAL TIME', 'STATE']];
  for (const h of hosts) {
    if (!h.facts) { rows.push([h.host, `unreachable: ${h.error?.replace(`${h.host}: `, '') ?? ''}`, '', '', '']); continue; }
    if (h.facts.noOpenssl) { rows.push([h.host, 'openssl is not installed: nothing read', '', '', '']); continue; }
    for (const c of h.facts.certs) {
      const when = c.expires ? `${c.expires.slice(0, 10)} ${c.expires.slice(11, 16)} UTC` : '-';
      rows.push([h.host, c.kind === 'ca' ? `${c.name} (CA)` : c.name, when, c.missing ? 'missing' : residual(c.residualMs!), certState(c)]);
    }
  }
  io.out(table(rows));
  io.out(`\nKubelet client certificates rotate themselves: the kubelet asks for a new one before the old one runs out. ${notRotating.length ? `Rotation is NOT on for: ${notRotating.join(', ')}` : `Rotation is on for every joined node (${rotation.length}).`}\n`);
  for (const w of warnings) io.err(`kbootstrap: warning: ${w}\n`);
  const bad = hosts.flatMap((h, i) => (verdicts[i]!.verdict === 'fail' ? [`${h.host}: ${verdicts[i]!.detail}`] : []));
  if (bad.length) io.out(`\n${bad.join('\n')}\n`);
  return failed ? EXIT.failed : EXIT.ok;
}

/** certs renew's summary line: which control planes were renewed now, which were fresh, which were not reached. */
export function renewSummary(inv: Inventory, result: RunResult): string {
  const of = (status: string) => result.outcomes.filter((x) => x.step === 'certs-renew' && x.status === status).map((x) => x.host);
  const renewed = of('changed');
  const fresh = of('ok');
  const not = inv.hosts.filter((h) => h.role === 'control-plane' && !renewed.includes(h.name) && !fresh.includes(h.name)).map((h) => h.name);
  return `certificates renewed on: ${renewed.join(', ') || 'none'}`
    + (fresh.length ? `; already fresh: ${fresh.join(', ')}` : '')
    + (not.length ? `; not renewed: ${not.join(', ')}` : '') + '\n';
}

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
  load: (file: string, opts?: { keyFiles: boolean }) => Inventory;
  session: (command: string) => SessionFlags['run'];
  prompt: () => Promise<Prompt | undefined>;
  runOptions: (cmd: Command) => Command;
  sshOptions: (cmd: Command) => Command;
  /** the upgrade-style run: dry run, confirmation, the Runner; returns the exit code */
  run: (file: string, o: Record<string, unknown>, plan: (inv: Inventory) => Plan, command: string, question: (inv: Inventory) => string, after: (inv: Inventory, result: RunResult, code: number) => Promise<number>) => Promise<number>;
  kubeconfigMerge: (inv: Inventory, o: Record<string, unknown>) => Promise<number>;
}

/** `certs check` and `certs renew`, under the program (made with .command() so they inherit its error handling and output). */
export function certsCommand(program: Command, cli: CertsCli): Command {
  const certs = program.command('certs').description('kubeadm\'s certificates: certs check INVENTORY (expiry of every one), certs renew INVENTORY (renew, control planes one at a time)');
  cli.sshOptions(certs.command('check')
    .description('every kubeadm certificate, kubeconfig and CA per control plane, and each node\'s kubelet client certificate: expiry and time left (read-only)')
    .argument('<inventory>', 'inventory file (YAML)')
    .addOption(new Option('--output <format>', 'text or json').choices(['text', 'json']).default('text')))
    .action(async (file: string, o) => {
      cli.setCode(await certsCheck(cli.load(file), { ...o, run: cli.session('certs check') }, cli.hostIo, await cli.prompt()));
    });
  cli.runOptions(certs.command('renew')
    .description('kubeadm certs renew all on each control plane in turn, each followed by its static Pods\' restart (the VIP handed over first with kube-vip); then admin.conf for the SSH user. Renews only what has less than --min-remaining left')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--min-remaining <duration>', `renew when a certificate has less than this left (${WARN_DAYS}d, 720h, 90m)`, minRemaining, WARN_DAYS * DAY_MS)
    .option('--merge', 'afterwards, merge the renewed admin kubeconfig into $KUBECONFIG or ~/.kube/config')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--dry-run', 'print, per host, the checks and commands; connect to nothing'))
    .action(async (file: string, o) => {
      for (const f of ['only', 'steps', 'skipSteps'] as const) {
        if (o[f]) throw new UsageError(`certs renew: --${f.replace('S', '-s')} does not apply: every control plane is renewed, one at a time`);
      }
      const min = o.minRemaining as number;
      const question = (inv: Inventory) => `Renew the certificates of cluster ${inv.cluster.name} that have less than ${residual(min)} left, restarting each control plane's static Pods in turn (${inv.hosts.filter((h) => h.role === 'control-plane').map((h) => h.name).join(', ')})?`;
      cli.setCode(await cli.run(file, o, (inv) => buildCertsRenewPlan(inv, min), 'certs renew', question, async (inv, result, code) => {
        if (o.output !== 'json') cli.io.out(renewSummary(inv, result));
        if (code === EXIT.ok && o.merge) return cli.kubeconfigMerge(inv, o);
        return code;
      }));
    });
  return certs;
}
