/**
 * Bytes both ways over real SSH (issue 22 item 4): an upload of bytes that
 * are not UTF-8 arrives byte for byte, streamed in chunks with progress, and
 * a download gives the file's bytes back untouched (before, output was
 * decoded as UTF-8, which turns every invalid sequence into U+FFFD). A
 * throwaway sshd on 127.0.0.1:2224, kbootstrap's own transport; needs root
 * and /usr/sbin/sshd, skips loudly otherwise.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HostSpec } from '../src/inventory/model.js';
import { sshConnect } from '../src/ssh/transport.js';

const SSHD = '/usr/sbin/sshd';
const PORT = 2224;
const why = process.getuid?.() !== 0 ? 'not root' : !existsSync(SSHD) ? `${SSHD} is missing (apt-get install openssh-server)` : '';
if (why) console.warn(`ssh-transport-binary.test: ${why}: binary transfers over real SSH are SKIPPED`);

let dir = '';
let sshd: ChildProcess | undefined;

const listening = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

beforeAll(async () => {
  if (why) return;
  dir = mkdtempSync(join(tmpdir(), 'kb-binary-'));
  for (const k of ['hk', 'client']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', join(dir, k)]);
  writeFileSync(join(dir, 'sshd_config'), [`AuthorizedKeysFile ${join(dir, 'client.pub')}`, 'PermitRootLogin prohibit-password', 'UsePAM no', 'StrictModes no', 'PidFile none',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'LogLevel ERROR'].join('\n') + '\n');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${PORT} ${readFileSync(join(dir, 'hk.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  if (await listening(PORT)) throw new Error(`127.0.0.1:${PORT} is in use`);
  sshd = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config'), '-o', `ListenAddress=127.0.0.1:${PORT}`, '-o', `HostKey=${join(dir, 'hk')}`], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !(await listening(PORT)); i++) await new Promise((r) => setTimeout(r, 100));
});

afterAll(async () => {
  if (sshd && sshd.exitCode === null) await new Promise<void>((r) => { sshd!.once('exit', () => r()); sshd!.kill('SIGTERM'); });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const spec = (): HostSpec => ({
  index: 0, name: 'bin', address: '127.0.0.1', role: 'worker', labels: {},
  ssh: { user: 'root', port: PORT, privateKeyPath: join(dir, 'client'), knownHostsPath: join(dir, 'known_hosts'), connectTimeoutSeconds: 5, target: '127.0.0.1', explicit: {}, fieldPaths: {} },
});

describe.skipIf(why !== '')('binary transfers over real SSH', () => {
  it('uploads 3 MiB of bytes that are not UTF-8 in chunks with progress, and downloads them back byte for byte', async () => {
    const saved = process.env.HOME;
    process.env.HOME = join(dir, 'home');
    const t = await sshConnect(spec(), { creds: { keys: new Map([[join(dir, 'client'), readFileSync(join(dir, 'client'), 'utf8')]]) }, acceptNewHostKeys: false, commandTimeoutMs: 60_000, connectAttempts: 1 });
    try {
      // every byte value, invalid UTF-8 sequences (0xff, a lone continuation byte), NULs, then random bytes
      const data = Buffer.concat([Buffer.from([0xff, 0xfe, 0x80, 0x00, 0xc3]), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), randomBytes(3 << 20)]);
      const sent: number[] = [];
      const dest = join(dir, 'up', 'snapshot.db');
      await t.upload(data, dest, { step: 'test', mode: '0600', onProgress: (done) => sent.push(done) });
      expect(readFileSync(dest).equals(data)).toBe(true);
      expect(sent.length).toBeGreaterThan(10);
      expect(sent.at(-1)).toBe(data.length);
      expect(sent).toEqual([...sent].sort((a, b) => a - b));

      const received: number[] = [];
      const back = await t.download(dest, { step: 'test', onProgress: (done) => received.push(done) });
      expect(back.length).toBe(data.length);
      expect(back.equals(data)).toBe(true);
      expect(received.at(-1)).toBe(data.length);

      await expect(t.download(join(dir, 'missing'), { step: 'test' })).rejects.toThrow(/bin: test: .*read .*missing.*No such file/s);
    } finally {
      await t.close();
      process.env.HOME = saved;
    }
  }, 60_000);
});
