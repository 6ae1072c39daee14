/**
 * The run lock: one kbootstrap that changes hosts at a time, per host
 * (templates/host/lock.sh.hbs). It is taken in the same round trip as the
 * OS facts, names its holder (command, user, machine, pid, since when) and
 * the holder's SSH connection, and is valid only while that connection
 * lives: a holder killed with -9 leaves a stale lock the next run takes over.
 * Before a run's first change to a host the lock is marked "changing"; such
 * a lock is released when the run closes the host, so a stale one means the
 * run was cut off mid-change, which the next run says. A run that only read
 * needs no release: its lock ends with its connection.
 */
import { hostname, userInfo } from 'node:os';
import { render } from '../shell/templates.js';
import { KbError } from '../errors.js';
import type { CheckOutput, CheckRequest, DownloadOptions, ExecOptions, ExecResult, Transport, UploadOptions } from '../transport/types.js';

export const LOCK_DIR = '/run/kbootstrap';

/** take: up, upgrade, reset (they change hosts); observe: read-only commands, which only warn. */
export type LockMode = 'take' | 'observe';

export interface LockHolder { command: string; user: string; machine: string; pid: number; since: string }

export interface LockRequest { mode: LockMode; me: LockHolder }

export class LockHeldError extends KbError {}

export function thisRun(command: string, since = new Date()): LockHolder {
  let user = process.env.USER ?? '';
  try { user = userInfo().username; } catch { /* no passwd entry: keep $USER */ }
  return { command, user: user || 'unknown', machine: hostname(), pid: process.pid, since: since.toISOString().replace(/\.\d+Z$/, 'Z') };
}

/** One line of the lock file per field; what a host sends back is shown, so it is kept printable and short. */
// eslint-disable-next-line no-control-regex -- control characters are what it removes
const clean = (s: string): string => s.replace(/[\x00-\x1f\x7f-\x9f]/g, '?').slice(0, 120);

/** The lock's part of the facts script. */
export function lockScript(req: LockRequest): string {
  const m = req.me;
  const holder = Object.entries({ command: m.command, user: m.user, machine: m.machine, pid: String(m.pid), since: m.since }).map(([k, v]) => `${k}=${clean(v)}`);
  return render('host/lock', { dir: LOCK_DIR, holder, take: req.mode === 'take', observe: req.mode === 'observe' });
}

export const markChangingScript = (): string => render('host/lock', { dir: LOCK_DIR, changing: true });
export const releaseScript = (): string => render('host/lock', { dir: LOCK_DIR, release: true });

export interface LockAnswer {
  status: 'taken' | 'held' | 'stale-taken' | 'free' | 'error' | 'missing';
  /** the other holder's fields (held, or the stale one taken over) */
  holder: Record<string, string>;
}

export function parseLockAnswer(stdout: string): LockAnswer {
  const holder: Record<string, string> = {};
  let status: LockAnswer['status'] = 'missing';
  let stale = false;
  for (const line of stdout.split('\n')) {
    const s = /^KB_LOCK=(\w+)/.exec(line);
    if (s) {
      if (s[1] === 'stale') stale = true;
      else status = s[1] as LockAnswer['status'];
      continue;
    }
    const h = /^KB_LOCK_HOLDER_([a-z]+)=(.*)$/.exec(line);
    if (h) holder[h[1]!] = clean(h[2]!);
  }
  if (status === 'taken' && stale) status = 'stale-taken';
  return { status, holder };
}

/** "kbootstrap up by alice@laptop (pid 4242) since 2026-12-05T10:00:00Z" */
export function describeHolder(h: Record<string, string>): string {
  return `kbootstrap ${h.command ?? '?'} by ${h.user ?? '?'}@${h.machine ?? '?'} (pid ${h.pid ?? '?'}) since ${h.since ?? '?'}`;
}

/**
 * What connecting with a lock request means for this host: an error to
 * throw (held by a live run, or not taken), or a warning to pass on.
 */
export function judgeLock(name: string, req: LockRequest, a: LockAnswer): { error?: KbError; warning?: string } {
  if (req.mode === 'observe') {
    return a.status === 'held' ? { warning: `${name}: ${describeHolder(a.holder)} holds the run lock: what this shows may change under it` } : {};
  }
  if (a.status === 'held') {
    return { error: new LockHeldError(`${name}: locked by ${describeHolder(a.holder)}, whose connection is still open; nothing was changed. Wait for that run to end (the lock goes with its SSH connection)`) };
  }
  if (a.status === 'stale-taken') {
    // a run that only read needs no release: only a cut-off change is news
    return a.holder.state === 'changing' ? { warning: `${name}: took over the run lock of ${describeHolder(a.holder)}: that run ended while it was changing this host (killed, or its connection lost); this run picks up where it stopped` } : {};
  }
  if (a.status !== 'taken') return { error: new KbError(`${name}: cannot take the run lock in ${LOCK_DIR} (${a.status === 'missing' ? 'no answer' : 'the lock script failed'})`) };
  return {};
}

/**
 * The transport of a host whose lock this run holds: marks the lock
 * "changing" before the first change (in the same round trip when that
 * change is a command), and releases it on close when it did.
 */
export class LockedTransport implements Transport {
  private changing = false;

  constructor(private readonly inner: Transport) {}

  get stats(): Transport['stats'] {
    return this.inner.stats;
  }

  exec(script: string, opts: ExecOptions): Promise<ExecResult> {
    if (!opts.mutates || this.changing) return this.inner.exec(script, opts);
    this.changing = true;
    return this.inner.exec(`${markChangingScript()}${script}`, opts);
  }

  download(path: string, opts: DownloadOptions): Promise<Buffer> {
    return this.inner.download(path, opts);
  }

  async upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void> {
    if (!this.changing) {
      this.changing = true;
      const r = await this.inner.exec(markChangingScript(), { step: opts.step, mutates: true });
      if (r.code !== 0) throw new KbError(`${opts.step}: ${r.stderr.trim() || 'cannot mark the run lock'}`);
    }
    return this.inner.upload(content, dest, opts);
  }

  checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    return this.inner.checkBatch(checks);
  }

  async close(): Promise<void> {
    if (this.changing) {
      try {
        await this.inner.exec(releaseScript(), { step: 'unlock', mutates: true, timeoutMs: 30_000 });
      } catch {
        // a lost connection ends the lock anyway; the next run says it took it over
      }
    }
    await this.inner.close();
  }
}
