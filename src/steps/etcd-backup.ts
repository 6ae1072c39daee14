/**
 * etcd-snapshot (kbootstrap backup): on the first control plane whose etcd is healthy, a snapshot
 * of its stacked etcd (`etcdctl snapshot save` with kubeadm's etcd client
 * certificate, https://kubernetes.io/docs/tasks/administer-cluster/configure-upgrade-etcd/#backing-up-an-etcd-cluster,
 * read 2026-12-07), checked with `etcdutl snapshot status`, then
 * /etc/kubernetes/pki and the kubeadm-config ConfigMap, all copied back to the
 * operator's machine byte for byte. Nothing stays behind on the host.
 * "Done" means this run holds a checked snapshot: a backup is taken every time.
 * The control planes are asked in inventory order: one whose etcd does not
 * answer healthy hands the snapshot to the next (a warning says why); only
 * the last one left refuses, when none could take it.
 */
import { parse as parseYaml } from 'yaml';
import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import { KbError } from '../errors.js';
import { byteProgress } from './byte-progress.js';
import type { Step } from './types.js';
import type { ClusterSpec } from '../inventory/model.js';
import { parseMembers } from '../etcd/members.js';
import type { EtcdMember, SnapshotStatus } from '../etcd/archive.js';

/** Where the snapshot is written on the host: inside the etcd pod's own mount, so its etcdctl can write it too. */
export const SNAPSHOT_PATH = '/var/lib/etcd/kbootstrap-snapshot.db';
const PKI_TAR_PATH = '/var/lib/kbootstrap/backup/pki.tar';

export interface TakenBackup {
  host: string;
  at: string;
  image?: string;
  members: EtcdMember[];
  status: SnapshotStatus;
  snapshot: Buffer;
  pkiTar: Buffer;
  kubeadmConfig: string;
  kubernetesVersion: string;
}

/** What the step hands the backup command. */
export interface BackupSink {
  taken?: TakenBackup;
}

interface Found {
  problem?: string;
  image?: string;
  members: EtcdMember[];
}

/** The shell functions kb_etcdctl and/or kb_etcdutl (only those the script calls: shellcheck finds the others unreachable). */
export const etcdTools = (cluster: ClusterSpec, use: { ctl?: boolean; utl?: boolean; image?: string }): string =>
  render('etcd/tools', { ctl: Boolean(use.ctl), utl: Boolean(use.utl), image: use.image ?? '', docker: cluster.containerRuntime === 'docker' });

/** kubeadm-config's ClusterConfiguration.kubernetesVersion, without the v. */
export function kubernetesVersionOf(kubeadmConfigYaml: string): string | undefined {
  try {
    const cm = parseYaml(kubeadmConfigYaml) as { data?: { ClusterConfiguration?: string } };
    const cc = parseYaml(cm?.data?.ClusterConfiguration ?? '') as { kubernetesVersion?: string } | null;
    return cc?.kubernetesVersion ? String(cc.kubernetesVersion).replace(/^v/, '') : undefined;
  } catch {
    return undefined;
  }
}

function parseStatus(stdout: string): SnapshotStatus {
  const line = stdout.trim().split('\n').filter((l) => l.startsWith('{')).at(-1) ?? '';
  try {
    const s = JSON.parse(line) as Partial<SnapshotStatus>;
    if ([s.hash, s.revision, s.totalKey, s.totalSize].every((n) => typeof n === 'number')) return s as SnapshotStatus;
  } catch { /* below */ }
  throw new KbError(`etcdutl snapshot status printed no status: ${stdout.trim().slice(0, 200)}`);
}

export function etcdBackupStep(sink: BackupSink): Step<Found> {
  return {
    id: 'etcd-snapshot',
    title: 'Snapshot etcd; copy it, /etc/kubernetes/pki and kubeadm-config here',
    hosts: (inv) => inv.hosts.filter((h) => h.role === 'control-plane'),
    requires: [],
    mandatory: true,
    check: (ctx) => etcdTools(ctx.cluster, { ctl: true }) + render('etcd/backup-check', {}),
    parse(out, ctx) {
      const m = kv(out.stdout);
      if (sink.taken) {
        const s = sink.taken.status;
        return { done: true, reason: `snapshot taken${sink.taken.host === ctx.host.name ? '' : ` on ${sink.taken.host}`}: ${s.totalSize} bytes, revision ${s.revision}, ${s.totalKey} keys`, found: { members: [] } };
      }
      const members = parseMembers(m.get('member') ?? []);
      const image = first(m, 'image') || undefined;
      if (first(m, 'etcd') === 'absent') {
        return { done: false, reason: 'no stacked etcd here', found: { members, problem: 'no stacked etcd here: /etc/kubernetes/manifests/etcd.yaml is missing (kbootstrap backs up the etcd that kubeadm runs on the control planes)' } };
      }
      const health = first(m, 'health');
      if (health !== 'ok') {
        const why = `etcd is not healthy: ${health ?? 'no answer'}`;
        // another control plane may still take it: this one steps aside, saying why
        const cps = ctx.inv.hosts.filter((h) => h.role === 'control-plane');
        const next = cps[cps.findIndex((h) => h.name === ctx.host.name) + 1];
        if (next) return { done: true, reason: `${why}; ${next.name} takes the snapshot`, found: { members, image }, warning: `${why}; the snapshot is taken on another control plane` };
        return { done: false, reason: why, found: { members, image, problem: why } };
      }
      return { done: false, reason: `etcd healthy, ${members.length} member${members.length === 1 ? '' : 's'} (${members.map((x) => x.name).join(', ')}): a snapshot is taken on every run`, found: { members, image } };
    },
    unknown: () => ({ members: [] }),
    async apply(ctx, found) {
      const { host } = ctx;
      // one snapshot per run: a control plane before this one took it (what a dry run, which cannot
      // read health, shows: the first takes it, the others only ask)
      if (sink.taken) return;
      if (found.problem) throw new KbError(`${host.name}: ${found.problem}; nothing was taken`);
      const tools = etcdTools(ctx.cluster, { ctl: true, utl: true, image: found.image });
      try {
        const st = await host.exec(tools + render('etcd/snapshot', { path: SNAPSHOT_PATH }), {
          mutates: true, timeoutMs: 10 * 60_000, note: 'a snapshot of etcd, checked', dryRunStdout: '{"hash":0,"revision":0,"totalKey":0,"totalSize":0}',
        });
        const status = parseStatus(st.stdout);
        // etcdutl's totalSize and the 32-byte hash: the size the copy will have (`cat` does not say it)
        const snapshot = await host.download(SNAPSHOT_PATH, { note: 'the snapshot, byte for byte', onProgress: byteProgress(ctx.progress, 'snapshot', status.totalSize ? status.totalSize + 32 : undefined) });
        // a snapshot file is the database and its sha256, appended (etcd's snapshot format: `etcdutl snapshot
        // restore` checks it, --skip-hash-check is only for a db copied from a data directory; etcd 3.5
        // server/etcdserver/api/snap). The dry run's download answers nothing: only a real snapshot must be whole
        if (snapshot.length && snapshot.length !== status.totalSize + 32) throw new KbError(`${host.name}: the snapshot copied here has ${snapshot.length} bytes, etcdutl counted ${status.totalSize} + its 32-byte hash`);
        await host.exec(render('etcd/pki-tar', { path: PKI_TAR_PATH }), { mutates: true, note: '/etc/kubernetes/pki, as tar keeps it (modes, links)' });
        const pkiTar = await host.download(PKI_TAR_PATH, { note: 'the PKI: the cluster\'s private keys', secretOutput: true });
        const cfg = await host.exec('kb_kubectl -n kube-system get configmap kubeadm-config -o yaml\n', { mutates: false, note: 'the kubeadm-config ConfigMap' });
        const kubernetesVersion = kubernetesVersionOf(cfg.stdout) ?? ctx.cluster.kubernetesVersion;
        sink.taken = { host: host.name, at: new Date().toISOString(), image: found.image, members: found.members, status, snapshot, pkiTar, kubeadmConfig: cfg.stdout, kubernetesVersion };
      } finally {
        // the snapshot and the keys' copy go, also after a failure
        await host.exec(`rm -f ${SNAPSHOT_PATH} ${PKI_TAR_PATH}\n`, { mutates: true, note: 'nothing of the backup stays on the host', allowFailure: true });
      }
    },
  };
}
