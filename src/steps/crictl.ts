import type { ClusterSpec } from '../inventory/model.js';
import { criSocket } from '../kube/runtime.js';
import { allHosts, type Step } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';

export function crictlYaml(cluster: ClusterSpec): ManagedFile {
  const sock = criSocket(cluster);
  return {
    path: '/etc/crictl.yaml',
    mode: '644',
    content: `# kbootstrap: crictl talks to ${cluster.containerRuntime === 'docker' ? 'cri-dockerd' : 'containerd'}\nruntime-endpoint: ${sock}\nimage-endpoint: ${sock}\ntimeout: 10\ndebug: false\n`,
  };
}

export const crictlStep: Step<FileState[]> = {
  id: 'crictl',
  title: 'Point crictl at the container runtime',
  hosts: allHosts,
  requires: ['container-runtime'],
  managedFiles: (ctx) => [crictlYaml(ctx.cluster)],
  check: (ctx) => fileStateCheck([crictlYaml(ctx.cluster)]),
  parse(out, ctx) {
    const found = parseFileStates(out, [crictlYaml(ctx.cluster)]);
    const bad = describeFileStates(found);
    return bad.length ? { done: false, reason: bad.join('; '), found } : { done: true, reason: `/etc/crictl.yaml uses ${criSocket(ctx.cluster)}`, found };
  },
  unknown: () => [],
  async apply(ctx, found) {
    await uploadFiles(ctx.host, [crictlYaml(ctx.cluster)], found);
  },
};
