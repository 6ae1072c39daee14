/**
 * The progress view on a real terminal (a tmux pane): while backup's snapshot
 * comes in, the running step's line says how far it is (issue 22 item 4);
 * when the step ends, its outcome replaces it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = join(import.meta.dirname, '..');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const SOCKET = `kbtest-progress-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(() => { if (hasTmux) spawnSync('tmux', ['-L', SOCKET, 'kill-server']); });

async function waitFor(what: () => boolean, ms: number, label: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label()}`);
    await sleep(100);
  }
}

describe.skipIf(!hasTmux)('the progress view in a pseudo-terminal', () => {
  it('the snapshot step\'s line shows the bytes copied while it runs, then its outcome', async () => {
    const seen = join(mkdtempSync(join(tmpdir(), 'kb-progress-')), 'seen');
    const cmd = `cd ${REPO} && ${join(REPO, 'node_modules', '.bin', 'tsx')} test/fixtures/pty/progress-view.ts ${seen}; sleep 30`;
    tmux('new-session', '-d', '-s', 'progress', '-x', '100', '-y', '20', cmd);
    const screen = () => tmux('capture-pane', '-p', '-t', 'progress');
    await waitFor(() => screen().includes('snapshot: 5.0 MiB of 10.0 MiB (50%)'), 20_000, () => `the progress line; screen:\n${screen()}`);
    expect(screen()).toMatch(/etcd-snapshot: snapshot: 5\.0 MiB of 10\.0 MiB \(50%\)/);
    writeFileSync(seen, '');
    await waitFor(() => screen().includes('done'), 20_000, () => `the end; screen:\n${screen()}`);
    expect(screen()).toContain('etcd-snapshot: changed (etcd healthy)');
    expect(screen()).not.toContain('(50%)');
    tmux('kill-session', '-t', 'progress');
  }, 60_000);
});
