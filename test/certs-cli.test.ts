/**
 * kbootstrap certs on the command line, no lab: the renewal's dry run (bash
 * for each host, or one JSON document), its refusals (exit 2 before anything
 * connects), and certs in the help.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'bin', 'kbootstrap.js');
const VIP = join(REPO, 'inventories', 'ubuntu-kube-vip.yaml');

function kb(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: '', timeout: 20_000, env: { ...process.env, COLUMNS: '80' } });
  const stderr = r.stderr.split('\n').filter((l) => !/^\S+:\d+:\d+ warning: cluster\.kubernetesVersion: Kubernetes 1\.\d+ (reached its end of life|is past its end of life)/.test(l)).join('\n');
  return { code: r.status, stdout: r.stdout, stderr };
}

describe('kbootstrap certs', () => {
  it('renew --dry-run prints every host\'s script; with --output json one JSON document', () => {
    const text = kb(['certs', 'renew', VIP, '--dry-run']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout.match(/^# ===== \S+ =====$/gm)).toEqual(['cp-1', 'cp-2', 'cp-3', 'worker-1', 'worker-2'].map((h) => `# ===== ${h} =====`));
    const json = kb(['certs', 'renew', VIP, '--dry-run', '--output', 'json']);
    expect(json.code).toBe(0);
    const j = JSON.parse(json.stdout) as { mode: string; hosts: { host: string; script: string }[] };
    expect(j.mode).toBe('dry-run');
    expect(j.hosts.find((h) => h.host === 'cp-2')!.script).toContain('\nkubeadm certs renew all\n');
  });

  it('refuses what does not apply, a bad --min-remaining, and a run without --yes off a terminal, before connecting', () => {
    const only = kb(['certs', 'renew', VIP, '--only', 'cp-1']);
    expect(only.code).toBe(2);
    expect(only.stderr).toContain('certs renew: --only does not apply: every control plane is renewed, one at a time');
    const bad = kb(['certs', 'renew', VIP, '--min-remaining', '3 weeks']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a duration like 30d, 720h or 90m');
    const noYes = kb(['certs', 'renew', VIP]);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('certs renew: refusing without --yes: there is no terminal to confirm on');
    expect(noYes.stdout).toBe('');
  });

  it('is in the help, with check and renew', () => {
    const h = kb(['certs', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toMatch(/^ {2}check <inventory> /m);
    expect(h.stdout).toMatch(/^ {2}renew <inventory> /m);
  });
});
