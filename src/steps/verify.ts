import { render } from '../shell/templates.js';
import { clusterState, notUp } from '../kube/cluster-state.js';
import { firstControlPlaneOnly, type Step } from './types.js';

export const verifyStep: Step = {
  id: 'verify',
  title: 'Wait until every node is Ready and kube-system pods run',
  hosts: firstControlPlaneOnly,
  requires: ['join', 'cni'],
  check: () => render('cluster/state', {}),
  parse(out, ctx) {
    const state = clusterState(out.stdout);
    const found = undefined;
    if (state.kind !== 'present') return { done: false, reason: notUp(state), found };
    const problems: string[] = [];
    for (const h of ctx.inv.hosts) {
      const n = state.nodes.get(h.name);
      if (!n) problems.push(`${h.name} not registered`);
      else if (n.status.split(',')[0] !== 'Ready') problems.push(`${h.name} ${n.status}`);
    }
    for (const p of state.pods.filter((x) => x.namespace === 'kube-system')) {
      if (p.phase === 'Succeeded') continue;
      if (p.phase !== 'Running' || p.ready !== p.containers) problems.push(`pod ${p.name} ${p.phase} ${p.ready}/${p.containers}`);
    }
    if (!problems.length) return { done: true, reason: `${ctx.inv.hosts.length} ${ctx.inv.hosts.length === 1 ? 'node' : 'nodes'} Ready, kube-system pods running`, found };
    return { done: false, reason: problems.join('; '), found };
  },
  unknown: () => undefined,
  async apply(ctx) {
    const t = ctx.options.verifyTimeoutSeconds;
    await ctx.host.exec(render('verify/apply', { timeout: `${t}s`, nodes: ctx.inv.hosts.map((h) => h.name) }), {
      mutates: false, timeoutMs: (2 * t + 30) * 1000,
    });
  },
};
