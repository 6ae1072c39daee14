/** The inventory after validation, with every default filled in. */
import type { CniName } from '../cni/names.js';
import type { OsName } from './schema.js';

/** kube-proxy's modes on Linux that kbootstrap renders */
export const KUBE_PROXY_MODES = ['iptables', 'ipvs', 'nftables'] as const;
export type KubeProxyMode = (typeof KUBE_PROXY_MODES)[number];

export type Role = 'control-plane' | 'worker';
export type Family = 'rhel' | 'debian';

export interface BastionSpec {
  address: string;
  port: number;
  user: string;
  privateKeyPath?: string;
}

/** The ssh fields the inventory itself sets for a host (host-level over inventory-level), before any default. */
export interface ExplicitSsh {
  user?: string;
  port?: number;
  privateKeyPath?: string;
  knownHostsPath?: string;
  connectTimeoutSeconds?: number;
  bastion?: { address: string; port?: number; user?: string; privateKeyPath?: string };
}

/** One hop of a jump chain (ssh -J), nearest first. */
export interface JumpSpec {
  address: string;
  port: number;
  user: string;
  privateKeyPath?: string;
}

export interface SshSpec {
  user: string;
  port: number;
  privateKeyPath?: string;
  knownHostsPath?: string;
  connectTimeoutSeconds: number;
  bastion?: BastionSpec;
  /** the name ssh is given: an alias of the OpenSSH configuration, a DNS name, or the address */
  target: string;
  /** what the inventory set itself, and where (for the precedence over OpenSSH's configuration) */
  explicit: ExplicitSsh;
  fieldPaths: Record<string, string>;
  /** set once OpenSSH's configuration is applied: where to connect, through which hops, which known_hosts files */
  resolved?: {
    address: string;
    jumps: JumpSpec[];
    knownHostsPaths: string[];
    /** StrictHostKeyChecking accept-new (or no) in the user's configuration: record unknown keys, never accept a changed one */
    acceptNew: boolean;
    /** each setting with where it came from, for plan/check --verbose */
    sources: Record<string, string>;
  };
}

export interface HostSpec {
  index: number;
  name: string;
  address: string;
  role: Role;
  os?: OsName;
  labels: Record<string, string>;
  ssh: SshSpec;
}

export interface LoadBalancerSpec {
  type: 'kube-vip' | 'external';
  address: string;
  port: number;
  interface?: string;
  image?: string;
}

/** A private registry of cluster.registries (see src/os/mirrors.ts for what is made of it). */
export interface RegistrySpec {
  /** host or host:port, as image names spell it */
  host: string;
  /** upstream registries it stands in for */
  mirrorOf: string[];
  /** absolute path of the CA file on the operator's machine (resolved under the inventory's directory) */
  caFile?: string;
  plainHttp: boolean;
  credentials?: { username: string; passwordEnv?: string; passwordFile?: string };
  /** index in cluster.registries, for messages */
  index: number;
}

export interface ClusterSpec {
  name: string;
  /** without the leading v, e.g. 1.30.4 */
  kubernetesVersion: string;
  /** e.g. v1.30 */
  minorVersion: string;
  minor: number;
  controlPlaneEndpoint: string;
  loadBalancer?: LoadBalancerSpec;
  podSubnet: string;
  serviceSubnet: string;
  imageRepository: string;
  packageMirror: string;
  /** fingerprints accepted for repository signing keys besides the pinned upstream ones (upper-case hex, no spaces) */
  repositoryKeyFingerprints: string[];
  allowInsecureHttp: boolean;
  /** the images step pulls each role's images during prepare (default true) */
  prepullImages: boolean;
  containerRuntime: 'containerd' | 'docker';
  /** sha256: digest by release file name */
  criDockerd: { version: string; url?: string; sha256: Record<string, string> };
  cni: { plugin: CniName | 'none'; version?: string; manifest?: string; sha256?: string };
  kubeProxyMode: KubeProxyMode;
  registryMirrors: string[];
  insecureRegistries: string[];
  registries: RegistrySpec[];
  firewall: 'open' | 'disable';
  /** kubeadm v1beta4 (1.31+): Go durations, e.g. 8760h */
  certificateValidityPeriod?: string;
  caCertificateValidityPeriod?: string;
  /** timer: a systemd timer on the control planes renews certificates under the threshold */
  certRenewal?: 'timer';
  /** --bundle runs: the host (by name) that receives and serves the bundle; default the first control plane */
  offline?: { server?: string };
  /**
   * up --bundle with a bundle made --with-os-packages: the releases (`debian 12 amd64`) whose own
   * repositories the bundle carries; their hosts get a source list for them on the bundle server
   * (src/os/debian.ts baseRepositories). Not an inventory field: set from the bundle's manifest.
   */
  bundleOsReleases?: string[];
  /**
   * up --bundle: packages come from the bundle server's repositories only. The RHEL family leaves
   * the hosts' own repositories out of every install (dnf/yum load every enabled repository's
   * metadata first and stop at the first that does not answer, which offline is each of them).
   * Not an inventory field: set by clusterFromBundle.
   */
  bundleOnly?: boolean;
}

export interface Inventory {
  /** path as given by the user, for messages */
  file: string;
  /** OpenSSH client configuration to read (ssh.configFile): a path, 'none', or undefined for ~/.ssh/config */
  sshConfigFile?: string;
  cluster: ClusterSpec;
  hosts: HostSpec[];
  /**
   * The Authorization header of each private registry with credentials (by host), read from the
   * environment or the password file by the commands that connect (never by load): absent in a
   * dry run, which shows a placeholder instead.
   */
  registryAuth?: Map<string, string>;
  /** `up --bundle FILE`: the checked bundle this run serves from the first control plane (src/bundle/serve.ts) */
  bundle?: BundleRun;
}

/** A bundle as `up --bundle` serves it: read and checked on this machine before anything connects. */
export interface BundleRun {
  /** the bundle file on this machine */
  file: string;
  /** sha256 of the whole file: the directory it is unpacked into on the first control plane */
  sha256: string;
  size: number;
  /** the bundle server's cluster address (cluster.offline.server, else the first control plane), where it listens */
  address: string;
  /** every image archive in the bundle, with its sha256 from the manifest */
  images: { ref: string; file: string; sha256: string; controlPlaneOnly: boolean; dockerManifest?: string; /** linux/amd64, linux/arm64: a host imports its own architecture's */ platform?: string }[];
  /** the CNI manifest the bundle holds (one fetched by URL when the bundle was made), with its sha256 */
  cniManifest?: { file: string; sha256: string };
  /** the releases whose own packages it carries (bundle --with-os-packages), as bundleOsRelease() names them */
  osReleases?: string[];
}

export function controlPlanes(inv: Inventory): HostSpec[] {
  return inv.hosts.filter((h) => h.role === 'control-plane');
}

/** The host that receives the bundle and serves it to the others (cluster.offline.server, else the first control plane). */
export function bundleServerHost(inv: Inventory): HostSpec {
  const name = inv.cluster.offline?.server;
  return (name && inv.hosts.find((h) => h.name === name)) || firstControlPlane(inv);
}

export function firstControlPlane(inv: Inventory): HostSpec {
  const cp = controlPlanes(inv)[0];
  if (!cp) throw new Error('inventory has no control plane (validation should have caught this)');
  return cp;
}
