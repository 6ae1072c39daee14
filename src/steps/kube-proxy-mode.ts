import { render } from '../shell/templates.js';
import { KbError } from '../errors.js';
import { clusterState, kubeProxyMode, notUp } from '../kube/cluster-state.js';
import { clusterCni } from '../cni/index.js';
import { proxyModeStatus } from '../versions/index.js';
import { firstControlPlaneOnly, type Step } from './types.js';

/** What differs from the inventory: kube-proxy's mode, the CNI plugin's nftables setting, or both. */
interface Drift {
  proxy?: string;
  cni?: boolean;
}

/**
 * The mode of a running cluster: kube-proxy's (its ConfigMap, read at start, so the DaemonSet is
 * restarted) and the CNI plugin's nftables setting, which must follow it (src/cni/). Each is
 * changed only when it differs from the inventory.
 */
export const kubeProxyModeStep: Step<Drift | undefined> = {
  id: 'kube-proxy-mode',
  title: 'Set the kube-proxy mode of the running cluster, and the CNI plugin\'s nftables setting with it',
  hosts: firstControlPlaneOnly,
  requires: ['kubeadm-init'],
  check: () => render('cluster/state', {}),
  parse(out, ctx) {
    const state = clusterState(out.stdout);
    if (state.kind !== 'present') return { done: false, reason: notUp(state), found: undefined };
    const cm = state.configMaps.get('kube-system/kube-proxy');
    if (!cm) return { done: false, reason: 'the kube-proxy ConfigMap is missing', found: undefined };
    const want = ctx.cluster.kubeProxyMode;
    // an empty mode means iptables on Linux (https://kubernetes.io/docs/reference/config-api/kube-proxy-config.v1alpha1/)
    const have = kubeProxyMode(cm['config.conf'] ?? '') || 'iptables';
    const plugin = clusterCni(ctx.cluster.cni);
    const installed = plugin?.installed(state);
    const wantNft = want === 'nftables';
    const drift: Drift = {
      ...(have !== want ? { proxy: have } : {}),
      // a plugin not installed yet gets its setting from the manifest (the cni step)
      ...(plugin && installed && installed.nftables !== wantNft ? { cni: wantNft } : {}),
    };
    const reasons = [
      drift.proxy ? `kube-proxy is in ${have} mode, want ${want}` : `kube-proxy runs in ${have} mode`,
      ...(drift.cni !== undefined ? [`${plugin!.id}'s nftables setting is ${installed!.nftables ? 'on' : 'off'}, want ${wantNft ? 'on' : 'off'}`] : []),
    ];
    const done = drift.proxy === undefined && drift.cni === undefined;
    return { done, reason: reasons.join('; '), found: done ? undefined : drift };
  },
  unknown: () => undefined,
  async apply(ctx, drift) {
    const mode = ctx.cluster.kubeProxyMode;
    const plugin = clusterCni(ctx.cluster.cni);
    // a dry run (drift unknown) shows the ConfigMap's patch, and the CNI's switch when the inventory turns nftables on
    const proxy = drift ? drift.proxy !== undefined : true;
    const cni = drift ? drift.cni !== undefined : plugin !== undefined && mode === 'nftables';
    if (proxy && mode === 'nftables' && proxyModeStatus(ctx.cluster.minor, 'nftables') === 'alpha') {
      // the alpha mode also needs kube-proxy's NFTablesProxyMode gate, which a running ConfigMap's config.conf may lack
      throw new KbError(`${ctx.host.name}: kube-proxy-mode: switching a running ${ctx.cluster.minorVersion} cluster to nftables is not supported: the mode is alpha there and needs kube-proxy's NFTablesProxyMode feature gate; upgrade to 1.31 or later first, or set it up at init`);
    }
    if (proxy) {
      await ctx.host.exec(render('kube-proxy-mode/apply', { sed: `s/^\\([[:space:]]*mode:\\).*/\\1 "${mode}"/` }), { mutates: true, timeoutMs: 120_000 });
    }
    if (cni && plugin) await ctx.host.exec(plugin.nftables.switchScript(mode === 'nftables'), { mutates: true, timeoutMs: 120_000 });
  },
};
