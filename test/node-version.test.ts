/**
 * Which Node.js runs the tests. `.ci/node-matrix` starts vitest with another
 * release and sets KBOOTSTRAP_EXPECT_NODE to its version: the test workers and
 * the CLI the tests spawn (process.execPath, as test/cli.test.ts does) must be
 * that release, not the machine's own node. Without the variable (npm test)
 * there is nothing to compare.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

const expected = process.env.KBOOTSTRAP_EXPECT_NODE;

describe.skipIf(!expected)('the node the matrix asked for', () => {
  it('runs the test worker', () => {
    expect(process.version).toBe(expected);
  });

  it('runs what the tests spawn with process.execPath', () => {
    const r = spawnSync(process.execPath, ['-p', 'process.version'], { encoding: 'utf8' });
    expect(r.stdout.trim()).toBe(expected);
  });
});
