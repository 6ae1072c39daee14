/**
 * The plan: a command's phases (src/phases.ts) with the steps it puts in each
 * (src/steps/index.ts, src/commands/*.ts), narrowed to the hosts and steps
 * this run asks for.
 */
import type { HostSpec, Inventory } from './inventory/model.js';
import { CERTS_RENEW_PHASES, PHASES, UPGRADE_PHASES, type PhaseDef } from './phases.js';
import { STEP_IDS, UP_STEPS, UPGRADE_STEPS, certsRenewSteps, type PhaseSteps } from './steps/index.js';
import { didYouMean } from './inventory/load.js';
import type { AnyStep } from './steps/types.js';
import { UsageError } from './errors.js';

export interface Phase extends Omit<PhaseDef, 'hosts'> {
  steps: AnyStep[];
  hosts: HostSpec[];
}

export interface PlanFilter {
  only?: string[];
  steps?: string[];
  skipSteps?: string[];
}

/** The filter out of the CLI's options (which carry others besides). */
export function filterFrom(o: PlanFilter): PlanFilter {
  return { only: o.only, steps: o.steps, skipSteps: o.skipSteps };
}

export interface Plan {
  phases: Phase[];
  /** hosts the run touches, inventory order */
  hosts: HostSpec[];
  /** every step of this plan once, each phase's steps in that phase's order (a step may serve several phases) */
  order: AnyStep[];
  /** the control plane cluster-wide steps read and act through (ctx.firstControlPlane); default the inventory's first (reset: the first that stays) */
  anchor?: HostSpec;
}

const hint = (wrong: string, choices: readonly string[]) => {
  const best = didYouMean(wrong, [...choices]);
  return best ? ` (did you mean ${JSON.stringify(best)}?)` : '';
};

/** --only, --steps and --skip-steps name hosts and steps that exist; a typo gets a did-you-mean. */
export function validateFilter(inv: Inventory, f: PlanFilter): void {
  const names = inv.hosts.map((h) => h.name);
  for (const h of f.only ?? []) {
    if (!names.includes(h)) throw new UsageError(`--only: no host named ${JSON.stringify(h)} in ${inv.file}${hint(h, names)}; hosts: ${names.join(', ')}`);
  }
  for (const [flag, given] of [['--steps', f.steps], ['--skip-steps', f.skipSteps]] as const) {
    for (const id of given ?? []) {
      if (!STEP_IDS.includes(id)) throw new UsageError(`${flag}: no step ${JSON.stringify(id)}${hint(id, STEP_IDS)}; steps: ${STEP_IDS.join(', ')}`);
    }
  }
}

/** The plan of a command: its phases, and its steps by phase; by default up's. */
export function buildPlan(inv: Inventory, f: PlanFilter = {}, phaseDefs: readonly PhaseDef[] = PHASES, stepsOf: PhaseSteps = UP_STEPS): Plan {
  validateFilter(inv, f);
  for (const id of Object.keys(stepsOf)) if (!phaseDefs.some((d) => d.id === id)) throw new Error(`steps given for ${id}, which is not one of this command's phases`);
  const only = f.only?.length ? new Set(f.only) : undefined;
  const wanted = (s: AnyStep) => s.mandatory || (!f.steps?.length || f.steps.includes(s.id)) && !(f.skipSteps ?? []).includes(s.id);
  const phases: Phase[] = [];
  for (const def of phaseDefs) {
    const steps = (stepsOf[def.id] ?? []).filter(wanted);
    const takesPart = (h: HostSpec) => (def.ignoresOnly || !only || only.has(h.name)) && steps.some((s) => s.hosts(inv).includes(h));
    const hosts = def.hosts(inv).filter(takesPart);
    if (steps.length && hosts.length) phases.push({ ...def, steps, hosts });
  }
  const touched = new Set(phases.flatMap((p) => p.hosts));
  return { phases, hosts: inv.hosts.filter((h) => touched.has(h)), order: stepOrder(phases) };
}

/**
 * Every step once, in an order that keeps each phase's own order: a step first
 * seen in a later phase goes right after the step before it there (upgrade-node
 * after upgrade-kubeadm), else at the end. The dry run lists a host's steps so.
 */
function stepOrder(phases: readonly Phase[]): AnyStep[] {
  const order: AnyStep[] = [];
  for (const p of phases) {
    p.steps.forEach((s, i) => {
      if (order.includes(s)) return;
      const before = p.steps.slice(0, i).reverse().find((b) => order.includes(b));
      order.splice(before ? order.indexOf(before) + 1 : order.length, 0, s);
    });
  }
  return order;
}

/** The plan of `kbootstrap upgrade`: its own phases and steps, every host. */
export function buildUpgradePlan(inv: Inventory): Plan {
  return buildPlan(inv, {}, UPGRADE_PHASES, UPGRADE_STEPS);
}

/** The plan of `kbootstrap certs renew`: renew what has less than minRemainingMs left. */
export function buildCertsRenewPlan(inv: Inventory, minRemainingMs: number): Plan {
  return buildPlan(inv, {}, CERTS_RENEW_PHASES, certsRenewSteps(minRemainingMs));
}

/** The steps a host runs in a phase. */
export function stepsFor(phase: Phase, host: HostSpec, inv: Inventory): AnyStep[] {
  return phase.steps.filter((s) => s.hosts(inv).includes(host));
}
