/**
 * The Kubernetes minors each Calico release is tested against, from its
 * "System requirements" page ("We test Calico X against the following Kubernetes
 * versions. Other versions may work, but we are not actively testing them."):
 * tigera/docs calico_versioned_docs/version-3.X/getting-started/kubernetes/requirements.mdx.
 * Only releases whose page was read are listed; others get no verdict.
 */
const CALICO_TESTED: Record<string, [number, number]> = {
  '3.28': [27, 30],
  '3.29': [29, 31],
};

/** The tested range when the release is listed and the minor falls outside it. */
function untested(version: string, minor: number): { release: string; range: [number, number] } | undefined {
  const m = /^v?(\d+\.\d+)/.exec(version);
  const range = m ? CALICO_TESTED[m[1]!] : undefined;
  if (!range || (minor >= range[0] && minor <= range[1])) return undefined;
  return { release: m![1]!, range };
}

const tested = (u: { release: string; range: [number, number] }, minor: number) =>
  `is tested against Kubernetes 1.${u.range[0]}-1.${u.range[1]} only, not 1.${minor} (docs.tigera.io, Calico ${u.release} system requirements)`;

/** A warning when the Calico release is not tested against the minor; undefined when it is, or unknown. */
export function calicoWarning(version: string, minor: number, written = true): string | undefined {
  const u = untested(version, minor);
  if (!u) return undefined;
  // the newest release whose requirements page lists the minor: the version to name
  const fits = Object.entries(CALICO_TESTED).filter(([, [lo, hi]]) => minor >= lo && minor <= hi).map(([r]) => r).at(-1);
  const use = fits ? `a Calico ${fits} release (v${fits}.x), tested against 1.${minor}` : `a release tested against 1.${minor}`;
  return written
    ? `calico ${version} ${tested(u, minor)}: set cluster.cni.version to ${use}`
    : `the default CNI, calico ${version}, ${tested(u, minor)}: add cni: { plugin: calico, version: ... } under cluster: with ${use}, or choose another kubernetesVersion`;
}

/** The same verdict on the release a running cluster has, for an upgrade to the minor: the CNI is the user's to move. */
export function runningCalicoWarning(version: string, minor: number): string | undefined {
  const u = untested(version, minor);
  return u && `the cluster runs calico ${version}, which ${tested(u, minor)}; kbootstrap upgrade does not change the CNI: ` +
    `move calico to a release tested against 1.${minor} (https://docs.tigera.io/calico/latest/operations/upgrading/kubernetes-upgrade)`;
}

/**
 * sha256 of the manifests kbootstrap fetches by default, by URL. A manifest
 * fetched from any other URL needs cluster.cni.sha256.
 * - calico v3.28.2 manifests/calico.yaml: raw.githubusercontent.com serves the
 *   blob of the tag v3.28.2 (commit 9a96ee39f3833c3eabde151add8a84d546bcf24d) of
 *   projectcalico/calico; sha256 of `git show v3.28.2:manifests/calico.yaml`
 *   (253923 bytes), computed from that repository on 2026-12-05.
 * - flannel's kube-flannel.yml is a release asset built by `kubectl kustomize`
 *   in its release workflow (flannel-io/flannel .github/workflows/release.yml,
 *   Makefile), with no published checksum: none pinned.
 */
export const CNI_MANIFEST_SHA256: Readonly<Record<string, string>> = {
  'https://raw.githubusercontent.com/projectcalico/calico/v3.28.2/manifests/calico.yaml': 'be59408bf990e96276f631d2f9285c2a0f9802194c0ad1cecdb6d9c52623a1c8',
};

/** The manifest URL kbootstrap fetches for a plugin release when the inventory names no cni.manifest. */
export function defaultCniManifestUrl(plugin: 'calico' | 'flannel', version: string): string {
  const v = version.startsWith('v') ? version : `v${version}`;
  return plugin === 'calico'
    ? `https://raw.githubusercontent.com/projectcalico/calico/${v}/manifests/calico.yaml`
    : `https://github.com/flannel-io/flannel/releases/download/${v}/kube-flannel.yml`;
}
