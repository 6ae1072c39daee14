/**
 * An upload rides with the host's next command: upload() keeps the file until
 * the next exec or check batch on the same host, which then starts by writing
 * it (kb_write, the file on stdin as before) and goes on with its own script
 * in the same round trip. A second upload, a command with stdin of its own,
 * or close() sends a kept file alone, as before. A file that cannot be written
 * fails the command that carried it with the upload's own error (host, step,
 * `write DEST`, stderr), and its script does not run: nothing runs after a
 * failed write that would not have run before.
 */
import { RemoteCommandError, tail } from '../transport/remote-error.js';
import { batchBody, parseBatch, writeCommand } from '../shell/prelude.js';
import type { CheckOutput, CheckRequest, ExecOptions, ExecResult, Transport, UploadOptions } from '../transport/types.js';

const WRITTEN = '@@kbootstrap-written';

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

  /** The kept file's write, then `script`, in one command; its stdout is what came after the write. */
  private async carried(p: Pending, script: string, opts: ExecOptions): Promise<ExecResult> {
    this.pending = undefined;
    const head = `${writeCommand(p.dest, p.opts.mode, p.opts.owner)}\nprintf '%s\\n' '${WRITTEN}'\n`;
    const res = await this.inner.exec(`${head}${script}`, { ...opts, stdin: p.content, secrets: [...(opts.secrets ?? []), ...(p.opts.secrets ?? [])] });
    const mark = res.stdout.startsWith(`${WRITTEN}\n`) ? 0 : res.stdout.indexOf(`\n${WRITTEN}\n`);
    if (mark < 0) throw new RemoteCommandError(this.host, p.opts.step, `write ${p.dest}`, res.code || 1, tail(res.stderr));
    return { ...res, stdout: res.stdout.slice(mark === 0 ? WRITTEN.length + 1 : mark + WRITTEN.length + 2) };
  }

  async exec(script: string, opts: ExecOptions): Promise<ExecResult> {
    const p = this.pending;
    if (!p || opts.stdin !== undefined) {
      await this.flush();
      return this.inner.exec(script, opts);
    }
    return this.carried(p, script, opts);
  }

  async upload(content: string, dest: string, opts: UploadOptions): Promise<void> {
    await this.flush();
    this.pending = { content, dest, opts };
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
