/**
 * A cluster's second year (issue 22): three control planes behind a kube-vip
 * VIP and a worker, whose certificates are real X.509 files (test/lab/sim/pki.mjs)
 * that the lab's cluster clock ages to 20 days left. status and check warn;
 * certs renew refuses while a control plane is down, naming it; then renews
 * the control planes one at a time while the machine keeps connecting to
 * VIP:6443 (every connection answered); a second run changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { advanceClusterClock, labDown, labExec, labSh, labUp, readLabState, simCalls, startHost, stopHost } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { writeInventory } from './inventory.js';
import { probeVip } from './vip.js';

const VIP = '10.213.0.100';
const CPS = ['lab-01', 'lab-02', 'lab-03'];
const DAY = 24 * 3600_000;

interface CertsJson { hosts: { host: string; certificates?: { name: string; kind: string; expires?: string; residualSeconds?: number; state: string }[]; kubeletRotation?: boolean }[]; warnings: string[]; failed: boolean }

/** notAfter of a certificate file on a host, as the host's openssl reads it (ms) */
function enddate(host: string, file: string): number {
  const r = labExec(host, ['openssl', 'x509', '-noout', '-enddate', '-in', file]);
  expect(r.code, r.stderr).toBe(0);
  return Date.parse(r.stdout.trim().replace(/^notAfter=/, ''));
}
const daysLeft = (host: string, file = '/etc/kubernetes/pki/apiserver.crt') => (enddate(host, file) - Date.now()) / DAY;
const holders = () => CPS.filter((h) => labSh(h, `ip -o -4 addr show dev eth0 | grep -qF ' ${VIP}/'`).code === 0);

async function settle(): Promise<void> {
  for (let i = 0; i < 50 && holders().length !== 1; i++) await new Promise((r) => setTimeout(r, 200));
}

describe.skipIf(!!LAB_SKIP_REASON)('certificates: check, age, renew one control plane at a time behind a kube-vip VIP', () => {
  let inv = '';
  const kubeconfigDir = mkdtempSync(join(tmpdir(), 'kb-certs-kubeconfig-'));
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 4, family: 'debian' });
    const roles = Object.fromEntries(CPS.map((h) => [h, 'control-plane' as const]));
    inv = writeInventory({ hosts: readLabState()!.hosts, roles, cluster: { loadBalancer: { type: 'kube-vip', address: VIP } } });
    const r = await kb(['up', inv, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
  }, 600_000);
  afterAll(() => {
    for (const h of CPS) startHost(h);
    labDown();
    rmSync(kubeconfigDir, { recursive: true, force: true });
  });

  it('certs check lists every kubeadm certificate per control plane and the kubelet\'s on every node, as openssl reads the files', async () => {
    const r = await kb(['certs', 'check', inv, '--output', 'json']);
    expect(r.code, r.stderr).toBe(0);
    const j = JSON.parse(r.stdout) as CertsJson;
    const names = (h: string) => j.hosts.find((x) => x.host === h)!.certificates!.map((c) => c.name);
    const leaves = ['apiserver', 'apiserver-etcd-client', 'apiserver-kubelet-client', 'etcd-healthcheck-client', 'etcd-peer', 'etcd-server', 'front-proxy-client'];
    // kubeadm certs check-expiration's set: super-admin.conf only where kubeadm init ran (1.29+)
    expect(names('lab-01')).toEqual(['admin.conf', 'super-admin.conf', 'controller-manager.conf', 'scheduler.conf', ...leaves, 'ca', 'etcd-ca', 'front-proxy-ca', 'kubelet-client']);
    expect(names('lab-02')).toEqual(['admin.conf', 'controller-manager.conf', 'scheduler.conf', ...leaves, 'ca', 'etcd-ca', 'front-proxy-ca', 'kubelet-client']);
    expect(names('lab-04')).toEqual(['kubelet-client']);
    const api = j.hosts.find((x) => x.host === 'lab-02')!.certificates!.find((c) => c.name === 'apiserver')!;
    expect(Date.parse(api.expires!)).toBe(enddate('lab-02', '/etc/kubernetes/pki/apiserver.crt'));
    expect(api.residualSeconds! / 86400).toBeGreaterThan(364);
    expect(j.hosts.every((h) => h.kubeletRotation === true)).toBe(true);
    expect(j.warnings).toEqual([]);
    // the simulated kubeadm reads the same files
    const exp = labExec('lab-01', ['kubeadm', 'certs', 'check-expiration']).stdout;
    expect(exp).toMatch(/^apiserver\s+\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC\s+364d\s+ca\s+no$/m);
    expect(exp).toMatch(/^ca\s+\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC\s+9y\s+no$/m);
    const text = await kb(['certs', 'check', inv]);
    expect(text.stdout).toContain('Kubelet client certificates rotate themselves');
    expect(text.stdout).toContain('Rotation is on for every joined node (4)');
  });

  it('fresh certificates: certs renew changes nothing', async () => {
    const r = await kb(['certs', 'renew', inv, '--yes', '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(changed(r)).toEqual([]);
    expect(r.json!.steps.filter((s) => s.step === 'certs-renew').map((s) => s.reason)[0]).toMatch(/^every certificate has 30d or more left \(first to expire: .* 364d\)$/);
  }, 120_000);

  it('the clock ages them to 20 days left: status and check warn, certs check names them', async () => {
    const before = daysLeft('lab-01');
    advanceClusterClock(345 * DAY);
    expect(before - daysLeft('lab-01')).toBeCloseTo(345, 0);
    expect(daysLeft('lab-04', '/var/lib/kubelet/pki/kubelet-client-current.pem')).toBeLessThan(21);
    const st = await kb(['status', inv, '--output', 'json']);
    const sj = JSON.parse(st.stdout) as { healthy: boolean; warnings: string[]; hosts: { host: string; certificates?: { verdict: string; detail: string } }[] };
    // under 30 days is a warning, not a failure
    expect(st.code, st.stdout).toBe(0);
    expect(sj.healthy).toBe(true);
    expect(sj.hosts.find((h) => h.host === 'lab-01')!.certificates!.verdict).toBe('warn');
    expect(sj.warnings.join('\n')).toMatch(/lab-01: certificates: .* (19|20)d.* left, under 30 days: run kbootstrap certs renew/);
    const text = await kb(['status', inv]);
    expect(text.stdout).toMatch(/lab-02\s+WARN\s+/);
    expect(text.stderr).toContain('kbootstrap: warning: lab-02: certificates:');
    const chk = await kb(['check', inv, '--output', 'json']);
    const rows = (JSON.parse(chk.stdout) as { rows: { host: string; check: string; verdict: string; detail: string }[] }).rows.filter((x) => x.check === 'certificates');
    expect(rows.map((x) => `${x.host} ${x.verdict}`)).toEqual(['lab-01 warn', 'lab-02 warn', 'lab-03 warn', 'lab-04 warn']);
    expect(rows.find((x) => x.host === 'lab-04')!.detail).toContain('the kubelet renews its own before it runs out');
  }, 120_000);

  it('certs renew while a control plane is down stops before any control plane, naming it', async () => {
    await settle();
    stopHost('lab-02');
    try {
      const r = await kb(['certs', 'renew', inv, '--yes']);
      expect(r.code).toBe(1);
      expect(r.stdout + r.stderr).toContain('control plane lab-02 (10.213.0.12) does not answer on port 6443: no control plane is renewed while another is down');
      expect(r.stdout).toContain('certificates renewed on: none; not renewed: lab-01, lab-02, lab-03');
      for (const h of ['lab-01', 'lab-03']) {
        expect(simCalls(h).some((c) => c.prog === 'kubeadm' && c.args.join(' ') === 'certs renew all'), h).toBe(false);
        expect(daysLeft(h)).toBeLessThan(21);
      }
    } finally {
      startHost('lab-02');
    }
    await settle();
  }, 180_000);

  it('certs renew: one control plane at a time, the API answers through the VIP throughout; a second run changes nothing', async () => {
    const t0 = Date.now();
    const prober = probeVip(VIP);
    const r = await kb(['certs', 'renew', inv, '--yes', '--output', 'json', '--merge'], { env: { KUBECONFIG: join(kubeconfigDir, 'config') } });
    const probes = await prober.stop();
    expect(notOk(r)).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(changed(r)).toEqual(CPS.map((h) => `${h}/certs-renew`));
    const unanswered = probes.filter((p) => !p.answer.startsWith('kblab-apiserver '));
    const slowest = Math.max(...probes.map((p) => p.ms));
    process.stderr.write(`certs renew through the VIP: ${probes.length} connections in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${unanswered.length} unanswered, slowest answer ${slowest} ms; answered by ${[...new Set(probes.map((p) => p.answer))].join(', ')}\n`);
    expect(probes.length).toBeGreaterThan(20);
    expect(unanswered).toEqual([]);
    // one at a time: each control plane's renewal starts after the previous one's restart (>= 20 s) is over
    const renewedAt = CPS.map((h) => Date.parse(simCalls(h).filter((c) => c.prog === 'kubeadm' && c.args.join(' ') === 'certs renew all').at(-1)!.at));
    for (let i = 1; i < renewedAt.length; i++) expect(renewedAt[i]! - renewedAt[i - 1]!).toBeGreaterThan(20_000);
    for (const h of CPS) {
      expect(daysLeft(h), h).toBeGreaterThan(364);
      expect(daysLeft(h, '/etc/kubernetes/pki/etcd/peer.crt'), h).toBeGreaterThan(364);
      // the static Pods and kube-vip are back where the kubelet runs them; nothing is left aside
      expect(labSh(h, 'ls /etc/kubernetes/manifests').stdout.split('\n').filter(Boolean).sort(), h).toEqual(['etcd.yaml', 'kube-apiserver.yaml', 'kube-controller-manager.yaml', 'kube-scheduler.yaml', 'kube-vip.yaml']);
      expect(labSh(h, 'test ! -e /etc/kubernetes/manifests.kbootstrap-restart && test ! -e /etc/kubernetes/kbootstrap-restart-pending && test ! -e /etc/kubernetes/kube-vip.yaml.kbootstrap-upgrade').code, h).toBe(0);
      // the SSH user's kubeconfig is the renewed admin.conf
      expect(labSh(h, 'cmp -s /etc/kubernetes/admin.conf /root/.kube/config').code, h).toBe(0);
    }
    // the kubelet's certificate is its own business: not renewed here
    expect(daysLeft('lab-04', '/var/lib/kubelet/pki/kubelet-client-current.pem')).toBeLessThan(21);
    expect(r.json!.steps.filter((s) => s.step === 'kubelet-cert-rotation').every((s) => /^rotates itself/.test(s.reason))).toBe(true);
    // --merge: the operator's kubeconfig holds the renewed admin credentials
    const merged = readFileSync(join(kubeconfigDir, 'config'), 'utf8');
    const adminCert = /client-certificate-data: (\S+)/.exec(labExec('lab-01', ['cat', '/etc/kubernetes/admin.conf']).stdout)![1]!;
    expect(merged).toContain(adminCert);

    const again = await kb(['certs', 'renew', inv, '--yes', '--output', 'json']);
    expect(notOk(again)).toEqual([]);
    expect(changed(again)).toEqual([]);
    const st = await kb(['status', inv, '--output', 'json']);
    expect(st.code).toBe(0);
    // what kubeadm renews is fresh everywhere; what is left is the kubelets' own certificate (the lab has no
    // kubelet to rotate it as the clock ages it), which status says the kubelet renews itself
    const warnings = (JSON.parse(st.stdout) as { warnings: string[] }).warnings;
    expect(warnings.filter((w) => /run kbootstrap certs renew/.test(w))).toEqual([]);
    expect(warnings).toEqual(['lab-01', 'lab-02', 'lab-03', 'lab-04'].map((h) => expect.stringMatching(new RegExp(`^${h}: certificates: kubelet-client (19|20)d left, under 30 days: the kubelet renews its own before it runs out$`))));
  }, 600_000);
});
