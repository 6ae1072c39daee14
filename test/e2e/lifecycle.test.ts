/**
 * The rest of a cluster's life on the lab: preflight check, join tokens,
 * adding nodes, kubeconfig, status, and resetting a host to rebuild it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { logDir } from '../../src/run/run-log.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labExec, labUp, setHardware, upperDir, type LabHost } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { writeInventory } from './inventory.js';

const SECRET = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b/;

describe.skipIf(!!LAB_SKIP_REASON)('lifecycle commands', () => {
  let hosts: LabHost[] = [];
  let inv2 = '';
  beforeAll(async () => {
    labDown();
    hosts = (await labUp({ hosts: 4, family: 'rhel' })).hosts;
    inv2 = writeInventory({ hosts: hosts.slice(0, 2) });
  });
  afterAll(() => labDown());

  it('check: passes fresh hosts, then flags a duplicated product_uuid and a control plane with too little memory', async () => {
    const ok = await kb(['check', inv2, '--output', 'json']);
    expect(ok.code).toBe(0);
    const uuid1 = labExec('lab-01', ['cat', '/sys/class/dmi/id/product_uuid']).stdout;
    labExec('lab-02', ['/bin/sh', '-c', 'cat > /sys/class/dmi/id/product_uuid'], uuid1);
    setHardware('lab-01', { memMiB: 1024 });
    const bad = await kb(['check', inv2]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('lab-01: memory: fail: 1024 MiB: a control plane needs 2 GiB; kubeadm refuses below 1700 MB');
    expect(bad.stdout).toContain(`lab-01: product_uuid: fail: duplicate ${uuid1.trim()} (also lab-02): cloned VMs confuse the cluster`);
    expect(bad.stdout).toContain(`lab-02: product_uuid: fail: duplicate ${uuid1.trim()} (also lab-01)`);
    expect(bad.stdout).toMatch(/^HOST\s+reachable\s+os\s+kernel\s+cpus\s+memory\s+product_uuid\s+mac\s+hostname\s+ports\s+clock\s+api-port\nlab-01\s+pass\s+pass\s+pass\s+pass\s+fail\s+fail/m);
    setHardware('lab-01', { memMiB: 2048 });
    labExec('lab-02', ['/bin/sh', '-c', 'cat /etc/kblab/product_uuid > /sys/class/dmi/id/product_uuid']);
  });

  it('builds the 2-host cluster', async () => {
    const r = await kb(['up', inv2, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
  });

  it('token: refuses --ttl 0 without --force; prints a join command only to stdout; list shows ids, not secrets; revoke', async () => {
    const forever = await kb(['token', inv2, '--ttl', '0']);
    expect(forever.code).toBe(2);
    expect(forever.stderr).toBe('kbootstrap: --ttl 0 makes a token that never expires: anyone who ever sees it can join nodes forever. Pass --force if you mean it\n');
    const t = await kb(['token', inv2, '--ttl', '1h']);
    expect(t.code).toBe(0);
    expect(t.stderr).toBe('');
    expect(t.stdout).toMatch(/^kubeadm join 10\.213\.0\.11:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} --discovery-token-ca-cert-hash sha256:[a-f0-9]{64}\s*\n$/);
    const id = /--token ([a-z0-9]{6})/.exec(t.stdout)![1]!;
    const list = await kb(['token', 'list', inv2]);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+(59m|1h)\\s+\\S+\\s+kbootstrap token$`, 'm'));
    expect(list.stdout).not.toMatch(SECRET);
    expect((await kb(['token', 'revoke', inv2, id])).stdout).toBe(`token ${id} revoked\n`);
    expect((await kb(['token', 'list', inv2])).stdout).not.toContain(id);
    // a second revoke changes nothing, and says so
    const again = await kb(['token', 'revoke', inv2, id]);
    expect(again.code).toBe(0);
    expect(again.stdout).toBe(`token ${id} is not on the cluster (revoked before, or expired): nothing to revoke\n`);
    const cp = await kb(['token', inv2, '--control-plane']);
    expect(cp.stdout).toMatch(/ --control-plane --certificate-key [a-f0-9]{64}\s*$/);
    // a plan on the Runner: its JSON report carries the join command; the run log never does
    const j = await kb(['token', inv2, '--ttl', '30m', '--output', 'json']);
    expect(j.code).toBe(0);
    const report = JSON.parse(j.stdout) as { mode: string; exitCode: number; steps: { host: string; step: string; status: string }[]; joinCommand: string; ttl: string; controlPlane: boolean; madeThrough: string };
    expect(report).toMatchObject({ mode: 'apply', exitCode: 0, ttl: '30m', controlPlane: false, madeThrough: 'lab-01' });
    expect(report.steps).toEqual([expect.objectContaining({ host: 'lab-01', step: 'token-create', status: 'changed' })]);
    expect(report.joinCommand).toMatch(/^kubeadm join 10\.213\.0\.11:6443 --token [a-z0-9]{6}\.[a-z0-9]{16} /);
    const token = /--token (\S+)/.exec(report.joinCommand)![1]!;
    const logs = logDir();
    expect(existsSync(logs)).toBe(true);
    for (const f of readdirSync(logs, { recursive: true }) as string[]) {
      const p = join(logs, f);
      if (statSync(p).isFile()) expect(readFileSync(p, 'utf8').includes(token), p).toBe(false);
    }
    const rj = JSON.parse((await kb(['token', 'revoke', inv2, token, '-o', 'json'])).stdout) as { token: string; revoked: boolean };
    expect(rj).toMatchObject({ token: token.split('.')[0], revoked: true });
  });

  it('a token from kbootstrap token joins a newly prepared host by hand', async () => {
    const inv3 = writeInventory({ hosts: hosts.slice(0, 3) });
    const prep = await kb(['up', inv3, '--only', 'lab-03', '--skip-steps', 'join,node-labels,verify', '--output', 'json']);
    expect(notOk(prep)).toEqual([]);
    const t = await kb(['token', inv3, '--ttl', '10m']);
    const joined = labExec('lab-03', ['/bin/bash', '-c', t.stdout.trim()]);
    expect(joined.stdout).toContain('This node has joined the cluster');
    const again = await kb(['up', inv3, '--output', 'json']);
    expect(notOk(again)).toEqual([]);
    // the others only learn the new name in their /etc/hosts block; the new node gets its worker label
    expect(changed(again).sort()).toEqual(['lab-01/hosts-file', 'lab-01/node-labels', 'lab-02/hosts-file']);
  });

  it('adding a host to the inventory: up --only NEW joins it with a fresh token; the converged hosts are not touched', async () => {
    const inv4 = writeInventory({ hosts });
    const r = await kb(['up', inv4, '--only', 'lab-04', '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(changed(r).filter((s) => !s.startsWith('lab-04/') && s !== 'lab-01/node-labels')).toEqual([]);
    expect(r.json!.steps.filter((s) => s.host === 'lab-02')).toEqual([]);
    expect(labExec('lab-01', ['kubectl', 'get', 'node', 'lab-04', '--no-headers']).stdout).toMatch(/^lab-04\s+Ready\s+worker/);
    // a full up afterwards adds lab-04 to the others' /etc/hosts block, and nothing else
    const all = await kb(['up', inv4, '--output', 'json']);
    expect(changed(all).sort()).toEqual(['lab-01/hosts-file', 'lab-02/hosts-file', 'lab-03/hosts-file']);
    expect(changed(await kb(['up', inv4, '--output', 'json']))).toEqual([]);
  });

  it('kubeconfig: to a 0600 file, renamed after the cluster; --merge twice keeps other contexts and changes nothing the second time', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-kc-'));
    const out = join(dir, 'e2e.conf');
    const r = await kb(['kubeconfig', inv2, '--file', out]);
    expect(r.code).toBe(0);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    const cfg = parse(readFileSync(out, 'utf8'));
    expect(cfg.clusters[0]).toMatchObject({ name: 'e2e', cluster: { server: 'https://10.213.0.11:6443' } });
    expect(cfg.contexts[0]).toEqual({ name: 'e2e', context: { cluster: 'e2e', user: 'e2e-admin' } });
    expect(cfg['current-context']).toBe('e2e');

    const kc = join(dir, 'config');
    writeFileSync(kc, 'apiVersion: v1\nkind: Config\nclusters:\n- name: other\n  cluster:\n    server: https://other.example:6443\ncontexts:\n- name: other\n  context:\n    cluster: other\n    user: other\ncurrent-context: other\nusers:\n- name: other\n  user:\n    token: abc\n', { mode: 0o600 });
    const m1 = await kb(['kubeconfig', inv2, '--merge'], { env: { KUBECONFIG: kc } });
    expect(m1.stdout).toBe(`${kc}: added context e2e (kubectl --context e2e)\n`);
    const merged = parse(readFileSync(kc, 'utf8'));
    expect(merged.contexts.map((c: { name: string }) => c.name)).toEqual(['other', 'e2e']);
    expect(merged['current-context']).toBe('other');
    const before = statSync(kc).mtimeMs;
    const text = readFileSync(kc, 'utf8');
    const m2 = await kb(['kubeconfig', inv2, '--merge'], { env: { KUBECONFIG: kc } });
    expect(m2.stdout).toBe(`${kc}: context e2e is already up to date\n`);
    expect(readFileSync(kc, 'utf8')).toBe(text);
    expect(statSync(kc).mtimeMs).toBe(before);
  });

  it('status: every host reachable, joined and Ready, and the cluster matches the inventory', async () => {
    const r = await kb(['status', writeInventory({ hosts }), '--output', 'json']);
    expect(r.code).toBe(0);
    const st = JSON.parse(r.stdout);
    expect(st.hosts.map((h: { host: string; joined: boolean; node: string; runtime: string }) => [h.host, h.joined, h.node, h.runtime])).toEqual(
      ['lab-01', 'lab-02', 'lab-03', 'lab-04'].map((n) => [n, true, 'Ready', 'containerd 1.6.33'.replace('1.6.33', n === 'lab-01' || n === 'lab-03' ? '1.6.33' : '2.1.4')]),
    );
    expect(st.cluster.proxyMode).toBe('ipvs');
    expect(st.cluster.missingFromCluster).toEqual([]);
    const text = await kb(['status', inv2]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('in the cluster but not in the inventory: lab-03, lab-04');
  });

  it('reset: refused off a terminal without --yes, refused for the last control plane without --all', async () => {
    const noYes = await kb(['reset', inv2, '--host', 'lab-02']);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toBe('kbootstrap: reset: refusing without --yes: there is no terminal to confirm on\n');
    const lastCp = await kb(['reset', inv2, '--host', 'lab-01', '--yes']);
    expect(lastCp.code).toBe(2);
    expect(lastCp.stderr).toBe('kbootstrap: reset: lab-01 is the last control plane: resetting it destroys the cluster; use --all for that\n');
  });

  it('reset a worker, then up brings it back', async () => {
    const inv4 = writeInventory({ hosts });
    const r = await kb(['reset', inv4, '--host', 'lab-02', '--yes']);
    expect(r.stdout).toMatch(/^lab-02: drain: changed/m);
    expect(r.stdout).toMatch(/^lab-02: reset-host: changed/m);
    expect(r.stdout.endsWith(`run kbootstrap up ${inv4} to rebuild and rejoin it\n`)).toBe(true);
    expect(r.code).toBe(0);
    // a second reset changes nothing: the node is gone, nothing of kubeadm is left
    const again = await kb(['reset', inv4, '--host', 'lab-02', '--yes', '--output', 'json']);
    expect(notOk(again)).toEqual([]);
    expect(changed(again)).toEqual([]);
    expect(existsSync(join(upperDir('lab-02'), 'etc/kubernetes/kubelet.conf'))).toBe(false);
    expect(labExec('lab-01', ['kubectl', 'get', 'nodes', '--no-headers']).stdout).not.toContain('lab-02');
    const st = await kb(['status', inv4]);
    expect(st.code).toBe(1);
    expect(st.stdout).toContain('in the inventory but not in the cluster: lab-02');
    const up = await kb(['up', inv4, '--output', 'json']);
    expect(notOk(up)).toEqual([]);
    expect(changed(up)).toEqual(['lab-02/join', 'lab-01/node-labels'].sort((a, b) => (a.startsWith('lab-01') ? -1 : 1) - (b.startsWith('lab-01') ? -1 : 1)));
    expect(labExec('lab-01', ['kubectl', 'get', 'node', 'lab-02', '--no-headers']).stdout).toMatch(/^lab-02\s+Ready\s+worker/);
  });
});
