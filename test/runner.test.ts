import { describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec, Inventory } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/os/index.js';
import { STEPS } from '../src/steps/index.js';
import { buildPlan } from '../src/plan.js';
import { Runner, type RunEvent, type RunOptions } from '../src/runner.js';
import type { ExecOptions, ExecResult, Transport } from '../src/transport/types.js';
import { FakeTransport, type Answer } from './support/fake-transport.js';
import { convergedOutput } from './support/converged.js';
import { ctxFor, exampleInventory } from './support/contexts.js';

const lab = exampleInventory('lab');
const TOKEN = 'abcdef.0123456789abcdef';
const HASH = `sha256:${'c'.repeat(64)}`;
const PREPARE = ['hostname', 'hosts-file', 'selinux', 'firewall', 'swap', 'kernel-modules', 'sysctl', 'base-repositories', 'container-runtime', 'crictl', 'kube-packages', 'images'];

function converged(inv: Inventory, spec: HostSpec): Record<string, string> {
  return Object.fromEntries(STEPS.filter((s) => s.hosts(inv).includes(spec)).map((s) => [s.id, convergedOutput(s, ctxFor(inv, spec.index, s))]));
}

type Exec = (script: string, opts: ExecOptions) => ExecResult;
const okExec: Exec = (script) => ({
  code: 0,
  stdout: script.includes('kubeadm token create') ? `kubeadm join 192.168.40.128:6443 --token ${TOKEN} --discovery-token-ca-cert-hash ${HASH}\n` : '',
  stderr: '',
});

async function run(inv: Inventory, answers: (h: HostSpec) => Record<string, Answer>, opts: Partial<RunOptions> = {}, exec: (h: HostSpec) => Exec = () => okExec) {
  const transports = new Map<string, FakeTransport>();
  const events: RunEvent[] = [];
  const runner = new Runner(inv, buildPlan(inv), async (spec) => {
    const t = new FakeTransport(answers(spec), exec(spec));
    transports.set(spec.name, t);
    return new Host(spec, t, assumedFacts(spec.os ?? 'rhel'));
  }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1, onEvent: (e) => events.push(e), ...opts });
  const result = await runner.run();
  return { result, transports, events };
}

const statuses = (outcomes: { host: string; step: string; status: string }[], host: string) =>
  Object.fromEntries(outcomes.filter((o) => o.host === host).map((o) => [o.step, o.status]));

describe('runner', () => {
  it('a converged cluster: every step ok, nothing applied, one round trip per host, the cluster read once', async () => {
    const { result, transports, events } = await run(lab, (h) => converged(lab, h));
    expect(result.failed).toBe(false);
    expect(statuses(result.outcomes, 'k8s-master')).toEqual({
      ...Object.fromEntries(PREPARE.map((s) => [s, 'ok'])),
      'cluster-version': 'ok', 'kubeadm-init': 'ok', cni: 'ok', 'kube-proxy-mode': 'ok', 'node-labels': 'ok', verify: 'ok',
      // the lab inventory asks for no renewal timer
      'cert-renewal-timer': 'skipped',
    });
    expect(statuses(result.outcomes, 'k8s-node01')).toEqual({ ...Object.fromEntries(PREPARE.map((s) => [s, 'ok'])), join: 'ok' });
    for (const [name, t] of transports) {
      expect(t.applied(), name).toEqual([]);
      expect(t.stats.roundTrips, name).toBe(1);
    }
    const reads = transports.get('k8s-master')!.calls.filter((c) => c.kind === 'check' && c.detail.includes('get nodes,configmaps,daemonsets,pods'));
    expect(reads).toHaveLength(1);
    expect(result.hosts.map((h) => [h.host, h.ok, h.changed, h.failed, h.roundTrips])).toEqual([['k8s-master', 18, 0, 0, 1], ['k8s-node01', 13, 0, 0, 1], ['k8s-node02', 13, 0, 0, 1]]);
    // the progress view hears of every connection, phase and step
    expect(events.filter((e) => e.type === 'connected').map((e) => e.type === 'connected' && e.host)).toEqual(['k8s-master', 'k8s-node01', 'k8s-node02']);
    expect(events.filter((e) => e.type === 'phase').map((e) => e.type === 'phase' && e.phase.id)).toEqual(['gate', 'prepare', 'init', 'join-workers', 'cluster']);
    expect(events.filter((e) => e.type === 'step-end')).toHaveLength(45);
  });

  it('applies what is not done, checks it again, and reports changed', async () => {
    const { result, transports } = await run(lab, (h) => ({
      ...converged(lab, h),
      swap: (n: number) => (n === 1 ? 'checked=swap\nactive=/dev/dm-1\n' : 'checked=swap\n'),
    }), { concurrency: 1 });
    expect(result.failed).toBe(false);
    const swap = result.outcomes.filter((o) => o.step === 'swap');
    expect(swap.map((o) => [o.host, o.status, o.reason])).toEqual([
      ['k8s-master', 'changed', '1 active swap device (/dev/dm-1)'],
      ['k8s-node01', 'changed', '1 active swap device (/dev/dm-1)'],
      ['k8s-node02', 'changed', '1 active swap device (/dev/dm-1)'],
    ]);
    const t = transports.get('k8s-node01')!;
    expect(t.applied('swap')).toHaveLength(1);
    expect(t.applied()).toHaveLength(1);
    // one batch, swap's apply and its re-check, then each later step on the host
    // checks again (an apply may have changed what they read): 3 + 7
    // one batch, swap's apply and its re-check; no later host step requires swap, so only join checks
    // again, as every check of a cluster-wide phase does after an apply anywhere (once per apply it saw)
    const later = t.calls.filter((c) => c.kind === 'check').map((c) => c.step).slice(12);
    expect(later.filter((s) => s !== 'join')).toEqual(['swap']);
    expect(t.stats.roundTrips).toBe(4);
  });

  it('after an apply only the checks of the steps that require it run again, in the same round trip as its own', async () => {
    // kernel-modules is missing; sysctl (which requires it) reads not done until the modules are loaded
    let loaded = false;
    const { result, transports } = await run(lab, (h) => {
      const c = converged(lab, h);
      return {
        ...c,
        'kernel-modules': () => (loaded ? c['kernel-modules']! : ''),
        sysctl: () => (loaded ? c.sysctl! : 'live=net.bridge.bridge-nf-call-iptables=\n'),
      };
    }, { concurrency: 1 }, () => (script, opts) => {
      if (opts.step === 'kernel-modules' && opts.mutates) loaded = true;
      return okExec(script, opts);
    });
    expect(result.failed).toBe(false);
    expect(statuses(result.outcomes, 'k8s-master')).toMatchObject({ 'kernel-modules': 'changed', sysctl: 'ok' });
    const t = transports.get('k8s-master')!;
    const checks = t.calls.filter((c) => c.kind === 'check').map((c) => c.step);
    // in the first batch each; then kernel-modules again with sysctl (which requires it), and no other host step
    expect(checks.filter((s) => ['hostname', 'swap', 'container-runtime', 'crictl', 'kube-packages'].includes(s))).toEqual(['hostname', 'swap', 'container-runtime', 'crictl', 'kube-packages']);
    expect(checks.filter((s) => s === 'kernel-modules' || s === 'sysctl')).toEqual(['kernel-modules', 'sysctl', 'kernel-modules', 'sysctl']);
  });

  it('a change that reaches its trailing checks needs no round trip to re-check', async () => {
    const { result, transports } = await run(lab, (h) => ({
      ...converged(lab, h),
      swap: 'checked=swap\nactive=/dev/dm-1\n',
    }), {}, () => (script, opts) => {
      if (opts.step !== 'swap' || !opts.mutates) return okExec(script, opts);
      // the host runs the trailer: the separator, then swap's check output between the batch markers
      expect(script).toContain("printf '\\n%s\\n' '@@kbootstrap-trail'");
      return { code: 0, stdout: 'swapoff done\n\n@@kbootstrap-trail\n@@kbootstrap-check begin swap\nchecked=swap\n@@kbootstrap-check end swap 0\n', stderr: '' };
    });
    expect(result.failed).toBe(false);
    const t = transports.get('k8s-node01')!;
    expect(statuses(result.outcomes, 'k8s-node01').swap).toBe('changed');
    // the first batch and swap's apply; then only join's check again (cluster-wide)
    expect(t.calls.filter((c) => c.kind === 'check').slice(12).every((c) => c.step === 'join')).toBe(true);
    expect(t.calls.filter((c) => c.kind === 'check' && c.step === 'swap')).toHaveLength(1);
  });

  it('the trailer reads the host after the script\'s EXIT trap ran, and a failing script never reaches it (real bash)', async () => {
    // the VIP handover moves kube-vip's manifest aside and puts it back in an EXIT trap: the re-check after
    // upgrade-node must see it back (the ha e2e failed with "kube-vip's manifest is still aside" when it did not)
    const dir = mkdtempSync(join(tmpdir(), 'kb-trailer-'));
    const sent: string[] = [];
    const t = { exec: async (script: string) => { sent.push(script); return { code: 0, stdout: '', stderr: '' }; } } as unknown as Transport;
    const host = new Host(lab.hosts[0]!, t, assumedFacts('rocky9'));
    const script = `trap 'mv "$D/aside" "$D/manifest"' EXIT\nmv "$D/manifest" "$D/aside"\necho upgraded`;
    await host.exec(script, { step: 'upgrade-node', mutates: true, trailer: 'ls "$D"' });
    await host.exec(`${script}\nfalse`, { step: 'upgrade-node', mutates: true, trailer: 'echo trailer ran' });
    const bash = (s: string) => {
      writeFileSync(join(dir, 'manifest'), 'kube-vip');
      return spawnSync('bash', ['-c', `set -euo pipefail\n${s}`], { env: { ...process.env, D: dir }, encoding: 'utf8' });
    };
    expect(bash(sent[0]!).stdout).toBe('upgraded\nmanifest\n');
    const failed = bash(sent[1]!);
    expect(failed.status).toBe(1);
    expect(failed.stdout).toBe('upgraded\n');
    expect(readdirSync(dir)).toEqual(['manifest']);
  });

  it('a step still not done after apply is a failure, and later phases do not start', async () => {
    const { result } = await run(lab, (h) => ({
      ...converged(lab, h),
      ...(h.name === 'k8s-node01' ? { sysctl: 'live=net.ipv4.ip_forward=0\nset=/etc/sysctl.conf=net.ipv4.ip_forward=0\n' } : {}),
    }));
    expect(result.failed).toBe(true);
    const failed = result.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => [o.host, o.step])).toEqual([['k8s-node01', 'sysctl']]);
    expect(failed[0]!.reason).toMatch(/^k8s-node01: sysctl: still not done after apply: .*\/etc\/sysctl.conf sets net.ipv4.ip_forward = 0 after 99-kubernetes.conf/);
    // the other hosts finished the prepare phase
    expect(statuses(result.outcomes, 'k8s-node02')).toEqual({ ...Object.fromEntries(PREPARE.map((s) => [s, 'ok'])), join: 'not-run' });
    // nothing after prepare ran anywhere
    const later = result.outcomes.filter((o) => o.phase !== 'prepare' && o.phase !== 'gate');
    expect(later.map((o) => o.step).sort()).toEqual(['cert-renewal-timer', 'cni', 'join', 'join', 'kube-proxy-mode', 'kubeadm-init', 'node-labels', 'verify']);
    expect(new Set(later.map((o) => o.status))).toEqual(new Set(['not-run']));
    expect(result.outcomes.find((o) => o.host === 'k8s-node01' && o.step === 'container-runtime')!.reason).toBe('not run: k8s-node01 failed earlier');
    expect(result.outcomes.find((o) => o.host === 'k8s-node02' && o.step === 'join')!.reason).toBe('not run: an earlier phase failed');
  });

  it('plan mode changes nothing and reports what would change', async () => {
    const { result, transports } = await run(lab, (h) => (h.name === 'k8s-node02' ? {} : converged(lab, h)), { mode: 'plan' });
    expect(result.failed).toBe(false);
    expect(result.hosts.map((h) => [h.host, h.wouldChange])).toEqual([['k8s-master', 0], ['k8s-node01', 0], ['k8s-node02', 13]]);
    expect(result.outcomes.filter((o) => o.host === 'k8s-node02').every((o) => o.status === 'would-change' && o.reason === 'the check printed nothing')).toBe(true);
    for (const t of transports.values()) expect(t.applied()).toEqual([]);
  });

  it('joins fetch one token from the first control plane, redact it, and delete it afterwards', async () => {
    const master = converged(lab, lab.hosts[0]!);
    const { result, transports } = await run(lab, (h) => (h.role === 'worker' ? { ...converged(lab, h), join: (n: number) => (n === 1 ? 'kubelet-conf=absent\n' : 'kubelet-conf=present\n') } : master));
    expect(result.failed).toBe(false);
    expect(result.outcomes.filter((o) => o.step === 'join').map((o) => o.status)).toEqual(['changed', 'changed']);
    const cp = transports.get('k8s-master')!;
    expect(cp.applied().filter((s) => s.includes('token create'))).toHaveLength(1);
    expect(cp.applied().filter((s) => s.includes('kubeadm token delete'))).toEqual(['kubeadm token delete abcdef\n']);
    expect(result.warnings).toEqual([]);
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('a join token that cannot be deleted is a warning of the run, not swallowed', async () => {
    const master = converged(lab, lab.hosts[0]!);
    const { result, events } = await run(lab, (h) => (h.role === 'worker' ? { ...converged(lab, h), join: (n: number) => (n === 1 ? 'kubelet-conf=absent\n' : 'kubelet-conf=present\n') } : master), {},
      () => (script, opts) => (script.includes('token delete') ? { code: 1, stdout: '', stderr: 'failed to delete bootstrap token "abcdef": the server is unavailable\n' } : okExec(script, opts)));
    expect(result.failed).toBe(false);
    expect(result.warnings).toEqual(['k8s-master: deleting the join tokens failed (failed to delete bootstrap token "abcdef": the server is unavailable); they expire within 30m']);
    expect(events.some((e) => e.type === 'warning')).toBe(true);
  });

  it('a failing command reports host, step, exit code and stderr, with secrets redacted', async () => {
    const joinOnce = (n: number) => (n === 1 ? 'kubelet-conf=absent\n' : 'kubelet-conf=present\n');
    const { result } = await run(lab, (h) => (h.role === 'worker' ? { ...converged(lab, h), join: joinOnce } : converged(lab, h)), {}, (h) => (script, opts) => {
      if (h.name === 'k8s-node02' && opts.step === 'join' && script.includes('kubeadm join')) {
        return { code: 1, stdout: '', stderr: `[preflight] Running pre-flight checks\nerror execution phase preflight: couldn't validate the identity of the API Server: token ${TOKEN} not found\n` };
      }
      return okExec(script, opts);
    });
    const failed = result.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => [o.host, o.step])).toEqual([['k8s-node02', 'join']]);
    expect(failed[0]!.reason).toContain('k8s-node02: join: command failed with exit code 1');
    expect(failed[0]!.reason).toContain("couldn't validate the identity of the API Server: token <redacted> not found");
    expect(JSON.stringify(result)).not.toContain(TOKEN);
  });

  it('a host that cannot be reached fails alone; the others finish the phase', async () => {
    const inv = lab;
    const runner = new Runner(inv, buildPlan(inv), async (spec) => {
      if (spec.name === 'k8s-node02') throw new Error('k8s-node02: connect ECONNREFUSED 192.168.40.130:22');
      return new Host(spec, new FakeTransport(converged(inv, spec), okExec), assumedFacts('centos7'));
    }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1 });
    const result = await runner.run();
    expect(result.failed).toBe(true);
    expect(result.hosts.find((h) => h.host === 'k8s-node02')).toMatchObject({ failed: 1, error: 'k8s-node02: connect ECONNREFUSED 192.168.40.130:22' });
    expect(statuses(result.outcomes, 'k8s-node01')).toEqual({ ...Object.fromEntries(PREPARE.map((s) => [s, 'ok'])), join: 'not-run' });
  });

  it('a stop request lets no new step start', async () => {
    let calls = 0;
    const { result } = await run(lab, (h) => converged(lab, h), { shouldStop: () => ++calls > 3 });
    expect(result.interrupted).toBe(true);
    const ran = result.outcomes.filter((o) => o.status !== 'not-run');
    expect(ran.length).toBeGreaterThan(0);
    expect(ran.length).toBeLessThan(10);
    expect(result.outcomes.filter((o) => o.status === 'not-run').every((o) => o.reason === 'not run: interrupted')).toBe(true);
  });
});
