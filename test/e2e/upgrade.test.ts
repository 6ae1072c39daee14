/**
 * kbootstrap upgrade over real SSH on a lab of 1 control plane + 2 workers
 * (CentOS 7, Ubuntu 22.04, Rocky 9) converged at 1.30.4: up refuses a newer
 * inventory and points at upgrade; a skip and a downgrade are refused; an
 * upgrade interrupted during the second worker exits 130 and the next run
 * finishes it without touching the first worker; workers are drained one at
 * a time; a finished upgrade and up change nothing.
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

describe.skipIf(!!LAB_SKIP_REASON)('upgrade a 1.30 cluster to 1.31', () => {
  let inv130 = '';
  let inv131 = '';
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 3, family: 'mixed' });
    inv130 = writeInventory();
    inv131 = writeInventory({ cluster: { kubernetesVersion: '1.31.2' } });
    const r = await kb(['up', inv130, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
  }, 600_000);
  afterAll(() => labDown());

  it('up with the inventory at 1.31 refuses before any host changes and points at upgrade', async () => {
    const before = counts();
    const r = await kb(['up', inv131]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('the cluster runs 1.30.4, the inventory asks for 1.31.2: run `kbootstrap upgrade`');
    for (const h of HOSTS) expect(mutatingSince(h, before), h).toEqual([]);
  });

  it('1.30 -> 1.32 is refused with kubeadm\'s rule, a downgrade is refused, both before anything changes', async () => {
    const before = counts();
    const skip = await kb(['upgrade', writeInventory({ cluster: { kubernetesVersion: '1.32.0' } }), '--yes']);
    expect(skip.code).toBe(1);
    expect(skip.stdout + skip.stderr).toContain('upgrade one minor version at a time (1.31 first); kubeadm: Specified version to upgrade to "v1.32.0" is too high; kubeadm can upgrade only 1 minor version at a time');
    const down = await kb(['upgrade', writeInventory({ cluster: { kubernetesVersion: '1.29.8' } }), '--yes']);
    expect(down.code).toBe(1);
    expect(down.stdout + down.stderr).toContain('the cluster runs 1.30.4, the inventory asks for 1.29.8: kbootstrap does not downgrade a cluster');
    for (const h of HOSTS) expect(mutatingSince(h, before), h).toEqual([]);
  });

  it('upgrade refuses off a terminal without --yes', async () => {
    const r = await kb(['upgrade', inv131]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('refusing without --yes');
  });

  let firstRun: Record<string, number> = {};
  it('Ctrl-C during the second worker\'s upgrade: 130, the first worker done, the second not', async () => {
    firstRun = counts();
    const r = await kb(['upgrade', inv131, '--yes', '--verbose'], { signalAt: (out) => /^lab-03: upgrade-kubeadm: changed/m.test(out) });
    expect(r.stderr).toContain('stopping after the running steps');
    expect(r.code).toBe(130);
    expect(nodes()).toEqual(['lab-01 Ready v1.31.2', 'lab-02 Ready v1.31.2', 'lab-03 Ready v1.30.4']);
  });

  it('upgrade again finishes lab-03 without touching lab-02; the workers were drained one at a time, after the control plane', async () => {
    const before = counts();
    const r = await kb(['upgrade', inv131, '--yes', '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(mutatingSince('lab-02', before)).toEqual([]);
    expect(changed(r).filter((s) => s.startsWith('lab-02/'))).toEqual([]);
    expect(changed(r).filter((s) => s.startsWith('lab-03/'))).toContain('lab-03/upgrade-kubelet');
    expect(nodes()).toEqual(['lab-01 Ready v1.31.2', 'lab-02 Ready v1.31.2', 'lab-03 Ready v1.31.2']);
    // every drain and uncordon went through the first control plane: each node back before the next is drained
    expect(nodeMoves(simCalls('lab-01').slice(firstRun['lab-01']))).toEqual(['drain lab-01', 'uncordon lab-01', 'drain lab-02', 'uncordon lab-02', 'drain lab-03', 'uncordon lab-03']);
    expect(labExec('lab-01', ['bash', '-c', 'kubectl -n kube-system get cm kubeadm-config -o yaml | grep kubernetesVersion']).stdout).toContain('kubernetesVersion: v1.31.2');
  });

  it('a second upgrade changes nothing, and neither does up', async () => {
    const before = counts();
    const again = await kb(['upgrade', inv131, '--yes', '--output', 'json']);
    expect(notOk(again)).toEqual([]);
    expect(again.code).toBe(0);
    expect(changed(again)).toEqual([]);
    const up = await kb(['up', inv131, '--output', 'json']);
    expect(notOk(up)).toEqual([]);
    expect(up.code).toBe(0);
    expect(changed(up)).toEqual([]);
    for (const h of HOSTS) expect(mutatingSince(h, before), h).toEqual([]);
  });
});
