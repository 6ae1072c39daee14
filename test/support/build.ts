/**
 * The tests run what a user runs: bin/kbootstrap.js and the bundle in dist/.
 * ensureBuilt() rebuilds it when a source or template is newer (scripts/build.ts
 * --if-stale), under a lock, so test files that start together build it once.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO = resolve(import.meta.dirname, '..', '..');

export function ensureBuilt(): void {
  const lock = join(tmpdir(), `kbootstrap-build-${createHash('sha256').update(REPO).digest('hex').slice(0, 12)}.lock`);
  const tsx = join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const b = spawnSync('flock', [lock, process.execPath, tsx, join(REPO, 'scripts', 'build.ts'), '--if-stale'], { cwd: REPO, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`build failed:\n${b.stdout}${b.stderr}`);
}
