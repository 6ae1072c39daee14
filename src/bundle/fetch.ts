/**
 * Downloads for `bundle`: content-addressed in a cache shared by every bundle
 * (~/.cache/kbootstrap/bundle, or $XDG_CACHE_HOME), so a second bundle fetches
 * only what changed; a cut download resumes from its partial file with an
 * HTTP Range request; every file is checked against the sha256 its signed
 * metadata gives before it enters the cache.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { KbError } from '../errors.js';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.KBOOTSTRAP_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'kbootstrap'), 'bundle');
}

/**
 * fetch, tried again (three times in all, a second apart, then two) when the connection fails before
 * an answer: a kept-alive connection the server closed, a reset on a poor link. Bundles made over
 * such links are what dies in other tools (kubesphere/kubekey#1494); an HTTP error status is an
 * answer and is not retried.
 */
export async function fetchRetry(url: string, init: RequestInit = {}, what = url): Promise<Response> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await fetch(url, init);
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, 1000 * (attempt + 1)));
    }
  }
  const e = last as Error & { cause?: Error };
  throw new KbError(`bundle: ${what}: ${e.cause?.message ?? e.message} (3 attempts)`);
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  await pipeline(createReadStream(path), h);
  return h.digest('hex');
}

/** What the progress display hears. */
export interface FetchEvents {
  /** bytes arrived (from the network, not the cache) */
  bytes(n: number): void;
}

export class BundleCache {
  readonly dir: string;
  /** bytes fetched from the network by this run, and bytes found in the cache */
  fetched = 0;
  reused = 0;

  constructor(dir = cacheDir(), private readonly events?: FetchEvents) {
    this.dir = dir;
    mkdirSync(join(dir, 'sha256'), { recursive: true });
    mkdirSync(join(dir, 'partial'), { recursive: true });
  }

  private readonly inFlight = new Map<string, Promise<string>>();

  /** fn once per sha256 at a time: images share blobs, and parallel pulls must not write one partial file twice */
  once(sha256: string, fn: () => Promise<string>): Promise<string> {
    let p = this.inFlight.get(sha256);
    if (!p) {
      p = fn().finally(() => this.inFlight.delete(sha256));
      this.inFlight.set(sha256, p);
    }
    return p;
  }

  path(sha256: string): string {
    return join(this.dir, 'sha256', sha256);
  }

  has(sha256: string): boolean {
    return existsSync(this.path(sha256));
  }

  /**
   * The cached file with this sha256, fetched from url when missing. A partial file left by a cut
   * run is continued with `Range: bytes=N-` (a server that answers 200 instead starts it over).
   */
  get(url: string, sha256: string, size?: number): Promise<string> {
    return this.once(sha256, () => this.fetchTo(url, sha256, size));
  }

  private async fetchTo(url: string, sha256: string, size?: number): Promise<string> {
    const dest = this.path(sha256);
    if (existsSync(dest)) {
      this.reused += statSync(dest).size;
      return dest;
    }
    const part = join(this.dir, 'partial', sha256);
    let have = existsSync(part) ? statSync(part).size : 0;
    if (size !== undefined && have > size) { rmSync(part); have = 0; }
    if (size === undefined || have < size) {
      const res = await fetchRetry(url, { headers: have ? { Range: `bytes=${have}-` } : {} });
      if (res.status === 416 && have) { /* the partial file is whole already */ } else {
        if (res.status !== 200 && res.status !== 206) throw new KbError(`bundle: ${url}: HTTP ${res.status} ${res.statusText}`);
        const append = res.status === 206 && have > 0;
        if (!append) have = 0;
        const counter = new TransformCounter((n) => { this.fetched += n; this.events?.bytes(n); });
        await pipeline(Readable.fromWeb(res.body! as import('node:stream/web').ReadableStream), counter, createWriteStream(part, { flags: append ? 'a' : 'w' }));
      }
    }
    const got = await sha256File(part);
    if (got !== sha256) {
      rmSync(part, { force: true });
      throw new KbError(`bundle: ${url}: sha256 ${got}, but the signed metadata says ${sha256}: refused (a mirror serving another file, or a corrupted download; run bundle again to fetch it anew)`);
    }
    renameSync(part, dest);
    return dest;
  }

  /** Put a file this run made or received whole (a registry blob) into the cache after checking it. */
  async adopt(file: string, sha256: string, what: string): Promise<string> {
    const got = await sha256File(file);
    if (got !== sha256) {
      rmSync(file, { force: true });
      throw new KbError(`bundle: ${what}: sha256 ${got}, expected ${sha256}: refused`);
    }
    const dest = this.path(sha256);
    renameSync(file, dest);
    return dest;
  }

  partial(name: string): string {
    return join(this.dir, 'partial', name);
  }
}

class TransformCounter extends Transform {
  constructor(private readonly count: (n: number) => void) { super(); }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.count(chunk.length);
    cb(null, chunk);
  }
}
