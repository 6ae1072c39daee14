/**
 * Ctrl-C on a real terminal: the CLI runs in a tmux pane (a pseudo-terminal,
 * so inquirer prompts and the terminal's own SIGINT are the real ones), and
 * the test types Ctrl-C into it. No lab: the prompts come before any connection.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './support/build.js';
import { keepTmuxServer } from './support/tmux.js';

const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'bin', 'kbootstrap.js');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
// a socket of our own: never the user's tmux server
const SOCKET = `kbtest-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });


beforeAll(() => {
  // the tests run what a user runs: the bundle in dist/, built from the current sources
  ensureBuilt();
  if (hasTmux) keepTmuxServer(SOCKET);
}, 120_000);

afterAll(() => { if (hasTmux) spawnSync('tmux', ['-L', SOCKET, 'kill-server']); });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what: () => boolean, ms: number, label: string): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label}`);
    await sleep(100);
  }
}

/** Start ARGS in a pane, wait for PROMPT on screen, type KEYS; return the screen and the exit code. */
async function interrupt(name: string, args: string[], prompt: RegExp, keys: string[]): Promise<{ screen: string; code: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-pty-'));
  const rc = join(dir, 'rc');
  const cmd = `cd ${dir} && ${process.execPath} ${BIN} ${args.join(' ')}; echo $? > ${rc}; sleep 30`;
  tmux('new-session', '-d', '-s', name, '-x', '100', '-y', '30', cmd);
  const screen = () => tmux('capture-pane', '-p', '-t', name);
  await waitFor(() => prompt.test(screen()), 15_000, `${prompt} on screen; screen:\n${screen()}`);
  for (const k of keys) tmux('send-keys', '-t', name, k);
  await waitFor(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== '', 10_000, 'the CLI to exit');
  const code = Number(readFileSync(rc, 'utf8').trim());
  const s = screen();
  tmux('kill-session', '-t', name);
  return { screen: s, code };
}

const trimmed = (screen: string) => screen.split('\n').map((l) => l.trimEnd()).filter(Boolean);

describe.skipIf(!hasTmux)('Ctrl-C and Ctrl-D at prompts, in a pseudo-terminal', () => {
  it('Ctrl-C at the reset confirmation: one line, exit 130, no stack', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-pty-inv-'));
    const inv = join(dir, 'inv.yaml');
    writeFileSync(inv, readFileSync(join(REPO, 'inventories', 'lab.yaml'), 'utf8'));
    const { screen, code } = await interrupt('reset', ['reset', inv, '--host', 'k8s-node01'], /Reset k8s-node01/, ['C-c']);
    expect(code).toBe(130);
    const after = trimmed(screen.slice(screen.indexOf('Reset k8s-node01')));
    expect(after.at(-1)).toBe('kbootstrap: interrupted');
    expect(screen).not.toMatch(/ExitPromptError|\n\s+at /);
  }, 40_000);

  it('Ctrl-C in the init wizard: one line, exit 130, nothing written', async () => {
    const { screen, code } = await interrupt('wizard', ['init', 'new.yaml'], /Cluster name/, ['C-c']);
    expect(code).toBe(130);
    expect(trimmed(screen).at(-1)).toBe('kbootstrap: interrupted');
    expect(screen).not.toMatch(/ExitPromptError|\n\s+at /);
  }, 40_000);

  it('Ctrl-D in the init wizard: the same', async () => {
    const { screen, code } = await interrupt('wizard-d', ['init', 'new.yaml'], /Cluster name/, ['C-d']);
    expect(code).toBe(130);
    expect(trimmed(screen).at(-1)).toBe('kbootstrap: interrupted');
  }, 40_000);
});

describe.skipIf(!hasTmux)('the init wizard on a real terminal (inquirer\'s own prompts)', () => {
  it('defaults, a select moved with the arrow key, a refused address asked again: the inventory is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-pty-'));
    const rc = join(dir, 'rc');
    const name = 'wizard-walk';
    tmux('new-session', '-d', '-s', name, '-x', '100', '-y', '40', `cd ${dir} && ${process.execPath} ${BIN} init new.yaml; echo $? > ${rc}; sleep 30`);
    const screen = () => tmux('capture-pane', '-p', '-t', name);
    // each prompt, and what is typed at it (Enter takes the default)
    const steps: [RegExp, string[]][] = [
      [/Cluster name/, ['Enter']],
      [/Kubernetes version/, ['Enter']],
      [/Container runtime/, ['Enter']],
      [/CNI plugin/, ['Down', 'Enter']],
      [/Package and image mirror/, ['Enter']],
      // flannel publishes no manifest checksum: the wizard asks for the digest the user checked
      [/sha256 of the flannel manifest/, ['ab'.repeat(32), 'Enter']],
      [/kube-proxy mode/, ['Enter']],
      [/Pod network/, ['Enter']],
      [/Service network/, ['Enter']],
      [/SSH user for every host/, ['Enter']],
      [/SSH private key file/, ['-', 'Enter']],
      [/Address of host 1/, ['10.0.0.', 'Enter']],
      // the address's own rule refuses it on the prompt; the typed text stays, the rest is added to it
      [/expected an IPv4 address like .*, got "10\.0\.0\."/, ['5', 'Enter']],
      [/Name of host 1/, ['Enter']],
      // the SSH user was asked once, for every host (issue 25 point 4)
      [/Add another host/, ['n', 'Enter']],
    ];
    try {
      for (const [prompt, keys] of steps) {
        await waitFor(() => prompt.test(screen()), 15_000, `${prompt} on screen; screen:\n${screen()}`);
        for (const k of keys) tmux('send-keys', '-t', name, ...(k === 'Enter' || k === 'Down' ? [k] : ['-l', k]));
        await sleep(150);
      }
      await waitFor(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== '', 15_000, `the CLI to exit; screen:\n${screen()}`);
      expect(Number(readFileSync(rc, 'utf8').trim()), screen()).toBe(0);
      expect(screen()).toMatch(/wrote new\.yaml: 1 host/);
      const inv = readFileSync(join(dir, 'new.yaml'), 'utf8');
      expect(inv).toMatch(new RegExp(`^\\s*cni: \\{ plugin: flannel, sha256: "${'ab'.repeat(32)}" \\}`, 'm'));
      expect(inv).toMatch(/^\s*address: "10\.0\.0\.5"$/m);
      expect(inv).not.toMatch(/^\s*privateKeyPath:/m);
      expect(screen()).toMatch(/✔ CNI plugin flannel/);
      expect(screen()).toMatch(/✔ Add another host\? No/);
    } finally {
      spawnSync('tmux', ['-L', SOCKET, 'kill-session', '-t', name]);
    }
  }, 90_000);
});
