/**
 * kbootstrap restore: etcd's disaster recovery for a kubeadm cluster, onto a
 * reset (or new) first control plane
 * (https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#restoring-an-etcd-cluster,
 * read 2026-12-07):
 *
 * - restore-gate: no cluster may answer on any control plane (a restored
 *   cluster beside a running one splits the cluster in two); --force goes ahead.
 * - restore-pki: the cluster's CAs and service-account key pair, the files
 *   kubeadm shares between control planes
 *   (https://kubernetes.io/docs/setup/production-environment/tools/kubeadm/high-availability/#manual-certs):
 *   `kubeadm init` then signs fresh leaf certificates for this host with them,
 *   so a new machine at another address works too.
 * - restore-etcd: the snapshot, restored with `etcdutl snapshot restore` into a
 *   new data directory as a new one-member cluster named after this node, at
 *   the peer URL kubeadm's etcd uses, then moved to /var/lib/etcd.
 *
 * `kbootstrap up` then runs `kubeadm init` on that data (accepting the restored
 * /var/lib/etcd) and joins the other hosts.
 */
import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { KbError } from '../errors.js';
import { type Step, firstControlPlaneOnly } from './types.js';
import { etcdTools } from './etcd-backup.js';
import { sha256, tarFiles, type BackupContents } from '../etcd/archive.js';
import { byteProgress } from './byte-progress.js';
import type { Inventory } from '../inventory/model.js';

const PKI = '/etc/kubernetes/pki';
/** What kubeadm copies between control planes: the CAs and the service-account keys. */
export const SHARED_PKI = ['ca.crt', 'ca.key', 'sa.key', 'sa.pub', 'front-proxy-ca.crt', 'front-proxy-ca.key', 'etcd/ca.crt', 'etcd/ca.key'] as const;
const SNAPSHOT_UPLOAD = '/var/lib/kbootstrap/restore/snapshot.db';

const controlPlanes = (inv: Inventory) => inv.hosts.filter((h) => h.role === 'control-plane');

export interface RestoreSource extends BackupContents {
  /** the archive's path, for messages */
  file: string;
}

/** The shared PKI files of the backup (pki.tar holds pki/…), by their path on the host. */
export function sharedPki(b: BackupContents): Map<string, Buffer> {
  const all = tarFiles(b.pkiTar);
  const out = new Map<string, Buffer>();
  for (const f of SHARED_PKI) {
    const data = all.get(`pki/${f}`);
    if (data) out.set(`${PKI}/${f}`, data);
  }
  return out;
}

interface GateFound { refusal?: string }

export function restoreGateStep(): Step<GateFound> {
  return {
    id: 'restore-gate',
    title: 'No cluster answers on the control planes',
    hosts: controlPlanes,
    requires: [],
    mandatory: true,
    check: () => render('etcd/restore-gate', {}),
    parse(out, ctx) {
      const m = kv(out.stdout);
      const why = first(m, 'cluster') === 'answers' ? `a cluster answers on ${ctx.host.name} (its API server is ready)`
        : first(m, 'etcd-manifest') === 'present' ? `${ctx.host.name} still runs a control plane (/etc/kubernetes/manifests/etcd.yaml)` : undefined;
      if (!why) return { done: true, reason: 'no cluster here', found: {} };
      if (ctx.options.force) return { done: true, reason: `${why}; going ahead (--force)`, found: {}, warning: `${why}: restoring anyway (--force)` };
      return { done: false, reason: why, found: { refusal: why } };
    },
    unknown: () => ({}),
    async apply(_ctx, found) {
      // a dry run cannot know: it shows the refusal's condition and goes on
      if (!found.refusal) return;
      throw new KbError(`${found.refusal}: restore replaces a cluster that is gone, not one that runs. Reset it first (kbootstrap reset --all), or pass --force`);
    },
  };
}

interface PkiFound { differ: string[] }

export function restorePkiStep(src: RestoreSource): Step<PkiFound> {
  const files = sharedPki(src);
  return {
    id: 'restore-pki',
    title: 'The cluster\'s CAs and service-account keys from the backup',
    hosts: firstControlPlaneOnly,
    requires: [],
    check: () => render('etcd/restore-pki-check', { files: [...files.keys()] }),
    parse(out) {
      const have = new Map((kv(out.stdout).get('pki') ?? []).map((l) => { const [d, p] = l.split(' '); return [p!, d!] as const; }));
      const differ = [...files].filter(([p, data]) => have.get(p) !== sha256(data)).map(([p]) => p);
      if (!differ.length) return { done: true, reason: `${files.size} files match the backup`, found: { differ } };
      return { done: false, reason: `${differ.length} of ${files.size} differ from the backup or are missing: ${differ.map((p) => p.slice(PKI.length + 1)).join(', ')}`, found: { differ } };
    },
    unknown: () => ({ differ: [...files.keys()] }),
    async apply(ctx, found) {
      // the old file goes first, so no .kbootstrap.bak copy of a key is left beside it
      await ctx.host.exec(`rm -f ${found.differ.map((p) => `'${p}'`).join(' ')}\n`, { mutates: true, note: 'files to replace' });
      for (const p of found.differ) {
        const key = p.endsWith('.key');
        await ctx.host.upload(files.get(p)!, p, { mode: key ? '600' : '644', note: key ? 'a private key from the backup' : undefined });
      }
    },
  };
}

interface EtcdFound { occupied: boolean }

export function restoreEtcdStep(src: RestoreSource): Step<EtcdFound> {
  const digest = sha256(src.snapshot);
  return {
    id: 'restore-etcd',
    title: 'etcd\'s data from the snapshot, as a new one-member cluster',
    hosts: firstControlPlaneOnly,
    requires: ['restore-pki'],
    check: () => render('etcd/restore-etcd-check', {}),
    parse(out, ctx) {
      const m = kv(out.stdout);
      const data = first(m, 'data') === 'present';
      if (data && first(m, 'restored') === digest) return { done: true, reason: `/var/lib/etcd holds the snapshot's data (sha256 ${digest.slice(0, 12)}…)`, found: { occupied: false } };
      if (data && !ctx.options.force) return { done: false, reason: '/var/lib/etcd holds the data of another etcd', found: { occupied: true } };
      return { done: false, reason: data ? '/var/lib/etcd holds other data; it is moved aside (--force)' : '/var/lib/etcd is empty', found: { occupied: false } };
    },
    unknown: () => ({ occupied: false }),
    async apply(ctx, found) {
      const { host } = ctx;
      if (found.occupied) throw new KbError(`${host.name}: /var/lib/etcd holds the data of another etcd: reset the host first (kbootstrap reset), or pass --force to move it aside`);
      await host.upload(src.snapshot, SNAPSHOT_UPLOAD, { mode: '600', note: `the snapshot from ${src.file}`, onProgress: byteProgress(ctx.progress, 'snapshot', src.snapshot.length) });
      const peerUrl = `https://${host.spec.address}:2380`;
      await host.exec(etcdTools(ctx.cluster, { utl: true, image: src.manifest.etcd.image }) + render('etcd/restore-etcd', { sha256: digest, name: host.name, initialCluster: `${host.name}=${peerUrl}`, peerUrl }), {
        mutates: true, timeoutMs: 10 * 60_000, note: 'etcdutl snapshot restore into a new data directory',
      });
    },
  };
}
