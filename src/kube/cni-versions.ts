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
export function calicoWarning(version: string, minor: number): string | undefined {
  const u = untested(version, minor);
  return u && `calico ${version} ${tested(u, minor)}: set cluster.cni.version to a release tested against 1.${minor}`;
}

/** The same verdict on the release a running cluster has, for an upgrade to the minor: the CNI is the user's to move. */
export function runningCalicoWarning(version: string, minor: number): string | undefined {
  const u = untested(version, minor);
  return u && `the cluster runs calico ${version}, which ${tested(u, minor)}; kbootstrap upgrade does not change the CNI: ` +
    `move calico to a release tested against 1.${minor} (https://docs.tigera.io/calico/latest/operations/upgrading/kubernetes-upgrade)`;
}
