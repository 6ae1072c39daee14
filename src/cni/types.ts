/**
 * What kbootstrap needs from a CNI plugin (the shape of src/os/): where its
 * manifest comes from, how the pod CIDR is set in it and read back from a
 * running cluster, the ports it needs, its running release, and its nftables
 * setting. The cni step, the kube-proxy-mode step, the upgrade's CNI verdict,
 * the firewall, the inventory loader and the wizard call this interface and
 * never compare plugin names, so a third plugin is one module here plus its
 * name in ./names.ts, its line in ./index.ts and its rows in the versions
 * table (src/versions/table.ts). README.md, "Adding a CNI plugin".
 */
import type { ClusterState } from '../kube/cluster-state.js';
import type { PortRule, ProtocolRule } from '../kube/port-rule.js';
import type { CniName } from './names.js';

export type PresentState = Extract<ClusterState, { kind: 'present' }>;

/** sed expressions applied to the manifest before `kubectl apply`, and fixed strings (grep -F) proving each took. */
export interface ManifestEdit {
  sed: string[];
  expect: string[];
  /** for the message when an expected string is missing */
  what: string;
}

/** The plugin as a running cluster shows it; undefined from installed() when it is not installed. */
export interface InstalledCni {
  /** the pod CIDR it allocates from (undefined: the manifest's own default, defaultPodCidr) */
  cidr?: string;
  /** its nftables setting is on */
  nftables: boolean;
  /** the release its main image is tagged with, when it has a tag */
  version?: string;
}

export interface CniNftables {
  /** the first release with the setting, and where that was read */
  since: string;
  source: string;
  /** a warning for a release whose nftables mode is a preview (undefined: supported) */
  preview(version: string): string | undefined;
  /** the manifest edit that sets it (on for nftables, left at the manifest's default otherwise) */
  edit(on: boolean): ManifestEdit | undefined;
  /** shell (run on a control plane, kb_kubectl in scope) that turns it on or off in a running cluster and restarts the plugin */
  switchScript(on: boolean): string;
}

export interface CniPlugin {
  readonly id: CniName;
  /** the manifest kbootstrap fetches for a release (its sha256: the versions table's manifestSha256) */
  manifestUrl(version: string): string;
  /** the pod CIDR a manifest uses when kbootstrap could not set it (for messages) */
  readonly defaultPodCidr: string;
  podCidrEdit(cidr: string): ManifestEdit;
  /** ports and IP protocols every node must accept for it */
  readonly ports: readonly PortRule[];
  readonly protocols: readonly ProtocolRule[];
  /** the plugin in a running cluster (its pod CIDR, nftables setting, release), or undefined when it is not installed */
  installed(state: PresentState): InstalledCni | undefined;
  readonly nftables: CniNftables;
  /** the images a release's manifest names, and the Kubernetes minors its project tests it against (the versions table's rows) */
  images(version: string): readonly string[];
  testedMinors(version: string): readonly [number, number] | undefined;
}
