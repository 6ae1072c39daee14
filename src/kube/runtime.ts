/** Facts about the container runtime and images that depend on the cluster's Kubernetes version. */
import type { ClusterSpec } from '../inventory/model.js';
import { pauseTag } from '../versions/index.js';

/** The pause image kubeadm expects for the minor (kubeadm's constants.PauseVersion; the versions table's `pause`). */
export function pauseImage(cluster: Pick<ClusterSpec, 'minor' | 'imageRepository'>): string {
  return `${cluster.imageRepository}/pause:${pauseTag(cluster.minor)}`;
}

export function criSocket(cluster: Pick<ClusterSpec, 'containerRuntime'>): string {
  return cluster.containerRuntime === 'docker' ? 'unix:///run/cri-dockerd.sock' : 'unix:///run/containerd/containerd.sock';
}
