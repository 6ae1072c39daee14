/**
 * The steps of `kbootstrap reset` (src/commands/reset.ts builds its plan):
 * a preflight on the control plane that answers for the cluster (the first
 * one not being reset; with --all the first, reset last), then per host, in
 * the order the cluster keeps answering longest (workers, control planes,
 * that control plane last): leave etcd, be drained and deleted from the
 * cluster, and `kubeadm reset -f` with what kube-proxy, the CNI and
 * kbootstrap left. Each is check-then-apply: a second reset changes nothing.
 *
 * The preflight reads the cluster once (nodes, etcd's members and health)
 * and decides, for every control plane leaving, whether etcd keeps a quorum,
 * before any host changes. What it read is this run's ResetView: the later
 * steps' checks read their own host, and whether the node is still in the
 * cluster or etcd from the view, which their applies keep up to date.
 */
import { KbError } from '../errors.js';
import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { healthyEndpoints, parseMembers, planRemoval } from '../etcd/members.js';
import { etcdTools } from './etcd-backup.js';
import type { HostSpec, Inventory } from '../inventory/model.js';
import type { Step, StepContext } from './types.js';

/** What reset is asked to do, and what its preflight read (undefined until it has: a dry run never reads). */
export interface ResetView {
  /** the hosts to reset, in inventory order */
  targets: HostSpec[];
  all: boolean;
  /** the control plane that answers for the cluster: drains the others, removes etcd members */
  anchor: HostSpec;
  /** the nodes this run drained and deleted */
  drained: Set<string>;
  read?: {
    /** the API server answered through the anchor */
    answers: boolean;
    /** node names the cluster has; undefined when it listed none (a failed read is not an empty cluster: every host is drained) */
    nodes?: Set<string>;
    /** etcd members by name (name -> id), of the control planes leaving */
    leaving: Map<string, string>;
  };
}

const leavingCps = (v: ResetView) => (v.all ? [] : v.targets.filter((t) => t.role === 'control-plane'));

interface PreflightFound { refusal?: string }

export function resetPreflightStep(v: ResetView): Step<PreflightFound> {
  const names = () => leavingCps(v).map((c) => c.name);
  const check = (ctx: StepContext) => (names().length ? etcdTools(ctx.cluster, { ctl: true }) : '') + render('reset/preflight', { etcd: names().length > 0 });
  return {
    id: 'reset-preflight',
    title: 'Read the cluster and etcd before any host changes',
    requires: [],
    hosts: () => [v.anchor],
    mandatory: true,
    check,
    parse(out, ctx) {
      const m = kv(out.stdout);
      const answers = first(m, 'answers') ?? 'no answer';
      if (answers !== 'yes') {
        const why = answers === 'no-admin-conf' ? `no /etc/kubernetes/admin.conf on ${ctx.host.name}` : answers;
        if (names().length) {
          const refusal = `nothing was reset: the cluster does not answer through ${ctx.host.name} (${why}), so removing ${names().join(', ')} from etcd cannot be checked against its quorum`;
          return { done: false, reason: refusal, found: { refusal } };
        }
        v.read = { answers: false, leaving: new Map() };
        const said = `the cluster does not answer through ${ctx.host.name} (${why}): the nodes cannot be drained or deleted from it`;
        return { done: true, reason: said, found: {}, warning: v.all ? undefined : said };
      }
      const listed = m.get('node') ?? [];
      const nodes = listed.length ? new Set(listed) : undefined;
      let leaving = new Map<string, string>();
      if (names().length) {
        const members = parseMembers(m.get('member') ?? []);
        if (!members.length) {
          const refusal = `nothing was reset: cannot read etcd's members through ${ctx.host.name}, so removing ${names().join(', ')} from etcd cannot be checked against its quorum`;
          return { done: false, reason: refusal, found: { refusal } };
        }
        const verdict = planRemoval(members, healthyEndpoints(m.get('health') ?? []), names());
        if (verdict.refusal) {
          const refusal = `nothing was reset: ${verdict.refusal}. Bring the members that are down back first`;
          return { done: false, reason: refusal, found: { refusal } };
        }
        leaving = new Map(verdict.remove.map((x) => [x.name, x.id]));
      }
      // what the later steps act on: this run's reading of the cluster, not the host's state
      v.read = { answers: true, nodes, leaving };
      const drains = v.targets.filter((t) => t.name !== v.anchor.name && (!nodes || nodes.has(t.name))).map((t) => t.name);
      return {
        done: true,
        reason: `the cluster answers through ${ctx.host.name}${drains.length ? `; to drain and delete: ${drains.join(', ')}` : ''}${leaving.size ? `; leaving etcd: ${[...leaving.keys()].join(', ')}` : ''}`,
        found: {},
      };
    },
    unknown: () => ({}),
    async apply(ctx, found) {
      if (found.refusal) throw new KbError(`reset: ${found.refusal}`);
      // the check could not tell (or this is a dry run): the same reading, shown; a real run checks again and decides
      await ctx.host.exec(check(ctx), { mutates: false, note: 'the cluster, its nodes and etcd, read before any host changes' });
    },
  };
}

/** A control plane leaving: its etcd member is removed through the anchor, before kubeadm reset (which can only when its own etcd answers). */
export function etcdLeaveStep(v: ResetView): Step {
  return {
    id: 'etcd-leave',
    title: 'Leave etcd (etcdctl member remove, through a control plane that stays)',
    requires: ['reset-preflight'],
    hosts: () => leavingCps(v),
    check: () => render('reset/from-preflight', { anchor: v.anchor.name, etcd: true }),
    parse(_out, ctx) {
      const id = v.read?.leaving.get(ctx.host.name);
      if (v.read && !id) return { done: true, reason: 'not an etcd member', found: undefined };
      return { done: false, reason: id ? `etcd member ${id}` : 'an etcd member', found: undefined };
    },
    unknown: () => undefined,
    async apply(ctx) {
      await ctx.firstControlPlane.exec(etcdTools(ctx.cluster, { ctl: true }) + render('reset/member-remove', { name: ctx.host.name }), {
        mutates: true, note: `remove ${ctx.host.name} from etcd`,
      });
      v.read?.leaving.delete(ctx.host.name);
    },
  };
}

/** Every host but the anchor: drained and its node deleted while the cluster answers. */
export function drainStep(v: ResetView): Step {
  return {
    id: 'drain',
    title: 'Drain the node and delete it from the cluster',
    requires: ['reset-preflight', 'etcd-leave'],
    hosts: () => v.targets.filter((t) => t.name !== v.anchor.name),
    skip: () => (v.read && !v.read.answers ? `the cluster does not answer through ${v.anchor.name}` : undefined),
    check: () => render('reset/from-preflight', { anchor: v.anchor.name, etcd: false }),
    parse(_out, ctx) {
      if (v.drained.has(ctx.host.name)) return { done: true, reason: 'drained and deleted', found: undefined };
      if (v.read?.nodes && !v.read.nodes.has(ctx.host.name)) return { done: true, reason: 'not a node of the cluster', found: undefined };
      return { done: false, reason: `node ${ctx.host.name} is in the cluster`, found: undefined };
    },
    unknown: () => undefined,
    async apply(ctx) {
      await ctx.firstControlPlane.exec(render('reset/drain', { node: ctx.host.name }), { mutates: true, timeoutMs: 300_000, note: `drain ${ctx.host.name} and delete its node` });
      v.drained.add(ctx.host.name);
    },
  };
}

function runtimes(inv: Inventory): string[] {
  return inv.cluster.containerRuntime === 'docker' ? ['docker', 'cri-docker'] : ['containerd'];
}

/** kubeadm reset -f, the CNI configuration, kbootstrap's files and kubeconfigs, kube-proxy's rules; the runtime restarted. */
export function resetHostStep(v: ResetView): Step {
  return {
    id: 'reset-host',
    title: 'kubeadm reset -f; CNI configuration, kubeconfigs, iptables and ipvs cleared; the runtime restarted',
    requires: ['etcd-leave', 'drain'],
    hosts: () => v.targets,
    check: (ctx: StepContext) => render('reset/leftovers', { user: ctx.host.spec.ssh.user }),
    parse(out) {
      const left = kv(out.stdout).get('left') ?? [];
      return left.length ? { done: false, reason: `left by kubeadm or kbootstrap: ${left.join(', ')}`, found: undefined } : { done: true, reason: 'nothing of kubeadm or kbootstrap left', found: undefined };
    },
    unknown: () => undefined,
    async apply(ctx) {
      await ctx.host.exec(render('reset/host', { user: ctx.host.spec.ssh.user, runtimes: runtimes(ctx.inv) }), { mutates: true, timeoutMs: 300_000 });
    },
  };
}
