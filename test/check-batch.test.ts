// A batch of read-only checks run by real bash: side by side (parallel) it prints what it prints one
// check after another, in the checks' order, with each check's exit code, and lasts as long as its
// slowest check rather than the sum.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { batchBody, parseBatch } from '../src/shell/prelude.js';
import type { CheckRequest } from '../src/transport/types.js';

const checks: CheckRequest[] = [
  // the slowest first: its output must still come first
  { step: 'slow', script: "sleep 1\necho 'slow done'\nexit 3" },
  { step: 'stderr', script: 'echo out\necho err >&2' },
  { step: 'also-slow', script: 'sleep 1\nprintf "%s\\n" "$(printf nested)"' },
  { step: 'quiet', script: 'true' },
  // a check that reads stdin gets nothing, as in the sequential batch
  { step: 'stdin', script: 'cat; echo after-stdin' },
];

const dir = mkdtempSync(join(tmpdir(), 'kb-batch-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(script: string, env: NodeJS.ProcessEnv = process.env): { stdout: string; seconds: number } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-c', `set +euo pipefail\n${script}`], { input: 'not for the checks\n', encoding: 'utf8', env });
  expect(r.status, r.stderr).toBe(0);
  return { stdout: r.stdout, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

describe('batchBody', () => {
  const sequential = run(batchBody(checks));

  it('side by side: the same output as one check after another, in less time than the sum', () => {
    const parallel = run(batchBody(checks, true));
    expect(parallel.stdout).toBe(sequential.stdout);
    expect(sequential.seconds).toBeGreaterThan(2);
    // the two 1 s checks overlap (a margin of most of a second for a loaded machine's process starts)
    expect(parallel.seconds).toBeLessThan(1.9);
    expect(parseBatch(checks, parallel.stdout)).toEqual([
      { step: 'slow', code: 3, stdout: 'slow done\n' },
      { step: 'stderr', code: 0, stdout: 'out\nerr\n' },
      { step: 'also-slow', code: 0, stdout: 'nested\n' },
      { step: 'quiet', code: 0, stdout: '' },
      { step: 'stdin', code: 0, stdout: 'after-stdin\n' },
    ]);
  });

  it('without a temporary directory (mktemp fails) the checks run one after another, with the same output', () => {
    const bin = join(dir, 'bin');
    spawnSync('mkdir', ['-p', bin]);
    writeFileSync(join(bin, 'mktemp'), '#!/bin/sh\necho "mktemp: cannot create" >&2\nexit 1\n');
    chmodSync(join(bin, 'mktemp'), 0o755);
    const r = run(batchBody(checks, true), { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    expect(r.stdout).toBe(sequential.stdout);
    expect(r.seconds).toBeGreaterThan(2);
  });

  it('leaves no temporary directory behind', () => {
    const tmp = join(dir, 'tmp');
    spawnSync('mkdir', ['-p', tmp]);
    run(batchBody(checks, true), { ...process.env, TMPDIR: tmp });
    expect(spawnSync('ls', ['-A', tmp], { encoding: 'utf8' }).stdout).toBe('');
  });

  it('one check alone runs as before', () => {
    expect(batchBody(checks.slice(0, 1), true)).toBe(batchBody(checks.slice(0, 1)));
  });

  it('passes shellcheck', () => {
    const r = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: batchBody(checks, true), encoding: 'utf8' });
    if (r.error) throw new Error(`shellcheck is required for this test: ${r.error.message}`);
    expect(r.stdout).toBe('');
  });
});
