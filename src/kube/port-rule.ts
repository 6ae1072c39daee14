/** The shape of a firewall rule, shared by src/kube/ports.ts and the CNI plugins (src/cni/) without an import cycle. */
export interface PortRule {
  /** a port or a range, as firewalld writes it: 6443, 2379-2380 */
  port: string;
  proto: 'tcp' | 'udp';
  /** what uses it, for messages */
  purpose: string;
  /** a process on the node listens on it (so `check` wants it free before the node joins) */
  listens: boolean;
}

/** An IP protocol a node must accept, by number (firewalld takes 0-255 or a name from /etc/protocols). */
export interface ProtocolRule {
  protocol: string;
  purpose: string;
}
