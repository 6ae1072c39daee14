/**
 * The Debian family: Debian 11/12 and Ubuntu 20.04/22.04/24.04. apt with
 * signed-by keyrings under /etc/apt/keyrings; versions pinned as
 * NAME=VERSION-REVISION and held with apt-mark. Neither SELinux nor
 * firewalld is part of the default install.
 */
import { KbError } from '../errors.js';
import { render } from '../shell/templates.js';
import { criDockerdArtifact, dockerRepoBase, kubernetesRepoBase } from './mirrors.js';
import { DOCKER_DEB_KEY, KUBERNETES_KEY } from './keys.js';
import type { OsFamily } from './types.js';

const T = (name: string, ctx: Record<string, unknown>) => render(`os/debian/${name}`, ctx);

const KUBE_KEY = '/etc/apt/keyrings/kubernetes-apt-keyring.asc';
const DOCKER_KEY = '/etc/apt/keyrings/docker.asc';

/** cri-dockerd's release assets name these distributions (https://github.com/Mirantis/cri-dockerd/releases). */
const CRI_DOCKERD_DISTS = ['ubuntu-focal', 'ubuntu-jammy', 'debian-bullseye', 'debian-bookworm'];

export const debian: OsFamily = {
  id: 'debian',
  description: 'the Debian family (Debian 11/12, Ubuntu 20.04/22.04/24.04)',
  // kernel and cgroup each release boots by default, for the dry run's verdicts; cgroup v2 by default
  // from Debian 11 and Ubuntu 21.10 (opencontainers/runc docs/cgroup-v2.md)
  releases: {
    debian11: { family: 'debian', osId: 'debian', versionId: '11', codename: 'bullseye', prettyName: 'Debian GNU/Linux 11 (bullseye)', major: 11, kernel: '5.10.0-28-amd64', cgroup: 'v2', conntrackModule: 'nf_conntrack' },
    debian12: { family: 'debian', osId: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)', major: 12, kernel: '6.1.0-18-amd64', cgroup: 'v2', conntrackModule: 'nf_conntrack' },
    'ubuntu20.04': { family: 'debian', osId: 'ubuntu', versionId: '20.04', codename: 'focal', prettyName: 'Ubuntu 20.04.6 LTS', major: 20, kernel: '5.4.0-182-generic', cgroup: 'v1', conntrackModule: 'nf_conntrack' },
    'ubuntu22.04': { family: 'debian', osId: 'ubuntu', versionId: '22.04', codename: 'jammy', prettyName: 'Ubuntu 22.04.4 LTS', major: 22, kernel: '5.15.0-105-generic', cgroup: 'v2', conntrackModule: 'nf_conntrack' },
    'ubuntu24.04': { family: 'debian', osId: 'ubuntu', versionId: '24.04', codename: 'noble', prettyName: 'Ubuntu 24.04.1 LTS', major: 24, kernel: '6.8.0-31-generic', cgroup: 'v2', conntrackModule: 'nf_conntrack' },
  },
  genericRelease: 'debian12',
  matches: (id, like) => ['debian', 'ubuntu'].includes(id) || like.includes('debian') || like.includes('ubuntu'),
  isSupportedRelease: (f) => (f.osId === 'debian' ? ['11', '12'].includes(f.versionId) : f.osId === 'ubuntu' && ['20.04', '22.04', '24.04'].includes(f.versionId)),
  managesSelinux: false,
  managesFirewalld: false,

  baseRepositories: () => [],

  kubernetesRepository(cluster) {
    const base = kubernetesRepoBase(cluster);
    return {
      path: '/etc/apt/sources.list.d/kubernetes.list',
      content: `# kbootstrap: Kubernetes ${cluster.minorVersion} packages\ndeb [signed-by=${KUBE_KEY}] ${base}/deb/ /\n`,
      // pkgs.k8s.io's key for the deb tree (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/install-kubeadm/)
      key: { path: KUBE_KEY, url: `${base}/deb/Release.key`, fingerprints: [KUBERNETES_KEY, ...cluster.repositoryKeyFingerprints] },
    };
  },

  dockerRepository(cluster, facts) {
    // Docker publishes one tree per distribution (https://docs.docker.com/engine/install/debian/, .../ubuntu/)
    const base = dockerRepoBase(cluster, facts.osId === 'ubuntu' ? 'ubuntu' : 'debian');
    return {
      path: '/etc/apt/sources.list.d/docker.list',
      content: `# kbootstrap: Docker CE repository (containerd.io, docker-ce)\ndeb [arch=${facts.arch} signed-by=${DOCKER_KEY}] ${base} ${facts.codename} stable\n`,
      key: { path: DOCKER_KEY, url: `${base}/gpg`, fingerprints: [DOCKER_DEB_KEY, ...cluster.repositoryKeyFingerprints] },
    };
  },

  packagesCheck: (packages) => T('packages-state', { packages }),
  installScript: (packages) => T('install', { packages }),
  // pkgs.k8s.io builds are versioned VERSION-1.1 (apt-cache madison kubeadm on any pkgs.k8s.io repository)
  kubePackageSpecs: (cluster, packages) => packages.map((p) => `${p}=${cluster.kubernetesVersion}-1.1`),
  kubeVersionMatches: (installed, cluster) => installed.startsWith(`${cluster.kubernetesVersion}-`),
  kubeInstallScript: (specs, held) => T('kube-install', { packages: specs, held }),
  holdsCheck: () => T('holds-check', {}),
  notHeld: (packages, held) => packages.filter((p) => !held.has(p)),
  keyToolsScript: () => T('key-tools', {}),
  criDockerdInstall(cluster, facts) {
    const dist = `${facts.osId}-${facts.codename}`;
    if (!CRI_DOCKERD_DISTS.includes(dist)) {
      throw new KbError(`cri-dockerd publishes no package for ${facts.prettyName}: use containerRuntime: containerd`);
    }
    const v = cluster.criDockerd.version;
    return T('cri-dockerd', criDockerdArtifact(cluster, `cri-dockerd_${v}.3-0.${dist}_${facts.arch}.deb`));
  },
};
