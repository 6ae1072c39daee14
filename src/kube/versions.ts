/**
 * Which Kubernetes version a running cluster is at, and whether the
 * inventory's version is one kbootstrap may move it to.
 *
 * The authority is the kubeadm-config ConfigMap's ClusterConfiguration
 * kubernetesVersion: kubeadm writes it at `init` and rewrites it at the end of
 * a successful `kubeadm upgrade apply` ("[upload-config] Storing the
 * configuration used in ConfigMap kubeadm-config"), and `kubeadm upgrade node`
 * reads it back (https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-upgrade/).
 * The nodes' kubeletVersion says which nodes have followed it. When the
 * ConfigMap is missing (a cluster kubeadm did not make), the lowest kubelet
 * version of the control-plane nodes stands in.
 */
import { parse as parseYaml } from 'yaml';
import type { ClusterState } from './cluster-state.js';

export interface Version { major: number; minor: number; patch: number }

export function parseVersion(s: string): Version | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(s.trim());
  return m ? { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]) } : undefined;
}

export const formatVersion = (v: Version): string => `${v.major}.${v.minor}.${v.patch}`;

export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch;
}

type Present = Extract<ClusterState, { kind: 'present' }>;

/** The control plane's version (see above), or undefined when nothing says. */
export function clusterVersion(state: Present): Version | undefined {
  const cc = state.configMaps.get('kube-system/kubeadm-config')?.ClusterConfiguration;
  if (cc) {
    const doc = parseYaml(cc) as { kubernetesVersion?: string } | null;
    const v = parseVersion(String(doc?.kubernetesVersion ?? ''));
    if (v) return v;
  }
  const cps = [...state.nodes.values()].filter((n) => n.labels.has('node-role.kubernetes.io/control-plane'));
  const versions = cps.map((n) => parseVersion(n.kubeletVersion)).filter((v): v is Version => Boolean(v));
  return versions.sort(compareVersions)[0];
}

/** Nodes whose kubelet is not at `want`, as "name 1.30.4". */
export function nodesBehind(state: Present, want: Version): string[] {
  return [...state.nodes.values()]
    .filter((n) => { const v = parseVersion(n.kubeletVersion); return !v || compareVersions(v, want) !== 0; })
    .map((n) => `${n.name} ${n.kubeletVersion.replace(/^v/, '') || 'unknown'}`);
}

/**
 * kubeadm's own rule, quoted from EnforceVersionPolicies
 * (kubernetes/kubernetes cmd/kubeadm/app/phases/upgrade/policy.go,
 * MaximumAllowedMinorVersionUpgradeSkew = 1).
 */
export const kubeadmSkipRule = (target: string): string =>
  `Specified version to upgrade to "v${target}" is too high; kubeadm can upgrade only 1 minor version at a time`;

export type Move =
  | { kind: 'same' }
  | { kind: 'upgrade'; from: Version }
  | { kind: 'refused'; why: string };

/**
 * What moving the cluster from `running` to `target` is: nothing, an upgrade
 * kubeadm allows (a newer patch, or the next minor), or refused: a downgrade
 * (kubeadm tolerates one minor down, kbootstrap does not: the Kubernetes
 * version skew policy describes upgrades only,
 * https://kubernetes.io/releases/version-skew-policy/) or a skip of minors.
 */
export function move(running: Version, target: Version): Move {
  const t = formatVersion(target);
  const r = formatVersion(running);
  const c = compareVersions(target, running);
  if (c === 0) return { kind: 'same' };
  if (c < 0) return { kind: 'refused', why: `the cluster runs ${r}, the inventory asks for ${t}: kbootstrap does not downgrade a cluster; set cluster.kubernetesVersion to ${r} or later` };
  if (target.major !== running.major || target.minor > running.minor + 1) {
    return {
      kind: 'refused',
      why: `the cluster runs ${r}, the inventory asks for ${t}: upgrade one minor version at a time (1.${running.minor + 1} first); kubeadm: ${kubeadmSkipRule(t)}`,
    };
  }
  return { kind: 'upgrade', from: running };
}
