/**
 * kbootstrap upgrade over real SSH on a lab of 1 control plane + 2 workers
 * (CentOS 7, Ubuntu 22.04, Rocky 9) converged at 1.35.9, walked through the
 * supported minors 1.35 -> 1.36 -> 1.37 (the lab's simulated kubeadm applies
 * each minor's rules: test/lab/sim/kubeadm-schema.mjs, v1beta3 gone in 1.37):
 * up refuses a newer inventory and points at upgrade; a skip and a downgrade
 * are refused; an upgrade interrupted during the second worker exits 130 and
 * the next run finishes it without touching the first worker; workers are
 * drained one at a time; 1.36 -> 1.37 goes through; a finished upgrade and up
 * change nothing. The lab hosts run this machine's kernel under a cgroup v2
 * mount (test/lab/host-init.sh), so CentOS 7 is not refused here as it would
 * be on a real CentOS 7 host (kernel 3.10, cgroup v1).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labExec, labUp, nodeMoves, simCalls } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { writeInventory } from './inventory.js';

const HOSTS = ['lab-01', 'lab-02', 'lab-03'];
const counts = () => Object.fromEntries(HOSTS.map((h) => [h, simCalls(h).length]));
const mutatingSince = (h: string, before: Record<string, number>) => simCalls(h).slice(before[h]).filter((c) => c.mutating);
const nodes = () => labExec('lab-01', ['kubectl', 'get', 'nodes', '--no-headers']).stdout.trim().split('\n').map((l) => l.split(/\s+/)).map((c) => `${c[0]} ${c[1]} ${c[4]}`).sort(); // joins run in parallel: the API lists nodes in no fixed order

describe.skipIf(!!LAB_SKIP_REASON)('upgrade a 1.35 cluster to 1.36, then to 1.37', () => {
  let inv135 = '';
  let inv136 = '';
  let inv137 = '';
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 3, family: 'mixed' });
    // iptables: kube-proxy's ipvs is deprecated from 1.35 (the lab's other tests keep ipvs)
    inv135 = writeInventory({ cluster: { kubernetesVersion: '1.35.9', kubeProxyMode: 'iptables' } });
    inv136 = writeInventory({ cluster: { kubernetesVersion: '1.36.4', kubeProxyMode: 'iptables' } });
    inv137 = writeInventory({ cluster: { kubernetesVersion: '1.37.1', kubeProxyMode: 'iptables' } });
    const r = await kb(['up', inv135, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
  }, 600_000);
  afterAll(() => labDown());

  it('up with the inventory at 1.36 refuses before any host changes and points at upgrade', async () => {
    const before = counts();
    const r = await kb(['up', inv136]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('the cluster runs 1.35.9, the inventory asks for 1.36.4: run `kbootstrap upgrade`');
    for (const h of HOSTS) expect(mutatingSince(h, before), h).toEqual([]);
  });

  it('1.35 -> 1.37 is refused with kubeadm\'s rule, a downgrade is refused, both before anything changes', async () => {
    const before = counts();
    const skip = await kb(['upgrade', inv137, '--yes']);
    expect(skip.code).toBe(1);
    expect(skip.stdout + skip.stderr).toContain('upgrade one minor version at a time (1.36 first); kubeadm: Specified version to upgrade to "v1.37.1" is too high; kubeadm can upgrade only 1 minor version at a time');
    const down = await kb(['upgrade', writeInventory({ cluster: { kubernetesVersion: '1.34.10', kubeProxyMode: 'iptables' } }), '--yes']);
    expect(down.code).toBe(1);
    expect(down.stdout + down.stderr).toContain('the cluster runs 1.35.9, the inventory asks for 1.34.10: kbootstrap does not downgrade a cluster');
    for (const h of HOSTS) expect(mutatingSince(h, before), h).toEqual([]);
  });

  it('upgrade refuses off a terminal without --yes', async () => {
    const r = await kb(['upgrade', inv136]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing without --yes');
  });

  let firstRun: Record<string, number> = {};
  it('Ctrl-C during the second worker\'s upgrade: 130, the first worker done, the second not', async () => {
    firstRun = counts();
    const r = await kb(['upgrade', inv136, '--yes', '--verbose'], { signalAt: (out) => /^lab-03: upgrade-kubeadm: changed/m.test(out) });
    expect(r.stderr).toContain('stopping after the running steps');
    expect(r.code).toBe(130);
    expect(nodes()).toEqual(['lab-01 Ready v1.36.4', 'lab-02 Ready v1.36.4', 'lab-03 Ready v1.35.9']);
  });

  it('upgrade again finishes lab-03 without touching lab-02; the workers were drained one at a time, after the control plane', async () => {
    const before = counts();
    const r = await kb(['upgrade', inv136, '--yes', '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(mutatingSince('lab-02', before)).toEqual([]);
    expect(changed(r).filter((s) => s.startsWith('lab-02/'))).toEqual([]);
    expect(changed(r).filter((s) => s.startsWith('lab-03/'))).toContain('lab-03/upgrade-kubelet');
    expect(nodes()).toEqual(['lab-01 Ready v1.36.4', 'lab-02 Ready v1.36.4', 'lab-03 Ready v1.36.4']);
    // every drain and uncordon went through the first control plane: each node back before the next is drained
    expect(nodeMoves(simCalls('lab-01').slice(firstRun['lab-01']))).toEqual(['drain lab-01', 'uncordon lab-01', 'drain lab-02', 'uncordon lab-02', 'drain lab-03', 'uncordon lab-03']);
    expect(labExec('lab-01', ['bash', '-c', 'kubectl -n kube-system get cm kubeadm-config -o yaml | grep kubernetesVersion']).stdout).toContain('kubernetesVersion: v1.36.4');
  });

  it('1.36 -> 1.37: every node moves, kubeadm 1.37 (which reads v1beta4 only) takes kbootstrap\'s configuration', async () => {
    const r = await kb(['upgrade', inv137, '--yes', '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(changed(r)).toEqual(expect.arrayContaining(['lab-01/upgrade-apply', 'lab-02/upgrade-kubelet', 'lab-03/upgrade-kubelet']));
    expect(nodes()).toEqual(['lab-01 Ready v1.37.1', 'lab-02 Ready v1.37.1', 'lab-03 Ready v1.37.1']);
    expect(labExec('lab-01', ['bash', '-c', 'kubectl -n kube-system get cm kubeadm-config -o yaml | grep kubernetesVersion']).stdout).toContain('kubernetesVersion: v1.37.1');
  });

  it('a second upgrade changes nothing, and neither does up', async () => {
    const before = counts();
    const again = await kb(['upgrade', inv137, '--yes', '--output', 'json']);
    expect(notOk(again)).toEqual([]);
    expect(again.code).toBe(0);
    expect(changed(again)).toEqual([]);
    const up = await kb(['up', inv137, '--output', 'json']);
    expect(notOk(up)).toEqual([]);
    expect(up.code).toBe(0);
    expect(changed(up)).toEqual([]);
    for (const h of HOSTS) expect(mutatingSince(h, before), h).toEqual([]);
  });
});
