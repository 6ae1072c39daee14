/**
 * Real etcd for the lab (issue 22): Debian's etcd-server and etcd-client 3.5
 * from trixie (bookworm has 3.4, which has no etcdutl), fetched once into the
 * lab's cache by test/support/debian-suites.ts. Returns the directory holding
 * etcd, etcdctl and etcdutl for labUp({ etcd }), or why it cannot be had.
 */
import { join } from 'node:path';
import { fetchOrSkip } from '../support/debian-suites.js';

export function labEtcd(): { dir: string; versions: Record<string, string> } | { skip: string } {
  const u = fetchOrSkip('trixie', 'etcd', ['etcd-server', 'etcd-client']);
  if ('skip' in u) return u;
  return { dir: join(u.root, 'usr', 'bin'), versions: u.versions };
}
