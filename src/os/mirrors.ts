/** Where every artifact comes from: packages (upstream sites, or a mirror laid out like mirrors.aliyun.com), and container images (upstream registries, pull-through mirrors, private registries). */
import type { ClusterSpec, RegistrySpec } from '../inventory/model.js';
import { KbError } from '../errors.js';

/**
 * `up --bundle`: the bundle goes to its server (cluster.offline.server, else the first control plane), which serves it unpacked over plain
 * HTTP on this port to the other hosts for the length of the run. The bundle keeps every apt tree
 * and yum repository where a packageMirror has it (src/bundle/needs.ts), so for the hosts it is the
 * package mirror: apt checks the trees' own signatures (InRelease) and each .deb against the signed
 * index, dnf each .rpm against the repodata as upstream made it (and its signature), and kbootstrap
 * has checked every file's sha256 before it left this machine.
 */
export const BUNDLE_PORT = 8473;

export function bundleServerUrl(address: string): string {
  return `http://${address.includes(':') ? `[${address}]` : address}:${BUNDLE_PORT}`;
}

/** The cluster as the hosts see it during `up --bundle`: every package tree from the bundle server. */
export function clusterFromBundle(cluster: ClusterSpec, serverAddress: string): ClusterSpec {
  return { ...cluster, packageMirror: bundleServerUrl(serverAddress), allowInsecureHttp: true, bundleOnly: true };
}

/** Base URL of the configured mirror, or undefined for the upstream sites. */
export function mirrorBase(cluster: ClusterSpec): string | undefined {
  if (cluster.packageMirror === 'upstream') return undefined;
  if (cluster.packageMirror === 'aliyun') return 'https://mirrors.aliyun.com';
  return cluster.packageMirror.replace(/\/+$/, '');
}

/**
 * Root of the Kubernetes package repository for the cluster's minor: pkgs.k8s.io
 * has one repository per minor (https://kubernetes.io/blog/2023/08/15/pkgs-k8s-io-introduction/),
 * mirrored by Aliyun under kubernetes-new/core/stable/vX.Y (https://developer.aliyun.com/mirror/kubernetes).
 */
export function kubernetesRepoBase(cluster: ClusterSpec): string {
  const m = mirrorBase(cluster);
  return m ? `${m}/kubernetes-new/core/stable/${cluster.minorVersion}` : `https://pkgs.k8s.io/core:/stable:/${cluster.minorVersion}`;
}

/** Docker CE repository root for a distribution directory (centos, debian, ubuntu). */
export function dockerRepoBase(cluster: ClusterSpec, distro: string): string {
  const m = mirrorBase(cluster);
  return m ? `${m}/docker-ce/linux/${distro}` : `https://download.docker.com/linux/${distro}`;
}

/** Base URL of cri-dockerd release files (GitHub releases unless the inventory names a mirror). */
export function criDockerdBase(cluster: ClusterSpec): string {
  const v = cluster.criDockerd.version;
  return (cluster.criDockerd.url ?? `https://github.com/Mirantis/cri-dockerd/releases/download/v${v}`).replace(/\/+$/, '');
}

/**
 * The cri-dockerd release file at URL, with the sha256 it must have
 * (cluster.criDockerd.sha256, by file name). Throws when the inventory gives none for it.
 */
export function criDockerdArtifact(cluster: ClusterSpec, file: string): { url: string; sha256: string } {
  const sha256 = cluster.criDockerd.sha256[file];
  if (!sha256) {
    throw new KbError(`cri-dockerd: cluster.criDockerd.sha256 has no digest for ${file}, the package this host installs: add "${file}: <sha256 of the file>" (cri-dockerd publishes no checksums to pin)`);
  }
  return { url: `${criDockerdBase(cluster)}/${file}`, sha256 };
}

/*
 * Container images: where the runtime pulls each registry's images from.
 *
 * For every registry namespace that needs one, containerd reads
 * /etc/containerd/certs.d/<namespace>/hosts.toml (config_path): the hosts to
 * try in order, then `server`, the namespace itself. A private registry of
 * cluster.registries is tried first for each upstream it mirrors, then
 * cluster.registryMirrors (docker.io only), then the upstream. Its CA and its
 * credentials go with each of its entries: `ca` and a `header` table with
 * Authorization, which containerd sends with every request to that host
 * (containerd docs/hosts.md, "ca field" and "header fields", v2.1,
 * https://github.com/containerd/containerd/blob/v2.1.3/docs/hosts.md, read 2026-12-07).
 * Only HTTP basic authentication is expressed this way (a registry that answers
 * with a Bearer challenge needs a token service, which a static header does not
 * feed): docker-registry/distribution with htpasswd, Nexus, Artifactory.
 */

/** containerd's registry host directory (config_path in config.toml). */
export const CONTAINERD_CERTS_D = '/etc/containerd/certs.d';
/** docker's per-registry certificate directory (https://docs.docker.com/engine/security/certificates/, read 2026-12-07). */
export const DOCKER_CERTS_D = '/etc/docker/certs.d';
/**
 * kubelet reads a docker config.json from its root directory for the credentials it hands the
 * runtime with each pull ("Configuring nodes to authenticate to a private registry",
 * https://kubernetes.io/docs/concepts/containers/images/, and kubernetes/website#9085 listing
 * {--root-dir:-/var/lib/kubelet}/config.json; read 2026-12-07). Used for the docker runtime,
 * whose daemon has no registry credentials of its own.
 */
export const KUBELET_DOCKER_CONFIG = '/var/lib/kubelet/config.json';

/** The address an upstream namespace is served from: Docker Hub's registry is not docker.io itself. */
export function upstreamServer(namespace: string): string {
  return namespace === 'docker.io' ? 'https://registry-1.docker.io' : `https://${namespace}`;
}

/** One place a pull for a namespace may go to. */
export interface RegistryEndpoint {
  url: string;
  capabilities: string[];
  /** the CA file on the host */
  ca?: string;
  /** HTTP basic Authorization header value (secret) */
  authorization?: string;
  skipVerify?: boolean;
  /** the private registry this endpoint is, when it is one */
  registry?: RegistrySpec;
}

/** Where containerd's pulls of one namespace go: the hosts in order, then the server. */
export interface NamespaceRoute {
  namespace: string;
  server: string;
  /** settings of the server itself (a private registry's own namespace) */
  serverEndpoint?: RegistryEndpoint;
  hosts: RegistryEndpoint[];
}

/** What a dry run shows in place of a registry's Authorization header (the real one exists only at run time). */
export function authorizationPlaceholder(r: RegistrySpec): string {
  const c = r.credentials!;
  const from = c.passwordEnv ? `$${c.passwordEnv}` : `the file ${c.passwordFile}`;
  return `Basic <BASE64 OF ${c.username}:PASSWORD FROM ${from}>`;
}

/** The Authorization header kbootstrap gives a registry with credentials, from what the command read (or a placeholder). */
function authorization(r: RegistrySpec, auth: ReadonlyMap<string, string> | undefined): string | undefined {
  if (!r.credentials) return undefined;
  return auth?.get(r.host) ?? authorizationPlaceholder(r);
}

export function registryUrl(r: RegistrySpec): string {
  return `${r.plainHttp ? 'http' : 'https'}://${r.host}`;
}

/** Where containerd keeps a private registry's CA. */
export function containerdCaPath(r: RegistrySpec): string {
  return `${CONTAINERD_CERTS_D}/${r.host}/ca.crt`;
}

function privateEndpoint(r: RegistrySpec, auth: ReadonlyMap<string, string> | undefined, capabilities: string[]): RegistryEndpoint {
  return {
    url: registryUrl(r),
    capabilities,
    ca: r.caFile ? containerdCaPath(r) : undefined,
    authorization: authorization(r, auth),
    registry: r,
  };
}

/**
 * Every registry namespace containerd needs a hosts.toml for, with where its
 * pulls go, in the order they are written: docker.io's mirrors, each private
 * registry's own namespace and the upstreams it mirrors, plain-HTTP registries.
 */
export function containerdRoutes(cluster: ClusterSpec, auth?: ReadonlyMap<string, string>): NamespaceRoute[] {
  const routes = new Map<string, NamespaceRoute>();
  const route = (ns: string): NamespaceRoute => {
    let r = routes.get(ns);
    if (!r) routes.set(ns, r = { namespace: ns, server: upstreamServer(ns), hosts: [] });
    return r;
  };
  // a private registry stands in before a public pull-through mirror: it is the one the operator runs
  for (const reg of cluster.registries) {
    for (const ns of reg.mirrorOf) route(ns).hosts.push(privateEndpoint(reg, auth, ['pull', 'resolve']));
  }
  if (cluster.registryMirrors.length) {
    route('docker.io').hosts.push(...cluster.registryMirrors.map((m) => ({ url: m, capabilities: ['pull', 'resolve'] })));
  }
  for (const reg of cluster.registries) {
    const own = route(reg.host);
    own.server = registryUrl(reg);
    own.serverEndpoint = privateEndpoint(reg, auth, ['pull', 'resolve', 'push']);
  }
  for (const r of cluster.insecureRegistries) {
    const own = route(r);
    own.server = `http://${r}`;
    own.hosts.push({ url: `http://${r}`, capabilities: ['pull', 'resolve', 'push'], skipVerify: true });
  }
  return [...routes.values()];
}

/** One line per place an image of `image` (a reference) may come from, in the order the runtime tries them: for plan and the dry run. */
export function imageSources(cluster: ClusterSpec, image: string): string[] {
  const ns = imageNamespace(image);
  if (cluster.containerRuntime === 'docker') {
    const own = cluster.registries.find((r) => r.host === ns);
    if (own) return [`${registryUrl(own)} (private registry)`];
    const mirrors = ns === 'docker.io' ? [...cluster.registries.filter((r) => r.mirrorOf.includes('docker.io')).map((r) => `${registryUrl(r)} (private registry, mirror of docker.io)`), ...cluster.registryMirrors.map((m) => `${m} (mirror)`)] : [];
    return [...mirrors, `${upstreamServer(ns)} (upstream)`];
  }
  const route = containerdRoutes(cluster).find((r) => r.namespace === ns);
  if (!route) return [`${upstreamServer(ns)} (upstream)`];
  const describe = (e: RegistryEndpoint, what: string) => `${e.url} (${e.registry ? `private registry${what}` : e.skipVerify ? 'plain HTTP' : 'mirror'})`;
  return [
    ...route.hosts.map((h) => describe(h, `, mirror of ${ns}`)),
    route.serverEndpoint ? describe(route.serverEndpoint, '') : `${route.server} (${route.server === upstreamServer(ns) ? 'upstream' : 'plain HTTP'})`,
  ];
}

/** The registry namespace of an image reference: its first component when that names a host, else docker.io. */
export function imageNamespace(image: string): string {
  const first = image.split('/')[0]!;
  return image.includes('/') && /[.:]|^localhost$/.test(first) ? first : 'docker.io';
}

/** For the dry run's header: per namespace of `images`, where the runtime pulls them from, in order. */
export function imageOriginLines(cluster: ClusterSpec, images: string[]): string[] {
  const byNs = new Map<string, string>();
  for (const img of images) if (!byNs.has(imageNamespace(img))) byNs.set(imageNamespace(img), img);
  return [...byNs].map(([ns, img]) => `${ns}: ${imageSources(cluster, img).join(', then ')}`);
}
