/** Check outputs of a converged host, per step: what a real host prints when nothing is left to do. */
import type { StepContext, Step } from '../../src/steps/types.js';
import { sha256 } from '../../src/steps/files.js';
import { hostsBlock } from '../../src/steps/hosts-file.js';
import { kernelModules } from '../../src/steps/kernel-modules.js';
import { SYSCTL_SETTINGS } from '../../src/steps/sysctl.js';
import { firewallPorts } from '../../src/steps/firewall.js';
import { wantedLabels } from '../../src/steps/node-labels.js';

export function convergedOutput(step: Step, ctx: StepContext): string {
  const files = (step.managedFiles?.(ctx) ?? []).map((f) => `file=${f.path} ${sha256(f.content)} ${f.mode}`);
  const c = ctx.cluster;
  const lines: string[] = [...files];
  const pkg = (names: string[], v = c.kubernetesVersion) => names.map((n) => `pkg=${n}=${ctx.host.facts.family === 'rhel' ? v : `${v}-1.1`}`);
  switch (step.id) {
    case 'hostname': lines.push(`current=${ctx.host.name}`, `static=${ctx.host.name}`); break;
    case 'hosts-file': lines.push(...hostsBlock(ctx.inv).split('\n').map((l) => `line=${l}`), 'blocks=1'); break;
    case 'selinux': lines.push('runtime=Permissive', 'config=permissive'); break;
    case 'firewall': lines.push('active=yes', 'enabled=yes', ...firewallPorts(ctx.host.spec.role, c).flatMap((p) => [`permanent=${p}`, `runtime=${p}`])); break;
    case 'swap': lines.push('checked=swap'); break;
    case 'kernel-modules': lines.push(...kernelModules(c).map((m) => `loaded=${m}`)); break;
    case 'sysctl': lines.push(...Object.entries(SYSCTL_SETTINGS).map(([k, v]) => `live=${k}=${v}`)); break;
    case 'container-runtime':
      lines.push(...(c.containerRuntime === 'docker' ? ['containerd.io', 'docker-ce', 'docker-ce-cli', 'cri-dockerd'] : ['containerd.io']).map((p) => `pkg=${p}=1.7.22`), 'key=present', 'config=same');
      for (const s of c.containerRuntime === 'docker' ? ['docker', 'cri-docker.service'] : ['containerd']) lines.push(`enabled=${s}=enabled`, `active=${s}=yes`);
      break;
    case 'crictl': break;
    case 'kube-packages':
      lines.push(...pkg(['kubelet', 'kubeadm', 'kubectl']), ...(c.kubeProxyMode === 'ipvs' ? ['pkg=ipset=7.1', 'pkg=ipvsadm=1.31'] : []),
        'kubelet-enabled=enabled', 'held=kubelet', 'held=kubeadm', 'held=kubectl', 'key=present');
      break;
    case 'kubeadm-init': lines.push('admin=present', 'api=ready', 'kubeconfig=same'); break;
    case 'join': lines.push('kubelet-conf=present', 'kubeconfig=same'); break;
    case 'cni': lines.push('installed=yes', `cidr=${c.podSubnet}`); break;
    case 'kube-proxy-mode': lines.push('configmap=present', `mode=${c.kubeProxyMode}`); break;
    case 'node-labels':
      lines.push('cluster=present', ...ctx.inv.hosts.map((h) => `node=${h.name} Ready ${Object.entries({ 'kubernetes.io/hostname': h.name, ...wantedLabels(h) }).map(([k, v]) => `${k}=${v}`).join(',')}`));
      break;
    case 'verify':
      lines.push('cluster=present', ...ctx.inv.hosts.map((h) => `node=${h.name} Ready`), 'pod=kube-apiserver-x 1/1 Running', 'pod=coredns-abc 1/1 Running');
      break;
    default: throw new Error(`no converged output for step ${step.id}`);
  }
  return lines.join('\n') + '\n';
}
