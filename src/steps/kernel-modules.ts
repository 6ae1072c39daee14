import { render } from '../shell/templates.js';
import type { ClusterSpec } from '../inventory/model.js';
import { allHosts, kv, type Step } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type ManagedFile } from './files.js';

export function kernelModules(cluster: ClusterSpec): string[] {
  const mods = ['overlay', 'br_netfilter'];
  if (cluster.kubeProxyMode === 'ipvs') mods.push('ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', 'nf_conntrack');
  return mods;
}

function modulesFile(cluster: ClusterSpec): ManagedFile {
  const content = ['# kbootstrap: kernel modules Kubernetes needs, loaded at boot', ...kernelModules(cluster)].join('\n') + '\n';
  return { path: '/etc/modules-load.d/k8s.conf', content, mode: '644' };
}

export const kernelModulesStep: Step = {
  id: 'kernel-modules',
  title: 'Load the kernel modules Kubernetes needs, now and at boot',
  hosts: allHosts,
  managedFiles: (ctx) => [modulesFile(ctx.cluster)],
  check: (ctx) => fileStateCheck([modulesFile(ctx.cluster)]) + render('kernel-modules/check', { modules: kernelModules(ctx.cluster) }),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const missing = m.get('missing') ?? [];
    const files = describeFileStates(parseFileStates(out, [modulesFile(ctx.cluster)]));
    if (!missing.length && !files.length) return { done: true, reason: `${kernelModules(ctx.cluster).join(', ')} loaded and persisted` };
    const parts = [...(missing.length ? [`not loaded: ${missing.join(', ')}`] : []), ...files];
    return { done: false, reason: parts.join('; ') };
  },
  async apply(ctx) {
    const file = modulesFile(ctx.cluster);
    await uploadFiles(ctx.host, 'kernel-modules', [file]);
    await ctx.host.exec(render('kernel-modules/apply', { modules: kernelModules(ctx.cluster) }), { step: 'kernel-modules', mutates: true });
  },
};
