/**
 * The log of a run on the operator's machine: every command sent to a host
 * with its step, exit code, stdout and stderr, the run's events and its end,
 * redacted with the run's Redactor (join tokens, CA hashes, certificate
 * keys, passwords; output a command marks secret is never written). One file
 * per run under $XDG_CACHE_HOME/kbootstrap/logs (else ~/.cache/kbootstrap/logs),
 * mode 0600 in 0700 directories, the newest LOG_KEEP kept; written
 * synchronously so a killed run leaves everything up to the kill.
 */
import { chmodSync, closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { Redactor } from '../redact.js';
import { stdinBytes } from '../transport/stdin.js';
import type { CheckOutput, CheckRequest, DownloadOptions, ExecOptions, ExecResult, Transport, UploadOptions } from '../transport/types.js';

/** log files kept (the oldest go first) */
export const LOG_KEEP = 20;
/** per stream of one command */
const STREAM_MAX = 256 * 1024;
/** per file: past it, commands are logged without their output */
const FILE_MAX = 64 * 1024 * 1024;

export function logDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // the XDG base directory spec: a relative path is invalid and ignored
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'kbootstrap', 'logs');
}

/** mkdir -m 0700, and 0700 again when it exists as our own directory (not through a symlink). */
function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  if (!st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (st.uid === process.getuid?.() && (st.mode & 0o777) !== 0o700) chmodSync(dir, 0o700);
}

const indent = (s: string): string => s.replace(/\n$/, '').split('\n').map((l) => `    ${l}`).join('\n');

export class RunLog {
  readonly redactor: Redactor;
  private size = 0;
  private closed = false;
  /** Whether anything about a host was written (a command, a connection); a log without it is removed on close. */
  used = false;

  private constructor(readonly path: string, private readonly fd: number, redactor: Redactor) {
    this.redactor = redactor;
  }

  /** Open this run's log; undefined (and why) when it cannot be written: a run never fails for its log. */
  static open(argv: string[], redactor = new Redactor(), env: NodeJS.ProcessEnv = process.env, now = new Date()): { log?: RunLog; error?: string } {
    const dir = logDir(env);
    try {
      privateDir(join(dir, '..'));
      privateDir(dir);
      const stamp = now.toISOString().replace(/[:.]/g, '-');
      const old = readdirSync(dir).filter((f) => /^kbootstrap-.*\.log$/.test(f)).sort();
      for (const f of old.slice(0, Math.max(0, old.length - (LOG_KEEP - 1)))) rmSync(join(dir, f), { force: true });
      const path = join(dir, `kbootstrap-${stamp}-${process.pid}.log`);
      const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
      fchmodSync(fd, 0o600);
      const log = new RunLog(path, fd, redactor);
      log.write(`# kbootstrap ${argv.join(' ')}\n# started ${now.toISOString()} by pid ${process.pid}\n`);
      return { log };
    } catch (e) {
      return { error: `no run log in ${dir}: ${(e as Error).message}` };
    }
  }

  private write(text: string): void {
    if (this.closed) return;
    const t = this.redactor.redact(text);
    try {
      this.size += writeSync(this.fd, t);
    } catch {
      this.closed = true;
    }
  }

  private stream(name: string, s: string): string {
    if (!s) return '';
    const cut = s.length > STREAM_MAX ? `${s.slice(0, STREAM_MAX)}\n[${s.length - STREAM_MAX} more characters not logged]` : s;
    return `  ${name}:\n${indent(cut)}\n`;
  }

  /** A line of the run; `host`: it is about a host (a connection that failed), which makes the log worth keeping. */
  note(line: string, o: { host?: boolean } = {}): void {
    if (o.host) this.used = true;
    this.write(`${new Date().toISOString()} ${line}\n`);
  }

  command(e: { host: string; step: string; what: string; script: string; ms: number; code?: number; stdout?: string; stderr?: string; hidden?: boolean; error?: string }): void {
    this.used = true;
    const head = `${new Date().toISOString()} ${e.host} [${e.step}] ${e.what}: ${e.error ? 'error' : `exit ${e.code}`} (${e.ms} ms)\n`;
    const big = this.size > FILE_MAX;
    const body = big ? '  (output not logged: the log is over its size limit)\n'
      : `  command:\n${indent(e.script)}\n`
        + (e.hidden ? '  (output hidden: it may contain secrets)\n' : this.stream('stdout', e.stdout ?? '') + this.stream('stderr', e.stderr ?? ''))
        + (e.error ? `  error: ${e.error}\n` : '');
    this.write(head + body);
  }

  close(line?: string): void {
    if (line) this.note(line);
    if (this.closed) return;
    this.closed = true;
    try { closeSync(this.fd); } catch { /* already gone */ }
    // a command that never reached a host (bad input, Ctrl-C at a confirmation) leaves no log behind
    if (!this.used) rmSync(this.path, { force: true });
  }
}

/** A host's transport that writes every command and its outcome to the run log. */
export class LoggedTransport implements Transport {
  constructor(private readonly inner: Transport, private readonly host: string, private readonly log: RunLog) {}

  get stats(): Transport['stats'] {
    return this.inner.stats;
  }

  async exec(script: string, opts: ExecOptions): Promise<ExecResult> {
    this.log.redactor.add(...(opts.secrets ?? []));
    const t0 = Date.now();
    const what = `${opts.mutates ? 'change' : 'read'}${opts.stdin ? ` (${typeof opts.stdin === 'string' ? `${opts.stdin.length} characters` : `${stdinBytes(opts.stdin)} bytes`} on stdin, not logged)` : ''}`;
    try {
      const r = await this.inner.exec(script, opts);
      this.log.command({ host: this.host, step: opts.step, what, script, ms: Date.now() - t0, code: r.code, stdout: r.stdout, stderr: r.stderr, hidden: opts.secretOutput });
      return r;
    } catch (e) {
      this.log.command({ host: this.host, step: opts.step, what, script, ms: Date.now() - t0, error: (e as Error).message, hidden: opts.secretOutput });
      throw e;
    }
  }

  async upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void> {
    this.log.redactor.add(...(opts.secrets ?? []));
    const t0 = Date.now();
    const size = typeof content === 'string' ? `${content.length} characters` : `${content.length} bytes`;
    const entry = { host: this.host, step: opts.step, what: `upload ${dest} (mode ${opts.mode}, ${size}, content not logged)`, script: `write ${dest}` };
    try {
      await this.inner.upload(content, dest, opts);
      this.log.command({ ...entry, ms: Date.now() - t0, code: 0 });
    } catch (e) {
      this.log.command({ ...entry, ms: Date.now() - t0, error: (e as Error).message });
      throw e;
    }
  }

  async download(path: string, opts: DownloadOptions): Promise<Buffer> {
    const t0 = Date.now();
    const entry = { host: this.host, step: opts.step, what: `download ${path} (content not logged)`, script: `read ${path}` };
    try {
      const b = await this.inner.download(path, opts);
      this.log.command({ ...entry, what: `download ${path} (${b.length} bytes, content not logged)`, ms: Date.now() - t0, code: 0 });
      return b;
    } catch (e) {
      this.log.command({ ...entry, ms: Date.now() - t0, error: (e as Error).message });
      throw e;
    }
  }

  async checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    const t0 = Date.now();
    const step = checks.map((c) => c.step).join(',');
    try {
      const outs = await this.inner.checkBatch(checks);
      for (const [i, c] of checks.entries()) {
        const o = outs[i];
        this.log.command({ host: this.host, step: c.step, what: `check${c.sharedWith?.length ? ` (shared with ${c.sharedWith.join(', ')})` : ''}`, script: c.script, ms: i === 0 ? Date.now() - t0 : 0, code: o?.code, stdout: o?.stdout });
      }
      return outs;
    } catch (e) {
      this.log.command({ host: this.host, step, what: `checks (${checks.length})`, script: checks.map((c) => c.script).join('\n'), ms: Date.now() - t0, error: (e as Error).message });
      throw e;
    }
  }

  async close(): Promise<void> {
    await this.inner.close();
  }
}
