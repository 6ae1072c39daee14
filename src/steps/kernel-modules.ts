import { render } from '../shell/templates.js';
import { kv } from '../shell/kv.js';
import type { ClusterSpec } from '../inventory/model.js';
import type { HostFacts } from '../os/types.js';
import { allHosts, type Step, type StepContext } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';

/**
 * ipvs needs conntrack, named nf_conntrack_ipv4 on kernels before 4.19 (CentOS 7's 3.10) and
 * nf_conntrack after the merge (kubernetes/kubernetes#89327). Which one the host has comes from
 * the facts script's modinfo probe (RHEL 8's 4.18 already has the merged module:
 * kubernetes-sigs/kubespray#10662), so the list, and the file, stay the same run after run.
 */
function kernelModules(cluster: ClusterSpec, facts: Pick<HostFacts, 'conntrackModule'>): string[] {
  const mods = ['overlay', 'br_netfilter'];
  if (cluster.kubeProxyMode === 'ipvs') mods.push('ip_vs', 'ip_vs_rr', 'ip_vs_wrr', 'ip_vs_sh', facts.conntrackModule);
  return mods;
}

const modules = (ctx: StepContext): string[] => kernelModules(ctx.cluster, ctx.host.facts);

function modulesFile(ctx: StepContext): ManagedFile {
  const content = ['# kbootstrap: kernel modules Kubernetes needs, loaded at boot', ...modules(ctx)].join('\n') + '\n';
  return { path: '/etc/modules-load.d/k8s.conf', content, mode: '644' };
}

export const kernelModulesStep: Step<FileState[]> = {
  id: 'kernel-modules',
  title: 'Load the kernel modules Kubernetes needs, now and at boot',
  hosts: allHosts,
  requires: [],
  managedFiles: (ctx) => [modulesFile(ctx)],
  check: (ctx) => fileStateCheck([modulesFile(ctx)]) + render('kernel-modules/check', { modules: modules(ctx) }),
  parse(out, ctx) {
    const m = kv(out.stdout);
    const missing = m.get('missing') ?? [];
    const found = parseFileStates(out, [modulesFile(ctx)]);
    const files = describeFileStates(found);
    if (!missing.length && !files.length) return { done: true, reason: `${modules(ctx).join(', ')} loaded and persisted`, found };
    const parts = [...(missing.length ? [`not loaded: ${missing.join(', ')}`] : []), ...files];
    return { done: false, reason: parts.join('; '), found };
  },
  unknown: () => [],
  async apply(ctx, found) {
    await uploadFiles(ctx.host, [modulesFile(ctx)], found);
    await ctx.host.exec(render('kernel-modules/apply', { modules: modules(ctx) }), { mutates: true });
  },
};
