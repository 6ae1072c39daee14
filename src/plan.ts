/**
 * The plan: phases in order, each a set of steps on a set of hosts, run in
 * parallel or one host at a time. Order matters for the cluster: prepare
 * every host, init the first control plane, join the other control planes
 * one by one, join the workers together, then the cluster-wide steps.
 */
import type { HostSpec, Inventory } from './inventory/model.js';
import { ALL_STEPS, PREPARE_STEPS } from './steps/index.js';
import { kubeadmInitStep } from './steps/kubeadm-init.js';
import { joinStep } from './steps/join.js';
import { cniStep } from './steps/cni.js';
import { kubeProxyModeStep } from './steps/kube-proxy-mode.js';
import { nodeLabelsStep } from './steps/node-labels.js';
import { verifyStep } from './steps/verify.js';
import type { Step } from './steps/types.js';
import { UsageError } from './errors.js';

export interface Phase {
  id: string;
  title: string;
  steps: Step[];
  hosts: HostSpec[];
  mode: 'parallel' | 'serial';
}

export interface PlanFilter {
  only?: string[];
  steps?: string[];
  skipSteps?: string[];
}

export interface Plan {
  phases: Phase[];
  /** hosts the run touches, inventory order */
  hosts: HostSpec[];
}

export function validateFilter(inv: Inventory, f: PlanFilter): void {
  const names = new Set(inv.hosts.map((h) => h.name));
  for (const h of f.only ?? []) if (!names.has(h)) throw new UsageError(`--only: no host named ${JSON.stringify(h)} in ${inv.file} (hosts: ${[...names].join(', ')})`);
  const ids = new Set(ALL_STEPS.map((s) => s.id));
  for (const s of [...(f.steps ?? []), ...(f.skipSteps ?? [])]) {
    if (!ids.has(s)) throw new UsageError(`no step ${JSON.stringify(s)} (steps: ${[...ids].join(', ')})`);
  }
}

export function buildPlan(inv: Inventory, f: PlanFilter = {}): Plan {
  validateFilter(inv, f);
  const only = f.only?.length ? new Set(f.only) : undefined;
  const wanted = (s: Step) => (!f.steps?.length || f.steps.includes(s.id)) && !(f.skipSteps ?? []).includes(s.id);
  const pick = (s: Step, hosts: HostSpec[]) => s.hosts(inv).filter((h) => hosts.includes(h) && (!only || only.has(h.name)));

  const firstCp = inv.hosts.find((h) => h.role === 'control-plane')!;
  const otherCps = inv.hosts.filter((h) => h.role === 'control-plane' && h !== firstCp);
  const workers = inv.hosts.filter((h) => h.role === 'worker');
  // cluster-wide steps run on the first control plane even when --only names other hosts: they act on those hosts' nodes
  const clusterHost = [firstCp];

  const raw: Phase[] = [
    { id: 'prepare', title: 'Prepare every host', steps: PREPARE_STEPS, hosts: inv.hosts, mode: 'parallel' },
    { id: 'init', title: 'Initialise the first control plane', steps: [kubeadmInitStep], hosts: [firstCp], mode: 'serial' },
    { id: 'join-control-planes', title: 'Join the other control planes, one at a time', steps: [joinStep], hosts: otherCps, mode: 'serial' },
    { id: 'join-workers', title: 'Join the workers', steps: [joinStep], hosts: workers, mode: 'parallel' },
    { id: 'cluster', title: 'Cluster add-ons and checks', steps: [cniStep, kubeProxyModeStep, nodeLabelsStep, verifyStep], hosts: clusterHost, mode: 'serial' },
  ];
  const phases: Phase[] = [];
  for (const p of raw) {
    const steps = p.steps.filter(wanted);
    const isCluster = p.id === 'cluster';
    const hosts = p.hosts.filter((h) => steps.some((s) => (isCluster ? s.hosts(inv).includes(h) : pick(s, [h]).length > 0)));
    if (steps.length && hosts.length) phases.push({ ...p, steps, hosts });
  }
  const touched = new Set(phases.flatMap((p) => p.hosts));
  return { phases, hosts: inv.hosts.filter((h) => touched.has(h)) };
}

/** The steps a host runs in a phase. */
export function stepsFor(phase: Phase, host: HostSpec, inv: Inventory): Step[] {
  return phase.steps.filter((s) => s.hosts(inv).includes(host));
}
