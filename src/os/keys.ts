/**
 * The upstream repository signing keys kbootstrap trusts, by the OpenPGP
 * fingerprint of their primary key. A fetched key file is installed only when
 * every primary key in it has one of these fingerprints (or one the inventory
 * adds in cluster.repositoryKeyFingerprints), whoever served it: upstream, the
 * Aliyun mirror (which copies the upstream key files) or a custom mirror.
 */

/**
 * Docker's key for its deb repositories, "Docker Release (CE deb) <docker@docker.com>".
 * Source: docker/docs, engine/install/debian.md as changed by docker/docs#11990
 * ("Verify that you now have the key with the fingerprint 9DC8 5822 9FC7 DD38 854A
 * E2D8 8D81 803C 0EBF CD88"); read 2026-12-05.
 */
export const DOCKER_DEB_KEY = '9DC858229FC7DD38854AE2D88D81803C0EBFCD88';

/**
 * Docker's key for its rpm repositories, "Docker Release (CE rpm) <docker@docker.com>".
 * Source: docker/docs, content/manuals/engine/install/centos.md (commit 26aaea63)
 * and rhel.md: "verify that the fingerprint matches 060A 61C5 1B55 8A7F 742B 77AA
 * C52F EB6B 621E 9F35"; read 2026-12-05.
 */
export const DOCKER_RPM_KEY = '060A61C51B558A7F742B77AAC52FEB6B621E9F35';

/**
 * pkgs.k8s.io's key, "isv:kubernetes OBS Project <isv:kubernetes@build.opensuse.org>":
 * one key for every minor's repository, deb and rpm alike (the repositories are
 * built by the one OBS project isv:kubernetes). Older minors (v1.24-v1.27) serve a
 * copy whose expiry date was not extended; the fingerprint is the same.
 * Sources: `gpg --show-keys` of https://pkgs.k8s.io/core:/stable:/v1.25/, v1.26 and
 * v1.27 /deb/Release.key quoted in kubernetes/kubernetes#128609 and #128567
 * ("DE15B14486CD377B9E876E1A234654DA9A296436"); kubernetes/release#3818 ("APT/RPM
 * PGP key for some repositories at pkgs.k8s.io expired", one key for both);
 * read 2026-12-05.
 */
export const KUBERNETES_KEY = 'DE15B14486CD377B9E876E1A234654DA9A296436';

/**
 * The keys the Debian archive signs its InRelease files with (deb.debian.org/debian and
 * /debian-security; each release's InRelease carries the archive key's, and the stable release
 * key's signature): bundle --with-os-packages checks a release's own repositories with them.
 * Primary fingerprints as `gpg --list-keys` prints them from /usr/share/keyrings/debian-archive-keyring.gpg
 * of debian-archive-keyring 2023.3+deb12u2 (Debian 12), read 2026-12-07: 11/bullseye, 12/bookworm,
 * 13/trixie, archive, security archive and stable release keys.
 */
export const DEBIAN_ARCHIVE_KEYS = [
  '1F89983E0081FDE018F3CC9673A4F27B8DD47936', 'AC530D520F2F3269F5E98313A48449044AAD5C5D', 'A4285295FC7B1A81600062A9605C66F00D6C9793',
  'B8B80B5B623EAB6AD8775C45B7C5D7D6350947F8', '05AB90340C0C5E797F44A8C8254CF3B5AEC0A8F0', '4D64FEC119C2029067D6E791F8D2585B8783D481',
  '04B54C3CDCA79751B16BC6B5225629DF75B188BD', '5E04A1E3223A19A20706E20F9904613D4CCE68C6', '41587F7DB8C774BCCF131416762F67A0B2C39DE4',
];

/**
 * "Ubuntu Archive Automatic Signing Key (2018) <ftpmaster@ubuntu.com>", which signs every supported
 * Ubuntu release's InRelease (archive.ubuntu.com, ports.ubuntu.com, security.ubuntu.com).
 * Sources: debootstrap of jammy and noble logging "Valid Release signature (key id
 * F6ECB3762474EDA9D21B7022871920D1991BC93C)" (public build scripts found with the search tool),
 * and the ubuntu-keyring packaging script exporting that fingerprint with the 2012 keys; read 2026-12-07.
 */
export const UBUNTU_ARCHIVE_KEY = 'F6ECB3762474EDA9D21B7022871920D1991BC93C';

/** A fingerprint as written by people (spaces, lower case) in the form gpg --with-colons prints. */
export function normalizeFingerprint(s: string): string {
  return s.replace(/\s+/g, '').toUpperCase();
}

export const FINGERPRINT = /^[0-9A-F]{40}$/;

/**
 * The release keys of the EL rebuilds whose own repositories (BaseOS, AppStream) `bundle
 * --with-os-packages` reads: repomd.xml.asc is checked against them.
 * Rocky Linux 9, "Rocky Enterprise Software Foundation - Release key 2022", at
 * https://dl.rockylinux.org/pub/rocky/RPM-GPG-KEY-Rocky-9: 21CB 256A E16F C54C 6E65 2949 702D 426D 350D 275D
 * (pinned alike by public tooling that checks Rocky's ISO CHECKSUM and repositories, found with the search
 * tool, e.g. an Ansible role's baseos keyfile table; read 2026-12-07).
 * AlmaLinux 9, "AlmaLinux OS 9 <packager@almalinux.org>", rsa4096 2022-01-18, at
 * https://repo.almalinux.org/almalinux/RPM-GPG-KEY-AlmaLinux-9: BF18 AC28 7617 8908 D6E7 1267 D36C B86C B86B 3716
 * (AlmaLinux's documentation, "Print the key fingerprint", as quoted in the AlmaLinux wiki sources; read 2026-12-07).
 * Other majors have no pinned key here yet: bundle --with-os-packages refuses them.
 */
export const ROCKY_9_KEY = '21CB256AE16FC54C6E652949702D426D350D275D';
export const ALMA_9_KEY = 'BF18AC2876178908D6E71267D36CB86CB86B3716';
