import { dirname } from 'node:path';
import { render } from '../shell/templates.js';
import { readLocalManifest } from '../inventory/manifest.js';
import type { Inventory } from '../inventory/model.js';
import { KbError } from '../errors.js';
import { clusterState, notUp } from '../kube/cluster-state.js';
import { clusterCni, defaultManifestUrl, pinnedManifestSha256, type CniPlugin, type ManifestEdit } from '../cni/index.js';
import { firstControlPlaneOnly, type Step } from './types.js';

export const CNI_MANIFEST_PATH = '/etc/kbootstrap/cni.yaml';

function pluginOf(inv: Inventory): CniPlugin {
  const plugin = clusterCni(inv.cluster.cni);
  if (!plugin) throw new Error('cni.plugin none has no manifest');
  return plugin;
}

/** Where the manifest comes from: a URL with the sha256 it must have, or a local file under the inventory's directory. */
export function cniManifestSource(inv: Inventory): { url: string; sha256: string } | { file: string } {
  const cni = inv.cluster.cni;
  const plugin = pluginOf(inv);
  if (cni.manifest && !/^https?:\/\//.test(cni.manifest)) return { file: cni.manifest };
  const url = cni.manifest ?? defaultManifestUrl(plugin, cni, inv.cluster.minor);
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

/** The manifest edits for the inventory: the pod CIDR, and the plugin's nftables setting when kube-proxy runs nftables. */
export function manifestEdits(inv: Inventory): ManifestEdit[] {
  const plugin = pluginOf(inv);
  const nft = plugin.nftables.edit(inv.cluster.kubeProxyMode === 'nftables');
  return [plugin.podCidrEdit(inv.cluster.podSubnet), ...(nft ? [nft] : [])];
}

export const cniStep: Step<{ mismatch?: string }> = {
  id: 'cni',
  title: 'Install the CNI plugin with the pod CIDR set to podSubnet',
  hosts: firstControlPlaneOnly,
  requires: ['kubeadm-init'],
  skip: (ctx) => (ctx.cluster.cni.plugin === 'none' ? 'cni.plugin is none: networking is left to you' : undefined),
  check: () => render('cluster/state', {}),
  parse(out, ctx) {
    const plugin = clusterCni(ctx.cluster.cni);
    const state = clusterState(out.stdout);
    if (state.kind !== 'present' || !plugin) return { done: false, reason: notUp(state), found: {} };
    const installed = plugin.installed(state);
    if (!installed) return { done: false, reason: `${plugin.id} is not installed`, found: {} };
    const cidr = installed.cidr ?? `${plugin.defaultPodCidr} (${plugin.id} default)`;
    if (cidr !== ctx.cluster.podSubnet) {
      return { done: false, reason: `${plugin.id} pod CIDR ${cidr} differs from podSubnet ${ctx.cluster.podSubnet}`, found: { mismatch: cidr } };
    }
    return { done: true, reason: `${plugin.id} installed with pod CIDR ${cidr}`, found: {} };
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
      // fetched to a temporary file, and applied only when its sha256 is the one expected; goes with
      // the edit and apply below, in one round trip (ExecOptions.carry): a bad sum stops it there
      await ctx.host.exec(cniFetchScript(src.url, src.sha256, CNI_MANIFEST_PATH), { ...opts, carry: true });
    }
    const edits = manifestEdits(ctx.inv);
    await ctx.host.exec(render('cni/apply', {
      path: CNI_MANIFEST_PATH,
      sed: edits.flatMap((e) => e.sed),
      expect: edits.flatMap((e) => e.expect.map((text) => ({ text, message: `the CNI manifest has no ${e.what} kbootstrap can set` }))),
    }), opts);
  },
};
