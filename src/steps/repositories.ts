/**
 * Repository files written from the OS family's definitions, with apt's
 * signing keys: the key goes in before the source that names it, so an
 * apt-get update on the way (to install curl) never meets an unsigned repository.
 */
import { render } from '../shell/templates.js';
import { kv } from '../shell/kv.js';
import type { Repository } from '../os/types.js';
import type { StepHost } from './types.js';
import type { ManagedFile } from './files.js';

export const repoFile = (r: Repository): ManagedFile => ({ path: r.path, content: r.content, mode: '644' });

/** Read-only snippet: key=PATH=present|missing for each key the repositories need. */
export function keysCheck(repos: Repository[]): string {
  const paths = repos.flatMap((r) => (r.key ? [r.key.path] : []));
  return paths.length ? render('common/key-state', { paths }) : '';
}

/** Keys the check found missing. */
export function missingKeys(stdout: string, repos: Repository[]): string[] {
  const present = new Set((kv(stdout).get('key') ?? []).filter((l) => l.endsWith('=present')).map((l) => l.slice(0, -'=present'.length)));
  return repos.flatMap((r) => (r.key && !present.has(r.key.path) ? [r.key.path] : []));
}

export async function installKeys(host: StepHost, repos: Repository[], missing: string[]): Promise<void> {
  for (const r of repos) {
    if (r.key && missing.includes(r.key.path)) {
      await host.exec(render('apt/key', { keyPath: r.key.path, keyUrl: r.key.url }), { mutates: true, timeoutMs: 5 * 60_000 });
    }
  }
}
