/**
 * Real OCI images for the tests, built here from files of this machine's own
 * Debian binaries (no registry, no Docker): one gzip layer made with GNU tar
 * (sorted, fixed mtime and owner, so the same files give the same digest), an
 * image config, a manifest, and an OCI image layout (index.json, oci-layout,
 * blobs/sha256/...) packed as the tar archive `ctr images import` reads
 * (https://github.com/opencontainers/image-spec/blob/v1.1.0/image-layout.md).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface BuiltImage {
  /** the OCI archive (tar of an image layout) */
  archive: string;
  /** sha256:... of the manifest */
  manifestDigest: string;
  manifestSize: number;
  /** the name the archive's index gives the image (org.opencontainers.image.ref.name and containerd's io.containerd.image.name) */
  name: string;
}

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

/** An image holding `files` (machine path -> path in the image), its entrypoint the first of them, for linux/amd64 (or `arch`: only the config says so). */
export function buildOciImage(out: string, name: string, files: Record<string, string>, arch = 'amd64'): BuiltImage {
  const work = mkdtempSync(join(tmpdir(), 'kb-oci-'));
  try {
    const rootfs = join(work, 'rootfs');
    for (const [from, to] of Object.entries(files)) {
      const dest = join(rootfs, to);
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(from, dest);
    }
    const layout = join(work, 'layout');
    const blobs = join(layout, 'blobs', 'sha256');
    mkdirSync(blobs, { recursive: true });
    const layerTar = join(work, 'layer.tar');
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', rootfs, '-cf', layerTar, '.']);
    const diffId = sha(readFileSync(layerTar));
    execFileSync('gzip', ['-n', '-9', layerTar]);
    const layer = readFileSync(`${layerTar}.gz`);
    const blob = (b: Buffer | string): { digest: string; size: number } => {
      const d = sha(b);
      writeFileSync(join(blobs, d), b);
      return { digest: `sha256:${d}`, size: Buffer.byteLength(b) };
    };
    const layerDesc = blob(layer);
    const config = JSON.stringify({
      architecture: arch, os: 'linux',
      config: { Entrypoint: [`/${Object.values(files)[0]!.replace(/^\//, '')}`] },
      rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
    });
    const configDesc = blob(config);
    const manifest = JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...configDesc },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...layerDesc }],
    });
    const manifestDesc = blob(manifest);
    writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(layout, 'index.json'), JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{
        mediaType: 'application/vnd.oci.image.manifest.v1+json', ...manifestDesc, platform: { architecture: arch, os: 'linux' },
        annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.slice(name.lastIndexOf(':') + 1) },
      }],
    }));
    execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', layout, '-cf', out, '.']);
    return { archive: out, manifestDigest: manifestDesc.digest, manifestSize: manifestDesc.size, name };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
