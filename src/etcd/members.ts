/**
 * etcd membership as `etcdctl member list -w simple` and `etcdctl endpoint
 * health --cluster -w simple` print it, and the quorum rule: a cluster of n
 * members needs floor(n/2)+1 of them healthy to accept writes
 * (https://etcd.io/docs/v3.5/faq/#what-is-failure-tolerance, read 2026-12-07).
 */
import type { EtcdMember } from './archive.js';

/** Lines of `member list -w simple`: ID, status, name, peer URLs, client URLs, is learner. */
export function parseMembers(lines: string[]): EtcdMember[] {
  const out: EtcdMember[] = [];
  for (const line of lines) {
    const f = line.split(',').map((s) => s.trim());
    if (f.length < 5 || !/^[0-9a-f]+$/.test(f[0]!)) continue;
    out.push({ id: f[0]!, name: f[2]!, peerUrls: f[3]!.split(/\s+|;/).filter(Boolean), clientUrls: f[4]!.split(/\s+|;/).filter(Boolean) });
  }
  return out;
}

/** Client URLs `endpoint health --cluster` called healthy. */
export function healthyEndpoints(lines: string[]): Set<string> {
  const ok = new Set<string>();
  for (const l of lines) {
    const m = /^(\S+) is healthy:/.exec(l.trim());
    if (m) ok.add(m[1]!);
  }
  return ok;
}

export const quorum = (members: number): number => Math.floor(members / 2) + 1;

export interface RemovalVerdict {
  /** the members to remove, in order (names not in etcd are not members: nothing to remove) */
  remove: EtcdMember[];
  /** why removing them would lose quorum, or undefined */
  refusal?: string;
}

/**
 * Removing `names` from the cluster: what is left must still have a quorum of
 * healthy members, else etcd stops accepting writes and the API server with it.
 */
export function planRemoval(members: EtcdMember[], healthy: Set<string>, names: string[]): RemovalVerdict {
  const isHealthy = (m: EtcdMember) => m.clientUrls.some((u) => healthy.has(u));
  const remove = members.filter((m) => names.includes(m.name));
  const left = members.filter((m) => !names.includes(m.name));
  const up = left.filter(isHealthy);
  if (!left.length) return { remove, refusal: `removing ${remove.map((m) => m.name).join(', ')} leaves etcd no member` };
  if (up.length < quorum(left.length)) {
    const down = left.filter((m) => !isHealthy(m)).map((m) => m.name);
    return {
      remove,
      refusal: `removing ${remove.map((m) => m.name).join(', ')} from etcd leaves ${left.length} member${left.length === 1 ? '' : 's'} of which ${up.length} ${up.length === 1 ? 'is' : 'are'} healthy${down.length ? ` (${down.join(', ')} ${down.length === 1 ? 'is' : 'are'} not)` : ''}: a quorum needs ${quorum(left.length)}, so etcd, and the cluster with it, would stop`,
    };
  }
  return { remove };
}
