/**
 * An upload rides with the host's next command: upload() keeps the file until
 * the next exec or check batch on the same host, which then starts by writing
 * it (kb_write, the file on stdin as before) and goes on with its own script
 * in the same round trip. A second upload, a command with stdin of its own,
 * or close() sends a kept file alone, as before. A file that cannot be written
 * fails the command that carried it with the upload's own error (host, step,
 * `write DEST`, stderr), and its script does not run: nothing runs after a
 * failed write that would not have run before. A binary upload (a Buffer: an
 * etcd snapshot, the PKI) or one that reports its progress goes alone at once,
 * as does what is kept before a download.
 */
import { RemoteCommandError, tail } from '../transport/remote-error.js';
import { batchBody, parseBatch, writeCommand } from '../shell/prelude.js';
import type { CheckOutput, CheckRequest, DownloadOptions, ExecOptions, ExecResult, Transport, UploadOptions } from '../transport/types.js';

/** printed on stderr by the carrying command when it ends before the file was written */
const NOT_WRITTEN = '@@kbootstrap-not-written';

interface Pending { content: string; dest: string; opts: UploadOptions }

export class CoalescingTransport implements Transport {
  private pending?: Pending;

  constructor(private readonly inner: Transport, private readonly host: string) {}

  get stats(): Transport['stats'] {
    return this.inner.stats;
  }

  private async flush(): Promise<void> {
    const p = this.pending;
    this.pending = undefined;
    if (p) await this.inner.upload(p.content, p.dest, p.opts);
  }

  /**
   * The kept file's write, then `script`, in one command. The write is a plain command under
   * set -e, as alone; an EXIT trap set before it says on stderr when the shell ended first.
   */
  private async carried(p: Pending, script: string, opts: ExecOptions): Promise<ExecResult> {
    this.pending = undefined;
    const head = `trap 'printf "%s\\n" ${NOT_WRITTEN} >&2' EXIT\n${writeCommand(p.dest, p.opts.mode, p.opts.owner)}\ntrap - EXIT\n`;
    const res = await this.inner.exec(`${head}${script}`, { ...opts, stdin: p.content, secrets: [...(opts.secrets ?? []), ...(p.opts.secrets ?? [])] });
    if (res.code !== 0 && res.stderr.includes(NOT_WRITTEN)) {
      throw new RemoteCommandError(this.host, p.opts.step, `write ${p.dest}`, res.code, tail(res.stderr.split('\n').filter((l) => l !== NOT_WRITTEN).join('\n')));
    }
    return res;
  }

  async exec(script: string, opts: ExecOptions): Promise<ExecResult> {
    const p = this.pending;
    if (!p || opts.stdin !== undefined) {
      await this.flush();
      return this.inner.exec(script, opts);
    }
    return this.carried(p, script, opts);
  }

  async upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void> {
    await this.flush();
    if (typeof content !== 'string' || opts.onProgress) return this.inner.upload(content, dest, opts);
    this.pending = { content, dest, opts };
  }

  async download(path: string, opts: DownloadOptions): Promise<Buffer> {
    await this.flush();
    return this.inner.download(path, opts);
  }

  async checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    const p = this.pending;
    if (!p) return this.inner.checkBatch(checks);
    // the checks as the batch runs them: options off, each in its subshell between markers
    const res = await this.carried(p, `set +euo pipefail\n${batchBody(checks)}\n`, { step: checks.length === 1 ? checks[0]!.step : 'checks', mutates: true });
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
