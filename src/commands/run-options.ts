/** The options of up, plan and upgrade and of the plans that run like them, and what connecting needs (src/commands/up.ts, up-run.ts). */
import type { HostSpec, Inventory } from '../inventory/model.js';
import type { Plan } from '../plan.js';
import type { RunResult } from '../runner.js';
import type { Handshake, SshOptions } from '../ssh/handshake.js';

export interface RunFlags {
  only?: string[];
  steps?: string[];
  skipSteps?: string[];
  concurrency: number;
  acceptNewHostKeys?: boolean;
  sshConfig?: string;
  output: 'text' | 'json';
  verbose?: boolean;
  quiet?: boolean;
  commandTimeout: number;
  verifyTimeout: number;
  /** up only */
  force?: boolean;
}

/** What upgrade adds to a run: its own plan, a confirmation before connecting, nodes out of service at once. */
export interface RunExtras {
  plan?: (inv: Inventory) => Plan;
  /** false: stop with nothing done (exit 1); RUNNING says what the cluster runs now */
  confirm?: (inv: Inventory, plan: Plan, running: () => Promise<string>) => Promise<boolean>;
  /** asked before anything else (credentials, connections): a question that needs nothing from the hosts (reset) */
  confirmFirst?: (inv: Inventory, plan: Plan) => Promise<boolean>;
  maxUnavailable?: number;
  /** the command's name for the run lock (default: up, or plan) */
  command?: string;
  /** after the run (not in JSON's place): a line of its own, a follow-up; returns the exit code */
  after?: (inv: Inventory, result: RunResult, code: number) => Promise<number>;
  /** the inventory as this run sees it (up --bundle: the checked bundle, package trees on its server) */
  inventory?: (inv: Inventory) => Promise<Inventory>;
  /** stdout carries only what the command makes (token: the join command): the progress lines, the summary and what steps show go to stderr */
  productOnStdout?: boolean;
  /** what the command adds to its JSON report (token: the join command) */
  json?: (result: RunResult) => Record<string, unknown>;
}

/** What connecting to hosts needs: each as OpenSSH's configuration completes it, the SSH options with the credentials, and any handshakes already under way. */
export interface Reach {
  resolved: Map<string, HostSpec>;
  sshOpts: SshOptions;
  /** by host name: taken by the run's connection to that host (src/connect.ts) */
  handshakes?: Map<string, Promise<Handshake>>;
}

