/**
 * Ports a node needs, one table for the firewall step and for `check`.
 * kubeadm's list: https://kubernetes.io/docs/reference/networking/ports-and-protocols/
 * The CNI plugin's own ports and protocols come from its module (src/cni/).
 */
import type { ClusterSpec, Role } from '../inventory/model.js';
import { clusterCni } from '../cni/index.js';
import type { PortRule, ProtocolRule } from './port-rule.js';

export type { PortRule } from './port-rule.js';

const CONTROL_PLANE: PortRule[] = [
  { port: '6443', proto: 'tcp', purpose: 'kube-apiserver', listens: true },
  { port: '2379-2380', proto: 'tcp', purpose: 'etcd', listens: true },
  { port: '10250', proto: 'tcp', purpose: 'kubelet', listens: true },
  { port: '10257', proto: 'tcp', purpose: 'kube-controller-manager', listens: true },
  { port: '10259', proto: 'tcp', purpose: 'kube-scheduler', listens: true },
  // kubeadm runs kube-proxy (a DaemonSet) on control planes too; its health port is in the
  // ports-and-protocols page's node table (docs/compatibility.md D5)
  { port: '10256', proto: 'tcp', purpose: 'kube-proxy', listens: true },
];

const WORKER: PortRule[] = [
  { port: '10250', proto: 'tcp', purpose: 'kubelet', listens: true },
  { port: '10256', proto: 'tcp', purpose: 'kube-proxy', listens: true },
  { port: '30000-32767', proto: 'tcp', purpose: 'NodePort services', listens: false },
  // NodePort services may be UDP: the page lists 30000-32767 for TCP and UDP (D5)
  { port: '30000-32767', proto: 'udp', purpose: 'NodePort services', listens: false },
];

/** The IP protocols the cluster's CNI plugin needs (src/cni/). */
function protocolRules(cluster: Pick<ClusterSpec, 'cni'>): readonly ProtocolRule[] {
  return clusterCni(cluster.cni)?.protocols ?? [];
}

/** firewalld's protocol notation (--add-protocol=4). */
export function firewalldProtocols(cluster: Pick<ClusterSpec, 'cni'>): string[] {
  return protocolRules(cluster).map((r) => r.protocol);
}

export function portRules(role: Role, cluster: Pick<ClusterSpec, 'cni'>): PortRule[] {
  return [...(role === 'control-plane' ? CONTROL_PLANE : WORKER), ...(clusterCni(cluster.cni)?.ports ?? [])];
}

/** firewalld's port/proto notation. */
export function firewalldPorts(role: Role, cluster: Pick<ClusterSpec, 'cni'>): string[] {
  return portRules(role, cluster).map((r) => `${r.port}/${r.proto}`);
}

/** Single TCP ports the node's own processes bind, to find them in use before a join. */
export function listeningPorts(role: Role): string[] {
  return (role === 'control-plane' ? CONTROL_PLANE : WORKER).filter((r) => r.listens && r.proto === 'tcp').flatMap((r) => {
    const [a, b] = r.port.split('-').map(Number);
    return b === undefined ? [String(a)] : Array.from({ length: b - a! + 1 }, (_, i) => String(a! + i));
  });
}
