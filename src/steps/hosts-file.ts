import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import type { Inventory } from '../inventory/model.js';
import { allHosts, type Step } from './types.js';

export const HOSTS_BEGIN = '# BEGIN kbootstrap managed hosts';
export const HOSTS_END = '# END kbootstrap managed hosts';

export function hostsBlock(inv: Inventory): string {
  const width = Math.max(...inv.hosts.map((h) => h.address.length));
  return [
    HOSTS_BEGIN,
    `# cluster ${inv.cluster.name}: kbootstrap rewrites the lines between these markers`,
    ...inv.hosts.map((h) => `${h.address.padEnd(width)} ${h.name}`),
    HOSTS_END,
  ].join('\n');
}

export const hostsFileStep: Step = {
  id: 'hosts-file',
  title: 'Map every cluster host in one managed /etc/hosts block',
  hosts: allHosts,
  requires: [],
  check: () => render('hosts-file/check', { begin: HOSTS_BEGIN, end: HOSTS_END }),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const blocks = Number(first(m, 'blocks') ?? '0');
    const have = (m.get('line') ?? []).join('\n');
    const found = undefined;
    if (blocks === 0) return { done: false, reason: 'no kbootstrap block in /etc/hosts', found };
    if (blocks > 1) return { done: false, reason: `${blocks} kbootstrap blocks in /etc/hosts, want one`, found };
    if (have !== hostsBlock(ctx.inv)) return { done: false, reason: 'the kbootstrap block in /etc/hosts differs from the inventory', found };
    return { done: true, reason: `${ctx.inv.hosts.length} ${ctx.inv.hosts.length === 1 ? 'host' : 'hosts'} mapped`, found };
  },
  unknown: () => undefined,
  async apply(ctx) {
    await ctx.host.exec(render('hosts-file/apply', { begin: HOSTS_BEGIN, end: HOSTS_END, block: hostsBlock(ctx.inv) }), { mutates: true });
  },
};
