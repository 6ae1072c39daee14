/**
 * The backup and restore commands as the CLI registers them: only commander
 * loads with --help; their code (src/commands/etcd.ts: the plans, the archive)
 * loads when one of them runs.
 */
import type { Command } from 'commander';
import type { EtcdCommandDeps, RunFlags } from './etcd.js';

type RunOptions = (cmd: Command, has: { dryRun?: boolean; verify?: boolean; select?: boolean }) => Command;

export function registerEtcdCommands(program: Command, d: EtcdCommandDeps, runOptions: RunOptions): void {
  runOptions(program.command('backup')
    .summary('snapshot etcd, the PKI and kubeadm-config into one archive here')
    .description('snapshot etcd on the first control plane whose etcd is healthy (checked with etcdutl), with /etc/kubernetes/pki and kubeadm-config, into one archive here (mode 0600: it holds the cluster\'s private keys)')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--file <file>', 'the archive to write (a .tar.gz; FILE.sha256 is written beside it)')
    .option('--dry-run', 'print what would run on the control plane; connect to nothing'), { dryRun: true, select: false })
    .action(async (file: string, o: RunFlags & { file?: string }) => {
      await (await import('./etcd.js')).backupCommand(d, file, o);
    });

  runOptions(program.command('restore')
    .summary('disaster recovery: a backup onto the first control plane, then up')
    .description('disaster recovery: the CAs and the etcd data of a backup onto the (reset or new) first control plane, as a new one-member etcd; then `up` initialises it on that data and joins the others. Refused while a cluster answers, unless --force')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--from <file>', 'the archive kbootstrap backup wrote')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--force', 'restore even though a cluster answers on a control plane (only the first is checked), the backup names another cluster, or /var/lib/etcd holds data (moved aside)')
    .option('--dry-run', 'print what would run; connect to nothing'), { dryRun: true, select: false })
    .action(async (file: string, o: RunFlags & { from?: string }) => {
      await (await import('./etcd.js')).restoreCommand(d, file, o);
    });
}
