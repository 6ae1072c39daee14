import { describe, expect, it } from 'vitest';
import { clusterVersionStep } from '../src/steps/cluster-version.js';
import { buildPlan } from '../src/plan.js';
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
