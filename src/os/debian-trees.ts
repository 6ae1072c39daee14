/**
 * A Debian-family release's own repositories, as a minimal install's sources name them: Debian's
 * SUITE and SUITE-updates on deb.debian.org/debian and SUITE-security on deb.debian.org/debian-security;
 * Ubuntu's SUITE, SUITE-updates and SUITE-security on archive.ubuntu.com and security.ubuntu.com
 * (ports.ubuntu.com/ubuntu-ports for arm64); component main (https://wiki.debian.org/SourcesList,
 * https://help.ubuntu.com/community/Repositories/Ubuntu; read 2026-12-07). With a packageMirror, at
 * the paths a mirror laid out like mirrors.aliyun.com has them (debian, debian-security, ubuntu,
 * ubuntu-ports): where `bundle --with-os-packages` reads them, where they lie in the bundle, and so
 * where the hosts of an `up --bundle` run find them on the bundle server.
 */
import type { ClusterSpec } from '../inventory/model.js';
import type { HostFacts } from './types.js';
import { mirrorBase } from './mirrors.js';

export interface OsTreeSource {
  base: string;
  /** the path under a mirror (and in a bundle) */
  path: string;
  suite: string;
  /** the keyring every installation of the release has, which apt checks the tree with on a host */
  keyring: string;
}

export function debianOsTrees(cluster: ClusterSpec, facts: Pick<HostFacts, 'osId' | 'arch' | 'codename'>): OsTreeSource[] {
  const m = mirrorBase(cluster);
  const ubuntu = facts.osId === 'ubuntu';
  const ports = ubuntu && facts.arch !== 'amd64';
  const dir = ubuntu ? (ports ? 'ubuntu-ports' : 'ubuntu') : 'debian';
  const main = m ? `${m}/${dir}` : ubuntu ? (ports ? 'http://ports.ubuntu.com/ubuntu-ports' : 'http://archive.ubuntu.com/ubuntu') : 'http://deb.debian.org/debian';
  const secDir = ubuntu ? dir : 'debian-security';
  const security = m ? `${m}/${secDir}` : ubuntu ? (ports ? main : 'http://security.ubuntu.com/ubuntu') : 'http://deb.debian.org/debian-security';
  const keyring = ubuntu ? '/usr/share/keyrings/ubuntu-archive-keyring.gpg' : '/usr/share/keyrings/debian-archive-keyring.gpg';
  return [
    { base: main, path: dir, suite: facts.codename, keyring },
    { base: main, path: dir, suite: `${facts.codename}-updates`, keyring },
    { base: security, path: secDir, suite: `${facts.codename}-security`, keyring },
  ];
}

/**
 * The release key `up --bundle` marks a release whose own packages the bundle carries with (ClusterSpec.bundleOsReleases).
 * An EL release by its major only: BaseOS and AppStream of "9" serve every 9.x (a host may run 9.5 where the bundle was made for 9.4).
 */
export const bundleOsRelease = (f: { osId: string; versionId: string; arch: string }): string =>
  `${f.osId} ${['rocky', 'almalinux', 'rhel', 'centos'].includes(f.osId) ? f.versionId.split('.')[0] : f.versionId} ${f.arch}`;
