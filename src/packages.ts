/** Package repositories and versions per family and packageMirror. */
import type { ClusterSpec } from './inventory/model.js';
import type { HostFacts } from './host/facts.js';
import { KbError } from './errors.js';

function mirrorBase(cluster: ClusterSpec): string | undefined {
  if (cluster.packageMirror === 'upstream') return undefined;
  if (cluster.packageMirror === 'aliyun') return 'https://mirrors.aliyun.com';
  return cluster.packageMirror.replace(/\/+$/, '');
}

/** Root of the Kubernetes package repo for the cluster's minor (pkgs.k8s.io layout: one repo per minor). */
export function kubernetesRepoBase(cluster: ClusterSpec): string {
  const m = mirrorBase(cluster);
  return m ? `${m}/kubernetes-new/core/stable/${cluster.minorVersion}` : `https://pkgs.k8s.io/core:/stable:/${cluster.minorVersion}`;
}

/** Docker CE repo root for this OS (containerd.io and docker-ce come from here). */
export function dockerRepoBase(cluster: ClusterSpec, facts: HostFacts): string {
  const m = mirrorBase(cluster) ?? 'https://download.docker.com';
  const distro = facts.family === 'rhel' ? 'centos' : facts.osId === 'ubuntu' ? 'ubuntu' : 'debian';
  return `${m}/${m.includes('download.docker.com') ? '' : 'docker-ce/'}linux/${distro}`;
}

/** Debian package version string of pkgs.k8s.io builds. */
export function debKubeVersion(cluster: ClusterSpec): string {
  return `${cluster.kubernetesVersion}-1.1`;
}

export function pauseImage(cluster: ClusterSpec): string {
  const tag = cluster.minor >= 31 ? '3.10' : cluster.minor >= 26 ? '3.9' : cluster.minor === 25 ? '3.8' : '3.7';
  return `${cluster.imageRepository}/pause:${tag}`;
}

export function criSocket(cluster: ClusterSpec): string {
  return cluster.containerRuntime === 'docker' ? 'unix:///run/cri-dockerd.sock' : 'unix:///run/containerd/containerd.sock';
}

export function criDockerdPackageUrl(cluster: ClusterSpec, facts: HostFacts): string {
  const v = cluster.criDockerd.version;
  const base = (cluster.criDockerd.url ?? `https://github.com/Mirantis/cri-dockerd/releases/download/v${v}`).replace(/\/+$/, '');
  if (facts.family === 'rhel') {
    const arch = facts.arch === 'arm64' ? 'aarch64' : 'x86_64';
    return `${base}/cri-dockerd-${v}-3.el${facts.el === 7 ? 7 : 8}.${arch}.rpm`;
  }
  const dist = `${facts.osId}-${facts.codename}`;
  const known = ['ubuntu-focal', 'ubuntu-jammy', 'debian-bullseye', 'debian-bookworm'];
  if (!known.includes(dist)) {
    throw new KbError(`cri-dockerd publishes no package for ${facts.prettyName}: use containerRuntime: containerd`);
  }
  return `${base}/cri-dockerd_${v}.3-0.${dist}_${facts.arch}.deb`;
}
