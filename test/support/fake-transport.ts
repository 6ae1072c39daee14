/** A transport double: answers checks from a script of outputs, records every call. */
import { closeSync, openSync, readSync } from 'node:fs';
import type { CheckOutput, CheckRequest, DownloadOptions, ExecOptions, ExecResult, Stdin, Transport, UploadOptions } from '../../src/transport/types.js';
import { isFileSlice } from '../../src/transport/stdin.js';

/** A command's stdin as bytes: a file's slice read here, as the SSH transport would send it (test files are small). */
export function stdinBuffer(s: Stdin): Buffer {
  if (!isFileSlice(s)) return Buffer.from(s);
  const out = Buffer.alloc(s.length);
  const fd = openSync(s.file, 'r');
  try {
    for (let at = 0; at < s.length;) {
      const n = readSync(fd, out, at, s.length - at, s.offset + at);
      if (n === 0) throw new Error(`fake: ${s.file} ended at byte ${s.offset + at}`);
      at += n;
    }
  } finally {
    closeSync(fd);
  }
  return out;
}

export type Answer = string | ((call: number) => string);

export class FakeTransport implements Transport {
  readonly calls: { kind: 'check' | 'exec' | 'upload' | 'download'; step: string; detail: string; mutates?: boolean }[] = [];
  /** what download answers, by path */
  readonly files = new Map<string, Buffer>();
  /** what upload received, by destination */
  readonly uploaded = new Map<string, Buffer>();
  /** the bytes each exec carried on stdin (a bundle's, or its rest), in order */
  readonly stdins: Buffer[] = [];
  /** each exec's stdin as the step gave it (a file's slice stays a slice) */
  readonly stdinArgs: Stdin[] = [];
  readonly stats = { roundTrips: 0, bytesSent: 0, bytesReceived: 0 };
  private checkCount = new Map<string, number>();

  constructor(
    private checkAnswers: Record<string, Answer> = {},
    private execAnswer: (script: string, opts: ExecOptions) => ExecResult = () => ({ code: 0, stdout: '', stderr: '' }),
  ) {}

  async exec(script: string, opts: ExecOptions): Promise<ExecResult> {
    this.stats.roundTrips++;
    this.calls.push({ kind: 'exec', step: opts.step, detail: script, mutates: opts.mutates });
    if (opts.stdin !== undefined) { this.stdinArgs.push(opts.stdin); this.stdins.push(stdinBuffer(opts.stdin)); }
    return this.execAnswer(script, opts);
  }

  async upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void> {
    this.stats.roundTrips++;
    this.calls.push({ kind: 'upload', step: opts.step, detail: dest });
    this.uploaded.set(dest, Buffer.from(content));
    opts.onProgress?.(Buffer.byteLength(content), Buffer.byteLength(content));
  }

  async download(path: string, opts: DownloadOptions): Promise<Buffer> {
    this.stats.roundTrips++;
    this.calls.push({ kind: 'download', step: opts.step, detail: path });
    const b = this.files.get(path);
    if (!b) throw new Error(`fake: no file ${path}`);
    // as the SSH transport reads a file back: the bytes so far, the total unknown
    opts.onProgress?.(Math.floor(b.length / 2));
    opts.onProgress?.(b.length);
    return b;
  }

  async checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    this.stats.roundTrips++;
    return checks.map((c) => {
      this.calls.push({ kind: 'check', step: c.step, detail: c.script });
      const n = (this.checkCount.get(c.step) ?? 0) + 1;
      this.checkCount.set(c.step, n);
      const a = this.checkAnswers[c.step];
      return { step: c.step, code: 0, stdout: typeof a === 'function' ? a(n) : a ?? '' };
    });
  }

  async close(): Promise<void> {}

  applied(step?: string): string[] {
    return this.calls.filter((c) => c.kind !== 'check' && (!step || c.step === step)).map((c) => c.detail);
  }
}
