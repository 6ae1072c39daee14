// The layering rules in .dependency-cruiser.cjs, run the way `npm run lint`
// runs them, on a fixture tree with one planted violation per rule
// (test/fixtures/lint/src). The real src/ is never touched.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = join(ROOT, 'test/fixtures/lint');
const DEPCRUISE = join(ROOT, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const CONFIG = join(ROOT, '.dependency-cruiser.cjs');

interface Run { code: number; stdout: string }

/** depcruise on the fixture's src/ with the real config; resolves on any exit code. */
function depcruise(...args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [DEPCRUISE, 'src', '--config', CONFIG, ...args], { cwd: FIXTURE }, (err, stdout) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? Number(err.code) : 0, stdout });
    });
  });
}

interface Violation { rule: { name: string }; from: string; to: string }

/** A package inside node_modules is named by its package name, wherever node_modules is. */
const target = (to: string): string => to.replace(/^.*node_modules\/((?:@[^/]+\/)?[^/]+)\/.*$/, 'npm:$1');

let text: Run;
let found: string[];

beforeAll(async () => {
  const [err, json] = await Promise.all([depcruise(), depcruise('--output-type', 'json')]);
  text = err;
  const violations = (JSON.parse(json.stdout) as { summary: { violations: Violation[] } }).summary.violations;
  found = violations.map((v) => `${v.rule.name}: ${v.from} -> ${target(v.to)}`).sort();
}, 30_000);

describe('dependency rules (.dependency-cruiser.cjs)', () => {
  it('fail the run and name the rule when a step imports node-ssh', () => {
    expect(text.code).not.toBe(0);
    expect(text.stdout).toMatch(/error step-not-to-ssh-or-ui: src\/steps\/uses-node-ssh\.ts → \S*node_modules\/node-ssh\//);
  });

  it('report exactly the planted violations, one per rule, and nothing the rules allow', () => {
    expect(found).toEqual([
      'inventory-not-to-hosts: src/inventory/load.ts -> src/host/host.ts',
      'no-circular: src/cycle-a.ts -> src/cycle-b.ts',
      'src-not-to-dev-dependency: src/uses-dev-dependency.ts -> npm:vitest',
      'src-not-to-test: src/uses-test.ts -> test/helper.ts',
      'src-not-to-undeclared-package: src/uses-undeclared.ts -> npm:globals',
      'src-not-to-unresolvable: src/uses-undeclared.ts -> ./missing.js',
      'step-not-to-ssh-or-ui: src/steps/uses-listr-type.ts -> npm:listr2',
      'step-not-to-ssh-or-ui: src/steps/uses-node-ssh.ts -> npm:node-ssh',
      'step-not-to-ssh-or-ui: src/steps/uses-progress.ts -> src/progress.ts',
      'transport-not-upward: src/transport/uses-step.ts -> src/steps/allowed.ts',
    ]);
  });

  it('report an import cycle with every module on it', () => {
    expect(text.stdout).toMatch(/error no-circular: src\/cycle-a\.ts → \s*src\/cycle-b\.ts →\s*src\/cycle-a\.ts/);
  });
});
