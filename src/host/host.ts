/**
 * A host as steps see it: its inventory entry, its OS facts and one
 * transport. Failed commands become RemoteCommandError with host, step,
 * command and the tail of stderr, all redacted.
 */
import type { HostSpec } from '../inventory/model.js';
import type { Transport, ExecOptions, ExecResult, UploadOptions, CheckRequest, CheckOutput } from '../transport/types.js';
import type { HostFacts } from './facts.js';
import { Redactor } from '../redact.js';
import { KbError } from '../errors.js';

export class RemoteCommandError extends KbError {
  constructor(
    readonly host: string,
    readonly step: string,
    readonly command: string,
    readonly code: number,
    readonly stderrTail: string,
  ) {
    super(`${host}: ${step}: command failed with exit code ${code}: ${firstLine(command)}${stderrTail ? `\n${indent(stderrTail)}` : ''}`);
    this.name = 'RemoteCommandError';
  }
}

function firstLine(s: string): string {
  const lines = s.trim().split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  const l = lines.find((x) => !/^(set -|kb_[a-z_]+\(\))/.test(x.trim())) ?? lines[0] ?? '';
  return l.length > 160 ? l.slice(0, 157) + '...' : l.trim();
}

function indent(s: string): string {
  return s.split('\n').map((l) => `    ${l}`).join('\n');
}

export function tail(s: string, n = 8): string {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}

export interface HostExecOptions extends ExecOptions {
  /** return the result instead of throwing on a non-zero exit */
  allowFailure?: boolean;
}

export class Host {
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

  upload(content: string, dest: string, opts: UploadOptions): Promise<void> {
    this.redactor.add(...(opts.secrets ?? []));
    return this.transport.upload(content, dest, opts);
  }

  checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    return this.transport.checkBatch(checks);
  }
}
