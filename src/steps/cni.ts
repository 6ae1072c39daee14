import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { render } from '../shell/templates.js';
import type { ClusterSpec, Inventory } from '../inventory/model.js';
import { KbError } from '../errors.js';
import { first, firstControlPlaneOnly, kv, type Step } from './types.js';

export const CNI_DEFAULT_VERSION = { calico: 'v3.28.2', flannel: 'v0.25.7' } as const;
export const CNI_MANIFEST_PATH = '/etc/kbootstrap/cni.yaml';

export function cniManifestSource(inv: Inventory): { url?: string; file?: string } {
  const cni = inv.cluster.cni;
  if (cni.manifest) {
    return /^https?:\/\//.test(cni.manifest) ? { url: cni.manifest } : { file: resolve(dirname(inv.file), cni.manifest) };
  }
  if (cni.plugin === 'calico') {
    const v = cni.version ?? CNI_DEFAULT_VERSION.calico;
    return { url: `https://raw.githubusercontent.com/projectcalico/calico/${v.startsWith('v') ? v : `v${v}`}/manifests/calico.yaml` };
  }
  const v = cni.version ?? CNI_DEFAULT_VERSION.flannel;
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

export const cniStep: Step = {
  id: 'cni',
  title: 'Install the CNI plugin with the pod CIDR set to podSubnet',
  hosts: firstControlPlaneOnly,
  skip: (ctx) => (ctx.cluster.cni.plugin === 'none' ? 'cni.plugin is none: networking is left to you' : undefined),
  check: (ctx) => render(`cni/check-${ctx.cluster.cni.plugin}`, {}),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const plugin = ctx.cluster.cni.plugin;
    if (first(m, 'cluster') === 'absent') return { done: false, reason: 'the cluster is not initialised yet' };
    if (first(m, 'installed') !== 'yes') return { done: false, reason: `${plugin} is not installed` };
    const cidr = first(m, 'cidr') ?? (plugin === 'calico' ? '192.168.0.0/16 (calico default)' : 'unset');
    if (cidr !== ctx.cluster.podSubnet) {
      return { done: false, reason: `${plugin} pod CIDR ${cidr} differs from podSubnet ${ctx.cluster.podSubnet}`, data: { mismatch: cidr } };
    }
    return { done: true, reason: `${plugin} installed with pod CIDR ${cidr}` };
  },
  async apply(ctx, found) {
    const mismatch = (found.data as { mismatch?: string } | undefined)?.mismatch;
    if (mismatch) {
      throw new KbError(`${ctx.host.name}: cni: ${ctx.cluster.cni.plugin} is installed with pod CIDR ${mismatch}, not podSubnet ${ctx.cluster.podSubnet}; changing the pod network of a running cluster is not supported: fix the inventory, or reset the cluster`);
    }
    const src = cniManifestSource(ctx.inv);
    const opts = { step: 'cni', mutates: true, timeoutMs: 5 * 60_000 } as const;
    if (src.file) {
      await ctx.host.upload(readFileSync(src.file, 'utf8'), CNI_MANIFEST_PATH, { step: 'cni', mode: '600', note: `uploaded from ${src.file}` });
    } else {
      await ctx.host.exec(render('cni/fetch', { url: src.url, path: CNI_MANIFEST_PATH }), opts);
    }
    const patch = cidrPatch(ctx.cluster);
    await ctx.host.exec(render('cni/apply', { path: CNI_MANIFEST_PATH, sed: patch.sed, expect: patch.expect }), opts);
  },
};
