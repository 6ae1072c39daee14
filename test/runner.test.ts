import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadInventoryFile } from '../src/inventory/load.js';
import type { HostSpec, Inventory } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/host/facts.js';
import { JoinCredentials } from '../src/join-credentials.js';
import { ALL_STEPS } from '../src/steps/index.js';
import { buildPlan } from '../src/plan.js';
import { Runner, type RunOptions } from '../src/runner.js';
import type { ExecOptions, ExecResult } from '../src/transport/types.js';
import { FakeTransport, type Answer } from './support/fake-transport.js';
import { convergedOutput } from './support/converged.js';

const lab = loadInventoryFile(join(import.meta.dirname, '..', 'inventories', 'lab.yaml')).inventory;
const TOKEN = 'abcdef.0123456789abcdef';
const HASH = `sha256:${'c'.repeat(64)}`;

function converged(inv: Inventory, spec: HostSpec): Record<string, string> {
  const t = new FakeTransport();
  const host = new Host(spec, t, assumedFacts(spec.os ?? 'rhel'));
  const ctx = { inv, cluster: inv.cluster, host, firstControlPlane: host, selected: inv.hosts, join: new JoinCredentials(() => host, ''), options: { verifyTimeoutSeconds: 1 } };
  return Object.fromEntries(ALL_STEPS.filter((s) => s.hosts(inv).includes(spec)).map((s) => [s.id, convergedOutput(s, ctx)]));
}

type Exec = (script: string, opts: ExecOptions) => ExecResult;
const okExec: Exec = (script) => ({
  code: 0,
  stdout: script.includes('kubeadm token create') ? `kubeadm join 192.168.40.128:6443 --token ${TOKEN} --discovery-token-ca-cert-hash ${HASH}\n` : '',
  stderr: '',
});

async function run(inv: Inventory, answers: (h: HostSpec) => Record<string, Answer>, opts: Partial<RunOptions> = {}, exec: (h: HostSpec) => Exec = () => okExec) {
  const transports = new Map<string, FakeTransport>();
  const runner = new Runner(inv, buildPlan(inv), async (spec) => {
    const t = new FakeTransport(answers(spec), exec(spec));
    transports.set(spec.name, t);
    return new Host(spec, t, assumedFacts(spec.os ?? 'rhel'));
  }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1, ...opts });
  const events: string[] = [];
  const result = await runner.run();
  return { result, transports, events };
}

describe('runner', () => {
  it('a converged cluster: every step ok, nothing applied, one round trip per host', async () => {
    const { result, transports } = await run(lab, (h) => converged(lab, h));
    expect(result.failed).toBe(false);
    expect(result.outcomes.filter((o) => o.status !== 'ok' && o.status !== 'skipped')).toEqual([]);
    for (const [name, t] of transports) {
      expect(t.applied(), name).toEqual([]);
      expect(t.stats.roundTrips, name).toBe(1);
    }
    expect(result.hosts.map((h) => [h.host, h.changed, h.failed, h.roundTrips])).toEqual([['k8s-master', 0, 0, 1], ['k8s-node01', 0, 0, 1], ['k8s-node02', 0, 0, 1]]);
  });

  it('applies what is not done, checks it again, and reports changed', async () => {
    const { result, transports } = await run(lab, (h) => ({
      ...converged(lab, h),
      swap: (n: number) => (n === 1 ? 'checked=swap\nactive=/dev/dm-1\n' : 'checked=swap\n'),
    }));
    expect(result.failed).toBe(false);
    const swap = result.outcomes.filter((o) => o.step === 'swap');
    expect(swap.map((o) => [o.host, o.status, o.reason])).toEqual([
      ['k8s-master', 'changed', '1 active swap device (/dev/dm-1)'],
      ['k8s-node01', 'changed', '1 active swap device (/dev/dm-1)'],
      ['k8s-node02', 'changed', '1 active swap device (/dev/dm-1)'],
    ]);
    const t = transports.get('k8s-node01')!;
    expect(t.applied('swap')).toHaveLength(1);
    expect(t.applied().filter((d) => !d.includes('swapoff'))).toEqual([]);
  });

  it('a step still not done after apply is a failure, and later phases do not start', async () => {
    const { result } = await run(lab, (h) => ({
      ...converged(lab, h),
      ...(h.name === 'k8s-node01' ? { sysctl: 'live=net.ipv4.ip_forward=0\nset=/etc/sysctl.conf=net.ipv4.ip_forward=0\n' } : {}),
    }));
    expect(result.failed).toBe(true);
    const bad = result.outcomes.find((o) => o.status === 'failed')!;
    expect(bad.host).toBe('k8s-node01');
    expect(bad.reason).toMatch(/^k8s-node01: sysctl: still not done after apply: .*\/etc\/sysctl.conf sets net.ipv4.ip_forward = 0 after 99-kubernetes.conf/);
    // other hosts finished the prepare phase
    expect(result.outcomes.filter((o) => o.host === 'k8s-node02' && o.phase === 'prepare').every((o) => o.status === 'ok' || o.status === 'skipped')).toBe(true);
    // nothing after prepare ran
    expect(result.outcomes.filter((o) => o.phase !== 'prepare').every((o) => o.status === 'not-run')).toBe(true);
    expect(result.outcomes.filter((o) => o.host === 'k8s-node01' && o.step === 'container-runtime')[0]!.reason).toBe('not run: k8s-node01 failed earlier');
  });

  it('plan mode changes nothing and reports what would change', async () => {
    const { result, transports } = await run(lab, (h) => (h.name === 'k8s-node02' ? {} : converged(lab, h)), { mode: 'plan' });
    expect(result.failed).toBe(false);
    expect(result.hosts.map((h) => [h.host, h.wouldChange])).toEqual([['k8s-master', 0], ['k8s-node01', 0], ['k8s-node02', 11]]);
    for (const t of transports.values()) expect(t.applied()).toEqual([]);
  });

  it('joins fetch one token from the first control plane, redact it, and delete it afterwards', async () => {
    const master = converged(lab, lab.hosts[0]!);
    const { result, transports } = await run(lab, (h) => (h.role === 'worker' ? { ...converged(lab, h), join: (n: number) => (n === 1 ? 'kubelet-conf=absent\n' : 'kubelet-conf=present\n') } : master));
    expect(result.failed).toBe(false);
    const cp = transports.get('k8s-master')!;
    expect(cp.applied().filter((s) => s.includes('token create'))).toHaveLength(1);
    expect(cp.applied().filter((s) => s.includes('kubeadm token delete'))).toEqual(['kubeadm token delete abcdef']);
    for (const o of result.outcomes) expect(o.reason).not.toContain(TOKEN);
  });

  it('a failing command reports host, step, exit code and stderr, with secrets redacted', async () => {
    const joinOnce = (n: number) => (n === 1 ? 'kubelet-conf=absent\n' : 'kubelet-conf=present\n');
    const { result } = await run(lab, (h) => (h.role === 'worker' ? { ...converged(lab, h), join: joinOnce } : converged(lab, h)), {}, (h) => (script, opts) => {
      if (h.name === 'k8s-node02' && opts.step === 'join' && script.includes('kubeadm join')) {
        return { code: 1, stdout: '', stderr: `[preflight] Running pre-flight checks\nerror execution phase preflight: couldn't validate the identity of the API Server: token ${TOKEN} not found\n` };
      }
      return okExec(script, opts);
    });
    const bad = result.outcomes.find((o) => o.status === 'failed')!;
    expect(bad.host).toBe('k8s-node02');
    expect(bad.reason).toContain('k8s-node02: join: command failed with exit code 1');
    expect(bad.reason).toContain("couldn't validate the identity of the API Server: token <redacted> not found");
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('a host that cannot be reached fails alone; the others finish the phase', async () => {
    const inv = lab;
    const runner = new Runner(inv, buildPlan(inv), async (spec) => {
      if (spec.name === 'k8s-node02') throw new Error('k8s-node02: connect ECONNREFUSED 192.168.40.130:22');
      return new Host(spec, new FakeTransport(converged(inv, spec), okExec), assumedFacts('centos7'));
    }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1 });
    const result = await runner.run();
    expect(result.failed).toBe(true);
    expect(result.hosts.find((h) => h.host === 'k8s-node02')).toMatchObject({ failed: 1, error: 'k8s-node02: connect ECONNREFUSED 192.168.40.130:22' });
    expect(result.outcomes.filter((o) => o.host === 'k8s-node01').every((o) => ['ok', 'skipped', 'not-run'].includes(o.status))).toBe(true);
  });

  it('a stop request lets no new step start', async () => {
    let calls = 0;
    const { result } = await run(lab, (h) => converged(lab, h), { shouldStop: () => ++calls > 3 });
    expect(result.interrupted).toBe(true);
    expect(result.outcomes.some((o) => o.reason === 'not run: interrupted')).toBe(true);
  });
});
