import { render } from '../shell/templates.js';
import { allHosts, first, kv, type Step } from './types.js';

export const selinuxStep: Step = {
  id: 'selinux',
  title: 'Put SELinux in permissive mode, now and at boot',
  hosts: allHosts,
  skip: (ctx) => (ctx.host.facts.family === 'rhel' ? undefined : 'SELinux is only managed on the RHEL family'),
  check: () => render('selinux/check', {}),
  parse(out) {
    const m = kv(out.stdout);
    const runtime = first(m, 'runtime') ?? 'absent';
    const config = first(m, 'config') ?? 'absent';
    const okRuntime = ['Permissive', 'Disabled', 'absent'].includes(runtime);
    const okConfig = ['permissive', 'disabled', 'absent'].includes(config);
    if (okRuntime && okConfig) {
      return { done: true, reason: runtime === 'absent' && config === 'absent' ? 'SELinux is not installed' : `SELinux is ${runtime}, SELINUX=${config} in /etc/selinux/config` };
    }
    const parts: string[] = [];
    if (!okRuntime) parts.push(`SELinux is ${runtime} now`);
    if (!okConfig) parts.push(`SELINUX=${config} in /etc/selinux/config`);
    return { done: false, reason: parts.join(', ') };
  },
  async apply(ctx) {
    await ctx.host.exec(render('selinux/apply', {}), { step: 'selinux', mutates: true });
  },
};
