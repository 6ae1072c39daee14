import { describe, expect, it } from 'vitest';
import { clusterVersionStep } from '../src/steps/cluster-version.js';
import { buildPlan, buildUpgradePlan } from '../src/plan.js';
import { upgradeKubeletStep, upgradePreflightStep } from '../src/steps/upgrade.js';
import { Runner } from '../src/runner.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/os/index.js';
import { FakeTransport } from './support/fake-transport.js';
import { convergedOutput } from './support/converged.js';
import { STEPS } from '../src/steps/index.js';
import type { HostSpec } from '../src/inventory/model.js';
import { ctxFor, exampleInventory } from './support/contexts.js';
import { KbError } from '../src/errors.js';

const lab = exampleInventory('lab'); // asks for 1.30.4

/** The cluster read of a cluster whose kubeadm-config says `cp` and whose nodes run `kubelets`. */
function state(cp: string | undefined, kubelets: Record<string, string>): string {
  const items: unknown[] = Object.entries(kubelets).map(([name, v], i) => ({
    kind: 'Node',
    metadata: { name, labels: i === 0 ? { 'node-role.kubernetes.io/control-plane': '' } : {} },
    status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: `v${v}` } },
  }));
  if (cp) items.push({ kind: 'ConfigMap', metadata: { name: 'kubeadm-config', namespace: 'kube-system' }, data: { ClusterConfiguration: `kind: ClusterConfiguration\nkubernetesVersion: v${cp}\n` } });
  return `cluster=present\nstate=${JSON.stringify({ kind: 'List', items })}\n`;
}
const converged = (spec: HostSpec): Record<string, string> =>
  Object.fromEntries(STEPS.filter((s) => s.hosts(lab).includes(spec)).map((s) => [s.id, convergedOutput(s, ctxFor(lab, spec.index, s))]));
const all = (v: string) => ({ 'k8s-master': v, 'k8s-node01': v, 'k8s-node02': v });
const gate = (stdout: string) => clusterVersionStep.parse({ step: 'cluster-version', code: 0, stdout }, ctxFor(lab, 0, clusterVersionStep));

describe('the version gate in front of up and plan', () => {
  it('passes a fresh cluster and one at the inventory version', () => {
    expect(gate('cluster=absent\n')).toMatchObject({ done: true, reason: 'no cluster yet: it starts at 1.30.4' });
    expect(gate(state('1.30.4', all('1.30.4')))).toMatchObject({ done: true, reason: 'the cluster runs 1.30.4' });
  });

  it('an older cluster points at kbootstrap upgrade', () => {
    expect(gate(state('1.29.8', all('1.29.8')))).toMatchObject({ done: false, reason: 'the cluster runs 1.29.8, the inventory asks for 1.30.4: run `kbootstrap upgrade`' });
    // a patch release is an upgrade too (kubeadm upgrade apply v1.30.4 from 1.30.1)
    expect(gate(state('1.30.1', all('1.30.1'))).reason).toBe('the cluster runs 1.30.1, the inventory asks for 1.30.4: run `kbootstrap upgrade`');
  });

  it('a skip of minors is refused with kubeadm\'s rule, a downgrade is refused', () => {
    expect(gate(state('1.28.3', all('1.28.3'))).reason).toBe(
      'the cluster runs 1.28.3, the inventory asks for 1.30.4: upgrade one minor version at a time (1.29 first); kubeadm: Specified version to upgrade to "v1.30.4" is too high; kubeadm can upgrade only 1 minor version at a time');
    expect(gate(state('1.31.2', all('1.31.2'))).reason).toBe(
      'the cluster runs 1.31.2, the inventory asks for 1.30.4: kbootstrap does not downgrade a cluster; set cluster.kubernetesVersion to 1.31.2 or later');
  });

  it('a control plane upgraded while nodes lag (an interrupted upgrade) is not for up either', () => {
    expect(gate(state('1.30.4', { 'k8s-master': '1.30.4', 'k8s-node01': '1.30.4', 'k8s-node02': '1.29.8' })).reason)
      .toBe('the cluster runs 1.30.4 but these nodes have not followed: k8s-node02 1.29.8: run `kbootstrap upgrade`');
  });

  it('without kubeadm-config the control-plane nodes\' kubelets say the version', () => {
    expect(gate(state(undefined, all('1.29.8'))).reason).toMatch(/^the cluster runs 1\.29\.8, the inventory asks for 1\.30\.4/);
  });

  it('a cluster that does not answer is not compared, and not passed', () => {
    expect(gate('cluster=down\nerror=connection refused\n')).toMatchObject({ done: false, reason: expect.stringMatching(/cannot tell which version/) });
  });

  it('up refuses before any host changes: the gate fails, prepare never starts, nothing is applied anywhere', async () => {
    const transports = new Map<string, FakeTransport>();
    const older = state('1.29.8', all('1.29.8'));
    const runner = new Runner(lab, buildPlan(lab, { steps: ['kube-packages'] }), async (spec) => {
      const answers = { ...converged(spec), 'cluster-version': older, 'kube-packages': 'pkg=kubelet=1.29.8\n' };
      const t = new FakeTransport(answers);
      transports.set(spec.name, t);
      return new Host(spec, t, assumedFacts('centos7'));
    }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1 });
    const result = await runner.run();
    expect(result.failed).toBe(true);
    expect(result.outcomes.filter((o) => o.status === 'failed').map((o) => [o.host, o.step, o.reason])).toEqual([
      ['k8s-master', 'cluster-version', 'the cluster runs 1.29.8, the inventory asks for 1.30.4: run `kbootstrap upgrade`'],
    ]);
    expect(new Set(result.outcomes.filter((o) => o.step === 'kube-packages').map((o) => o.status))).toEqual(new Set(['not-run']));
    for (const [name, t] of transports) expect(t.calls.filter((c) => c.kind !== 'check'), name).toEqual([]);
  });

  it('when the check could not tell, apply re-reads the version in shell and refuses there', async () => {
    const t = new FakeTransport({}, () => ({ code: 1, stdout: '', stderr: 'the cluster runs 1.29.8, the inventory asks for 1.30.4: run kbootstrap upgrade\n' }));
    const ctx = ctxFor(lab, 0, clusterVersionStep, t);
    await expect(clusterVersionStep.apply(ctx, undefined)).rejects.toThrow(/the cluster runs 1\.29\.8/);
    expect(t.calls[0]!.detail).toContain("get configmap kubeadm-config -o yaml");
    await expect(clusterVersionStep.apply(ctx, 'why')).rejects.toThrow(KbError);
  });
});

describe('kbootstrap upgrade', () => {
  it('the preflight refuses a skip of minors and a downgrade before anything changes', async () => {
    for (const [cp, why] of [['1.28.3', /kubeadm can upgrade only 1 minor version at a time/], ['1.31.0', /does not downgrade/]] as const) {
      const transports: FakeTransport[] = [];
      const runner = new Runner(lab, buildUpgradePlan(lab), async (spec) => {
        const t = new FakeTransport({ 'upgrade-preflight': state(cp, all(cp)) });
        transports.push(t);
        return new Host(spec, t, assumedFacts('centos7'));
      }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1, maxUnavailable: 1 });
      const result = await runner.run();
      const failed = result.outcomes.filter((o) => o.status === 'failed');
      expect(failed.map((o) => o.step)).toEqual(['upgrade-preflight']);
      expect(failed[0]!.reason).toMatch(why);
      for (const t of transports) expect(t.calls.filter((c) => c.kind !== 'check')).toEqual([]);
    }
  });

  it('a healthy cluster one minor behind passes the preflight and says the move', () => {
    const r = upgradePreflightStep.parse({ step: 'upgrade-preflight', code: 0, stdout: state('1.29.8', all('1.29.8')) }, ctxFor(lab, 0, upgradePreflightStep));
    expect(r).toMatchObject({ done: true, reason: '1.29.8 -> 1.30.4: 3 nodes Ready, no stacked etcd Pod seen' });
  });

  it('the workers phase takes --max-unavailable nodes at a time, control planes one at a time', () => {
    const plan = buildUpgradePlan(exampleInventory('rocky-ha'));
    expect(plan.phases.map((p) => [p.id, p.mode, p.limit ?? '', p.hosts.map((h) => h.name)])).toEqual([
      ['upgrade-preflight', 'serial', '', ['cp-1']],
      ['upgrade-repositories', 'parallel', '', ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2']],
      ['upgrade-first-control-plane', 'serial', '', ['cp-1']],
      ['upgrade-control-planes', 'serial', '', ['cp-2', 'cp-3']],
      ['upgrade-workers', 'parallel', 'max-unavailable', ['worker-1', 'worker-2']],
      ['upgrade-verify', 'serial', '', ['cp-1']],
    ]);
    expect(plan.phases.find((p) => p.id === 'upgrade-control-planes')!.steps.map((s) => s.id)).toEqual(['upgrade-kubeadm', 'upgrade-node', 'container-runtime', 'upgrade-kubelet']);
    // a worker's kubeadm upgrade node leaves nothing a check can see before its kubelet moves: it runs inside upgrade-kubelet
    expect(plan.phases.find((p) => p.id === 'upgrade-workers')!.steps.map((s) => s.id)).toEqual(['upgrade-kubeadm', 'container-runtime', 'upgrade-kubelet']);
  });

  it('the upgrade-kubelet check: done only at the target, schedulable; a cordoned node at the target is uncordoned without another drain', () => {
    const ctx = ctxFor(lab, 1, upgradeKubeletStep);
    const node = (v: string, cordoned: boolean) => `node=${JSON.stringify({ spec: cordoned ? { unschedulable: true } : {}, status: { nodeInfo: { kubeletVersion: `v${v}` } } })}\n`;
    const parse = (s: string) => upgradeKubeletStep.parse({ step: 'upgrade-kubelet', code: 0, stdout: s }, ctx);
    expect(parse(node('1.30.4', false) + 'pkg=kubelet=1.30.4\npkg=kubectl=1.30.4\n')).toMatchObject({ done: true });
    expect(parse(node('1.30.4', true) + 'pkg=kubelet=1.30.4\npkg=kubectl=1.30.4\n')).toMatchObject({ done: false, reason: 'node cordoned', found: { drain: false } });
    expect(parse(node('1.29.8', false) + 'pkg=kubelet=1.29.8\npkg=kubectl=1.29.8\n')).toMatchObject({ done: false, found: { drain: true } });
  });
});
