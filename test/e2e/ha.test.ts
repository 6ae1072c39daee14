/**
 * Highly available control planes with kube-vip (issue 14), on a lab of
 * three control planes and two workers: the VIP is a real address on the
 * lab network (sim/kube-vip.mjs puts it on the leader's eth0), TCP to
 * VIP:6443 reaches the leader's listener, and stopping the leader moves it.
 * Then (issue 15) the four control planes and two workers are upgraded to
 * 1.31 while the machine keeps connecting to VIP:6443: the simulated API
 * server is gone for 3 s whenever kubeadm rewrites its manifest, so only a
 * VIP handed over before that keeps every connection answered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { advanceClusterClock, labDown, labExec, labSh, labUp, nodeMoves, readLabState, simCalls, startHost, stopHost } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { writeInventory } from './inventory.js';
import { apiserverBehindVip as vipAnswer, probeVip } from './vip.js';

const VIP = '10.213.0.100';
const CPS = ['lab-01', 'lab-02', 'lab-03'];
const LEASE_MS = 5_000;

const apiserverBehindVip = (timeoutMs?: number) => vipAnswer(VIP, timeoutMs);

/** The control planes that have the VIP on an interface now. */
const holders = (hosts = CPS) => hosts.filter((h) => labSh(h, `ip -o -4 addr show dev eth0 | grep -qF ' ${VIP}/'`).code === 0);

async function waitFor<T>(what: () => T | Promise<T>, ok: (v: T) => boolean, ms: number): Promise<{ value: T; ms: number }> {
  const t0 = Date.now();
  for (;;) {
    const value = await what();
    if (ok(value) || Date.now() - t0 > ms) return { value, ms: Date.now() - t0 };
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe.skipIf(!!LAB_SKIP_REASON)('kube-vip: three control planes behind one VIP', () => {
  let inv = '';
  const roles = Object.fromEntries(CPS.map((h) => [h, 'control-plane' as const]));
  const cluster = { loadBalancer: { type: 'kube-vip', address: VIP } };
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 6, family: 'debian' });
    inv = writeInventory({ hosts: readLabState()!.hosts.slice(0, 5), roles, cluster });
  });
  afterAll(() => labDown());

  it('bad inventories give their errors with file:line', async () => {
    const bad = (address: string, extra: Record<string, unknown> = {}) => writeInventory({ hosts: readLabState()!.hosts.slice(0, 5), roles, cluster: { loadBalancer: { type: 'kube-vip', address }, ...extra } });
    const hostAddr = await kb(['validate', bad('10.213.0.12')]);
    expect(hostAddr.code).toBe(2);
    expect(hostAddr.stderr).toMatch(/inventory\.yaml:\d+:\d+ cluster\.loadBalancer\.address: 10\.213\.0\.12 is the address of hosts\[1\] \(lab-02\): the VIP must be an address no host uses/);
    const outside = await kb(['validate', bad('10.214.0.100')]);
    expect(outside.stderr).toMatch(/inventory\.yaml:\d+:\d+ cluster\.loadBalancer\.address: 10\.214\.0\.100 is outside the control planes' subnet 10\.213\.0\.0\/24/);
    const pods = await kb(['validate', bad('10.244.0.5')]);
    expect(pods.stderr).toMatch(/inventory\.yaml:\d+:\d+ cluster\.loadBalancer\.address: 10\.244\.0\.5 lies inside cluster\.podSubnet 10\.244\.0\.0\/16/);
    const one = writeInventory({ hosts: readLabState()!.hosts.slice(0, 2), cluster });
    const single = await kb(['validate', one]);
    expect(single.code).toBe(0);
    expect(single.stderr).toMatch(/inventory\.yaml:\d+:\d+ warning: cluster\.loadBalancer\.type: kube-vip with one control plane/);
  });

  it('up converges; kubectl through the VIP lists 5 Ready nodes; TCP to VIP:6443 reaches the leader from the machine and every host', async () => {
    const r = await kb(['up', inv, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    const held = holders();
    expect(held).toHaveLength(1);
    expect(await apiserverBehindVip()).toBe(`kblab-apiserver ${held[0]}`);
    for (const h of ['lab-01', 'lab-02', 'lab-03', 'lab-04', 'lab-05']) {
      expect(labSh(h, `exec 3<>/dev/tcp/${VIP}/6443; head -n 1 <&3`).stdout.trim(), h).toBe(`kblab-apiserver ${held[0]}`);
    }
    // admin.conf's server is the VIP; the simulated kubectl connects to it over TCP before it answers
    expect(labExec('lab-02', ['grep', 'server:', '/etc/kubernetes/admin.conf']).stdout).toContain(`https://${VIP}:6443`);
    const nodes = labExec('lab-02', ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', 'get', 'nodes', '--no-headers']).stdout;
    expect(nodes.split('\n').filter((l) => /\sReady\s/.test(l))).toHaveLength(5);
    // the first control plane went from super-admin.conf (during init) to admin.conf
    expect(simCalls('lab-01').some((c) => c.prog === 'kubeadm' && c.args[0] === 'init')).toBe(true);
    expect(labExec('lab-01', ['grep', 'path: /etc/kubernetes/', '/etc/kubernetes/manifests/kube-vip.yaml']).stdout.trim()).toBe('path: /etc/kubernetes/admin.conf');
  });

  it('a second up changes nothing; plan says nothing to do', async () => {
    const r = await kb(['up', inv, '--output', 'json']);
    expect(r.code).toBe(0);
    expect(changed(r)).toEqual([]);
    const p = await kb(['plan', inv, '--output', 'json']);
    expect(p.code).toBe(0);
    expect(p.json!.steps.filter((s) => s.step === 'load-balancer').map((s) => [s.host, s.status, s.reason])).toEqual(
      CPS.map((h) => [h, 'ok', `kube-vip holds VIP ${VIP} on eth0 with admin.conf`]));
  });

  it('stop the VIP holder: another control plane holds it within the lease time; status names it and the one down', async () => {
    const before = holders();
    expect(before).toHaveLength(1);
    const old = before[0]!;
    stopHost(old);
    try {
      const others = CPS.filter((h) => h !== old);
      const took = await waitFor(() => holders(others), (h) => h.length === 1, LEASE_MS + 3000);
      expect(took.value).toHaveLength(1);
      // the lease runs out after LEASE_MS without renewal; the retry period (1 s) and this poll add a little
      expect(took.ms).toBeLessThan(LEASE_MS + 2500);
      process.stderr.write(`kube-vip failover: ${took.value[0]} holds ${VIP} ${took.ms} ms after ${old} stopped\n`);
      const via = await waitFor(() => apiserverBehindVip(), (s) => s === `kblab-apiserver ${took.value[0]}`, 5000);
      expect(via.value).toBe(`kblab-apiserver ${took.value[0]}`);
      expect(labExec(took.value[0]!, ['kubectl', 'get', 'nodes', '--no-headers']).code).toBe(0);

      const st = await kb(['status', inv, '--output', 'json']);
      expect(st.code).toBe(1);
      const j = JSON.parse(st.stdout) as { cluster: { vip: { address: string; heldBy: string[] }; controlPlanesDown: string[] } };
      expect(j.cluster.vip).toEqual({ address: VIP, heldBy: [took.value[0]] });
      expect(j.cluster.controlPlanesDown).toEqual([old]);
      const text = await kb(['status', inv]);
      expect(text.stdout).toContain(`kube-vip VIP ${VIP} is held by ${took.value[0]}\n`);
      expect(text.stdout).toContain(`control planes: 2 of 3 up; down: ${old}\n`);
    } finally {
      startHost(old);
    }
    // back: the old leader sees the lease taken and lets the address go
    const settled = await waitFor(() => holders(), (h) => h.length === 1, 5000);
    expect(settled.value).toHaveLength(1);
    const r = await kb(['up', inv, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(changed(r)).toEqual([]);
  });

  let six = '';
  it('a 4th control plane added 3 hours later joins with a fresh certificate key', async () => {
    const keyOf = () => (JSON.parse(labExec('lab-01', ['cat', '/var/lib/kblab-cluster/state.json']).stdout) as { clusters: Record<string, { certKey?: { key: string; expires: number } }> }).clusters[`${VIP}:6443`]!.certKey!;
    const before = keyOf();
    advanceClusterClock(3 * 3600_000);
    expect(keyOf().expires).toBeLessThan(Date.now()); // the key the first up uploaded has expired
    six = writeInventory({ hosts: readLabState()!.hosts, roles: { ...roles, 'lab-06': 'control-plane' }, cluster });
    const uploads = () => simCalls('lab-01').filter((c) => c.prog === 'kubeadm' && c.args.join(' ').startsWith('init phase upload-certs')).length
      + simCalls('lab-02').filter((c) => c.prog === 'kubeadm' && c.args.join(' ').startsWith('init phase upload-certs')).length;
    const n = uploads();
    const r = await kb(['up', six, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(changed(r).filter((s) => s.startsWith('lab-06/'))).toContain('lab-06/join');
    expect(uploads()).toBe(n + 1);
    const after = keyOf();
    expect(after.key).not.toBe(before.key);
    expect(after.expires).toBeGreaterThan(Date.now());
    expect(labExec('lab-06', ['test', '-f', '/etc/kubernetes/manifests/kube-vip.yaml']).code).toBe(0);
  });

  it('upgrade --max-unavailable 2: control planes one at a time, the API answers through the VIP throughout, both workers drained together', async () => {
    expect(six).not.toBe('');
    const inv131 = writeInventory({ hosts: readLabState()!.hosts, roles: { ...roles, 'lab-06': 'control-plane' }, cluster: { ...cluster, kubernetesVersion: '1.31.2' } });
    const from = simCalls('lab-01').length;
    // a client as patient as kbootstrap's own kubectl calls (--request-timeout=10s): a handover costs a
    // retransmitted SYN (about a second: the new leader takes the lease within its retry period), an API server
    // restarting behind the VIP refuses the connection outright
    const t0 = Date.now();
    const prober = probeVip(VIP);
    const r = await kb(['upgrade', inv131, '--yes', '--max-unavailable', '2', '--output', 'json']);
    const probes = await prober.stop();
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    const unanswered = probes.filter((p) => !p.answer.startsWith('kblab-apiserver '));
    const slowest = Math.max(...probes.map((p) => p.ms));
    process.stderr.write(`upgrade through the VIP: ${probes.length} connections in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${unanswered.length} unanswered, slowest answer ${slowest} ms; answered by ${[...new Set(probes.map((p) => p.answer))].join(', ')}\n`);
    expect(probes.length).toBeGreaterThan(20);
    expect(unanswered).toEqual([]);
    // every VIP holder whose API server was about to restart gave the lease up first
    const gaveUp = CPS.concat('lab-06').filter((h) => labSh(h, 'grep -q "gave up the lease" /var/log/kblab/kube-vip.log').code === 0);
    expect(gaveUp.length).toBeGreaterThan(0);
    for (const h of [...CPS, 'lab-06']) {
      expect(labSh(h, 'test -f /etc/kubernetes/manifests/kube-vip.yaml && ! test -e /etc/kubernetes/kube-vip.yaml.kbootstrap-upgrade').code, h).toBe(0);
      expect(labExec(h, ['grep', 'kube-apiserver:', '/etc/kubernetes/manifests/kube-apiserver.yaml']).stdout, h).toContain('kube-apiserver:v1.31.2');
    }
    // drains and uncordons go through the first control plane: control planes one at a time, then the workers two at once
    const moves = nodeMoves(simCalls('lab-01').slice(from));
    expect(moves.slice(0, 8)).toEqual(['drain lab-01', 'uncordon lab-01', 'drain lab-02', 'uncordon lab-02', 'drain lab-03', 'uncordon lab-03', 'drain lab-06', 'uncordon lab-06']);
    let out = 0;
    let most = 0;
    for (const m of moves.slice(8)) { out += m.startsWith('drain') ? 1 : -1; most = Math.max(most, out); }
    expect(moves.slice(8).sort()).toEqual(['drain lab-04', 'drain lab-05', 'uncordon lab-04', 'uncordon lab-05']);
    expect(most).toBe(2);
    // kubeadm upgrade plan's output is shown, and the calico release is judged against 1.31 without being touched
    const j = JSON.parse(r.stdout) as { shown: { host: string; step: string; title: string; text: string }[]; warnings: string[] };
    expect(j.shown.map((x) => [x.host, x.step, x.title])).toEqual([['lab-01', 'upgrade-apply', 'kubeadm upgrade plan v1.31.2']]);
    expect(j.shown[0]!.text).toContain('kubeadm upgrade apply v1.31.2');
    expect(j.warnings.join('\n')).toContain('lab-01: upgrade-cni: the cluster runs calico v3.28.2, which is tested against Kubernetes 1.27-1.30 only, not 1.31');
    const nodes = labExec('lab-01', ['kubectl', 'get', 'nodes', '--no-headers']).stdout.trim().split('\n').map((l) => l.split(/\s+/)).map((c) => `${c[0]} ${c[1]} ${c[4]}`).sort();
    expect(nodes).toEqual(['lab-01', 'lab-02', 'lab-03', 'lab-04', 'lab-05', 'lab-06'].map((h) => `${h} Ready v1.31.2`));
    const again = await kb(['upgrade', inv131, '--yes', '--output', 'json']);
    expect(notOk(again)).toEqual([]);
    expect(changed(again)).toEqual([]);
  }, 600_000);
});
