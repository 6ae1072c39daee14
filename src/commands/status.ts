/**
 * kbootstrap status: what each host runs and whether it is in the cluster,
 * and the cluster's nodes as the API server sees them, compared with the
 * inventory. Read-only.
 */
import type { Inventory } from '../inventory/model.js';
import { Session, type SessionFlags } from '../session.js';
import { EXIT } from '../errors.js';
import { render } from '../shell/templates.js';
import { kv, first } from '../shell/kv.js';
import type { Io } from '../io.js';
import { table } from '../table.js';
import type { Prompt } from '../ssh/credentials.js';
import { certVerdict, parseCerts, type CertVerdict } from '../kube/certs.js';
import { readCerts } from '../steps/certs.js';
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
  answeredBy?: string;
  nodes: { name: string; status: string; roles: string; version: string; address: string }[];
  proxyMode?: string;
  missingFromCluster: string[];
  notInInventory: string[];
  /** kube-vip: the VIP and the hosts that hold it (one, when all is well) */
  vip?: { address: string; heldBy: string[] };
  /** control planes unreachable or whose node is not Ready */
  controlPlanesDown: string[];
}

export async function collectStatus(inv: Inventory, s: Session): Promise<{ hosts: HostStatus[]; cluster: ClusterStatus }> {
  await s.connect(inv.hosts);
  const firstCp = inv.hosts.find((h) => h.role === 'control-plane' && s.host(h.name) !== undefined);
  const hosts: HostStatus[] = [];
  let cluster: ClusterStatus = { nodes: [], missingFromCluster: [], notInInventory: [], controlPlanesDown: [] };
  const vip = inv.cluster.loadBalancer?.type === 'kube-vip' ? inv.cluster.loadBalancer.address : undefined;
  await Promise.all(inv.hosts.map(async (spec) => {
    const h = s.host(spec.name);
    if (!h) { hosts.push({ host: spec.name, reachable: false, error: s.error(spec.name) }); return; }
    const clusterReads = spec === firstCp;
    const cp = spec.role === 'control-plane';
    const timer = cp && inv.cluster.certRenewal === 'timer' ? CERT_TIMER : undefined;
    const out = await h.exec(render('status/host', { clusterReads, vip: cp ? vip : undefined, timer }) + readCerts(cp), { step: 'status', mutates: false, allowFailure: true });
    const m = kv(out.stdout);
    const runtime = inv.cluster.containerRuntime === 'docker' ? `docker ${first(m, 'docker') || '-'}` : `containerd ${first(m, 'containerd') || '-'}`;
    hosts.push({
      host: spec.name, reachable: true, os: h.facts.prettyName, runtime,
      kubelet: first(m, 'kubelet') || '-', kubeadm: first(m, 'kubeadm') || '-', joined: first(m, 'joined') === 'yes',
      ...(vip && spec.role === 'control-plane' ? { holdsVip: first(m, 'vip') === 'held' } : {}),
      ...(first(m, 'joined') === 'yes' ? { certificates: certVerdict(parseCerts(out.stdout), cp) } : {}),
      ...(timer ? { certRenewalTimer: first(m, 'cert-timer') || 'unknown' } : {}),
    });
    if (clusterReads && m.has('node')) {
      cluster = {
        answeredBy: spec.name,
        nodes: (m.get('node') ?? []).map((l) => { const [name, status, roles, version, address] = l.split(' '); return { name: name!, status: status!, roles: roles!, version: version!, address: address ?? '' }; }),
        proxyMode: first(m, 'proxy-mode') || 'iptables',
        missingFromCluster: [],
        notInInventory: [],
        controlPlanesDown: [],
      };
    }
  }));
  hosts.sort((a, b) => inv.hosts.findIndex((h) => h.name === a.host) - inv.hosts.findIndex((h) => h.name === b.host));
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
  const s = await Session.open(inv, o, prompt);
  try {
    const { hosts, cluster } = await collectStatus(inv, s);
    // an expired certificate is a cluster that stops answering; under 30 days is a warning
    const healthy = hosts.every((h) => h.reachable && h.joined && h.node === 'Ready' && h.certificates?.verdict !== 'fail') && !cluster.missingFromCluster.length
      && (!cluster.vip || cluster.vip.heldBy.length === 1);
    const warnings = hosts.flatMap((h) => (h.certificates?.verdict === 'warn' ? [`${h.host}: certificates: ${h.certificates.detail}`] : []))
      .concat(hosts.flatMap((h) => (h.certRenewalTimer && h.certRenewalTimer !== 'active' ? [`${h.host}: ${CERT_TIMER} is ${h.certRenewalTimer} (cluster.certRenewal: timer; kbootstrap up installs it)`] : [])));
    if (o.output === 'json') {
      io.out(JSON.stringify({ hosts, cluster, healthy, warnings }, null, 2) + '\n');
    } else {
      io.out(table([['HOST', 'REACHABLE', 'OS', 'RUNTIME', 'KUBELET', 'JOINED', 'NODE'], ...hosts.map((h) => (h.reachable
        ? [h.host, 'yes', h.os!, h.runtime!, h.kubelet!, h.joined ? 'yes' : 'no', h.node ?? '-']
        : [h.host, `no: ${h.error?.replace(`${h.host}: `, '')}`, '', '', '', '', '']))]));
      if (cluster.answeredBy) {
        io.out(`\ncluster ${inv.cluster.name} (API server via ${cluster.answeredBy}, kube-proxy mode ${cluster.proxyMode}):\n`);
        io.out(table([['NODE', 'STATUS', 'ROLES', 'VERSION', 'ADDRESS'], ...cluster.nodes.map((n) => [n.name, n.status, n.roles, n.version, n.address])]));
        if (cluster.missingFromCluster.length) io.out(`in the inventory but not in the cluster: ${cluster.missingFromCluster.join(', ')}\n`);
        if (cluster.notInInventory.length) io.out(`in the cluster but not in the inventory: ${cluster.notInInventory.join(', ')}\n`);
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
  } finally {
    await s.close();
  }
}
