import { render } from '../shell/templates.js';
import { first, firstControlPlaneOnly, kv, type Step } from './types.js';

export const verifyStep: Step = {
  id: 'verify',
  title: 'Wait until every node is Ready and kube-system pods run',
  hosts: firstControlPlaneOnly,
  check: () => render('verify/check', {}),
  parse(out, ctx) {
    const m = kv(out.stdout);
    if (first(m, 'cluster') === 'absent') return { done: false, reason: 'the cluster is not initialised yet' };
    const status = new Map((m.get('node') ?? []).map((l) => l.split(' ') as [string, string]));
    const problems: string[] = [];
    for (const h of ctx.inv.hosts) {
      const s = status.get(h.name);
      if (!s) problems.push(`${h.name} not registered`);
      else if (s.split(',')[0] !== 'Ready') problems.push(`${h.name} ${s}`);
    }
    for (const l of m.get('pod') ?? []) {
      const [name, ready, phase] = l.split(' ');
      const [a, b] = (ready ?? '0/1').split('/');
      if (phase === 'Completed' || phase === 'Succeeded') continue;
      if (phase !== 'Running' || a !== b) problems.push(`pod ${name} ${phase} ${ready}`);
    }
    if (!problems.length) return { done: true, reason: `${ctx.inv.hosts.length} nodes Ready, kube-system pods running` };
    return { done: false, reason: problems.join('; ') };
  },
  async apply(ctx) {
    const t = ctx.options.verifyTimeoutSeconds;
    await ctx.host.exec(render('verify/apply', { timeout: `${t}s`, nodes: ctx.inv.hosts.map((h) => h.name) }), {
      step: 'verify', mutates: false, timeoutMs: (2 * t + 30) * 1000,
    });
  },
};
