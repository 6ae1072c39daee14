import { describe, expect, it } from 'vitest';
import { buildPlan, stepsFor } from '../src/plan.js';
import { PHASES, UPGRADE_PHASES } from '../src/phases.js';
import { STEPS } from '../src/steps/index.js';
import { UsageError } from '../src/errors.js';
import { exampleInventory as inv } from './support/contexts.js';

describe('plan', () => {
  it('orders phases: the version gate, prepare, init, control-plane joins (serial), worker joins (parallel), cluster steps', () => {
    const plan = buildPlan(inv('rocky-ha'));
    expect(plan.phases.map((p) => [p.id, p.mode, p.hosts.map((h) => h.name)])).toEqual([
      ['gate', 'serial', ['cp-1']],
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
    expect(stepsFor(plan.phases.find((p) => p.id === 'prepare')!, i.hosts[1]!, i).map((s) => s.id)).toEqual([
      'hostname', 'hosts-file', 'selinux', 'firewall', 'swap', 'kernel-modules', 'sysctl', 'base-repositories', 'container-runtime', 'crictl', 'kube-packages',
    ]);
  });

  it('the registry: unique ids, titles, known phases, and every requirement registered earlier', () => {
    const ids = STEPS.map((s) => s.id);
    expect(new Set(ids).size).toBe(ids.length);
    const phaseIds = [...PHASES, ...UPGRADE_PHASES].map((p) => p.id);
    STEPS.forEach((s, i) => {
      expect(s.title.length, s.id).toBeGreaterThan(10);
      expect(s.phases.length, s.id).toBeGreaterThan(0);
      for (const p of s.phases) expect(phaseIds, s.id).toContain(p);
      for (const r of s.requires) expect(ids.indexOf(r), `${s.id} requires ${r}`).toBeGreaterThanOrEqual(0);
      for (const r of s.requires) expect(ids.indexOf(r), `${s.id} requires ${r}, registered later`).toBeLessThan(i);
    });
    // a step's phases follow the phase order of the steps before it
    const firstPhase = STEPS.map((s) => phaseIds.indexOf(s.phases[0]!));
    expect(firstPhase).toEqual([...firstPhase].sort((a, b) => a - b));
  });

  it('--only keeps the named hosts and the cluster steps on the first control plane', () => {
    const plan = buildPlan(inv('lab'), { only: ['k8s-node02'] });
    expect(plan.phases.map((p) => [p.id, p.hosts.map((h) => h.name)])).toEqual([
      ['gate', ['k8s-master']],
      ['prepare', ['k8s-node02']],
      ['join-workers', ['k8s-node02']],
      ['cluster', ['k8s-master']],
    ]);
  });

  it('--steps and --skip-steps filter steps', () => {
    const plan = buildPlan(inv('lab'), { steps: ['swap', 'sysctl'] });
    expect(plan.phases.map((p) => [p.id, p.steps.map((s) => s.id)])).toEqual([['gate', ['cluster-version']], ['prepare', ['swap', 'sysctl']]]);
    // the version gate is not optional: --skip-steps cannot let kube-packages install another version on a running cluster
    expect(buildPlan(inv('lab'), { skipSteps: ['cluster-version'] }).phases[0]!.steps.map((s) => s.id)).toEqual(['cluster-version']);
    const skip = buildPlan(inv('lab'), { skipSteps: ['verify', 'cni'] });
    expect(skip.phases.at(-1)!.steps.map((s) => s.id)).toEqual(['kube-proxy-mode', 'node-labels']);
  });

  it('refuses unknown hosts and steps with a usage error and a did-you-mean', () => {
    expect(() => buildPlan(inv('lab'), { only: ['nope'] })).toThrow(UsageError);
    expect(() => buildPlan(inv('lab'), { only: ['k8s-node2'] })).toThrow(`--only: no host named "k8s-node2" in ${inv('lab').file} (did you mean "k8s-node02"?); hosts: k8s-master, k8s-node01, k8s-node02`);
    expect(() => buildPlan(inv('lab'), { steps: ['swp'] })).toThrow(/^--steps: no step "swp" \(did you mean "swap"\?\); steps: cluster-version, bundle-upload, bundle-serve, hostname, hosts-file,/);
    expect(() => buildPlan(inv('lab'), { skipSteps: ['kubelet'] })).toThrow(/^--skip-steps: no step "kubelet"; steps: cluster-version, bundle-upload, bundle-serve, hostname, hosts-file,/);
  });
});
