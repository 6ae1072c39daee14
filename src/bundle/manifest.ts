/** manifest.json of a bundle: what it holds, for which cluster, and every file with its sha256, origin and why. */
export const BUNDLE_FORMAT = 'kbootstrap-bundle/1';

export interface BundleFile {
  path: string;
  sha256: string;
  size: number;
  /** where it was read from */
  origin: string;
  /** why the cluster needs it */
  why: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  cluster: string;
  kubernetesVersion: string;
  containerRuntime: string;
  /** the hosts' architectures it carries packages and images for (bundles before --arch: amd64 only) */
  arches?: string[];
  cni: string;
  osReleases: {
    os: string;
    osId: string;
    versionId: string;
    codename: string;
    /** the architecture of these packages (a release bundled for two has two entries) */
    arch: string;
    /** the trees read, and where each lies in the bundle (a packageMirror's path for it) */
    trees: { kind?: 'rpm'; id: string; base: string; suite: string; components: string[]; path: string }[];
    packages: { name: string; version: string; tree: string; file: string }[];
    /**
     * bundle --with-os-packages: the packages of the release's own repositories (its trees are in
     * `trees`, served like the others), what they need that every installation has (not bundled), and why
     */
    osPackages?: { packages: { name: string; version: string; tree: string; file: string }[]; present: string[]; why: string };
    /** packages the steps or the bundled packages need from the release's own base repositories: not in the bundle */
    fromOs: string[];
  }[];
  images: { ref: string; file: string; digest: string; platform: string }[];
  /** the CNI manifest (in the bundle, or the inventory's local file by its sha256) and the images it names */
  cniManifest?: ({ file: string; url: string } | { local: string; sha256: string }) & { images: string[] };
  files: BundleFile[];
}
