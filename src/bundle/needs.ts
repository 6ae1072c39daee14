/**
 * What an inventory's cluster downloads, and so what a bundle for it must hold: the package trees
 * and packages per OS release, the container images, the CNI manifest. The one list `bundle`
 * collects and the one list a bundle is checked against before any host changes.
 */
import type { Inventory } from '../inventory/model.js';
import type { OsName } from '../inventory/schema.js';
import { assumedFacts, osFamily } from '../os/index.js';
import type { HostFacts } from '../os/types.js';
import { minorRow } from '../versions/index.js';
import { pauseImage } from '../kube/runtime.js';
import { kubeVipImage } from '../steps/load-balancer.js';
import { clusterCni, cniVersion, defaultManifestUrl, pinnedManifestSha256 } from '../cni/index.js';
import { parseAllDocuments } from 'yaml';
import { resolveLocalManifest } from '../inventory/manifest.js';
import { KbError, EXIT } from '../errors.js';
import { KUBE_PACKAGES } from '../host/fact.js';
import type { RpmTree } from './rpm.js';
import { RPM_ARCH, type BundleArch } from './arch.js';
import { criDockerdDeb } from '../os/debian.js';
import { criDockerdRpm } from '../os/rhel.js';
import { debianOsTrees } from '../os/debian-trees.js';
import { rpmOsKey, rpmOsRefusal, rpmOsTrees } from '../os/rhel-trees.js';
import { DEBIAN_ARCHIVE_KEYS, UBUNTU_ARCHIVE_KEY } from '../os/keys.js';

/** One apt repository as a host's sources line names it, and the signing key it is checked with. */
export interface AptTree {
  kind?: 'apt';
  /** stable id used for the bundle's paths: docker-debian-bookworm, kubernetes-v1.30 */
  id: string;
  /** `deb` line's URL (base) and suite ("/" for a flat repository) and components */
  base: string;
  suite: string;
  components: string[];
  keyUrl: string;
  /** keyrings on this machine tried before keyUrl (an OS release's archive keyring) */
  keyFiles?: string[];
  fingerprints: string[];
  /**
   * Where the tree and its key lie inside a bundle: the paths a packageMirror laid out like
   * mirrors.aliyun.com gives them (docker-ce/linux/debian, kubernetes-new/core/stable/v1.30/deb),
   * so an unpacked bundle served over HTTP is such a mirror, signatures and all.
   */
  path: string;
  keyPath: string;
}

/** Stands in for the bundle server's address while the mirror-relative paths are worked out. */
const BUNDLE_BASE = 'http://bundle.invalid';

export interface OsNeeds {
  os: OsName;
  /** the hosts' architecture these packages are for */
  arch: BundleArch;
  facts: HostFacts;
  trees: (AptTree | RpmTree)[];
  /** packages installed from those trees, pinned where the templates pin them (name -> exact version or undefined for the newest) */
  packages: { name: string; version?: string; why: string }[];
  /** packages the steps install from the release's own base repositories (bundled with --with-os-packages, else listed) */
  osPackages: { name: string; why: string }[];
  /**
   * the release's own repositories, read with --with-os-packages: Debian family its suite, -updates and
   * -security (component main); Rocky/Alma 9 BaseOS and AppStream
   */
  osTrees: (AptTree | RpmTree)[];
  /** why --with-os-packages cannot bundle this release's own packages (RHEL: subscription) */
  osRefusal?: string;
  /**
   * containerRuntime docker: cri-dockerd's release file for this release, fetched from cluster.criDockerd.url
   * (or GitHub) and checked against cluster.criDockerd.sha256; in the bundle at `path`, where a criDockerd.url
   * pointing at the bundle server finds it
   */
  criDockerd?: { file: string; url: string; sha256: string; path: string; why: string };
}

/** Where cri-dockerd's release files lie in a bundle (the bundle server's address + this is the run's criDockerd.url). */
export const CRI_DOCKERD_DIR = 'cri-dockerd';

export interface BundleNeeds {
  kubernetesVersion: string;
  containerRuntime: string;
  osReleases: OsNeeds[];
  /** kubeadm's and kube-vip's; the CNI's are read from its manifest (cniManifestImages) */
  images: { ref: string; why: string }[];
  /** the manifest the CNI step applies: fetched (url, with the sha256 it must have when one is known) or the inventory's local file */
  cniManifest?: { url: string; sha256?: string; why: string } | { local: string; why: string };
}

/**
 * kubeadm's image list for a version (`kubeadm config images list`): the control-plane images and
 * kube-proxy tagged v<version>, CoreDNS (under coredns/ only on the default repository: kubeadm's
 * images.GetDNSImage, cmd/kubeadm/app/images/images.go, read 2026-12-07), pause and etcd at the
 * minor's tags (the versions table's pause/etcd/coredns columns).
 */
export function kubeadmImages(inv: Inventory): string[] {
  const c = inv.cluster;
  const row = minorRow(c.minor);
  if (!row?.etcd || !row.coredns) throw new KbError(`bundle: the versions table has no etcd/CoreDNS tags for Kubernetes ${c.minorVersion}`);
  const r = c.imageRepository;
  const v = `v${c.kubernetesVersion}`;
  return [
    ...['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'].map((n) => `${r}/${n}:${v}`),
    `${r === 'registry.k8s.io' ? `${r}/coredns` : r}/coredns:${row.coredns}`,
    pauseImage(c),
    `${r}/etcd:${row.etcd}`,
  ];
}

/** The OS releases a bundle must serve: every host's `os:`, plus `extra` (--os). */
export function bundleReleases(inv: Inventory, extra: readonly OsName[]): OsName[] {
  const missing = inv.hosts.filter((h) => !h.os);
  if (missing.length && !extra.length) {
    throw new KbError(`bundle: ${missing.map((h) => h.name).join(', ')} ${missing.length === 1 ? 'has' : 'have'} no os: in the inventory: say which releases to bundle for with --os (e.g. --os debian12)`, EXIT.usage);
  }
  const out: OsName[] = [];
  for (const n of [...inv.hosts.flatMap((h) => (h.os ? [h.os] : [])), ...extra]) {
    const f = assumedFacts(n);
    // debian and debian12 are one release: bundled once
    if (!out.some((o) => { const g = assumedFacts(o); return g.osId === f.osId && g.versionId === f.versionId; })) out.push(n);
  }
  return out;
}

/** Parse a `deb [opts] URL SUITE COMPONENTS...` line of a repository file kbootstrap writes. */
function debLine(content: string): { base: string; suite: string; components: string[] } {
  const line = content.split('\n').find((l) => l.startsWith('deb '));
  if (!line) throw new Error(`no deb line in ${JSON.stringify(content)}`);
  const words = line.replace(/\[[^\]]*\]\s*/, '').split(/\s+/).filter(Boolean);
  return { base: words[1]!.replace(/\/+$/, ''), suite: words[2]!, components: words.slice(3) };
}

/** The baseurl of a .repo file kbootstrap writes, with dnf's $releasever (the major release) and $basearch expanded. */
function baseurl(content: string, facts: HostFacts, rpmArch: string): string {
  const line = content.split('\n').find((l) => l.startsWith('baseurl='));
  if (!line) throw new Error(`no baseurl in ${JSON.stringify(content)}`);
  return line.slice('baseurl='.length).trim().replace(/\$releasever/g, String(facts.major)).replace(/\$basearch/g, rpmArch).replace(/\/+$/, '');
}

export function bundleNeeds(inv: Inventory, releases: readonly OsName[], arches: readonly BundleArch[] = ['amd64']): BundleNeeds {
  const c = inv.cluster;
  const asMirror = { ...c, packageMirror: BUNDLE_BASE };
  const rel = (url: string) => url.slice(BUNDLE_BASE.length + 1);
  const osReleases: OsNeeds[] = releases.flatMap((os) => arches.map((arch) => {
    const facts = { ...assumedFacts(os), arch };
    const fam = osFamily(facts);
    const trees: (AptTree | RpmTree)[] = [];
    if (fam.id === 'debian') {
      for (const [id, repo, inBundle] of [
        [`docker-${facts.osId}-${facts.codename}`, fam.dockerRepository(c, facts), fam.dockerRepository(asMirror, facts)],
        [`kubernetes-${c.minorVersion}`, fam.kubernetesRepository(c, facts), fam.kubernetesRepository(asMirror, facts)],
      ] as const) {
        const d = debLine(repo.content);
        trees.push({ id, ...d, keyUrl: repo.key!.url, fingerprints: repo.key!.fingerprints, path: rel(debLine(inBundle.content).base), keyPath: rel(inBundle.key!.url) });
      }
    } else {
      if (facts.major === 7) {
        // its CentOS-Base.repo points at the vault on the packageMirror, which a bundle does not carry, and
        // yum 3 installs nothing while an enabled repository does not answer
        throw new KbError(`bundle: ${facts.prettyName} (os: ${os}): not bundled: its base repositories (CentOS 7's vault) are not in a bundle, and yum 3 needs every enabled repository to answer`, EXIT.usage);
      }
      const rpmArch = RPM_ARCH[arch];
      // Docker's tree is one per release and architecture; pkgs.k8s.io's one per minor for every architecture
      // (https://pkgs.k8s.io/core:/stable:/v1.30/rpm/, its packages under x86_64/, aarch64/...; read 2026-12-07)
      const docker = fam.dockerRepository(c, facts), dockerIn = fam.dockerRepository(asMirror, facts);
      const kube = fam.kubernetesRepository(c, facts), kubeIn = fam.kubernetesRepository(asMirror, facts);
      trees.push({
        kind: 'rpm', id: `docker-${facts.osId === 'rhel' ? 'rhel' : 'centos'}-${facts.major}-${rpmArch}`, base: baseurl(docker.content, facts, rpmArch), arches: [rpmArch],
        keyUrl: docker.key!.url, fingerprints: docker.key!.fingerprints, path: rel(baseurl(dockerIn.content, facts, rpmArch)), keyPath: rel(dockerIn.key!.url),
      }, {
        kind: 'rpm', id: `kubernetes-${c.minorVersion}-rpm`, base: baseurl(kube.content, facts, rpmArch), arches: arches.map((a) => RPM_ARCH[a]),
        keyUrl: kube.key!.url, fingerprints: kube.key!.fingerprints, path: rel(baseurl(kubeIn.content, facts, rpmArch)), keyPath: rel(kubeIn.key!.url),
      });
    }
    const runtime = c.containerRuntime === 'docker' ? ['containerd.io', 'docker-ce', 'docker-ce-cli'] : ['containerd.io'];
    // apt pins kubeadm=1.30.4-1.1, yum kubeadm-1.30.4 (any release of that version)
    const [kubeSpec] = fam.kubePackageSpecs(c, ['kubeadm']);
    const kubeVersion = fam.id === 'debian' ? kubeSpec!.slice(kubeSpec!.indexOf('=') + 1) : c.kubernetesVersion;
    return {
      os, arch, facts, trees,
      packages: [
        ...runtime.map((name) => ({ name, why: `container runtime ${c.containerRuntime} (step container-runtime)` })),
        ...KUBE_PACKAGES.map((name) => ({ name, version: kubeVersion, why: `Kubernetes ${c.kubernetesVersion} (step kube-packages)` })),
      ],
      osPackages: [
        ...(fam.id === 'debian' ? ['curl', 'ca-certificates', 'gpg'].map((name) => ({ name, why: 'fetches and checks the repositories\' signing keys, and the bundle\'s images (templates/os/debian/key-tools: a minimal Debian lacks curl and gpg)' })) : []),
        ...{ ipvs: ['ipset', 'ipvsadm'], nftables: ['nftables'], iptables: [] }[c.kubeProxyMode].map((name) => ({ name, why: `kube-proxy mode ${c.kubeProxyMode} (step kube-packages)` })),
      ],
      osTrees: fam.id === 'debian' ? osAptTrees(c, facts) : osRpmTrees(c, facts),
      ...(fam.id === 'rhel' && rpmOsRefusal(facts) ? { osRefusal: rpmOsRefusal(facts) } : {}),
      ...(c.containerRuntime === 'docker' ? { criDockerd: criDockerdNeed(inv, facts) } : {}),
    };
  }));
  const images = [
    ...kubeadmImages(inv).map((ref) => ({ ref, why: `kubeadm ${c.kubernetesVersion}'s image list` })),
    ...(c.loadBalancer?.type === 'kube-vip' ? [{ ref: kubeVipImage(c), why: 'kube-vip (cluster.loadBalancer)' }] : []),
  ];
  const plugin = clusterCni(c.cni);
  let cniManifest: BundleNeeds['cniManifest'];
  if (plugin) {
    const version = cniVersion(plugin, c.cni, c.minor);
    if (!c.cni.manifest) {
      const url = defaultManifestUrl(plugin, c.cni, c.minor);
      cniManifest = { url, sha256: c.cni.sha256 ?? pinnedManifestSha256(url), why: `${plugin.id} ${version} (cluster.cni)` };
    } else if (/^https?:\/\//.test(c.cni.manifest)) cniManifest = { url: c.cni.manifest, sha256: c.cni.sha256, why: `${plugin.id} (cluster.cni.manifest)` };
    else {
      // the file load() accepted, under the inventory's directory
      const local = resolveLocalManifest(inv.file, c.cni.manifest);
      if (!local.ok) throw new KbError(`bundle: cluster.cni.manifest: ${local.reason}`, EXIT.usage);
      cniManifest = { local: local.path, why: `${plugin.id} (cluster.cni.manifest, a local file: its images are bundled, the file is uploaded from here as without a bundle)` };
    }
  }
  return { kubernetesVersion: c.kubernetesVersion, containerRuntime: c.containerRuntime, osReleases, images, cniManifest };
}

/**
 * A Debian-family release's own repositories (src/os/debian-trees.ts), checked with the release's
 * archive keys (src/os/keys.ts): from this machine's keyring when it has the distribution's, else from
 * the distribution's key URL.
 */
function osAptTrees(c: Inventory['cluster'], facts: HostFacts): AptTree[] {
  const ubuntu = facts.osId === 'ubuntu';
  const fingerprints = [...(ubuntu ? [UBUNTU_ARCHIVE_KEY] : DEBIAN_ARCHIVE_KEYS), ...c.repositoryKeyFingerprints];
  return debianOsTrees(c, facts).map((t) => ({
    id: `os-${t.path}-${t.suite}`, base: t.base, suite: t.suite, components: ['main'], fingerprints, keyFiles: [t.keyring],
    keyUrl: ubuntu ? `https://keyserver.ubuntu.com/pks/lookup?op=get&options=mr&search=0x${UBUNTU_ARCHIVE_KEY}`
      : `https://ftp-master.debian.org/keys/archive-key-${facts.major}${t.suite.endsWith('-security') ? '-security' : ''}.asc`,
    path: t.path, keyPath: `${t.path}/kbootstrap-archive-keys-${facts.osId}${facts.major}.asc`,
  }));
}

/** A Rocky/Alma 9 release's BaseOS and AppStream (src/os/rhel-trees.ts), checked with its pinned release key. */
function osRpmTrees(c: Inventory['cluster'], facts: HostFacts): RpmTree[] {
  const key = rpmOsKey(c, facts);
  if (!key || rpmOsRefusal(facts)) return [];
  const rpmArch = RPM_ARCH[facts.arch as BundleArch];
  return rpmOsTrees(c, facts).map((t) => ({
    kind: 'rpm', id: `os-${t.path.replace(/\//g, '-')}`, base: t.base, arches: [rpmArch],
    keyUrl: key.url, fingerprints: [key.fingerprint, ...c.repositoryKeyFingerprints], path: t.path, keyPath: key.path,
  }));
}

function criDockerdNeed(inv: Inventory, facts: HostFacts): NonNullable<OsNeeds['criDockerd']> {
  const d = osFamily(facts).id === 'debian' ? criDockerdDeb(inv.cluster, facts) : criDockerdRpm(inv.cluster, facts);
  return { ...d, path: `${CRI_DOCKERD_DIR}/${d.file}`, why: `cri-dockerd ${inv.cluster.criDockerd.version} for ${facts.prettyName} (containerRuntime docker; sha256 from cluster.criDockerd.sha256)` };
}

/**
 * The images a manifest's workloads run: every `image:` of a container or init container of a Pod
 * template (Deployment, DaemonSet, StatefulSet, Job...) or a Pod, in the order they appear. The CNI's
 * images are taken from the manifest the cluster applies, not from a table, so a custom manifest
 * bundles what it names.
 */
export function manifestImages(text: string): string[] {
  const out: string[] = [];
  const walk = (v: unknown, key?: string): void => {
    if (Array.isArray(v)) {
      for (const x of v) {
        if ((key === 'containers' || key === 'initContainers') && x && typeof x === 'object' && typeof (x as { image?: unknown }).image === 'string') {
          const ref = (x as { image: string }).image;
          if (!out.includes(ref)) out.push(ref);
        }
        walk(x);
      }
    } else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
  };
  for (const doc of parseAllDocuments(text)) walk(doc.toJS());
  return out;
}
