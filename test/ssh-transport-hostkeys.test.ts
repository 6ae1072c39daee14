/**
 * Host key checking over real SSH, without the shared lab: a throwaway sshd on
 * 127.0.0.1 (port 2222, and 22 when that is free), kbootstrap's own transport.
 * Needs root and /usr/sbin/sshd; skips loudly otherwise.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostSpec } from '../src/inventory/model.js';
import { sshConnect, type SshOptions } from '../src/ssh/transport.js';

const SSHD = '/usr/sbin/sshd';
const why = process.getuid?.() !== 0 ? 'not root' : !existsSync(SSHD) ? `${SSHD} is missing (apt-get install openssh-server)` : '';
if (why) console.warn(`ssh-transport-hostkeys.test: ${why}: host key checks over real SSH are SKIPPED`);

let dir: string;
let savedHome: string | undefined;
let sshd: ChildProcess | undefined;
const clientKey = () => join(dir, 'client');

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** Starts sshd with this host key; false when the port is taken by something else. */
async function startSshd(port: number, hostKey: string): Promise<boolean> {
  await stopSshd();
  if (await listening(port)) return false;
  sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config'), '-o', `ListenAddress=127.0.0.1:${port}`, '-o', `HostKey=${join(dir, hostKey)}`], { stdio: 'ignore' });
  for (let i = 0; i < 50; i++) {
    if (await listening(port)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`sshd did not listen on 127.0.0.1:${port}`);
}

async function stopSshd(): Promise<void> {
  const p = sshd;
  sshd = undefined;
  if (!p || p.exitCode !== null) return;
  await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGTERM'); });
}

function spec(port: number, knownHosts: string): HostSpec {
  return {
    index: 0, name: 'hk', address: '127.0.0.1', role: 'worker', labels: {},
    ssh: { user: 'root', port, privateKeyPath: clientKey(), knownHostsPath: knownHosts, connectTimeoutSeconds: 5, target: '127.0.0.1', explicit: {}, fieldPaths: {} },
  };
}

function options(acceptNewHostKeys: boolean): SshOptions {
  return { creds: { keys: new Map([[clientKey(), readFileSync(clientKey(), 'utf8')]]) }, acceptNewHostKeys, commandTimeoutMs: 20_000, connectAttempts: 1 };
}

async function run(port: number, knownHosts: string, acceptNew: boolean): Promise<string> {
  const t = await sshConnect(spec(port, knownHosts), options(acceptNew));
  try {
    const r = await t.exec('echo ok', { step: 'probe', mutates: false });
    return r.stdout.trim();
  } finally {
    await t.close();
  }
}

beforeAll(() => {
  if (why) return;
  dir = mkdtempSync(join(tmpdir(), 'kb-hostkeys-'));
  for (const k of ['hk1', 'hk2', 'client']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', join(dir, k)]);
  writeFileSync(join(dir, 'sshd_config'), [
    `AuthorizedKeysFile ${join(dir, 'client.pub')}`,
    'PermitRootLogin prohibit-password', 'UsePAM no', 'StrictModes no', 'PidFile none',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'LogLevel ERROR',
  ].join('\n') + '\n');
  // sshd will not start without its privilege separation directory
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  // ~/.ssh/known_hosts is always read too: an empty home keeps this machine's file out of the test, and untouched
  savedHome = process.env.HOME;
  process.env.HOME = join(dir, 'home');
});

afterAll(async () => {
  await stopSshd();
  if (savedHome !== undefined) process.env.HOME = savedHome;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(why !== '')('host keys over real SSH', () => {
  for (const port of [2222, 22]) {
    it(`port ${port}: unknown refused, accept-new records once, a replaced key is refused with and without accept-new`, async () => {
      if (!(await startSshd(port, 'hk1'))) {
        console.warn(`ssh-transport-hostkeys.test: 127.0.0.1:${port} is in use by another program: port ${port} SKIPPED`);
        return;
      }
      const kh = join(dir, `known_hosts-${port}`);
      const fp1 = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'hk1.pub')], { encoding: 'utf8' }).split(' ')[1]!;
      const fp2 = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', join(dir, 'hk2.pub')], { encoding: 'utf8' }).split(' ')[1]!;

      await expect(run(port, kh, false)).rejects.toThrow(`unknown host key ${fp1} for 127.0.0.1:${port}`);
      expect(existsSync(kh)).toBe(false);

      expect(await run(port, kh, true)).toBe('ok');
      const recorded = readFileSync(kh, 'utf8');
      const name = port === 22 ? '127.0.0.1' : `[127.0.0.1]:${port}`;
      expect(recorded).toBe(`${name} ${readFileSync(join(dir, 'hk1.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);

      expect(await run(port, kh, true)).toBe('ok');
      expect(await run(port, kh, false)).toBe('ok');
      expect(readFileSync(kh, 'utf8')).toBe(recorded);

      await startSshd(port, 'hk2');
      for (const acceptNew of [false, true]) {
        await expect(run(port, kh, acceptNew)).rejects.toThrow(`HOST KEY CHANGED for 127.0.0.1:${port}: it now presents ${fp2}, ${kh}:1 holds another key`);
      }
      expect(readFileSync(kh, 'utf8')).toBe(recorded);
      expect(existsSync(join(dir, 'home', '.ssh', 'known_hosts'))).toBe(false);
    }, 60_000);
  }
});
