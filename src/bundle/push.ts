/**
 * `kbootstrap bundle INVENTORY --push REGISTRY --from FILE`: the bundle's images copied into a
 * private registry of `cluster.registries`, so that the hosts pull them through the hosts.toml
 * kbootstrap renders (the registry stands in for registry.k8s.io, docker.io...) instead of each
 * host importing them from the bundle.
 *
 * The copy is skopeo's (`skopeo copy --preserve-digests oci-archive:FILE docker://HOST/REPO:TAG`,
 * containers/skopeo, docs/skopeo-copy.1.md of v1.9, read 2026-12-07; `--all` with an image index for
 * a bundle of several architectures): the registry client kbootstrap
 * pulls with (@snyk/docker-registry-v2-client) has no upload, and a push is the part of the
 * distribution API that a client must get right (chunked and cross-repository uploads, the
 * registry's own token flows). The credentials go to skopeo in an auth file (mode 0600, in a
 * private temporary directory removed afterwards), never on its command line; the CA in a cert
 * directory. A pull through a mirror asks the registry for the repository without the upstream's
 * name (containerd's hosts.toml: registry.k8s.io/pause:3.9 is HOST/v2/pause/manifests/3.9), so
 * that is where each image goes. An image the registry already holds under its tag with the
 * bundle's digest is not sent again.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { registryCall } from '@snyk/docker-registry-v2-client';
import type { Inventory, RegistrySpec } from '../inventory/model.js';
import { KbError, EXIT } from '../errors.js';
import { parseImageRef, imageSource } from './images.js';
import type { BundleManifest } from './manifest.js';
import { pool } from '../run/pool.js';

/** skopeo copies at once in `bundle --push` */
const PUSH_CONCURRENCY = 4;

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json', 'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** The registry of cluster.registries named REGISTRY, or a refusal naming the ones there are. */
export function pushTarget(inv: Inventory, host: string): RegistrySpec {
  const r = inv.cluster.registries.find((x) => x.host === host);
  if (!r) {
    const hosts = inv.cluster.registries.map((x) => x.host);
    throw new KbError(`bundle --push ${host}: not a registry of the inventory's cluster.registries${hosts.length ? ` (it has ${hosts.join(', ')})` : ' (it has none)'}: the hosts pull only from registries it names`, EXIT.usage);
  }
  return r;
}

/** Where an image of the bundle goes in the registry: its repository path without the upstream's name, and its tag. */
export function pushedName(ref: string): { repo: string; tag: string } {
  const r = parseImageRef(ref);
  return { repo: r.repo, tag: r.tag };
}

/**
 * Whether the registry holds repo:tag with this digest (the manifest itself, or a manifest list
 * naming it). Unreachable or refusing: false, and the image is imported as without a push.
 */
export async function registryHolds(inv: Inventory, reg: RegistrySpec, repo: string, tag: string, digest: string, auth: ReadonlyMap<string, string>): Promise<boolean> {
  const src = imageSource(inv.cluster, reg.host, auth);
  try {
    const res = await registryCall(`${src.host}/v2/${repo}/manifests/${tag}`, undefined, undefined, {
      ...src.options, headers: { ...(src.options.headers ?? {}), Accept: MANIFEST_TYPES }, parse_response: false, timeout: 15_000,
    });
    const got = String(res.headers['docker-content-digest'] ?? '');
    if (got === digest) return true;
    const body = JSON.parse((Buffer.isBuffer(res.body) ? res.body : Buffer.from(String(res.raw ?? res.body))).toString('utf8')) as { manifests?: { digest: string }[] };
    return !!body.manifests?.some((m) => m.digest === digest);
  } catch {
    return false;
  }
}

function skopeoVersion(): string {
  const r = spawnSync('skopeo', ['--version'], { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new KbError('bundle --push: needs skopeo on this machine to copy images into the registry (Debian and Ubuntu: apt-get install skopeo; Fedora/EL: dnf install skopeo)', EXIT.usage);
  }
  return r.stdout.trim();
}

function run(argv: string[], redact: (s: string) => string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve() : reject(new Error(redact(err.trim().split('\n').slice(-3).join('\n')) || `exit ${code}`))));
  });
}

export interface PushResult { sent: string[]; present: string[] }

/**
 * An OCI archive holding every platform of one image as an image index under its tag, from the
 * bundle's per-platform archives (unpacked under `work`): `skopeo copy --all` pushes the index and
 * each platform's manifest, so that one tag serves amd64 and arm64 hosts alike.
 */
async function multiPlatformArchive(work: string, images: BundleManifest['images'], tag: string, out: string): Promise<void> {
  const dir = join(work, `.multi-${createHash('sha256').update(out).digest('hex').slice(0, 12)}`);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  const manifests: { mediaType: string; digest: string; size: number; platform: { os: string; architecture: string } }[] = [];
  for (const i of images) {
    // a directory of its own: pushes run side by side, and two names may carry the same digest
    const one = mkdtempSync(join(work, '.one-'));
    await tar.x({ file: join(work, i.file), cwd: one });
    for (const b of readdirSync(join(one, 'blobs', 'sha256'))) renameSync(join(one, 'blobs', 'sha256', b), join(dir, 'blobs', 'sha256', b));
    const index = JSON.parse(readFileSync(join(one, 'index.json'), 'utf8')) as { manifests: { mediaType: string; digest: string; size: number }[] };
    const [os, architecture] = i.platform.split('/') as [string, string];
    manifests.push({ mediaType: index.manifests[0]!.mediaType, digest: index.manifests[0]!.digest, size: index.manifests[0]!.size, platform: { os, architecture } });
  }
  const mediaType = 'application/vnd.oci.image.index.v1+json';
  const list = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType, manifests }));
  const digest = createHash('sha256').update(list).digest('hex');
  writeFileSync(join(dir, 'blobs', 'sha256', digest), list);
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, mediaType, manifests: [{ mediaType, digest: `sha256:${digest}`, size: list.length, annotations: { 'org.opencontainers.image.ref.name': tag } }] }));
  await tar.c({ file: out, cwd: dir, portable: true }, ['oci-layout', 'index.json', 'blobs']);
}

/** Copy every image of a checked bundle into the registry: one platform as it is, several as an image index. */
export async function pushBundle(file: string, manifest: BundleManifest, inv: Inventory, reg: RegistrySpec, auth: ReadonlyMap<string, string>, redact: (s: string) => string, say: (l: string) => void): Promise<PushResult> {
  const byRef = new Map<string, BundleManifest['images']>();
  for (const i of manifest.images) byRef.set(i.ref, [...(byRef.get(i.ref) ?? []), i]);
  say(`kbootstrap: pushing ${byRef.size} images (${[...new Set(manifest.images.map((i) => i.platform))].join(', ')}) to ${reg.host} with ${skopeoVersion()}`);
  const work = mkdtempSync(join(tmpdir(), 'kbootstrap-push-'));
  chmodSync(work, 0o700);
  const out: PushResult = { sent: [], present: [] };
  try {
    const args: string[] = [];
    // the archives were checked against the bundle's sha256 (verifyBundle): no signature policy applies to them
    writeFileSync(join(work, 'policy.json'), JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
    args.push('--policy', join(work, 'policy.json'));
    const copyArgs: string[] = ['--preserve-digests', '--retry-times', '2'];
    const header = auth.get(reg.host);
    if (header) {
      writeFileSync(join(work, 'auth.json'), JSON.stringify({ auths: { [reg.host]: { auth: header.replace(/^Basic /, '') } } }), { mode: 0o600 });
      copyArgs.push('--dest-authfile', join(work, 'auth.json'));
    }
    if (reg.caFile) {
      mkdirSync(join(work, 'certs'));
      copyFileSync(reg.caFile, join(work, 'certs', 'ca.crt'));
      copyArgs.push('--dest-cert-dir', join(work, 'certs'));
    }
    if (reg.plainHttp) copyArgs.push('--dest-tls-verify=false');
    const todo: [string, BundleManifest['images']][] = [];
    for (const [ref, platforms] of byRef) {
      const { repo, tag } = pushedName(ref);
      const held = await Promise.all(platforms.map((i) => registryHolds(inv, reg, repo, tag, i.digest, auth)));
      if (held.every(Boolean)) { out.present.push(ref); say(`  ${ref}: ${reg.host}/${repo}:${tag} is there`); } else todo.push([ref, platforms]);
    }
    const files = new Set(todo.flatMap(([, v]) => v.map((i) => i.file)));
    if (files.size) await tar.x({ file, cwd: work, filter: (p) => files.has(p.replace(/^\.\//, '')) });
    // a few skopeo copies side by side (each one image, its blobs in turn): the registry's round trips overlap
    await pool(todo, PUSH_CONCURRENCY, async ([ref, platforms]) => {
      const { repo, tag } = pushedName(ref);
      const dest = `docker://${reg.host}/${repo}:${tag}`;
      let source = join(work, platforms[0]!.file);
      const all: string[] = [];
      if (platforms.length > 1) {
        source = join(work, `.multi-${createHash('sha256').update(ref).digest('hex').slice(0, 16)}.tar`);
        await multiPlatformArchive(work, platforms, tag, source);
        all.push('--all');
      }
      try {
        await run(['skopeo', ...args, 'copy', ...copyArgs, ...all, `oci-archive:${source}`, dest], redact);
      } catch (e) {
        throw new KbError(`bundle --push: ${ref} to ${reg.host}/${repo}:${tag}: skopeo said: ${(e as Error).message}`);
      }
      out.sent.push(ref);
      say(`  ${ref} -> ${reg.host}/${repo}:${tag} (${platforms.map((i) => `${i.platform} ${i.digest.slice(0, 19)}`).join(', ')})`);
    });
    // the bundle's order, whatever order the copies ended in
    const order = [...byRef.keys()];
    out.sent.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
