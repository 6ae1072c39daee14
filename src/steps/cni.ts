import { dirname } from 'node:path';
import { render } from '../shell/templates.js';
import { readLocalManifest } from '../inventory/manifest.js';
import type { ClusterSpec, Inventory } from '../inventory/model.js';
import { KbError } from '../errors.js';
import { clusterState, notUp, type ClusterState } from '../kube/cluster-state.js';
import { defaultAddonVersion, defaultCniManifestUrl, pinnedManifestSha256 } from '../versions/index.js';
import { firstControlPlaneOnly, type Step } from './types.js';

export const CNI_MANIFEST_PATH = '/etc/kbootstrap/cni.yaml';

/** Where the manifest comes from: a URL with the sha256 it must have, or a local file under the inventory's directory. */
export function cniManifestSource(inv: Inventory): { url: string; sha256: string } | { file: string } {
  const cni = inv.cluster.cni;
  if (cni.plugin === 'none') throw new Error('cni.plugin none has no manifest');
  if (cni.manifest && !/^https?:\/\//.test(cni.manifest)) return { file: cni.manifest };
  const url = cni.manifest ?? defaultCniManifestUrl(cni.plugin, cni.version ?? defaultAddonVersion(cni.plugin, inv.cluster.minor));
  const sha256 = cni.sha256 ?? pinnedManifestSha256(url);
  // the loader refuses an inventory without one; a programming error if it gets here
  if (!sha256) throw new KbError(`cni: no sha256 for ${url}: set cluster.cni.sha256`);
  return { url, sha256 };
}

/** Fetch the manifest to path, keeping it only when its sha256 is the one given. */
export function cniFetchScript(url: string, sha256: string, path: string): string {
  const dir = dirname(path);
  return render('cni/fetch', { url, sha256, path, dir, tmpTemplate: `${dir}/.kbootstrap-cni.XXXXXX` });
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
    if ('file' in src) {
      let m: ReturnType<typeof readLocalManifest>;
      try {
        m = readLocalManifest(ctx.inv.file, src.file);
      } catch (e) {
        throw new KbError(`${ctx.host.name}: cni: ${(e as Error).message}`);
      }
      await ctx.host.upload(m.content, CNI_MANIFEST_PATH, {
        mode: '600',
        note: `uploaded from ${src.file} (cluster.cni.manifest)`,
        dryRunSummary: `the local file ${m.path}, ${Buffer.byteLength(m.content)} bytes, sha256 ${m.sha256} (content not shown)`,
      });
    } else {
      // fetched to a temporary file, and applied only when its sha256 is the one expected
      await ctx.host.exec(cniFetchScript(src.url, src.sha256, CNI_MANIFEST_PATH), opts);
    }
    const patch = cidrPatch(ctx.cluster);
    await ctx.host.exec(render('cni/apply', { path: CNI_MANIFEST_PATH, sed: patch.sed, expect: patch.expect }), opts);
  },
};
