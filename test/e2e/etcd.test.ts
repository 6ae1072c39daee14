/**
 * etcd backup and restore, and leaving etcd on reset (issue 22), with a REAL
 * etcd 3.5 (Debian trixie's) as the store of the lab's cluster: every control
 * plane runs a member (sim/etcd.mjs), the simulated API server keeps the
 * cluster's objects in it, and kbootstrap's backup and restore move real etcd
 * data with the real etcdctl and etcdutl.
 *
 * 3 control planes + 1 worker: a reset that would cost etcd its quorum is
 * refused; reset --host of a control plane removes its member first, and up
 * brings it back; backup; a ConfigMap changed after it; reset --all; a damaged
 * copy of the backup refused; restore + up: the label and the ConfigMap of
 * before the backup are back, and etcd has its three members again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labSh, labUp, startHost, stopHost } from '../lab/lab.js';
import { labEtcd } from '../lab/etcd.js';
import { kb, notOk } from './cli.js';
import { writeInventory } from './inventory.js';

const CPS = ['lab-01', 'lab-02', 'lab-03'];
const etcd = LAB_SKIP_REASON ? { skip: LAB_SKIP_REASON } : labEtcd();
const skip = 'skip' in etcd ? etcd.skip : '';
if (skip) console.warn(`etcd e2e SKIPPED: ${skip}`);

const kubectl = (args: string) => labSh('lab-01', `kubectl --kubeconfig /etc/kubernetes/admin.conf ${args}`);
/** etcd's members, as the real etcdctl on lab-01 lists them (its own etcd, kubeadm's client certificate) */
const members = (host = 'lab-01') => labSh(host, 'etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key member list -w simple')
  .stdout.split('\n').filter(Boolean).map((l) => l.split(', ')[2]).sort();

describe.skipIf(!!skip)('etcd: backup, restore, leaving etcd on reset (real etcd 3.5)', () => {
  let inv = '';
  const dir = mkdtempSync(join(tmpdir(), 'kb-etcd-e2e-'));
  const backup = join(dir, 'cluster.tar.gz');
  beforeAll(async () => {
    labDown();
    const hosts = (await labUp({ hosts: 4, family: 'debian', etcd: (etcd as { dir: string }).dir })).hosts;
    inv = writeInventory({ hosts, roles: Object.fromEntries(CPS.map((h) => [h, 'control-plane' as const])) });
  }, 120_000);
  afterAll(() => labDown());

  it('up: three control planes, each an etcd member; the cluster\'s objects live in etcd', async () => {
    const r = await kb(['up', inv, '--output', 'json']);
    expect(notOk(r), JSON.stringify(notOk(r)).slice(0, 3000)).toEqual([]);
    expect(members()).toEqual(CPS);
    expect(kubectl('label node lab-04 kblab.test/backup=before').code).toBe(0);
    const cm = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\n  namespace: default\ndata:\n  when: before-backup\n';
    expect(labSh('lab-01', `printf '%s' '${cm}' | kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f -`).code).toBe(0);
    // the value really is in etcd: read with etcdctl, not through the simulation
    const raw = labSh('lab-02', 'etcdctl --endpoints https://127.0.0.1:2379 --cacert /etc/kubernetes/pki/etcd/ca.crt --cert /etc/kubernetes/pki/etcd/healthcheck-client.crt --key /etc/kubernetes/pki/etcd/healthcheck-client.key get /registry/kblab/cluster --print-value-only');
    expect(raw.stdout).toContain('before-backup');
  }, 300_000);

  it('reset --host of a control plane is refused, changing nothing, when the members left would lack a quorum', async () => {
    stopHost('lab-03');
    try {
      const r = await kb(['reset', inv, '--host', 'lab-02', '--yes']);
      expect(r.code).toBe(1);
      expect(r.stdout).toContain('reset: nothing was reset: removing lab-02 from etcd leaves 2 members of which 1 is healthy (lab-03 is not): a quorum needs 2');
      expect(r.stdout).toMatch(/^lab-02 +0 +0 +0 +0 /m);
    } finally {
      startHost('lab-03');
    }
    expect(labSh('lab-02', 'test -f /etc/kubernetes/admin.conf').code).toBe(0);
    expect(members()).toEqual(CPS);
  }, 120_000);

  it('reset --host of a control plane removes its etcd member first; up brings it back as a member', async () => {
    const r = await kb(['reset', inv, '--host', 'lab-03', '--yes']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^lab-03: etcd-leave: changed \(was: etcd member [0-9a-f]+\)/m);
    expect(members()).toEqual(['lab-01', 'lab-02']);
    const up = await kb(['up', inv, '--output', 'json']);
    expect(notOk(up)).toEqual([]);
    expect(members()).toEqual(CPS);
  }, 300_000);

  it('backup: a real snapshot, the PKI and kubeadm-config in one 0600 archive with its sha256 beside it', async () => {
    const r = await kb(['backup', inv, '--file', backup]);
    expect(r.code, r.stderr).toBe(0);
    expect(statSync(backup).mode & 0o777).toBe(0o600);
    expect(r.stderr).toContain(`${backup} holds the cluster's private keys`);
    expect(readFileSync(`${backup}.sha256`, 'utf8')).toMatch(/^[0-9a-f]{64} {2}cluster\.tar\.gz\n$/);
    // nothing of it stays on the control plane
    expect(labSh('lab-01', 'ls /var/lib/etcd/kbootstrap-snapshot.db /var/lib/kbootstrap/backup/pki.tar 2>&1').stdout).not.toMatch(/^\/var/m);
    const again = await kb(['backup', inv, '--file', backup]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('exists; kbootstrap does not overwrite a backup');
    // changed after the backup: the restore must bring back the value of before
    expect(labSh('lab-01', `kubectl --kubeconfig /etc/kubernetes/admin.conf apply -f - <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: kept
  namespace: default
data:
  when: after-backup
EOF`).code).toBe(0);
  }, 120_000);

  it('reset --all, then restore refuses a changed byte (naming the file) and restores the real backup; up brings the cluster back with its objects', async () => {
    const reset = await kb(['reset', inv, '--all', '--yes']);
    expect(reset.code, reset.stderr).toBe(0);
    const bad = join(dir, 'bad.tar.gz');
    const bytes = readFileSync(backup);
    bytes[bytes.length >> 1]! ^= 0x10;
    writeFileSync(bad, bytes);
    copyFileSync(`${backup}.sha256`, `${bad}.sha256`);
    const refused = await kb(['restore', inv, '--from', bad, '--yes']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(new RegExp(`^kbootstrap: ${bad.replace(/\./g, '\\.')}: not a usable kbootstrap backup: .*nothing was changed on any host\\n$`));
    expect(labSh('lab-01', 'test -e /var/lib/etcd/member').code).not.toBe(0);

    const restored = await kb(['restore', inv, '--from', backup, '--yes', '--output', 'json']);
    expect(restored.code, restored.stdout + restored.stderr).toBe(0);
    expect(restored.stderr).toContain(`now run kbootstrap up ${inv}`);
    const up = await kb(['up', inv, '--output', 'json']);
    expect(notOk(up)).toEqual([]);
    expect(kubectl('get configmap kept -o yaml').stdout).toContain('when: before-backup');
    expect(kubectl('get node lab-04 -o yaml').stdout).toContain('kblab.test/backup: before');
    expect(members()).toEqual(CPS);
    // and a restore onto the running cluster is refused, changing nothing
    const onto = await kb(['restore', inv, '--from', backup, '--yes']);
    expect(onto.code).toBe(1);
    expect(onto.stdout + onto.stderr).toContain('a cluster answers on lab-01');
  }, 600_000);
});
