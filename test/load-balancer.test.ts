/**
 * The load-balancer step (kube-vip): what its check concludes on a fresh,
 * a converged and a changed host, the super-admin.conf trap of Kubernetes
 * >= 1.29, the refused VIP change, and the certificate SANs.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KUBE_VIP_MANIFEST, kubeVipAfterInitScript, kubeVipManifest, loadBalancerStep } from '../src/steps/load-balancer.js';
import { sha256 } from '../src/steps/files.js';
import { apiServerCertSANs, initConfig } from '../src/kubeadm-config.js';
import { buildPlan } from '../src/plan.js';
import { withPrelude } from '../src/shell/prelude.js';
import { FakeTransport } from './support/fake-transport.js';
import { ctxFor, exampleInventory, hostFor } from './support/contexts.js';
import { JoinCredentials } from '../src/run/join-credentials.js';
import { holdsAddress } from '../src/host/fact.js';
import { FAMILIES } from '../src/os/index.js';

const inv = exampleInventory('rocky-kube-vip');
const ubuntu = exampleInventory('ubuntu-kube-vip');
const out = (stdout: string) => ({ step: 'load-balancer', code: 0, stdout });
const fileLine = (content: string | undefined) => content === undefined ? `file=${KUBE_VIP_MANIFEST} missing` : `file=${KUBE_VIP_MANIFEST} ${sha256(content)} 600`;

describe('load-balancer step', () => {
  it('runs on the control planes only, before kubeadm init and before each control-plane join', () => {
    expect(loadBalancerStep.hosts(inv).map((h) => h.name)).toEqual(['cp-1', 'cp-2', 'cp-3']);
    const plan = buildPlan(inv);
    const init = plan.phases.find((p) => p.id === 'init')!;
    expect(init.steps.map((s) => s.id).indexOf('load-balancer')).toBeLessThan(init.steps.map((s) => s.id).indexOf('kubeadm-init'));
    const joins = plan.phases.find((p) => p.id === 'join-control-planes')!;
    expect(joins.steps.map((s) => s.id).indexOf('load-balancer')).toBeLessThan(joins.steps.map((s) => s.id).indexOf('join'));
    expect(loadBalancerStep.hosts(exampleInventory('rocky-ha'))).toEqual([]);
    expect(loadBalancerStep.hosts(exampleInventory('lab'))).toEqual([]);
  });

  it('on the first control plane before init (1.30): super-admin.conf, the interface read on the host', () => {
    const ctx = ctxFor(ubuntu, 0, loadBalancerStep);
    const r = loadBalancerStep.parse(out(`${fileLine(undefined)}\niface=ens18\nadmin-conf=absent\n`), ctx);
    expect(r).toMatchObject({ done: false, reason: `${KUBE_VIP_MANIFEST} missing (VIP 192.168.80.100 on ens18, super-admin.conf)` });
    expect(r.found.iface).toBe('ens18');
  });

  it('on a joining control plane: admin.conf (super-admin.conf exists only where init ran)', () => {
    const r = loadBalancerStep.parse(out(`${fileLine(undefined)}\niface=ens18\nadmin-conf=absent\n`), ctxFor(ubuntu, 1, loadBalancerStep));
    expect(r.reason).toBe(`${KUBE_VIP_MANIFEST} missing (VIP 192.168.80.100 on ens18, admin.conf)`);
  });

  it('before 1.29 admin.conf everywhere', () => {
    const old = { ...ubuntu, cluster: { ...ubuntu.cluster, minor: 28, kubernetesVersion: '1.28.9', minorVersion: 'v1.28' } };
    const r = loadBalancerStep.parse(out(`${fileLine(undefined)}\niface=ens18\nadmin-conf=absent\n`), ctxFor(old, 0, loadBalancerStep));
    expect(r.reason).toContain('admin.conf)');
    expect(r.reason).not.toContain('super-admin');
    expect(kubeVipAfterInitScript(old.cluster)).toBeUndefined();
  });

  it('is done when the manifest matches, with the interface and VIP in the reason', () => {
    const want = kubeVipManifest(ubuntu.cluster, 'ens18', 'admin.conf').content;
    const r = loadBalancerStep.parse(out(`${fileLine(want)}\niface=ens18\nadmin-conf=present\nvip=192.168.80.100\n`), ctxFor(ubuntu, 0, loadBalancerStep));
    expect(r).toMatchObject({ done: true, reason: 'kube-vip holds VIP 192.168.80.100 on ens18 with admin.conf' });
    // the same file on another interface is not done
    expect(loadBalancerStep.parse(out(`${fileLine(want)}\niface=eth1\nadmin-conf=present\nvip=192.168.80.100\n`), ctxFor(ubuntu, 0, loadBalancerStep)).done).toBe(false);
  });

  it('says when no interface holds the address', () => {
    const r = loadBalancerStep.parse(out(`${fileLine(undefined)}\niface=\nadmin-conf=absent\n`), ctxFor(ubuntu, 1, loadBalancerStep));
    expect(r.reason).toBe('no interface holds 192.168.80.12: set cluster.loadBalancer.interface');
  });

  it('a changed VIP is refused with what must be redone, unless --force', async () => {
    const stdout = `${fileLine('old')}\niface=ens18\nadmin-conf=present\nvip=192.168.80.99\n`;
    const t = new FakeTransport();
    const ctx = ctxFor(ubuntu, 1, loadBalancerStep, t);
    const r = loadBalancerStep.parse(out(stdout), ctx);
    expect(r).toMatchObject({ done: false, reason: 'VIP changed from 192.168.80.99 to 192.168.80.100 (up refuses without --force)' });
    await expect(loadBalancerStep.apply(ctx, r.found)).rejects.toThrow(
      /^cp-2: kube-vip holds VIP 192\.168\.80\.99 but the inventory says 192\.168\.80\.100; the old address is in the API server certificate's SANs.*up --force rewrites the kube-vip manifests only; then, on each control plane, renew the API server certificate/);
    expect(t.calls).toEqual([]);

    const forced = { ...ctx, options: { ...ctx.options, force: true } };
    await loadBalancerStep.apply(forced, r.found);
    // the old manifest goes first (no backup copy left for the kubelet to run), then the new one
    expect(t.applied()).toEqual([expect.stringContaining(`rm -f ${KUBE_VIP_MANIFEST}`), KUBE_VIP_MANIFEST]);
  });

  it('after init, the rewrite to admin.conf gives exactly the manifest the check wants (a second up changes nothing)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-kv-'));
    const file = join(dir, 'kube-vip.yaml');
    writeFileSync(file, kubeVipManifest(ubuntu.cluster, 'ens18', 'super-admin.conf').content);
    const script = kubeVipAfterInitScript(ubuntu.cluster)!;
    // run the template's own rewrite (its first lines), on a copy, without the readiness wait
    const rewrite = script.slice(0, script.indexOf('kb_i=0')).replaceAll(KUBE_VIP_MANIFEST, file);
    execFileSync('bash', ['-c', rewrite]);
    expect(readFileSync(file, 'utf8')).toBe(kubeVipManifest(ubuntu.cluster, 'ens18', 'admin.conf').content);
  });

  it('the image: pinned from ghcr.io, from a mirror imageRepository, or the inventory\'s', () => {
    expect(kubeVipManifest(inv.cluster, 'eth0', 'admin.conf').content).toContain('image: ghcr.io/kube-vip/kube-vip:v1.2.3\n');
    const mirror = { ...inv.cluster, imageRepository: 'registry.aliyuncs.com/google_containers' };
    expect(kubeVipManifest(mirror, 'eth0', 'admin.conf').content).toContain('image: registry.aliyuncs.com/google_containers/kube-vip:v1.2.3\n');
    const own = { ...inv.cluster, loadBalancer: { ...inv.cluster.loadBalancer!, image: 'reg.local/kube-vip:v0.8.7' } };
    expect(kubeVipManifest(own, 'eth0', 'admin.conf').content).toContain('image: reg.local/kube-vip:v0.8.7\n');
  });

  it('the check reads back the VIP the manifest holds', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-kv-'));
    const file = join(dir, 'kube-vip.yaml');
    writeFileSync(file, kubeVipManifest(ubuntu.cluster, 'ens18', 'admin.conf').content);
    const check = loadBalancerStep.check(ctxFor(ubuntu, 0, loadBalancerStep)) as string[];
    const stdout = execFileSync('bash', ['-c', check[2]!.replaceAll(KUBE_VIP_MANIFEST, file)], { encoding: 'utf8' });
    expect(stdout).toContain('vip=192.168.80.100\n');
  });
});

describe('status', () => {
  it('a control plane reports holding the VIP only when one of its interfaces has it', () => {
    const script = holdsAddress('192.168.70.100').script(FAMILIES.debian);
    const run = (addrs: string) => execFileSync('bash', ['-c', `ip() { printf '%s\\n' ${addrs}; }\n${withPrelude(script)}`], { encoding: 'utf8' });
    const held = run(`'2: eth0    inet 192.168.70.11/24 brd 192.168.70.255 scope global eth0' '2: eth0    inet 192.168.70.100/32 scope global eth0'`);
    expect(held).toContain('holds=192.168.70.100\n');
    expect(holdsAddress('192.168.70.100').parse(held)).toBe(true);
    const other = run(`'2: eth0    inet 192.168.70.11/24 brd 192.168.70.255 scope global eth0' '2: eth0    inet 192.168.70.101/32 scope global eth0'`);
    expect(other).not.toContain('holds=');
    expect(holdsAddress('192.168.70.100').parse(other)).toBe(false);
  });
});

describe('control-plane joins after the uploaded certificates expired (2 h)', () => {
  it('every run uploads the certificates again for a fresh key, once, before its first control-plane join', async () => {
    let n = 0;
    const t = new FakeTransport({}, (script) => ({
      code: 0, stderr: '',
      stdout: script.includes('kubeadm token create') ? `kubeadm join 10.0.0.1:6443 --token abcdef.0123456789abcdef --discovery-token-ca-cert-hash sha256:${'a'.repeat(64)}\n`
        : script.includes('upload-certs') ? `${String(++n).repeat(64)}\n` : '',
    }));
    const run = () => new JoinCredentials(() => hostFor(inv, 0, t), inv.cluster.controlPlaneEndpoint);
    const first = run();
    expect((await first.forControlPlanes()).certificateKey).toBe('1'.repeat(64));
    expect((await first.forControlPlanes()).certificateKey).toBe('1'.repeat(64));
    // a later run (3 hours on, the first key long expired) asks for a new one
    expect((await run().forControlPlanes()).certificateKey).toBe('2'.repeat(64));
    expect(t.calls.filter((c) => c.detail.includes('kubeadm init phase upload-certs --upload-certs'))).toHaveLength(2);
  });
});

describe('API server certificate SANs', () => {
  it('hold the VIP with a load balancer, in v1beta4 and v1beta3', () => {
    expect(apiServerCertSANs(inv.cluster)).toEqual(['192.168.70.100']);
    expect(initConfig(inv.cluster, inv.hosts[0]!)).toContain('apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\nclusterName: rocky-kube-vip\nkubernetesVersion: v1.35.9\ncontrolPlaneEndpoint: 192.168.70.100:6443\napiServer:\n  certSANs:\n    - 192.168.70.100\n');
    // the example is on 1.35 (v1beta4); the same cluster on 1.30, whose kubeadm reads v1beta3 only
    const ubuntu130 = { ...ubuntu.cluster, kubernetesVersion: '1.30.4', minor: 30, minorVersion: 'v1.30' };
    expect(initConfig(ubuntu130, ubuntu.hosts[0]!)).toContain('apiVersion: kubeadm.k8s.io/v1beta3\nkind: ClusterConfiguration\nclusterName: ubuntu-kube-vip\nkubernetesVersion: v1.30.4\ncontrolPlaneEndpoint: 192.168.80.100:6443\napiServer:\n  certSANs:\n    - 192.168.80.100\n');
    expect(initConfig(exampleInventory('lab').cluster, exampleInventory('lab').hosts[0]!)).not.toContain('certSANs');
  });
});
