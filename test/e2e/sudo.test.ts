/**
 * Issue 23: the sudo password must never reach a file. `up` (which uploads
 * files) as non-root users whose sudo asks, or does not ask, for a password;
 * afterwards no file anywhere in the host's changed layer holds the password,
 * and no output does.
 *
 * Before the fix the password went in front of every command's stdin, and an
 * upload is `cat` of stdin: when sudo did not ask (NOPASSWD, or a cached
 * credential under `timestamp_type=global`), the password became the first
 * line of the uploaded file.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { existsSync, lstatSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labExec, labUp, upperDir, USERS } from '../lab/lab.js';
import { kb, notOk } from './cli.js';
import { installSudoRs, prepareSudoRs, sudoRsUnavailable } from '../lab/sudo-rs.js';
import { writeInventory } from './inventory.js';

/** Every regular file of the host's upper layer that contains the needle. */
function filesHolding(host: string, needle: string): string[] {
  const hits: string[] = [];
  const root = upperDir(host);
  const walk = (dir: string) => {
    for (const e of readdirSync(dir)) {
      const p = join(dir, e);
      const st = lstatSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && readFileSync(p).includes(needle)) hits.push(p.slice(root.length));
    }
  };
  if (existsSync(root)) walk(root);
  return hits;
}

async function upAs(user: 'kbnp' | 'kbpw', password: string) {
  // password login only: the key is not offered
  const inv = writeInventory({ user, ssh: { privateKeyPath: undefined } });
  return kb(['up', inv, '--output', 'json'], { env: { KBOOTSTRAP_SSH_PASSWORD: password } });
}

describe.skipIf(!!LAB_SKIP_REASON)('the sudo password never reaches a file (up as a non-root user)', () => {
  beforeEach(async () => {
    labDown();
    await labUp({ hosts: 1, family: 'debian' });
  });
  afterAll(() => labDown());

  it('a NOPASSWD user who logs in with a password: sudo never asks, and the password (also the sudo password by default) is in no file', async () => {
    const pw = USERS.kbnp.password;
    const r = await upAs('kbnp', pw);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    // the file is kbootstrap's from its first line: nothing was put in front of it
    expect(labExec('lab-01', ['cat', '/etc/crictl.yaml']).stdout).toMatch(/^# kbootstrap: crictl talks to containerd\nruntime-endpoint: /);
    expect(filesHolding('lab-01', pw)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(pw);
    // a second run changes nothing: no file was taken for drifted
    const again = await upAs('kbnp', pw);
    expect(again.json!.hosts[0]!.changed).toBe(0);
    expect(filesHolding('lab-01', pw)).toEqual([]);
  });

  it('a user whose sudo asks for the password every time', async () => {
    const pw = USERS.kbpw.password;
    const r = await upAs('kbpw', pw);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(filesHolding('lab-01', pw)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(pw);
  });

  it('a user whose sudo asks once and then remembers it for every session (Defaults timestamp_type=global)', async () => {
    labExec('lab-01', ['/bin/sh', '-c', 'cat >> /etc/sudoers.d/kblab'], 'Defaults:kbpw timestamp_type=global, timestamp_timeout=60\n');
    const pw = USERS.kbpw.password;
    const r = await upAs('kbpw', pw);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    // sudo really remembered it: a later sudo in another session does not ask
    expect(labExec('lab-01', ['su', '-s', '/bin/sh', '-c', 'sudo -n true && echo cached', 'kbpw']).stdout).toBe('cached\n');
    expect(filesHolding('lab-01', pw)).toEqual([]);
    expect(r.stdout + r.stderr).not.toContain(pw);
  });

  it('a wrong sudo password: refused with sudo\'s reason, nothing written, the password shown nowhere', async () => {
    const inv = writeInventory({ user: 'kbnp', ssh: { privateKeyPath: undefined } });
    // kbnp logs in with its own password; sudo is asked as kbpw would be, with a wrong one: kbnp's sudo never asks, so this converges
    const ok = await kb(['up', inv, '--output', 'json', '--steps', 'crictl'], { env: { KBOOTSTRAP_SSH_PASSWORD: USERS.kbnp.password, KBOOTSTRAP_SUDO_PASSWORD: 'wrong-sudo-password' } });
    expect(notOk(ok)).toEqual([]);
    expect(filesHolding('lab-01', 'wrong-sudo-password')).toEqual([]);
    const pwInv = writeInventory({ user: 'kbpw', ssh: { privateKeyPath: undefined } });
    const bad = await kb(['up', pwInv, '--output', 'json', '--steps', 'sysctl'], { env: { KBOOTSTRAP_SSH_PASSWORD: USERS.kbpw.password, KBOOTSTRAP_SUDO_PASSWORD: 'wrong-sudo-password' } });
    expect(bad.code).toBe(1);
    expect(bad.json!.hosts[0]!.error).toBe('lab-01: kbpw: sudo rejected the password (KBOOTSTRAP_SUDO_PASSWORD)');
    expect(bad.stdout + bad.stderr).not.toContain('wrong-sudo-password');
    expect(filesHolding('lab-01', 'wrong-sudo-password')).toEqual([]);
  });

  it.skipIf(!!sudoRsUnavailable())('sudo-rs as sudo (Ubuntu 26.04): a user whose sudo-rs asks for the password, and a NOPASSWD one', async () => {
    const { dir, version } = prepareSudoRs();
    installSudoRs('lab-01', dir);
    expect(labExec('lab-01', ['sudo', '--version']).stdout).toBe(`sudo-rs ${version.replace(/-.*$/, '')}\n`);
    for (const [user, pw] of [['kbpw', USERS.kbpw.password], ['kbnp', USERS.kbnp.password]] as const) {
      const r = await upAs(user, pw);
      expect(notOk(r), user).toEqual([]);
      expect(r.code, user).toBe(0);
      expect(filesHolding('lab-01', pw), user).toEqual([]);
      expect(r.stdout + r.stderr, user).not.toContain(pw);
    }
  });
});
