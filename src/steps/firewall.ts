import { render } from '../shell/templates.js';
import type { ClusterSpec, Role } from '../inventory/model.js';
import { allHosts, first, kv, type Step } from './types.js';

/** Ports kubeadm's docs list per role, plus the CNI plugin's own. */
export function firewallPorts(role: Role, cluster: ClusterSpec): string[] {
  const ports = role === 'control-plane'
    ? ['6443/tcp', '2379-2380/tcp', '10250/tcp', '10257/tcp', '10259/tcp']
    : ['10250/tcp', '10256/tcp', '30000-32767/tcp'];
  if (cluster.cni.plugin === 'calico') ports.push('179/tcp', '4789/udp', '5473/tcp');
  if (cluster.cni.plugin === 'flannel') ports.push('8472/udp');
  return ports;
}

export const firewallStep: Step = {
  id: 'firewall',
  title: 'Open the Kubernetes ports in firewalld',
  hosts: allHosts,
  skip: (ctx) => (ctx.host.facts.family === 'rhel' ? undefined : 'firewalld is only managed on the RHEL family'),
  check: () => render('firewall/check', {}),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const active = first(m, 'active') === 'yes';
    const enabled = first(m, 'enabled') === 'yes';
    if (ctx.cluster.firewall === 'disable') {
      if (!active && !enabled) return { done: true, reason: 'firewalld is stopped and disabled' };
      return { done: false, reason: `firewalld is ${active ? 'running' : 'stopped'} and ${enabled ? 'enabled' : 'disabled'}; the inventory asks to disable it` };
    }
    if (!active) return { done: true, reason: 'firewalld is not running' };
    const want = firewallPorts(ctx.host.spec.role, ctx.cluster);
    const perm = new Set(m.get('permanent') ?? []);
    const run = new Set(m.get('runtime') ?? []);
    const missing = want.filter((p) => !perm.has(p) || !run.has(p));
    if (missing.length === 0) return { done: true, reason: `${want.length} ports open` };
    return { done: false, reason: `firewalld runs and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not open` };
  },
  async apply(ctx) {
    const script = ctx.cluster.firewall === 'disable'
      ? render('firewall/apply-disable', {})
      : render('firewall/apply-open', { ports: firewallPorts(ctx.host.spec.role, ctx.cluster) });
    await ctx.host.exec(script, { step: 'firewall', mutates: true });
  },
};
