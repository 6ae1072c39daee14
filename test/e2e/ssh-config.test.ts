/**
 * Hosts known only by their OpenSSH aliases: the inventory names no user, key,
 * port or known_hosts file, and one host is reachable only through a jump
 * host. kbootstrap must resolve what `ssh -G` resolves and converge through it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { LAB_DIR, LAB_KEY_FINGERPRINT, labDown, labSh, labUp, upperDir, type LabHost } from '../lab/lab.js';
import { loadInventoryFile } from '../../src/inventory/load.js';
import { applySshConfig } from '../../src/ssh/resolve.js';
import { kb } from './cli.js';
import { CALICO_FIXTURE, copyManifests } from './inventory.js';

/** `ssh -G` prints the configuration OpenSSH would use, without connecting. */
function sshG(file: string, alias: string): Map<string, string[]> {
  const r = spawnSync('ssh', ['-G', '-F', file, alias], { encoding: 'utf8' });
  expect(r.status, r.stderr).toBe(0);
  const m = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    const i = line.indexOf(' ');
    if (i > 0) m.set(line.slice(0, i), [...(m.get(line.slice(0, i)) ?? []), line.slice(i + 1)]);
  }
  return m;
}

describe.skipIf(!!LAB_SKIP_REASON)('hosts described only by aliases of an OpenSSH config', () => {
  let hosts: LabHost[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kb-sshcfg-e2e-'));
  const config = join(dir, 'config');
  const alias = (i: number) => `lab-node-${i + 1}`;
  let inv = '';

  beforeAll(async () => {
    labDown();
    hosts = (await labUp({ hosts: 5, family: 'rhel' })).hosts;
    const last = hosts[4]!;
    writeFileSync(config, [
      ...hosts.slice(0, 4).flatMap((h, i) => [`Host ${alias(i)}`, `  HostName ${h.address}`, '']),
      `Host ${alias(4)}`, `  HostName ${last.address}`, `  ProxyJump ${alias(0)}`, '',
      'Host lab-node-*',
      '  User root',
      `  IdentityFile ${join(LAB_DIR, 'id_ed25519')}`,
      `  UserKnownHostsFile ${join(LAB_DIR, 'known_hosts')}`,
      '  StrictHostKeyChecking yes',
      '  ConnectTimeout 5',
      '',
    ].join('\n'));
    // the last host accepts SSH only from the jump host: a direct connection from the machine is refused
    // (first in the file: the lab's config ends in a Match block)
    expect(labSh(last.name, `sed -i '1i AllowUsers root@${hosts[0]!.address}' /etc/ssh/kblab/sshd_config && kill -HUP 1 && sleep 1`).code).toBe(0);
    inv = join(dir, 'inventory.yaml');
    copyManifests(dir);
    writeFileSync(inv, stringify({
      apiVersion: 'kbootstrap/v1',
      kind: 'Inventory',
      cluster: { name: 'aliases', kubernetesVersion: '1.30.4', packageMirror: 'upstream', repositoryKeyFingerprints: [LAB_KEY_FINGERPRINT], cni: { plugin: 'calico', manifest: CALICO_FIXTURE }, kubeProxyMode: 'ipvs' },
      ssh: { configFile: config },
      hosts: hosts.map((h, i) => ({ name: h.name, address: h.address, role: i === 0 ? 'control-plane' : 'worker', ssh: { host: alias(i) } })),
    }));
  });
  afterAll(() => labDown());

  it('resolves what ssh -G resolves: HostName, User, Port, IdentityFile, known_hosts and the jump chain', () => {
    const { inventory } = loadInventoryFile(inv);
    const resolved = applySshConfig(inventory, inventory.hosts);
    for (const [i, h] of resolved.entries()) {
      const g = sshG(config, alias(i));
      expect(h.ssh.resolved!.address, alias(i)).toBe(g.get('hostname')![0]);
      expect(h.ssh.user, alias(i)).toBe(g.get('user')![0]);
      expect(String(h.ssh.port), alias(i)).toBe(g.get('port')![0]);
      expect(h.ssh.privateKeyPath, alias(i)).toBe(g.get('identityfile')![0]);
      expect(h.ssh.resolved!.knownHostsPaths, alias(i)).toEqual(g.get('userknownhostsfile')![0]!.split(' '));
      expect(String(h.ssh.connectTimeoutSeconds), alias(i)).toBe(g.get('connecttimeout')![0]);
      const jump = g.get('proxyjump')?.[0];
      expect(h.ssh.resolved!.jumps.map((j) => j.address), alias(i)).toEqual(jump ? [hosts[0]!.address] : []);
      if (jump) expect(jump).toBe(alias(0));
    }
    expect(resolved[4]!.ssh.resolved!.sources.user).toMatch(new RegExp(`^root \\(ssh config ${config}:\\d+\\)$`));
  });

  it('the last host refuses a direct connection, so only the jump host can reach it', () => {
    const r = spawnSync('ssh', ['-F', config, '-o', 'ProxyJump=none', '-o', 'BatchMode=yes', alias(4), 'true'], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
  });

  it('up converges through the aliases and the jump host; plan then has nothing to do', async () => {
    const up = await kb(['up', inv, '--output', 'json']);
    expect(up.json!.hosts.filter((h) => h.error).map((h) => h.error)).toEqual([]);
    expect(up.code).toBe(0);
    // the last host saw kbootstrap's connections come from the jump host's address
    const log = readFileSync(join(upperDir(hosts[4]!.name), 'var', 'log', 'kblab', 'sshd.log'), 'utf8');
    expect(log).toMatch(new RegExp(`Accepted publickey for root from ${hosts[0]!.address.replace(/\./g, '\\.')} `));
    const plan = await kb(['plan', inv, '--output', 'json']);
    expect(plan.code).toBe(0);
    const verbose = await kb(['check', inv, '--verbose']);
    // diagnostics, on stderr (issue 25: stdout stays the report)
    expect(verbose.stderr).toContain(`${hosts[4]!.name}: ssh address ${hosts[4]!.address} (ssh config ${config}:`);
    expect(verbose.stderr).toMatch(new RegExp(`${hosts[4]!.name}: .*jumps root@${hosts[0]!.address.replace(/\./g, '\\.')}:22`));
  });
});
