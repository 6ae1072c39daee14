/**
 * Handing kube-vip's VIP over before a control plane's API server restarts:
 * `upgrade` (kubeadm upgrade apply/node rewrite the static Pods) and
 * `certs renew` (the static Pods restart to read their new certificates)
 * both need it. With the manifest moved aside the kubelet stops kube-vip,
 * which releases the address and its Lease, and another control plane takes
 * both; the manifest comes back when the step is done or has failed, and a
 * run that was cut off puts it back on its next try.
 */
import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import type { StepContext } from './types.js';
import { KUBE_VIP_MANIFEST } from './load-balancer.js';

/**
 * kube-vip's manifest while its control plane has handed the VIP over (outside the manifests directory,
 * or the kubelet would run it). The name is older than certs renew: an upgrade cut off by an older
 * kbootstrap left its manifest here, and the next run must still find it.
 */
export const KUBE_VIP_ASIDE = '/etc/kubernetes/kube-vip.yaml.kbootstrap-upgrade';

export const kubeVip = (ctx: StepContext): string | undefined => ctx.cluster.loadBalancer?.type === 'kube-vip' ? ctx.cluster.loadBalancer.address : undefined;

/** A check snippet that prints kube-vip-aside=1 while the manifest is aside (nothing without kube-vip). */
export const vipAsideCheck = (ctx: StepContext): string[] => kubeVip(ctx) ? [render('vip/aside', { aside: KUBE_VIP_ASIDE })] : [];
export const vipAside = (stdout: string): boolean => first(kv(stdout), 'kube-vip-aside') === '1';
export const asideReason = 'kube-vip\'s manifest is still aside from a run that was cut off';

/**
 * On a control plane with kube-vip: hand the VIP over before `script` restarts the API server here
 * (templates/vip/handover.sh.hbs). A lone control plane has nobody to hand it to: its API is
 * away for the restart whatever kbootstrap does (validate warns about kube-vip with one control plane).
 */
export function withVipHandover(ctx: StepContext, script: string): string {
  const vip = kubeVip(ctx);
  const others = ctx.inv.hosts.filter((h) => h.role === 'control-plane' && h.name !== ctx.host.name);
  return vip && others.length ? render('vip/handover', { vip, manifest: KUBE_VIP_MANIFEST, aside: KUBE_VIP_ASIDE }) + script : script;
}

export const restoreVip = (ctx: StepContext) => ctx.host.exec(render('vip/restore', { manifest: KUBE_VIP_MANIFEST, aside: KUBE_VIP_ASIDE }), { mutates: true, note: 'put kube-vip\'s manifest back' });
