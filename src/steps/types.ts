/**
 * A step is one idempotent part of the procedure, modelled on k0sctl's
 * phases: a title, a read-only check that says whether it must run and why,
 * and an apply that makes it so. Steps talk to hosts only through Host.
 */
import type { ClusterSpec, HostSpec, Inventory } from '../inventory/model.js';
import type { Host } from '../host/host.js';
import type { CheckOutput } from '../transport/types.js';
import type { JoinCredentials } from '../join-credentials.js';
import type { ManagedFile } from './files.js';

export interface StepContext {
  inv: Inventory;
  cluster: ClusterSpec;
  /** the host this step runs on */
  host: Host;
  /** the first control plane (the same object as host when the step runs there) */
  firstControlPlane: Host;
  /** hosts selected for this run (by --only); cluster steps act on these */
  selected: HostSpec[];
  join: JoinCredentials;
  options: { verifyTimeoutSeconds: number };
}

export interface CheckResult {
  done: boolean;
  /** why: what was found, one line, e.g. "fstab line 12 mounts /dev/mapper/centos-swap as swap" */
  reason: string;
  /** what the parser found, for apply to act on only what differs */
  data?: unknown;
}

export interface Step {
  readonly id: string;
  readonly title: string;
  /** Hosts this step runs on (inventory order). */
  hosts(inv: Inventory): HostSpec[];
  /** A reason to skip the step on this host (e.g. SELinux on Debian), or undefined. */
  skip?(ctx: StepContext): string | undefined;
  /** Read-only shell snippet; prints what parse reads. Must not change the host. */
  check(ctx: StepContext): string;
  parse(out: CheckOutput, ctx: StepContext): CheckResult;
  apply(ctx: StepContext, found: CheckResult): Promise<void>;
  /** Files this step owns entirely (for tests and reports). */
  managedFiles?(ctx: StepContext): ManagedFile[];
}

/** key=value lines, as check snippets print them. Repeated keys collect in order. */
export function kv(stdout: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of stdout.split('\n')) {
    const i = line.indexOf('=');
    if (i <= 0) continue;
    const k = line.slice(0, i);
    if (!/^[a-z][a-z0-9_.-]*$/.test(k)) continue;
    const list = m.get(k) ?? [];
    list.push(line.slice(i + 1));
    m.set(k, list);
  }
  return m;
}

export function first(m: Map<string, string[]>, key: string): string | undefined {
  return m.get(key)?.[0];
}

export const allHosts = (inv: Inventory): HostSpec[] => inv.hosts;
export const firstControlPlaneOnly = (inv: Inventory): HostSpec[] => inv.hosts.filter((h) => h.role === 'control-plane').slice(0, 1);
