import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { joinConfig } from '../kubeadm-config.js';
import { allButFirstControlPlane, type Step } from './types.js';

export const JOIN_CONFIG_PATH = '/etc/kbootstrap/kubeadm-join.yaml';

export const joinStep: Step<{ joined: boolean }> = {
  id: 'join',
  title: 'Join the cluster with kubeadm',
  hosts: allButFirstControlPlane,
  requires: ['kubeadm-init'],
  check: (ctx) => render('join/check', { controlPlane: ctx.host.spec.role === 'control-plane', user: ctx.host.spec.ssh.user }),
  parse(out, ctx) {
    const m = kv(out.stdout);
    if (first(m, 'kubelet-conf') === 'present') {
      if (ctx.host.spec.role === 'control-plane' && first(m, 'kubeconfig') !== 'same') {
        return { done: false, reason: "joined, but the SSH user's ~/.kube/config is missing or stale", found: { joined: true } };
      }
      return { done: true, reason: 'joined: /etc/kubernetes/kubelet.conf present', found: { joined: true } };
    }
    const left = m.get('leftovers') ?? [];
    if (left.length) {
      return { done: false, found: { joined: false }, reason: `not joined, and /etc/kubernetes has leftovers (${left.join(', ')}) of an earlier attempt: kubeadm will refuse; run kbootstrap reset --host ${ctx.host.name}` };
    }
    return { done: false, reason: 'not joined: /etc/kubernetes/kubelet.conf is missing', found: { joined: false } };
  },
  unknown: () => ({ joined: false }),
  async apply(ctx, found) {
    const { host, cluster } = ctx;
    const cp = host.spec.role === 'control-plane';
    if (!found.joined) {
      const secrets = cp ? await ctx.join.forControlPlanes() : await ctx.join.forWorkers();
      const hidden = [secrets.token, secrets.caCertHash, secrets.certificateKey].filter((s): s is string => !!s);
      await host.upload(joinConfig(cluster, host.spec, secrets), JOIN_CONFIG_PATH, {
        mode: '600', secrets: hidden,
        note: `holds the join credentials fetched from ${ctx.firstControlPlane.name} at run time`,
      });
      await host.exec(render('join/apply', { configPath: JOIN_CONFIG_PATH }), { mutates: true, timeoutMs: 10 * 60_000, secrets: hidden });
    }
    if (cp) await host.exec(render('common/user-kubeconfig', { user: host.spec.ssh.user }), { mutates: true });
  },
};
