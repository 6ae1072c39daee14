/**
 * A mirror says where the hosts can download from. An inventory whose
 * packageMirror is not "upstream" tells kbootstrap that the upstream sites
 * may be out of reach (behind the Great Firewall, in an air gap); every other
 * download that still goes upstream is named here, one warning each, with
 * the field that would move it. `validate`, `plan`, `up` and `init` print them.
 *
 * Where each default download comes from:
 * - registry.k8s.io: kubeadm's control-plane images unless cluster.imageRepository moves them
 * - the CNI manifest: defaultCniManifestUrl (raw.githubusercontent.com for calico, github.com for flannel)
 * - the CNI images: calico's manifests name docker.io/calico/* and flannel's docker.io/flannel/*
 *   (the manifests of calico v3.28 and flannel v0.25, as users quote them in public repositories;
 *   read 2026-12-07); containerd's docker.io mirrors (cluster.registryMirrors) serve them
 * - kube-vip's image: ghcr.io/kube-vip/kube-vip unless loadBalancer.image or a mirror imageRepository says otherwise
 */
import type { ParsedInventory } from './schema.js';
import { defaultCniManifestUrl } from '../kube/cni-versions.js';
import { DEFAULTS } from '../defaults.js';

export interface UpstreamDownload {
  /** the field to change (cluster.imageRepository …) */
  path: (string | number)[];
  message: string;
}

export function upstreamDownloads(inv: ParsedInventory): UpstreamDownload[] {
  const c = inv.cluster;
  if (c.packageMirror === 'upstream') return [];
  const chose = `packageMirror ${c.packageMirror} says the upstream sites may be out of reach, but`;
  const out: UpstreamDownload[] = [];
  if (c.imageRepository === 'registry.k8s.io') {
    out.push({ path: ['cluster', 'imageRepository'], message: `${chose} the control-plane images still come from registry.k8s.io: set cluster.imageRepository to a registry your hosts reach (for Aliyun: registry.aliyuncs.com/google_containers)` });
  }
  if (c.cni.plugin !== 'none') {
    if (c.cni.manifest === undefined) {
      const url = defaultCniManifestUrl(c.cni.plugin, c.cni.version ?? DEFAULTS.cniVersion[c.cni.plugin]);
      out.push({ path: ['cluster', 'cni'], message: `${chose} the ${c.cni.plugin} manifest still comes from ${new URL(url).host} (${url}): set cluster.cni.manifest to a copy your hosts reach (a URL with cluster.cni.sha256, or a local file)` });
    }
    if (c.registryMirrors.length === 0) {
      out.push({ path: ['cluster', 'registryMirrors'], message: `${chose} ${c.cni.plugin}'s images still come from docker.io (docker.io/${c.cni.plugin}/…): set cluster.registryMirrors to a docker.io mirror your hosts reach` });
    }
  }
  const lb = c.loadBalancer;
  if (lb?.type === 'kube-vip' && !lb.image && c.imageRepository === 'registry.k8s.io') {
    out.push({ path: ['cluster', 'loadBalancer'], message: `${chose} kube-vip's image still comes from ghcr.io: set cluster.loadBalancer.image, or cluster.imageRepository to a mirror that carries it` });
  }
  return out;
}
