/**
 * Secrets a run must not leave on the hosts (issue 23, the low findings):
 * no backup of anything under /etc/kbootstrap (the join configuration holds
 * a join token and a certificate key), stale backups an older kbootstrap made
 * there removed by the step that writes the file and by reset, and no
 * bootstrap token of kubeadm init's own left in the cluster.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labExec, labUp, upperDir } from '../lab/lab.js';
import { kb, notOk } from './cli.js';
import { writeInventory } from './inventory.js';

// what a cut run of an older kbootstrap left: a join configuration with its secrets
const STALE_TOKEN = 'zz9zz9.stalestalestale1';
const STALE_KEY = 'e'.repeat(64);
const STALE_JOIN = `apiVersion: kubeadm.k8s.io/v1beta3\nkind: JoinConfiguration\ndiscovery:\n  bootstrapToken:\n    token: ${STALE_TOKEN}\ncontrolPlane:\n  certificateKey: ${STALE_KEY}\n`;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** Files under the host's /etc/kbootstrap, as the host's changed layer holds them. */
const kbootstrapFiles = (host: string) => walk(join(upperDir(host), 'etc/kbootstrap')).map((f) => f.slice(upperDir(host).length));

/** Files anywhere in the host's changed layer that hold the stale secrets. */
function holdingStaleSecrets(host: string): string[] {
  return walk(upperDir(host)).filter((f) => {
    try { const s = readFileSync(f, 'latin1'); return s.includes(STALE_TOKEN) || s.includes(STALE_KEY); } catch { return false; }
  }).map((f) => f.slice(upperDir(host).length));
}

function plant(host: string, path: string): void {
  expect(labExec(host, ['/bin/sh', '-c', `mkdir -p /etc/kbootstrap && umask 077 && cat > ${path}`], STALE_JOIN).code).toBe(0);
}

describe.skipIf(!!LAB_SKIP_REASON)('secrets left on hosts', () => {
  let inv = '';
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 3, family: 'debian' });
    inv = writeInventory();
  });
  afterAll(() => labDown());

  it('up: a join configuration a cut run left is not backed up, a stale backup of it is removed, and no copy of its secrets stays', async () => {
    // lab-02: a backup an older kbootstrap made of a join configuration; lab-03: the configuration itself, as a cut run leaves it
    plant('lab-02', '/etc/kbootstrap/kubeadm-join.yaml.kbootstrap.bak');
    plant('lab-03', '/etc/kbootstrap/kubeadm-join.yaml');
    const r = await kb(['up', inv, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    for (const h of ['lab-02', 'lab-03']) {
      expect(kbootstrapFiles(h), h).toEqual([]);
      expect(holdingStaleSecrets(h), h).toEqual([]);
    }
  });

  it('up: kubeadm init\'s own bootstrap token is gone once init is done (and the join tokens once the joins are)', () => {
    const list = labExec('lab-01', ['kubeadm', 'token', 'list', '-o', 'json']);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe('');
    // init was told to make it short-lived and to name it, in case a run is cut before it is deleted
    const cfg = readFileSync(join(upperDir('lab-01'), 'etc/kbootstrap/kubeadm-init.yaml'), 'utf8');
    expect(cfg).toContain('bootstrapTokens:\n  - description: made by kubeadm init, deleted by kbootstrap once init is done\n    ttl: 15m\n');
  });

  it('reset removes a stale backup of the join configuration', async () => {
    plant('lab-03', '/etc/kbootstrap/kubeadm-join.yaml.kbootstrap.bak');
    const r = await kb(['reset', inv, '--host', 'lab-03', '--yes']);
    expect(r.stdout).toMatch(/^lab-03: reset-host: changed \(was: left by kubeadm or kbootstrap: .*\/etc\/kbootstrap\/kubeadm-join\.yaml\.kbootstrap\.bak/m);
    expect(r.code).toBe(0);
    expect(kbootstrapFiles('lab-03')).toEqual([]);
    expect(holdingStaleSecrets('lab-03')).toEqual([]);
  });
});
