// The managed files' check (templates/common/file-state.sh.hbs, kb_file_state in templates/prelude.sh) run by real bash: each file's sha256 and
// mode, or missing, in the order given, with one sha256sum and one stat for all the files there are.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { render } from '../src/shell/templates.js';
import { withPrelude } from '../src/shell/prelude.js';

const dir = mkdtempSync(join(tmpdir(), 'kb-file-state-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

/** a bin directory whose sha256sum and stat log each call before running the real ones */
function countingBin(): { bin: string; calls: () => string[] } {
  const bin = join(dir, 'bin');
  const log = join(dir, 'calls');
  mkdirSync(bin, { recursive: true });
  for (const prog of ['sha256sum', 'stat']) {
    const real = spawnSync('bash', ['-c', `command -v ${prog}`], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(bin, prog), `#!/bin/sh\necho ${prog} >>'${log}'\nexec '${real}' "$@"\n`);
    chmodSync(join(bin, prog), 0o755);
  }
  writeFileSync(log, '');
  return { bin, calls: () => readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

function run(paths: string[], env: NodeJS.ProcessEnv = process.env): string {
  const script = withPrelude(render('common/file-state', { paths }));
  const r = spawnSync('bash', ['-c', `set +euo pipefail\n${script}`], { encoding: 'utf8', env });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  return r.stdout;
}

describe('common/file-state', () => {
  const a = join(dir, 'a.conf');
  const spaced = join(dir, 'with space.conf');
  const odd = join(dir, 'back\\slash.conf');
  const missing = join(dir, 'missing.conf');
  const sub = join(dir, 'a-directory');
  const link = join(dir, 'link.conf');
  writeFileSync(a, 'a=1\n');
  chmodSync(a, 0o644);
  writeFileSync(spaced, 'b=2\n');
  chmodSync(spaced, 0o600);
  writeFileSync(odd, '');
  chmodSync(odd, 0o640);
  mkdirSync(sub);
  symlinkSync(a, link);

  it('gives each file its sha256 and mode, or missing, in the order given, with one sha256sum and one stat', () => {
    const { bin, calls } = countingBin();
    const out = run([missing, a, spaced, sub, odd, link, a], { ...process.env, PATH: `${bin}:${process.env.PATH}` });
    expect(out).toBe([
      `file=${missing} missing`,
      `file=${a} ${sha(a)} 644`,
      `file=${spaced} ${sha(spaced)} 600`,
      // not a regular file
      `file=${sub} missing`,
      `file=${odd} ${sha(odd)} 640`,
      // the link's content is its target's; its mode is the link's own, as stat shows it
      `file=${link} ${sha(a)} 777`,
      `file=${a} ${sha(a)} 644`,
      '',
    ].join('\n'));
    expect(calls()).toEqual(['sha256sum', 'stat']);
  });

  it('no file there: no sha256sum and no stat', () => {
    const { bin, calls } = countingBin();
    expect(run([missing], { ...process.env, PATH: `${bin}:${process.env.PATH}` })).toBe(`file=${missing} missing\n`);
    expect(calls()).toEqual([]);
  });

  it('when the one read fails, each file is read on its own', () => {
    // a sha256sum that fails with several files (as with one it cannot read) but reads stdin as the real one
    const bin = join(dir, 'failing');
    mkdirSync(bin, { recursive: true });
    const real = spawnSync('bash', ['-c', 'command -v sha256sum'], { encoding: 'utf8' }).stdout.trim();
    writeFileSync(join(bin, 'sha256sum'), `#!/bin/sh\nif [ "$1" = -- ]; then echo "sha256sum: cannot read" >&2; exit 1; fi\nexec '${real}' "$@"\n`);
    chmodSync(join(bin, 'sha256sum'), 0o755);
    expect(run([a, missing, spaced], { ...process.env, PATH: `${bin}:${process.env.PATH}` })).toBe(
      `file=${a} ${sha(a)} 644\nfile=${missing} missing\nfile=${spaced} ${sha(spaced)} 600\n`);
  });

  it('passes shellcheck', () => {
    const r = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: withPrelude(render('common/file-state', { paths: ['/etc/a', '/etc/b c'] })), encoding: 'utf8' });
    if (r.error) throw new Error(`shellcheck is required for this test: ${r.error.message}`);
    expect(r.stdout).toBe('');
  });
});
