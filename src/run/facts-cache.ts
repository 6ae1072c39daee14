/**
 * Each host's OS facts as its last run read them, under
 * $XDG_CACHE_HOME/kbootstrap/facts (else ~/.cache/kbootstrap/facts), one file
 * per host (0600 in 0700 directories). They let a run render a host's checks
 * before it has read the host's facts and send them in the connect round trip
 * (src/connect.ts): the facts are read again in that same script, and the
 * checks' output is used only when they are what the checks were rendered
 * for. A cache is never trusted, only guessed from: a missing, unreadable or
 * stale entry costs the round trip it would have saved, never a wrong answer.
 * Facts are no secret (os-release, machine, kernel, cgroup, conntrack module).
 */
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import type { HostSpec } from '../inventory/model.js';
import type { HostFacts } from '../os/types.js';
import { writeFileSafely } from '../local-file.js';

export function factsDir(env: NodeJS.ProcessEnv = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  // the XDG base directory spec: a relative path is invalid and ignored
  return join(xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache'), 'kbootstrap', 'facts');
}

/** The same facts? (every field; the order of keys does not matter) */
export function sameFacts(a: HostFacts, b: HostFacts): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]) as Set<keyof HostFacts>;
  return [...keys].every((k) => a[k] === b[k]);
}

export class FactsCache {
  constructor(private readonly dir = factsDir()) {}

  /** One file per host as this inventory reaches it: its name, address, user and port. */
  private file(spec: HostSpec): string {
    const key = JSON.stringify([spec.name, spec.address, spec.ssh.user, spec.ssh.port, spec.ssh.resolved?.address ?? spec.ssh.target]);
    return join(this.dir, `${createHash('sha256').update(key).digest('hex').slice(0, 32)}.json`);
  }

  get(spec: HostSpec): HostFacts | undefined {
    try {
      const f = JSON.parse(readFileSync(this.file(spec), 'utf8')) as HostFacts;
      return typeof f === 'object' && f !== null && typeof f.family === 'string' && !f.assumed ? f : undefined;
    } catch {
      return undefined;
    }
  }

  /** Remember what the host said; a run never fails for its cache. */
  put(spec: HostSpec, facts: HostFacts): void {
    try {
      for (const d of [join(this.dir, '..'), this.dir]) {
        mkdirSync(d, { recursive: true, mode: 0o700 });
        const st = lstatSync(d);
        if (!st.isDirectory()) return;
        if (st.uid === process.getuid?.() && (st.mode & 0o777) !== 0o700) chmodSync(d, 0o700);
      }
      writeFileSafely(this.file(spec), JSON.stringify(facts) + '\n', { mode: 0o600 });
    } catch {
      // no cache: the next run reads the facts first, as without one
    }
  }
}
