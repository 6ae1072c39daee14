/**
 * What every command that is a plan on the Runner shares with the terminal:
 * its dry run printed one way (bash per host, or one JSON document), and one
 * set of dependencies lent by the CLI (its run over SSH, its confirmation:
 * commands/connected.ts terminalConfirm).
 */
import type { Command } from 'commander';
import type { Io } from '../io.js';
import type { RenderedHost } from '../dry-run.js';
import type { Inventory } from '../inventory/model.js';
import type { Plan } from '../plan.js';
import type { RunResult } from '../runner.js';
import { UsageError } from '../errors.js';

export type RunFlags = Record<string, unknown> & { output: 'text' | 'json'; yes?: boolean; force?: boolean; dryRun?: boolean; os?: string; quiet?: boolean; verbose?: boolean };

export interface RunExtras {
  plan: (inv: Inventory) => Plan;
  confirm?: (inv: Inventory, plan: Plan) => Promise<boolean>;
  /** asked before credentials are read or anything connects */
  confirmFirst?: (inv: Inventory, plan: Plan) => Promise<boolean>;
  /** the command's name for the run lock and its messages */
  command: string;
  /** after the run: a line of its own, a follow-up; returns the exit code */
  after?: (inv: Inventory, result: RunResult, code: number) => Promise<number>;
  /** stdout carries only what the command makes (token: the join command); the run's own lines go to stderr */
  productOnStdout?: boolean;
  /** what the command adds to its JSON report */
  json?: (result: RunResult) => Record<string, unknown>;
}

/** What the CLI lends a command that is a plan on the Runner: its run over SSH (runOverSsh), inventory loading, its run options, confirmation. */
export interface PlanCommandDeps {
  io: Io;
  setCode: (code: number) => void;
  run: (file: string, o: RunFlags, mode: 'apply', io: Io, extras: RunExtras) => Promise<number>;
  load: (file: string, io: Io, opts: { keyFiles: boolean }) => Inventory;
  runOptions: (cmd: Command, has: { dryRun?: boolean; verify?: boolean; select?: boolean }) => Command;
  /** ask on the terminal; undefined when there is none */
  confirm: (message: string) => Promise<boolean | undefined>;
}

/** --only, --steps and --skip-steps come with the run options; these commands run the whole of their plan. */
export function noFilters(command: string, o: RunFlags): void {
  for (const f of ['only', 'steps', 'skipSteps'] as const) {
    if (o[f]) throw new UsageError(`${command}: --${f.replace('S', '-s')} does not apply: ${command} runs its whole plan`);
  }
}

/** A dry run on stdout: each host's script under its name, or `{ mode: 'dry-run', hosts: [{ host, script }] }` with -o json. */
export function printDryRun(io: Io, hosts: readonly Pick<RenderedHost, 'host' | 'script'>[], output: string | undefined): void {
  if (output === 'json') io.out(JSON.stringify({ mode: 'dry-run', hosts: hosts.map((h) => ({ host: h.host, script: h.script })) }, null, 2) + '\n');
  else io.out(hosts.map((h) => `# ===== ${h.host} =====\n${h.script}`).join('\n'));
}
