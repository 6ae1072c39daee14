/** Where packages come from: upstream sites, or a mirror laid out like mirrors.aliyun.com. */
import type { ClusterSpec } from '../inventory/model.js';
import { KbError } from '../errors.js';

/** Base URL of the configured mirror, or undefined for the upstream sites. */
export function mirrorBase(cluster: ClusterSpec): string | undefined {
  if (cluster.packageMirror === 'upstream') return undefined;
  if (cluster.packageMirror === 'aliyun') return 'https://mirrors.aliyun.com';
  return cluster.packageMirror.replace(/\/+$/, '');
}

/**
 * Root of the Kubernetes package repository for the cluster's minor: pkgs.k8s.io
 * has one repository per minor (https://kubernetes.io/blog/2023/08/15/pkgs-k8s-io-introduction/),
 * mirrored by Aliyun under kubernetes-new/core/stable/vX.Y (https://developer.aliyun.com/mirror/kubernetes).
 */
export function kubernetesRepoBase(cluster: ClusterSpec): string {
  const m = mirrorBase(cluster);
  return m ? `${m}/kubernetes-new/core/stable/${cluster.minorVersion}` : `https://pkgs.k8s.io/core:/stable:/${cluster.minorVersion}`;
}

/** Docker CE repository root for a distribution directory (centos, debian, ubuntu). */
export function dockerRepoBase(cluster: ClusterSpec, distro: string): string {
  const m = mirrorBase(cluster);
  return m ? `${m}/docker-ce/linux/${distro}` : `https://download.docker.com/linux/${distro}`;
}

/** Base URL of cri-dockerd release files (GitHub releases unless the inventory names a mirror). */
export function criDockerdBase(cluster: ClusterSpec): string {
  const v = cluster.criDockerd.version;
  return (cluster.criDockerd.url ?? `https://github.com/Mirantis/cri-dockerd/releases/download/v${v}`).replace(/\/+$/, '');
}

/**
 * The cri-dockerd release file at URL, with the sha256 it must have
 * (cluster.criDockerd.sha256, by file name). Throws when the inventory gives none for it.
 */
export function criDockerdArtifact(cluster: ClusterSpec, file: string): { url: string; sha256: string } {
  const sha256 = cluster.criDockerd.sha256[file];
  if (!sha256) {
    throw new KbError(`cri-dockerd: cluster.criDockerd.sha256 has no digest for ${file}, the package this host installs: add "${file}: <sha256 of the file>" (cri-dockerd publishes no checksums to pin)`);
  }
  return { url: `${criDockerdBase(cluster)}/${file}`, sha256 };
}
