/**
 * A mirror says where the hosts can download from. An inventory whose
 * packageMirror is not "upstream" tells kbootstrap that the upstream sites
 * may be out of reach (behind the Great Firewall, in an air gap); every other
 * download that still goes upstream is named here, one warning each, with
 * the field that would move it. `validate`, `plan`, `up` and `init` print them.
 *
 * Where each default download comes from:
 * - registry.k8s.io: kubeadm's control-plane images unless cluster.imageRepository moves them
 * - the CNI manifest: the plugin's manifestUrl (src/cni/: raw.githubusercontent.com for calico, github.com for flannel)
 * - the CNI images: the registries the release's manifest names, from the versions table
 *   (src/versions/table.ts, `images`: docker.io, quay.io or ghcr.io by release); containerd's
 *   docker.io mirrors (cluster.registryMirrors) serve docker.io only
 * - kube-vip's image: ghcr.io/kube-vip/kube-vip unless loadBalancer.image or a mirror imageRepository says otherwise
 * A private registry in cluster.registries whose mirrorOf names an upstream registry serves that registry's
 * images (containerd asks it first: its hosts.toml), so nothing from there is named.
 */
import type { ParsedInventory } from './schema.js';
import { addonRow } from '../versions/index.js';
import { clusterCni, cniVersion } from '../cni/index.js';

export interface UpstreamDownload {
  /** the field to change (cluster.imageRepository …) */
  path: (string | number)[];
  message: string;
}

export function upstreamDownloads(inv: ParsedInventory, minor: number): UpstreamDownload[] {
  const c = inv.cluster;
  if (c.packageMirror === 'upstream') return [];
  const chose = `packageMirror ${c.packageMirror} says the upstream sites may be out of reach, but`;
  const out: UpstreamDownload[] = [];
  const mirrored = new Set(c.registries.flatMap((r) => r.mirrorOf));
  if (c.imageRepository === 'registry.k8s.io' && !mirrored.has('registry.k8s.io')) {
    out.push({ path: ['cluster', 'imageRepository'], message: `${chose} the control-plane images still come from registry.k8s.io: set cluster.imageRepository to a registry your hosts reach (for Aliyun: registry.aliyuncs.com/google_containers)` });
  }
  const plugin = clusterCni(c.cni);
  if (plugin && c.cni.manifest === undefined) {
    const version = cniVersion(plugin, c.cni, minor);
    const url = plugin.manifestUrl(version);
    out.push({ path: ['cluster', 'cni'], message: `${chose} the ${c.cni.plugin} manifest still comes from ${new URL(url).host} (${url}): set cluster.cni.manifest to a copy your hosts reach (a URL with cluster.cni.sha256, or a local file)` });
    // the registries its images are on: docker.io is served by containerd's mirrors, the others by nothing kbootstrap configures
    const registries = [...new Set((addonRow(plugin.id, version)?.images ?? []).map((i) => i.split('/')[0]!))];
    const others = registries.filter((r) => r !== 'docker.io' && !mirrored.has(r));
    if (registries.includes('docker.io') && c.registryMirrors.length === 0 && !mirrored.has('docker.io')) {
      out.push({ path: ['cluster', 'registryMirrors'], message: `${chose} ${c.cni.plugin} ${version}'s images still come from docker.io: set cluster.registryMirrors to a docker.io mirror your hosts reach` });
    }
    if (others.length) {
      out.push({ path: ['cluster', 'cni'], message: `${chose} ${c.cni.plugin} ${version}'s images still come from ${others.join(' and ')}, which cluster.registryMirrors does not cover: give cluster.cni.manifest a copy that names images your hosts reach, or a registry in cluster.registries that mirrors ${others.length === 1 ? 'it' : 'them'}` });
    }
  }
  const lb = c.loadBalancer;
  if (lb?.type === 'kube-vip' && !lb.image && c.imageRepository === 'registry.k8s.io' && !mirrored.has('ghcr.io')) {
    out.push({ path: ['cluster', 'loadBalancer'], message: `${chose} kube-vip's image still comes from ghcr.io: set cluster.loadBalancer.image, or cluster.imageRepository to a mirror that carries it` });
  }
  return out;
}
