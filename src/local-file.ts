/**
 * Files kbootstrap writes on the operator's machine (kubeconfig -o / --merge,
 * render -o, init): written whole or not at all, never through a link, and
 * every failure one line that names the path (exit 2: the path came from the
 * user).
 *
 * A file goes to a random temporary name in the target's directory, created
 * exclusively and without following links (O_CREAT|O_EXCL|O_NOFOLLOW), then
 * is written, flushed to disk and renamed over the target. rename(2) replaces
 * a link at the target instead of writing through it; a name planted where
 * the temporary file goes makes the open fail, not the write follow it. On
 * any error the temporary file is removed.
 */
import { chmodSync, closeSync, constants, fchmodSync, fsyncSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './errors.js';

const IO_WHY: Record<string, string> = {
  EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded', EEXIST: 'a file is in the way', ENOTDIR: 'a path component is a file, not a directory', EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links', EIO: 'input/output error',
};

/** A file system error as one line that names the path: exit 2, since the path came from the user. */
export function writeError(what: string, path: string, e: unknown): UsageError {
  const err = e as NodeJS.ErrnoException;
  const why = err.code === 'ENOENT' ? `no such directory ${dirname(path)}` : (err.code && IO_WHY[err.code]) ?? err.message;
  return new UsageError(`${what} ${path}: ${why}`);
}

/**
 * mkdir -p, one level at a time: Node's recursive mkdir loops forever on some
 * pseudo file systems (under /proc it keeps getting ENOENT for a parent that exists).
 * New directories get `mode` (before the umask).
 */
export function makeDirs(dir: string, mode = 0o777): void {
  const missing: string[] = [];
  let cur = resolve(dir);
  for (;;) {
    let st;
    try { st = statSync(cur); } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw writeError('cannot create directory', dir, e);
      missing.unshift(cur);
      const up = dirname(cur);
      if (up === cur) break;
      cur = up;
      continue;
    }
    if (!st.isDirectory()) throw new UsageError(`cannot create directory ${dir}: ${cur} is a file, not a directory`);
    break;
  }
  for (const d of missing) {
    try { mkdirSync(d, mode); } catch (e) {
      // ENOENT for a directory whose parent exists: a pseudo file system (/proc, /sys) that takes no new directories
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new UsageError(`cannot create directory ${d}: ${dirname(d)} does not take new directories`);
      throw writeError('cannot create directory', d, e);
    }
  }
}

/** Something at this name, a dangling link included (existsSync follows links and says no to those). */
export function nameTaken(path: string): boolean {
  try { lstatSync(path); return true; } catch { return false; }
}

/** A file's text, or undefined when nothing is there; any other failure is one line, exit 2. */
export function readIfThere(path: string, what = 'cannot read'): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw writeError(what, path, e);
  }
}

export interface WriteOptions {
  /**
   * The file's mode. 0600 is set exactly (fchmod, whatever the umask): it holds a
   * secret. Any other mode is masked by the umask, as a new file would be.
   */
  mode: number;
}

/** Replace `path` with `text`: whole or not at all, never through a link (see the top of this file). */
export function writeFileSafely(path: string, text: string | Buffer, o: WriteOptions): void {
  const secret = o.mode === 0o600;
  const tmp = join(dirname(path), `.${basename(path)}.kbootstrap-${randomBytes(8).toString('hex')}`);
  let fd: number | undefined;
  let created = false;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, secret ? 0o600 : o.mode);
    created = true;
    if (secret) fchmodSync(fd, 0o600);
    const data = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
    for (let off = 0; off < data.length;) off += writeSync(fd, data, off, data.length - off);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) { try { closeSync(fd); } catch { /* already failing; the first error is the one to report */ } }
    if (created) { try { unlinkSync(tmp); } catch { /* nothing more to do: the error below names the path */ } }
    throw writeError('cannot write', path, e);
  }
}

/** chmod a file already in place (an up-to-date kubeconfig still ends 0600); one line, exit 2, when it cannot be. */
export function setMode(path: string, mode: number): void {
  try { chmodSync(path, mode); } catch (e) { throw writeError('cannot change the mode of', path, e); }
}
