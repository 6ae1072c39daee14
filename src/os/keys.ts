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

/** A fingerprint as written by people (spaces, lower case) in the form gpg --with-colons prints. */
export function normalizeFingerprint(s: string): string {
  return s.replace(/\s+/g, '').toUpperCase();
}

export const FINGERPRINT = /^[0-9A-F]{40}$/;
