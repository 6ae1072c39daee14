/**
 * The dry run: the real runner over recording transports, then one readable
 * bash script per host, in inventory order, steps in plan order.
 */
import type { Inventory } from './inventory/model.js';
import type { OsName } from './inventory/schema.js';
import { assumedFacts } from './os/index.js';
import { Host } from './host/host.js';
import { RecordingTransport, type Recorded } from './transport/recording.js';
import { Runner } from './runner.js';
import { UsageError } from './errors.js';
import { DEFAULTS } from './defaults.js';
import { buildPlan, type Plan, type PlanFilter } from './plan.js';
import { PRELUDE, readCommand, writeCommand } from './shell/prelude.js';
import { heredocDelimiter } from './shell/quote.js';
import { Redactor } from './redact.js';
import { imageOriginLines } from './os/mirrors.js';
import { pauseImage } from './kube/runtime.js';
import { kubeVipImage } from './steps/load-balancer.js';
import type { ClusterSpec } from './inventory/model.js';
import type { AnyStep } from './steps/types.js';

export interface RenderedHost {
  host: string;
  script: string;
}

export async function dryRun(inv: Inventory, opts: { defaultOs?: OsName; filter?: PlanFilter; plan?: Plan; notes?: string[] } = {}): Promise<RenderedHost[]> {
  const plan = opts.plan ?? buildPlan(inv, opts.filter);
  const steps = plan.order;
  const recorders = new Map<string, RecordingTransport>();
  const runner = new Runner(inv, plan, async (spec) => {
    const t = new RecordingTransport();
    recorders.set(spec.name, t);
    return new Host(spec, t, assumedFacts(spec.os ?? opts.defaultOs ?? 'rhel'));
  }, { mode: 'apply', concurrency: 1, verifyTimeoutSeconds: DEFAULTS.verifyTimeoutSeconds, assumeApplied: true });
  const result = await runner.run();
  if (result.failed) {
    const bad = result.outcomes.find((o) => o.status === 'failed');
    throw new UsageError(`dry run: cannot render ${bad?.host}: ${bad?.step}: ${bad?.reason}`);
  }
  return inv.hosts.filter((h) => recorders.has(h.name)).map((h) => ({
    host: h.name,
    script: renderHost(inv, steps, h.name, recorders.get(h.name)!.recorded, result.outcomes.filter((o) => o.host === h.name), opts.defaultOs, opts.notes),
  }));
}

/**
 * The images the cluster's runtime pulls whose registry the inventory decides: kubeadm's (from
 * imageRepository, the pause image among them), kube-vip's, and the CNI's (docker.io for calico and
 * flannel manifests: calico/*, flannel/*).
 */
function clusterImages(c: ClusterSpec): string[] {
  return [
    pauseImage(c),
    ...(c.loadBalancer?.type === 'kube-vip' ? [kubeVipImage(c)] : []),
    ...(c.cni.plugin !== 'none' && !c.cni.manifest ? [`${c.cni.plugin}/cni`] : []),
  ];
}

function renderHost(
  inv: Inventory,
  steps: AnyStep[],
  name: string,
  recorded: Recorded[],
  outcomes: { step: string; status: string; reason: string }[],
  defaultOs?: OsName,
  notes: string[] = [],
): string {
  const spec = inv.hosts.find((h) => h.name === name)!;
  const facts = assumedFacts(spec.os ?? defaultOs ?? 'rhel');
  const c = inv.cluster;
  const redactor = new Redactor();
  const out: string[] = [
    '#!/usr/bin/env bash',
    `# kbootstrap dry run for ${spec.name} (${spec.address}), role ${spec.role}`,
    `# OS assumed: ${facts.prettyName} (from ${spec.os ? 'the inventory' : defaultOs ? '--os' : 'the default'}; a real run reads /etc/os-release)`,
    `# Cluster ${c.name}: Kubernetes ${c.kubernetesVersion}, ${c.containerRuntime}, CNI ${c.cni.plugin}, kube-proxy ${c.kubeProxyMode}`,
    `# SSH: ${spec.ssh.user}@${spec.address}:${spec.ssh.port}${spec.ssh.user === 'root' ? '' : ' (commands run through sudo -n)'}`,
    ...(notes.length ? notes.map((l) => `# ${l}`) : imageOriginLines(c, clusterImages(c)).map((l) => `# Images of ${l}`)),
    '#',
    '# Each step shows its read-only check (kbootstrap parses what it prints) and',
    '# the commands it runs when the check finds the step not done. Run as root.',
    '# Values that exist only at run time appear as <PLACEHOLDERS>; secrets never appear.',
    'set -euo pipefail',
    '',
    PRELUDE.trimEnd(),
  ];
  // group by step in order of first appearance, which is plan order
  const order = [...new Set([...recorded.map((r) => r.step), ...outcomes.filter((o) => o.status === 'skipped').map((o) => o.step)])]
    .sort((a, b) => steps.findIndex((s) => s.id === a) - steps.findIndex((s) => s.id === b));
  for (const stepId of order) {
    const step = steps.find((s) => s.id === stepId);
    const skipped = outcomes.find((o) => o.step === stepId && o.status === 'skipped');
    const ownStep = outcomes.some((o) => o.step === stepId);
    // a step of other hosts that acts through this one (join credentials, reset's drains and etcd removals)
    const behalf = stepId === 'join' ? 'the hosts that join' : 'the hosts it names';
    out.push('', `### ${stepId}: ${step?.title ?? stepId}${ownStep ? '' : ` (on behalf of ${behalf})`}`);
    if (skipped) {
      out.push(`# skipped: ${skipped.reason}`);
      continue;
    }
    let section = '';
    const ownCheck = recorded.some((x) => x.kind === 'check' && x.step === stepId);
    const shared = ownCheck ? [] : recorded.filter((x) => x.kind === 'check' && x.sharedWith.includes(stepId));
    for (const r of shared) {
      if (r.kind !== 'check') continue;
      if (!section) out.push('## check (read-only)');
      section = 'check';
      out.push(`# reads the output of the check shown under ${r.step} (it runs once for both)`);
    }
    for (const r of recorded.filter((x) => x.step === stepId)) {
      const want = r.kind === 'check' ? 'check' : 'apply';
      if (want !== section) {
        out.push(want === 'check' ? '## check (read-only)' : '## apply');
        section = want;
      }
      if (r.kind === 'check') out.push('(', r.script.trimEnd(), ')');
      else if (r.kind === 'exec') {
        if (r.note) out.push(`# ${r.note}`);
        if (!r.mutates) out.push('# (read-only)');
        out.push('(', r.script.trimEnd(), ')');
      } else if (r.kind === 'download') {
        // bytes that come back to the operator's machine: the read is shown, never run by the script
        if (r.note) out.push(`# ${r.note}`);
        out.push(`# reads back to this machine: ${readCommand(r.path)}`);
      } else if (r.summary !== undefined) {
        // a file from the operator's machine: what it is, never what it says
        if (r.note) out.push(`# ${r.note}`);
        out.push(`# writes ${r.dest} (mode ${r.mode}, ${r.owner}): ${r.summary.replace(/[\r\n]/g, ' ')}`);
      } else {
        const content = redactor.redact(r.content);
        const delim = heredocDelimiter(content);
        if (r.note) out.push(`# ${r.note}`);
        out.push(`${writeCommand(r.dest, r.mode, r.owner)} <<'${delim}'`, content.replace(/\n$/, ''), delim);
      }
    }
  }
  return out.join('\n') + '\n';
}
