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
}

export class Host {
  /** what connecting found worth a warning (the run lock) */
  readonly notices: string[] = [];

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
    const res = await this.transport.exec(script, opts);
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
    return this.transport.checkBatch(checks);
  }
}
