/**
 * `up` on a real terminal (a tmux pane, so the listr2 view draws and Ctrl-C
 * comes from the terminal driver, as it does for a user): the first Ctrl-C
 * lets the running steps finish and exits 130, and the next `up` resumes;
 * a failed host is drawn with a red ✖ and its reason.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labUp, REPO } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { writeInventory } from './inventory.js';
import { keepTmuxServer } from '../support/tmux.js';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const SOCKET = `kbe2e-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: () => boolean, ms: number, label: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label()}`);
    await sleep(100);
  }
}

/** Run the CLI in a pane; optionally type KEYS once the screen matches AT. Returns the last screen (with colours) and the exit code. */
async function inPane(name: string, args: string[], o: { at?: RegExp; keys?: string[]; timeoutMs?: number } = {}): Promise<{ screen: string; plain: string; code: number; cursorVisible: boolean }> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-e2e-pty-'));
  const rc = join(dir, 'rc');
  // the agent of whoever runs the tests must not decide them (as in cli.ts)
  const cmd = `unset SSH_AUTH_SOCK; ${process.execPath} ${join(REPO, 'bin', 'kbootstrap.js')} ${args.join(' ')}; echo $? > ${rc}; sleep 60`;
  tmux('new-session', '-d', '-s', name, '-x', '110', '-y', '60', cmd);
  const plain = () => tmux('capture-pane', '-p', '-t', name);
  if (o.at) {
    await waitFor(() => o.at!.test(plain()), o.timeoutMs ?? 60_000, () => `${o.at} on screen:\n${plain()}`);
    for (const k of o.keys ?? []) tmux('send-keys', '-t', name, k);
  }
  await waitFor(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== '', o.timeoutMs ?? 120_000, () => `the CLI to exit; screen:\n${plain()}`);
  const result = {
    screen: tmux('capture-pane', '-p', '-e', '-t', name), plain: plain(), code: Number(readFileSync(rc, 'utf8').trim()),
    // what the shell the user gets back shows: tmux's own record of the cursor mode (DECTCEM)
    cursorVisible: tmux('display-message', '-p', '-t', name, '#{cursor_flag}').trim() === '1',
  };
  tmux('kill-session', '-t', name);
  return result;
}

describe.skipIf(!!LAB_SKIP_REASON || !hasTmux)('up on a terminal', () => {
  let hosts: { name: string; address: string }[] = [];
  beforeAll(async () => {
    labDown();
    keepTmuxServer(SOCKET);
    hosts = (await labUp({ hosts: 2, family: 'rhel' })).hosts;
  });
  afterAll(() => { spawnSync('tmux', ['-L', SOCKET, 'kill-server']); labDown(); });

  it('Ctrl-C: running steps finish, no new ones start, exit 130; the next up resumes and converges', async () => {
    const inv = writeInventory();
    // Ctrl-C once the view shows a finished prepare step, while later steps are still to come
    const r = await inPane('up', ['up', inv], { at: /hosts-file: (changed|ok)/, keys: ['C-c'] });
    expect(r.code, r.plain).toBe(130);
    expect(r.plain).toContain('stopping after the running steps');
    // said when it happened: above the steps the view went on drawing, not after the run's failure lines (issue 25)
    expect(r.plain.indexOf('stopping after the running steps'), r.plain).toBeLessThan(r.plain.search(/↓ \d+ steps? not run: interrupted/));
    expect(r.cursorVisible).toBe(true);
    // the steps it did not start are one line per host, not a list
    expect(r.plain).toMatch(/↓ \d+ steps? not run: interrupted/);
    expect(r.plain).not.toMatch(/Interrupted\.|exit(ed)? 127/);
    const again = await kb(['up', inv, '--output', 'json']);
    expect(notOk(again)).toEqual([]);
    expect(again.code).toBe(0);
    // something was left for the second run to do: the first one really stopped early
    expect(changed(again).length).toBeGreaterThan(0);
    const third = await kb(['up', inv, '--output', 'json']);
    expect(changed(third)).toEqual([]);
  });

  it('two Ctrl-Cs: aborted at once, says so, and leaves the terminal with its cursor (issue 25)', async () => {
    const inv = writeInventory();
    await kb(['reset', inv, '--all', '--yes']);
    const r = await inPane('abort', ['up', inv], { at: /hosts-file: (changed|ok)/, keys: ['C-c', 'C-c'] });
    process.stdout.write(`\n----- terminal: kbootstrap up, Ctrl-C twice -----\n${r.plain.trimEnd()}\n-----\n`);
    expect(r.code, r.plain).toBe(130);
    expect(r.plain).toContain('kbootstrap: stopping after the running steps (Ctrl-C again to abort)');
    expect(r.plain).toContain('kbootstrap: aborted; a command already sent may still finish on its host: run the same command again to resume');
    expect(r.cursorVisible, 'the cursor listr2 hid is shown again').toBe(true);
  });

  it('a host that cannot be reached is a red ✖ with its reason; its steps are one line; the summary shows the time it took', async () => {
    const inv = writeInventory({ hosts: [hosts[0]!, { name: 'lab-09', address: '10.213.0.99' }] });
    const r = await inPane('failed', ['up', inv]);
    // for the record (and the report): the screen as the user saw it
    process.stdout.write(`\n----- terminal: kbootstrap up with an unreachable host -----\n${r.plain.trimEnd()}\n-----\n`);
    expect(r.code).toBe(1);
    const red = '\x1b[31m';
    expect(r.screen).toMatch(new RegExp(`${red.replace('[', '\\[')}✖\\x1b\\[39m lab-09: cannot connect: (no answer from 10\\.213\\.0\\.99:22 within 3s|10\\.213\\.0\\.99 is unreachable) \\(\\d+ steps not run\\)`));
    expect(r.plain).not.toMatch(/✔ lab-09/);
    expect(r.plain.match(/lab-09/g)!.length).toBeLessThan(6);
    // connectTimeoutSeconds is 3 (a timeout is not retried): the summary must not say 0.0s
    const row = r.plain.split('\n').find((l) => /^lab-09\s/.test(l))!;
    expect(Number(/(\d+\.\d)s\s*$/.exec(row)![1])).toBeGreaterThanOrEqual(3);
  });
});
