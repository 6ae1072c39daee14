/** A Host as one step sees it: every command and upload carries the step's id. */
import type { Host, HostExecOptions } from '../host/host.js';
import { osFamily } from '../os/index.js';
import type { DownloadOptions, ExecResult, UploadOptions } from '../transport/types.js';
import type { StepExecOptions, StepHost } from '../steps/types.js';

export function bindHost(host: Host, step: string): StepHost {
  return {
    name: host.name,
    spec: host.spec,
    facts: host.facts,
    os: osFamily(host.facts),
    exec: (script: string, opts: StepExecOptions): Promise<ExecResult> => host.exec(script, { ...opts, step } satisfies HostExecOptions),
    upload: (content: string | Buffer, dest: string, opts: Omit<UploadOptions, 'step'>): Promise<void> => host.upload(content, dest, { ...opts, step }),
    download: (path: string, opts: Omit<DownloadOptions, 'step'>): Promise<Buffer> => host.download(path, { ...opts, step }),
  };
}
