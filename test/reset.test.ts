/**
 * kbootstrap reset as a plan on the Runner (issue 22 item 3): its phases and
 * order, the preflight that refuses before any host changes, what a second
 * reset does (nothing), and the check batches (the reset phase's checks wait
 * for the preflight's reading).
 */
import { describe, expect, it } from 'vitest';
import type { HostSpec } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/os/index.js';
import { Runner, type RunEvent } from '../src/runner.js';
import { buildResetPlan } from '../src/commands/reset.js';
import { UsageError } from '../src/errors.js';
import { FakeTransport, type Answer } from './support/fake-transport.js';
import { exampleInventory } from './support/contexts.js';

const inv = exampleInventory('rocky-ha');
const ip: Record<string, string> = { 'cp-1': '192.168.60.11', 'cp-2': '192.168.60.12', 'cp-3': '192.168.60.13' };
const member = (n: string, i: number) => `member=${(0x1000 + i).toString(16)}abc, started, ${n}, https://${ip[n]}:2380, https://${ip[n]}:2379, false`;
const health = (n: string, ok = true) => `health=https://${ip[n]}:2379 is ${ok ? 'healthy: successfully committed proposal: took = 1ms' : 'unhealthy: failed to commit proposal: context deadline exceeded'}`;
const NODES = ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2'].map((n) => `node=${n}`);

function preflight(opts: { answers?: string; down?: string[] } = {}): string {
  if (opts.answers) return `answers=${opts.answers}\n`;
  return ['answers=yes', ...NODES, ...['cp-1', 'cp-2', 'cp-3'].map(member), ...['cp-1', 'cp-2', 'cp-3'].map((n) => health(n, !opts.down?.includes(n))), ''].join('\n');
}

/** A host with kubeadm's files until reset-host applies; afterwards nothing. */
function leftovers(t: () => FakeTransport): Answer {
  return () => (t().applied('reset-host').length ? 'checked=reset\n' : 'left=/etc/kubernetes/kubelet.conf\nchecked=reset\n');
}

async function reset(flags: { host?: string[]; all?: boolean }, pre: string, clean: string[] = []) {
  const transports = new Map<string, FakeTransport>();
  const events: RunEvent[] = [];
  const plan = buildResetPlan(inv, flags);
  const runner = new Runner(inv, plan, async (spec: HostSpec) => {
    const answers: Record<string, Answer> = {
      'reset-preflight': pre, 'etcd-leave': 'checked=preflight\n', drain: 'checked=preflight\n',
      'reset-host': clean.includes(spec.name) ? 'checked=reset\n' : leftovers(() => transports.get(spec.name)!),
    };
    const t = new FakeTransport(answers);
    transports.set(spec.name, t);
    return new Host(spec, t, assumedFacts('rhel'));
  }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1, onEvent: (e) => events.push(e) });
  const result = await runner.run();
  // in the order the steps ran (the result lists them by host)
  const started = events.flatMap((e) => (e.type === 'step-start' ? [`${e.host} ${e.step.id}`] : []));
  const skipped = result.outcomes.filter((o) => o.status === 'skipped' || o.status === 'not-run').map((o) => `${o.host} ${o.step}`);
  const ran = [...started, ...skipped.filter((s) => !started.includes(s))];
  const outcomes = ran.map((s) => `${s} ${result.outcomes.find((o) => `${o.host} ${o.step}` === s)!.status}`);
  const changes = (h: string) => transports.get(h)?.calls.filter((c) => c.kind === 'upload' || (c.kind === 'exec' && c.mutates)).map((c) => `${c.step}: ${c.detail.split('\n').filter((l) => /member remove|kubectl drain|kubeadm reset/.test(l)).map((l) => l.trim()).join(' | ')}`) ?? [];
  return { result, outcomes, transports, changes, events };
}

describe('kbootstrap reset on the Runner', () => {
  it('a worker and a control plane: the preflight reads through the first control plane that stays, then the worker, then the control plane leaves etcd, is drained and reset', async () => {
    const r = await reset({ host: ['cp-2', 'worker-1'] }, preflight());
    expect(r.result.failed).toBe(false);
    expect(r.outcomes).toEqual([
      'cp-1 reset-preflight ok',
      'worker-1 drain changed', 'worker-1 reset-host changed',
      'cp-2 etcd-leave changed', 'cp-2 drain changed', 'cp-2 reset-host changed',
    ]);
    // the drains and the etcd removal go through cp-1; kubeadm reset on the hosts themselves
    expect(r.changes('cp-1')).toEqual(['drain: kb_kubectl drain worker-1 --ignore-daemonsets --delete-emptydir-data --force --timeout=120s', 'etcd-leave: kb_etcdctl member remove "$kb_id"', 'drain: kb_kubectl drain cp-2 --ignore-daemonsets --delete-emptydir-data --force --timeout=120s']);
    expect(r.changes('worker-1')).toEqual(['reset-host: kubeadm reset -f']);
    expect(r.changes('cp-2')).toEqual(['reset-host: kubeadm reset -f']);
    expect(r.result.outcomes.find((o) => o.step === 'etcd-leave')!.reason).toBe('etcd member 1001abc');
  });

  it('refuses, before any host changes, when removing a control plane would leave etcd without a quorum of healthy members', async () => {
    const r = await reset({ host: ['cp-2'] }, preflight({ down: ['cp-3'] }));
    expect(r.result.failed).toBe(true);
    const gate = r.result.outcomes.find((o) => o.step === 'reset-preflight')!;
    expect(gate.status).toBe('failed');
    expect(gate.reason).toBe('reset: nothing was reset: removing cp-2 from etcd leaves 2 members of which 1 is healthy (cp-3 is not): a quorum needs 2, so etcd, and the cluster with it, would stop. Bring the members that are down back first');
    for (const h of ['cp-1', 'cp-2']) expect(r.changes(h), h).toEqual([]);
    expect(r.outcomes.filter((o) => o.startsWith('cp-2'))).toEqual(['cp-2 etcd-leave not-run', 'cp-2 drain not-run', 'cp-2 reset-host not-run']);
  });

  it('refuses a control plane when the cluster does not answer (its etcd quorum cannot be checked); resets a worker without draining it, saying so', async () => {
    const cp = await reset({ host: ['cp-3'] }, preflight({ answers: 'no-admin-conf' }));
    expect(cp.result.outcomes.find((o) => o.step === 'reset-preflight')!.reason).toBe('reset: nothing was reset: the cluster does not answer through cp-1 (no /etc/kubernetes/admin.conf on cp-1), so removing cp-3 from etcd cannot be checked against its quorum');
    expect(cp.changes('cp-3')).toEqual([]);
    const w = await reset({ host: ['worker-2'] }, preflight({ answers: 'The connection to the server 192.168.60.11:6443 was refused' }));
    expect(w.result.failed).toBe(false);
    expect(w.outcomes).toEqual(['cp-1 reset-preflight ok', 'worker-2 drain skipped', 'worker-2 reset-host changed']);
    expect(w.result.warnings.filter((x) => x.includes('reset-preflight'))).toEqual(['cp-1: reset-preflight: the cluster does not answer through cp-1 (The connection to the server 192.168.60.11:6443 was refused): the nodes cannot be drained or deleted from it']);
  });

  it('a cluster that lists no nodes (a failed read is not an empty cluster): every host is drained all the same', async () => {
    const r = await reset({ host: ['worker-1'] }, 'answers=yes\n');
    expect(r.result.failed).toBe(false);
    expect(r.outcomes).toEqual(['cp-1 reset-preflight ok', 'worker-1 drain changed', 'worker-1 reset-host changed']);
  });

  it('a second reset changes nothing: the node is gone from the cluster, etcd has no such member, nothing is left on the host', async () => {
    const pre = ['answers=yes', 'node=cp-1', 'node=cp-3', 'node=worker-1', 'node=worker-2', member('cp-1', 0), member('cp-3', 2), health('cp-1'), health('cp-3'), ''].join('\n');
    const r = await reset({ host: ['cp-2'] }, pre, ['cp-2']);
    expect(r.outcomes).toEqual(['cp-1 reset-preflight ok', 'cp-2 etcd-leave ok', 'cp-2 drain ok', 'cp-2 reset-host ok']);
    for (const [h, t] of r.transports) expect(t.applied(), h).toEqual([]);
  });

  it('--all: every host, workers first, the first control plane last, which drains the others and cannot drain itself; nobody leaves etcd one by one', async () => {
    const r = await reset({ all: true }, preflight());
    expect(r.outcomes.filter((o) => !o.includes('reset-preflight')).map((o) => o.split(' ').slice(0, 2).join(' '))).toEqual([
      'worker-2 drain', 'worker-2 reset-host', 'worker-1 drain', 'worker-1 reset-host',
      'cp-3 drain', 'cp-3 reset-host', 'cp-2 drain', 'cp-2 reset-host', 'cp-1 reset-host',
    ]);
  });

  it('the reset phase\'s checks wait for the preflight: a host before the control plane that answers (cp-1, reset through cp-2) is judged on what it read', async () => {
    // cp-1 comes first in the inventory: were its checks in the first batch, they would be judged before cp-2's preflight has read anything
    const pre = ['answers=yes', 'node=cp-2', 'node=cp-3', member('cp-2', 1), member('cp-3', 2), health('cp-2'), health('cp-3'), ''].join('\n');
    const r = await reset({ host: ['cp-1'] }, pre, ['cp-1']);
    expect(r.outcomes).toEqual(['cp-2 reset-preflight ok', 'cp-1 etcd-leave ok', 'cp-1 drain ok', 'cp-1 reset-host ok']);
    for (const [h, t] of r.transports) expect(t.applied(), h).toEqual([]);
  });

  it('names the hosts it refuses: unknown ones, the last control plane without --all', () => {
    expect(() => buildResetPlan(inv, { host: ['nope'] })).toThrow(UsageError);
    expect(() => buildResetPlan(inv, { host: ['cp-1', 'cp-2', 'cp-3'] })).toThrow('reset: cp-1, cp-2, cp-3 are all the control planes: resetting them destroys the cluster; use --all for that');
    expect(() => buildResetPlan(inv, {})).toThrow('reset: name the hosts with --host NAME[,NAME], or --all');
    // the first control plane may go: the next one answers for the cluster
    expect(buildResetPlan(inv, { host: ['cp-1'] }).anchor!.name).toBe('cp-2');
  });
});
