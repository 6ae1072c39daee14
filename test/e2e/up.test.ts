/**
 * kbootstrap up over real SSH on a mixed lab (CentOS 7, Ubuntu 22.04, Rocky 9):
 * plan, converge from nothing, a second up that changes nothing, plan again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labExec, labUp, readLabState, simCalls, upperDir } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { writeInventory } from './inventory.js';
import { factsDir } from '../../src/run/facts-cache.js';
import { assumedFacts } from '../../src/os/index.js';

const SECRET = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b|sha256:[a-f0-9]{64}|\b[a-f0-9]{64}\b/;

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe.skipIf(!!LAB_SKIP_REASON)('up on a mixed 3-host lab', () => {
  let inv = '';
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 3, family: 'mixed' });
    // as an installer leaves them, so the hostname step has work to do
    labExec('lab-01', ['hostnamectl', 'set-hostname', 'localhost.localdomain']);
    labExec('lab-02', ['hostnamectl', 'set-hostname', 'localhost']);
    labExec('lab-03', ['hostnamectl', 'set-hostname', 'localhost.localdomain']);
    inv = writeInventory();
  });
  afterAll(() => labDown());

  it('plan on fresh hosts: every step would change, exit 3, nothing changed', async () => {
    const before = Object.fromEntries(['lab-01', 'lab-02', 'lab-03'].map((h) => [h, simCalls(h).length]));
    const r = await kb(['plan', inv, '--output', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(3);
    const byHost = Object.fromEntries(r.json!.hosts.map((h) => [h.host, [h.ok, h.wouldChange, h.skipped, h.failed]]));
    // lab-02 is Ubuntu: selinux and firewall are skipped there
    // lab-01's one ok is the version gate: no cluster runs yet, so nothing to compare
    // lab-01 also skips cert-renewal-timer (cluster.certRenewal is not timer)
    expect(byHost).toEqual({ 'lab-01': [1, 17, 1, 0], 'lab-02': [0, 10, 3, 0], 'lab-03': [0, 12, 1, 0] });
    expect(r.json!.steps.find((s) => s.host === 'lab-01' && s.step === 'swap')!.reason).toBe('1 active swap device (/dev/dm-1), fstab line 8 mounts /dev/mapper/centos-swap as swap');
    for (const h of ['lab-01', 'lab-02', 'lab-03']) expect(simCalls(h).slice(before[h]).filter((c) => c.mutating), h).toEqual([]);
  });

  it('converges the cluster from nothing', async () => {
    const r = await kb(['up', inv, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.json!.hosts.map((h) => [h.host, h.failed])).toEqual([['lab-01', 0], ['lab-02', 0], ['lab-03', 0]]);
    const nodes = labExec('lab-01', ['kubectl', 'get', 'nodes', '--no-headers']).stdout;
    expect(nodes).toMatch(/^lab-01\s+Ready\s+control-plane/m);
    expect(nodes).toMatch(/^lab-02\s+Ready\s+worker/m);
    expect(nodes).toMatch(/^lab-03\s+Ready\s+worker/m);
    expect(labExec('lab-01', ['bash', '-c', 'kubectl -n kube-system get cm kube-proxy -o yaml | grep "mode:"']).stdout).toContain('mode: ipvs');
    // secrets never reach the output, and the join file is gone from the hosts
    expect(r.stdout + r.stderr).not.toMatch(SECRET);
    for (const h of ['lab-02', 'lab-03']) expect(existsSync(join(upperDir(h), 'etc/kbootstrap/kubeadm-join.yaml')), h).toBe(false);
    // the join tokens this run made were deleted again
    expect(labExec('lab-01', ['kubeadm', 'token', 'list']).stdout).not.toContain('kbootstrap');
  });

  it('edited files keep a one-time backup and nothing half-written stays behind', () => {
    const fstab = readFileSync(join(upperDir('lab-01'), 'etc/fstab'), 'utf8');
    expect(fstab).toContain('#kbootstrap# /dev/mapper/centos-swap swap');
    expect(fstab).toContain('# the swap partition was /dev/sda2 during installation');
    expect(readFileSync(join(upperDir('lab-01'), 'etc/fstab.kbootstrap.bak'), 'utf8')).toContain('\n/dev/mapper/centos-swap swap');
    for (const h of ['lab-01', 'lab-02', 'lab-03']) {
      expect(walk(upperDir(h)).filter((f) => /\.kbootstrap\.[A-Za-z0-9]{6}$/.test(f)), h).toEqual([]);
    }
    const hosts = readFileSync(join(upperDir('lab-02'), 'etc/hosts'), 'utf8');
    expect(hosts.match(/# BEGIN kbootstrap managed hosts/g)).toHaveLength(1);
    expect(hosts).toContain('127.0.0.1   localhost');
  });

  it('a second up changes nothing: every step ok, about one round trip for the checks, no changing call on any host', async () => {
    const before = Object.fromEntries(['lab-01', 'lab-02', 'lab-03'].map((h) => [h, simCalls(h).length]));
    const r = await kb(['up', inv, '--output', 'json']);
    expect(r.code).toBe(0);
    expect(changed(r)).toEqual([]);
    expect(notOk(r)).toEqual([]);
    // one: the OS facts (and the run lock) and every check, rendered for the facts the converge cached
    expect(r.json!.hosts.map((h) => h.roundTrips)).toEqual([1, 1, 1]);
    for (const h of ['lab-01', 'lab-02', 'lab-03']) {
      expect(simCalls(h).slice(before[h]).filter((c) => c.mutating), h).toEqual([]);
    }
  });

  it('the one-trip no-op still sees a managed file changed on a host (its checks run side by side) and puts it back', async () => {
    // content on one host, mode on another: kb_file_state reads both with one sha256sum and one stat
    expect(labExec('lab-02', ['sh', '-c', 'echo "net.ipv4.ip_forward = 0" >>/etc/sysctl.d/99-kubernetes.conf']).code).toBe(0);
    expect(labExec('lab-03', ['chmod', '600', '/etc/crictl.yaml']).code).toBe(0);
    const r = await kb(['up', inv, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(changed(r).sort()).toEqual(['lab-02/sysctl', 'lab-03/crictl']);
    expect(labExec('lab-02', ['grep', '-c', 'ip_forward = 0', '/etc/sysctl.d/99-kubernetes.conf']).stdout.trim()).toBe('0');
    expect(labExec('lab-03', ['stat', '-c', '%a', '/etc/crictl.yaml']).stdout.trim()).toBe('644');
    const again = await kb(['up', inv, '--output', 'json']);
    expect(changed(again)).toEqual([]);
    expect(again.json!.hosts.map((h) => h.roundTrips)).toEqual([1, 1, 1]);
  });

  it('cached facts that are no longer true are not used: the checks rendered for them are sent again for the real ones', async () => {
    // every cached host now claims the other family's OS: checks rendered for it would read the wrong package manager
    const files = readdirSync(factsDir()).filter((f) => f.endsWith('.json')).map((f) => join(factsDir(), f));
    expect(files.length).toBeGreaterThanOrEqual(3);
    for (const f of files) {
      const was = JSON.parse(readFileSync(f, 'utf8')) as { family: string };
      writeFileSync(f, JSON.stringify({ ...assumedFacts(was.family === 'rhel' ? 'ubuntu22.04' : 'centos7'), assumed: false }));
    }
    const before = Object.fromEntries(['lab-01', 'lab-02', 'lab-03'].map((h) => [h, simCalls(h).length]));
    const r = await kb(['up', inv, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(changed(r)).toEqual([]);
    expect(r.json!.hosts.map((h) => h.roundTrips)).toEqual([2, 2, 2]);
    for (const h of ['lab-01', 'lab-02', 'lab-03']) expect(simCalls(h).slice(before[h]).filter((c) => c.mutating), h).toEqual([]);
    // and the cache holds the truth again
    const again = await kb(['up', inv, '--output', 'json']);
    expect(again.json!.hosts.map((h) => h.roundTrips)).toEqual([1, 1, 1]);
  });

  it('with no facts cached, the checks rendered for the os: of each host go with the connection; where they are not the host\'s own, they are sent again', async () => {
    const lab = readLabState()!.hosts;
    rmSync(factsDir(), { recursive: true, force: true });
    const r = await kb(['up', writeInventory({ hosts: lab, withOs: true }), '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(changed(r)).toEqual([]);
    // lab-02 (Ubuntu 22.04) and lab-03 (Rocky 9): one round trip. lab-01 says CentOS 7 and is, but on this
    // machine's kernel: the conntrack module of CentOS 7's own 3.10 kernel (nf_conntrack_ipv4, kernel-modules'
    // check) is not the lab's nf_conntrack, so its checks go again
    expect(r.json!.hosts.map((h) => h.roundTrips)).toEqual([2, 1, 1]);
    // without os: (inv) or with a wrong one: the facts first, then the checks
    for (const file of [inv, writeInventory({ hosts: lab.map((h) => ({ ...h, os: h.family === 'debian' ? 'centos7' : 'ubuntu22.04' })), withOs: true })]) {
      rmSync(factsDir(), { recursive: true, force: true });
      const w = await kb(['up', file, '--output', 'json']);
      expect(notOk(w)).toEqual([]);
      expect(changed(w)).toEqual([]);
      expect(w.json!.hosts.map((h) => h.roundTrips)).toEqual([2, 2, 2]);
    }
  });

  it('plan agrees: nothing would change, exit 0', async () => {
    const r = await kb(['plan', inv]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/lab-01:\n {2}ok {5}cluster-version: .*\n {2}ok {5}hostname: hostname is lab-01\n/);
    expect(r.stdout).not.toContain('change ');
  });

  it('the plain renderer prefixes every line with the host', async () => {
    const r = await kb(['up', inv, '--steps', 'swap,sysctl']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n').filter((l) => l.includes(': swap: ') || l.includes(': sysctl: '));
    expect(lines.sort()).toEqual(['lab-01: swap: ok', 'lab-01: sysctl: ok', 'lab-02: swap: ok', 'lab-02: sysctl: ok', 'lab-03: swap: ok', 'lab-03: sysctl: ok']);
    expect(r.stdout).toMatch(/HOST\s+OK\s+CHANGED\s+SKIPPED\s+FAILED\s+TIME\nlab-01\s+3\s+0\s+0\s+0/);
  });

  it('an existing cluster whose kube-proxy mode differs: the ConfigMap is patched and the DaemonSet restarted, once', async () => {
    const iptables = writeInventory({ cluster: { kubeProxyMode: 'iptables' } });
    const r = await kb(['up', iptables, '--steps', 'kube-proxy-mode', '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(changed(r)).toEqual(['lab-01/kube-proxy-mode']);
    expect(r.json!.steps.find((x) => x.step === 'kube-proxy-mode')!.reason).toBe('kube-proxy is in ipvs mode, want iptables');
    expect(labExec('lab-01', ['bash', '-c', 'kubectl -n kube-system get cm kube-proxy -o yaml | grep "mode:"']).stdout).toContain('mode: "iptables"');
    expect(labExec('lab-01', ['kubectl', '-n', 'kube-system', 'get', 'ds', 'kube-proxy', '-o', 'yaml']).stdout).toContain('kubectl.kubernetes.io/restartedAt');
    const again = await kb(['up', iptables, '--steps', 'kube-proxy-mode', '--output', 'json']);
    expect(changed(again)).toEqual([]);
  });
});
