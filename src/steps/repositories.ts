/**
 * Repository files written from the OS family's definitions, with apt's
 * signing keys: the key goes in before the source that names it, so an
 * apt-get update on the way (to install curl) never meets an unsigned repository.
 */
import { dirname } from 'node:path';
import { render } from '../shell/templates.js';
import { kv } from '../shell/kv.js';
import type { Repository } from '../os/types.js';
import type { StepHost } from './types.js';
import type { ManagedFile } from './files.js';

export const repoFile = (r: Repository): ManagedFile => ({ path: r.path, content: r.content, mode: '644' });

/** Read-only snippet: key=PATH=present|untrusted|missing for each key the repositories need. */
export function keysCheck(repos: Repository[]): string {
  const keys = repos.flatMap((r) => (r.key ? [{ path: r.key.path, fingerprints: r.key.fingerprints.join(' ') }] : []));
  return keys.length ? render('common/key-state', { keys }) : '';
}

/** Keys the check found missing, or not signed by a trusted key. */
export function missingKeys(stdout: string, repos: Repository[]): string[] {
  const present = new Set((kv(stdout).get('key') ?? []).filter((l) => l.endsWith('=present')).map((l) => l.slice(0, -'=present'.length)));
  return repos.flatMap((r) => (r.key && !present.has(r.key.path) ? [r.key.path] : []));
}

/** What is wrong with each key missingKeys names: not there, or not a key with a trusted fingerprint. */
export function describeKeys(stdout: string, missing: string[]): string[] {
  const untrusted = new Set((kv(stdout).get('key') ?? []).filter((l) => l.endsWith('=untrusted')).map((l) => l.slice(0, -'=untrusted'.length)));
  return missing.map((k) => (untrusted.has(k) ? `${k} is not a key with a trusted fingerprint` : `${k} missing`));
}

/** The script that fetches a repository's key and installs it only when its fingerprint is trusted. */
export function keyInstallScript(r: Repository & { key: NonNullable<Repository['key']> }, tools: string): string {
  const dir = dirname(r.key.path);
  return tools + render('common/repo-key', {
    keyDir: dir,
    tmpTemplate: `${dir}/.kbootstrap-key.XXXXXX`,
    keyUrl: r.key.url,
    keyPath: r.key.path,
    fingerprints: r.key.fingerprints.join(' '),
  });
}

export async function installKeys(host: StepHost, repos: Repository[], missing: string[]): Promise<void> {
  for (const r of repos) {
    if (r.key && missing.includes(r.key.path)) {
      await host.exec(keyInstallScript({ ...r, key: r.key }, host.os.keyToolsScript()), { mutates: true, timeoutMs: 5 * 60_000, carry: true });
    }
  }
}
