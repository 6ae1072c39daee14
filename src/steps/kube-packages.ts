import { render } from '../shell/templates.js';
import type { ClusterSpec } from '../inventory/model.js';
import type { HostFacts } from '../host/facts.js';
import { debKubeVersion, kubernetesRepoBase } from '../packages.js';
import { allHosts, first, kv, type Step, type StepContext } from './types.js';
import { describeFileStates, fileStateCheck, parseFileStates, uploadFiles, type FileState, type ManagedFile } from './files.js';
import { packagesCheck, parsePackages } from './packages-state.js';

const KUBE_KEY = '/etc/apt/keyrings/kubernetes-apt-keyring.asc';
const KUBE = ['kubelet', 'kubeadm', 'kubectl'];

function repoFile(cluster: ClusterSpec, facts: HostFacts): ManagedFile {
  const base = kubernetesRepoBase(cluster);
  if (facts.family === 'rhel') {
    return {
      path: '/etc/yum.repos.d/kubernetes.repo',
      mode: '644',
      content: [
        `# kbootstrap: Kubernetes ${cluster.minorVersion} packages; exclude= holds them against yum update`,
        '[kubernetes]',
        `name=Kubernetes ${cluster.minorVersion}`,
        `baseurl=${base}/rpm/`,
        'enabled=1',
        'gpgcheck=1',
        `gpgkey=${base}/rpm/repodata/repomd.xml.key`,
        'exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni',
      ].join('\n') + '\n',
    };
  }
  return {
    path: '/etc/apt/sources.list.d/kubernetes.list',
    mode: '644',
    content: `# kbootstrap: Kubernetes ${cluster.minorVersion} packages\ndeb [signed-by=${KUBE_KEY}] ${base}/deb/ /\n`,
  };
}

function extraPackages(cluster: ClusterSpec): string[] {
  return cluster.kubeProxyMode === 'ipvs' ? ['ipset', 'ipvsadm'] : [];
}

/** Version strings as each package manager wants them pinned. */
function pinned(cluster: ClusterSpec, facts: HostFacts): string[] {
  const v = cluster.kubernetesVersion;
  const kube = facts.family === 'rhel' ? KUBE.map((p) => `${p}-${v}`) : KUBE.map((p) => `${p}=${debKubeVersion(cluster)}`);
  return [...kube, ...extraPackages(cluster)];
}

interface Found {
  files: FileState[];
  install: boolean;
  keyMissing: boolean;
}

function files(ctx: StepContext): ManagedFile[] {
  return [repoFile(ctx.cluster, ctx.host.facts)];
}

export const kubePackagesStep: Step = {
  id: 'kube-packages',
  title: 'Install kubelet, kubeadm and kubectl at the pinned version',
  hosts: allHosts,
  managedFiles: files,
  check: (ctx) => fileStateCheck(files(ctx))
    + packagesCheck([...KUBE, ...extraPackages(ctx.cluster)], ctx.host.facts)
    + render('kube-packages/check-extra', { keyPath: KUBE_KEY }, ctx.host.facts.family),
  parse(out, ctx) {
    const c = ctx.cluster;
    const family = ctx.host.facts.family;
    const m = kv(out.stdout);
    const pk = parsePackages(out);
    const states = parseFileStates(out, files(ctx));
    const wrong: string[] = [];
    for (const p of KUBE) {
      const have = pk.get(p) ?? '';
      const ok = family === 'rhel' ? have === c.kubernetesVersion : have.startsWith(`${c.kubernetesVersion}-`);
      if (!ok) wrong.push(have ? `${p} ${have}` : `${p} missing`);
    }
    for (const p of extraPackages(c)) if (!pk.get(p)) wrong.push(`${p} missing`);
    const held = new Set(m.get('held') ?? []);
    const notHeld = family === 'debian' ? KUBE.filter((p) => !held.has(p)) : [];
    const keyMissing = family === 'debian' && first(m, 'key') !== 'present';
    const enabled = first(m, 'kubelet-enabled') === 'enabled';
    const parts = [
      ...(wrong.length ? [`want ${c.kubernetesVersion}: ${wrong.join(', ')}`] : []),
      ...describeFileStates(states),
      ...(keyMissing ? [`${KUBE_KEY} missing`] : []),
      ...(notHeld.length ? [`not held: ${notHeld.join(', ')}`] : []),
      ...(enabled ? [] : ['kubelet not enabled']),
    ];
    const data: Found = { files: states, install: wrong.length > 0 || notHeld.length > 0, keyMissing };
    if (!parts.length) return { done: true, reason: `${KUBE.join(', ')} ${c.kubernetesVersion} installed and held`, data };
    return { done: false, reason: parts.join('; '), data };
  },
  async apply(ctx, found) {
    const c = ctx.cluster;
    const facts = ctx.host.facts;
    const f = (found.data as Found | undefined) ?? { files: [], install: true, keyMissing: true };
    const opts = { step: 'kube-packages', mutates: true, timeoutMs: 15 * 60_000 } as const;
    // the key before the source: an apt-get update (to install curl) must not meet an unsigned repo
    if (facts.family === 'debian') {
      await ctx.host.exec(render('apt/key', { keyPath: KUBE_KEY, keyUrl: `${kubernetesRepoBase(c)}/deb/Release.key` }), opts);
    }
    const repoChanged = await uploadFiles(ctx.host, 'kube-packages', files(ctx), f.files);
    if (f.install || repoChanged.length) {
      await ctx.host.exec(render('kube-packages/install', { packages: pinned(c, facts) }, facts.family), opts);
    }
    await ctx.host.exec(render('kube-packages/enable', {}), opts);
  },
};
