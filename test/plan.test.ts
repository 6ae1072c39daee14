import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadInventoryFile } from '../src/inventory/load.js';
import { buildPlan, stepsFor } from '../src/plan.js';
import { ALL_STEPS } from '../src/steps/index.js';
import { UsageError } from '../src/errors.js';

const inv = (name: string) => loadInventoryFile(join(import.meta.dirname, '..', 'inventories', `${name}.yaml`)).inventory;

describe('plan', () => {
  it('orders phases: prepare, init, control-plane joins (serial), worker joins (parallel), cluster steps', () => {
    const plan = buildPlan(inv('rocky-ha'));
    expect(plan.phases.map((p) => [p.id, p.mode, p.hosts.map((h) => h.name)])).toEqual([
      ['prepare', 'parallel', ['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2']],
      ['init', 'serial', ['cp-1']],
      ['join-control-planes', 'serial', ['cp-2', 'cp-3']],
      ['join-workers', 'parallel', ['worker-1', 'worker-2']],
      ['cluster', 'serial', ['cp-1']],
    ]);
    expect(plan.phases.at(-1)!.steps.map((s) => s.id)).toEqual(['cni', 'kube-proxy-mode', 'node-labels', 'verify']);
  });

  it('runs the prepare steps in the documented order on every host', () => {
    const i = inv('lab');
    const plan = buildPlan(i);
    expect(stepsFor(plan.phases[0]!, i.hosts[1]!, i).map((s) => s.id)).toEqual([
      'hostname', 'hosts-file', 'selinux', 'firewall', 'swap', 'kernel-modules', 'sysctl', 'container-runtime', 'crictl', 'kube-packages',
    ]);
  });

  it('gives every step a unique id and a title', () => {
    const ids = ALL_STEPS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const s of ALL_STEPS) expect(s.title.length).toBeGreaterThan(10);
  });

  it('--only keeps the named hosts and the cluster steps on the first control plane', () => {
    const plan = buildPlan(inv('lab'), { only: ['k8s-node02'] });
    expect(plan.phases.map((p) => [p.id, p.hosts.map((h) => h.name)])).toEqual([
      ['prepare', ['k8s-node02']],
      ['join-workers', ['k8s-node02']],
      ['cluster', ['k8s-master']],
    ]);
  });

  it('--steps and --skip-steps filter steps', () => {
    const plan = buildPlan(inv('lab'), { steps: ['swap', 'sysctl'] });
    expect(plan.phases.map((p) => [p.id, p.steps.map((s) => s.id)])).toEqual([['prepare', ['swap', 'sysctl']]]);
    const skip = buildPlan(inv('lab'), { skipSteps: ['verify', 'cni'] });
    expect(skip.phases.at(-1)!.steps.map((s) => s.id)).toEqual(['kube-proxy-mode', 'node-labels']);
  });

  it('refuses unknown hosts and steps with a usage error', () => {
    expect(() => buildPlan(inv('lab'), { only: ['nope'] })).toThrow(UsageError);
    expect(() => buildPlan(inv('lab'), { steps: ['swapp'] })).toThrow(/no step "swapp"/);
  });
});
