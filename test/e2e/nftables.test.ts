/**
 * kube-proxy in nftables mode over real SSH on a 2-host lab (Ubuntu 22.04, Debian 12), Kubernetes
 * 1.34 (nftables GA since 1.33; the lab's hosts show /sys/fs/cgroup as tmpfs, cgroup v1, which 1.35+
 * refuses) with calico v3.31.7, whose Felix runs iptables unless told otherwise (NFTablesMode defaults
 * to Disabled before v3.32): up converges only because kbootstrap sets FELIX_NFTABLESMODE in the
 * manifest (the simulated calico-node crashes when it disagrees with kube-proxy, sim/kube.mjs
 * cniAgrees); a second up changes nothing; the live cluster is switched to iptables and back, each
 * time kube-proxy's ConfigMap and calico-node's setting changed once, and not again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labExec, labUp, simCalls } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { writeInventory } from './inventory.js';

const HOSTS = ['lab-01', 'lab-02'];
const proxyMode = () => labExec('lab-01', ['bash', '-c', 'kubectl -n kube-system get cm kube-proxy -o yaml | grep "mode:"']).stdout;
const felixEnv = () => labExec('lab-01', ['bash', '-c', 'kubectl -n kube-system get ds calico-node -o yaml | grep -A1 "name: FELIX_NFTABLESMODE" || true']).stdout;
const notRunning = () => labExec('lab-01', ['kubectl', 'get', 'pods', '-A', '--no-headers']).stdout.split('\n').filter((l) => l.trim() && !/\sRunning\s/.test(l));

/** An inventory whose calico manifest (beside it) is the lab's fixture at calico v3.31.7. */
function inventory(mode: string): string {
  const file = writeInventory({ cluster: { kubernetesVersion: '1.34.10', kubeProxyMode: mode } });
  const manifest = join(dirname(file), 'calico.yaml');
  writeFileSync(manifest, readFileSync(manifest, 'utf8').replace('docker.io/calico/node:v3.28.2', 'quay.io/calico/node:v3.31.7'));
  return file;
}

describe.skipIf(!!LAB_SKIP_REASON)('kube-proxy in nftables mode on a 2-host lab', () => {
  let nft = '';
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 2, family: 'debian' });
    nft = inventory('nftables');
  });
  afterAll(() => labDown());

  it('check: the kernel passes, and nft is not there yet (up installs it)', async () => {
    const r = await kb(['check', nft, '--output', 'json']);
    const rows = JSON.parse(r.stdout).rows as { host: string; check: string; verdict: string; detail: string }[];
    // the lab's kernel (the machine's) is 5.13 or later; cgroup v1 on 1.34 is only a warning
    expect(rows.filter((x) => x.check === 'kernel').map((x) => x.verdict)).not.toContain('fail');
    expect(rows.filter((x) => x.check === 'kernel').map((x) => x.detail).join('\n')).not.toContain('nftables');
    expect(rows.filter((x) => x.check === 'nft').map((x) => [x.host, x.verdict])).toEqual([['lab-01', 'warn'], ['lab-02', 'warn']]);
  });

  it('up converges with kube-proxy and calico in nftables mode', async () => {
    const r = await kb(['up', nft, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(proxyMode()).toContain('mode: nftables');
    expect(felixEnv()).toMatch(/name: FELIX_NFTABLESMODE\n\s+value: Enabled/);
    expect(notRunning()).toEqual([]);
    for (const h of HOSTS) expect(labExec(h, ['nft', '--version']).stdout, h).toMatch(/^nftables v1\.0\.6/);
    const c = await kb(['check', nft, '--output', 'json']);
    expect((JSON.parse(c.stdout).rows as { check: string; verdict: string }[]).filter((x) => x.check === 'nft').map((x) => x.verdict)).toEqual(['pass', 'pass']);
  });

  it('a second up changes nothing', async () => {
    const before = Object.fromEntries(HOSTS.map((h) => [h, simCalls(h).length]));
    const r = await kb(['up', nft, '--output', 'json']);
    expect(r.code).toBe(0);
    expect(changed(r)).toEqual([]);
    for (const h of HOSTS) expect(simCalls(h).slice(before[h]).filter((c) => c.mutating), h).toEqual([]);
  });

  it('the live cluster goes to iptables and back: each time both settings change once, then nothing', async () => {
    const ipt = inventory('iptables');
    const r = await kb(['up', ipt, '--steps', 'kube-proxy-mode', '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(changed(r)).toEqual(['lab-01/kube-proxy-mode']);
    expect(r.json!.steps.find((x) => x.step === 'kube-proxy-mode')!.reason).toBe('kube-proxy is in nftables mode, want iptables; calico\'s nftables setting is on, want off');
    expect(proxyMode()).toContain('mode: "iptables"');
    expect(felixEnv()).toMatch(/value: Disabled/);
    expect(notRunning()).toEqual([]);
    expect(changed(await kb(['up', ipt, '--steps', 'kube-proxy-mode', '--output', 'json']))).toEqual([]);

    const back = await kb(['up', nft, '--steps', 'kube-proxy-mode', '--output', 'json']);
    expect(notOk(back)).toEqual([]);
    expect(changed(back)).toEqual(['lab-01/kube-proxy-mode']);
    expect(proxyMode()).toContain('mode: "nftables"');
    expect(felixEnv()).toMatch(/value: Enabled/);
    expect(notRunning()).toEqual([]);
    const again = await kb(['up', nft, '--output', 'json']);
    expect(changed(again)).toEqual([]);
    expect(notOk(again)).toEqual([]);
  });

  it('only kube-proxy differing: only its ConfigMap is patched', async () => {
    labExec('lab-01', ['bash', '-c', 'kubectl -n kube-system get cm kube-proxy -o yaml | sed \'s/^\\([[:space:]]*mode:\\).*/\\1 "iptables"/\' | kubectl replace -f -']);
    // calico-node in nftables mode beside an iptables kube-proxy does not run (sim/kube.mjs cniAgrees)
    expect(notRunning().filter((l) => /calico-node-/.test(l))).toHaveLength(2);
    const before = simCalls('lab-01').length;
    const r = await kb(['up', nft, '--steps', 'kube-proxy-mode', '--output', 'json']);
    expect(r.json!.steps.find((x) => x.step === 'kube-proxy-mode')!.reason).toBe('kube-proxy is in iptables mode, want nftables');
    const kubectl = simCalls('lab-01').slice(before).filter((c) => c.mutating).map((c) => c.args.join(' '));
    expect(kubectl.some((a) => a.includes('set env'))).toBe(false);
    expect(kubectl.some((a) => a.includes('rollout restart daemonset kube-proxy'))).toBe(true);
    expect(notRunning()).toEqual([]);
  });
});
