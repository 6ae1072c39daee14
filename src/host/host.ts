/**
 * A host as steps see it: its inventory entry, its OS facts and one
 * transport. Failed commands become RemoteCommandError with host, step,
 * command and the tail of stderr, all redacted.
 */
import type { HostSpec } from '../inventory/model.js';
import type { Transport, ExecOptions, ExecResult, UploadOptions, CheckRequest, CheckOutput, DownloadOptions } from '../transport/types.js';
import type { HostFacts } from './facts.js';
import { Redactor } from '../redact.js';
import { RemoteCommandError, tail } from '../transport/remote-error.js';

export interface HostExecOptions extends ExecOptions {
  /** return the result instead of throwing on a non-zero exit */
  allowFailure?: boolean;
  /**
   * Read-only shell run after the script when it succeeds, in the same round
   * trip (the runner's re-checks after a change, src/run/trailing-checks.ts);
   * its output follows the script's own, and errors name the script only.
   */
  trailer?: string;
}

export class Host {
  /** what connecting found worth a warning (the run lock) */
  readonly notices: string[] = [];
  /**
   * Checks that went with the connect round trip (src/connect.ts) and their
   * output: the first checkBatch takes them when it asks for exactly these
   * scripts; any first batch uses them up, so a later one always runs.
   */
  prefetched?: { checks: CheckRequest[]; outputs: CheckOutput[] };

  constructor(
    readonly spec: HostSpec,
    readonly transport: Transport,
    public facts: HostFacts,
    readonly redactor: Redactor = new Redactor(),
  ) {}

  get name(): string {
    return this.spec.name;
  }

  async exec(script: string, opts: HostExecOptions): Promise<ExecResult> {
    this.redactor.add(...(opts.secrets ?? []));
    const { trailer, carry, ...rest } = opts;
    // a command whose exit code the caller reads (allowFailure) or that carries checks cannot wait for the next one
    const canWait = carry && !opts.allowFailure && !trailer;
    // in a subshell: a script that fails still ends the shell (set -e) before the trailer, and the script's own
    // EXIT trap (kube-vip's manifest put back after a handover) has run when the trailer reads the host
    const res = await this.transport.exec(trailer ? `(\n${script.trimEnd()}\n)\n${trailer}` : script, canWait ? { ...rest, carry: true } : rest);
    if (res.code !== 0 && !opts.allowFailure) {
      throw new RemoteCommandError(
        this.name,
        opts.step,
        this.redactor.redact(opts.note ? `${opts.note}: ${script}` : script),
        res.code,
        opts.secretOutput ? '(output hidden: it may contain secrets)' : this.redactor.redact(tail(res.stderr || res.stdout)),
      );
    }
    return res;
  }

  upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void> {
    this.redactor.add(...(opts.secrets ?? []));
    return this.transport.upload(content, dest, opts);
  }

  download(path: string, opts: DownloadOptions): Promise<Buffer> {
    return this.transport.download(path, opts);
  }

  checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    const p = this.prefetched;
    this.prefetched = undefined;
    if (p && p.checks.length === checks.length && p.checks.every((c, i) => c.step === checks[i]!.step && c.script === checks[i]!.script)) return Promise.resolve(p.outputs);
    return this.transport.checkBatch(checks);
  }
}
