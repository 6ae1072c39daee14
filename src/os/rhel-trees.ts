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
import { ALMA_9_KEY, ROCKY_9_KEY } from './keys.js';

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

/**
 * The release key repomd.xml.asc of BaseOS and AppStream is checked with when bundling (src/os/keys.ts),
 * where it lies upstream or on the mirror; undefined for a release without a pinned key.
 */
export function rpmOsKey(cluster: ClusterSpec, facts: Pick<HostFacts, 'osId' | 'major'>): { url: string; path: string; fingerprint: string } | undefined {
  if (facts.major !== 9 || !hasRpmOsTrees(facts)) return undefined;
  const m = mirrorBase(cluster);
  const rocky = facts.osId === 'rocky';
  const path = rocky ? 'rockylinux/RPM-GPG-KEY-Rocky-9' : 'almalinux/RPM-GPG-KEY-AlmaLinux-9';
  const upstream = rocky ? 'https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9' : 'https://repo.almalinux.org/almalinux/RPM-GPG-KEY-AlmaLinux-9';
  return { url: m ? `${m}/${path}` : upstream, path, fingerprint: rocky ? ROCKY_9_KEY : ALMA_9_KEY };
}

/** Why a release's own repositories cannot be bundled, or undefined when they can. */
export function rpmOsRefusal(facts: Pick<HostFacts, 'osId' | 'major' | 'prettyName'>): string | undefined {
  // RHEL's BaseOS and AppStream are served from cdn.redhat.com to a client holding a subscription's
  // entitlement certificate (subscription-manager); kbootstrap holds none
  if (facts.osId === 'rhel') return `${facts.prettyName}'s BaseOS and AppStream are served only to a machine with a Red Hat subscription's entitlement certificate (cdn.redhat.com), which kbootstrap does not hold: its packages are listed, not bundled; install them on the hosts from your Satellite or a local copy of the installation media`;
  if (!hasRpmOsTrees(facts)) return `${facts.prettyName}: kbootstrap does not know where its own repositories are`;
  if (facts.major !== 9) return `${facts.prettyName}: no release key pinned in kbootstrap for its BaseOS and AppStream (only the 9 releases)`;
  return undefined;
}
