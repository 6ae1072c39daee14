/**
 * Ports a node needs, one table for the firewall step and for `check`.
 * kubeadm's list: https://kubernetes.io/docs/reference/networking/ports-and-protocols/
 * Calico: https://docs.tigera.io/calico/latest/getting-started/kubernetes/requirements#network-requirements
 * Flannel: https://github.com/flannel-io/flannel/blob/master/Documentation/backends.md#vxlan
 */
import type { ClusterSpec, Role } from '../inventory/model.js';

export interface PortRule {
  /** a port or a range, as firewalld writes it: 6443, 2379-2380 */
  port: string;
  proto: 'tcp' | 'udp';
  /** what uses it, for messages */
  purpose: string;
  /** a process on the node listens on it (so `check` wants it free before the node joins) */
  listens: boolean;
}

const CONTROL_PLANE: PortRule[] = [
  { port: '6443', proto: 'tcp', purpose: 'kube-apiserver', listens: true },
  { port: '2379-2380', proto: 'tcp', purpose: 'etcd', listens: true },
  { port: '10250', proto: 'tcp', purpose: 'kubelet', listens: true },
  { port: '10257', proto: 'tcp', purpose: 'kube-controller-manager', listens: true },
  { port: '10259', proto: 'tcp', purpose: 'kube-scheduler', listens: true },
];

const WORKER: PortRule[] = [
  { port: '10250', proto: 'tcp', purpose: 'kubelet', listens: true },
  { port: '10256', proto: 'tcp', purpose: 'kube-proxy', listens: true },
  { port: '30000-32767', proto: 'tcp', purpose: 'NodePort services', listens: false },
];

const CNI: Record<ClusterSpec['cni']['plugin'], PortRule[]> = {
  calico: [
    { port: '179', proto: 'tcp', purpose: 'calico BGP', listens: false },
    { port: '4789', proto: 'udp', purpose: 'calico VXLAN', listens: false },
    { port: '5473', proto: 'tcp', purpose: 'calico typha', listens: false },
  ],
  flannel: [{ port: '8472', proto: 'udp', purpose: 'flannel VXLAN', listens: false }],
  none: [],
};

export function portRules(role: Role, cluster: Pick<ClusterSpec, 'cni'>): PortRule[] {
  return [...(role === 'control-plane' ? CONTROL_PLANE : WORKER), ...CNI[cluster.cni.plugin]];
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
