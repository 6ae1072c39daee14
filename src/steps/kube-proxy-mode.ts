import { render } from '../shell/templates.js';
import { first, firstControlPlaneOnly, kv, type Step } from './types.js';

export const kubeProxyModeStep: Step = {
  id: 'kube-proxy-mode',
  title: 'Set the kube-proxy mode of the running cluster',
  hosts: firstControlPlaneOnly,
  check: () => render('kube-proxy-mode/check', {}),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const want = ctx.cluster.kubeProxyMode;
    if (first(m, 'cluster') === 'absent') return { done: false, reason: 'the cluster is not initialised yet' };
    if (first(m, 'configmap') === 'absent') return { done: false, reason: 'the kube-proxy ConfigMap is missing' };
    // an empty mode means iptables on Linux
    const have = first(m, 'mode') || 'iptables';
    if (have === want) return { done: true, reason: `kube-proxy runs in ${have} mode` };
    return { done: false, reason: `kube-proxy is in ${have} mode, want ${want}` };
  },
  async apply(ctx) {
    await ctx.host.exec(render('kube-proxy-mode/apply', { sed: `s/^\\([[:space:]]*mode:\\).*/\\1 "${ctx.cluster.kubeProxyMode}"/` }), {
      step: 'kube-proxy-mode', mutates: true, timeoutMs: 120_000,
    });
  },
};
