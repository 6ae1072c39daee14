/**
 * The README's quick start as a newcomer meets it (issue 25, "Done when"):
 * `npm run demo` brings a lab up at the versions table's default Kubernetes,
 * converges it, runs up again, and nothing on the way is a warning or an
 * error. Before, the demo's lab had CentOS 7 hosts at Kubernetes 1.30, and
 * the first thing a new user read was that 1.30 is past its end of life.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { LAB_DIR, REPO, labDown } from '../lab/lab.js';
import { defaultKubernetesVersion } from '../../src/versions/index.js';

function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    // off a terminal, as CI runs it: the plain renderer, every line kept
    const p = spawn(cmd, args, { cwd: REPO, env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

describe.skipIf(!!LAB_SKIP_REASON)('npm run demo (the README quick start)', () => {
  afterAll(() => labDown());

  it('converges a lab at the default Kubernetes, then changes nothing, with no warning on the way', async () => {
    labDown();
    // scripts/demo.ts as `npm run demo` runs it after its build (the lab project built dist already)
    const r = await run(process.execPath, [join(REPO, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(REPO, 'scripts', 'demo.ts')]);
    const all = r.stdout + r.stderr;
    expect(r.code, all).toBe(0);
    expect(all).toContain('Starting a lab of 3 hosts (Rocky 9, Ubuntu 22.04, Debian 12)');
    expect(all).not.toMatch(/warning|error|end of life|✖/i);
    // the inventory the demo used is at the default version, on three current releases
    const inv = await import('node:fs').then((fs) => fs.readFileSync(join(LAB_DIR, 'inventory.yaml'), 'utf8'));
    expect(inv).toContain(`kubernetesVersion: ${defaultKubernetesVersion()}`);
    expect(inv).not.toContain('centos7');
    // the second up: every step ok, nothing changed
    const second = all.slice(all.indexOf('Again: a converged cluster'));
    expect(second).not.toMatch(/changed/);
    expect(second).toMatch(/Look around:/);
  }, 300_000);
});
