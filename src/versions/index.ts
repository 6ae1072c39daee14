/**
 * Questions asked of the versions table (./table.ts): which minors are
 * supported, what a minor renders, which add-on release is the default for a
 * minor and whether a pinned one is tested against it. Pure and local: no
 * network, no clock (every verdict is as of TABLE_DATE).
 */
import { ADDONS, CNI_NFTABLES, KUBE_MINORS, NFTABLES_PROXY, OS_RELEASES, PLANNED_RELEASES, TABLE_DATE, type AddonName, type AddonRow, type KubeMinorRow, type OsRow, type Source } from './table.js';

export { ADDONS, CNI_NFTABLES, KUBE_MINORS, NFTABLES_PROXY, OS_RELEASES, TABLE_DATE };
export type { AddonName, AddonRow, KubeMinorRow, OsRow, Source };

/** Oldest minor kbootstrap installs: pkgs.k8s.io serves v1.24.0 and later (docs/compatibility.md, "Package repositories"). */
export const MIN_MINOR = KUBE_MINORS[0]!.minor;
/** Newest minor the table has a row for. */
export const MAX_KNOWN_MINOR = KUBE_MINORS.at(-1)!.minor;

export function minorRow(minor: number): KubeMinorRow | undefined {
  return KUBE_MINORS.find((r) => r.minor === minor);
}

/** The row whose facts stand for `minor`: its own, else the newest one (a minor newer than the table). */
function factsRow(minor: number): KubeMinorRow {
  return minorRow(minor) ?? KUBE_MINORS.at(-1)!;
}

const isReleased = (r: KubeMinorRow): boolean =>
  r.released !== undefined ? r.released <= TABLE_DATE : KUBE_MINORS.some((n) => n.minor > r.minor && n.released !== undefined && n.released <= TABLE_DATE);

/** The end of life that has passed for this minor: its own date, or the date of a newer minor that ended before it. */
function passedEol(r: KubeMinorRow): { date: string; minor: number } | undefined {
  if (r.eol !== undefined) return r.eol < TABLE_DATE ? { date: r.eol, minor: r.minor } : undefined;
  const newer = KUBE_MINORS.find((n) => n.minor > r.minor && n.eol !== undefined && n.eol < TABLE_DATE);
  return newer ? { date: newer.eol!, minor: newer.minor } : undefined;
}

export type MinorStatus = 'supported' | 'end-of-life' | 'unreleased' | 'unknown';

export function minorStatus(minor: number): MinorStatus {
  const r = minorRow(minor);
  if (!r) return 'unknown';
  if (!isReleased(r)) return 'unreleased';
  return passedEol(r) ? 'end-of-life' : 'supported';
}

/** The minors upstream supports on TABLE_DATE, oldest first. */
export const SUPPORTED_MINORS: readonly number[] = KUBE_MINORS.filter((r) => minorStatus(r.minor) === 'supported').map((r) => r.minor);

const list = (minors: readonly number[]): string => minors.map((m) => `1.${m}`).join(', ');
const cite = (s: Source | undefined): string => (s ? `${s.ref}, read ${s.read}` : `versions table, read ${TABLE_DATE}`);
const eolSource = (r: KubeMinorRow): Source | undefined => r.sources.find((s) => s.for?.includes('end of life')) ?? r.sources[0];

/** What validate says about the minor, or undefined for a supported one. */
export function minorWarning(minor: number): string | undefined {
  const r = minorRow(minor);
  const supported = `supported today: ${list(SUPPORTED_MINORS)}`;
  if (!r) return `1.${minor} is newer than kbootstrap's versions table (1.${MAX_KNOWN_MINOR}, read ${TABLE_DATE}); it may work (${supported})`;
  const status = minorStatus(minor);
  if (status === 'unreleased') {
    const due = PLANNED_RELEASES[minor];
    return `1.${minor} is not released yet${due ? ` (due ${due})` : ''}; kbootstrap renders it like 1.${minor} is planned (${r.notes?.[0] ?? 'see kbootstrap versions'}); ${supported}`;
  }
  if (status === 'end-of-life') {
    const eol = passedEol(r)!;
    const own = eol.minor === minor;
    const src = cite(eolSource(own ? r : minorRow(eol.minor)!));
    return own
      ? `Kubernetes 1.${minor} reached its end of life on ${eol.date}${r.eolNote ? ` (${r.eolNote})` : ''} (${src}): no more patches; ${supported}`
      : `Kubernetes 1.${minor} is past its end of life: 1.${eol.minor}, which is newer, ended on ${eol.date} (${src}); ${supported}`;
  }
  return undefined;
}

/** kubeadm's pause image tag for the minor. */
export function pauseTag(minor: number): string {
  return factsRow(minor).pause;
}

/** The kubeadm config API version kbootstrap writes for the minor: v1beta4 where kubeadm reads it, else v1beta3. */
export function kubeadmApiVersion(minor: number): string {
  const apis = factsRow(minor).kubeadmApis;
  return apis.includes('kubeadm.k8s.io/v1beta4') ? 'kubeadm.k8s.io/v1beta4' : 'kubeadm.k8s.io/v1beta3';
}

export function kernelRule(minor: number): KubeMinorRow['kernel'] {
  return factsRow(minor).kernel;
}

export function cgroupV1Rule(minor: number): KubeMinorRow['cgroupV1'] {
  return factsRow(minor).cgroupV1;
}

export function proxyModeStatus(minor: number, mode: 'iptables' | 'ipvs' | 'nftables'): KubeMinorRow['kubeProxyModes']['ipvs'] {
  return factsRow(minor).kubeProxyModes[mode];
}

/**
 * The Kubernetes version `init` writes: the latest patch of the newest supported minor on which the
 * default CNI (calico) release is tested and its manifest's digest is pinned, so that an inventory of
 * defaults validates with no warning and applies a checked manifest; the newest supported minor when
 * none is.
 */
export function defaultKubernetesVersion(): string {
  const good = SUPPORTED_MINORS.filter((m) => {
    const r = addonRow('calico', defaultAddonVersion('calico', m));
    return r !== undefined && testedBy(r, m) && r.manifestSha256 !== undefined;
  });
  return minorRow(good.at(-1) ?? SUPPORTED_MINORS.at(-1)!)!.latestPatch!;
}

// ---------------------------------------------------------------- add-ons

type Triple = [number, number, number];

function parse(v: string): Triple | undefined {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

const cmp = (a: Triple, b: Triple): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];

/** Compare two release versions (v optional): negative, 0 or positive; an unreadable one sorts first. */
export function compareVersions(a: string, b: string): number {
  const [x, y] = [parse(a), parse(b)];
  if (!x || !y) return (x ? 1 : 0) - (y ? 1 : 0);
  return cmp(x, y);
}

/** The table's row for a release of the add-on, or undefined when the table does not know it. */
export function addonRow(addon: AddonName, version: string): AddonRow | undefined {
  const v = parse(version);
  if (!v) return undefined;
  return ADDONS.find((r) => {
    if (r.addon !== addon || r.line !== `${v[0]}.${v[1]}`) return false;
    if (r.since && cmp(v, parse(r.since)!) < 0) return false;
    if (r.upTo && cmp(v, parse(r.upTo)!) > 0) return false;
    return true;
  });
}

const rowsOf = (addon: AddonName): AddonRow[] => ADDONS.filter((r) => r.addon === addon);
const testedBy = (r: AddonRow, minor: number): boolean => r.tested !== undefined && minor >= r.tested[0] && minor <= r.tested[1];

/**
 * The release kbootstrap installs when the inventory names none: for an add-on
 * with tested minors, the newest release tested against the minor whose
 * manifest digest is pinned (else the newest tested; the newest release when
 * none is tested); else the newest release.
 */
export function defaultAddonVersion(addon: AddonName, minor: number): string {
  const rows = rowsOf(addon);
  const tested = rows.filter((r) => testedBy(r, minor));
  const pinned = tested.filter((r) => r.manifestSha256 !== undefined);
  return (pinned.at(-1) ?? tested.at(-1) ?? rows.at(-1)!).latest;
}

const testedText = (addon: AddonName, r: AddonRow, minor: number): string =>
  `is tested against Kubernetes 1.${r.tested![0]}-1.${r.tested![1]} only, not 1.${minor} (${cite(r.sources[0])}, ${addon} ${r.line})`;

/** A warning when the add-on release is not tested against the minor; undefined when it is, or when its project publishes no tested list. */
export function addonWarning(addon: AddonName, version: string, minor: number): string | undefined {
  const r = addonRow(addon, version);
  const good = rowsOf(addon).filter((x) => testedBy(x, minor));
  // the release kbootstrap would pick: tested, and with a pinned manifest digest when one is
  const pick = good.some((x) => x.manifestSha256) ? defaultAddonVersion(addon, minor) : good.at(-1)?.latest;
  const advice = pick ? `a release tested against 1.${minor}, e.g. ${pick}` : `a release tested against 1.${minor}`;
  if (!r) {
    return rowsOf(addon).some((x) => x.tested) ? `${addon} ${version} is not in kbootstrap's versions table (read ${TABLE_DATE}): nothing says it is tested against 1.${minor}; ${advice} is` : undefined;
  }
  if (!r.tested || testedBy(r, minor)) return undefined;
  return `${addon} ${version} ${testedText(addon, r, minor)}: set cluster.cni.version to ${advice}`;
}

/** The same verdict on the release a running cluster has, for an upgrade to the minor: the CNI is the user's to move. */
export function runningAddonWarning(addon: AddonName, version: string, minor: number): string | undefined {
  const r = addonRow(addon, version);
  if (!r?.tested || testedBy(r, minor)) return undefined;
  return `the cluster runs ${addon} ${version}, which ${testedText(addon, r, minor)}; kbootstrap upgrade does not change the CNI: ` +
    `move ${addon} to a release tested against 1.${minor}${addon === 'calico' ? ' (https://docs.tigera.io/calico/latest/operations/upgrading/kubernetes-upgrade)' : ''}`;
}

/** cri-dockerd against the minor: a release without the CRI RuntimeConfig call on a minor whose kubeadm asks for it. */
export function criDockerdWarning(version: string, minor: number): string | undefined {
  const r = addonRow('cri-dockerd', version);
  const need = factsRow(minor).criRuntimeConfig;
  if (!r || r.runtimeConfig !== false || !need) return undefined;
  const newest = rowsOf('cri-dockerd').at(-1)!.latest;
  return `cri-dockerd ${version} does not implement the CRI RuntimeConfig call: kubeadm 1.${minor}'s preflight warns (kubernetes/kubernetes#136898, #139122) ` +
    `and the kubelet is planned to need it from 1.38 (#139121); set cluster.criDockerd.version to 0.3.17 or later, e.g. ${newest}`;
}

/** The kube-vip release an image tag belongs to (the newest row when the tag says nothing the table knows). */
export function kubeVipRow(image: string | undefined): AddonRow {
  const tag = image ? /:([^:/@]+)(@.*)?$/.exec(image)?.[1] : undefined;
  return (tag && addonRow('kube-vip', tag)) || rowsOf('kube-vip').at(-1)!;
}

// ---------------------------------------------------------------- OS releases

export function osRow(os: string): OsRow | undefined {
  return OS_RELEASES.find((r) => r.os === os);
}

/** The row for a host's os-release ID and VERSION_ID (major for EL, full for Debian/Ubuntu). */
export function osRowFor(osId: string, versionId: string): OsRow | undefined {
  const major = versionId.split('.')[0];
  return OS_RELEASES.find((r) => r.osId === osId && (r.family === 'rhel' ? String(r.major) === major : r.versionId === versionId));
}

/**
 * What validate, check and up say about a release Docker no longer builds for (its dockerEnded date):
 * kbootstrap installs containerd.io (and docker-ce) from Docker's repository on every host, which keeps
 * the last packages built for the release but gives them no fixes. Undefined for any other release.
 */
export function osWarning(r: OsRow | undefined): string | undefined {
  if (!r?.dockerEnded) return undefined;
  const src = r.sources.find((s) => s.for?.includes('stopped building')) ?? r.sources.find((s) => s.for?.includes('Docker'));
  const newer = OS_RELEASES.filter((n) => n.osId === r.osId && n.major > r.major && !n.dockerEnded && !n.dockerNote).map((n) => n.prettyName.replace(/ \(.*\)$|\.\d+ LTS$| LTS$/g, ''));
  return `Docker stopped building containerd.io and docker-ce for ${r.prettyName} (${r.codename || r.versionId}) on ${r.dockerEnded} (${cite(src)}): ` +
    `kbootstrap installs containerd.io from Docker's repository, whose last packages for it get no fixes${newer.length ? `; move the host to ${newer.length > 1 ? `${newer.slice(0, -1).join(', ')} or ${newer.at(-1)}` : newer[0]}` : ''}`;
}

/**
 * The cri-dockerd release asset for an OS release: a .deb built for its codename, or the .rpm of
 * the nearest EL major (an el8 rpm on EL9 when the release builds no el9 one, as kbootstrap always
 * did); undefined when the release builds nothing for it.
 */
export function criDockerdAsset(row: AddonRow, os: { family: string; osId: string; codename: string; major: number }): { deb: string } | { el: number } | undefined {
  if (os.family === 'debian') {
    const dist = `${os.osId}-${os.codename}`;
    return (row.debDists ?? []).includes(dist) ? { deb: dist } : undefined;
  }
  const els = (row.rpmEl ?? []).filter((e) => e === os.major || (os.major === 9 && e === 8)).sort((a, b) => b - a);
  return els.length ? { el: els[0]! } : undefined;
}

/** The facts a dry run assumes for an OS row (src/os/types.ts ReleaseFacts). */
export function releaseFacts(r: OsRow): { family: 'rhel' | 'debian'; osId: string; versionId: string; codename: string; prettyName: string; major: number; kernel: string; cgroup: 'v1' | 'v2'; conntrackModule: 'nf_conntrack' | 'nf_conntrack_ipv4' } {
  return { family: r.family, osId: r.osId, versionId: r.versionId, codename: r.codename, prettyName: r.prettyName, major: r.major, kernel: r.kernel, cgroup: r.cgroup, conntrackModule: r.conntrackModule };
}
