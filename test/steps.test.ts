import { describe, expect, it } from 'vitest';
import type { Inventory } from '../src/inventory/model.js';
import { STEPS, UPGRADE_STEPS, certsRenewSteps } from '../src/steps/index.js';
import type { AnyStep } from '../src/steps/types.js';
import { swapStep } from '../src/steps/swap.js';
import { sysctlStep, effectiveOrder } from '../src/steps/sysctl.js';
import { firewallStep } from '../src/steps/firewall.js';
import { hostnameStep } from '../src/steps/hostname.js';
import { selinuxStep } from '../src/steps/selinux.js';
import { kubeProxyModeStep } from '../src/steps/kube-proxy-mode.js';
import { cniStep } from '../src/steps/cni.js';
import { joinStep } from '../src/steps/join.js';
import { nodeLabelsStep } from '../src/steps/node-labels.js';
import { verifyStep } from '../src/steps/verify.js';
import { kubePackagesStep } from '../src/steps/kube-packages.js';
import { containerRuntimeStep } from '../src/steps/container-runtime.js';
import { FakeTransport } from './support/fake-transport.js';
import { convergedOutput, EXPECTED_SKIPS } from './support/converged.js';
import { ctxFor, exampleInventory } from './support/contexts.js';
import { sha256 } from '../src/steps/files.js';
import { buildTokenCreatePlan, buildTokenRevokePlan } from '../src/commands/token.js';

const inventories = ['lab', 'ubuntu-docker-flannel', 'rocky-ha', 'rocky-kube-vip'].map(exampleInventory);
const [lab, ubuntu] = inventories as [Inventory, Inventory, Inventory, Inventory];

const out = (stdout: string, step = 'x') => ({ step, code: 0, stdout });
const cluster = (items: unknown[]) => `cluster=present\nstate=${JSON.stringify({ kind: 'List', items })}\n`;

const cases: [string, string, Inventory, number, AnyStep][] = [];
for (const inv of inventories) {
  for (const step of STEPS) {
    for (const h of step.hosts(inv)) cases.push([inv.cluster.name, `${step.id} on ${h.name}`, inv, h.index, step]);
  }
}

/** The steps of the commands that change a running cluster (upgrade, certs renew, token, token revoke), on every host they run on. */
const tokenSteps = (inv: Inventory) => [buildTokenCreatePlan(inv, { ttl: '2h', controlPlane: true }, {}), buildTokenRevokePlan(inv, 'abcdef')].flatMap((p) => p.order);
const lifecycleSteps = [...new Set([...Object.values(UPGRADE_STEPS), ...Object.values(certsRenewSteps(30 * 86_400_000))].flat())].filter((s) => !STEPS.includes(s));
const allCases = [...cases];
for (const inv of inventories) {
  for (const step of [...lifecycleSteps, ...tokenSteps(inv)]) {
    for (const h of step.hosts(inv)) allCases.push([inv.cluster.name, `${step.id} on ${h.name}`, inv, h.index, step]);
  }
}

/**
 * Steps whose apply only reads and refuses (gates, waits, checks of what rotates itself): the only
 * ones allowed to send no command marked as changing the host. Every other step must mark what it
 * sends (mutates), or the run lock would not be marked "changing" before its first change.
 */
const READ_ONLY_STEPS = ['cluster-version', 'verify', 'upgrade-preflight', 'upgrade-cni', 'certs-preflight', 'kubelet-cert-rotation'];

describe('every step on every host of the example inventories', () => {
  it('covers every registered step at least once', () => {
    // the bundle's steps run only under up --bundle, which no example inventory is: test/bundle-serve.test.ts covers them
    expect(new Set(cases.map((c) => c[4].id))).toEqual(new Set(STEPS.map((s) => s.id).filter((id) => !id.startsWith('bundle-'))));
  });

  it.each(cases)('%s: %s skips only where it must, and is done on a converged host', async (name, _d, inv, i, step) => {
    const t = new FakeTransport();
    const ctx = ctxFor(inv, i, step, t);
    const skip = step.skip?.(ctx);
    const expected = EXPECTED_SKIPS[name as keyof typeof EXPECTED_SKIPS][step.id];
    if (expected) {
      expect(skip).toMatch(expected);
      return;
    }
    expect(skip).toBeUndefined();
    const res = step.parse(out(convergedOutput(step, ctx), step.id), ctx);
    expect(res.done, res.reason).toBe(true);
    // the files it owns are compared, not assumed: one changed digest and the step is not done, naming the file
    const files = step.managedFiles?.(ctx) ?? [];
    for (const f of files) {
      const altered = convergedOutput(step, ctx).replace(`file=${f.path} ${sha256(f.content)}`, `file=${f.path} ${'0'.repeat(64)}`);
      const r = step.parse(out(altered, step.id), ctx);
      expect(r.done, `${f.path} changed on the host`).toBe(false);
      expect(r.reason).toContain(f.path);
    }
  });

  it.each(allCases)('%s: %s renders a check and, from what apply assumes when nothing is known, commands marked as changing the host', async (name, _d, inv, i, step) => {
    const t = new FakeTransport({}, (script) => ({
      code: 0,
      stdout: script.includes('kubeadm token create') ? 'kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:' + 'a'.repeat(64) + '\n'
        : script.includes('upload-certs') ? 'b'.repeat(64) + '\n' : '',
      stderr: '',
    }));
    const ctx = ctxFor(inv, i, step, t);
    if (EXPECTED_SKIPS[name as keyof typeof EXPECTED_SKIPS][step.id] || step.skip?.(ctx)) return; // the case above proves it skips
    const check = step.check(ctx);
    for (const s of typeof check === 'string' ? [check] : check) expect(s.trim().length).toBeGreaterThan(0);
    await step.apply(ctx, step.unknown(ctx));
    const changes = t.calls.filter((c) => c.kind === 'upload' || (c.kind === 'exec' && c.mutates));
    if (READ_ONLY_STEPS.includes(step.id)) expect(changes, 'a read-only step changes nothing').toEqual([]);
    else expect(changes.length, 'a step that changes the host marks its commands as changing it').toBeGreaterThan(0);
  });
});

describe('check reasons say what was found', () => {
  it('swap names active devices and fstab lines', () => {
    const r = swapStep.parse(out('checked=swap\nactive=/dev/dm-1\nfstab=12 /dev/mapper/centos-swap\n'), ctxFor(lab, 0, swapStep));
    expect(r).toEqual({ done: false, reason: '1 active swap device (/dev/dm-1), fstab line 12 mounts /dev/mapper/centos-swap as swap', found: undefined });
  });

  it('sysctl names the file that overrides the drop-in', () => {
    const r = sysctlStep.parse(out([
      'live=net.ipv4.ip_forward=0', 'live=net.bridge.bridge-nf-call-iptables=1', 'live=net.bridge.bridge-nf-call-ip6tables=1',
      'set=/etc/sysctl.d/99-kubernetes.conf=net.ipv4.ip_forward=1', 'set=/etc/sysctl.conf=net.ipv4.ip_forward=0',
      'set=/etc/sysctl.d/10-early.conf=net.ipv4.ip_forward=0',
    ].join('\n')), ctxFor(lab, 0, sysctlStep));
    expect(r.done).toBe(false);
    expect(r.reason).toContain('net.ipv4.ip_forward is 0');
    expect(r.reason).toContain('/etc/sysctl.conf sets net.ipv4.ip_forward = 0 after 99-kubernetes.conf');
    expect(r.reason).not.toContain('10-early.conf');
  });

  it('sysctl --system order: by name across directories, /etc first on a clash, sysctl.conf last', () => {
    expect(effectiveOrder(['/etc/sysctl.conf', '/usr/lib/sysctl.d/50-default.conf', '/etc/sysctl.d/99-kubernetes.conf', '/usr/lib/sysctl.d/99-kubernetes.conf', '/etc/sysctl.d/99-sysctl.conf']))
      .toEqual(['/usr/lib/sysctl.d/50-default.conf', '/etc/sysctl.d/99-kubernetes.conf', '/etc/sysctl.d/99-sysctl.conf', '/etc/sysctl.conf']);
  });

  it('firewall lists the closed ports for the role', () => {
    const r = firewallStep.parse(out('active=yes\nenabled=yes\npermanent=6443/tcp\nruntime=6443/tcp\n'), ctxFor(lab, 0, firewallStep));
    expect(r.reason).toBe('firewalld runs and 2379-2380/tcp, 10250/tcp, 10257/tcp, 10259/tcp, 10256/tcp, 179/tcp, 4789/udp, 5473/tcp, IP protocol 4 are not open');
    const w = firewallStep.parse(out('active=yes\nenabled=yes\npermanent=10250/tcp\nruntime=10250/tcp\npermanent-protocol=4\n'), ctxFor(lab, 1, firewallStep));
    expect(w.reason).toBe('firewalld runs and 10256/tcp, 30000-32767/tcp, 30000-32767/udp, 179/tcp, 4789/udp, 5473/tcp, IP protocol 4 are not open');
    expect(firewallStep.parse(out('active=no\nenabled=no\n'), ctxFor(lab, 1, firewallStep))).toMatchObject({ done: true, reason: 'firewalld is not running' });
  });

  it('hostname and selinux', () => {
    expect(hostnameStep.parse(out('current=localhost.localdomain\nstatic=localhost.localdomain\n'), ctxFor(lab, 0, hostnameStep)).reason)
      .toBe('hostname is "localhost.localdomain", want "k8s-master"');
    expect(selinuxStep.parse(out('runtime=Enforcing\nconfig=enforcing\n'), ctxFor(lab, 0, selinuxStep)).reason)
      .toBe('SELinux is Enforcing now, SELINUX=enforcing in /etc/selinux/config');
  });

  it('kube-proxy: an empty mode is iptables; a cluster that does not answer says so', () => {
    const cm = (mode: string) => cluster([{ kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': `kind: KubeProxyConfiguration\nmode: ${mode}\n` } }]);
    expect(kubeProxyModeStep.parse(out(cm('""')), ctxFor(lab, 0, kubeProxyModeStep)).reason).toBe('kube-proxy is in iptables mode, want ipvs');
    expect(kubeProxyModeStep.parse(out(cm('ipvs')), ctxFor(lab, 0, kubeProxyModeStep)).done).toBe(true);
    expect(kubeProxyModeStep.parse(out(cluster([])), ctxFor(lab, 0, kubeProxyModeStep)).reason).toBe('the kube-proxy ConfigMap is missing');
    expect(kubeProxyModeStep.parse(out('cluster=down\nerror=The connection to the server 10.0.0.1:6443 was refused\n'), ctxFor(lab, 0, kubeProxyModeStep)).reason)
      .toBe('the API server does not answer: The connection to the server 10.0.0.1:6443 was refused');
  });

  it('cni reads the pod CIDR from the calico-node DaemonSet and refuses to change it', async () => {
    const ctx = ctxFor(lab, 0, cniStep);
    const ds = (env: unknown[]) => cluster([{ kind: 'DaemonSet', metadata: { name: 'calico-node', namespace: 'kube-system' }, spec: { template: { spec: { containers: [{ name: 'install-cni', env: [{ name: 'CALICO_IPV4POOL_CIDR', value: '10.244.0.0/16' }] }, { name: 'calico-node', env }] } } } }]);
    const r = cniStep.parse(out(ds([{ name: 'CALICO_IPV4POOL_CIDR', value: '192.168.0.0/16' }])), ctx);
    expect(r.reason).toBe('calico pod CIDR 192.168.0.0/16 differs from podSubnet 10.244.0.0/16');
    await expect(cniStep.apply(ctx, r.found)).rejects.toThrow(/changing the pod network of a running cluster is not supported/);
    // no CALICO_IPV4POOL_CIDR on the calico-node container: calico's own default
    expect(cniStep.parse(out(ds([])), ctx).reason).toBe('calico pod CIDR 192.168.0.0/16 (calico default) differs from podSubnet 10.244.0.0/16');
    expect(cniStep.parse(out(cluster([])), ctx).reason).toBe('calico is not installed');
  });

  it('cni reads flannel net-conf.json', () => {
    const ctx = ctxFor(ubuntu, 0, cniStep);
    const cm = cluster([{ kind: 'ConfigMap', metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' }, data: { 'net-conf.json': '{"Network": "10.200.0.0/16"}' } }]);
    expect(cniStep.parse(out(cm), ctx).reason).toBe('flannel pod CIDR 10.200.0.0/16 differs from podSubnet 10.244.0.0/16');
  });

  it('join notices leftovers of an earlier attempt', () => {
    expect(joinStep.parse(out('kubelet-conf=absent\nleftovers=manifests\nleftovers=pki\n'), ctxFor(lab, 1, joinStep)).reason)
      .toBe('not joined, and /etc/kubernetes has leftovers (manifests, pki) of an earlier attempt: kubeadm will refuse; run kbootstrap reset --host k8s-node01');
  });

  it('node-labels and verify', () => {
    const node = (name: string, ready: boolean, labels: Record<string, string> = {}) => ({ kind: 'Node', metadata: { name, labels }, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] } });
    const labels = nodeLabelsStep.parse(out(cluster([node('k8s-master', true), node('k8s-node01', true, { 'node-role.kubernetes.io/worker': '' })])), ctxFor(lab, 0, nodeLabelsStep));
    expect(labels.reason).toBe('not registered in the cluster: k8s-node02');
    const missing = nodeLabelsStep.parse(out(cluster([node('k8s-master', true), node('k8s-node01', true), node('k8s-node02', true, { 'node-role.kubernetes.io/worker': '' })])), ctxFor(lab, 0, nodeLabelsStep));
    expect(missing).toMatchObject({ done: false, reason: 'k8s-node01 lacks node-role.kubernetes.io/worker=', found: [{ name: 'k8s-node01', labels: ['node-role.kubernetes.io/worker='] }] });
    const v = verifyStep.parse(out(cluster([
      node('k8s-master', true), node('k8s-node01', false),
      { kind: 'Pod', metadata: { name: 'coredns-1', namespace: 'kube-system' }, status: { phase: 'Pending' } },
      { kind: 'Pod', metadata: { name: 'web', namespace: 'default' }, status: { phase: 'Pending' } },
    ])), ctxFor(lab, 0, verifyStep));
    expect(v.reason).toBe('k8s-node01 NotReady; k8s-node02 not registered; pod coredns-1 Pending 0/1');
    // a node whose kubelet stopped reporting has Ready=Unknown (kubectl shows NotReady); one without the condition yet is not Ready either
    const unknown = (name: string, conditions: unknown[]) => ({ kind: 'Node', metadata: { name }, status: { conditions } });
    const lost = verifyStep.parse(out(cluster([node('k8s-master', true), unknown('k8s-node01', [{ type: 'Ready', status: 'Unknown' }]), unknown('k8s-node02', [])])), ctxFor(lab, 0, verifyStep));
    expect(lost.reason).toBe('k8s-node01 NotReady; k8s-node02 NotReady');
  });

  it('kube-packages reports the wrong version and an unheld package (Debian family)', () => {
    const r = kubePackagesStep.parse(out('pkg=kubelet=1.30.4-1.1\npkg=kubeadm=1.29.0-1.1\nheld=kubelet\nunit=kubelet enabled active\nkey=/etc/apt/keyrings/kubernetes-apt-keyring.asc=present\n'), ctxFor(ubuntu, 0, kubePackagesStep));
    expect(r.reason).toBe('want 1.36.4: kubelet 1.30.4-1.1, kubeadm 1.29.0-1.1, kubectl missing; /etc/apt/sources.list.d/kubernetes.list missing; not held: kubeadm, kubectl');
    expect(r.found).toEqual({ files: [{ path: '/etc/apt/sources.list.d/kubernetes.list', state: 'missing' }], install: true, missingKeys: [] });
  });

  it('kube-packages on the RHEL family: rpm versions, holds by the repository file, the checked key gpgkey= names', () => {
    const r = kubePackagesStep.parse(out('pkg=kubelet=1.30.4\npkg=kubeadm=1.30.4\npkg=kubectl=1.30.3\npkg=ipset=7.1\npkg=ipvsadm=1.31\nunit=kubelet disabled inactive\nkey=/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc=untrusted\n'), ctxFor(lab, 0, kubePackagesStep));
    expect(r.reason).toBe('want 1.30.4: kubectl 1.30.3; /etc/yum.repos.d/kubernetes.repo missing; /etc/pki/rpm-gpg/kbootstrap-kubernetes.asc is not a key with a trusted fingerprint; kubelet not enabled');
    expect(r.found.missingKeys).toEqual(['/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc']);
  });

  it('container-runtime: a missing apt key is named and installed before the repository file', async () => {
    const t = new FakeTransport();
    const ctx = ctxFor(ubuntu, 1, containerRuntimeStep, t);
    const r = containerRuntimeStep.parse(out('pkg=containerd.io=1.7.22-1\n'), ctx);
    expect(r.reason).toContain('/etc/apt/keyrings/docker.asc missing');
    await containerRuntimeStep.apply(ctx, r.found);
    const kinds = t.calls.map((c) => (c.kind === 'upload' ? `upload ${c.detail}` : c.detail.includes('docker.asc') ? 'key' : 'exec'));
    expect(kinds.indexOf('key')).toBeGreaterThanOrEqual(0);
    expect(kinds.indexOf('key')).toBeLessThan(kinds.indexOf('upload /etc/apt/sources.list.d/docker.list'));
  });
});
