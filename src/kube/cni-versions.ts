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

/** A warning when the Calico release is not tested against the minor; undefined when it is, or unknown. */
export function calicoWarning(version: string, minor: number): string | undefined {
  const m = /^v?(\d+\.\d+)/.exec(version);
  const range = m ? CALICO_TESTED[m[1]!] : undefined;
  if (!range || (minor >= range[0] && minor <= range[1])) return undefined;
  return `calico ${version} is tested against Kubernetes 1.${range[0]}-1.${range[1]} only, not 1.${minor} ` +
    `(docs.tigera.io, Calico ${m![1]} system requirements): set cluster.cni.version to a release tested against 1.${minor}`;
}
