import { render } from '../shell/templates.js';
import type { HostSpec, Inventory } from '../inventory/model.js';
import { clusterState, notUp } from '../kube/cluster-state.js';
import { firstControlPlaneOnly, type Step } from './types.js';

const WORKER_ROLE_LABEL = 'node-role.kubernetes.io/worker';

export function wantedLabels(h: HostSpec): Record<string, string> {
  return { ...(h.role === 'worker' ? { [WORKER_ROLE_LABEL]: '' } : {}), ...h.labels };
}

interface Missing { name: string; labels: string[] }

function allWanted(inv: Inventory): Missing[] {
  return inv.hosts.map((h) => ({ name: h.name, labels: Object.entries(wantedLabels(h)).map(([k, v]) => `${k}=${v}`) })).filter((n) => n.labels.length);
}

export const nodeLabelsStep: Step<Missing[]> = {
  id: 'node-labels',
  title: 'Label the nodes (worker role and inventory labels)',
  hosts: firstControlPlaneOnly,
  requires: ['join'],
  check: () => render('cluster/state', {}),
  parse(out, ctx) {
    const state = clusterState(out.stdout);
    if (state.kind !== 'present') {
      const all = allWanted(ctx.inv);
      return { done: all.length === 0, reason: notUp(state), found: all };
    }
    const missing: Missing[] = [];
    const unregistered: string[] = [];
    for (const h of ctx.inv.hosts) {
      const want = Object.entries(wantedLabels(h));
      if (!want.length) continue;
      const node = state.nodes.get(h.name);
      if (!node) { unregistered.push(h.name); continue; }
      const need = want.filter(([k, v]) => node.labels.get(k) !== v).map(([k, v]) => `${k}=${v}`);
      if (need.length) missing.push({ name: h.name, labels: need });
    }
    if (unregistered.length) return { done: false, reason: `not registered in the cluster: ${unregistered.join(', ')}`, found: missing };
    if (missing.length) return { done: false, reason: missing.map((n) => `${n.name} lacks ${n.labels.join(', ')}`).join('; '), found: missing };
    return { done: true, reason: 'every node has its labels', found: [] };
  },
  unknown: (ctx) => allWanted(ctx.inv),
  async apply(ctx, nodes) {
    if (nodes.length) await ctx.host.exec(render('node-labels/apply', { nodes }), { mutates: true });
  },
};
