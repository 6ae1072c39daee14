import { posix } from 'node:path';
import { render } from '../shell/templates.js';
import { kv } from '../shell/kv.js';
import { allHosts, type Step } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';

export const SYSCTL_FILE = '/etc/sysctl.d/99-kubernetes.conf';
export const SYSCTL_SETTINGS: Record<string, string> = {
  'net.bridge.bridge-nf-call-iptables': '1',
  'net.bridge.bridge-nf-call-ip6tables': '1',
  'net.ipv4.ip_forward': '1',
};

const file: ManagedFile = {
  path: SYSCTL_FILE,
  content: ['# kbootstrap: bridged traffic through iptables and IP forwarding, for kube-proxy and the CNI',
    ...Object.entries(SYSCTL_SETTINGS).map(([k, v]) => `${k} = ${v}`)].join('\n') + '\n',
  mode: '644',
};

const DIR_ORDER = ['/etc/sysctl.d', '/run/sysctl.d', '/usr/local/lib/sysctl.d', '/usr/lib/sysctl.d', '/lib/sysctl.d'];

/**
 * The order sysctl --system applies files: by file name across the
 * directories (the first directory wins a name clash), /etc/sysctl.conf last.
 */
export function effectiveOrder(files: string[]): string[] {
  const byName = new Map<string, string>();
  const conf: string[] = [];
  for (const f of files) {
    if (f === '/etc/sysctl.conf') { conf.push(f); continue; }
    const name = posix.basename(f);
    const prev = byName.get(name);
    if (!prev || DIR_ORDER.indexOf(posix.dirname(f)) < DIR_ORDER.indexOf(posix.dirname(prev))) byName.set(name, f);
  }
  return [...[...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, f]) => f), ...conf];
}

/** Files applied after the drop-in that set one of its keys to another value. */
export function overrides(sets: { file: string; key: string; value: string }[]): string[] {
  const order = effectiveOrder([...new Set(sets.map((s) => s.file))]);
  const ours = order.indexOf(SYSCTL_FILE);
  const out: string[] = [];
  for (const s of sets) {
    const want = SYSCTL_SETTINGS[s.key.replace(/\//g, '.')];
    if (want === undefined || s.value === want) continue;
    const idx = order.indexOf(s.file);
    if (idx > ours) out.push(`${s.file} sets ${s.key} = ${s.value} after ${posix.basename(SYSCTL_FILE)}`);
  }
  return out;
}

export const sysctlStep: Step<FileState[]> = {
  id: 'sysctl',
  title: 'Enable bridged traffic filtering and IP forwarding',
  hosts: allHosts,
  requires: ['kernel-modules'],
  managedFiles: () => [file],
  check: () => fileStateCheck([file]) + render('sysctl/check', { keys: Object.keys(SYSCTL_SETTINGS) }),
  parse(out) {
    const m = kv(out.stdout);
    const live = new Map((m.get('live') ?? []).map((l) => [l.slice(0, l.lastIndexOf('=')), l.slice(l.lastIndexOf('=') + 1)]));
    const wrong: string[] = [];
    for (const [k, want] of Object.entries(SYSCTL_SETTINGS)) {
      const v = live.get(k);
      if (v === undefined) wrong.push(`${k} does not exist (br_netfilter not loaded?)`);
      else if (v !== want) wrong.push(`${k} is ${v}`);
    }
    const sets = (m.get('set') ?? []).map((l) => {
      const [f, k, ...v] = l.split('=');
      return { file: f!, key: k!, value: v.join('=') };
    });
    const found = parseFileStates(out, [file]);
    const files = describeFileStates(found);
    if (!wrong.length && !files.length) return { done: true, reason: 'bridge-nf-call and ip_forward are 1', found };
    return { done: false, reason: [...files, ...wrong, ...overrides(sets)].join('; '), found };
  },
  unknown: () => [],
  async apply(ctx, found) {
    await uploadFiles(ctx.host, [file], found);
    await ctx.host.exec(render('sysctl/apply', {}), { mutates: true });
  },
};
