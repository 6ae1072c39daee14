import { describe, expect, it } from 'vitest';
import { buildPlan, buildUpgradePlan, stepsFor, type Plan } from '../src/plan.js';
import { buildTokenCreatePlan, buildTokenRevokePlan } from '../src/commands/token.js';
import { buildResetPlan } from '../src/commands/reset.js';
import { BACKUP_PHASES, CERTS_RENEW_PHASES, RESTORE_PHASES, type PhaseDef } from '../src/phases.js';
import { UP_STEPS, UPGRADE_STEPS, certsRenewSteps, type PhaseSteps } from '../src/steps/index.js';
import { verifyStep } from '../src/steps/verify.js';
import { backupSteps, restoreSteps } from '../src/commands/etcd.js';
import type { RestoreSource } from '../src/steps/etcd-restore.js';
import { fixtureBackup } from './support/etcd-fixture.js';
import { PHASES, UPGRADE_PHASES } from '../src/phases.js';
import { UsageError } from '../src/errors.js';
import { exampleInventory as inv } from './support/contexts.js';

const src: RestoreSource = { ...fixtureBackup('rocky-ha'), file: 'backup.tar.gz' };
const reset = buildResetPlan(inv('rocky-ha'), { host: ['cp-2', 'worker-1'] });
/** a plan's phases and steps as a command's own (reset's and token's plans are built per run) */
const owned = (p: Plan): [readonly PhaseDef[], PhaseSteps] => [p.phases.map((x) => ({ ...x, hosts: () => x.hosts })), Object.fromEntries(p.phases.map((x) => [x.id, x.steps]))];
/** Every command that is a plan on the Runner: its phases and its steps by phase. */
const COMMANDS: Record<string, [readonly PhaseDef[], PhaseSteps]> = {
  up: [PHASES, UP_STEPS],
  upgrade: [UPGRADE_PHASES, UPGRADE_STEPS],
  'certs renew': [CERTS_RENEW_PHASES, certsRenewSteps(1)],
  backup: [BACKUP_PHASES, backupSteps({})],
  restore: [RESTORE_PHASES, restoreSteps(src)],
  // reset builds its phases per run (the hosts it resets): as its plan holds them
  reset: owned(reset),
  token: owned(buildTokenCreatePlan(inv('rocky-ha'), { ttl: '2h' }, {})),
  'token revoke': owned(buildTokenRevokePlan(inv('rocky-ha'), 'abcdef')),
};

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
      'hostname', 'hosts-file', 'selinux', 'firewall', 'swap', 'kernel-modules', 'sysctl', 'base-repositories', 'container-runtime', 'crictl', 'kube-packages', 'images',
    ]);
  });

  it.each(Object.entries(COMMANDS))('%s owns its phases and steps: every phase has steps, every step list names one of its phases, one step per id, titles', (_name, [defs, stepsOf]) => {
    expect(Object.keys(stepsOf).sort()).toEqual(defs.map((d) => d.id).sort());
    const steps = [...new Set(Object.values(stepsOf).flat())];
    expect(new Set(steps.map((s) => s.id)).size, 'two steps with one id').toBe(steps.length);
    for (const s of steps) expect(s.title.length, s.id).toBeGreaterThan(10);
    for (const d of defs) expect(stepsOf[d.id]!.length, d.id).toBeGreaterThan(0);
  });

  it('steps given for a phase the command does not have are refused: a plan is self-contained', () => {
    expect(() => buildPlan(inv('lab'), {}, PHASES, { ...UP_STEPS, 'upgrade-verify': [verifyStep] })).toThrow('steps given for upgrade-verify, which is not one of this command\'s phases');
  });

  it('the dry run\'s order keeps each phase\'s own: upgrade-node right after upgrade-kubeadm, which the first control plane runs without it', () => {
    const ids = buildUpgradePlan(inv('rocky-ha')).order.map((s) => s.id);
    expect(ids).toEqual(['upgrade-preflight', 'upgrade-cni', 'upgrade-repository', 'bundle-images', 'images', 'upgrade-kubeadm', 'upgrade-node', 'upgrade-apply', 'container-runtime', 'upgrade-kubelet', 'verify']);
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
