/**
 * Push an OCI image layout (test/support/oci-image.ts's archive, unpacked) into a registry with the
 * distribution API's monolithic upload (POST /v2/<name>/blobs/uploads/, PUT ?digest=, PUT the
 * manifest: https://github.com/opencontainers/distribution-spec/blob/v1.1.0/spec.md#pushing-blobs,
 * read 2026-12-07). The registry client kbootstrap uses reads only, so the tests push with
 * Node's https, the lab CA and basic auth.
 */
import { request } from 'node:https';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function call(method: string, url: string, ca: Buffer, auth: string, body?: Buffer, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca, headers: { Authorization: auth, ...(body ? { 'Content-Length': String(body.length) } : { 'Content-Length': '0' }), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Push the image in `archive` as host/name:tag. */
export async function pushImage(archive: string, host: string, name: string, tag: string, ca: Buffer, user: string, password: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-push-'));
  try {
    execFileSync('tar', ['-xf', archive, '-C', dir]);
    const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8')) as { manifests: { digest: string; mediaType: string }[] };
    const m = index.manifests[0]!;
    const manifest = readFileSync(join(dir, 'blobs', 'sha256', m.digest.slice(7)));
    const body = JSON.parse(manifest.toString()) as { config: { digest: string }; layers: { digest: string }[] };
    for (const d of [body.config.digest, ...body.layers.map((l) => l.digest)]) {
      const start = await call('POST', `https://${host}/v2/${name}/blobs/uploads/`, ca, auth);
      if (start.status !== 202) throw new Error(`push ${name}: upload start answered ${start.status}`);
      const loc = new URL(String(start.headers.location), `https://${host}`);
      loc.searchParams.set('digest', d);
      const put = await call('PUT', loc.toString(), ca, auth, readFileSync(join(dir, 'blobs', 'sha256', d.slice(7))), { 'Content-Type': 'application/octet-stream' });
      if (put.status !== 201) throw new Error(`push ${name}: blob ${d} answered ${put.status}`);
    }
    const put = await call('PUT', `https://${host}/v2/${name}/manifests/${tag}`, ca, auth, manifest, { 'Content-Type': m.mediaType });
    if (put.status !== 201) throw new Error(`push ${name}:${tag}: manifest answered ${put.status}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Put an image index under host/name:tag naming manifests already pushed to that repository, one per platform. */
export async function pushIndex(host: string, name: string, tag: string, manifests: { digest: string; size: number; architecture: string }[], ca: Buffer, user: string, password: string): Promise<void> {
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const mediaType = 'application/vnd.oci.image.index.v1+json';
  const body = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType,
    manifests: manifests.map((m) => ({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: m.digest, size: m.size, platform: { os: 'linux', architecture: m.architecture } })),
  }));
  const put = await call('PUT', `https://${host}/v2/${name}/manifests/${tag}`, ca, auth, body, { 'Content-Type': mediaType });
  if (put.status !== 201) throw new Error(`push ${name}:${tag}: index answered ${put.status}`);
}
