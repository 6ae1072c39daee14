import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { allHosts, type Step } from './types.js';

export const selinuxStep: Step = {
  id: 'selinux',
  title: 'Put SELinux in permissive mode, now and at boot',
  hosts: allHosts,
  requires: [],
  skip: (ctx) => (ctx.host.os.managesSelinux ? undefined : `SELinux is not managed on ${ctx.host.os.description}`),
  check: () => render('selinux/check', {}),
  parse(out) {
    const m = kv(out.stdout);
    const runtime = first(m, 'runtime') ?? 'absent';
    const config = first(m, 'config') ?? 'absent';
    const okRuntime = ['Permissive', 'Disabled', 'absent'].includes(runtime);
    const okConfig = ['permissive', 'disabled', 'absent'].includes(config);
    if (okRuntime && okConfig) {
      return { done: true, reason: runtime === 'absent' && config === 'absent' ? 'SELinux is not installed' : `SELinux is ${runtime}, SELINUX=${config} in /etc/selinux/config`, found: undefined };
    }
    const parts: string[] = [];
    if (!okRuntime) parts.push(`SELinux is ${runtime} now`);
    if (!okConfig) parts.push(`SELINUX=${config} in /etc/selinux/config`);
    return { done: false, reason: parts.join(', '), found: undefined };
  },
  unknown: () => undefined,
  async apply(ctx) {
    await ctx.host.exec(render('selinux/apply', {}), { mutates: true });
  },
};
