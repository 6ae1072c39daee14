/**
 * A step is one idempotent part of the procedure, modelled on k0sctl's
 * phases: a title, a read-only check that says whether it must run and why,
 * and an apply that makes it so. The check's parser hands apply a typed
 * finding (`Found`), so apply acts only on what differs. Steps reach hosts
 * only through StepHost, already bound to the step's id.
 */
import type { ClusterSpec, HostSpec, Inventory } from '../inventory/model.js';
import type { CheckOutput, DownloadOptions, ExecOptions, ExecResult, UploadOptions } from '../transport/types.js';
import type { HostFacts, OsFamily } from '../os/types.js';
import type { JoinSecrets } from '../run/join-credentials.js';

/** A file a step owns entirely: the check compares its digest and mode, apply uploads it when they differ. */
export interface ManagedFile {
  path: string;
  content: string;
  mode: string;
  owner?: string;
  /** values inside content that must never be shown */
  secrets?: string[];
}

export interface StepExecOptions extends Omit<ExecOptions, 'step'> {
  /** return the result instead of throwing on a non-zero exit */
  allowFailure?: boolean;
}

/** A host as one step sees it: every command and upload is attributed to that step. */
export interface StepHost {
  readonly name: string;
  readonly spec: HostSpec;
  readonly facts: HostFacts;
  readonly os: OsFamily;
  exec(script: string, opts: StepExecOptions): Promise<ExecResult>;
  upload(content: string | Buffer, dest: string, opts: Omit<UploadOptions, 'step'>): Promise<void>;
  /** a file's bytes, read as root (binary-safe) */
  download(path: string, opts: Omit<DownloadOptions, 'step'>): Promise<Buffer>;
}

/** Join credentials, fetched from the first control plane when the first join needs them. */
export interface JoinSource {
  forWorkers(): Promise<JoinSecrets>;
  forControlPlanes(): Promise<JoinSecrets>;
}

export interface StepContext {
  inv: Inventory;
  cluster: ClusterSpec;
  /** the host this step runs on */
  host: StepHost;
  /** the control plane cluster-wide steps act through (the first; the plan may name another: reset), bound to this step too (the same host when the step runs there) */
  firstControlPlane: StepHost;
  join: JoinSource;
  /** force: up --force (a kube-vip VIP change is rewritten instead of refused) */
  options: { verifyTimeoutSeconds: number; force?: boolean };
  /** show the user what a command printed (kubeadm upgrade plan): in the progress, the summary and the JSON report, redacted */
  show(title: string, text: string): void;
  /** how far a long step is (bytes of a snapshot moved, src/steps/byte-progress.ts): the running step's line in the progress view, not kept */
  progress(text: string): void;
}

export interface CheckResult<Found> {
  done: boolean;
  /** why: what was found, one line, e.g. "fstab line 12 mounts /dev/mapper/centos-swap as swap" */
  reason: string;
  /** what the parser found, for apply to act on only what differs */
  found: Found;
  /** something the user must hear about that does not stop the step (a CNI release not tested with the target minor) */
  warning?: string;
}

export interface Step<Found = undefined> {
  readonly id: string;
  readonly title: string;
  /** Hosts this step runs on (inventory order); the phases its command puts it in narrow them further. */
  hosts(inv: Inventory): HostSpec[];
  /** Steps that must have run before this one (earlier in the registry; a test holds it). */
  readonly requires: readonly string[];
  /** Runs whatever --steps/--skip-steps say: a guard the rest of the plan relies on. */
  readonly mandatory?: boolean;
  /** A reason to skip the step on this host (e.g. SELinux on Debian), or undefined. */
  skip?(ctx: StepContext): string | undefined;
  /**
   * Read-only shell snippets; parse reads what they print, in order. Must not
   * change the host. Snippets several steps share (the cluster read) run once per batch.
   */
  check(ctx: StepContext): string | readonly string[];
  parse(out: CheckOutput, ctx: StepContext): CheckResult<Found>;
  /** What apply acts on when the check could not tell (a dry run, a check that failed): everything. */
  unknown(ctx: StepContext): Found;
  apply(ctx: StepContext, found: Found): Promise<void>;
  /**
   * Undo what lasts only for the run (the bundle's HTTP server), like k0sctl's phase CleanUp: called
   * once the phases are over, failed or not, on each host where the step ran; a failure is a warning.
   */
  teardown?(ctx: StepContext): Promise<void>;
  /** Files this step owns entirely (for tests and reports). */
  managedFiles?(ctx: StepContext): ManagedFile[];
}

/** A step of any finding type, as the registry and the runner hold them. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- apply is a method (bivariant): any Step<F> fits here, and the runner only hands parse's own F back to apply
export type AnyStep = Step<any>;

export const allHosts = (inv: Inventory): HostSpec[] => inv.hosts;
export const firstControlPlaneOnly = (inv: Inventory): HostSpec[] => inv.hosts.filter((h) => h.role === 'control-plane').slice(0, 1);
export const allButFirstControlPlane = (inv: Inventory): HostSpec[] => {
  const first = firstControlPlaneOnly(inv)[0];
  return inv.hosts.filter((h) => h !== first);
};
