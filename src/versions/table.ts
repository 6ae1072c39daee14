/**
 * The versions table: every version fact kbootstrap acts on, one row per
 * Kubernetes minor, add-on release line and OS release, each with the
 * sources it was read from and the date it was read. Nothing else in src/
 * holds a version fact: validate, check, the dry run, the wizard, the upgrade
 * preflight, `kbootstrap versions` and docs/compatibility.md's matrix
 * (scripts/write-compat-matrix.ts) all read these rows through ./index.ts.
 *
 * Adding a minor, an add-on release or an OS release is one row (README.md,
 * "The versions table"). A fact the sources did not confirm is left out
 * (undefined) or says so in a note; it is never guessed.
 */

/** Where a fact was read, and when (YYYY-MM-DD). */
export interface Source {
  /** URL, or repo@commit:path for a stored copy */
  ref: string;
  read: string;
  /** what this source gave the row, when the row has several */
  for?: string;
}

/** The date the table was last read against its sources: "today" for every status verdict. */
export const TABLE_DATE = '2026-12-07';

const READ = '2026-12-05';
/** docs/compatibility.md's audit (commit 66bcf3c/045a9fb, 2026-11-25): the sources it names are in that document. */
const AUDIT = '2026-11-25';

import type { CniName } from '../cni/names.js';

// ---------------------------------------------------------------- Kubernetes minors

export type CgroupV1Rule = 'supported' | 'maintenance' | 'refused';
/** What kubeadm's SystemVerification does with the kernel: nothing kbootstrap knows of, an error below 4.19, a warning off the LTS list. */
export type KernelRule = 'none' | 'min-4.19' | 'lts-list';
export type ProxyModeStatus = 'default' | 'alpha' | 'beta' | 'ga' | 'deprecated' | 'deprecated-gated';

export interface KubeMinorRow {
  minor: number;
  /** first release (vX.Y.0), YYYY-MM-DD */
  released?: string;
  /** end of life (end of patch support), YYYY-MM-DD; `eolNote` says when the date is a plan */
  eol?: string;
  eolNote?: string;
  /** newest patch release seen, and its date */
  latestPatch?: string;
  latestPatchDate?: string;
  /** kubeadm config API versions this kubeadm reads */
  kubeadmApis: readonly string[];
  /** kubeadm's pause image tag (constants.PauseVersion) */
  pause: string;
  /** kubeadm's default etcd and CoreDNS (informational: kbootstrap pins neither) */
  etcd?: string;
  coredns?: string;
  /** containerd releases the containerd project recommends for this minor (RELEASES.md "Kubernetes Support") */
  containerd?: string;
  /** kubeadm's preflight on a CRI without the RuntimeConfig call (cgroup driver from the runtime) */
  criRuntimeConfig?: 'preflight-warning' | 'required-planned';
  kernel: KernelRule;
  cgroupV1: CgroupV1Rule;
  /** kube-proxy's modes on Linux as upstream offers them for this minor */
  kubeProxyModes: Partial<Record<'iptables' | 'ipvs' | 'nftables', ProxyModeStatus>>;
  /** changelog items that touch what kbootstrap renders, and what kbootstrap does about each */
  notes?: readonly string[];
  sources: readonly Source[];
}

const REL = (m: number): Source => ({ ref: `kubernetes/sig-release@e8dfc80571dcb23c67a5ec044da17374358130cf:releases/release-1.${m}/README.md`, read: READ, for: 'release date' });
const K8SIO = (m: number): Source => ({ ref: `https://kubernetes.io/releases/1.${m}/`, read: READ, for: 'end of life, latest patch' });
const MK: Source = { ref: 'kubernetes/minikube@eb25dbc703701fa38c3f65c89a1896baa375e5ed:pkg/minikube/constants/constants_kubeadm_images.go', read: READ, for: 'pause, etcd, CoreDNS per patch (from `kubeadm config images list`)' };
const CONTAINERD_TABLE: Source = { ref: 'containerd/containerd@301026e58c619e63d09c0ec411012e54c0124b03:RELEASES.md#kubernetes-support', read: READ, for: 'containerd recommendation' };
const CL = (m: number, commit: string): Source => ({ ref: `kubernetes/kubernetes@${commit}:CHANGELOG/CHANGELOG-1.${m}.md`, read: READ, for: 'changelog items' });
const KEP_NFT: Source = { ref: 'kubernetes/enhancements@64765b4b02389318f2113119dd9e491479f978a0:keps/sig-network/3866-nftables-proxy/kep.yaml', read: READ, for: 'nftables mode stage' };
const KEP_IPVS: Source = { ref: 'kubernetes/enhancements@64765b4b02389318f2113119dd9e491479f978a0:keps/sig-network/5495-deprecate-ipvs-mode-in-kube-proxy/README.md', read: READ, for: 'ipvs deprecation (KEP-5495)' };
const KEP_CGROUP: Source = { ref: 'kubernetes/enhancements@64765b4b02389318f2113119dd9e491479f978a0:keps/sig-node/{4569-cgroup-v1-maintenance-mode,5573-remove-cgroup-v1}/kep.yaml', read: READ, for: 'cgroup v1 rule' };
const KERNEL_RULES: Source = { ref: 'kubernetes/kubernetes#129462, #131919 (k8s.io/system-validators v1.10.1 validators/types_unix.go); docs/compatibility.md [K1]-[K3]', read: AUDIT, for: 'kernel rule' };
const PAUSE_OLD: Source = { ref: 'docs/compatibility.md "Pause image per minor" (kubeadm config images list per minor; kubernetes/kubernetes#125112)', read: AUDIT, for: 'pause' };
const KUBEADM_API: Source = { ref: 'kubernetes/kubernetes#136016 (v1beta3 deprecated since 1.31, removed in 1.37), #114540 (v1beta2 removed in 1.27)', read: READ, for: 'kubeadm config APIs' };

/**
 * kube-proxy's nftables mode (KEP-3866): the NFTablesProxyMode feature gate of kube-proxy only, alpha
 * and off by default in 1.29-1.30, beta and on by default from 1.31, GA (locked on) from 1.33 (the
 * stages are each minor's kubeProxyModes.nftables below). The mode needs Linux 5.13 or later.
 */
export const NFTABLES_PROXY = {
  gate: 'NFTablesProxyMode',
  /** the gate's default per stage */
  gateDefault: { alpha: false, beta: true } as const,
  minKernel: [5, 13] as const,
  sources: [
    KEP_NFT,
    { ref: 'kubernetes/website:content/en/docs/reference/command-line-tools-reference/feature-gates/nftables-proxy-mode.md (alpha, default false, 1.29-1.30; beta, default true, from 1.31)', read: '2026-12-07', for: 'feature gate' },
    { ref: 'kubernetes/website@777c6e30:content/en/docs/reference/networking/virtual-ips.md ("only available on Linux nodes, and requires kernel 5.13 or later")', read: '2026-12-07', for: 'kernel' },
    { ref: 'https://docs.tigera.io/calico/latest/getting-started/kubernetes/nftables ("Linux kernel version 5.13 or later with nft >= 1.0.1")', read: '2026-12-07', for: 'nft' },
  ] as readonly Source[],
  /** the nft userspace calico's nftables data plane asks for on the host */
  minNft: '1.0.1',
} as const;

const B2 = 'kubeadm.k8s.io/v1beta2';
const B3 = 'kubeadm.k8s.io/v1beta3';
const B4 = 'kubeadm.k8s.io/v1beta4';

const proxy = (minor: number): KubeMinorRow['kubeProxyModes'] => ({
  iptables: 'default',
  ipvs: minor >= 37 ? 'deprecated-gated' : minor >= 35 ? 'deprecated' : 'ga',
  ...(minor >= 33 ? { nftables: 'ga' as const } : minor >= 31 ? { nftables: 'beta' as const } : minor >= 29 ? { nftables: 'alpha' as const } : {}),
});
const kernel = (minor: number): KernelRule => (minor >= 34 ? 'lts-list' : minor >= 32 ? 'min-4.19' : 'none');
const cgroupV1 = (minor: number): CgroupV1Rule => (minor >= 35 ? 'refused' : minor >= 31 ? 'maintenance' : 'supported');

/** Minors before 1.30: facts from docs/compatibility.md's audit only; their dates were not read. */
const old = (minor: number, pause: string): KubeMinorRow => ({
  minor,
  kubeadmApis: minor >= 27 ? [B3] : [B2, B3],
  pause,
  kernel: kernel(minor),
  cgroupV1: cgroupV1(minor),
  kubeProxyModes: proxy(minor),
  sources: [PAUSE_OLD, KUBEADM_API, KEP_NFT],
});

export const KUBE_MINORS: readonly KubeMinorRow[] = [
  old(24, '3.7'), old(25, '3.8'), old(26, '3.9'), old(27, '3.9'), old(28, '3.9'), old(29, '3.9'),
  {
    minor: 30, released: '2024-04-17', eol: '2025-07-15', latestPatch: '1.30.14',
    kubeadmApis: [B3], pause: '3.9', etcd: '3.5.15-0', coredns: 'v1.11.3',
    containerd: '1.7.13+, 1.6.28+ (2.0 work in progress)',
    kernel: kernel(30), cgroupV1: cgroupV1(30), kubeProxyModes: proxy(30),
    sources: [REL(30), K8SIO(30), MK, { ref: 'https://github.com/containerd/containerd.io/pull/219', read: READ, for: 'containerd recommendation' }, KUBEADM_API, KEP_NFT],
  },
  {
    minor: 31, released: '2024-08-13', eol: '2025-10-28', eolNote: 'planned date (kubernetes/website data/releases/schedule.yaml, 2024 copy); the actual date was not read',
    latestPatch: '1.31.14', kubeadmApis: [B3, B4], pause: '3.10', etcd: '3.5.24-0', coredns: 'v1.11.3',
    containerd: '1.7.20+, 1.6.34+',
    kernel: kernel(31), cgroupV1: cgroupV1(31), kubeProxyModes: proxy(31),
    sources: [REL(31), { ref: 'kubernetes/website@28d3e1316ac03edac98c3f2f14eb9b281a17f511:data/releases/schedule.yaml', read: READ, for: 'planned end of life' }, MK,
      { ref: 'https://github.com/containerd/containerd.io/pull/219', read: READ, for: 'containerd recommendation' }, KUBEADM_API, KEP_NFT, KEP_CGROUP],
  },
  {
    minor: 32, released: '2024-12-11', eolNote: 'end of life not read (no stored kubernetes.io/releases/1.32 page); past it by 1.33\'s',
    latestPatch: '1.32.13', kubeadmApis: [B3, B4], pause: '3.10', etcd: '3.5.24-0', coredns: 'v1.11.3',
    containerd: '2.1.0+, 2.0.1+, 1.7.24+, 1.6.36+',
    kernel: kernel(32), cgroupV1: cgroupV1(32), kubeProxyModes: proxy(32),
    sources: [REL(32), MK, CONTAINERD_TABLE, KUBEADM_API, KERNEL_RULES, KEP_NFT, KEP_CGROUP],
  },
  {
    minor: 33, released: '2025-04-23', eol: '2026-06-28', latestPatch: '1.33.13',
    kubeadmApis: [B3, B4], pause: '3.10', etcd: '3.5.24-0', coredns: 'v1.12.0',
    containerd: '2.1.0+, 2.0.4+, 1.7.24+, 1.6.36+',
    kernel: kernel(33), cgroupV1: cgroupV1(33), kubeProxyModes: proxy(33),
    sources: [REL(33), K8SIO(33), MK, CONTAINERD_TABLE, KUBEADM_API, KERNEL_RULES, KEP_NFT, KEP_CGROUP],
  },
  {
    minor: 34, released: '2025-08-27', eol: '2026-10-27', latestPatch: '1.34.10',
    kubeadmApis: [B3, B4], pause: '3.10.1', etcd: '3.6.5-0', coredns: 'v1.12.1',
    containerd: '2.1.3+, 2.0.6+, 1.7.28+, 1.6.39+',
    kernel: kernel(34), cgroupV1: cgroupV1(34), kubeProxyModes: proxy(34),
    sources: [REL(34), { ref: 'https://kubernetes.io/pt-br/releases/1.34', read: READ, for: 'end of life' }, MK, CONTAINERD_TABLE, KUBEADM_API, KERNEL_RULES, KEP_NFT, KEP_CGROUP],
  },
  {
    minor: 35, released: '2025-12-17', eol: '2027-02-28', latestPatch: '1.35.9', latestPatchDate: '2026-09-15',
    kubeadmApis: [B3, B4], pause: '3.10.1', etcd: '3.6.6-0', coredns: 'v1.13.1',
    containerd: '2.2.0+, 2.1.5+, 1.7.28+',
    kernel: kernel(35), cgroupV1: cgroupV1(35), kubeProxyModes: proxy(35),
    notes: [
      'kubelet --pod-infra-container-image removed (#133779): kbootstrap never passes it to the kubelet (only to cri-dockerd, whose own flag it is)',
      'failCgroupV1 defaults to true, kubeadm preflight errors on cgroup v1 (#134298, #134744): cgroup v1 hosts refused (check, up, dry run)',
      'kube-proxy ipvs mode deprecated (#134539, KEP-5495): validate warns, the wizard offers iptables first',
    ],
    sources: [REL(35), K8SIO(35), MK, CONTAINERD_TABLE, { ref: 'https://github.com/kubernetes/kubernetes/blob/master/CHANGELOG/CHANGELOG-1.35.md', read: READ, for: 'changelog items' }, KUBEADM_API, KERNEL_RULES, KEP_NFT, KEP_IPVS, KEP_CGROUP],
  },
  {
    minor: 36, released: '2026-04-22', eol: '2027-06-28', latestPatch: '1.36.4', latestPatchDate: '2026-08-11',
    kubeadmApis: [B3, B4], pause: '3.10.2', etcd: '3.6.8-0', coredns: 'v1.14.2',
    containerd: '2.3.0+, 2.2.0+ (no 1.7)', criRuntimeConfig: 'preflight-warning',
    kernel: kernel(36), cgroupV1: cgroupV1(36), kubeProxyModes: proxy(36),
    notes: [
      'pause image 3.10.2 (#138199): rendered into the containerd config and cri-dockerd\'s --pod-infra-container-image',
      'kubeadm removed integrated flex-volume support (#136423): kbootstrap passes no --flex-volume-plugin-dir and mounts nothing for it',
      'kubeadm feature gate ControlPlaneKubeletLocalMode removed (#135773): kbootstrap sets no kubeadm featureGates',
      'kubeadm preflight warns on a CRI without RuntimeConfig (#136898): validate warns for cri-dockerd releases without it (0.3.16 and older)',
      'kubeadm needs etcd 3.6+ (#135701): kbootstrap pins no etcd version (kubeadm\'s own)',
    ],
    sources: [REL(36), { ref: 'https://kubernetes.io/it/releases/1.36/', read: READ, for: 'end of life, latest patch' }, MK, CONTAINERD_TABLE,
      CL(36, '008b3652959ca58af8be3fb5b6ecfe9ae7638282'), KUBEADM_API, KERNEL_RULES, KEP_NFT, KEP_IPVS, KEP_CGROUP],
  },
  {
    minor: 37, released: '2026-08-26', eol: '2027-10-28', latestPatch: '1.37.1', latestPatchDate: '2026-09-15',
    kubeadmApis: [B4], pause: '3.10.2', etcd: '3.7.0-0', coredns: 'v1.14.6',
    criRuntimeConfig: 'preflight-warning',
    kernel: kernel(37), cgroupV1: cgroupV1(37), kubeProxyModes: proxy(37),
    notes: [
      'kubeadm v1beta3 removed (#136016): kbootstrap renders kubeadm.k8s.io/v1beta4 only',
      'kubeadm feature gates PublicKeysECDSA (#136016) and NodeLocalCRISocket (#138645) removed: kbootstrap sets no kubeadm featureGates',
      'kubelet eventRecordQPS: 0 now means no limit (#117119, the only urgent upgrade note of alpha.1): kbootstrap does not set eventRecordQPS',
      'kube-proxy ipvs behind the KubeProxyIPVS gate (#139397), kubeadm warns on it (#139067): validate warns, iptables is the default',
      'etcd and CoreDNS are the beta.0/rc.0 values; the GA notes were not read (only CHANGELOG-1.37 alpha.1 is stored)',
    ],
    sources: [REL(37), K8SIO(37), MK, CL(37, 'df0a31e010eab41eb769fbd6ecb09391707bd2eb'), KUBEADM_API, KERNEL_RULES, KEP_NFT, KEP_IPVS, KEP_CGROUP],
  },
  {
    minor: 38, released: undefined, latestPatch: undefined,
    eolNote: 'due 2026-12-16 (kubernetes/sig-release releases/release-1.38); end of life not published',
    kubeadmApis: [B4], pause: '3.10.2', etcd: '3.7.1', coredns: 'v1.14.7',
    criRuntimeConfig: 'required-planned',
    kernel: kernel(38), cgroupV1: cgroupV1(38), kubeProxyModes: proxy(38),
    notes: [
      'not released: pause assumed unchanged (3.10.2), etcd/CoreDNS from alpha.1 (#141032, #141462)',
      'kubelet cgroup-driver fallback removal planned for 1.38 (#139121): needs a CRI with RuntimeConfig (containerd 2.x, cri-dockerd 0.3.17+/0.4.x)',
    ],
    sources: [{ ref: 'kubernetes/sig-release@b45a4755d0b00dc294654c5f4010862f1e553a49:releases/release-1.38/README.md', read: READ, for: 'planned release date' },
      CL(38, '0411cc704533ed25a1bfc6e21a3195d9c6a2f0f2'), KUBEADM_API, KEP_NFT, KEP_IPVS],
  },
];

/** A minor 1.38 plans: released when its `released` date is set. */
export const PLANNED_RELEASES: Readonly<Record<number, string>> = { 38: '2026-12-16' };

// ---------------------------------------------------------------- add-ons

export type AddonName = CniName | 'kube-vip' | 'cri-dockerd' | 'containerd.io';

export interface AddonRow {
  addon: AddonName;
  /** the release line (major.minor) this row covers */
  line: string;
  /** the row covers the line's patches from `since` to `upTo` (inclusive), else all of them */
  since?: string;
  upTo?: string;
  /** newest patch of the row seen (the release kbootstrap installs when it picks this row), and its date */
  latest: string;
  latestDate?: string;
  /** Kubernetes minors the project tests the release against; undefined: it publishes no such list */
  tested?: readonly [number, number];
  /** images the release's manifest (or release workflow) names */
  images: readonly string[];
  /** cri-dockerd: implements the CRI RuntimeConfig call (cgroup driver reported to the kubelet) */
  runtimeConfig?: boolean;
  /** cri-dockerd: distributions its .deb assets are built for (osId-codename), and the EL majors of its .rpm assets */
  debDists?: readonly string[];
  rpmEl?: readonly number[];
  /**
   * sha256 of the manifest kbootstrap fetches for `latest` (calico: manifests/calico.yaml at the tag, as
   * raw.githubusercontent.com serves the tag's blob), computed from the project's repository; undefined when
   * no copy could be read: the inventory must then give cluster.cni.sha256
   */
  manifestSha256?: string;
  /** kube-vip: the env variable that sets the VIP's prefix length */
  subnetEnv?: 'vip_cidr' | 'vip_subnet';
  notes?: readonly string[];
  sources: readonly Source[];
}

const TIGERA: Source = { ref: 'tigera/docs@f2a2762432b54f20274d42c67bfa828d82872498:calico_versioned_docs/version-3.XX/_includes/partials/_system-requirements.mdx', read: READ, for: 'tested Kubernetes minors' };
const CALICO_TAGS: Source = { ref: 'projectcalico/calico@87c15906f20c4ca1fda55af92295e7678b0cc0b2: tags v3.X.Y, manifests/calico.yaml', read: READ, for: 'patches, images' };
const FLANNEL: Source = { ref: 'flannel-io/flannel@cdf760595c23292fd03ff4daf03638ac1ceef417: tags, Documentation/kube-flannel.yml, README.md ("For Kubernetes v1.17+": no tested list)', read: READ };
const KUBE_VIP: Source = { ref: 'kube-vip/kube-vip@bee5cfe4a249e6cb0859c0483028066066d49d4a: tags, .github/workflows/release.yaml, pkg/kubevip/config_envvar.go', read: READ };
const CRI_DOCKERD: Source = { ref: 'Mirantis/cri-dockerd@246bd65780eb7a9ed294192474d6015330aa8048: tags, core/docker_service.go (RuntimeConfig), core/sandbox_helpers.go', read: READ };
const CRI_DOCKERD_ASSETS: Source = { ref: 'https://sourceforge.net/projects/cri-dockerd.mirror/files/ (secondary copy of the GitHub release assets)', read: READ, for: 'release assets, 0.4.4 and later' };
const DOCKER_PACKAGING: Source = { ref: 'docker/packaging@fc7ef54cb804cb0b8de310a2438d4138e8cbfcff:docker-bake.hcl, pkg/containerd/common/containerd.toml', read: READ };
/** the distributions cri-dockerd's .deb assets named before 0.4.9, as kbootstrap has used them (Mirantis/cri-dockerd#361: no noble) */
const CRI_DOCKERD_DEBS = ['ubuntu-focal', 'ubuntu-jammy', 'debian-bullseye', 'debian-bookworm'];

const calico = (line: string, latest: string, latestDate: string, tested: [number, number], registry: 'docker.io' | 'quay.io', extra: Partial<AddonRow> = {}): AddonRow => ({
  addon: 'calico', line, latest, latestDate, tested,
  images: [`${registry}/calico/cni:${latest}`, `${registry}/calico/node:${latest}`, `${registry}/calico/kube-controllers:${latest}`],
  sources: [TIGERA, CALICO_TAGS],
  ...extra,
});

/**
 * Each CNI plugin's own nftables setting, which must follow kube-proxy's mode: the first release that
 * has it, and the first where it is generally available (none: still experimental).
 */
export const CNI_NFTABLES: Readonly<Record<CniName, { setting: string; since: string; ga?: string; sources: readonly Source[] }>> = {
  // Felix NFTablesMode: oneof(Enabled,Disabled), default Disabled, from v3.29.0 (2024-10-29, "tech-preview"); GA in
  // v3.31.0; from v3.32 oneof(Enabled,Disabled,Auto), default Auto (follows kube-proxy, calico#11629)
  calico: {
    setting: 'FELIX_NFTABLESMODE (Felix NFTablesMode)', since: 'v3.29.0', ga: 'v3.31.0',
    sources: [{ ref: 'projectcalico/calico@87c15906f20c4ca1fda55af92295e7678b0cc0b2: felix/config/config_params.go and release-notes/v3.29.0, v3.31.0, v3.32.0-release-notes.md at the tags', read: '2026-12-07' },
      { ref: 'https://docs.tigera.io/calico/latest/getting-started/kubernetes/nftables', read: '2026-12-07', for: 'kube-proxy must be in nftables mode too' }],
  },
  // net-conf.json EnableNFTables: flannel-io/flannel f244861a (2024-02-12), first tag v0.25.0 (2024-04-08);
  // "(EXPERIMENTAL)" in Documentation/configuration.md through v0.28.9 (#2346 closed wontfix 2026-01-30)
  flannel: {
    setting: 'EnableNFTables (net-conf.json)', since: 'v0.25.0',
    sources: [{ ref: 'flannel-io/flannel@cdf760595c23292fd03ff4daf03638ac1ceef417: git tag --contains f244861a; Documentation/configuration.md, Documentation/kube-flannel.yml at the tags', read: '2026-12-07' }],
  },
};

export const ADDONS: readonly AddonRow[] = [
  // manifestSha256: `git show vX.Y.Z:manifests/calico.yaml | sha256sum` in projectcalico/calico@87c15906 (2026-08-22),
  // computed 2026-12-07; v3.28.2 (kbootstrap's earlier default) is its own row so that inventories pinning it stay checked
  calico('3.28', 'v3.28.2', '2024-09-18', [27, 30], 'docker.io', { upTo: '3.28.2', manifestSha256: 'be59408bf990e96276f631d2f9285c2a0f9802194c0ad1cecdb6d9c52623a1c8' }),
  calico('3.28', 'v3.28.5', '2025-06-11', [27, 30], 'docker.io', { since: '3.28.3', manifestSha256: '206678e7adb2e931bb97385300c408490635616f371941d68468207d6e0f9713' }),
  calico('3.29', 'v3.29.7', '2025-11-19', [29, 32], 'docker.io', { manifestSha256: 'b200cb3c2c7341717abe98e4acc80a13117bcd2c9c46ad46e8c209c5753f0b2f' }),
  calico('3.30', 'v3.30.7', '2026-03-18', [31, 35], 'docker.io', { manifestSha256: 'ed105288f27c7ba4cae143bcaa3f6425f02d84fa94a4786cc8e3d371412c1a36' }),
  calico('3.31', 'v3.31.7', '2026-08-20', [32, 35], 'quay.io', { notes: ['first release whose manifest pulls from quay.io'], manifestSha256: 'd6d8a489a4ed8e5b8efd8b339047b496ca657b55ee2e3618e791507b0a853e8d' }),
  calico('3.32', 'v3.32.1', '2026-06-24', [34, 36], 'quay.io', { notes: ['v3.32.2 (2026-08-30) seen in a secondary changelog only'], manifestSha256: 'a1df919d9721cf667accdc3e72848911b0cb25cfab7d2478ad0c996302c95744' }),
  // no v3.33.0 tag in the repository snapshot read (it ends 2026-08-22): no manifest digest
  calico('3.33', 'v3.33.0', '2026-10-01', [35, 37], 'quay.io', {
    images: ['quay.io/calico/calico:v3.33.0', 'quay.io/calico/node:v3.33.0'],
    notes: ['one quay.io/calico/calico image runs upgrade-ipam, install-cni and kube-controllers; calico/cni, calico/kube-controllers and 11 other images are no longer published (mirrors and pins must follow)', 'newer 3.33 patches not read'],
    sources: [TIGERA, CALICO_TAGS, { ref: 'https://github.com/projectcalico/calico/releases/tag/v3.33.0', read: READ, for: 'release date' }, { ref: 'https://docs.tigera.io/calico/latest/operations/upgrading/upgrade-notes', read: READ, for: 'single image' }],
  }),
  { addon: 'flannel', line: '0.25', latest: 'v0.25.7', latestDate: '2024-10-07', images: ['docker.io/flannel/flannel:v0.25.7', 'docker.io/flannel/flannel-cni-plugin:v1.5.1-flannel2'], sources: [FLANNEL] },
  { addon: 'flannel', line: '0.26', upTo: '0.26.3', latest: 'v0.26.3', images: ['docker.io/flannel/flannel:v0.26.x', 'docker.io/flannel/flannel-cni-plugin'], sources: [FLANNEL] },
  { addon: 'flannel', line: '0.26', since: '0.26.4', latest: 'v0.26.7', latestDate: '2025-04-15', images: ['ghcr.io/flannel-io/flannel:v0.26.7', 'ghcr.io/flannel-io/flannel-cni-plugin:v1.6.2-flannel1'], notes: ['images on ghcr.io from v0.26.4 (2025-02-04)'], sources: [FLANNEL] },
  { addon: 'flannel', line: '0.27', latest: 'v0.27.4', latestDate: '2025-10-02', images: ['ghcr.io/flannel-io/flannel:v0.27.4', 'ghcr.io/flannel-io/flannel-cni-plugin:v1.8.0-flannel1'], sources: [FLANNEL] },
  { addon: 'flannel', line: '0.28', latest: 'v0.28.9', latestDate: '2026-08-07', images: ['ghcr.io/flannel-io/flannel:v0.28.9', 'ghcr.io/flannel-io/flannel-cni-plugin:v1.9.1-flannel3'], notes: ['newest tag in the snapshot read; later releases not read'], sources: [FLANNEL] },
  { addon: 'kube-vip', line: '0.8', latest: 'v0.8.10', latestDate: '2025-04-04', images: ['ghcr.io/kube-vip/kube-vip:v0.8.10'], subnetEnv: 'vip_cidr', sources: [KUBE_VIP] },
  { addon: 'kube-vip', line: '0.9', latest: 'v0.9.2', latestDate: '2025-06-24', images: ['ghcr.io/kube-vip/kube-vip:v0.9.2'], subnetEnv: 'vip_subnet', notes: ['vip_cidr removed in favour of vip_subnet (commit c5e854f)'], sources: [KUBE_VIP] },
  { addon: 'kube-vip', line: '1.0', latest: 'v1.0.4', latestDate: '2026-01-29', images: ['ghcr.io/kube-vip/kube-vip:v1.0.4'], subnetEnv: 'vip_subnet', sources: [KUBE_VIP] },
  { addon: 'kube-vip', line: '1.1', latest: 'v1.1.2', latestDate: '2026-03-30', images: ['ghcr.io/kube-vip/kube-vip:v1.1.2'], subnetEnv: 'vip_subnet', sources: [KUBE_VIP] },
  {
    addon: 'kube-vip', line: '1.2', latest: 'v1.2.3', latestDate: '2026-08-10', images: ['ghcr.io/kube-vip/kube-vip:v1.2.3', 'plndr/kube-vip:v1.2.3'], subnetEnv: 'vip_subnet',
    notes: ['exits when the VIP is given as vip_address without vip_subnet (#1500): kbootstrap gives it as address'],
    sources: [KUBE_VIP, { ref: 'kube-vip/kube-vip@bee5cfe:pkg/kubevip/config_manager.go (CheckSubnetExists), cmd/kube-vip.go at v1.2.3', read: READ, for: 'address / vip_subnet rule' }],
  },
  { addon: 'cri-dockerd', line: '0.3', upTo: '0.3.16', latest: '0.3.16', latestDate: '2024-12-12', images: ['registry.k8s.io/pause:3.9 (its default sandbox image)'], runtimeConfig: false, debDists: CRI_DOCKERD_DEBS, rpmEl: [7, 8], notes: ['no CRI RuntimeConfig: kubeadm 1.36+ warns, the 1.38 kubelet is planned to need it'], sources: [CRI_DOCKERD] },
  { addon: 'cri-dockerd', line: '0.3', since: '0.3.17', latest: '0.3.25', latestDate: '2026-04-27', images: ['registry.k8s.io/pause:3.10 (its default sandbox image)'], runtimeConfig: true, debDists: CRI_DOCKERD_DEBS, rpmEl: [7, 8], sources: [CRI_DOCKERD] },
  { addon: 'cri-dockerd', line: '0.4', upTo: '0.4.8', latest: '0.4.3', latestDate: '2026-04-28', images: ['registry.k8s.io/pause:3.10 (its default sandbox image)'], runtimeConfig: true, debDists: CRI_DOCKERD_DEBS, rpmEl: [8], sources: [CRI_DOCKERD] },
  {
    addon: 'cri-dockerd', line: '0.4', since: '0.4.9', latest: '0.4.10', latestDate: '2026-10-30', images: ['registry.k8s.io/pause:3.10 (its default sandbox image)'], runtimeConfig: true,
    debDists: [...CRI_DOCKERD_DEBS, 'ubuntu-noble'], rpmEl: [8, 9],
    notes: ['no packages for Debian 13, EL10 or Ubuntu 26.04 (the static .tgz only)'],
    sources: [CRI_DOCKERD, CRI_DOCKERD_ASSETS],
  },
  {
    addon: 'containerd.io', line: '2.3', latest: '2.3', images: [],
    notes: ['Docker\'s stable containerd.io since 2026-08-19 (docker/packaging e4253ef); the exact patch per distribution was not read', 'its /etc/containerd/config.toml disables CRI (kbootstrap replaces it)', 'containerd 2.3 is LTS to 2028-04-30 and reads config version 4; kbootstrap writes version 3, which it migrates in memory'],
    sources: [DOCKER_PACKAGING, { ref: 'containerd/containerd@301026e58c619e63d09c0ec411012e54c0124b03:RELEASES.md', read: READ, for: 'LTS, config versions' }],
  },
];

// ---------------------------------------------------------------- OS releases

/** Where Docker's packages for a release come from, or why none do. */
export type DockerTree = 'centos' | 'rhel' | 'debian' | 'ubuntu';

export interface OsRow {
  /** the inventory's os: value */
  os: string;
  family: 'rhel' | 'debian';
  /** /etc/os-release ID and VERSION_ID a dry run assumes */
  osId: string;
  versionId: string;
  codename: string;
  prettyName: string;
  major: number;
  /** `uname -r` of the release's kernel, and the cgroup hierarchy it boots by default */
  kernel: string;
  cgroup: 'v1' | 'v2';
  conntrackModule: 'nf_conntrack' | 'nf_conntrack_ipv4';
  /** Docker's tree for containerd.io/docker-ce; `dockerNote` says when Docker no longer builds for it */
  docker: DockerTree;
  dockerNote?: string;
  /** the date Docker stopped building containerd.io/docker-ce for the release: validate, check and up warn (the packages already published stay) */
  dockerEnded?: string;
  /** pkgs.k8s.io serves every distribution from the same per-minor trees (no per-distribution directories) */
  released?: string;
  eol?: string;
  /** tested by kbootstrap's own tests (others: warned as "not a tested release" on a real host) */
  tested: boolean;
  /** what the release changes for the commands kbootstrap renders, and what kbootstrap does about each (the audit) */
  notes?: readonly string[];
  sources: readonly Source[];
}

/** The day the rows of issue 20 item 7 (EL10, Debian 13, Ubuntu 26.04) and Ubuntu 20.04's Docker date were read. */
const TODAY = '2026-12-07';
const OS_OLD: Source = { ref: 'src/os/*.ts before the table: kernels per release (vendor images), cgroup defaults from opencontainers/runc docs/cgroup-v2.md; docs/compatibility.md [K7]', read: AUDIT };
const EOLDATE: Source = { ref: 'endoflife-date/endoflife.date@a70eca337600e7d721dc48112c271f98661d208b:products/{rhel,rocky-linux,almalinux,debian,ubuntu}.md', read: READ, for: 'release and end-of-life dates' };
const DOCKER_DISTROS: Source = { ref: 'docker/packaging@fc7ef54cb804cb0b8de310a2438d4138e8cbfcff:docker-bake.hcl (DISTROS)', read: READ, for: 'Docker builds' };

// EL10, Debian 13 and Ubuntu 26.04 (issue 20 item 7), read 2026-12-07
const EOLDATE_NEW: Source = { ref: 'endoflife-date/endoflife.date@a70eca337600e7d721dc48112c271f98661d208b:products/{rhel,rocky-linux,almalinux,debian,ubuntu}.md', read: TODAY, for: 'release and end-of-life dates' };
const DOCKER_BAKE_NEW: Source = {
  ref: 'docker/packaging@fc7ef54cb804cb0b8de310a2438d4138e8cbfcff:docker-bake.hcl (DISTROS: debian13 trixie, ubuntu2604 resolute, centos10, rhel10; almalinux10 and rockylinux10 TEST_ONLY, i.e. tested against the centos10 packages like rockylinux9)',
  read: TODAY, for: 'Docker builds',
};
const DOCKER_EL10: Source = {
  ref: 'docker/docs#23491 (engine/install: RHEL 10 supported, 2025-10-03), #23532 (CentOS Stream 10); docker/docker-install#499 (maintainer, 2026-07-13: packages for RHEL 10 at download.docker.com/linux/rhel/10/; the .repo files still use $releasever); rocky-linux/documentation#2854 ($releasever is 10 on Rocky 10)',
  read: TODAY, for: 'Docker trees for EL10',
};
const DNF_SPEC: Source = {
  ref: 'rpm-software-management/dnf@5ad76abc97a6b82a70ddc828d2286a47567eff7f:dnf.spec (%bcond dnf5_obsoletes_dnf %[0%{?fedora} > 40 || 0%{?rhel} > 10]; without it the yum subpackage links /usr/bin/yum to dnf-3)',
  read: TODAY, for: 'package manager (dnf 4, yum is its alias)',
};
const EL10_KERNEL: Source = { ref: 'RHEL/Rocky/AlmaLinux 10.0 os-release and uname -r as quoted in public logs (find_string "6.12.0-55.el10", "Red Hat Enterprise Linux 10.0 (Coughlan)", "Rocky Linux 10.0 (Red Quartz)", "AlmaLinux 10.0 (Purple Lion)"); docs.redhat.com "Considerations in adopting RHEL 10", ch. 16 Kernel', read: TODAY, for: 'kernel, os-release' };
const TRIXIE_ARCHIVE: Source = {
  ref: 'deb.debian.org trixie InRelease (13.8, 2026-11-21) and main/binary-amd64/Packages: linux-image-amd64 6.12.117-1 (linux-image-6.12.117+deb13-amd64), systemd 257.13-1~deb13u1, apt 3.0.4 (Depends: sqv), sudo 1.9.16p2, sudo-rs 0.2.5 (sudo-rs, not sudo), gpg 2.4.7, iptables 1.8.11, nftables 1.1.3',
  read: TODAY, for: 'kernel, systemd, apt, sudo',
};
const RESOLUTE: Source = {
  ref: 'Ubuntu 26.04 LTS release coverage (released 2026-04-23: Linux 7.0, sudo-rs as sudo with sudo.ws kept, rust-coreutils, cgroup v1 removed), e.g. https://dev.to/arthurpro/ubuntu-2604-goodbye-sudo-hello-rust-and-post-quantum-ssh-a4a; os-release and uname -r (7.0.0-14-generic) as quoted in public logs',
  read: TODAY, for: 'kernel, sudo, os-release',
};
const SYSTEM_VALIDATORS: Source = { ref: 'kubernetes/system-validators@9040bc28d5fabd3fcfe4e9c74e4b294a4dbf5e67:validators/types_unix.go (kernel ^([6-9]|[1-9][0-9]+)\\.([0-9]+)\\.([0-9]+).*$ accepted)', read: TODAY, for: 'kubeadm\'s kernel check accepts 6.12 and 7.0' };
const SQV: Source = { ref: 'openSUSE/open-build-service#18013 (trixie\'s apt verifies with sqv and rejects SHA1 key bindings from 2026-02-01; OBS re-signs a key with SHA256 when it extends it)', read: TODAY, for: 'apt signature policy' };

const el = (os: string, osId: string, versionId: string, prettyName: string, major: number, kernel: string, extra: Partial<OsRow> = {}): OsRow => ({
  os, family: 'rhel', osId, versionId, codename: '', prettyName, major, kernel,
  cgroup: major >= 9 ? 'v2' : 'v1', conntrackModule: major === 7 ? 'nf_conntrack_ipv4' : 'nf_conntrack',
  docker: osId === 'rhel' ? 'rhel' : 'centos', tested: false, sources: [OS_OLD], ...extra,
});

const EL10_NOTES = [
  'dnf 4 with yum as its alias (/usr/bin/yum -> dnf-3; dnf 5 replaces it only after EL10): kbootstrap\'s yum install, --disableexcludes and exclude= work unchanged',
  'SELinux enforcing and firewalld running by default, as on EL9: kbootstrap sets SELinux permissive and opens the ports (firewall: open)',
  'cgroup v2 (the default since EL9); kernel 6.12 passes kubeadm\'s kernel check (system-validators: 6.x and later)',
  'no network-scripts, no iptables-legacy: kbootstrap uses neither (kube-proxy and the CNI bring their own iptables/nft in their images; reset flushes with iptables only when the host has it)',
  'Docker: linux/rhel/10 for RHEL, linux/centos/10 for Rocky/Alma (built for CentOS Stream 10); $releasever is 10 on Rocky 10, and a RHEL host pinned to a minor (10.1) relies on Docker\'s redirects',
  'no cri-dockerd package for EL10 (its releases build el8/el9 rpms only): containerRuntime docker is refused, use containerd',
];

export const OS_RELEASES: readonly OsRow[] = [
  el('centos7', 'centos', '7', 'CentOS Linux 7 (Core)', 7, '3.10.0-1160.el7.x86_64', {
    eol: '2024-06-30', tested: true, dockerNote: 'frozen: containerd.io stops at 1.6.33 (docker/containerd-packaging#372)',
    sources: [OS_OLD, { ref: 'https://www.redhat.com/en/topics/linux/centos-linux-eol', read: AUDIT, for: 'end of life' }],
  }),
  el('rocky8', 'rocky', '8.10', 'Rocky Linux 8.10 (Green Obsidian)', 8, '4.18.0-553.el8_10.x86_64'),
  el('rocky9', 'rocky', '9.4', 'Rocky Linux 9.4 (Blue Onyx)', 9, '5.14.0-427.13.1.el9_4.x86_64', { tested: true }),
  el('alma8', 'almalinux', '8.10', 'AlmaLinux 8.10 (Cerulean Leopard)', 8, '4.18.0-553.el8_10.x86_64'),
  el('alma9', 'almalinux', '9.4', 'AlmaLinux 9.4 (Seafoam Ocelot)', 9, '5.14.0-427.13.1.el9_4.x86_64'),
  el('rhel8', 'rhel', '8.10', 'Red Hat Enterprise Linux 8.10 (Ootpa)', 8, '4.18.0-553.el8_10.x86_64'),
  el('rhel9', 'rhel', '9.4', 'Red Hat Enterprise Linux 9.4 (Plow)', 9, '5.14.0-427.13.1.el9_4.x86_64'),
  el('rocky10', 'rocky', '10.0', 'Rocky Linux 10.0 (Red Quartz)', 10, '6.12.0-55.el10.x86_64', {
    released: '2025-06-11', eol: '2035-05-31', notes: EL10_NOTES, sources: [EL10_KERNEL, EOLDATE_NEW, DOCKER_BAKE_NEW, DOCKER_EL10, DNF_SPEC, SYSTEM_VALIDATORS],
  }),
  el('alma10', 'almalinux', '10.0', 'AlmaLinux 10.0 (Purple Lion)', 10, '6.12.0-55.el10.x86_64', {
    released: '2025-05-27', eol: '2035-05-31', notes: EL10_NOTES, sources: [EL10_KERNEL, EOLDATE_NEW, DOCKER_BAKE_NEW, DOCKER_EL10, DNF_SPEC, SYSTEM_VALIDATORS],
  }),
  el('rhel10', 'rhel', '10.0', 'Red Hat Enterprise Linux 10.0 (Coughlan)', 10, '6.12.0-55.el10.x86_64', {
    released: '2025-05-20', eol: '2035-05-31', notes: EL10_NOTES, sources: [EL10_KERNEL, EOLDATE_NEW, DOCKER_BAKE_NEW, DOCKER_EL10, DNF_SPEC, SYSTEM_VALIDATORS],
  }),
  {
    os: 'debian11', family: 'debian', osId: 'debian', versionId: '11', codename: 'bullseye', prettyName: 'Debian GNU/Linux 11 (bullseye)', major: 11,
    kernel: '5.10.0-28-amd64', cgroup: 'v2', conntrackModule: 'nf_conntrack', docker: 'debian', tested: false, sources: [OS_OLD, DOCKER_DISTROS],
  },
  {
    os: 'debian12', family: 'debian', osId: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)', major: 12,
    kernel: '6.1.0-18-amd64', cgroup: 'v2', conntrackModule: 'nf_conntrack', docker: 'debian', released: '2023-06-10', eol: '2028-06-30', tested: true,
    sources: [OS_OLD, EOLDATE, DOCKER_DISTROS],
  },
  {
    os: 'debian13', family: 'debian', osId: 'debian', versionId: '13', codename: 'trixie', prettyName: 'Debian GNU/Linux 13 (trixie)', major: 13,
    // tested: the VM tests (test/vm) run the host steps on a real Debian 13 VM built from trixie's packages (test/lab/vm)
    kernel: '6.12.117+deb13-amd64', cgroup: 'v2', conntrackModule: 'nf_conntrack', docker: 'debian', released: '2025-08-09', eol: '2028-08-09', tested: true,
    notes: [
      'systemd 257 and kernel 6.12, cgroup v2 by default as since Debian 11: kbootstrap\'s units and its sysctl.d/modules-load.d files are read as on Debian 12',
      'apt 3.0 verifies signatures with sqv: the keys kbootstrap installs stay armoured .asc files named by signed-by= (no apt-key, which trixie no longer ships: hessu/aprsc#98); whether pkgs.k8s.io\'s key binding passes sqv\'s SHA1 rule is not confirmed here',
      'kbootstrap keeps writing one-line .list files (kubernetes.list, docker.list) under /etc/apt/sources.list.d; apt 3.0 reads them beside deb822 .sources files (Docker\'s own trixie instructions still write docker.list: docker/docs#21749); the lab\'s Debian 13 VM (test/lab/vm) installs from them with apt 3.0 and sqv, signed by an ed25519 lab key',
      'sudo is sudo 1.9.16; sudo-rs 0.2.5 is packaged as sudo-rs only (no -p before 0.2.6: kbootstrap\'s password sudo needs sudo, or sudo-rs 0.2.6+)',
      'Docker: linux/debian trixie; no cri-dockerd .deb for trixie: containerRuntime docker is refused, use containerd',
    ],
    sources: [TRIXIE_ARCHIVE, EOLDATE_NEW, DOCKER_BAKE_NEW, { ref: 'docker/docs#23491 (Debian Trixie 13 stable)', read: TODAY, for: 'Docker supports trixie' }, SQV, SYSTEM_VALIDATORS],
  },
  {
    os: 'ubuntu20.04', family: 'debian', osId: 'ubuntu', versionId: '20.04', codename: 'focal', prettyName: 'Ubuntu 20.04.6 LTS', major: 20,
    kernel: '5.4.0-182-generic', cgroup: 'v1', conntrackModule: 'nf_conntrack', docker: 'ubuntu', released: '2020-04-23', eol: '2025-05-31', tested: false,
    dockerNote: 'Docker stopped building for it (docker/containerd-packaging#421, docker/docker-install#493, May 2025): no current containerd.io or docker-ce',
    // containerd-packaging#421 and docker-install#493 merged 2025-05-20; docker-ce-packaging#1200 (deb: remove focal) was in CI on 2025-05-22
    dockerEnded: '2025-05-22',
    sources: [OS_OLD, EOLDATE, DOCKER_DISTROS, { ref: 'https://github.com/docker/containerd-packaging/pull/421', read: READ, for: 'Docker dropped focal' },
      { ref: 'https://github.com/docker/docker-ce-packaging/pull/1200 (deb: remove ubuntu 20.04 "focal", CI run of 2025-05-22)', read: TODAY, for: 'the date Docker stopped building for focal' }],
  },
  {
    os: 'ubuntu22.04', family: 'debian', osId: 'ubuntu', versionId: '22.04', codename: 'jammy', prettyName: 'Ubuntu 22.04.4 LTS', major: 22,
    kernel: '5.15.0-105-generic', cgroup: 'v2', conntrackModule: 'nf_conntrack', docker: 'ubuntu', released: '2022-04-21', eol: '2027-04-01', tested: true,
    sources: [OS_OLD, EOLDATE, DOCKER_DISTROS],
  },
  {
    os: 'ubuntu24.04', family: 'debian', osId: 'ubuntu', versionId: '24.04', codename: 'noble', prettyName: 'Ubuntu 24.04.1 LTS', major: 24,
    kernel: '6.8.0-31-generic', cgroup: 'v2', conntrackModule: 'nf_conntrack', docker: 'ubuntu', released: '2024-04-25', eol: '2029-05-31', tested: false,
    sources: [OS_OLD, EOLDATE, DOCKER_DISTROS],
  },
  {
    os: 'ubuntu26.04', family: 'debian', osId: 'ubuntu', versionId: '26.04', codename: 'resolute', prettyName: 'Ubuntu 26.04.1 LTS', major: 26,
    kernel: '7.0.0-14-generic', cgroup: 'v2', conntrackModule: 'nf_conntrack', docker: 'ubuntu', released: '2026-04-23', eol: '2031-04-30', tested: false,
    notes: [
      'Linux 7.0: kubeadm\'s kernel check accepts it (system-validators: 6.x and later, three-part versions), and so does kbootstrap\'s (src/kube/host-requirements.ts)',
      'cgroup v1 removed: nothing changes for kbootstrap, which refuses cgroup v1 from 1.35 anyway',
      'sudo is sudo-rs (sudo.ws stays installable): -n works as in sudo; -S reads the password from stdin; -p exists since 0.2.6 and sudo-rs wraps the prompt as "[sudo: PROMPT] Password: ", which kbootstrap answers and strips (test/e2e/sudo.test.ts runs sid\'s sudo-rs 0.2.15 on a lab host); the exact sudo-rs release of 26.04 was not read',
      'rust-coreutils replaces GNU coreutils: the coreutils kbootstrap\'s scripts call (stat -fc, mktemp, install, sha256sum) were not run against uutils here',
      'apt verifies with sqv as on Debian 13 (its version not read); Docker: linux/ubuntu resolute; no cri-dockerd .deb for resolute: containerRuntime docker is refused, use containerd',
    ],
    sources: [RESOLUTE, EOLDATE_NEW, DOCKER_BAKE_NEW, SYSTEM_VALIDATORS, { ref: 'test/lab/sudo-rs.ts, src/ssh/sudo.ts (sudo-rs 0.2.15 prompt wrapper; -p since 0.2.6, sudo-rs CHANGELOG.md)', read: TODAY, for: 'sudo-rs -n/-S/-p' }],
  },
];
