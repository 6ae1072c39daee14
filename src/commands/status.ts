/**
 * kbootstrap status: what each host runs and whether it is in the cluster,
 * and the cluster's nodes as the API server sees them, compared with the
 * inventory. Read-only.
 */
import type { HostSpec, Inventory } from '../inventory/model.js';
import type { SessionFlags } from '../session.js';
import { EXIT } from '../errors.js';
import { certificates, clusterNodes, componentVersions, holdsAddress, joined, unitState, type ComponentVersions, type UnitState } from '../host/fact.js';
import { readFacts } from '../host/read-facts.js';
import type { Io } from '../io.js';
import { table } from '../table.js';
import { wrap } from '../wrap.js';
import type { Prompt } from '../ssh/credentials.js';
import { certVerdict, type CertFacts, type CertVerdict } from '../kube/certs.js';
import { CERT_TIMER } from '../steps/cert-renewal-timer.js';

export interface StatusFlags extends SessionFlags { output?: 'text' | 'json' }

export interface HostStatus {
  host: string;
  reachable: boolean;
  error?: string;
  os?: string;
  runtime?: string;
  kubelet?: string;
  kubeadm?: string;
  joined?: boolean;
  node?: string;
  /** kube-vip: this host holds the VIP now */
  holdsVip?: boolean;
  /** its kubeadm certificates (control planes) and kubelet client certificate: pass, warn under 30 days, fail when expired */
  certificates?: CertVerdict;
  /** cluster.certRenewal: timer: the timer's state on a control plane (active, inactive...) */
  certRenewalTimer?: string;
}

export interface ClusterStatus {
  /** whether the API server was asked at all: false when no control plane answered over SSH */
  asked: boolean;
  answeredBy?: string;
  nodes: { name: string; status: string; roles: string; version: string; address: string }[];
  proxyMode?: string;
  /** null when the cluster was not asked (unknown, not none) */
  missingFromCluster: string[] | null;
  notInInventory: string[] | null;
  /** kube-vip: the VIP and the hosts that hold it (one, when all is well) */
  vip?: { address: string; heldBy: string[] };
  /** control planes unreachable or whose node is not Ready */
  controlPlanesDown: string[];
}

/** What status asks each host: one round trip each (src/host/read-facts.ts); the cluster through the first control plane reached. */
export function statusFacts(inv: Inventory, spec: HostSpec, reached: ReadonlySet<string>) {
  const cp = spec.role === 'control-plane';
  const vip = cp && inv.cluster.loadBalancer?.type === 'kube-vip' ? inv.cluster.loadBalancer.address : undefined;
  const clusterReads = spec.name === inv.hosts.find((h) => h.role === 'control-plane' && reached.has(h.name))?.name;
  return {
    versions: componentVersions, joined, certs: certificates(cp),
    ...(cp && inv.cluster.certRenewal === 'timer' ? { timer: unitState(CERT_TIMER) } : {}),
    ...(vip ? { vip: holdsAddress(vip) } : {}),
    ...(clusterReads ? { cluster: clusterNodes } : {}),
  };
}

export async function collectStatus(inv: Inventory, o: StatusFlags, prompt?: Prompt): Promise<{ hosts: HostStatus[]; cluster: ClusterStatus }> {
  const read = await readFacts(inv, o, prompt, { step: 'status', facts: (spec, reached) => statusFacts(inv, spec, reached) });
  let cluster: ClusterStatus = { asked: false, nodes: [], missingFromCluster: null, notInInventory: null, controlPlanesDown: [] };
  const vip = inv.cluster.loadBalancer?.type === 'kube-vip' ? inv.cluster.loadBalancer.address : undefined;
  const hosts: HostStatus[] = read.map((r): HostStatus => {
    if (!r.connected || !r.values) return { host: r.host, reachable: false, error: r.error };
    // the facts this host was asked (statusFacts): the optional ones only where they apply
    const v = r.values as { versions: ComponentVersions; joined: boolean; certs: CertFacts; timer?: UnitState; vip?: boolean; cluster?: { nodes: ClusterStatus['nodes']; proxyMode: string } };
    const cp = r.spec.role === 'control-plane';
    const runtime = inv.cluster.containerRuntime === 'docker' ? `docker ${v.versions.docker || '-'}` : `containerd ${v.versions.containerd || '-'}`;
    if (v.cluster) cluster = { asked: true, answeredBy: r.host, nodes: v.cluster.nodes, proxyMode: v.cluster.proxyMode, missingFromCluster: [], notInInventory: [], controlPlanesDown: [] };
    return {
      host: r.host, reachable: true, os: r.connected.facts.prettyName, runtime,
      kubelet: v.versions.kubelet || '-', kubeadm: v.versions.kubeadm || '-', joined: v.joined,
      ...(vip && cp ? { holdsVip: Boolean(v.vip) } : {}),
      ...(v.joined ? { certificates: certVerdict(v.certs, cp) } : {}),
      ...(v.timer ? { certRenewalTimer: v.timer.active } : {}),
    };
  });
  // a control plane answered over SSH: the cluster was asked, whether or not its API server answered
  if (read.some((r) => r.spec.role === 'control-plane' && r.connected)) cluster.asked = true;
  if (cluster.answeredBy) {
    const names = new Set(cluster.nodes.map((n) => n.name));
    cluster.missingFromCluster = inv.hosts.filter((h) => !names.has(h.name)).map((h) => h.name);
    cluster.notInInventory = cluster.nodes.filter((n) => !inv.hosts.some((h) => h.name === n.name)).map((n) => n.name);
    for (const h of hosts) h.node = cluster.nodes.find((n) => n.name === h.host)?.status ?? 'not in cluster';
  }
  const cpNames = inv.hosts.filter((h) => h.role === 'control-plane').map((h) => h.name);
  cluster.controlPlanesDown = hosts.filter((h) => cpNames.includes(h.host) && (!h.reachable || (cluster.answeredBy && h.node !== 'Ready'))).map((h) => h.host);
  if (vip) cluster.vip = { address: vip, heldBy: hosts.filter((h) => h.holdsVip).map((h) => h.host) };
  return { hosts, cluster };
}

function vipLine(v: { address: string; heldBy: string[] }): string {
  if (v.heldBy.length === 1) return `kube-vip VIP ${v.address} is held by ${v.heldBy[0]}`;
  if (!v.heldBy.length) return `kube-vip VIP ${v.address} is held by no reachable control plane`;
  return `kube-vip VIP ${v.address} is held by ${v.heldBy.join(' and ')} at once: their ARP answers compete`;
}

export async function status(inv: Inventory, o: StatusFlags, io: Io, prompt?: Prompt): Promise<number> {
  const { hosts, cluster } = await collectStatus(inv, o, prompt);
  // an expired certificate is a cluster that stops answering; under 30 days is a warning
  const healthy = hosts.every((h) => h.reachable && h.joined && h.node === 'Ready' && h.certificates?.verdict !== 'fail') && cluster.missingFromCluster?.length === 0
    && (!cluster.vip || cluster.vip.heldBy.length === 1);
  const warnings = hosts.flatMap((h) => (h.certificates?.verdict === 'warn' ? [`${h.host}: certificates: ${h.certificates.detail}`] : []))
    .concat(hosts.flatMap((h) => (h.certRenewalTimer && h.certRenewalTimer !== 'active' ? [`${h.host}: ${CERT_TIMER} is ${h.certRenewalTimer} (cluster.certRenewal: timer; kbootstrap up installs it)`] : [])));
  if (o.output === 'json') {
    io.out(JSON.stringify({ hosts, cluster, healthy, warnings }, null, 2) + '\n');
  } else {
    // the reasons go under the table, each on its own lines: a column sized for error text would push the table past 80 columns
    io.out(table([['HOST', 'REACHABLE', 'OS', 'RUNTIME', 'KUBELET', 'JOINED', 'NODE'], ...hosts.map((h) => (h.reachable
      ? [h.host, 'yes', h.os!, h.runtime!, h.kubelet!, h.joined ? 'yes' : 'no', h.node ?? '-']
      : [h.host, 'no', '-', '-', '-', '-', '-']))]));
    const unreachable = hosts.filter((h) => !h.reachable);
    if (unreachable.length) io.out('\n' + unreachable.map((h) => wrap(`${h.host}: ${h.error?.replace(`${h.host}: `, '') ?? 'not reachable'}`, io.columns)).join('\n') + '\n');
    if (cluster.answeredBy) {
      io.out(`\ncluster ${inv.cluster.name} (API server via ${cluster.answeredBy}, kube-proxy mode ${cluster.proxyMode}):\n`);
      io.out(table([['NODE', 'STATUS', 'ROLES', 'VERSION', 'ADDRESS'], ...cluster.nodes.map((n) => [n.name, n.status, n.roles, n.version, n.address])]));
      if (cluster.missingFromCluster?.length) io.out(`in the inventory but not in the cluster: ${cluster.missingFromCluster.join(', ')}\n`);
      if (cluster.notInInventory?.length) io.out(`in the cluster but not in the inventory: ${cluster.notInInventory.join(', ')}\n`);
    } else {
      io.out(hosts.some((h) => h.reachable) ? '\nno cluster answers on the first reachable control plane\n' : '\nno host answered: the cluster could not be asked\n');
    }
    if (cluster.vip) io.out(`${vipLine(cluster.vip)}\n`);
    const cps = inv.hosts.filter((h) => h.role === 'control-plane').length;
    if (cluster.controlPlanesDown.length) io.out(`control planes: ${cps - cluster.controlPlanesDown.length} of ${cps} up; down: ${cluster.controlPlanesDown.join(', ')}\n`);
    const certs = hosts.filter((h) => h.certificates);
    if (certs.length) {
      io.out('\ncertificates (kbootstrap certs check lists them all):\n');
      io.out(table([['HOST', 'CERTIFICATES', 'DETAIL', ...(inv.cluster.certRenewal === 'timer' ? ['RENEWAL TIMER'] : [])],
        ...certs.map((h) => [h.host, h.certificates!.verdict === 'pass' ? 'ok' : h.certificates!.verdict === 'warn' ? 'WARN' : 'FAIL', h.certificates!.detail, ...(inv.cluster.certRenewal === 'timer' ? [h.certRenewalTimer ?? '-'] : [])])]));
    }
    for (const w of warnings) io.err(`kbootstrap: warning: ${w}\n`);
  }
  return healthy ? EXIT.ok : EXIT.failed;
}
