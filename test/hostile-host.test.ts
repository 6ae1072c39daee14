/**
 * A hostile host cannot drive the operator's terminal (issue 23), over real
 * SSH: a throwaway sshd on 127.0.0.1 in its own mount namespace, where
 * /etc/os-release names the OS with an OSC title change, a screen clear and
 * the 8-bit CSI, and `kubelet --version` answers with escape sequences too.
 * `kbootstrap status` must print them as visible text. Needs root, sshd and
 * unshare; skips loudly otherwise.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../src/cli.js';

const SSHD = '/usr/sbin/sshd';
const why = process.getuid?.() !== 0 ? 'not root' : !existsSync(SSHD) ? `${SSHD} is missing (apt-get install openssh-server)` : '';
if (why) console.warn(`hostile-host.test: ${why}: kbootstrap status against a hostile sshd is SKIPPED`);

// eslint-disable-next-line no-control-regex -- looking for control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/;
const PRETTY = 'Rocky\x1b]0;pwned\x07 \x1b[2J\x9b31mLinux 9.4';

let dir: string;
let sshd: ChildProcess | undefined;
let port = 0;
let savedHome: string | undefined;

function listening(p: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port: p }, () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

beforeAll(async () => {
  if (why) return;
  dir = mkdtempSync(join(tmpdir(), 'kb-hostile-'));
  for (const k of ['hostkey', 'client']) execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', join(dir, k)]);
  writeFileSync(join(dir, 'sshd_config'), [
    `AuthorizedKeysFile ${join(dir, 'client.pub')}`,
    'PermitRootLogin prohibit-password', 'UsePAM no', 'StrictModes no', 'PidFile none',
    'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'LogLevel ERROR',
  ].join('\n') + '\n');
  writeFileSync(join(dir, 'os-release'), `ID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="9.4"\nPRETTY_NAME="${PRETTY}"\n`);
  mkdirSync(join(dir, 'bin'));
  writeFileSync(join(dir, 'bin', 'kubelet'), "#!/bin/sh\nprintf 'Kubernetes v1.30.4\\033[2J\\033]0;owned\\007\\n'\n");
  chmodSync(join(dir, 'bin', 'kubelet'), 0o755);
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  for (let p = 2400 + (process.pid % 500); ; p++) if (!(await listening(p))) { port = p; break; }
  // only this sshd (and what it runs) sees the planted files: its own mount namespace
  sshd = spawn('unshare', ['-m', '--propagation', 'private', 'sh', '-c',
    'mount --bind "$1/os-release" /etc/os-release && mount --bind "$1/bin" /usr/local/bin && exec "$2" -D -e -f "$1/sshd_config" -o "ListenAddress=127.0.0.1:$3" -o "HostKey=$1/hostkey"',
    'sh', dir, SSHD, String(port)], { stdio: 'ignore' });
  for (let i = 0; i < 50 && !(await listening(port)); i++) await new Promise((r) => setTimeout(r, 100));
  if (!(await listening(port))) throw new Error(`sshd did not listen on 127.0.0.1:${port}`);
  // ~/.ssh/known_hosts is always read too: an empty home keeps this machine's file out of the test
  savedHome = process.env.HOME;
  process.env.HOME = join(dir, 'home');
}, 30_000);

afterAll(async () => {
  const p = sshd;
  if (p && p.exitCode === null) await new Promise<void>((resolve) => { p.once('exit', () => resolve()); p.kill('SIGTERM'); });
  if (savedHome !== undefined) process.env.HOME = savedHome;
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(why !== '')('a hostile host over real SSH', () => {
  it('status prints its PRETTY_NAME and kubelet version with the control characters made visible', async () => {
    const inv = join(dir, 'inv.yaml');
    writeFileSync(inv, `apiVersion: kbootstrap/v1
kind: Inventory
cluster: { name: hostile, kubernetesVersion: "1.30.4" }
ssh: { user: root, port: ${port}, privateKeyPath: ${join(dir, 'client')}, knownHostsPath: ${join(dir, 'known_hosts')} }
hosts:
  - { name: evil, address: 127.0.0.1, role: control-plane }
`);
    let out = '';
    let err = '';
    const code = await main(['node', 'kbootstrap', 'status', inv, '--accept-new-host-keys', '--ssh-config', 'none'], { out: (s) => { out += s; }, err: (s) => { err += s; }, isTTY: false });
    expect(err).not.toMatch(CONTROL);
    expect(out).not.toMatch(CONTROL);
    expect(out).toContain('Rocky\\x1b]0;pwned\\x07 \\x1b[2J\\x9b31mLinux 9.4');
    expect(out).toContain('v1.30.4\\x1b[2J\\x1b]0;owned\\x07');
    // not joined: a cluster read nobody answers
    expect(code).toBe(1);
  }, 60_000);
});
