/**
 * bash -n and shellcheck on golden files. The golden files are the same bytes on every Node line (each golden test
 * compares them first), so .ci/node-matrix (KBOOTSTRAP_MATRIX_SKIP_ORACLES, see there) leaves shellcheck's judgement
 * of them to the machine's own node: about a second of shellcheck per big script.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { expect } from 'vitest';

export function checkScripts(files: string[]): void {
  for (const f of files) execFileSync('bash', ['-n', f]);
  if (process.env.KBOOTSTRAP_MATRIX_SKIP_ORACLES === '1') return;
  // one shellcheck for them all (its gcc format names the file of each finding)
  const r = spawnSync('shellcheck', ['-s', 'bash', '-f', 'gcc', ...files], { encoding: 'utf8' });
  if (r.error) throw new Error(`shellcheck is required for this test (apt-get install shellcheck): ${r.error.message}`);
  expect(r.stdout, 'shellcheck findings').toBe('');
  expect(r.status).toBe(0);
}
