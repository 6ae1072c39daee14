/**
 * For the steps that act on the cluster through one control plane (token
 * create, token revoke): the control planes are asked in inventory order,
 * and the first through which the cluster answers does the work; the later
 * ones are skipped. What each one's check found is this run's
 * ThroughControlPlane, shared by the step's hosts.
 */
import { clusterAnswers, type ClusterAnswers } from '../host/fact.js';
import type { StepContext } from './types.js';

export interface ThroughControlPlane {
  /** the control planes, in the order they are asked */
  order: string[];
  /** what each one's check found (a host that was not reached is absent) */
  answers: Map<string, ClusterAnswers>;
  /** the control plane the step acted through */
  actedThrough?: string;
}

export const throughControlPlanes = (order: string[]): ThroughControlPlane => ({ order, answers: new Map() });

/** The reason to skip this control plane: an earlier one answered for the cluster, or was acted through. */
export function answeredEarlier(v: ThroughControlPlane, ctx: StepContext): string | undefined {
  const me = v.order.indexOf(ctx.host.name);
  if (v.actedThrough && v.actedThrough !== ctx.host.name) return `done through ${v.actedThrough}`;
  const earlier = v.order.slice(0, me).find((n) => v.answers.get(n)?.answers);
  return earlier ? `the cluster answers through ${earlier}` : undefined;
}

/**
 * Read this control plane's answer. When the cluster does not answer through it:
 * a later control plane is asked (done, with the reason), or, on the last one, a
 * refusal naming what each said.
 */
export function readAnswer(v: ThroughControlPlane, host: string, stdout: string): { answers: true } | { answers: false; done: boolean; reason: string } {
  const a = clusterAnswers.parse(stdout);
  v.answers.set(host, a);
  if (a.answers) return { answers: true };
  const next = v.order.slice(v.order.indexOf(host) + 1)[0];
  if (next) return { answers: false, done: true, reason: `the cluster does not answer through ${host} (${a.why}): ${next} is asked next` };
  const said = v.order.map((n) => `${n}: ${v.answers.get(n)?.why ?? 'not reached'}`).join('; ');
  return { answers: false, done: false, reason: `no control plane with a running cluster (${said})` };
}
