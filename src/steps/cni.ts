import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { render } from '../shell/templates.js';
import type { ClusterSpec, Inventory } from '../inventory/model.js';
import { KbError } from '../errors.js';
import { clusterState, notUp, type ClusterState } from '../kube/cluster-state.js';
import { defaultAddonVersion } from '../versions/index.js';
import { firstControlPlaneOnly, type Step } from './types.js';

export const CNI_MANIFEST_PATH = '/etc/kbootstrap/cni.yaml';

export function cniManifestSource(inv: Inventory): { url?: string; file?: string } {
  const cni = inv.cluster.cni;
  if (cni.manifest) {
    return /^https?:\/\//.test(cni.manifest) ? { url: cni.manifest } : { file: resolve(dirname(inv.file), cni.manifest) };
  }
  if (cni.plugin === 'calico') {
    const v = cni.version ?? defaultAddonVersion('calico', inv.cluster.minor);
    return { url: `https://raw.githubusercontent.com/projectcalico/calico/${v.startsWith('v') ? v : `v${v}`}/manifests/calico.yaml` };
  }
  const v = cni.version ?? defaultAddonVersion('flannel', inv.cluster.minor);
  return { url: `https://github.com/flannel-io/flannel/releases/download/${v.startsWith('v') ? v : `v${v}`}/kube-flannel.yml` };
}

/** sed expressions that set the pod CIDR, and a string proving they took. */
export function cidrPatch(cluster: ClusterSpec): { sed: string[]; expect: string } {
  const cidr = cluster.podSubnet;
  if (cluster.cni.plugin === 'calico') {
    return {
      sed: [
        // calico.yaml ships the pool CIDR commented out: uncomment it, then set the value on the next line
        `/# - name: CALICO_IPV4POOL_CIDR/{s|# ||;n;s|#   value:.*|  value: "${cidr}"|;}`,
        `/- name: CALICO_IPV4POOL_CIDR/{n;s|value:.*|value: "${cidr}"|;}`,
      ],
      expect: `value: "${cidr}"`,
    };
  }
  return { sed: [`s#"Network": *"[^"]*"#"Network": "${cidr}"#`], expect: `"Network": "${cidr}"` };
}

/** The pod CIDR the installed plugin uses, or undefined when it is not installed. */
function installedCidr(state: Extract<ClusterState, { kind: 'present' }>, plugin: 'calico' | 'flannel'): { installed: boolean; cidr?: string } {
  if (plugin === 'calico') {
    const ds = state.daemonSets.get('kube-system/calico-node');
    if (!ds) return { installed: false };
    return { installed: true, cidr: ds.get('calico-node')?.get('CALICO_IPV4POOL_CIDR') };
  }
  const cm = state.configMaps.get('kube-flannel/kube-flannel-cfg');
  if (!cm) return { installed: false };
  try {
    return { installed: true, cidr: (JSON.parse(cm['net-conf.json'] ?? '{}') as { Network?: string }).Network };
  } catch {
    return { installed: true };
  }
}

export const cniStep: Step<{ mismatch?: string }> = {
  id: 'cni',
  title: 'Install the CNI plugin with the pod CIDR set to podSubnet',
  phases: ['cluster'],
  hosts: firstControlPlaneOnly,
  requires: ['kubeadm-init'],
  skip: (ctx) => (ctx.cluster.cni.plugin === 'none' ? 'cni.plugin is none: networking is left to you' : undefined),
  check: () => render('cluster/state', {}),
  parse(out, ctx) {
    const plugin = ctx.cluster.cni.plugin;
    const state = clusterState(out.stdout);
    if (state.kind !== 'present' || plugin === 'none') return { done: false, reason: notUp(state), found: {} };
    const { installed, cidr: have } = installedCidr(state, plugin);
    if (!installed) return { done: false, reason: `${plugin} is not installed`, found: {} };
    const cidr = have ?? (plugin === 'calico' ? '192.168.0.0/16 (calico default)' : 'unset');
    if (cidr !== ctx.cluster.podSubnet) {
      return { done: false, reason: `${plugin} pod CIDR ${cidr} differs from podSubnet ${ctx.cluster.podSubnet}`, found: { mismatch: cidr } };
    }
    return { done: true, reason: `${plugin} installed with pod CIDR ${cidr}`, found: {} };
  },
  unknown: () => ({}),
  async apply(ctx, found) {
    if (found.mismatch) {
      throw new KbError(`${ctx.host.name}: cni: ${ctx.cluster.cni.plugin} is installed with pod CIDR ${found.mismatch}, not podSubnet ${ctx.cluster.podSubnet}; changing the pod network of a running cluster is not supported: fix the inventory, or reset the cluster`);
    }
    const src = cniManifestSource(ctx.inv);
    const opts = { mutates: true, timeoutMs: 5 * 60_000 } as const;
    if (src.file) {
      await ctx.host.upload(readFileSync(src.file, 'utf8'), CNI_MANIFEST_PATH, { mode: '600', note: `uploaded from ${src.file}` });
    } else {
      await ctx.host.exec(render('cni/fetch', { url: src.url, path: CNI_MANIFEST_PATH }), opts);
    }
    const patch = cidrPatch(ctx.cluster);
    await ctx.host.exec(render('cni/apply', { path: CNI_MANIFEST_PATH, sed: patch.sed, expect: patch.expect }), opts);
  },
};
