/**
 * kbootstrap reset: rebuild lab VMs. A plan on the Runner like up (dry run,
 * JSON, the progress view, the run lock, Ctrl-C): its own phases and steps
 * (src/steps/reset.ts). Drains and deletes each node while the cluster
 * answers, a control plane leaving etcd first (refused before any host
 * changes when etcd would lose its quorum), then undoes kubeadm on the host
 * and clears what kube-proxy and the CNI left. Confirmation names every
 * host; the last control plane goes only with --all.
 */
import type { HostSpec, Inventory } from '../inventory/model.js';
import { EXIT, UsageError } from '../errors.js';
import { buildPlan, type Plan } from '../plan.js';
import type { PhaseDef } from '../phases.js';
import { dryRun } from '../dry-run.js';
import type { OsName } from '../inventory/schema.js';
import { drainStep, etcdLeaveStep, resetHostStep, resetPreflightStep, type ResetView } from '../steps/reset.js';
import { noFilters, printDryRun, type PlanCommandDeps, type RunFlags } from './plan-io.js';
import { load } from './load.js';

export interface ResetFlags { host?: string[]; all?: boolean }

export function resetTargets(inv: Inventory, o: ResetFlags): HostSpec[] {
  if (o.all && o.host?.length) throw new UsageError('reset: give --host or --all, not both');
  if (!o.all && !o.host?.length) throw new UsageError('reset: name the hosts with --host NAME[,NAME], or --all');
  if (o.all) return inv.hosts;
  const names = new Set(inv.hosts.map((h) => h.name));
  for (const n of o.host!) if (!names.has(n)) throw new UsageError(`reset: no host named ${JSON.stringify(n)} in ${inv.file}`);
  const targets = inv.hosts.filter((h) => o.host!.includes(h.name));
  const cps = inv.hosts.filter((h) => h.role === 'control-plane');
  if (cps.every((c) => targets.includes(c))) {
    throw new UsageError(`reset: ${cps.map((c) => c.name).join(', ')} ${cps.length === 1 ? 'is the last control plane' : 'are all the control planes'}: resetting ${cps.length === 1 ? 'it' : 'them'} destroys the cluster; use --all for that`);
  }
  return targets;
}

/** The confirmation: every host by name and address, in the grammar of how many there are. */
export function resetQuestion(targets: HostSpec[], all: boolean): string {
  const them = targets.length === 1 ? 'it' : 'them';
  return `Reset ${targets.map((t) => `${t.name} (${t.address})`).join(', ')}? This runs kubeadm reset -f on ${them} and removes ${them} from the cluster${all ? '; the cluster itself is destroyed' : ''}.`;
}

/** What to run after a reset, in the grammar of how many hosts were reset. */
export function resetNext(file: string, targets: readonly HostSpec[], all: boolean): string {
  return `kbootstrap up ${file} to rebuild ${all ? 'the cluster' : `and rejoin ${targets.length === 1 ? 'it' : 'them'}`}`;
}

/**
 * The phases of reset: the preflight on the control plane that answers for the
 * cluster (a gate: it reads, and refuses before any host changes), then the
 * hosts one at a time, workers first, control planes after, that control plane
 * last: the cluster answers as long as it can.
 */
export function buildResetPlan(inv: Inventory, o: ResetFlags): Plan {
  const targets = resetTargets(inv, o);
  const cps = inv.hosts.filter((h) => h.role === 'control-plane');
  const anchor = o.all ? cps[0]! : cps.find((c) => !targets.includes(c))!;
  const view: ResetView = { targets, all: Boolean(o.all), anchor, drained: new Set() };
  const order = [...targets].sort((a, b) => (a.role === b.role ? b.index - a.index : a.role === 'worker' ? -1 : 1));
  const phases: PhaseDef[] = [
    { id: 'reset-preflight', title: 'Read the cluster and etcd before any host changes', mode: 'serial', hosts: () => [anchor], clusterWide: true, ignoresOnly: true, gate: true },
    { id: 'reset', title: 'Reset the hosts one at a time, the cluster answering as long as it can', mode: 'serial', hosts: () => order, clusterWide: true, ignoresOnly: true, lateChecks: true },
  ];
  const plan = buildPlan(inv, {}, phases, { 'reset-preflight': [resetPreflightStep(view)], reset: [etcdLeaveStep(view), drainStep(view), resetHostStep(view)] });
  return { ...plan, anchor };
}

/** What the CLI lends reset (registered by reset-cli.ts, which loads this file only when reset runs). */
export type ResetCommandDeps = Pick<PlanCommandDeps, 'io' | 'setCode' | 'run' | 'confirm'>;

/** kbootstrap reset INVENTORY (--host NAMES | --all) (registered by reset-cli.ts). */
export async function resetCommand(d: ResetCommandDeps, file: string, o: RunFlags & ResetFlags): Promise<void> {
  const { io } = d;
  noFilters('reset', o);
  if (o.dryRun) {
    const inv = load(file, io, { keyFiles: false });
    printDryRun(io, await dryRun(inv, { defaultOs: o.os as OsName | undefined, plan: buildResetPlan(inv, o) }), o.output);
    d.setCode(EXIT.ok);
    return;
  }
  if (o.os) throw new UsageError('reset: --os is for --dry-run: a real run reads each host\'s OS from the host');
  // refused before anything connects: off a terminal only --yes says yes
  if (!o.yes && !(process.stdin.isTTY && process.stderr.isTTY)) {
    resetTargets(load(file, io, { keyFiles: false }), o);
    throw new UsageError('reset: refusing without --yes: there is no terminal to confirm on');
  }
  const confirm = async (inv: Inventory) => Boolean(o.yes) || Boolean(await d.confirm(resetQuestion(resetTargets(inv, o), Boolean(o.all))));
  d.setCode(await d.run(file, o, 'apply', io, {
    plan: (inv) => buildResetPlan(inv, o), confirmFirst: confirm, command: 'reset',
    after: async (inv, _result, code) => {
      if (code === EXIT.ok && o.output !== 'json') io.out(`run ${resetNext(inv.file, resetTargets(inv, o), Boolean(o.all))}\n`);
      return code;
    },
  }));
}
