/**
 * The RHEL family: CentOS 7, Rocky, AlmaLinux and RHEL 8, 9 and 10. yum/dnf and
 * rpm; versions pinned as NAME-VERSION and held by the repository's
 * exclude= line (installs pass --disableexcludes); SELinux and firewalld are
 * part of the default install.
 */
import type { ClusterSpec } from '../inventory/model.js';
import { render } from '../shell/templates.js';
import { criDockerdArtifact, dockerRepoBase, kubernetesRepoBase, mirrorBase } from './mirrors.js';
import type { HostFacts, OsFamily, ReleaseFacts } from './types.js';
import { DOCKER_RPM_KEY, KUBERNETES_KEY } from './keys.js';
import { KbError } from '../errors.js';
import { bundleOsRelease } from './debian-trees.js';
import { hasRpmOsTrees, rpmOsTrees } from './rhel-trees.js';
import { OS_RELEASES, addonRow, criDockerdAsset, releaseFacts } from '../versions/index.js';
import type { OsName } from '../inventory/schema.js';

// yum imports gpgkey= on first use (-y accepts it): kbootstrap fetches the key itself, checks its
// fingerprint, and points gpgkey= at the checked file
const KUBE_KEY = '/etc/pki/rpm-gpg/kbootstrap-kubernetes.asc';
const DOCKER_KEY = '/etc/pki/rpm-gpg/kbootstrap-docker.asc';

const T = (name: string, ctx: Record<string, unknown>) => render(`os/rhel/${name}`, ctx);

/**
 * CentOS 7 reached its end of life on 2024-06-30 and mirrorlist.centos.org
 * went away with it, so the stock CentOS-Base.repo cannot install anything
 * (https://www.redhat.com/en/topics/linux/centos-linux-eol). Its last
 * release, 7.9.2009, lives on in the vault (https://vault.centos.org/7.9.2009/)
 * and in Aliyun's copy (https://mirrors.aliyun.com/centos-vault/7.9.2009/).
 */
const CENTOS7_VAULT_RELEASE = '7.9.2009';

function centos7VaultBase(cluster: ClusterSpec): string {
  const m = mirrorBase(cluster);
  return m ? `${m}/centos-vault/${CENTOS7_VAULT_RELEASE}` : `https://vault.centos.org/${CENTOS7_VAULT_RELEASE}`;
}

export const rhel: OsFamily = {
  id: 'rhel',
  description: 'the RHEL family (CentOS 7, Rocky/Alma/RHEL 8, 9 and 10)',
  // kernel, cgroup default (v2 only from EL9) of each release: the versions table's OS rows
  releases: Object.fromEntries(OS_RELEASES.filter((r) => r.family === 'rhel').map((r) => [r.os, releaseFacts(r)])) as Partial<Record<OsName, ReleaseFacts>>,
  genericRelease: 'rocky9',
  matches: (id, like) => ['rhel', 'centos', 'rocky', 'almalinux', 'ol'].includes(id) || like.some((l) => ['rhel', 'centos', 'fedora'].includes(l)),
  // any EL rebuild of a major the table has a row for (CentOS only for 7)
  isSupportedRelease: (f) => (f.major === 7 ? f.osId === 'centos' : OS_RELEASES.some((r) => r.family === 'rhel' && r.major === f.major)),
  managesSelinux: true,
  managesFirewalld: true,

  baseRepositories(cluster, facts) {
    // up --bundle with a bundle made --with-os-packages: the release's BaseOS and AppStream as the bundle server serves them
    if (cluster.bundleOsReleases?.includes(bundleOsRelease(facts)) && hasRpmOsTrees(facts)) {
      return [{
        path: '/etc/yum.repos.d/kbootstrap-bundle-os.repo',
        content: [
          `# kbootstrap: ${facts.prettyName}'s own packages from the bundle (up --bundle), checked with the release key every installation has`,
          ...rpmOsTrees(cluster, facts).flatMap((t) => [`[${t.id}]`, `name=${t.name}`, `baseurl=${t.base}/`, 'enabled=1', 'gpgcheck=1', `gpgkey=file://${t.gpgkey}`, '']),
        ].join('\n'),
      }];
    }
    if (!(facts.osId === 'centos' && facts.major === 7)) return [];
    const base = centos7VaultBase(cluster);
    const section = (id: string, name: string) => [
      `[${id}]`,
      `name=CentOS-7 - ${name} (vault ${CENTOS7_VAULT_RELEASE})`,
      `baseurl=${base}/${id}/$basearch/`,
      'enabled=1',
      'gpgcheck=1',
      'gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-CentOS-7',
      '',
    ];
    return [{
      path: '/etc/yum.repos.d/CentOS-Base.repo',
      content: [
        '# kbootstrap: CentOS 7 is past its end of life and mirrorlist.centos.org is gone;',
        `# base, updates and extras come from the vault copy of ${CENTOS7_VAULT_RELEASE}.`,
        '',
        ...section('os', 'Base').map((l) => l.replace('[os]', '[base]')),
        ...section('updates', 'Updates'),
        ...section('extras', 'Extras'),
      ].join('\n'),
    }];
  },

  kubernetesRepository(cluster) {
    const base = kubernetesRepoBase(cluster);
    return {
      path: '/etc/yum.repos.d/kubernetes.repo',
      content: [
        `# kbootstrap: Kubernetes ${cluster.minorVersion} packages; exclude= holds them against yum update`,
        '[kubernetes]',
        `name=Kubernetes ${cluster.minorVersion}`,
        `baseurl=${base}/rpm/`,
        'enabled=1',
        'gpgcheck=1',
        `gpgkey=file://${KUBE_KEY}`,
        'exclude=kubelet kubeadm kubectl cri-tools kubernetes-cni',
      ].join('\n') + '\n',
      key: { path: KUBE_KEY, url: `${base}/rpm/repodata/repomd.xml.key`, fingerprints: [KUBERNETES_KEY, ...cluster.repositoryKeyFingerprints] },
    };
  },

  dockerRepository(cluster, facts) {
    // Docker documents linux/rhel/docker-ce.repo for RHEL 8/9/10 (docker/docs#23491,
    // https://docs.docker.com/engine/install/rhel/) and linux/centos for CentOS and its rebuilds
    // (https://docs.docker.com/engine/install/centos/); both trees use $releasever/$basearch (D6)
    const base = dockerRepoBase(cluster, facts.osId === 'rhel' ? 'rhel' : 'centos');
    return {
      path: '/etc/yum.repos.d/docker-ce.repo',
      content: [
        '# kbootstrap: Docker CE repository (containerd.io, docker-ce)',
        '[docker-ce-stable]',
        'name=Docker CE Stable - $basearch',
        `baseurl=${base}/$releasever/$basearch/stable`,
        'enabled=1',
        'gpgcheck=1',
        `gpgkey=file://${DOCKER_KEY}`,
      ].join('\n') + '\n',
      key: { path: DOCKER_KEY, url: `${base}/gpg`, fingerprints: [DOCKER_RPM_KEY, ...cluster.repositoryKeyFingerprints] },
    };
  },

  packagesCheck: (packages) => T('packages-state', { packages }),
  installScript: (packages, cluster) => T('install', { packages, options: repoOptions(cluster) }),
  kubePackageSpecs: (cluster, packages) => packages.map((p) => `${p}-${cluster.kubernetesVersion}`),
  // rpm -q prints VERSION without the release: 1.30.4
  kubeVersionMatches: (installed, cluster) => installed === cluster.kubernetesVersion,
  kubeInstallScript: (specs, _held, cluster) => T('kube-install', { packages: specs, options: repoOptions(cluster) }),
  holdsCheck: () => '',
  // the repository file's exclude= line holds them; the file itself is checked by the step
  notHeld: () => [],
  // curl and gnupg2 are part of every EL minimal install (rpm and dnf need gnupg2)
  keyToolsScript: () => '',
  criDockerdInstall: (cluster, facts: HostFacts) => T('cri-dockerd', { ...criDockerdRpm(cluster, facts), options: repoOptions(cluster) }),
};

/**
 * The repositories an install may read. Without a bundle: every enabled one. Under `up --bundle`:
 * those on the bundle server only (the ids kbootstrap's .repo files give them). dnf, like yum 3,
 * loads every enabled repository's metadata before it resolves anything and stops at the first that
 * cannot be fetched (skip_if_unavailable defaults to False: dnf.conf(5), rpm-software-management/dnf#1358;
 * RHEL 8.1 release notes, BZ#1697472), so a host whose own repositories are out of reach installs
 * nothing, and one that reaches them would fetch from outside. --disablerepo='*' then --enablerepo=
 * (a comma-separated list of ids or globs, applied in order: dnf(8) "--disablerepo", "--enablerepo")
 * leaves only the bundle's. Sources read 2026-12-07.
 */
function repoOptions(cluster: ClusterSpec): string[] {
  return cluster.bundleOnly ? ['--disablerepo=*', `--enablerepo=${BUNDLE_REPO_IDS.join(',')}`] : [];
}

/** The repository ids of the .repo files kbootstrap writes (kubernetes.repo, docker-ce.repo, the bundle's OS trees). */
const BUNDLE_REPO_IDS = ['kubernetes', 'docker-ce-stable', 'kbootstrap-bundle-*'];

/** cri-dockerd's release .rpm for an EL host, where it is fetched from and the sha256 it must have. */
export function criDockerdRpm(cluster: ClusterSpec, facts: HostFacts): { file: string; url: string; sha256: string } {
  // the release's .rpm assets per EL major: the versions table's cri-dockerd rows
  const v = cluster.criDockerd.version;
  const arch = facts.arch === 'arm64' ? 'aarch64' : 'x86_64';
  const row = addonRow('cri-dockerd', v);
  const asset = row ? criDockerdAsset(row, facts) : { el: facts.major === 7 ? 7 : 8 };
  if (!asset || !('el' in asset)) throw new KbError(`cri-dockerd ${v} publishes no package for ${facts.prettyName}: use containerRuntime: containerd`);
  const file = `cri-dockerd-${v}-3.el${asset.el}.${arch}.rpm`;
  return { file, ...criDockerdArtifact(cluster, file) };
}
