/**
 * Check results, reused until an apply could have changed them. A prepare
 * step's check reads only its own host, so only an apply on that host makes
 * it stale; cluster-wide checks go stale after an apply anywhere.
 */
import type { CheckResult } from '../steps/types.js';

interface Entry {
  result: CheckResult<unknown>;
  at: number;
}

export class CheckCache {
  private readonly entries = new Map<string, Entry>();
  private readonly hostApplies = new Map<string, number>();
  private globalApplies = 0;

  private clock(host: string, clusterWide: boolean): number {
    return clusterWide ? this.globalApplies : this.hostApplies.get(host) ?? 0;
  }

  get(host: string, step: string, clusterWide: boolean): CheckResult<unknown> | undefined {
    const e = this.entries.get(`${host}/${step}`);
    return e && e.at === this.clock(host, clusterWide) ? e.result : undefined;
  }

  set(host: string, step: string, clusterWide: boolean, result: CheckResult<unknown>): void {
    this.entries.set(`${host}/${step}`, { result, at: this.clock(host, clusterWide) });
  }

  /** An apply ran on this host: its checks, and every cluster-wide one, are stale. */
  applied(host: string): void {
    this.hostApplies.set(host, (this.hostApplies.get(host) ?? 0) + 1);
    this.globalApplies++;
  }
}
