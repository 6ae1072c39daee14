/**
 * The reset command as the CLI registers it: only commander loads with
 * --help; its plan and steps (src/commands/reset.ts) load when it runs.
 */
import type { Command } from 'commander';
import type { ResetCommandDeps, ResetFlags } from './reset.js';
import type { RunFlags } from './plan-io.js';

type RunOptions = (cmd: Command, has: { dryRun?: boolean; verify?: boolean; select?: boolean }) => Command;

export function registerResetCommand(program: Command, d: ResetCommandDeps, runOptions: RunOptions): void {
  runOptions(program.command('reset')
    .summary('undo kubeadm on hosts, to rebuild them')
    .description('undo kubeadm on hosts to rebuild them: drain and delete their nodes (a control plane leaves etcd first, refused when etcd would lose its quorum), kubeadm reset -f, clear CNI config, kubeconfigs, iptables and ipvs, restart the runtime')
    .argument('<inventory>', 'inventory file (YAML)')
    .option('--host <names>', 'hosts to reset (comma-separated)', (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)])
    .option('--all', 'reset every host: the cluster is destroyed')
    .option('--yes', 'do not ask for confirmation (required when not on a terminal)')
    .option('--dry-run', 'print, per host, what reset would run; connect to nothing'), { dryRun: true, select: false })
    .action(async (file: string, o: RunFlags & ResetFlags) => {
      await (await import('./reset.js')).resetCommand(d, file, o);
    });
}
