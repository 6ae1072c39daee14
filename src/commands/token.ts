/**
 * kbootstrap token: the one command that prints a secret, and only when
 * asked, only to stdout. `token` (create) and `token revoke` change the
 * cluster: plans on the Runner like up (dry run, JSON, the progress view,
 * the run lock), each its own phase and step (src/steps/token-*.ts), acting
 * through the first control plane the cluster answers through. `token list`
 * only reads (ids, never secrets): src/host/read-facts.ts.
 */
import type { Inventory } from '../inventory/model.js';
import type { SessionFlags } from '../session.js';
import { KbError, UsageError, EXIT } from '../errors.js';
import { goDuration, parseDuration } from '../duration.js';
import { bootstrapTokens } from '../host/fact.js';
import { readFacts } from '../host/read-facts.js';
import type { Io } from '../io.js';
import { table } from '../table.js';
import type { Prompt } from '../ssh/credentials.js';
import { buildPlan, type Plan } from '../plan.js';
import type { PhaseDef } from '../phases.js';
import type { OsName } from '../inventory/schema.js';
import { dryRun } from '../dry-run.js';
import { tokenCreateStep, type TokenSink } from '../steps/token-create.js';
import { tokenRevokeStep } from '../steps/token-revoke.js';
import { throughControlPlanes } from '../steps/through-control-plane.js';
import { printDryRun, noFilters, type PlanCommandDeps, type RunFlags } from './plan-io.js';
import { load } from './load.js';

export interface TokenFlags { ttl: string; controlPlane?: boolean; force?: boolean }

export function checkTtl(ttl: string, force: boolean | undefined): number {
  const seconds = parseDuration(ttl);
  if (seconds === undefined) throw new UsageError(`--ttl ${JSON.stringify(ttl)}: expected a duration like 30m, 2h or 24h, or seconds`);
  if (seconds === 0 && !force) throw new UsageError('--ttl 0 makes a token that never expires: anyone who ever sees it can join nodes forever. Pass --force if you mean it');
  return seconds;
}

const controlPlaneNames = (inv: Inventory) => inv.hosts.filter((h) => h.role === 'control-plane').map((h) => h.name);

/** The phase of `token` and of `token revoke`: the control planes asked in turn, the first the cluster answers through acting. */
const throughPhase = (id: string, title: string): PhaseDef => ({
  id, title, mode: 'serial', hosts: (inv) => inv.hosts.filter((h) => h.role === 'control-plane'), clusterWide: true, ignoresOnly: true,
});

export const TOKEN_CREATE_PHASES: readonly PhaseDef[] = [throughPhase('token-create', 'Make a join command through the first control plane the cluster answers through')];
export const TOKEN_REVOKE_PHASES: readonly PhaseDef[] = [throughPhase('token-revoke', 'Revoke the token through the first control plane the cluster answers through')];

/** The plan of `kbootstrap token`: what it makes goes to SINK. */
export function buildTokenCreatePlan(inv: Inventory, o: TokenFlags, sink: TokenSink): Plan {
  checkTtl(o.ttl, o.force);
  const step = tokenCreateStep({ ttl: goDuration(o.ttl), controlPlane: Boolean(o.controlPlane) }, throughControlPlanes(controlPlaneNames(inv)), sink);
  return buildPlan(inv, {}, TOKEN_CREATE_PHASES, { 'token-create': [step] });
}

/** The token id out of what the user gave (the id, or the whole token: only its id is kept). */
export function tokenIdOf(given: string): string {
  const id = given.split('.')[0]!;
  if (!/^[a-z0-9]{6}$/.test(id)) throw new UsageError(`token id ${JSON.stringify(given)}: expected the 6-character id shown by kbootstrap token list`);
  return id;
}

export function buildTokenRevokePlan(inv: Inventory, id: string): Plan {
  return buildPlan(inv, {}, TOKEN_REVOKE_PHASES, { 'token-revoke': [tokenRevokeStep(tokenIdOf(id), throughControlPlanes(controlPlaneNames(inv)))] });
}

/** What the CLI lends token and token revoke (registered by token-cli.ts). */
export type TokenCommandDeps = Pick<PlanCommandDeps, 'io' | 'setCode' | 'run'>;

async function showDryRun(d: TokenCommandDeps, file: string, o: RunFlags, plan: (inv: Inventory) => Plan): Promise<void> {
  const inv = load(file, d.io, { keyFiles: false });
  printDryRun(d.io, await dryRun(inv, { defaultOs: o.os as OsName | undefined, plan: plan(inv) }), o.output);
  d.setCode(EXIT.ok);
}

/**
 * Off a terminal the join command is what stdout is for (JOIN=$(kbootstrap token INV)):
 * the run says nothing unless it fails, as with --quiet (--verbose: its events on stderr).
 */
const quietOffTerminal = (io: Io, o: RunFlags): RunFlags => ({ ...o, quiet: o.quiet ?? (!io.isTTY && !o.verbose) });

/** kbootstrap token INVENTORY: a fresh join command on stdout, and nowhere else. */
export async function tokenCreateCommand(d: TokenCommandDeps, file: string, o: RunFlags & TokenFlags): Promise<void> {
  const { io } = d;
  noFilters('token', o);
  checkTtl(o.ttl, o.force);
  if (o.dryRun) { await showDryRun(d, file, o, (inv) => buildTokenCreatePlan(inv, o, {})); return; }
  if (o.os) throw new UsageError('token: --os is for --dry-run: a real run reads each host\'s OS from the host');
  const sink: TokenSink = {};
  const made = () => ({ ttl: o.ttl, controlPlane: Boolean(o.controlPlane), ...(sink.made ? { joinCommand: sink.made.joinCommand, madeThrough: sink.made.host } : {}) });
  d.setCode(await d.run(file, quietOffTerminal(io, o), 'apply', io, {
    plan: (inv) => buildTokenCreatePlan(inv, o, sink), command: 'token', productOnStdout: true, json: made,
    after: async (inv, _result, code) => {
      if (!sink.made || o.output === 'json') return code;
      if (io.isTTY) io.err(`warning: this join command is a secret: whoever has it can join ${o.controlPlane ? 'control planes' : 'nodes'} to ${inv.cluster.name} until it expires (${o.ttl === '0' ? 'never' : o.ttl}${o.controlPlane ? '; the certificate key for 2h' : ''})\n`);
      io.out(`${sink.made.joinCommand}\n`);
      return code;
    },
  }));
}

/** kbootstrap token revoke INVENTORY ID: a second revoke changes nothing. */
export async function tokenRevokeCommand(d: TokenCommandDeps, file: string, given: string, o: RunFlags): Promise<void> {
  const { io } = d;
  noFilters('token revoke', o);
  const id = tokenIdOf(given);
  if (o.dryRun) { await showDryRun(d, file, o, (inv) => buildTokenRevokePlan(inv, id)); return; }
  if (o.os) throw new UsageError('token revoke: --os is for --dry-run: a real run reads each host\'s OS from the host');
  const revokedNow = (outcomes: { step: string; status: string }[]) => outcomes.some((x) => x.step === 'token-revoke' && x.status === 'changed');
  d.setCode(await d.run(file, quietOffTerminal(io, o), 'apply', io, {
    plan: (inv) => buildTokenRevokePlan(inv, id), command: 'token revoke', productOnStdout: true,
    json: (result) => ({ token: id, revoked: revokedNow(result.outcomes) }),
    after: async (_inv, result, code) => {
      if (code !== EXIT.ok || o.output === 'json') return code;
      io.out(revokedNow(result.outcomes) ? `token ${id} revoked\n` : `token ${id} is not on the cluster (revoked before, or expired): nothing to revoke\n`);
      return code;
    },
  }));
}

/** kbootstrap token list INVENTORY: ids, lifetimes and descriptions, never a secret (read through the first control plane that answers). */
export async function tokenList(inv: Inventory, o: SessionFlags & { output?: 'text' | 'json' }, io: Io, prompt?: Prompt): Promise<number> {
  const cps = inv.hosts.filter((h) => h.role === 'control-plane');
  const read = await readFacts(inv, o, prompt, { hosts: cps, firstAnswering: true, step: 'token list', facts: () => ({ listed: bootstrapTokens }) });
  const through = read.find((r) => r.values);
  if (!through?.values) {
    throw new KbError(`token list: no control plane with a running cluster:\n  ${read.map((r) => `${r.host}: ${r.error ?? r.answers?.why ?? 'not asked'}`).join('\n  ')}`);
  }
  const { listed } = through.values;
  if (listed.error) throw new KbError(`token list: ${through.host}: kubeadm token list: ${listed.error}`);
  if (o.output === 'json') io.out(JSON.stringify({ tokens: listed.tokens }, null, 2) + '\n');
  else io.out(table([['ID', 'TTL', 'EXPIRES', 'DESCRIPTION'], ...listed.tokens.map((t) => [t.id, t.ttl, t.expires, t.description])]));
  return EXIT.ok;
}
