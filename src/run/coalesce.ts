/**
 * What a step sends without reading the result rides with the host's next
 * command. upload() keeps the file, and exec() with `carry` keeps the command
 * (its caller reads nothing but success: src/transport/types.ts), until the
 * next exec or check batch on the same host, which then starts with them, in
 * their order, and goes on with its own script in the same round trip. Each
 * kept part runs as it would alone: a write is kb_write under set -e (the file
 * on stdin, as before); a command runs in its own subshell under the same
 * set -euo pipefail, stdin from /dev/null (alone, its stdin was empty). An
 * EXIT trap names the part that was running when the shell ended: a part that
 * fails fails the command that carried it with that part's own error (host,
 * its step, `write DEST` or its script, its own stderr), and nothing after it
 * runs: nothing runs after a failure that would not have run before.
 *
 * One stdin per round trip: a second upload, or a command with stdin of its
 * own, sends what is kept when a kept upload already holds the stdin (alone,
 * as before, when it is a single upload). A binary upload (a Buffer: an etcd
 * snapshot, the PKI) or one that reports its progress goes at once, after
 * what is kept, as does what is kept before a download or close().
 */
import { RemoteCommandError, tail } from '../transport/remote-error.js';
import { batchBody, parseBatch, writeCommand } from '../shell/prelude.js';
import type { CheckOutput, CheckRequest, DownloadOptions, ExecOptions, ExecResult, Transport, UploadOptions } from '../transport/types.js';

/** printed on stdout and stderr before each kept part: `MARK N` */
const PART = '@@kbootstrap-part';
/** printed on stderr by the EXIT trap when the shell ended inside kept part N: `MARK N` */
const STOPPED = '@@kbootstrap-stopped';
/** printed on stdout and stderr after the kept parts: what follows is the carrying command's own */
const OWN = '@@kbootstrap-own';

type Part =
  | { kind: 'upload'; content: string; dest: string; opts: UploadOptions }
  | { kind: 'exec'; script: string; opts: ExecOptions };

const OK: ExecResult = { code: 0, stdout: '', stderr: '' };

/**
 * The script travels as one argument of `bash -c` (src/shell/command-line.ts), and Linux caps one
 * argument at MAX_ARG_STRLEN, 32 pages = 128 KiB (execve(2), "Limits on size of arguments and
 * environment"): past this many characters of scripts, what is kept goes first, on its own.
 */
const SCRIPT_MAX = 64 * 1024;

/** The text after the last line `mark` (the whole text when there is none). */
function after(text: string, mark: string): string {
  const i = text.lastIndexOf(`\n${mark}\n`);
  if (i >= 0) return text.slice(i + mark.length + 2);
  return text.startsWith(`${mark}\n`) ? text.slice(mark.length + 1) : text;
}

/** What part `i` printed on one stream: between its marker and the next marker of any kind. */
function partOutput(text: string, i: number): string {
  const own = after(text, `${PART} ${i}`);
  const next = own.search(new RegExp(`(^|\\n)(${PART}|${STOPPED}|${OWN})( |\\n|$)`));
  return next < 0 ? own : own.slice(0, next);
}

export class CoalescingTransport implements Transport {
  private pending: Part[] = [];

  /** `defaultTimeoutMs`: the limit the inner transport gives a command without its own (a kept command's share of the round trip's) */
  constructor(private readonly inner: Transport, private readonly host: string, private readonly defaultTimeoutMs = 600_000) {}

  get stats(): Transport['stats'] {
    return this.inner.stats;
  }

  private keepsStdin(): boolean {
    return this.pending.some((p) => p.kind === 'upload');
  }

  /** Would what is kept and `script` make too long a command? */
  private tooLong(script: string): boolean {
    return this.pending.reduce((n, p) => n + (p.kind === 'exec' ? p.script.length : 0), script.length) > SCRIPT_MAX;
  }

  /** Send what is kept: a single upload alone, as before; else the parts in one command. */
  private async flush(): Promise<void> {
    const parts = this.pending;
    this.pending = [];
    const only = parts.length === 1 ? parts[0]! : undefined;
    if (only?.kind === 'upload') return this.inner.upload(only.content, only.dest, only.opts);
    if (parts.length) await this.carried(parts, '', { step: parts.at(-1)!.opts.step, mutates: true });
  }

  /**
   * The kept parts, then `script`, in one command. The EXIT trap, set before the first part and
   * cleared after the last, says on stderr which part was running when the shell ended.
   */
  private async carried(parts: Part[], script: string, opts: ExecOptions): Promise<ExecResult> {
    this.pending = [];
    const both = (mark: string) => `printf '\\n%s\\n' '${mark}'\nprintf '\\n%s\\n' '${mark}' >&2`;
    const lines = [`trap 'printf "\\n%s %s\\n" ${STOPPED} "$kb_carried" >&2' EXIT`];
    parts.forEach((p, i) => {
      lines.push(`kb_carried=${i}`, both(`${PART} ${i}`));
      lines.push(p.kind === 'upload' ? writeCommand(p.dest, p.opts.mode, p.opts.owner) : `(\n${p.script.trimEnd()}\n) </dev/null`);
    });
    lines.push('trap - EXIT', both(OWN));
    const execs = parts.flatMap((p) => (p.kind === 'exec' ? [p.opts] : []));
    const upload = parts.find((p) => p.kind === 'upload');
    const secrets = [...(opts.secrets ?? []), ...parts.flatMap((p) => p.opts.secrets ?? [])];
    const res = await this.inner.exec(`${lines.join('\n')}\n${script}`, {
      ...opts,
      ...(upload ? { stdin: upload.content } : {}),
      // each command keeps the time it had alone
      ...(execs.length ? { timeoutMs: [...execs, opts].reduce((sum, o) => sum + (o.timeoutMs ?? this.defaultTimeoutMs), 0) } : {}),
      ...(secrets.length ? { secrets } : {}),
      carry: false,
    });
    const stopped = res.code !== 0 ? new RegExp(`(^|\\n)${STOPPED} (\\d+)(\\n|$)`).exec(res.stderr) : null;
    if (stopped) {
      const i = Number(stopped[2]);
      const p = parts[i]!;
      const stderr = partOutput(res.stderr, i);
      if (p.kind === 'upload') throw new RemoteCommandError(this.host, p.opts.step, `write ${p.dest}`, res.code, tail(stderr));
      // the words Host.exec uses for a command that fails alone
      throw new RemoteCommandError(this.host, p.opts.step, p.opts.note ? `${p.opts.note}: ${p.script}` : p.script, res.code,
        p.opts.secretOutput ? '(output hidden: it may contain secrets)' : tail(stderr || partOutput(res.stdout, i)));
    }
    return { ...res, stdout: after(res.stdout, OWN), stderr: after(res.stderr, OWN) };
  }

  async exec(script: string, opts: ExecOptions): Promise<ExecResult> {
    if (opts.carry && opts.stdin === undefined && !opts.onProgress) {
      if (this.tooLong(script)) await this.flush();
      this.pending.push({ kind: 'exec', script, opts });
      return OK;
    }
    if ((opts.stdin !== undefined && this.keepsStdin()) || this.tooLong(script)) await this.flush();
    if (!this.pending.length) return this.inner.exec(script, opts);
    return this.carried(this.pending, script, opts);
  }

  async upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void> {
    if (typeof content !== 'string' || opts.onProgress) {
      await this.flush();
      return this.inner.upload(content, dest, opts);
    }
    if (this.keepsStdin()) await this.flush();
    this.pending.push({ kind: 'upload', content, dest, opts });
  }

  async download(path: string, opts: DownloadOptions): Promise<Buffer> {
    await this.flush();
    return this.inner.download(path, opts);
  }

  async checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    if (!this.pending.length) return this.inner.checkBatch(checks);
    // the checks as the batch runs them: options off, each in its subshell between markers
    const res = await this.carried(this.pending, `set +euo pipefail\n${batchBody(checks)}\n`, { step: checks.length === 1 ? checks[0]!.step : 'checks', mutates: true });
    return parseBatch(checks, res.stdout);
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.inner.close();
    }
  }
}
