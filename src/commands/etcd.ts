/**
 * kbootstrap backup and restore (issue 22 item 2): plans of steps on the
 * Runner like up and upgrade (dry run, JSON, progress, the run lock), each
 * its own phases (src/phases.ts) and steps (src/steps/etcd-*.ts). What is
 * local to them (writing the archive, reading and checking it) is here.
 */
import { existsSync } from 'node:fs';
import type { Inventory } from '../inventory/model.js';
import type { OsName } from '../inventory/schema.js';
import { buildPlan, type Plan } from '../plan.js';
import type { PhaseSteps } from '../steps/index.js';
import { BACKUP_PHASES, RESTORE_PHASES } from '../phases.js';
import { dryRun } from '../dry-run.js';
import { noFilters, printDryRun, type PlanCommandDeps, type RunFlags } from './plan-io.js';
import { load } from './load.js';
import { EXIT, UsageError } from '../errors.js';
import { etcdBackupStep, type BackupSink } from '../steps/etcd-backup.js';
import { SHARED_PKI, restoreEtcdStep, restoreGateStep, restorePkiStep, type RestoreSource } from '../steps/etcd-restore.js';
import { ARCHIVE_KIND, packTar, readBackup, writeBackup, type BackupContents } from '../etcd/archive.js';
import { plural } from '../report.js';
import { nameTaken } from '../local-file.js';

/** What the CLI lends these commands (registered by etcd-cli.ts, which loads this file only when one runs). */
export type EtcdCommandDeps = Pick<PlanCommandDeps, 'io' | 'setCode' | 'run' | 'confirm'>;
export type { RunFlags };

/** backup's steps by phase (BACKUP_PHASES) */
export const backupSteps = (sink: BackupSink): PhaseSteps => ({ backup: [etcdBackupStep(sink)] });

/** restore's steps by phase (RESTORE_PHASES) */
export const restoreSteps = (src: RestoreSource): PhaseSteps => ({ 'restore-gate': [restoreGateStep()], restore: [restorePkiStep(src), restoreEtcdStep(src)] });

export function buildBackupPlan(inv: Inventory, sink: BackupSink): Plan {
  return buildPlan(inv, {}, BACKUP_PHASES, backupSteps(sink));
}

/** With --force the gate reads only the first control plane: the others may be gone for good. */
export function buildRestorePlan(inv: Inventory, src: RestoreSource, force: boolean): Plan {
  if (src.manifest.cluster !== inv.cluster.name && !force) {
    throw new UsageError(`${src.file} is a backup of cluster ${JSON.stringify(src.manifest.cluster)}, ${inv.file} describes ${JSON.stringify(inv.cluster.name)}; pass --force to restore it anyway`);
  }
  const phases = force ? RESTORE_PHASES.map((p) => (p.id === 'restore-gate' ? { ...p, hosts: (i: Inventory) => i.hosts.filter((h) => h.role === 'control-plane').slice(0, 1) } : p)) : RESTORE_PHASES;
  return buildPlan(inv, {}, phases, restoreSteps(src));
}

async function showDryRun(d: EtcdCommandDeps, inv: Inventory, plan: Plan, o: RunFlags): Promise<void> {
  printDryRun(d.io, await dryRun(inv, { defaultOs: o.os as OsName | undefined, plan }), o.output);
}

/** A stand-in backup for a restore's dry run without --from: placeholders, never a real key. */
function placeholderBackup(inv: Inventory): RestoreSource {
  return {
    file: '<BACKUP>',
    manifest: { kind: ARCHIVE_KIND, formatVersion: 1, cluster: inv.cluster.name, kubernetesVersion: inv.cluster.kubernetesVersion, createdAt: new Date(0).toISOString(), host: '<HOST>', etcd: { members: [], snapshot: { hash: 0, revision: 0, totalKey: 0, totalSize: 0 } } },
    snapshot: Buffer.from('<SNAPSHOT>'), kubeadmConfig: '',
    pkiTar: packTar(new Map(SHARED_PKI.map((f) => [`pki/${f}`, Buffer.from(`<${f}>`)]))),
  };
}


/** kbootstrap backup INVENTORY --file FILE (registered by etcd-cli.ts). */
export async function backupCommand(d: EtcdCommandDeps, file: string, o: RunFlags & { file?: string }): Promise<void> {
  const { io } = d;
  noFilters('backup', o);
  if (o.dryRun) {
    const inv = load(file, io, { keyFiles: false });
    await showDryRun(d, inv, buildBackupPlan(inv, {}), o);
    d.setCode(EXIT.ok);
    return;
  }
  if (!o.file) throw new UsageError('backup: name the archive with --file FILE (-o is the output format, as on every command)');
  const out = o.file;
  // refused before anything connects: an existing backup is never overwritten
  if (nameTaken(out)) throw new UsageError(`backup: ${out} exists; kbootstrap does not overwrite a backup (move it, or choose another name)`);
  if (!existsSync(out.includes('/') ? out.slice(0, out.lastIndexOf('/')) || '/' : '.')) throw new UsageError(`backup: cannot write ${out}: no such directory`);
  const sink: BackupSink = {};
  let cluster = '';
  const code = await d.run(file, o, 'apply', io, { plan: (inv) => { cluster = inv.cluster.name; return buildBackupPlan(inv, sink); }, command: 'backup' });
  const t = sink.taken;
  if (!t) { d.setCode(code === EXIT.ok ? EXIT.failed : code); return; }
  const contents: BackupContents = {
    manifest: {
      kind: ARCHIVE_KIND, formatVersion: 1, cluster, kubernetesVersion: t.kubernetesVersion, createdAt: t.at, host: t.host,
      etcd: { ...(t.image ? { image: t.image } : {}), members: t.members, snapshot: t.status },
    },
    snapshot: t.snapshot, pkiTar: t.pkiTar, kubeadmConfig: t.kubeadmConfig,
  };
  const w = writeBackup(out, contents);
  io.err(`kbootstrap: wrote ${out} (${w.bytes} bytes, sha256 ${w.sha256}; etcd revision ${t.status.revision}, ${plural(t.status.totalKey, 'key')}, ${plural(t.members.length, 'member')}) and ${out}.sha256\n`
    + `kbootstrap: ${out} holds the cluster's private keys (/etc/kubernetes/pki: the CAs, the service-account key): whoever has it can act as the cluster's administrator. It is mode 0600; keep it as safe as the control planes\n`);
  // taken on a healthy control plane while another could not be reached: the backup is whole, the exit code says what failed
  if (code !== EXIT.ok) io.err(`kbootstrap: the snapshot was taken on ${t.host}; the summary names what failed elsewhere\n`);
  d.setCode(code);
}

/** kbootstrap restore INVENTORY --from FILE (registered by etcd-cli.ts). */
export async function restoreCommand(d: EtcdCommandDeps, file: string, o: RunFlags & { from?: string }): Promise<void> {
  const { io } = d;
  noFilters('restore', o);
  if (!o.from && !o.dryRun) throw new UsageError('restore: name the archive with --from FILE');
  // the whole archive is read and checked before anything connects: a damaged one changes no host
  const backup: RestoreSource | undefined = o.from ? { ...readBackup(o.from), file: o.from } : undefined;
  if (backup && (backup as { sidecar?: string }).sidecar === 'absent') {
    io.err(`kbootstrap: warning: no ${o.from}.sha256 beside it: what the archive holds was checked (gzip's CRC-32, every entry's sha256), not each byte of the file\n`);
  }
  if (o.dryRun) {
    const inv = load(file, io, { keyFiles: false });
    await showDryRun(d, inv, buildRestorePlan(inv, backup ?? placeholderBackup(inv), Boolean(o.force)), o);
    d.setCode(EXIT.ok);
    return;
  }
  const src = backup!;
  // refused before anything connects or any credential is read, as reset is: off a terminal only --yes says yes
  if (!o.yes && !(process.stdin.isTTY && process.stderr.isTTY)) throw new UsageError('restore: refusing without --yes: there is no terminal to confirm on');
  const confirm = async (inv: Inventory) => {
    if (o.yes) return true;
    const first = inv.hosts.find((h) => h.role === 'control-plane')!;
    const ok = await d.confirm(`Restore ${o.from} (cluster ${src.manifest.cluster}, Kubernetes ${src.manifest.kubernetesVersion}, taken ${src.manifest.createdAt} on ${src.manifest.host}) onto ${first.name} (${first.address})? Its /etc/kubernetes/pki CAs and /var/lib/etcd are replaced.`);
    if (ok === undefined) throw new UsageError('restore: refusing without --yes: there is no terminal to confirm on');
    return ok;
  };
  const code = await d.run(file, o, 'apply', io, { plan: (inv) => buildRestorePlan(inv, src, Boolean(o.force)), confirmFirst: confirm, command: 'restore' });
  if (code === EXIT.ok) io.err(`kbootstrap: restored etcd revision ${src.manifest.etcd.snapshot.revision} of ${src.manifest.createdAt}; now run kbootstrap up ${file}: it initialises the first control plane on that data and joins the other hosts\n`);
  d.setCode(code);
}
