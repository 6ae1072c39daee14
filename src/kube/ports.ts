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

const CNI: Record<ClusterSpec['cni']['plugin'], PortRule[]> = {
  calico: [
    // BGP carries calico's routes between nodes (calico.yaml's default backend: bird)
    { port: '179', proto: 'tcp', purpose: 'calico BGP', listens: false },
    // only for VXLAN pools and Typha, which the stock calico.yaml does not enable; kept for
    // manifests that do (a custom cni.manifest)
    { port: '4789', proto: 'udp', purpose: 'calico VXLAN', listens: false },
    { port: '5473', proto: 'tcp', purpose: 'calico typha', listens: false },
  ],
  flannel: [{ port: '8472', proto: 'udp', purpose: 'flannel VXLAN', listens: false }],
  none: [],
};

/** An IP protocol a node must accept, by number (firewalld takes 0-255 or a name from /etc/protocols). */
export interface ProtocolRule {
  protocol: string;
  purpose: string;
}

/**
 * calico.yaml's default pool is IP-in-IP (CALICO_IPV4POOL_IPIP: Always), IP protocol 4, which no
 * port opens. By number, because protocol 4's name differs: `ipencap` in Debian's netbase, `ipv4`
 * on CentOS, and `ipip` is protocol 94 (docs/compatibility.md D4). firewalld accepts a number:
 * its checkProtocol takes int(protocol) in 0..255 before trying getprotobyname
 * (firewalld src/firewall/functions.py).
 */
const CNI_PROTOCOLS: Record<ClusterSpec['cni']['plugin'], ProtocolRule[]> = {
  calico: [{ protocol: '4', purpose: 'calico IP-in-IP' }],
  flannel: [],
  none: [],
};

function protocolRules(cluster: Pick<ClusterSpec, 'cni'>): ProtocolRule[] {
  return CNI_PROTOCOLS[cluster.cni.plugin];
}

/** firewalld's protocol notation (--add-protocol=4). */
export function firewalldProtocols(cluster: Pick<ClusterSpec, 'cni'>): string[] {
  return protocolRules(cluster).map((r) => r.protocol);
}

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
