import { render } from '../shell/templates.js';
import { allHosts, first, kv, type Step } from './types.js';

export const hostnameStep: Step = {
  id: 'hostname',
  title: 'Set the hostname to the inventory name',
  hosts: allHosts,
  check: () => render('hostname/check', {}),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const want = ctx.host.name;
    const current = first(m, 'current') ?? '';
    const stat = first(m, 'static') ?? '';
    if (current === want && stat === want) return { done: true, reason: `hostname is ${want}` };
    const why = current !== want ? `hostname is "${current}"` : `/etc/hostname says "${stat}"`;
    return { done: false, reason: `${why}, want "${want}"` };
  },
  async apply(ctx) {
    await ctx.host.exec(render('hostname/apply', { name: ctx.host.name }), { step: 'hostname', mutates: true });
  },
};
