/**
 * The dry run's transport: nothing leaves the machine. Every command is
 * recorded under its step; checks answer "nothing here" so every step's
 * apply is rendered; commands that would print secrets answer with named
 * placeholders. Because steps cannot tell this transport from SSH, a
 * mutation cannot bypass the dry run.
 */
import { createHash } from 'node:crypto';
import type { CheckOutput, CheckRequest, DownloadOptions, ExecOptions, ExecResult, Stdin, Transport, UploadOptions } from './types.js';
import { describeSlice, isFileSlice } from './stdin.js';

export type Recorded =
  | { kind: 'check'; step: string; script: string; sharedWith: string[] }
  | { kind: 'exec'; step: string; script: string; mutates: boolean; note?: string; stdin?: string }
  | { kind: 'upload'; step: string; dest: string; mode: string; owner: string; content: string; note?: string; summary?: string }
  | { kind: 'download'; step: string; path: string; note?: string };

/** What a dry run shows for bytes it cannot print: their size and digest. */
export function binarySummary(content: Buffer): string {
  return `${content.length} bytes, sha256 ${createHash('sha256').update(content).digest('hex')}`;
}

/** Text as it is; bytes by size and digest; a file's slice by size and place, never read (a bundle can be GBs). */
function recordedStdin(s: Stdin | undefined): string | undefined {
  if (typeof s === 'string' || s === undefined) return s;
  return `<${isFileSlice(s) ? describeSlice(s) : binarySummary(s)}>`;
}

export class RecordingTransport implements Transport {
  readonly recorded: Recorded[] = [];
  readonly stats = { roundTrips: 0, bytesSent: 0, bytesReceived: 0 };
  private checked = new Set<string>();

  async exec(script: string, opts: ExecOptions): Promise<ExecResult> {
    this.recorded.push({ kind: 'exec', step: opts.step, script, mutates: opts.mutates, note: opts.note, stdin: recordedStdin(opts.stdin) });
    return { code: 0, stdout: opts.dryRunStdout ?? '', stderr: '' };
  }

  async upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void> {
    // bytes are never printed: a dry run shows their size and digest instead
    const summary = opts.dryRunSummary ?? (typeof content === 'string' ? undefined : binarySummary(content));
    this.recorded.push({ kind: 'upload', step: opts.step, dest, mode: opts.mode, owner: opts.owner ?? 'root:root', content: typeof content === 'string' ? content : '', note: opts.note, summary });
  }

  /** Nothing comes back in a dry run: the read is recorded, and the answer is empty. */
  async download(path: string, opts: DownloadOptions): Promise<Buffer> {
    this.recorded.push({ kind: 'download', step: opts.step, path, note: opts.note });
    return Buffer.alloc(0);
  }

  async checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    // a step's check is shown once, where it first runs; re-checks after an apply are the same script
    for (const c of checks) {
      const key = `${c.step}\0${c.script}`;
      if (this.checked.has(key)) continue;
      this.checked.add(key);
      this.recorded.push({ kind: 'check', step: c.step, script: c.script, sharedWith: c.sharedWith ?? [] });
    }
    return checks.map((c) => ({ step: c.step, code: 0, stdout: '' }));
  }

  async close(): Promise<void> {}
}
