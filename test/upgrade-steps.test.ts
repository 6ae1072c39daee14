/**
 * The parts of kbootstrap upgrade that speak to the user or guard the VIP:
 * kubeadm upgrade plan's output shown (redacted), the running CNI judged
 * against the target minor without being changed, and a kube-vip manifest
 * left aside by a cut-off run put back.
 */
import { describe, expect, it } from 'vitest';
import { Runner } from '../src/runner.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/os/index.js';
import { buildPlan } from '../src/plan.js';
import { UPGRADE_PHASES } from '../src/phases.js';
import { upgradeApplyStep, upgradeCniStep, upgradeNodeStep } from '../src/steps/upgrade.js';
import { KUBE_VIP_ASIDE } from '../src/steps/vip-handover.js';
import { jsonReport, plainEventLine, shownText } from '../src/report.js';
import type { RunEvent } from '../src/runner.js';
import { addonWarning, runningAddonWarning } from '../src/versions/index.js';
import { FakeTransport } from './support/fake-transport.js';
import { ctxFor, exampleInventory } from './support/contexts.js';

const lab = exampleInventory('lab'); // asks for 1.30.4
const vip = exampleInventory('ubuntu-kube-vip'); // asks for 1.35.9

function state(cp: string, calico?: string): string {
  const items: unknown[] = [
    { kind: 'Node', metadata: { name: 'k8s-master', labels: { 'node-role.kubernetes.io/control-plane': '' } }, status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: `v${cp}` } } },
    { kind: 'ConfigMap', metadata: { name: 'kubeadm-config', namespace: 'kube-system' }, data: { ClusterConfiguration: `kind: ClusterConfiguration\nkubernetesVersion: v${cp}\n` } },
  ];
  if (calico) items.push({ kind: 'DaemonSet', metadata: { name: 'calico-node', namespace: 'kube-system' }, spec: { template: { spec: { containers: [{ name: 'calico-node', image: `docker.io/calico/node:${calico}`, env: [] }] } } } });
  return `cluster=present\nstate=${JSON.stringify({ kind: 'List', items })}\n`;
}

describe('the running CNI against the target minor', () => {
  it('names the tested range, changes nothing, and says who moves the CNI', () => {
    const running = (v: string, minor: number) => runningAddonWarning('calico', v, minor);
    expect(running('v3.28.2', 30)).toBeUndefined();
    expect(running('v3.27.0', 31)).toBeUndefined(); // a release the versions table does not know gets no verdict on a running cluster
    expect(running('v3.28.2', 31)).toMatch(/^the cluster runs calico v3\.28\.2, which is tested against Kubernetes 1\.27-1\.30 only, not 1\.31 \(tigera\/docs@[0-9a-f]+:\S+, read 2026-12-05, calico 3\.28\); /);
    expect(running('v3.28.2', 31)).toMatch(/kbootstrap upgrade does not change the CNI: move calico to a release tested against 1\.31 \(https:\/\/docs\.tigera\.io\/calico\/latest\/operations\/upgrading\/kubernetes-upgrade\)$/);
    expect(running('v3.33.0', 37)).toBeUndefined();
    expect(addonWarning('calico', 'v3.28.2', 31)).toMatch(/set cluster\.cni\.version to a release tested against 1\.31, e\.g\. v3\.30\.7$/);
  });

  it('the step reads the calico-node image: done either way, a warning only when the release is untested', () => {
    const ctx = ctxFor(lab, 0, upgradeCniStep);
    const parse = (stdout: string) => upgradeCniStep.parse({ step: 'upgrade-cni', code: 0, stdout }, ctx);
    expect(parse(state('1.29.8', 'v3.28.2'))).toEqual({ done: true, reason: 'calico v3.28.2', found: undefined });
    const vip31 = { ...ctx, cluster: { ...ctx.cluster, minor: 31, minorVersion: '1.31' } };
    const r = upgradeCniStep.parse({ step: 'upgrade-cni', code: 0, stdout: state('1.30.4', 'v3.28.2') }, vip31);
    expect(r).toMatchObject({ done: true, reason: 'calico v3.28.2: not tested against 1.31', warning: expect.stringContaining('not 1.31') });
    expect(parse(state('1.29.8'))).toMatchObject({ done: true, reason: 'no calico release found running (no image tag)' });
  });
});

describe('kubeadm upgrade plan is shown', () => {
  it('the runner hands what plan printed to the progress, the summary and the JSON report, redacted', async () => {
    const plan = buildPlan(lab, {}, UPGRADE_PHASES, { 'upgrade-first-control-plane': [upgradeApplyStep] });
    const events: RunEvent[] = [];
    const printed = '[upgrade/versions] Cluster version: v1.29.8\nYou can now apply the upgrade by executing the following command:\n\n\tkubeadm upgrade apply v1.30.4\n';
    const runner = new Runner(lab, plan, async (spec) => {
      const t = new FakeTransport({ 'upgrade-apply': (n) => state(n === 1 ? '1.29.8' : '1.30.4') },
        (script) => ({ code: 0, stdout: script.includes('kubeadm upgrade plan') ? printed : '', stderr: '' }));
      const host = new Host(spec, t, assumedFacts('centos7'));
      host.redactor.add('v1.29.8'); // stands in for a secret the host knows: it must not come through
      return host;
    }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1, onEvent: (e) => events.push(e) });
    const result = await runner.run();
    expect(result.failed).toBe(false);
    expect(result.shown).toHaveLength(1);
    const s = result.shown[0]!;
    expect([s.host, s.step, s.title]).toEqual(['k8s-master', 'upgrade-apply', 'kubeadm upgrade plan v1.30.4']);
    expect(s.text).not.toContain('v1.29.8');
    expect(s.text).toContain('kubeadm upgrade apply v1.30.4');
    const line = plainEventLine(events.find((e) => e.type === 'output')!, false)!;
    expect(line).toBe(shownText(s));
    expect(line.split('\n')[0]).toBe('k8s-master: upgrade-apply: kubeadm upgrade plan v1.30.4:');
    expect(line.split('\n').slice(1).every((l) => l.startsWith('k8s-master: |'))).toBe(true);
    expect(JSON.parse(jsonReport(result, 'apply', 0)).shown).toEqual(result.shown);
  });
});

describe('the VIP handover of a control plane', () => {
  it('a manifest left aside by a cut-off run keeps the step from being done; apply then only puts it back', async () => {
    const t = new FakeTransport();
    const ctx = ctxFor(vip, 1, upgradeNodeStep, t);
    const at = (tag: string, aside: boolean) => `node=${JSON.stringify({ spec: {}, status: { nodeInfo: { kubeletVersion: 'v1.35.9' } } })}\napiserver-image=registry.k8s.io/kube-apiserver:v${tag}\n${aside ? 'kube-vip-aside=1\n' : ''}`;
    const parse = (stdout: string) => upgradeNodeStep.parse({ step: 'upgrade-node', code: 0, stdout }, ctx);
    expect(parse(at('1.35.9', false))).toMatchObject({ done: true });
    const cut = parse(at('1.35.9', true));
    expect(cut).toMatchObject({ done: false, reason: 'kube-apiserver 1.35.9; kube-vip\'s manifest is still aside from a run that was cut off', found: { upgrade: false } });
    await upgradeNodeStep.apply(ctx, cut.found);
    expect(t.applied()).toHaveLength(1);
    expect(t.applied()[0]).toContain(`mv -f ${KUBE_VIP_ASIDE} /etc/kubernetes/manifests/kube-vip.yaml`);
    expect(t.applied()[0]).not.toContain('kubeadm');
  });

  it('with kube-vip the control plane hands the VIP over before kubeadm runs; without, kubeadm alone', async () => {
    const t = new FakeTransport();
    await upgradeNodeStep.apply(ctxFor(vip, 1, upgradeNodeStep, t), { upgrade: true });
    const script = t.applied()[0]!;
    expect(script.indexOf(`mv -f /etc/kubernetes/manifests/kube-vip.yaml ${KUBE_VIP_ASIDE}`)).toBeGreaterThan(0);
    expect(script.indexOf('trap kb_restore_vip EXIT')).toBeLessThan(script.indexOf('mv -f /etc/kubernetes/manifests/kube-vip.yaml'));
    expect(script.indexOf('kubeadm upgrade node')).toBeGreaterThan(script.indexOf('kb_kubectl get --raw=/readyz'));
    expect(script).toContain('kb_vip=192.168.80.100');
    // a lone control plane has nobody to hand the VIP to: waiting for a taker would only fail the upgrade
    const lone = { ...vip, hosts: vip.hosts.filter((h) => h.name === 'cp-1' || h.role === 'worker') };
    const one = new FakeTransport();
    await upgradeApplyStep.apply(ctxFor(lone, 0, upgradeApplyStep, one), { upgrade: true });
    expect(one.applied().join('\n')).toContain('kubeadm upgrade apply v1.35.9 -y');
    expect(one.applied().join('\n')).not.toContain('kube-vip');
    const plain = new FakeTransport();
    await upgradeNodeStep.apply(ctxFor(exampleInventory('rocky-ha'), 1, upgradeNodeStep, plain), { upgrade: true });
    expect(plain.applied()[0]).not.toContain('kube-vip');
  });
});

describe('an upgrade stops at the first node that fails', () => {
  it('the next control plane is not started, and says why', async () => {
    const inv = exampleInventory('rocky-ha'); // asks for 1.36.4
    const plan = buildPlan(inv, {}, UPGRADE_PHASES, { 'upgrade-control-planes': [upgradeNodeStep] });
    const result = await new Runner(inv, plan, async (spec) => new Host(spec, new FakeTransport(
      { 'upgrade-node': 'node={}\napiserver-image=registry.k8s.io/kube-apiserver:v1.30.4\n' },
      () => (spec.name === 'cp-2' ? { code: 1, stdout: '', stderr: 'error execution phase control-plane: couldn\'t upgrade control plane\n' } : { code: 0, stdout: '', stderr: '' }),
    ), assumedFacts('rocky9')), { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1 }).run();
    expect(result.outcomes.map((o) => [o.host, o.status, o.reason.split('\n')[0]])).toEqual([
      ['cp-2', 'failed', expect.stringContaining('cp-2: upgrade-node: command failed with exit code 1')],
      ['cp-3', 'not-run', 'not run: another node of this phase failed, and an upgrade takes no further node down'],
    ]);
  });
});
