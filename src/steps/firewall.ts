import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { firewalldPorts, firewalldProtocols } from '../kube/ports.js';
import { allHosts, type Step } from './types.js';

export const firewallStep: Step = {
  id: 'firewall',
  title: 'Open the Kubernetes ports in firewalld',
  hosts: allHosts,
  requires: [],
  skip: (ctx) => (ctx.host.os.managesFirewalld ? undefined : `firewalld is not managed on ${ctx.host.os.description}`),
  check: () => render('firewall/check', {}),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const active = first(m, 'active') === 'yes';
    const enabled = first(m, 'enabled') === 'yes';
    const found = undefined;
    if (ctx.cluster.firewall === 'disable') {
      if (!active && !enabled) return { done: true, reason: 'firewalld is stopped and disabled', found };
      return { done: false, reason: `firewalld is ${active ? 'running' : 'stopped'} and ${enabled ? 'enabled' : 'disabled'}; the inventory asks to disable it`, found };
    }
    if (!active) return { done: true, reason: 'firewalld is not running', found };
    const want = firewalldPorts(ctx.host.spec.role, ctx.cluster);
    const perm = new Set(m.get('permanent') ?? []);
    const run = new Set(m.get('runtime') ?? []);
    const protos = firewalldProtocols(ctx.cluster);
    const permProto = new Set(m.get('permanent-protocol') ?? []);
    const runProto = new Set(m.get('runtime-protocol') ?? []);
    const missing = [
      ...want.filter((p) => !perm.has(p) || !run.has(p)),
      ...protos.filter((p) => !permProto.has(p) || !runProto.has(p)).map((p) => `IP protocol ${p}`),
    ];
    const opened = `${want.length} ports${protos.length ? ` and IP protocol ${protos.join(', ')}` : ''} open`;
    if (missing.length === 0) return { done: true, reason: opened, found };
    return { done: false, reason: `firewalld runs and ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not open`, found };
  },
  unknown: () => undefined,
  async apply(ctx) {
    const script = ctx.cluster.firewall === 'disable'
      ? render('firewall/apply-disable', {})
      : render('firewall/apply-open', { ports: firewalldPorts(ctx.host.spec.role, ctx.cluster), protocols: firewalldProtocols(ctx.cluster) });
    await ctx.host.exec(script, { mutates: true });
  },
};
