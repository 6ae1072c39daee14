/**
 * The phases of each command, in order: how each runs (parallel or serial,
 * which hosts, a gate, a limit). Steps do not name their phases: each
 * command pairs its phases with its steps (src/steps/index.ts for up,
 * upgrade and certs renew; src/commands/*.ts for the others), and buildPlan
 * (src/plan.ts) reads the pair. Order matters for the cluster in up: prepare
 * every host, init the first control plane, join the other control planes
 * one by one, join the workers together, then the cluster-wide steps.
 */
import { bundleServerHost, type HostSpec, type Inventory } from './inventory/model.js';

export interface PhaseDef {
  id: string;
  title: string;
  mode: 'parallel' | 'serial';
  /** hosts that take part, before --only and the steps' own host lists narrow them */
  hosts(inv: Inventory): HostSpec[];
  /**
   * The checks of this phase read cluster-wide state (an apply anywhere may
   * change them); prepare checks read only their own host.
   */
  clusterWide: boolean;
  /** runs on its hosts even when --only names other hosts (it acts on those hosts' nodes) */
  ignoresOnly: boolean;
  /** reads and refuses, changes nothing: only its own failure stops the run before the next phase */
  gate?: boolean;
  /** hosts at once: --concurrency, or --max-unavailable for phases that take nodes out of service */
  limit?: 'max-unavailable';
  /** a failed host stops the phase: no further host starts it (an upgrade does not take another node down after one failed) */
  haltOnFailure?: boolean;
  /** its checks are sent when a host's turn comes, not in the first batch: they read what an earlier phase found (reset: the preflight's reading of etcd and the nodes) */
  lateChecks?: boolean;
}

const cps = (inv: Inventory) => inv.hosts.filter((h) => h.role === 'control-plane');

export const PHASES: readonly PhaseDef[] = [
  // before any host changes: a cluster at another version than the inventory's is upgraded by `kbootstrap upgrade`, not by up
  { id: 'gate', title: 'Compare the running cluster with the inventory', mode: 'serial', hosts: (inv) => cps(inv).slice(0, 1), clusterWide: true, ignoresOnly: true, gate: true },
  // up --bundle only (src/steps/bundle.ts): the bundle goes once to its server (cluster.offline.server, else the first control plane) and is served from there
  { id: 'bundle', title: 'Serve the bundle to the hosts', mode: 'serial', hosts: (inv) => [bundleServerHost(inv)], clusterWide: false, ignoresOnly: true },
  { id: 'prepare', title: 'Prepare every host', mode: 'parallel', hosts: (inv) => inv.hosts, clusterWide: false, ignoresOnly: false },
  { id: 'init', title: 'Initialise the first control plane', mode: 'serial', hosts: (inv) => cps(inv).slice(0, 1), clusterWide: true, ignoresOnly: false },
  { id: 'join-control-planes', title: 'Join the other control planes, one at a time', mode: 'serial', hosts: (inv) => cps(inv).slice(1), clusterWide: true, ignoresOnly: false },
  { id: 'join-workers', title: 'Join the workers', mode: 'parallel', hosts: (inv) => inv.hosts.filter((h) => h.role === 'worker'), clusterWide: true, ignoresOnly: false },
  { id: 'cluster', title: 'Cluster add-ons and checks', mode: 'serial', hosts: (inv) => cps(inv).slice(0, 1), clusterWide: true, ignoresOnly: true },
];

const workers = (inv: Inventory) => inv.hosts.filter((h) => h.role === 'worker');

/**
 * The phases of `kbootstrap upgrade`, kubeadm's order
 * (https://kubernetes.io/docs/tasks/administer-cluster/kubeadm/kubeadm-upgrade/):
 * the first control plane (kubeadm upgrade apply), the other control planes
 * one at a time, then the workers, --max-unavailable at a time, each drained
 * while its kubelet moves.
 */
export const UPGRADE_PHASES: readonly PhaseDef[] = [
  { id: 'upgrade-preflight', title: 'Preflight: versions, node and etcd health', mode: 'serial', hosts: (inv) => cps(inv).slice(0, 1), clusterWide: true, ignoresOnly: true, gate: true },
  // upgrade --bundle only: as in up, after the preflight has found the cluster fit to move
  { id: 'bundle', title: 'Serve the bundle to the hosts', mode: 'serial', hosts: (inv) => [bundleServerHost(inv)], clusterWide: false, ignoresOnly: true },
  { id: 'upgrade-repositories', title: 'Switch the package repository to the target minor; the target\'s images in place', mode: 'parallel', hosts: (inv) => inv.hosts, clusterWide: false, ignoresOnly: false },
  { id: 'upgrade-first-control-plane', title: 'Upgrade the first control plane', mode: 'serial', hosts: (inv) => cps(inv).slice(0, 1), clusterWide: true, ignoresOnly: false },
  { id: 'upgrade-control-planes', title: 'Upgrade the other control planes, one at a time', mode: 'serial', hosts: (inv) => cps(inv).slice(1), clusterWide: true, ignoresOnly: false, haltOnFailure: true },
  { id: 'upgrade-workers', title: 'Upgrade the workers, --max-unavailable at a time', mode: 'parallel', hosts: workers, clusterWide: true, ignoresOnly: false, limit: 'max-unavailable', haltOnFailure: true },
  { id: 'upgrade-verify', title: 'Every node Ready, kube-system pods running', mode: 'serial', hosts: (inv) => cps(inv).slice(0, 1), clusterWide: true, ignoresOnly: true },
];

/**
 * The phases of `kbootstrap certs renew`: a gate that every control plane is up, then the control
 * planes one at a time (each one's static Pods restart: a failure stops before the next), then the
 * kubelets' own rotation, checked on every node.
 */
export const CERTS_RENEW_PHASES: readonly PhaseDef[] = [
  { id: 'certs-preflight', title: 'Preflight: every control plane up, every node Ready', mode: 'serial', hosts: (inv) => cps(inv).slice(0, 1), clusterWide: true, ignoresOnly: true, gate: true },
  { id: 'certs-control-planes', title: 'Renew the control planes\' certificates, one at a time', mode: 'serial', hosts: cps, clusterWide: true, ignoresOnly: false, haltOnFailure: true },
  { id: 'certs-kubelets', title: 'Kubelet client certificates rotate themselves', mode: 'parallel', hosts: (inv) => inv.hosts, clusterWide: false, ignoresOnly: false },
];

/** `kbootstrap backup`: one snapshot, taken on the first control plane whose etcd is healthy (src/steps/etcd-backup.ts). */
export const BACKUP_PHASES: readonly PhaseDef[] = [
  { id: 'backup', title: 'Snapshot etcd and copy the PKI and kubeadm-config', mode: 'serial', hosts: cps, clusterWide: true, ignoresOnly: true },
];

/**
 * `kbootstrap restore` (src/steps/etcd-restore.ts): refused while a cluster
 * answers on any control plane, then the CA keys and the etcd data onto the
 * first control plane; `up` then initialises it on that data and joins the others.
 */
export const RESTORE_PHASES: readonly PhaseDef[] = [
  { id: 'restore-gate', title: 'No cluster may answer on the control planes', mode: 'parallel', hosts: cps, clusterWide: true, ignoresOnly: true, gate: true },
  { id: 'restore', title: 'Restore the PKI and etcd onto the first control plane', mode: 'serial', hosts: (inv) => cps(inv).slice(0, 1), clusterWide: true, ignoresOnly: true },
];
