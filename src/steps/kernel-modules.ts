import { render } from '../shell/templates.js';
import { kv } from '../shell/kv.js';
import type { ClusterSpec } from '../inventory/model.js';
import { allHosts, type Step } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';

export function kernelModules(cluster: ClusterSpec): string[] {
  const mods = ['overlay', 'br_netfilter'];
  if (cluster.kubeProxyMode === 'ipvs') mods.push('ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack');
  return mods;
}

function modulesFile(cluster: ClusterSpec): ManagedFile {
  const content = ['# kbootstrap: kernel modules Kubernetes needs, loaded at boot', ...kernelModules(cluster)].join('\n') + '\n';
  return { path: '/etc/modules-load.d/k8s.conf', content, mode: '644' };
}

export const kernelModulesStep: Step<FileState[]> = {
  id: 'kernel-modules',
  title: 'Load the kernel modules Kubernetes needs, now and at boot',
  phases: ['prepare'],
  hosts: allHosts,
  requires: [],
  managedFiles: (ctx) => [modulesFile(ctx.cluster)],
  check: (ctx) => fileStateCheck([modulesFile(ctx.cluster)]) + render('kernel-modules/check', { modules: kernelModules(ctx.cluster) }),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const missing = m.get('missing') ?? [];
    const found = parseFileStates(out, [modulesFile(ctx.cluster)]);
    const files = describeFileStates(found);
    if (!missing.length && !files.length) return { done: true, reason: `${kernelModules(ctx.cluster).join(', ')} loaded and persisted`, found };
    const parts = [...(missing.length ? [`not loaded: ${missing.join(', ')}`] : []), ...files];
    return { done: false, reason: parts.join('; '), found };
  },
  unknown: () => [],
  async apply(ctx, found) {
    await uploadFiles(ctx.host, [modulesFile(ctx.cluster)], found);
    await ctx.host.exec(render('kernel-modules/apply', { modules: kernelModules(ctx.cluster) }), { mutates: true });
  },
};
