/**
 * up, plan, upgrade (and the plans that run like them) over SSH. This part
 * reads the inventory and what connecting needs, and loads only that and the
 * SSH handshake; the plan, the steps, the runner, the progress view and the
 * report load from ./up-run.ts. A plain up or plan (every host and step, no
 * question first) connects to every host of the inventory, known before any
 * plan: it starts their handshakes first and loads and makes the rest while
 * the hosts answer. Loaded only by those commands.
 */
import { UsageError } from '../errors.js';
import { firstControlPlane, type HostSpec, type Inventory } from '../inventory/model.js';
import type { Plan } from '../plan.js';
import { DEFAULTS } from '../defaults.js';
import { readRegistryAuth } from '../run/registry-auth.js';
import { applySshConfig, sshSourcesLine } from '../ssh/resolve.js';
import { resolveCredentials } from '../ssh/credentials.js';
import { sshHandshake } from '../ssh/handshake.js';
import type { Io } from '../io.js';
import { load } from './load.js';
import { terminalConfirm, terminalPrompt } from './prompt.js';
import type { RunState } from './connected.js';
import type { Reach, RunExtras, RunFlags } from './run-options.js';

export type { RunFlags } from './run-options.js';

/** OpenSSH's configuration for HOSTS and the credentials they need (asked on the terminal, when there is one). */
async function reach(inv: Inventory, hosts: HostSpec[], o: RunFlags, io: Io): Promise<Reach> {
  // OpenSSH's configuration fills in what the inventory leaves out (aliases, users, ports, keys, jump hosts)
  const resolvedHosts = applySshConfig(inv, hosts, o.sshConfig ?? inv.sshConfigFile);
  // diagnostics, like ssh -v: on stderr, so that stdout stays the report (and only JSON with --output json)
  if (o.verbose) for (const h of resolvedHosts) io.err(sshSourcesLine(h));
  const creds = await resolveCredentials(resolvedHosts, process.env, await terminalPrompt());
  return {
    resolved: new Map(resolvedHosts.map((h) => [h.name, h])),
    sshOpts: { creds, acceptNewHostKeys: Boolean(o.acceptNewHostKeys), commandTimeoutMs: o.commandTimeout * 1000, connectAttempts: DEFAULTS.connectAttempts },
  };
}

/** up, plan and upgrade over SSH. */
export async function runOverSsh(state: RunState, file: string, o: RunFlags, mode: 'apply' | 'plan', io: Io, extras: RunExtras = {}): Promise<number> {
  const inv = extras.inventory ? await extras.inventory(load(file, io)) : load(file, io);
  // the private registries' passwords, read first (a missing one stops the run before anything else) and hidden everywhere
  const registries = readRegistryAuth(inv, process.env);
  inv.registryAuth = registries.auth;
  const whole = !extras.plan && !extras.confirm && !extras.confirmFirst && !o.only?.length && !o.steps?.length && !o.skipSteps?.length;
  let early: Reach | undefined;
  if (whole) {
    // every host of the inventory (the first control plane is one), in the order the run connects to them
    const hosts = inv.hosts.includes(firstControlPlane(inv)) ? inv.hosts : [firstControlPlane(inv), ...inv.hosts];
    const r = await reach(inv, hosts, o, io);
    // as many at once as the run connects to (--concurrency), the first ones it does; a handshake that fails
    // is that host's failure when the run takes its connection
    const handshakes = new Map(hosts.slice(0, o.concurrency).map((h) => [h.name, sshHandshake(r.resolved.get(h.name) ?? h, r.sshOpts)]));
    for (const h of handshakes.values()) h.catch(() => undefined);
    early = { ...r, handshakes };
  }
  const { runPlanned } = await import('./up-run.js');
  return runPlanned(state, inv, registries, o, mode, io, extras, async (hosts) => early ?? reach(inv, hosts, o, io));
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
