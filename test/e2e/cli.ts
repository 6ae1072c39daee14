/** Run the built CLI as a user would, and read its JSON report. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../lab/lab.js';

export interface CliResult { code: number; stdout: string; stderr: string; json?: JsonReport }
export interface JsonReport {
  exitCode: number;
  hosts: { host: string; ok: number; changed: number; skipped: number; failed: number; wouldChange: number; roundTrips: number; error?: string }[];
  steps: { host: string; step: string; status: string; reason: string }[];
  warnings?: string[];
}

/**
 * The e2e inventories stay on Kubernetes 1.30 (the lab mixes in CentOS 7 hosts, whose kernel 3.10 and cgroup v1
 * later minors refuse), and validate warns that 1.30 is past its end of life before every command's own output.
 * That warning is validate's to test (test/versions-table.test.ts); here it is taken out of stderr, and only it.
 */
const E2E_EOL = /^\S*inventory\.yaml:\d+:\d+ warning: cluster\.kubernetesVersion: Kubernetes 1\.30 reached its end of life on 2025-07-15 .*\n/gm;

export function kb(args: string[], opts: { env?: Record<string, string | undefined>; killAfterMs?: number; signalAt?: (out: string) => boolean } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries({ ...process.env, ...opts.env }).filter(([, v]) => v !== undefined));
    // the machine's agent must not decide a test: only a test that asks for one gets it
    if (!opts.env || !('SSH_AUTH_SOCK' in opts.env)) delete env.SSH_AUTH_SOCK;
    const child = spawn(process.execPath, [join(REPO, 'bin', 'kbootstrap.js'), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalled = false;
    child.stdout.on('data', (d) => {
      stdout += d;
      if (opts.signalAt && !signalled && opts.signalAt(stdout)) { signalled = true; child.kill('SIGINT'); }
    });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = opts.killAfterMs ? setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs) : undefined;
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      let json: JsonReport | undefined;
      if (args.includes('json')) { try { json = JSON.parse(stdout) as JsonReport; } catch { /* not JSON */ } }
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 128), stdout, stderr: stderr.replace(E2E_EOL, ''), json });
    });
  });
}

export function changed(r: CliResult): string[] {
  return (r.json?.steps ?? []).filter((s) => s.status === 'changed').map((s) => `${s.host}/${s.step}`);
}

export function notOk(r: CliResult): string[] {
  return (r.json?.steps ?? []).filter((s) => !['ok', 'skipped', 'changed'].includes(s.status)).map((s) => `${s.host}/${s.step}: ${s.status}: ${s.reason}`);
}
