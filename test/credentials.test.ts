import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { parseInventory } from '../src/inventory/load.js';
import { resolveCredentials } from '../src/ssh/credentials.js';

const inv = (hosts: string) => parseInventory(`apiVersion: kbootstrap/v1
kind: Inventory
cluster: { name: c, kubernetesVersion: "1.30.4" }
ssh: { privateKeyPath: ${join(mkdtempSync(join(tmpdir(), 'kb-cred-')), 'shared-key')} }
hosts:
${hosts}`, 'inv.yaml').inventory;

describe('key files are named by the field that names them', () => {
  it('a per-host key that does not exist names hosts[i].ssh.privateKeyPath', async () => {
    const i = inv(`  - { name: a, address: 10.0.0.1, role: control-plane, ssh: { privateKeyPath: /nonexistent/a-key } }\n`);
    await expect(resolveCredentials(i.hosts, {})).rejects.toThrow('hosts[0].ssh.privateKeyPath /nonexistent/a-key: no such file');
  });

  it('the inventory-wide key names ssh.privateKeyPath', async () => {
    const i = inv(`  - { name: a, address: 10.0.0.1, role: control-plane }\n`);
    await expect(resolveCredentials(i.hosts, {})).rejects.toThrow(/^ssh\.privateKeyPath \/.*shared-key: no such file$/);
  });

  it('a readable key passes', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-cred-'));
    const key = join(dir, 'k');
    // any OpenSSH private key text that ssh2 can parse: an unencrypted ed25519 one made here
    const { spawnSync } = await import('node:child_process');
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const i = inv(`  - { name: a, address: 10.0.0.1, role: control-plane, ssh: { privateKeyPath: ${key} } }\n`);
    const creds = await resolveCredentials(i.hosts, {});
    expect([...creds.keys.keys()]).toEqual([key]);
  });
});
