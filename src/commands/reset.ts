/**
 * kbootstrap reset: rebuild lab VMs. Drains and deletes each node while the
 * cluster answers, then undoes kubeadm on the host and clears what kube-proxy
 * and the CNI left. Confirmation names every host; the last control plane
 * goes only with --all.
 */
import type { HostSpec, Inventory } from '../inventory/model.js';
import { Session, type SessionFlags } from '../session.js';
import { EXIT, KbError, UsageError } from '../errors.js';
import { render } from '../shell/templates.js';
import type { Io } from '../io.js';
import type { Prompt } from '../ssh/credentials.js';
import type { Host } from '../host/host.js';
import { plural } from '../report.js';
import { kv } from '../shell/kv.js';
import { etcdTools } from '../steps/etcd-backup.js';
import { healthyEndpoints, parseMembers, planRemoval } from '../etcd/members.js';

export interface ResetFlags extends SessionFlags { host?: string[]; all?: boolean; yes?: boolean; output?: 'text' | 'json' }
export type Confirm = (message: string) => Promise<boolean>;

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

/**
 * The etcd members of the control planes being reset (name → member id),
 * read through a control plane that stays; refused, naming them, when removing
 * them would leave etcd without a quorum of healthy members. kubeadm reset
 * removes the member itself too, but only when the host's own etcd still
 * answers; a member left behind counts against the quorum from then on.
 */
async function etcdRemovals(inv: Inventory, cp: Host, names: string[]): Promise<Map<string, string>> {
  if (!names.length) return new Map();
  const r = await cp.exec(etcdTools(inv.cluster, { ctl: true }) + render('etcd/members', {}), { step: 'reset', mutates: false, allowFailure: true, note: 'etcd members and their health' });
  const m = kv(r.stdout);
  const members = parseMembers(m.get('member') ?? []);
  if (!members.length) {
    throw new KbError(`reset: nothing was reset: cannot read etcd's members through ${cp.name} (${r.stderr.trim().split('\n').slice(-1)[0] || `exit ${r.code}`}), so removing ${names.join(', ')} from etcd cannot be checked against its quorum`);
  }
  const verdict = planRemoval(members, healthyEndpoints(m.get('health') ?? []), names);
  if (verdict.refusal) throw new KbError(`reset: nothing was reset: ${verdict.refusal}. Bring the members that are down back first`);
  return new Map(verdict.remove.map((x) => [x.name, x.id]));
}

function runtimes(inv: Inventory): string[] {
  return inv.cluster.containerRuntime === 'docker' ? ['docker', 'cri-docker'] : ['containerd'];
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

export interface ResetResult { host: string; reset: boolean; drained: boolean; error?: string }

export async function reset(inv: Inventory, o: ResetFlags, io: Io, confirm: Confirm | undefined, prompt?: Prompt): Promise<number> {
  const targets = resetTargets(inv, o);
  if (!o.yes) {
    if (!confirm) throw new UsageError('reset: refusing without --yes: there is no terminal to confirm on');
    const ok = await confirm(resetQuestion(targets, Boolean(o.all)));
    if (!ok) { io.err('reset: nothing done\n'); return EXIT.failed; }
  }
  // workers first, control planes after, the first control plane last: the cluster answers as long as it can
  const order = [...targets].sort((a, b) => (a.role === b.role ? b.index - a.index : a.role === 'worker' ? -1 : 1));
  const s = await Session.open(inv, o, prompt, inv.hosts);
  const json = o.output === 'json';
  const results: ResetResult[] = [];
  const said = (r: ResetResult) => {
    results.push(r);
    if (!json) io.out(r.reset ? `${r.host}: reset${r.drained ? ', drained and removed from the cluster' : ''}\n` : `${r.host}: failed: ${r.error}\n`);
  };
  let clusterError: string | undefined;
  try {
    // every host this may touch (the targets, and the control plane that drains them), before anything changes
    await s.connect([...order, ...inv.hosts.filter((h) => h.role === 'control-plane' && !order.includes(h))]);
    const locked = s.pool.lockedNames;
    if (locked.length) {
      for (const n of locked) io.err(`${n}: ${s.error(n)}\n`);
      throw new KbError(`reset: nothing was reset: another kbootstrap run holds the lock of ${locked.join(', ')}`, EXIT.failed);
    }
    let cp: Host | undefined;
    try {
      cp = await s.controlPlane(o.all ? [] : targets.filter((t) => t.role === 'control-plane').map((t) => t.name));
    } catch (e) {
      // every control plane's reason, not the heading of the list
      clusterError = (e as Error).message.split('\n').slice(1).map((l) => l.trim()).filter(Boolean).join('; ') || (e as Error).message;
      if (!o.all) io.err(`reset: the cluster does not answer (${clusterError}): the nodes cannot be drained or deleted from it\n`);
    }
    // a control plane leaves etcd before it is reset, and only when the members left keep a quorum: decided for all of them before any host changes
    const members = cp && !o.all ? await etcdRemovals(inv, cp, targets.filter((t) => t.role === 'control-plane').map((t) => t.name)) : new Map<string, string>();
    for (const t of order) {
      const host = s.host(t.name);
      if (!host) { said({ host: t.name, reset: false, drained: false, error: s.error(t.name)?.replace(`${t.name}: `, '') }); continue; }
      let drained = false;
      try {
        const member = members.get(t.name);
        if (member) {
          await cp!.exec(etcdTools(inv.cluster, { ctl: true }) + render('etcd/member-remove', { id: member }), { step: 'reset', mutates: true, note: `remove ${t.name} from etcd` });
          io.out(`${t.name}: removed from etcd (member ${member})\n`);
        }
        // the control plane that answers for the cluster is reset last and cannot drain itself
        drained = Boolean(cp && cp.name !== t.name);
        if (drained) await cp!.exec(render('reset/drain', { node: t.name }), { step: 'reset', mutates: true, timeoutMs: 300_000 });
        await host.exec(render('reset/host', { user: t.ssh.user, runtimes: runtimes(inv) }), { step: 'reset', mutates: true, timeoutMs: 300_000 });
        said({ host: t.name, reset: true, drained });
      } catch (e) {
        said({ host: t.name, reset: false, drained: false, error: host.redactor.redact((e as Error).message) });
      }
    }
  } finally {
    await s.close();
  }
  const failed = results.filter((r) => !r.reset);
  const next = resetNext(inv.file, targets, Boolean(o.all));
  if (json) {
    io.out(JSON.stringify({ hosts: results, clusterAnswered: clusterError === undefined, ...(clusterError ? { clusterError } : {}), failed: failed.length > 0 }, null, 2) + '\n');
    return failed.length ? EXIT.failed : EXIT.ok;
  }
  if (failed.length) {
    const done = results.length - failed.length;
    throw new KbError(`reset: ${failed.map((r) => r.host).join(', ')} failed (see above)${done ? `; ${plural(done, 'host')} reset` : ''}; run it again once ${failed.length === 1 ? 'it answers' : 'they answer'}`, EXIT.failed);
  }
  io.out(`run ${next}\n`);
  return EXIT.ok;
}
