/**
 * SSH as users have it: an encrypted key with its passphrase from the
 * environment, ssh-agent, and a bastion (jump host).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { LAB_DIR, labDown, labExec, labUp, type LabHost } from '../lab/lab.js';
import { kb } from './cli.js';
import { writeInventory } from './inventory.js';

const failures = (r: { json?: { hosts: { host: string; error?: string }[] } }) => (r.json?.hosts ?? []).filter((h) => h.error).map((h) => h.error);

describe.skipIf(!!LAB_SKIP_REASON)('ssh authentication and routes', () => {
  let hosts: LabHost[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kb-ssh-'));
  let agent: ChildProcess | undefined;
  beforeAll(async () => {
    labDown();
    hosts = (await labUp({ hosts: 2, family: 'rhel' })).hosts;
    for (const [k, pass] of [['encrypted', 'pp-secret'], ['agent-key', '']] as const) {
      spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', pass, '-C', k, '-f', join(dir, k)]);
      for (const h of hosts) labExec(h.name, ['/bin/sh', '-c', 'cat >> /root/.ssh/authorized_keys'], readFileSync(join(dir, `${k}.pub`), 'utf8'));
    }
  });
  afterAll(() => { agent?.kill(); labDown(); });

  it('an encrypted key: refused without a passphrase off a terminal, refused with a wrong one, used with the right one', async () => {
    const inv = writeInventory({ ssh: { privateKeyPath: join(dir, 'encrypted') } });
    const none = await kb(['plan', inv]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(`kbootstrap: the private key ${join(dir, 'encrypted')} is encrypted: set KBOOTSTRAP_SSH_PASSPHRASE (no terminal to ask on)\n`);
    const wrong = await kb(['plan', inv], { env: { KBOOTSTRAP_SSH_PASSPHRASE: 'nope' } });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toBe(`kbootstrap: ssh.privateKeyPath ${join(dir, 'encrypted')}: wrong passphrase (from KBOOTSTRAP_SSH_PASSPHRASE)\n`);
    const right = await kb(['plan', inv, '--output', 'json'], { env: { KBOOTSTRAP_SSH_PASSPHRASE: 'pp-secret' } });
    expect(failures(right)).toEqual([]);
    expect(right.code).toBe(3);
  });

  it('ssh-agent: no key file in the inventory, the agent holds it', async () => {
    const sock = join(dir, 'agent.sock');
    agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    for (let i = 0; i < 50 && spawnSync('test', ['-S', sock]).status !== 0; i++) spawnSync('sleep', ['0.05']);
    expect(spawnSync('ssh-add', [join(dir, 'agent-key')], { env: { ...process.env, SSH_AUTH_SOCK: sock } }).status).toBe(0);
    const inv = writeInventory({ ssh: { privateKeyPath: undefined } });
    const r = await kb(['plan', inv, '--output', 'json'], { env: { SSH_AUTH_SOCK: sock } });
    expect(failures(r)).toEqual([]);
    expect(r.code).toBe(3);
  });

  it('a bastion: lab-02 reached through lab-01; an unreachable target is reported as the bastion saw it', async () => {
    const bastion = { address: hosts[0]!.address, user: 'root', privateKeyPath: join(LAB_DIR, 'id_ed25519') };
    const inv = writeInventory({ hosts: [hosts[1]!], ssh: { bastion } });
    const r = await kb(['plan', inv, '--output', 'json']);
    expect(failures(r)).toEqual([]);
    // lab-02's sshd saw the connection come from the bastion, not from this machine
    expect(labExec('lab-02', ['cat', '/var/log/kblab/sshd.log']).stdout).toMatch(/Accepted publickey for root from 10\.213\.0\.11 port/);
    const far = writeInventory({ hosts: [{ name: 'lab-09', address: '10.213.0.99' }], ssh: { bastion } });
    const f = await kb(['plan', far, '--output', 'json']);
    expect(f.code).toBe(1);
    expect(failures(f)[0]).toMatch(/^lab-09: the jump host 10\.213\.0\.11 could not reach 10\.213\.0\.99:22: /);
  });
});
