/**
 * Small file systems for the write-failure tests: a full tmpfs (ENOSPC) and a
 * read-only one (EROFS). Mounting needs root; without it the tests say why
 * they skip.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const mountSkip = process.getuid?.() !== 0 ? 'not root: cannot mount a small tmpfs' : '';

/** A 16 KiB tmpfs, filled to the last byte when full; run fn inside it, unmount after. */
export async function withTmpfs<T>(how: 'full' | 'read-only', fn: (dir: string) => T | Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=16k,mode=0755${how === 'read-only' ? ',ro' : ''}`, 'tmpfs', dir]);
  try {
    if (how === 'full') {
      const fd = openSync(join(dir, 'filler'), 'w');
      try {
        for (;;) writeSync(fd, Buffer.alloc(1024, 1));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
      } finally {
        closeSync(fd);
      }
    }
    return await fn(dir);
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
}

