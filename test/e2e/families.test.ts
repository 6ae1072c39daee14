/**
 * Both OS families end to end: a RHEL-family lab as root with containerd and
 * calico, and a Debian-family lab through a non-root user with sudo, running
 * docker + cri-dockerd and flannel in iptables mode.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labExec, labUp, simCalls, simCriDockerdSha256 } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { FLANNEL_FIXTURE, writeInventory } from './inventory.js';

/** The release files the Debian lab's hosts (Ubuntu 22.04, Debian 12) install, with the digests the simulated curl's copies have. */
const CRI_DOCKERD_SHA256 = Object.fromEntries(['cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb', 'cri-dockerd_0.4.10.3-0.debian-bookworm_amd64.deb']
  .map((f) => [f, simCriDockerdSha256(f)]));

describe.skipIf(!!LAB_SKIP_REASON)('OS families', () => {
  afterAll(() => labDown());

  it('RHEL family (CentOS 7, Rocky 9): converges, then a second up changes nothing', async () => {
    labDown();
    await labUp({ hosts: 3, family: 'rhel' });
    const inv = writeInventory();
    const first = await kb(['up', inv, '--output', 'json']);
    expect(notOk(first), JSON.stringify(notOk(first)).slice(0, 3000)).toEqual([]);
    expect(first.code).toBe(0);
    expect(labExec('lab-01', ['getenforce']).stdout).toBe('Permissive\n');
    expect(labExec('lab-03', ['grep', '^SELINUX=', '/etc/selinux/config']).stdout).toBe('SELINUX=permissive\n');
    expect(labExec('lab-02', ['firewall-cmd', '--list-ports']).stdout).toContain('10250/tcp');
    // CentOS 7 gets containerd.io 1.6 (config version 2), Rocky 9 gets 2.x (version 3), whose default
    // config has no SystemdCgroup line to flip (containerd/containerd#12101): both must end up with it set
    for (const h of ['lab-01', 'lab-02', 'lab-03']) {
      expect(labExec(h, ['containerd', 'config', 'dump']).stdout).toMatch(/\.containerd\.runtimes\.runc\.options\]\n\s*SystemdCgroup = true\n/);
    }
    const second = await kb(['up', inv, '--output', 'json']);
    expect(second.code).toBe(0);
    expect(changed(second)).toEqual([]);
  });

  it('Debian family through a sudo user, with docker + cri-dockerd and flannel: converges, then changes nothing', async () => {
    labDown();
    await labUp({ hosts: 3, family: 'debian' });
    const inv = writeInventory({
      user: 'kb',
      cluster: { containerRuntime: 'docker', criDockerd: { sha256: CRI_DOCKERD_SHA256 }, cni: { plugin: 'flannel', manifest: FLANNEL_FIXTURE }, kubeProxyMode: 'iptables' },
    });
    const first = await kb(['up', inv, '--output', 'json']);
    expect(notOk(first), JSON.stringify(notOk(first)).slice(0, 3000)).toEqual([]);
    expect(first.code).toBe(0);
    // every changing command ran as root through sudo -n: the package database and units say so
    expect(labExec('lab-02', ['apt-mark', 'showhold']).stdout).toBe('kubeadm\nkubectl\nkubelet\n');
    expect(labExec('lab-02', ['cat', '/etc/crictl.yaml']).stdout).toContain('unix:///run/cri-dockerd.sock');
    expect(labExec('lab-01', ['kubectl', '--kubeconfig=/etc/kubernetes/admin.conf', 'get', 'nodes', '--no-headers']).stdout.match(/ Ready /g)).toHaveLength(3);
    expect(labExec('lab-01', ['bash', '-c', 'ls -l /home/kb/.kube/config | cut -c1-10']).stdout).toBe('-rw-------\n');
    const before = simCalls('lab-03').length;
    const second = await kb(['up', inv, '--output', 'json']);
    expect(second.code).toBe(0);
    expect(changed(second)).toEqual([]);
    expect(simCalls('lab-03').slice(before).filter((c) => c.mutating)).toEqual([]);
  });
});
