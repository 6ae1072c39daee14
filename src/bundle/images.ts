/**
 * Container images pulled with a registry client (@snyk/docker-registry-v2-client: token and basic
 * auth, redirects) into OCI image layouts (https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md,
 * read 2026-12-07), one archive per image, as `ctr images import` reads them. The manifest's bytes are
 * kept as the registry sent them (parse_response: false), so the digest the image is known by holds;
 * a manifest list is narrowed to the hosts' platform.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tar from 'tar';
import { downloadLayer, registryCall, type ClientOptions } from '@snyk/docker-registry-v2-client';
import type { ClusterSpec } from '../inventory/model.js';
import { upstreamServer } from '../os/mirrors.js';
import { KbError } from '../errors.js';
import type { BundleCache } from './fetch.js';

export interface ImageRef {
  /** registry namespace as image names spell it (docker.io, registry.k8s.io, 10.0.0.5:5000) */
  namespace: string;
  repo: string;
  tag: string;
}

export function parseImageRef(ref: string): ImageRef {
  const slash = ref.indexOf('/');
  const first = slash > 0 ? ref.slice(0, slash) : '';
  const hasHost = !!first && (first.includes('.') || first.includes(':') || first === 'localhost');
  const namespace = hasHost ? first : 'docker.io';
  let rest = hasHost ? ref.slice(slash + 1) : ref;
  const at = rest.indexOf('@');
  let tag: string;
  if (at >= 0) { tag = rest.slice(at + 1); rest = rest.slice(0, at); } else {
    const c = rest.lastIndexOf(':');
    tag = c > rest.lastIndexOf('/') ? rest.slice(c + 1) : 'latest';
    if (c > rest.lastIndexOf('/')) rest = rest.slice(0, c);
  }
  if (namespace === 'docker.io' && !rest.includes('/')) rest = `library/${rest}`;
  return { namespace, repo: rest, tag };
}

/** Where an image's namespace is read from: a private registry of the inventory that stands in for it (or is it), else the upstream. */
export interface Source {
  /** host[:port] the client talks to, without scheme */
  host: string;
  options: ClientOptions;
  /** for messages and the bundle's manifest */
  url: string;
}

export function imageSource(cluster: ClusterSpec, namespace: string, auth: ReadonlyMap<string, string>): Source {
  const reg = cluster.registries.find((r) => r.host === namespace) ?? cluster.registries.find((r) => r.mirrorOf.includes(namespace));
  if (reg) {
    const options: ClientOptions = {
      protocol: reg.plainHttp ? 'http:' : 'https:',
      ...(reg.caFile ? { ca: readFileSync(reg.caFile) } : {}),
      ...(auth.get(reg.host) ? { headers: { Authorization: auth.get(reg.host)! } } : {}),
    };
    return { host: reg.host, options, url: `${reg.plainHttp ? 'http' : 'https'}://${reg.host}` };
  }
  const url = upstreamServer(namespace);
  return { host: url.replace(/^https:\/\//, ''), options: {}, url };
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json',
];
const isIndex = (t: string) => t.includes('index') || t.includes('manifest.list');

interface Descriptor { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string } }

async function manifest(src: Source, repo: string, reference: string, ref: string): Promise<{ bytes: Buffer; mediaType: string; digest: string }> {
  let res;
  try {
    res = await registryCall(`${src.host}/v2/${repo}/manifests/${reference}`, undefined, undefined, {
      ...src.options, headers: { ...(src.options.headers ?? {}), Accept: MANIFEST_TYPES.join(', ') }, parse_response: false, timeout: 60_000,
    });
  } catch (e) {
    const err = e as Error & { statusCode?: number };
    throw new KbError(`bundle: ${ref}: ${src.url} answered ${err.statusCode ? `HTTP ${err.statusCode}: ` : ''}${err.message}`);
  }
  const bytes = Buffer.isBuffer(res.body) ? res.body : Buffer.from(res.raw ?? String(res.body));
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  const mediaType = String(res.headers['content-type'] ?? JSON.parse(bytes.toString('utf8')).mediaType ?? '').split(';')[0]!;
  if (reference.startsWith('sha256:') && digest !== reference) throw new KbError(`bundle: ${ref}: the manifest ${src.url} sent has digest ${digest}, not ${reference}: refused`);
  return { bytes, mediaType, digest };
}

export interface PulledImage {
  ref: string;
  /** digest of the manifest the archive holds (the platform's), and of the index the tag named, if any */
  digest: string;
  indexDigest?: string;
  mediaType: string;
  manifestBytes: Buffer;
  /** blobs of the image: config and layers, each in the cache by its sha256 */
  blobs: { digest: string; size: number; mediaType: string; path: string }[];
  source: string;
}

/** Pull one image for linux/<arch> into the cache: the manifest and every blob, each checked against its digest. */
export async function pullImage(ref: string, arch: string, cluster: ClusterSpec, auth: ReadonlyMap<string, string>, cache: BundleCache): Promise<PulledImage> {
  const r = parseImageRef(ref);
  const src = imageSource(cluster, r.namespace, auth);
  let m = await manifest(src, r.repo, r.tag, ref);
  let indexDigest: string | undefined;
  if (isIndex(m.mediaType)) {
    const list = JSON.parse(m.bytes.toString('utf8')) as { manifests: Descriptor[] };
    const d = list.manifests.find((x) => x.platform?.os === 'linux' && x.platform.architecture === arch);
    if (!d) throw new KbError(`bundle: ${ref}: no linux/${arch} image in its manifest list at ${src.url}`);
    indexDigest = m.digest;
    m = await manifest(src, r.repo, d.digest, ref);
  }
  const body = JSON.parse(m.bytes.toString('utf8')) as { config: Descriptor; layers: Descriptor[] };
  if (!body.config || !Array.isArray(body.layers)) throw new KbError(`bundle: ${ref}: ${src.url} sent a manifest of type ${m.mediaType || 'unknown'} without config and layers`);
  const blobs: PulledImage['blobs'] = [];
  for (const d of [body.config, ...body.layers]) {
    const hex = d.digest.replace(/^sha256:/, '');
    if (cache.has(hex)) cache.reused += d.size;
    else {
      await cache.once(hex, async () => {
        if (cache.has(hex)) return cache.path(hex);
        const part = cache.partial(`${hex}.blob`);
        try {
          await downloadLayer(part, src.host, r.repo, d.digest, undefined, undefined, { ...src.options, timeout: 0 });
        } catch (e) {
          const err = e as Error & { statusCode?: number };
          throw new KbError(`bundle: ${ref}: blob ${d.digest} from ${src.url}: ${err.statusCode ? `HTTP ${err.statusCode}: ` : ''}${err.message}`);
        }
        cache.fetched += d.size;
        return cache.adopt(part, hex, `${ref} blob ${d.digest}`);
      });
    }
    blobs.push({ digest: d.digest, size: d.size, mediaType: d.mediaType, path: cache.path(hex) });
  }
  // a tag that names one image (no index) is the platform its config says: refused for another
  if (!indexDigest) {
    const config = JSON.parse(readFileSync(blobs[0]!.path, 'utf8')) as { os?: string; architecture?: string };
    if (config.architecture && config.architecture !== arch) throw new KbError(`bundle: ${ref}: ${src.url} has it for linux/${config.architecture} only (one image, no manifest list), not linux/${arch}`);
  }
  return { ref, digest: m.digest, indexDigest, mediaType: m.mediaType, manifestBytes: m.bytes, blobs, source: src.url };
}

function tagOf(ref: string): string {
  const c = ref.lastIndexOf(':');
  return c > ref.lastIndexOf('/') ? ref.slice(c + 1) : 'latest';
}

/**
 * The pulled image as an OCI image layout in a tar file (what `ctr images import` reads): oci-layout,
 * index.json naming the image as the cluster names it (io.containerd.image.name, and
 * org.opencontainers.image.ref.name with its tag), the manifest as the registry sent it and every
 * blob under blobs/sha256. Deterministic: the same image gives the same bytes.
 */
export async function writeOciArchive(p: PulledImage, arch: string, out: string, workDir: string): Promise<void> {
  const dir = mkdtempSync(join(workDir, '.oci-'));
  try {
    mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
    for (const b of p.blobs) {
      const dest = join(dir, 'blobs', 'sha256', b.digest.slice(7));
      try { linkSync(b.path, dest); } catch { copyFileSync(b.path, dest); }
    }
    writeFileSync(join(dir, 'blobs', 'sha256', p.digest.slice(7)), p.manifestBytes);
    writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(dir, 'index.json'), JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{
        mediaType: p.mediaType, digest: p.digest, size: p.manifestBytes.length, platform: { os: 'linux', architecture: arch },
        annotations: { 'io.containerd.image.name': p.ref, 'org.opencontainers.image.ref.name': tagOf(p.ref) },
      }],
    }));
    await tar.c({ file: out, cwd: dir, portable: true, mtime: new Date(0) }, ['oci-layout', 'index.json', 'blobs']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
