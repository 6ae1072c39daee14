import { render } from '../shell/templates.js';
import type { HostSpec, Inventory } from '../inventory/model.js';
import { first, firstControlPlaneOnly, kv, type Step } from './types.js';

export const WORKER_ROLE_LABEL = 'node-role.kubernetes.io/worker';

export function wantedLabels(h: HostSpec): Record<string, string> {
  return { ...(h.role === 'worker' ? { [WORKER_ROLE_LABEL]: '' } : {}), ...h.labels };
}

/** node=NAME STATUS k=v,k=v lines -> name -> labels */
export function parseNodes(stdout: string): Map<string, { status: string; labels: Map<string, string> }> {
  const nodes = new Map<string, { status: string; labels: Map<string, string> }>();
  for (const l of kv(stdout).get('node') ?? []) {
    const [name, status, labelText] = l.split(' ');
    const labels = new Map<string, string>();
    for (const pair of (labelText ?? '').split(',')) {
      if (!pair || pair === '<none>') continue;
      const i = pair.indexOf('=');
      labels.set(i < 0 ? pair : pair.slice(0, i), i < 0 ? '' : pair.slice(i + 1));
    }
    nodes.set(name!, { status: status ?? '', labels });
  }
  return nodes;
}

interface Missing { name: string; labels: string[] }

function allWanted(inv: Inventory): Missing[] {
  return inv.hosts.map((h) => ({ name: h.name, labels: Object.entries(wantedLabels(h)).map(([k, v]) => `${k}=${v}`) })).filter((n) => n.labels.length);
}

export const nodeLabelsStep: Step = {
  id: 'node-labels',
  title: 'Label the nodes (worker role and inventory labels)',
  hosts: firstControlPlaneOnly,
  check: () => render('common/nodes', {}),
  parse(out, ctx) {
    if (first(kv(out.stdout), 'cluster') === 'absent') {
      const all = allWanted(ctx.inv);
      return { done: all.length === 0, reason: 'the cluster is not initialised yet', data: all };
    }
    const nodes = parseNodes(out.stdout);
    const missing: Missing[] = [];
    const unregistered: string[] = [];
    for (const h of ctx.inv.hosts) {
      const want = Object.entries(wantedLabels(h));
      if (!want.length) continue;
      const node = nodes.get(h.name);
      if (!node) { unregistered.push(h.name); continue; }
      const need = want.filter(([k, v]) => node.labels.get(k) !== v).map(([k, v]) => `${k}=${v}`);
      if (need.length) missing.push({ name: h.name, labels: need });
    }
    if (unregistered.length) return { done: false, reason: `not registered in the cluster: ${unregistered.join(', ')}`, data: missing };
    if (missing.length) return { done: false, reason: missing.map((n) => `${n.name} lacks ${n.labels.join(', ')}`).join('; '), data: missing };
    return { done: true, reason: 'every node has its labels' };
  },
  async apply(ctx, found) {
    const nodes = (found.data as Missing[] | undefined) ?? allWanted(ctx.inv);
    if (nodes.length) await ctx.host.exec(render('node-labels/apply', { nodes }), { step: 'node-labels', mutates: true });
  },
};
