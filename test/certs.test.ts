/**
 * Certificates (issue 22): what openssl prints read back exactly, kubeadm's
 * residual times, the verdicts status and check give, and the certs renew
 * steps' checks and applies (what is fresh is left alone, a cut-off restart
 * is finished, the VIP is handed over before the restart, a control plane
 * that is down stops the run before any other restarts).
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certVerdict, parseCerts, parseOpensslDate, residual, DAY_MS } from '../src/kube/certs.js';
import { certsPreflightStep, certsRenewStep, kubeletRotationStep } from '../src/steps/certs.js';
import { certificates } from '../src/host/fact.js';
import { FAMILIES } from '../src/os/index.js';

const readCerts = (cp: boolean) => certificates(cp).script(FAMILIES.rhel);
import { certRenewalTimerStep, certTimerFiles } from '../src/steps/cert-renewal-timer.js';
import { renewSummary } from '../src/commands/certs.js';
import { initConfig } from '../src/kubeadm-config.js';
import type { RunResult } from '../src/runner.js';
import { FakeTransport } from './support/fake-transport.js';
import { ctxFor, exampleInventory } from './support/contexts.js';

const vip = exampleInventory('ubuntu-kube-vip');
const ha = exampleInventory('rocky-ha');
const timerInv = exampleInventory('rocky-kube-vip');
const out = (stdout: string, step = 'x') => ({ step, code: 0, stdout });
const NOW = Date.UTC(2026, 11, 7, 3, 0, 0);
/** openssl's notAfter layout for a date (ASN1_TIME_print: month, day padded with a space, time, year, GMT) */
const osslDate = (ms: number) => {
  const d = new Date(ms);
  return `${d.toUTCString().slice(8, 11)} ${String(d.getUTCDate()).padStart(2, ' ')} ${d.toISOString().slice(11, 19)} ${d.getUTCFullYear()} GMT`;
};
const CP_CERTS = ['admin.conf kubeconfig', 'controller-manager.conf kubeconfig', 'scheduler.conf kubeconfig', 'apiserver certificate', 'apiserver-etcd-client certificate', 'apiserver-kubelet-client certificate',
  'etcd-healthcheck-client certificate', 'etcd-peer certificate', 'etcd-server certificate', 'front-proxy-client certificate'];
/** what templates/certs/read.sh.hbs prints on a control plane whose leaves have `days` left (the CAs 9 years, the kubelet's 300 days) */
const read = (days: number, extra: string[] = []) => [
  `now=${NOW / 1000}`,
  ...CP_CERTS.map((c) => `cert=${c} ${osslDate(NOW + days * DAY_MS)}`),
  ...['ca', 'etcd-ca', 'front-proxy-ca'].map((c) => `cert=${c} ca ${osslDate(NOW + 9 * 365 * DAY_MS)}`),
  `cert=kubelet-client kubelet ${osslDate(NOW + 300 * DAY_MS)}`,
  'kubelet-client=rotating', 'kubelet-rotate=on', ...extra,
].join('\n') + '\n';

describe('reading certificates', () => {
  it('reads openssl -enddate exactly as a real certificate has it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-cert-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k'), '-out', join(dir, 'c'), '-days', '20', '-subj', '/CN=kube-apiserver'], { stdio: 'ignore' });
      const line = execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', join(dir, 'c')], { encoding: 'utf8' }).trim();
      const at = parseOpensslDate(line.replace(/^notAfter=/, ''));
      expect(at).toBe(Date.parse(new X509Certificate(readFileSync(join(dir, 'c'))).validTo));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // day of month padded with a space, as ASN1_TIME_print does
    expect(parseOpensslDate('Dec  7 02:25:01 2027 GMT')).toBe(Date.UTC(2027, 11, 7, 2, 25, 1));
    expect(parseOpensslDate('not a date')).toBeUndefined();
  });

  it('parses each certificate with its residual time from the host\'s clock; a missing file is missing', () => {
    const f = parseCerts(read(20, ['cert=super-admin.conf kubeconfig missing']));
    expect(f.now).toBe(NOW);
    expect(f.certs.find((c) => c.name === 'apiserver')).toEqual({ name: 'apiserver', kind: 'certificate', expires: new Date(NOW + 20 * DAY_MS).toISOString().replace(/\.\d+Z$/, 'Z'), residualMs: 20 * DAY_MS });
    expect(f.certs.find((c) => c.name === 'super-admin.conf')).toEqual({ name: 'super-admin.conf', kind: 'kubeconfig', missing: true });
    expect(f.kubeletRotation).toEqual({ file: true, enabled: true });
    expect(parseCerts('now=1\nopenssl=missing\n').noOpenssl).toBe(true);
  });

  it('prints residual times as kubeadm check-expiration does', () => {
    expect([45e3, 12 * 60e3, 20 * 3600e3, 20 * DAY_MS, 364 * DAY_MS, 9 * 365 * DAY_MS].map(residual)).toEqual(['45s', '12m', '20h', '20d', '364d', '9y']);
    expect(residual(-3 * DAY_MS)).toBe('expired 3d ago');
  });

  it('judges: pass with the first to expire, warn under 30 days, fail when one has expired', () => {
    expect(certVerdict(parseCerts(read(364)), true)).toEqual({ verdict: 'pass', detail: 'first to expire: kubelet-client in 300d' });
    const warn = certVerdict(parseCerts(read(20)), true);
    expect(warn.verdict).toBe('warn');
    expect(warn.detail).toMatch(/^admin\.conf 20d, controller-manager\.conf 20d, scheduler\.conf 20d and 7 more left, under 30 days: run kbootstrap certs renew$/);
    expect(certVerdict(parseCerts(read(-1)), true)).toMatchObject({ verdict: 'fail', detail: expect.stringMatching(/^expired: admin\.conf, .*: run kbootstrap certs renew$/) });
    // a worker: only its kubelet certificate, which the kubelet renews itself
    const worker = `now=${NOW / 1000}\ncert=kubelet-client kubelet ${osslDate(NOW + 10 * DAY_MS)}\nkubelet-client=rotating\nkubelet-rotate=on\n`;
    expect(certVerdict(parseCerts(worker), false)).toEqual({ verdict: 'warn', detail: 'kubelet-client 10d left, under 30 days: the kubelet renews its own before it runs out' });
  });

  it('the read snippet passes shellcheck, and reads the kubeadm set only on control planes', () => {
    const cp = readCerts(true);
    for (const s of [cp, readCerts(false)]) {
      const r = spawnSync('shellcheck', ['-s', 'bash', '-'], { input: s, encoding: 'utf8' });
      expect(r.stdout).toBe('');
    }
    expect(cp).toContain('/etc/kubernetes/pki/$kb_c.crt');
    expect(readCerts(false)).not.toContain('/etc/kubernetes/pki/$kb_c.crt');
  });
});

describe('certs renew steps', () => {
  const min = 30 * DAY_MS;
  const step = certsRenewStep(min);

  it('fresh certificates: done, nothing applied', () => {
    const ctx = ctxFor(vip, 1, step);
    const r = step.parse(out(read(200)), ctx);
    expect(r).toMatchObject({ done: true, reason: 'every certificate has 30d or more left (first to expire: admin.conf, 200d)' });
  });

  it('under the threshold: renew, restart, refresh the SSH user\'s kubeconfig; the VIP handed over before kubeadm runs', async () => {
    const t = new FakeTransport();
    const ctx = ctxFor(vip, 1, step, t);
    const r = step.parse(out(read(20, ['user-kubeconfig=differs'])), ctx);
    expect(r.done).toBe(false);
    expect(r.reason).toBe("admin.conf 20d, controller-manager.conf 20d, scheduler.conf 20d and 7 more left, under 30d; the SSH user's ~/.kube/config is not admin.conf");
    await step.apply(ctx, r.found);
    const [script, user] = t.applied();
    const handover = script!.indexOf('mv -f /etc/kubernetes/manifests/kube-vip.yaml /etc/kubernetes/kube-vip.yaml.kbootstrap-upgrade');
    const renew = script!.indexOf('\nkubeadm certs renew all\n');
    const aside = script!.indexOf('mv -f "/etc/kubernetes/manifests/$kb_m.yaml" "$kb_aside/"');
    expect(handover).toBeGreaterThan(0);
    expect(renew).toBeGreaterThan(handover);
    expect(aside).toBeGreaterThan(renew);
    expect(script).toContain('sleep 20');
    expect(user).toContain('install -m 0600 -o ubuntu');
  });

  it('without kube-vip nobody hands a VIP over', async () => {
    const t = new FakeTransport();
    const ctx = ctxFor(ha, 0, step, t);
    await step.apply(ctx, step.parse(out(read(10)), ctx).found);
    expect(t.applied()[0]).toContain('kubeadm certs renew all');
    expect(t.applied()[0]).not.toContain('kube-vip');
  });

  it('a restart a cut-off run owes is finished without renewing again', async () => {
    const t = new FakeTransport();
    const ctx = ctxFor(vip, 2, step, t);
    const r = step.parse(out(read(364, ['restart-pending=1'])), ctx);
    expect(r).toMatchObject({ done: false, reason: 'a static Pod restart after renewal did not finish (a cut-off run)', found: { renew: false, restart: true } });
    await step.apply(ctx, r.found);
    expect(t.applied()[0]).not.toContain('\nkubeadm certs renew all\n');
    expect(t.applied()[0]).toContain('if [ -e /etc/kubernetes/kbootstrap-restart-pending ]; then');
  });

  it('a CA running out is said, since renew all does not renew CAs', () => {
    const ctx = ctxFor(vip, 0, step);
    const stdout = read(200).replace(/cert=ca ca .*\n/, `cert=ca ca ${osslDate(NOW + 10 * DAY_MS)}\n`);
    expect(step.parse(out(stdout), ctx).warning).toMatch(/^CA ca 10d left: kubeadm certs renew does not renew CAs/);
  });

  it('--min-remaining decides what is fresh', () => {
    const ctx = ctxFor(vip, 0, certsRenewStep(90 * DAY_MS));
    expect(certsRenewStep(90 * DAY_MS).parse(out(read(60)), ctx).done).toBe(false);
    expect(certsRenewStep(30 * DAY_MS).parse(out(read(60)), ctx).done).toBe(true);
  });

  it('the preflight refuses while a control plane is down, naming it', async () => {
    const ctx = ctxFor(vip, 0, certsPreflightStep);
    const state = `cluster=present\nstate=${JSON.stringify({ kind: 'List', items: [{ kind: 'Node', metadata: { name: 'cp-1' }, status: { conditions: [{ type: 'Ready', status: 'True' }] } }] })}\n`;
    const up = certsPreflightStep.parse(out(`${state}reach=cp-1=ok\nreach=cp-2=ok\nreach=cp-3=ok\n`), ctx);
    expect(up).toMatchObject({ done: true });
    const down = certsPreflightStep.parse(out(`${state}reach=cp-1=ok\nreach=cp-2=down\nreach=cp-3=ok\n`), ctx);
    expect(down.done).toBe(false);
    expect(down.reason).toBe('control plane cp-2 (192.168.80.12) does not answer on port 6443: no control plane is renewed while another is down (restarting etcd elsewhere would leave it without quorum); bring it back and run again');
    await expect(certsPreflightStep.apply(ctx, down.found)).rejects.toThrow(/cp-2/);
  });

  it('kubelet rotation: said when it is on, warned when it is off, never changed', () => {
    const ctx = ctxFor(vip, 3, kubeletRotationStep);
    const on = `now=${NOW / 1000}\ncert=kubelet-client kubelet ${osslDate(NOW + 300 * DAY_MS)}\nkubelet-client=rotating\nkubelet-rotate=on\n`;
    expect(kubeletRotationStep.parse(out(on), ctx)).toMatchObject({ done: true, reason: 'rotates itself (kubelet-client-current.pem, 300d left)' });
    const off = kubeletRotationStep.parse(out(on.replace('kubelet-rotate=on', 'kubelet-rotate=off')), ctx);
    expect(off.done).toBe(true);
    expect(off.warning).toMatch(/^the kubelet client certificate does not rotate itself: rotateCertificates is not true/);
  });

  it('says which control planes were renewed, fresh, or not reached', () => {
    const outcomes = [
      { host: 'cp-1', step: 'certs-renew', status: 'changed' }, { host: 'cp-2', step: 'certs-renew', status: 'ok' }, { host: 'cp-3', step: 'certs-renew', status: 'failed' },
    ];
    expect(renewSummary(vip, { outcomes } as unknown as RunResult)).toBe('certificates renewed on: cp-1; already fresh: cp-2; not renewed: cp-3\n');
    expect(renewSummary(vip, { outcomes: [] } as unknown as RunResult)).toBe('certificates renewed on: none; not renewed: cp-1, cp-2, cp-3\n');
  });
});

describe('validity periods and the renewal timer', () => {
  it('the validity periods go into the v1beta4 ClusterConfiguration', () => {
    const text = initConfig(ha.cluster, ha.hosts[0]!);
    expect(text).toContain('apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration');
    expect(text).toContain('certificateValidityPeriod: 17520h\ncaCertificateValidityPeriod: 87600h\n');
    expect(initConfig(vip.cluster, vip.hosts[0]!)).not.toContain('ValidityPeriod');
  });

  it('the timer\'s script passes bash -n and shellcheck; the control planes run at different hours', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-timer-'));
    try {
      const hours = timerInv.hosts.filter((h) => h.role === 'control-plane').map((_, i) => {
        const files = certTimerFiles(ctxFor(timerInv, i, certRenewalTimerStep));
        const script = files.find((f) => f.path === '/usr/local/sbin/kbootstrap-certs-renew')!.content;
        writeFileSync(join(dir, 's.sh'), script);
        execFileSync('bash', ['-n', join(dir, 's.sh')]);
        const r = spawnSync('shellcheck', ['-s', 'bash', '-f', 'gcc', join(dir, 's.sh')], { encoding: 'utf8' });
        expect(r.stdout).toBe('');
        // the same renewal certs renew sends: preflight, handover, renew, restart
        expect(script).toContain('kubeadm certs renew all');
        expect(script).toContain('mv -f /etc/kubernetes/manifests/kube-vip.yaml');
        return /OnCalendar=\*-\*-\* (\d\d):30:00/.exec(files.find((f) => f.path.endsWith('.timer'))!.content)![1];
      });
      expect(new Set(hours).size).toBe(hours.length);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
