/**
 * A throwaway OpenSSH server on 127.0.0.1 for tests that drive kbootstrap's real SSH transport:
 * its own host key, one client key, root login by key only. Needs root and /usr/sbin/sshd
 * (`sshdMissing()` says why not, for a loud skip).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostSpec } from '../../src/inventory/model.js';
import { sshConnect, type SshTransport } from '../../src/ssh/transport.js';

const SSHD = '/usr/sbin/sshd';

export function sshdMissing(): string {
  return process.getuid?.() !== 0 ? 'not root' : !existsSync(SSHD) ? `${SSHD} is missing (apt-get install openssh-server)` : '';
}

const listening = (port: number) => new Promise<boolean>((resolve) => {
  const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

export interface Sshd {
  dir: string;
  /** a new connection as root, with kbootstrap's transport */
  connect(name?: string): Promise<SshTransport>;
  stop(): Promise<void>;
}

export async function startSshd(port: number): Promise<Sshd> {
  const dir = mkdtempSync(join(tmpdir(), 'kb-sshd-'));
  for (const k of ['hk', 'client']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', join(dir, k)]);
  writeFileSync(join(dir, 'sshd_config'), [`AuthorizedKeysFile ${join(dir, 'client.pub')}`, 'PermitRootLogin prohibit-password', 'UsePAM no', 'StrictModes no', 'PidFile none',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'LogLevel ERROR'].join('\n') + '\n');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${readFileSync(join(dir, 'hk.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  if (await listening(port)) throw new Error(`127.0.0.1:${port} is in use`);
  const sshd: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config'), '-o', `ListenAddress=127.0.0.1:${port}`, '-o', `HostKey=${join(dir, 'hk')}`], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 100));
  const key = readFileSync(join(dir, 'client'), 'utf8');
  const spec = (name: string): HostSpec => ({
    index: 0, name, address: '127.0.0.1', role: 'control-plane', labels: {},
    ssh: { user: 'root', port, privateKeyPath: join(dir, 'client'), knownHostsPath: join(dir, 'known_hosts'), connectTimeoutSeconds: 5, target: '127.0.0.1', explicit: {}, fieldPaths: {} },
  });
  return {
    dir,
    async connect(name = 'sshd') {
      // ~/.ssh/known_hosts is read too: a HOME of its own, so the machine's own file plays no part
      const saved = process.env.HOME;
      process.env.HOME = join(dir, 'home');
      try {
        return await sshConnect(spec(name), { creds: { keys: new Map([[join(dir, 'client'), key]]) }, acceptNewHostKeys: false, commandTimeoutMs: 300_000, connectAttempts: 1 });
      } finally {
        process.env.HOME = saved;
      }
    },
    async stop() {
      if (sshd.exitCode === null) await new Promise<void>((r) => { sshd.once('exit', () => r()); sshd.kill('SIGTERM'); });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
