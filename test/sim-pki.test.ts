/**
 * The lab's certificates without the lab (issue 22): test/lab/sim/pki.mjs
 * makes a control plane's PKI with the machine's real openssl inside a
 * private mount namespace (tmpfs over /etc/kubernetes and the sims' state,
 * nothing on the machine is touched, no network namespace), the cluster
 * clock ages it, and kbootstrap's own read snippet, openssl and the
 * simulated `kubeadm certs check-expiration` / `renew all` must agree.
 * Needs root (unshare); skips without it.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificates } from '../src/host/fact.js';
import { FAMILIES } from '../src/os/index.js';

const readCerts = (cp: boolean) => certificates(cp).script(FAMILIES.rhel);
import { certVerdict, parseCerts } from '../src/kube/certs.js';

const SIM = join(import.meta.dirname, 'lab', 'sim');
const root = process.getuid?.() === 0 && spawnSync('unshare', ['-m', 'true']).status === 0;

const SETUP = `
import { makeCas, writeCas, writeLeaves, kubeconfigFor, KUBECONFIGS, writeKubeletPem, kubeconfigText, KUBELET_PEM, ageHost, ageCas, DEFAULT_VALIDITY } from '${SIM}/pki.mjs';
import { writeFileSync, mkdirSync } from 'node:fs';
const now = Date.now(); const v = DEFAULT_VALIDITY; const age = Number(process.argv[2]);
const cas = makeCas(now, v);
writeCas(cas, true); writeLeaves(cas, 'lab-01', now, v);
for (const n of ['admin.conf', 'controller-manager.conf', 'scheduler.conf', 'super-admin.conf']) writeFileSync('/etc/kubernetes/' + n, kubeconfigFor({ server: '10.0.0.1:6443', clusterName: 'e2e', ...KUBECONFIGS[n], cas, now, validity: v }));
writeKubeletPem(cas, 'lab-01', now, v);
writeFileSync('/etc/kubernetes/kubelet.conf', kubeconfigText({ server: '10.0.0.1:6443', clusterName: 'e2e', user: 'system:node:lab-01', caCrt: cas.ca.crt, certFile: KUBELET_PEM }));
mkdirSync('/var/lib/kubelet', { recursive: true });
writeFileSync('/var/lib/kubelet/config.yaml', 'rotateCertificates: true\\n');
ageHost(ageCas(cas, age), 'lab-01', age);
`;

describe.skipIf(!root)('the lab\'s simulated PKI, read by kbootstrap, openssl and the simulated kubeadm', () => {
  it('ages to 19-20 days left, warns; kubeadm certs renew all renews every leaf (not the CAs, not the kubelet\'s) against the same CA', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-sim-pki-'));
    try {
      writeFileSync(join(dir, 'setup.mjs'), SETUP);
      writeFileSync(join(dir, 'read.sh'), readCerts(true));
      const script = `set -e
for d in /etc/kubernetes /var/lib/kubelet /var/lib/kblab /var/lib/kblab-cluster /var/log/kblab /var/lib/kblab-faults; do mkdir -p $d; mount -t tmpfs tmpfs $d; done
echo '{"kubeadm":{"version":"1.30.4-1.1"}}' > /var/lib/kblab/pkgdb.json
node ${dir}/setup.mjs ${345 * 24 * 3600_000}
bash ${dir}/read.sh
echo @@check; node ${SIM}/main.mjs kubeadm certs check-expiration
echo @@renew; node ${SIM}/main.mjs kubeadm certs renew all
echo @@after; bash ${dir}/read.sh
echo @@verify; openssl verify -CAfile /etc/kubernetes/pki/etcd/ca.crt /etc/kubernetes/pki/etcd/peer.crt
mv /etc/kubernetes/pki/ca.key /etc/kubernetes/ca.key.away
echo @@noca; node ${SIM}/main.mjs kubeadm certs renew all 2>&1 || echo "exit $?"
`;
      const r = spawnSync('unshare', ['-m', '-u', '--propagation', 'private', 'bash', '-c', script], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const [aged, rest] = r.stdout.split('@@check\n') as [string, string];
      const [check, rest2] = rest.split('@@renew\n') as [string, string];
      const [renew, rest3] = rest2.split('@@after\n') as [string, string];
      const [after, rest4] = rest3.split('@@verify\n') as [string, string];
      const [verify, noca] = rest4.split('@@noca\n') as [string, string];

      const before = certVerdict(parseCerts(aged), true);
      expect(before.verdict).toBe('warn');
      expect(before.detail).toMatch(/^admin\.conf (19|20)d, .* left, under 30 days: run kbootstrap certs renew$/);
      expect(check).toMatch(/^apiserver\s+\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC\s+(19|20)d\s+ca\s+no$/m);
      expect(check).toMatch(/^admin\.conf\s+\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC\s+(19|20)d\s+ca\s+no$/m);
      expect(check).toMatch(/^etcd-ca\s+\w{3} \d{2}, \d{4} \d{2}:\d{2} UTC\s+9y\s+no$/m);
      expect(renew).toContain('certificate for serving the Kubernetes API renewed\n');
      expect(renew).toContain('Done renewing certificates. You must restart the kube-apiserver, kube-controller-manager, kube-scheduler and etcd');
      const facts = parseCerts(after);
      const day = 24 * 3600_000;
      for (const c of facts.certs) {
        if (c.kind === 'kubeconfig' || c.kind === 'certificate') expect(c.residualMs! / day, c.name).toBeGreaterThan(364);
        // the CAs (10 years, aged 345 days) and the kubelet's own certificate are not renew all's
        else if (c.kind === 'ca') expect(c.residualMs! / day, c.name).toBeCloseTo(3650 - 345, 0);
        else expect(c.residualMs! / day, c.name).toBeLessThan(21);
      }
      expect(verify).toBe('/etc/kubernetes/pki/etcd/peer.crt: OK\n');
      expect(noca).toMatch(/the CA key is missing in \/etc\/kubernetes\/pki[\s\S]*exit 1/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
