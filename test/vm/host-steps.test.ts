/**
 * kbootstrap's host steps on real Debian 12 virtual machines (test/lab/vm): everything here is read
 * back with the VM's own programs over the lab's SSH (labSh), never through kbootstrap. Only
 * kubeadm, kubelet, kubectl and crictl are the lab's simulations (packaged in the lab repository).
 */
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changed, kb, notOk } from '../e2e/cli.js';
import { writeInventory } from '../e2e/inventory.js';
import { labSh, readLabState, type LabHost } from '../lab/lab.js';
import { vmDown, vmUnavailable, vmUp } from '../lab/vm/vms.js';
import { REPO_PORT } from '../lab/vm/repo.js';

const SKIP = vmUnavailable();
if (SKIP) {
  if (process.env.CI && process.getuid?.() === 0) throw new Error(`the VM tests must run in CI: ${SKIP}`);
  process.stderr.write(`\n*** SKIPPING VM tests: ${SKIP} ***\n`);
}

/** Every host step that needs no running control plane. */
const HOST_STEPS = ['hostname', 'hosts-file', 'swap', 'kernel-modules', 'sysctl', 'container-runtime', 'crictl', 'kube-packages'];
const KUBE_PACKAGES = ['kubeadm', 'kubectl', 'kubelet'];

function sh(h: string, script: string): string {
  const r = labSh(h, script);
  if (r.code !== 0) throw new Error(`${h}: ${script}: exit ${r.code}: ${r.stderr}`);
  return r.stdout;
}

describe.skipIf(!!SKIP)('real Debian 12 VMs', () => {
  let hosts: LabHost[];
  let inv: string;
  const t: Record<string, number> = {};

  beforeAll(async () => {
    const t0 = Date.now();
    const st = await vmUp({ hosts: 2, say: (m) => process.stderr.write(`[vm] ${m}\n`) });
    t.up = Date.now() - t0;
    hosts = st.hosts;
    // an emulated VM on a busy 2-core machine can take longer than the e2e default of 3 s to answer SSH
    inv = writeInventory({ cluster: { packageMirror: readLabState()!.repo!.url }, ssh: { connectTimeoutSeconds: 30 } });
  }, 900_000);

  afterAll(() => {
    process.stderr.write(`[vm] timings (ms): ${JSON.stringify(t)}\n`);
    vmDown();
    // down is safe to repeat
    vmDown();
  });

  it('runs the VMs’ own kernel, not this machine’s: the suite can never fall back to namespace hosts', () => {
    for (const h of hosts) {
      const k = sh(h.name, 'uname -r').trim();
      expect(k).not.toBe(release());
      expect(sh(h.name, 'cat /proc/1/comm').trim()).toBe('systemd');
    }
  });

  it(`converges ${HOST_STEPS.join(', ')} through the lab repository on port ${REPO_PORT}`, async () => {
    const t0 = Date.now();
    const r = await kb(['up', inv, '--steps', HOST_STEPS.join(','), '--output', 'json']);
    t.converge = Date.now() - t0;
    expect(notOk(r), r.stderr + r.stdout).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    expect(changed(r).length).toBeGreaterThan(0);
  });

  it('leaves real kernel, swap, runtime and package state, read with the VMs’ own tools', () => {
    for (const h of hosts) {
      const mods = sh(h.name, 'lsmod');
      expect(mods).toMatch(/^br_netfilter\s/m);
      expect(mods).toMatch(/^ip_vs\s/m);
      expect(sh(h.name, 'swapon --show').trim()).toBe('');
      expect(sh(h.name, 'systemctl is-active containerd').trim()).toBe('active');
      // the CRI plugin loaded from the rendered config (containerd.io's packaged config disables it)
      expect(sh(h.name, 'ctr plugins ls')).toMatch(/io\.containerd\.grpc\.v1\s+cri\s+\S+\s+ok/);
      expect(sh(h.name, 'grep -c "SystemdCgroup = true" /etc/containerd/config.toml').trim()).not.toBe('0');
      expect(sh(h.name, 'apt-mark showhold').split('\n')).toEqual(expect.arrayContaining(KUBE_PACKAGES));
      expect(sh(h.name, "dpkg-query -W -f '${Version}' kubeadm")).toBe('1.30.4-1.1');
    }
  });

  it('keeps hostname, /etc/hosts, swap off and the bridge sysctls across a reboot', async () => {
    const before = hosts.map((h) => ({ hostname: sh(h.name, 'hostname').trim(), hosts: sh(h.name, 'cat /etc/hosts') }));
    const bootIds = hosts.map((h) => sh(h.name, 'cat /proc/sys/kernel/random/boot_id').trim());
    const t0 = Date.now();
    for (const h of hosts) labSh(h.name, 'systemctl reboot');
    // rebooted when the kernel's boot id changed (sshd may still answer for a while during shutdown)
    await Promise.all(hosts.map(async (h, i) => {
      const deadline = Date.now() + 300_000;
      for (;;) {
        if (Date.now() > deadline) throw new Error(`${h.name} did not come back from the reboot`);
        await new Promise((r) => setTimeout(r, 3000));
        const id = labSh(h.name, 'systemctl is-system-running --wait >/dev/null; cat /proc/sys/kernel/random/boot_id');
        if (id.code === 0 && id.stdout.trim() && id.stdout.trim() !== bootIds[i]) break;
      }
    }));
    t.reboot = Date.now() - t0;
    hosts.forEach((h, i) => {
      expect(sh(h.name, 'hostname').trim()).toBe(h.name);
      expect(before[i]!.hostname).toBe(h.name);
      expect(sh(h.name, 'cat /etc/hosts')).toBe(before[i]!.hosts);
      expect(sh(h.name, 'swapon --show').trim()).toBe('');
      expect(sh(h.name, 'sysctl -n net.bridge.bridge-nf-call-iptables net.ipv4.ip_forward').trim().split('\n')).toEqual(['1', '1']);
      expect(sh(h.name, 'lsmod')).toMatch(/^br_netfilter\s/m);
      expect(sh(h.name, 'systemctl is-active containerd').trim()).toBe('active');
    });
  }, 600_000);

  it('a second up changes nothing and plan exits 0', async () => {
    const t0 = Date.now();
    const again = await kb(['up', inv, '--steps', HOST_STEPS.join(','), '--output', 'json']);
    t.noop = Date.now() - t0;
    expect(notOk(again)).toEqual([]);
    expect(changed(again)).toEqual([]);
    const plan = await kb(['plan', inv, '--steps', HOST_STEPS.join(','), '--output', 'json']);
    expect(plan.code, plan.stdout).toBe(0);
  });

  // Skipped until the simulated kubeadm runs on a VM: the sims decide "installed" from the namespace lab's simulated
  // package database (/var/lib/kblab), which dpkg on a VM never writes, so `kubeadm reset -f` answers
  // "kubeadm: command not found" (exit 127) there. Unskip once the sims read dpkg's own state on a VM.
  it.skip('reset leaves each VM as kubeadm reset documents, plus the CNI config, kubeconfig, iptables and IPVS state it leaves to the admin', async () => {
    // what init/join and kube-proxy would have left (https://kubernetes.io/docs/reference/setup-tools/kubeadm/kubeadm-reset/:
    // reset deletes /etc/kubernetes/manifests, /etc/kubernetes/pki and /var/lib/kubelet contents, and does not clean
    // /etc/cni/net.d, iptables, IPVS or $HOME/.kube/config: kbootstrap's reset does those itself)
    const plant = [
      'mkdir -p /etc/kubernetes/manifests /etc/kubernetes/pki /etc/cni/net.d /root/.kube',
      'echo kind: Pod > /etc/kubernetes/manifests/kube-apiserver.yaml', 'echo cert > /etc/kubernetes/pki/ca.crt',
      'echo kind: KubeletConfiguration > /var/lib/kubelet/config.yaml', 'echo {} > /etc/cni/net.d/10-calico.conflist', 'echo kind: Config > /root/.kube/config',
      'iptables -t nat -N KUBE-SERVICES', 'iptables -t nat -A KUBE-SERVICES -j RETURN', 'ipvsadm -A -t 10.96.0.1:443 -s rr',
    ].join(' && ');
    for (const h of hosts) sh(h.name, plant);
    const r = await kb(['reset', inv, '--all', '--yes']);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    for (const h of hosts) {
      expect(sh(h.name, 'ls -A /etc/kubernetes/manifests /etc/kubernetes/pki /var/lib/kubelet 2>/dev/null; true').replace(/^\/.*:$/gm, '').trim()).toBe('');
      expect(sh(h.name, 'for f in /etc/cni/net.d /root/.kube/config; do test -e "$f" && echo "$f"; done; true').trim()).toBe('');
      expect(sh(h.name, 'iptables -t nat -S')).not.toMatch(/KUBE-/);
      expect(sh(h.name, 'ipvsadm -Ln')).not.toMatch(/^TCP/m);
      expect(sh(h.name, 'systemctl is-active containerd').trim()).toBe('active');
      // reset does not remove the packages
      expect(sh(h.name, 'apt-mark showhold').split('\n')).toEqual(expect.arrayContaining(KUBE_PACKAGES));
    }
  });
});
