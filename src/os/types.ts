/**
 * What kbootstrap needs from an operating-system family (the shape of rig's
 * per-OS modules): how to recognise it, which releases it supports, and how
 * it names, pins, holds and installs packages. Steps call this interface and
 * never compare family names, so adding a family is one module (plus its
 * templates under templates/os/<family>/) and the compiler names every other
 * place that must learn about it (FAMILIES in ./index.ts is a Record over Family).
 */
import type { ClusterSpec } from '../inventory/model.js';
import type { Family } from '../inventory/model.js';
import type { OsName } from '../inventory/schema.js';

/** What a run knows about a host's OS: read from /etc/os-release, or assumed in a dry run. */
export interface HostFacts {
  family: Family;
  /** os-release ID: centos, rocky, almalinux, rhel, debian, ubuntu */
  osId: string;
  versionId: string;
  /** release codename (jammy, bookworm); '' where the family has none */
  codename: string;
  prettyName: string;
  /** major release number (7, 8, 9 on EL; 12 on Debian; 22 on Ubuntu) */
  major: number;
  arch: 'amd64' | 'arm64';
  /** `uname -r` (3.10.0-1160.el7.x86_64); newer Kubernetes refuses old kernels (src/kube/host-requirements.ts) */
  kernel: string;
  /** cgroup hierarchy from `stat -fc %T /sys/fs/cgroup`: cgroup2fs is v2, tmpfs v1; '' when unreadable */
  cgroup: 'v1' | 'v2' | '';
  /** the conntrack module ipvs needs: nf_conntrack_ipv4 where the kernel still has it (before 4.19), else nf_conntrack */
  conntrackModule: 'nf_conntrack' | 'nf_conntrack_ipv4';
  /** true when this came from the inventory, not from the host */
  assumed: boolean;
}

/** A release a dry run can assume (an inventory `os:` value). */
export type ReleaseFacts = Omit<HostFacts, 'arch' | 'assumed'>;

/** A package repository definition kbootstrap writes, with the key apt needs beside it. */
export interface Repository {
  path: string;
  content: string;
  /**
   * Signing key file the repository definition points at (apt signed-by=, yum
   * gpgkey=file://): fetched from url and installed only when the primary key
   * of every key in it has one of the fingerprints.
   */
  key?: { path: string; url: string; fingerprints: string[] };
}

export interface OsFamily {
  readonly id: Family;
  /** for messages: "the RHEL family (CentOS 7, Rocky/Alma/RHEL 8, 9 and 10)" */
  readonly description: string;
  /** inventory os: values of this family, with the facts a dry run assumes for each */
  readonly releases: Partial<Record<OsName, ReleaseFacts>>;
  /** the release the bare family name (os: rhel / os: debian) stands for */
  readonly genericRelease: OsName;
  /** /etc/os-release ID and ID_LIKE say this family */
  matches(id: string, idLike: string[]): boolean;
  /** a release kbootstrap is tested against (others get a warning, not a refusal) */
  isSupportedRelease(facts: HostFacts): boolean;
  /** SELinux is part of this family's default install and kbootstrap manages it */
  readonly managesSelinux: boolean;
  /** firewalld is this family's default firewall and kbootstrap opens ports in it */
  readonly managesFirewalld: boolean;

  /** Repository files the OS itself needs before anything installs (e.g. CentOS 7's vault after its end of life). */
  baseRepositories(cluster: ClusterSpec, facts: HostFacts): Repository[];
  kubernetesRepository(cluster: ClusterSpec, facts: HostFacts): Repository;
  dockerRepository(cluster: ClusterSpec, facts: HostFacts): Repository;

  /** Read-only snippet printing `pkg=NAME=VERSION` for each installed package. */
  packagesCheck(packages: string[]): string;
  /** Install packages from the configured repositories. */
  installScript(packages: string[], cluster: ClusterSpec): string;
  /** kubelet/kubeadm/kubectl pinned at the cluster's version, as this package manager writes a pin. */
  kubePackageSpecs(cluster: ClusterSpec, packages: readonly string[]): string[];
  /** Does an installed version string satisfy the cluster's Kubernetes version? */
  kubeVersionMatches(installed: string, cluster: ClusterSpec): boolean;
  /** Install the pinned Kubernetes packages past their hold and hold them again. */
  kubeInstallScript(specs: string[], held: readonly string[], cluster: ClusterSpec): string;
  /** Read-only snippet printing `held=NAME` for packages held against upgrades ('' when the repository file holds them). */
  holdsCheck(): string;
  /** Packages of `packages` that are not held, given the held= names the check printed. */
  notHeld(packages: readonly string[], held: Set<string>): string[];
  /** Snippet that makes curl and gpg available for a repository key's check ('' where the minimal install has both). */
  keyToolsScript(): string;
  /** cri-dockerd's release package for this OS, and the script that installs it. */
  criDockerdInstall(cluster: ClusterSpec, facts: HostFacts): string;
}
