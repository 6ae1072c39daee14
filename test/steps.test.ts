import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadInventoryFile } from '../src/inventory/load.js';
import type { Inventory } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/host/facts.js';
import { JoinCredentials } from '../src/join-credentials.js';
import { ALL_STEPS } from '../src/steps/index.js';
import type { Step, StepContext } from '../src/steps/types.js';
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
import { FakeTransport } from './support/fake-transport.js';
import { convergedOutput } from './support/converged.js';

const inventories = ['lab', 'ubuntu-docker-flannel', 'rocky-ha'].map(
  (n) => loadInventoryFile(join(import.meta.dirname, '..', 'inventories', `${n}.yaml`)).inventory,
);

function ctxFor(inv: Inventory, hostIndex: number, t = new FakeTransport()): StepContext {
  const spec = inv.hosts[hostIndex]!;
  const host = new Host(spec, t, assumedFacts(spec.os ?? 'rhel'));
  const cp = new Host(inv.hosts[0]!, t, assumedFacts(inv.hosts[0]!.os ?? 'rhel'));
  return { inv, cluster: inv.cluster, host, firstControlPlane: cp, selected: inv.hosts, join: new JoinCredentials(() => cp, inv.cluster.controlPlaneEndpoint), options: { verifyTimeoutSeconds: 5 } };
}

const out = (stdout: string, step = 'x') => ({ step, code: 0, stdout });

describe('every step on a converged host', () => {
  const cases: [string, string, Inventory, number, Step][] = [];
  for (const inv of inventories) {
    for (const step of ALL_STEPS) {
      for (const h of step.hosts(inv)) cases.push([inv.cluster.name, `${step.id} on ${h.name}`, inv, h.index, step]);
    }
  }
  it.each(cases)('%s: %s is done and not applied', async (_c, _d, inv, i, step) => {
    const t = new FakeTransport();
    const ctx = ctxFor(inv, i, t);
    if (step.skip?.(ctx)) return;
    const res = step.parse(out(convergedOutput(step, ctx), step.id), ctx);
    expect(res, res.reason).toMatchObject({ done: true });
    expect(t.calls).toEqual([]);
  });

  it.each(cases)('%s: %s renders a check and, from a blank host, an apply', async (_c, _d, inv, i, step) => {
    const t = new FakeTransport({}, (script) => ({
      code: 0,
      stdout: script.includes('kubeadm token create') ? 'kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:' + 'a'.repeat(64) + '\n'
        : script.includes('upload-certs') ? 'b'.repeat(64) + '\n' : '',
      stderr: '',
    }));
    const ctx = ctxFor(inv, i, t);
    if (step.skip?.(ctx)) return;
    expect(step.check(ctx).trim().length).toBeGreaterThan(0);
    // what the runner hands apply when a check printed nothing
    await step.apply(ctx, { done: false, reason: 'the check printed nothing' });
    expect(t.applied(step.id).length).toBeGreaterThan(0);
  });
});

describe('check reasons say what was found', () => {
  const [lab, ubuntu] = inventories as [Inventory, Inventory, Inventory];
  it('swap names active devices and fstab lines', () => {
    const r = swapStep.parse(out('checked=swap\nactive=/dev/dm-1\nfstab=12 /dev/mapper/centos-swap\n'), ctxFor(lab, 0));
    expect(r).toEqual({ done: false, reason: '1 active swap device (/dev/dm-1), fstab line 12 mounts /dev/mapper/centos-swap as swap' });
  });

  it('sysctl names the file that overrides the drop-in', () => {
    const r = sysctlStep.parse(out([
      ...sysctlStep.managedFiles!(ctxFor(lab, 0)).map(() => ''),
      'live=net.ipv4.ip_forward=0', 'live=net.bridge.bridge-nf-call-iptables=1', 'live=net.bridge.bridge-nf-call-ip6tables=1',
      'set=/etc/sysctl.d/99-kubernetes.conf=net.ipv4.ip_forward=1', 'set=/etc/sysctl.conf=net.ipv4.ip_forward=0',
      'set=/etc/sysctl.d/10-early.conf=net.ipv4.ip_forward=0',
    ].join('\n')), ctxFor(lab, 0));
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
    const r = firewallStep.parse(out('active=yes\nenabled=yes\npermanent=6443/tcp\nruntime=6443/tcp\n'), ctxFor(lab, 0));
    expect(r.reason).toBe('firewalld runs and 2379-2380/tcp, 10250/tcp, 10257/tcp, 10259/tcp, 179/tcp, 4789/udp, 5473/tcp are not open');
    expect(firewallStep.parse(out('active=no\nenabled=no\n'), ctxFor(lab, 1))).toEqual({ done: true, reason: 'firewalld is not running' });
  });

  it('hostname and selinux', () => {
    expect(hostnameStep.parse(out('current=localhost.localdomain\nstatic=localhost.localdomain\n'), ctxFor(lab, 0)).reason)
      .toBe('hostname is "localhost.localdomain", want "k8s-master"');
    expect(selinuxStep.parse(out('runtime=Enforcing\nconfig=enforcing\n'), ctxFor(lab, 0)).reason)
      .toBe('SELinux is Enforcing now, SELINUX=enforcing in /etc/selinux/config');
    expect(selinuxStep.skip!(ctxFor(ubuntu, 0))).toBe('SELinux is only managed on the RHEL family');
  });

  it('kube-proxy: an empty mode is iptables', () => {
    expect(kubeProxyModeStep.parse(out('configmap=present\nmode=\n'), ctxFor(lab, 0)).reason).toBe('kube-proxy is in iptables mode, want ipvs');
  });

  it('cni refuses to change the pod CIDR of an installed plugin', async () => {
    const ctx = ctxFor(lab, 0);
    const r = cniStep.parse(out('installed=yes\ncidr=192.168.0.0/16\n'), ctx);
    expect(r.reason).toBe('calico pod CIDR 192.168.0.0/16 differs from podSubnet 10.244.0.0/16');
    await expect(cniStep.apply(ctx, r)).rejects.toThrow(/changing the pod network of a running cluster is not supported/);
  });

  it('join notices leftovers of an earlier attempt', () => {
    expect(joinStep.parse(out('kubelet-conf=absent\nleftovers=manifests\nleftovers=pki\n'), ctxFor(lab, 1)).reason)
      .toBe('not joined, and /etc/kubernetes has leftovers (manifests, pki) of an earlier attempt: kubeadm will refuse; run kbootstrap reset --host k8s-node01');
  });

  it('node-labels and verify', () => {
    const labels = nodeLabelsStep.parse(out('cluster=present\nnode=k8s-master Ready kubernetes.io/hostname=k8s-master\nnode=k8s-node01 Ready kubernetes.io/hostname=k8s-node01\n'), ctxFor(lab, 0));
    expect(labels.reason).toBe('not registered in the cluster: k8s-node02');
    const v = verifyStep.parse(out('cluster=present\nnode=k8s-master Ready\nnode=k8s-node01 NotReady\npod=coredns-1 0/1 Pending\n'), ctxFor(lab, 0));
    expect(v.reason).toBe('k8s-node01 NotReady; k8s-node02 not registered; pod coredns-1 Pending 0/1');
  });

  it('kube-packages reports the wrong version and an unheld package', () => {
    const r = kubePackagesStep.parse(out('pkg=kubelet=1.30.4-1.1=\npkg=kubeadm=1.29.0-1.1\npkg=kubectl=\nheld=kubelet\nkubelet-enabled=enabled\nkey=present\n'), ctxFor(ubuntu, 0));
    expect(r.reason).toContain('want 1.29.8: kubelet 1.30.4-1.1=, kubeadm 1.29.0-1.1, kubectl missing');
    expect(r.reason).toContain('not held: kubeadm, kubectl');
  });
});
