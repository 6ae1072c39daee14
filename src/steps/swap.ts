import { render } from '../shell/templates.js';
import { kv } from '../shell/kv.js';
import { allHosts, type Step } from './types.js';

const ZRAM_MARKER = '# kbootstrap: no zram swap (the kubelet needs swap off)';

export const swapStep: Step = {
  id: 'swap',
  title: 'Turn swap off, now and at boot',
  hosts: allHosts,
  requires: [],
  check: () => render('swap/check', { zramMarker: ZRAM_MARKER }),
  parse(out) {
    const m = kv(out.stdout);
    const active = m.get('active') ?? [];
    const fstab = (m.get('fstab') ?? []).map((l) => l.split(' '));
    const zram = m.has('zram');
    if (!active.length && !fstab.length && !zram) return { done: true, reason: 'no active swap, none in /etc/fstab', found: undefined };
    const parts: string[] = [];
    if (active.length) parts.push(`${active.length} active swap device${active.length > 1 ? 's' : ''} (${active.join(', ')})`);
    for (const [line, dev] of fstab) parts.push(`fstab line ${line} mounts ${dev} as swap`);
    if (zram) parts.push('zram swap is configured');
    return { done: false, reason: parts.join(', '), found: undefined };
  },
  unknown: () => undefined,
  async apply(ctx) {
    await ctx.host.exec(render('swap/apply', { zramMarker: ZRAM_MARKER }), { mutates: true });
  },
};
