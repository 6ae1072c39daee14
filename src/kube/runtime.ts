/** Facts about the container runtime and images that depend on the cluster's Kubernetes version. */
import type { ClusterSpec } from '../inventory/model.js';

/**
 * The pause image kubeadm expects for each minor: kubeadm's constants.PauseVersion
 * (cmd/kubeadm/app/constants/constants.go on each release branch), as
 * `kubeadm config images list` prints it: 3.10 from 1.31 (kubernetes/kubernetes#125112),
 * 3.10.1 for 1.34 and 1.35 (images list of v1.34.0/v1.34.1 in RamenDR/ramen
 * test/registry/kubeadm/README.md and of v1.35.2; docs/compatibility.md, D3).
 */
export function pauseImage(cluster: Pick<ClusterSpec, 'minor' | 'imageRepository'>): string {
  const tag = cluster.minor >= 34 ? '3.10.1' : cluster.minor >= 31 ? '3.10' : cluster.minor >= 26 ? '3.9' : cluster.minor === 25 ? '3.8' : '3.7';
  return `${cluster.imageRepository}/pause:${tag}`;
}

export function criSocket(cluster: Pick<ClusterSpec, 'containerRuntime'>): string {
  return cluster.containerRuntime === 'docker' ? 'unix:///run/cri-dockerd.sock' : 'unix:///run/containerd/containerd.sock';
}
