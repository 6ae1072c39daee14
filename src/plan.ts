/**
 * The plan: the phases of src/phases.ts with the registry's steps in them,
 * narrowed to the hosts and steps this run asks for.
 */
import type { HostSpec, Inventory } from './inventory/model.js';
import { CERTS_RENEW_PHASES, PHASES, UPGRADE_PHASES, type PhaseDef } from './phases.js';
import { STEPS, STEP_IDS, UPGRADE_STEPS, certsRenewSteps } from './steps/index.js';
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
  /** the steps of this plan in registry order (a step may serve several phases) */
  order: AnyStep[];
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

export function buildPlan(inv: Inventory, f: PlanFilter = {}, phaseDefs: readonly PhaseDef[] = PHASES, registry: readonly AnyStep[] = STEPS): Plan {
  validateFilter(inv, f);
  const only = f.only?.length ? new Set(f.only) : undefined;
  const wanted = (s: AnyStep) => s.mandatory || (!f.steps?.length || f.steps.includes(s.id)) && !(f.skipSteps ?? []).includes(s.id);
  const phases: Phase[] = [];
  for (const def of phaseDefs) {
    const steps = registry.filter((s) => s.phases.includes(def.id) && wanted(s));
    const takesPart = (h: HostSpec) => (def.ignoresOnly || !only || only.has(h.name)) && steps.some((s) => s.hosts(inv).includes(h));
    const hosts = def.hosts(inv).filter(takesPart);
    if (steps.length && hosts.length) phases.push({ ...def, steps, hosts });
  }
  const touched = new Set(phases.flatMap((p) => p.hosts));
  const used = new Set(phases.flatMap((p) => p.steps));
  return { phases, hosts: inv.hosts.filter((h) => touched.has(h)), order: registry.filter((s) => used.has(s)) };
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
