/**
 * The images step on a 2-host lab (CentOS 7 control plane, Ubuntu 22.04 worker): plan names the
 * images each fresh host lacks; a pull that fails names the host, the image and crictl's words;
 * `up` pulls each role's images during prepare, so that kubeadm init's preflight (which the
 * simulated kubeadm makes pull what the runtime lacks, as the real one does) pulls nothing; a
 * second `up` pulls nothing at all. Once kubeadm is installed the list is kubeadm's own (`kubeadm
 * config images list`), not kbootstrap's versions table: the lab's kubeadm is given another etcd
 * tag than the table's (as a patch release's bump would), and that is the etcd pulled.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { clearFaults, labDown, labExec, labUp, setFaults } from '../lab/lab.js';
import { kb, notOk } from './cli.js';
import { writeInventory } from './inventory.js';

// kubeadm 1.30.4's list (`kubeadm config images list`), and the one image the lab's calico.yaml names
const CONTROL_PLANE = ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler'].map((n) => `registry.k8s.io/${n}:v1.30.4`);
const EVERY_NODE = ['registry.k8s.io/kube-proxy:v1.30.4', 'registry.k8s.io/coredns/coredns:v1.11.3', 'registry.k8s.io/pause:3.9'];
const ETCD = 'registry.k8s.io/etcd:3.5.15-0';
const CALICO = 'docker.io/calico/node:v3.28.2';
/** the versions table's list: what plan shows before kubeadm is installed */
const TABLE: Record<string, string[]> = {
  'lab-01': [...CONTROL_PLANE, ...EVERY_NODE, ETCD, CALICO],
  'lab-02': [...EVERY_NODE, CALICO],
};
/** the etcd tag of the lab hosts' kubeadm build here (sim/fast/kubeadm-image-tags' line for 1.30, etcd changed) */
const KUBEADM_ETCD = 'registry.k8s.io/etcd:3.5.16-0';
const WANTED: Record<string, string[]> = { ...TABLE, 'lab-01': TABLE['lab-01']!.map((r) => (r === ETCD ? KUBEADM_ETCD : r)) };
const FROM_TABLE = "; kubeadm's images from kbootstrap's versions table, kubeadm not installed yet";
const FROM_KUBEADM = "; kubeadm's images from kubeadm config images list on the host";

interface Pull { ref: string; by: string }
const pulls = (host: string): Pull[] => {
  const out = labExec(host, ['bash', '-c', 'cat /var/log/kblab/image-pulls.jsonl 2>/dev/null || true']).stdout.trim();
  return out ? out.split('\n').map((l) => JSON.parse(l) as Pull) : [];
};
const held = (host: string): string[] => labExec(host, ['crictl', 'images']).stdout.trim().split('\n').slice(1).map((l) => l.split(/\s+/).slice(0, 2).join(':'));

describe.skipIf(!!LAB_SKIP_REASON)('images pulled during prepare', () => {
  let inv = '';
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 2, family: 'mixed' });
    for (const h of Object.keys(WANTED)) labExec(h, ['sh', '-c', `echo '30 3.9 ${KUBEADM_ETCD.split(':')[1]} v1.11.3' >/var/lib/kblab/kubeadm-image-tags`]);
    inv = writeInventory();
  });
  afterAll(() => labDown());

  it('plan on fresh hosts lists every image each role lacks', async () => {
    const r = await kb(['plan', inv, '--output', 'json']);
    expect(r.code).toBe(3);
    for (const [host, refs] of Object.entries(TABLE)) {
      const s = r.json!.steps.find((x) => x.host === host && x.step === 'images')!;
      expect(s.status, host).toBe('would-change');
      expect(s.reason, host).toBe(`crictl is not installed yet (cri-tools comes with kube-packages): ${refs.length} images to pull: ${refs.join(', ')}${FROM_TABLE}`);
    }
  });

  it('a pull that fails names the host, the image and the runtime\'s own words', async () => {
    const stderr = `E1207 10:00:00.000000 4242 remote_image.go:180] "PullImage from image service failed" err="rpc error: code = NotFound desc = failed to pull and unpack image \\"${CALICO}\\": failed to resolve reference \\"${CALICO}\\": ${CALICO}: not found"\nFATA[0001] pulling image: rpc error: code = NotFound desc = failed to pull and unpack image "${CALICO}": failed to resolve reference "${CALICO}": ${CALICO}: not found`;
    setFaults('lab-02', [{ match: `crictl pull ${CALICO}`, action: 'fail', stderr, times: 1 }]);
    try {
      const r = await kb(['up', inv, '--output', 'json']);
      expect(r.code).toBe(1);
      const s = r.json!.steps.find((x) => x.host === 'lab-02' && x.step === 'images')!;
      expect(s.status).toBe('failed');
      expect(s.reason).toContain(`pulling ${CALICO} failed: E1207`);
      expect(s.reason).toContain(`${CALICO}: not found`);
      expect(r.stderr + r.stdout).toMatch(/lab-02/);
    } finally {
      clearFaults();
    }
  });

  it('up pulls each role\'s images in prepare, kubeadm\'s own list once it is installed: kubeadm init and the join pull nothing', async () => {
    const r = await kb(['up', inv, '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    for (const [host, refs] of Object.entries(WANTED)) {
      expect(held(host).sort(), host).toEqual([...refs].sort());
      const p = pulls(host);
      // every image pulled once, by the images step (crictl), none by kubeadm's preflight
      expect(p.filter((x) => x.by !== 'crictl'), host).toEqual([]);
      expect(p.map((x) => x.ref).sort(), host).toEqual([...refs].sort());
    }
    expect(labExec('lab-01', ['kubectl', 'get', 'nodes', '--no-headers']).stdout).toMatch(/^lab-02\s+Ready/m);
  });

  it('a second up pulls nothing', async () => {
    const before = Object.fromEntries(Object.keys(WANTED).map((h) => [h, pulls(h).length]));
    const r = await kb(['up', inv, '--output', 'json']);
    expect(r.code).toBe(0);
    for (const host of Object.keys(WANTED)) {
      expect(pulls(host).length, host).toBe(before[host]);
      expect(r.json!.steps.find((x) => x.host === host && x.step === 'images')).toMatchObject({ status: 'ok', reason: `containerd holds the ${WANTED[host]!.length} images this ${host === 'lab-01' ? 'control-plane' : 'worker'} runs${FROM_KUBEADM}` });
    }
  });
});
