/**
 * The Debian family: Debian 11/12/13 and Ubuntu 20.04/22.04/24.04/26.04. apt with
 * signed-by keyrings under /etc/apt/keyrings; versions pinned as
 * NAME=VERSION-REVISION and held with apt-mark. Neither SELinux nor
 * firewalld is part of the default install.
 */
import { KbError } from '../errors.js';
import { render } from '../shell/templates.js';
import { criDockerdArtifact, dockerRepoBase, kubernetesRepoBase } from './mirrors.js';
import { DOCKER_DEB_KEY, KUBERNETES_KEY } from './keys.js';
import { bundleOsRelease, debianOsTrees } from './debian-trees.js';
import type { HostFacts, OsFamily, ReleaseFacts } from './types.js';
import type { ClusterSpec } from '../inventory/model.js';
import { OS_RELEASES, addonRow, criDockerdAsset, osRowFor, releaseFacts } from '../versions/index.js';
import type { OsName } from '../inventory/schema.js';

const T = (name: string, ctx: Record<string, unknown>) => render(`os/debian/${name}`, ctx);

const KUBE_KEY = '/etc/apt/keyrings/kubernetes-apt-keyring.asc';
const DOCKER_KEY = '/etc/apt/keyrings/docker.asc';


export const debian: OsFamily = {
  id: 'debian',
  description: 'the Debian family (Debian 11/12/13, Ubuntu 20.04/22.04/24.04/26.04)',
  // kernel, cgroup default and codename of each release: the versions table's OS rows
  releases: Object.fromEntries(OS_RELEASES.filter((r) => r.family === 'debian').map((r) => [r.os, releaseFacts(r)])) as Partial<Record<OsName, ReleaseFacts>>,
  genericRelease: 'debian12',
  matches: (id, like) => ['debian', 'ubuntu'].includes(id) || like.includes('debian') || like.includes('ubuntu'),
  isSupportedRelease: (f) => osRowFor(f.osId, f.versionId)?.family === 'debian',
  managesSelinux: false,
  managesFirewalld: false,

  // up --bundle with a bundle made --with-os-packages: the release's own repositories as the bundle server serves them,
  // checked with the keyring every installation has (the hosts' own sources stay; offline, they answer nothing)
  baseRepositories(cluster, facts) {
    if (!cluster.bundleOsReleases?.includes(bundleOsRelease(facts))) return [];
    const lines = debianOsTrees(cluster, facts).map((t) => `deb [arch=${facts.arch} signed-by=${t.keyring}] ${t.base} ${t.suite} main`);
    return [{ path: '/etc/apt/sources.list.d/kbootstrap-bundle-os.list', content: `# kbootstrap: ${facts.prettyName}'s own packages from the bundle (up --bundle)\n${lines.join('\n')}\n` }];
  },

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
    return T('cri-dockerd', criDockerdDeb(cluster, facts));
  },
};

/** cri-dockerd's .deb for a release: its file name, where the hosts fetch it and the sha256 it must have (also what a bundle carries). */
export function criDockerdDeb(cluster: ClusterSpec, facts: HostFacts): { file: string; url: string; sha256: string } {
  // the release's .deb assets per distribution: the versions table's cri-dockerd rows (https://github.com/Mirantis/cri-dockerd/releases)
  const v = cluster.criDockerd.version;
  const row = addonRow('cri-dockerd', v);
  const asset = row ? criDockerdAsset(row, facts) : { deb: `${facts.osId}-${facts.codename}` };
  if (!asset || !('deb' in asset)) {
    throw new KbError(`cri-dockerd ${v} publishes no package for ${facts.prettyName}: use containerRuntime: containerd`);
  }
  const file = `cri-dockerd_${v}.3-0.${asset.deb}_${facts.arch}.deb`;
  return { file, ...criDockerdArtifact(cluster, file) };
}
