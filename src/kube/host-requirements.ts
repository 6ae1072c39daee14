/**
 * What a host's kernel and cgroup hierarchy allow for each Kubernetes minor, decided before
 * anything is installed: `check` shows it as a row, `up` and `plan` fail a refused host before
 * any step and print the warnings (src/runner.ts). The audit with every source is
 * docs/compatibility.md (§2 "Newer Kubernetes on old hosts", defect D2).
 */
import type { HostFacts } from '../os/types.js';
import { cgroupV1Rule, kernelRule } from '../versions/index.js';
import { nftablesKernelRefusal } from './proxy-mode.js';

export interface HostVerdict {
  /** the host cannot run this minor: kubeadm or the kubelet stops */
  refusals: string[];
  /** it runs, but upstream warns or no longer tests it */
  warnings: string[];
}

/** `uname -r` to [major, minor]; undefined when unreadable. */
function kernelVersion(release: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

const before = (k: [number, number], major: number, minor: number): boolean => k[0] < major || (k[0] === major && k[1] < minor);

/**
 * Kernels kubeadm's SystemVerification accepts without a warning from 1.34: the LTS lines
 * 5.4, 5.10, 5.15 and 6.x or later (k8s.io/system-validators v1.10.1 validators/types_unix.go,
 * kubernetes/kubernetes#131919).
 */
function ltsKernel(k: [number, number]): boolean {
  return k[0] >= 6 || (k[0] === 5 && [4, 10, 15].includes(k[1]));
}

/** `proxyMode`: the cluster's kube-proxy mode (nftables needs a newer kernel). */
export function hostRequirements(facts: Pick<HostFacts, 'kernel' | 'cgroup'>, minor: number, proxyMode?: string): HostVerdict {
  const v: HostVerdict = { refusals: [], warnings: [] };
  const nft = proxyMode === 'nftables' ? nftablesKernelRefusal(facts.kernel) : undefined;
  if (nft) v.refusals.push(nft);
  const k = kernelVersion(facts.kernel);
  if (k && before(k, 4, 19) && kernelRule(minor) === 'min-4.19') {
    // kubeadm 1.32 made kernels older than 4.19 a SystemVerification *error* (system-validators
    // dropped 3.x/4.<19 from the accepted list; kubernetes/kubernetes#129462 on RHEL 8's 4.18,
    // kubermatic/kubeone#3590 "kubeadm v1.32 started to error out on older kernel versions")
    v.refusals.push(`kernel ${facts.kernel} is older than 4.19: kubeadm 1.${minor}'s SystemVerification preflight fails on it (kubernetes/kubernetes#129462)`);
  } else if (k && kernelRule(minor) === 'lts-list' && !ltsKernel(k)) {
    // from 1.34 the kernel check is a warning again, against the LTS list (kubernetes/kubernetes#131919)
    v.warnings.push(`kernel ${facts.kernel} is not one kubeadm 1.${minor} validates (5.4, 5.10, 5.15, 6.x): its preflight warns (kubernetes/kubernetes#131919)`);
  }
  if (facts.cgroup === 'v1' && cgroupV1Rule(minor) === 'refused') {
    // the kubelet 1.35 defaults failCgroupV1 to true and exits on a cgroup v1 host (KEP-5573,
    // kubernetes/kubernetes#134298); kubeadm 1.35's cgroup validator errors (system-validators#59)
    v.refusals.push(`the host runs cgroup v1: the kubelet 1.${minor} refuses to start on it (failCgroupV1 defaults to true, KEP-5573); boot with systemd.unified_cgroup_hierarchy=1`);
  } else if (facts.cgroup === 'v1' && cgroupV1Rule(minor) === 'maintenance') {
    // cgroup v1 support is in maintenance mode from 1.31 (KEP-4569)
    v.warnings.push(`the host runs cgroup v1, in maintenance mode since Kubernetes 1.31 and refused from 1.35 (KEP-4569, KEP-5573)`);
  }
  return v;
}
