import { render } from '../shell/templates.js';
import { clusterState, kubeProxyMode, notUp } from '../kube/cluster-state.js';
import { firstControlPlaneOnly, type Step } from './types.js';

export const kubeProxyModeStep: Step = {
  id: 'kube-proxy-mode',
  title: 'Set the kube-proxy mode of the running cluster',
  phases: ['cluster'],
  hosts: firstControlPlaneOnly,
  requires: ['kubeadm-init'],
  check: () => render('cluster/state', {}),
  parse(out, ctx) {
    const state = clusterState(out.stdout);
    const found = undefined;
    if (state.kind !== 'present') return { done: false, reason: notUp(state), found };
    const cm = state.configMaps.get('kube-system/kube-proxy');
    if (!cm) return { done: false, reason: 'the kube-proxy ConfigMap is missing', found };
    const want = ctx.cluster.kubeProxyMode;
    // an empty mode means iptables on Linux (https://kubernetes.io/docs/reference/config-api/kube-proxy-config.v1alpha1/)
    const have = kubeProxyMode(cm['config.conf'] ?? '') || 'iptables';
    if (have === want) return { done: true, reason: `kube-proxy runs in ${have} mode`, found };
    return { done: false, reason: `kube-proxy is in ${have} mode, want ${want}`, found };
  },
  unknown: () => undefined,
  async apply(ctx) {
    await ctx.host.exec(render('kube-proxy-mode/apply', { sed: `s/^\\([[:space:]]*mode:\\).*/\\1 "${ctx.cluster.kubeProxyMode}"/` }), {
      mutates: true, timeoutMs: 120_000,
    });
  },
};
