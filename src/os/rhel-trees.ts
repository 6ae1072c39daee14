/**
 * A Rocky or AlmaLinux release's own repositories, BaseOS and AppStream, as its stock .repo files
 * name them (rocky.repo: dl.rockylinux.org/$contentdir/$releasever/BaseOS/$basearch/os/; AlmaLinux:
 * repo.almalinux.org/almalinux/$releasever/BaseOS/$basearch/os/), and at the paths a mirror laid out
 * like mirrors.aliyun.com has them (rockylinux/9/BaseOS/x86_64/os, almalinux/9/...: the mirror guides
 * rewrite the baseurl's host and keep the path). Where `up --bundle` finds a release's own packages
 * on the bundle server when the bundle carries them (bundle --with-os-packages), checked with the
 * release key every installation has under /etc/pki/rpm-gpg (RPM-GPG-KEY-Rocky-9 as rocky.repo names
 * it; RPM-GPG-KEY-AlmaLinux-9, as mkosi's AlmaLinux installer looks it up). Sources read 2026-12-07:
 * the rocky-repos file quoted in test/lab/lab.ts, zclongpop123/chinese-mirrors almalinux.md (the
 * aliyun rewrite), systemd/mkosi mkosi/distributions/alma.py.
 */
import type { ClusterSpec } from '../inventory/model.js';
import type { HostFacts } from './types.js';
import { mirrorBase } from './mirrors.js';

export interface RpmOsTree {
  /** the repository id the bundle's .repo file gives it */
  id: string;
  name: string;
  /** upstream (or the inventory's packageMirror) */
  base: string;
  /** under a mirror, and in a bundle */
  path: string;
  /** the release's key file on every installation */
  gpgkey: string;
}

/** The releases whose own repositories kbootstrap knows how to read (RHEL's need a subscription: refused by bundle). */
export function hasRpmOsTrees(facts: Pick<HostFacts, 'osId' | 'major'>): boolean {
  return (facts.osId === 'rocky' || facts.osId === 'almalinux') && facts.major >= 8;
}

export function rpmOsTrees(cluster: ClusterSpec, facts: Pick<HostFacts, 'osId' | 'major' | 'arch'>): RpmOsTree[] {
  const m = mirrorBase(cluster);
  const rocky = facts.osId === 'rocky';
  const dir = rocky ? 'rockylinux' : 'almalinux';
  const upstream = rocky ? 'https://dl.rockylinux.org/pub/rocky' : 'https://repo.almalinux.org/almalinux';
  const basearch = facts.arch === 'arm64' ? 'aarch64' : 'x86_64';
  // Rocky 8 names its key RPM-GPG-KEY-rockyofficial, AlmaLinux 8 RPM-GPG-KEY-AlmaLinux (their 8.x .repo files)
  const gpgkey = rocky ? (facts.major === 8 ? 'RPM-GPG-KEY-rockyofficial' : `RPM-GPG-KEY-Rocky-${facts.major}`) : (facts.major === 8 ? 'RPM-GPG-KEY-AlmaLinux' : `RPM-GPG-KEY-AlmaLinux-${facts.major}`);
  return (['BaseOS', 'AppStream'] as const).map((repo) => {
    const path = `${dir}/${facts.major}/${repo}/${basearch}/os`;
    return { id: `kbootstrap-bundle-${repo.toLowerCase()}`, name: `${rocky ? 'Rocky Linux' : 'AlmaLinux'} ${facts.major} - ${repo} (from the bundle)`, base: m ? `${m}/${path}` : `${upstream}/${facts.major}/${repo}/${basearch}/os`, path, gpgkey: `/etc/pki/rpm-gpg/${gpgkey}` };
  });
}
