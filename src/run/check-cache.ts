/**
 * Check results, reused until an apply could have changed them. A host's
 * own check reads only that host, and goes stale only when an apply on that
 * host could change what it reads: the applied step's own, and those of the
 * steps that require it (Step.requires, followed through: sysctl reads the
 * bridge settings kernel-modules loads). Cluster-wide checks read the
 * cluster, which any apply anywhere may change: they go stale after every
 * apply.
 */
import type { CheckResult } from '../steps/types.js';

interface Entry {
  result: CheckResult<unknown>;
  /** the cluster-wide clock when it was read */
  at: number;
  stale: boolean;
}

/** Every step that requires `id`, directly or through others. */
export function dependentsOf(steps: readonly { id: string; requires: readonly string[] }[]): (id: string) => ReadonlySet<string> {
  const direct = new Map<string, string[]>();
  for (const s of steps) for (const r of s.requires) direct.set(r, [...(direct.get(r) ?? []), s.id]);
  const memo = new Map<string, Set<string>>();
  const of = (id: string): Set<string> => {
    let out = memo.get(id);
    if (out) return out;
    out = new Set();
    memo.set(id, out);
    for (const d of direct.get(id) ?? []) {
      out.add(d);
      for (const dd of of(d)) out.add(dd);
    }
    return out;
  };
  return of;
}

export class CheckCache {
  private readonly entries = new Map<string, Entry>();
  private globalApplies = 0;

  constructor(private readonly dependents: (step: string) => ReadonlySet<string>) {}

  get(host: string, step: string, clusterWide: boolean): CheckResult<unknown> | undefined {
    const e = this.entries.get(`${host}/${step}`);
    if (!e || e.stale || (clusterWide && e.at !== this.globalApplies)) return undefined;
    return e.result;
  }

  /** How many applies there have been anywhere: take it before a read, and give it to set(). */
  clock(): number {
    return this.globalApplies;
  }

  /**
   * A check's result, read after `readAt` applies: an apply elsewhere while it was being read
   * leaves it stale for a cluster-wide check (it may not show that apply).
   */
  set(host: string, step: string, result: CheckResult<unknown>, readAt: number): void {
    this.entries.set(`${host}/${step}`, { result, at: readAt, stale: false });
  }

  /** The steps whose checks an apply of `step` makes stale (besides cluster-wide ones). */
  dependentsOn(step: string): ReadonlySet<string> {
    return this.dependents(step);
  }

  /** `step` applied on this host: its check, its dependents' on this host, and every cluster-wide one are stale. */
  applied(host: string, step: string): void {
    this.globalApplies++;
    for (const s of [step, ...this.dependents(step)]) {
      const e = this.entries.get(`${host}/${s}`);
      if (e) e.stale = true;
    }
  }
}
