import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { allHosts, type Step } from './types.js';

export const hostnameStep: Step = {
  id: 'hostname',
  title: 'Set the hostname to the inventory name',
  hosts: allHosts,
  requires: [],
  check: () => render('hostname/check', {}),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const want = ctx.host.name;
    const current = first(m, 'current') ?? '';
    const stat = first(m, 'static') ?? '';
    if (current === want && stat === want) return { done: true, reason: `hostname is ${want}`, found: undefined };
    const why = current !== want ? `hostname is "${current}"` : `/etc/hostname says "${stat}"`;
    return { done: false, reason: `${why}, want "${want}"`, found: undefined };
  },
  unknown: () => undefined,
  async apply(ctx) {
    await ctx.host.exec(render('hostname/apply', { name: ctx.host.name }), { mutates: true });
  },
};
