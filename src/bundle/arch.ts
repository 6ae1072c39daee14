/**
 * The architectures a bundle carries packages and images for (`bundle --arch`), as Debian and the
 * OCI image platforms name them, and rpm's names for them ($basearch). Apart from needs.ts so that
 * the CLI's registration loads nothing else.
 */
export const BUNDLE_ARCHES = ['amd64', 'arm64'] as const;
export type BundleArch = (typeof BUNDLE_ARCHES)[number];
export const RPM_ARCH: Record<BundleArch, string> = { amd64: 'x86_64', arm64: 'aarch64' };
