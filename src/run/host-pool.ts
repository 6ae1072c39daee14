/**
 * One connection per host, opened in parallel (bounded), remembered with
 * the reason when it failed, and always closed. `up`, `plan` and the
 * lifecycle commands share it.
 */
import type { HostSpec } from '../inventory/model.js';
import type { Host } from '../host/host.js';
import type { CheckRequest } from '../transport/types.js';
import { KbError } from '../errors.js';
import { pool } from './pool.js';
import { LockHeldError } from './host-lock.js';

/** The checks a host would get first, rendered for a host with these facts (the runner's first batch). */
export type Prefetch = (host: Host) => CheckRequest[];

/** Connect to a host; with a prefetch, the connection may carry the host's first checks (src/connect.ts). */
export type Connect = (h: HostSpec, prefetch?: Prefetch) => Promise<Host>;

export class HostPool {
  private readonly hosts = new Map<string, Host>();
  private readonly errors = new Map<string, string>();
  /** hosts another kbootstrap run holds the lock of */
  private readonly locked = new Set<string>();

  constructor(private readonly connectOne: (h: HostSpec) => Promise<Host>, private readonly concurrency: number) {}

  /** Connect to every host not yet connected; `each` hears of every attempt. */
  async open(specs: readonly HostSpec[], each?: (name: string, ms: number, error?: string) => void): Promise<void> {
    await pool(specs.filter((s) => !this.hosts.has(s.name)), this.concurrency, async (s) => {
      const t0 = Date.now();
      try {
        this.hosts.set(s.name, await this.connectOne(s));
        this.errors.delete(s.name);
        this.locked.delete(s.name);
        each?.(s.name, Date.now() - t0);
      } catch (e) {
        const msg = (e as Error).message;
        this.errors.set(s.name, msg);
        if (e instanceof LockHeldError) this.locked.add(s.name);
        each?.(s.name, Date.now() - t0, msg);
      }
    });
  }

  get(name: string): Host | undefined {
    return this.hosts.get(name);
  }

  /** The connected host, or an error that says why it is not connected. */
  require(name: string): Host {
    const h = this.hosts.get(name);
    if (!h) throw new KbError(`${name} is not connected${this.errors.has(name) ? `: ${this.errors.get(name)}` : ''}`);
    return h;
  }

  error(name: string): string | undefined {
    return this.errors.get(name);
  }

  /** Hosts whose run lock another kbootstrap holds: a run that changes hosts must not start. */
  get lockedNames(): string[] {
    return [...this.locked];
  }

  get connected(): Host[] {
    return [...this.hosts.values()];
  }

  async closeAll(): Promise<void> {
    await Promise.all([...this.hosts.values()].map((h) => h.transport.close().catch(() => undefined)));
  }
}
