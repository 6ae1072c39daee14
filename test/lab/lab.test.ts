/**
 * The lab itself: hosts come up with their own names, addresses, roots and
 * sshd; they are isolated from each other and from the machine; users and
 * sudo behave as on a real host; faults can be injected; down cleans up.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from './support.js';
import { BRIDGE, LAB_DIR, labDown, labExec, labSh, labUp, readLabState, setFaults, clearFaults, upperDir, USERS } from './lab.js';

function ssh(user: string, address: string, cmd: string, extra: string[] = []): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('ssh', ['-i', join(LAB_DIR, 'id_ed25519'), '-o', `UserKnownHostsFile=${join(LAB_DIR, 'known_hosts')}`, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', ...extra, `${user}@${address}`, cmd], { encoding: 'utf8', timeout: 30_000 });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

describe.skipIf(!!LAB_SKIP_REASON)('the lab', () => {
  let addr: Record<string, string> = {};
  beforeAll(async () => {
    labDown();
    const t0 = Date.now();
    const st = await labUp({ hosts: 3, centos7Repos: 'vault', family: 'mixed' });
    process.stderr.write(`lab: 3 hosts up in ${Date.now() - t0} ms\n`);
    addr = Object.fromEntries(st.hosts.map((h) => [h.name, h.address]));
  });
  afterAll(() => labDown());

  it('writes an inventory, a client key and known_hosts, and sshd answers with the host name', () => {
    for (const f of ['inventory.yaml', 'id_ed25519', 'known_hosts']) expect(existsSync(join(LAB_DIR, f))).toBe(true);
    expect(ssh('root', addr['lab-02']!, 'hostname').stdout).toBe('lab-02\n');
    expect(labExec('lab-01', ['hostname']).stdout).toBe('lab-01\n');
    // UTS namespaces: a rename stays on its host
    expect(labExec('lab-03', ['hostnamectl', 'set-hostname', 'renamed']).code).toBe(0);
    expect(labExec('lab-03', ['hostname']).stdout).toBe('renamed\n');
    expect(labExec('lab-01', ['hostname']).stdout).toBe('lab-01\n');
    labExec('lab-03', ['hostnamectl', 'set-hostname', 'lab-03']);
  });

  it('up is idempotent: a second up with the same shape keeps the running hosts', async () => {
    const before = readLabState()!.hosts.map((h) => h.pid);
    const st = await labUp({ hosts: 3, centos7Repos: 'vault', family: 'mixed' });
    expect(st.hosts.map((h) => h.pid)).toEqual(before);
  });

  it('gives each host its family: os-release, SELinux and firewalld on RHEL, apt on Debian', () => {
    expect(labExec('lab-01', ['cat', '/etc/os-release']).stdout).toContain('CentOS Linux 7');
    expect(labExec('lab-02', ['cat', '/etc/os-release']).stdout).toContain('Ubuntu 22.04');
    expect(labExec('lab-03', ['cat', '/etc/os-release']).stdout).toContain('Rocky Linux 9');
    expect(labExec('lab-01', ['getenforce']).stdout).toBe('Enforcing\n');
    expect(labExec('lab-01', ['systemctl', 'is-active', 'firewalld']).stdout).toBe('active\n');
    expect(labExec('lab-02', ['bash', '-c', 'command -v getenforce yum || echo none']).stdout).toBe('none\n');
    expect(labExec('lab-01', ['bash', '-c', 'command -v apt-get || echo none']).stdout).toBe('none\n');
  });

  it('starts like a fresh install: swap on and in fstab, modules not loaded, ip_forward 0, no runtime, no packages', () => {
    expect(labExec('lab-01', ['swapon', '--show']).stdout).toContain('/dev/dm-1');
    expect(labExec('lab-01', ['cat', '/proc/swaps']).stdout).toContain('/dev/dm-1');
    expect(labExec('lab-01', ['grep', 'swap', '/etc/fstab']).stdout).toContain('/dev/mapper/centos-swap swap');
    expect(labExec('lab-01', ['lsmod']).stdout).not.toContain('br_netfilter');
    expect(labExec('lab-01', ['cat', '/proc/sys/net/ipv4/ip_forward']).stdout).toBe('0\n');
    expect(labExec('lab-01', ['bash', '-c', 'command -v containerd kubeadm kubectl crictl docker || echo none']).stdout).toBe('none\n');
    expect(labExec('lab-01', ['rpm', '-q', 'kubelet'])).toMatchObject({ code: 1, stdout: 'package kubelet is not installed\n' });
  });

  it('keeps each host\'s files private and records them in its upper layer', () => {
    expect(labSh('lab-01', 'echo "10.9.9.9 only-on-lab-01" >> /etc/hosts').code).toBe(0);
    expect(labExec('lab-01', ['cat', '/etc/hosts']).stdout).toContain('only-on-lab-01');
    expect(labExec('lab-02', ['cat', '/etc/hosts']).stdout).not.toContain('only-on-lab-01');
    expect(readFileSync('/etc/hosts', 'utf8')).not.toContain('only-on-lab-01');
    expect(readFileSync(join(upperDir('lab-01'), 'etc/hosts'), 'utf8')).toContain('only-on-lab-01');
    // lab-02's upper layer holds its seed (and whiteouts of the machine's files), nothing written on lab-01
    expect(readFileSync(join(upperDir('lab-02'), 'etc/hosts'), 'utf8')).not.toContain('only-on-lab-01');
  });

  it('keeps net.* sysctls per host and makes kernel-wide settings unwritable', () => {
    expect(labSh('lab-01', 'sysctl -w net.ipv4.ip_forward=1 >/dev/null && cat /proc/sys/net/ipv4/ip_forward').stdout).toBe('1\n');
    expect(labExec('lab-02', ['cat', '/proc/sys/net/ipv4/ip_forward']).stdout).toBe('0\n');
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8')).toBe('0\n');
    const before = readFileSync('/proc/sys/vm/swappiness', 'utf8');
    const w = labSh('lab-01', 'echo 7 > /proc/sys/vm/swappiness');
    expect(w.code).not.toBe(0);
    expect(w.stderr).toContain('Read-only file system');
    // the simulated sysctl keeps kernel-wide keys per host
    expect(labSh('lab-01', 'sysctl -w vm.swappiness=7 && sysctl -n vm.swappiness').stdout).toContain('7\n');
    expect(readFileSync('/proc/sys/vm/swappiness', 'utf8')).toBe(before);
  });

  it('simulates programs at their absolute paths too', () => {
    for (const p of ['/usr/bin/systemctl', '/usr/sbin/swapoff', '/sbin/swapoff', '/usr/sbin/sysctl', '/sbin/reboot']) {
      expect(labExec('lab-01', ['head', '-2', p]).stdout, p).toContain('kblab: simulated');
    }
    expect(labExec('lab-01', ['/sbin/reboot'])).toMatchObject({ code: 1 });
  });

  it('has users as on a real host: kb with passwordless sudo, kbpw whose sudo asks, nosudo without sudo', () => {
    const a = addr['lab-01']!;
    expect(ssh('kb', a, 'sudo -n id -u').stdout).toBe('0\n');
    const pw = ssh('kbpw', a, 'sudo -n true');
    expect(pw.code).toBe(1);
    expect(pw.stderr).toContain('a password is required');
    const withPw = spawnSync('ssh', ['-i', join(LAB_DIR, 'id_ed25519'), '-o', `UserKnownHostsFile=${join(LAB_DIR, 'known_hosts')}`, '-o', 'BatchMode=yes', `kbpw@${a}`, "sudo -S -p '' id -u"], { input: `${USERS.kbpw.password}\n`, encoding: 'utf8' });
    expect(withPw.stdout).toBe('0\n');
    // as on a real host, sudo -n cannot tell "no rights" from "needs a password": it asks first
    expect(ssh('nosudo', a, 'sudo -n true').stderr).toContain('a password is required');
    expect(ssh('nosudo', a, 'sudo -l -n').stderr).toContain('a password is required');
  });

  it('refuses root password login and checks host keys', () => {
    const r = ssh('root', addr['lab-01']!, 'true', ['-o', 'PubkeyAuthentication=no', '-o', 'PreferredAuthentications=password']);
    expect(r.code).toBe(255);
    expect(r.stderr).toContain('Permission denied');
  });

  it('injects faults: a failing install, a hanging command, a dropped connection', () => {
    setFaults('lab-01', [
      { match: 'yum install', action: 'fail', stderr: 'Error: Failed to download metadata for repo \'kubernetes\': Cannot download repomd.xml', times: 1 },
      { match: 'kubeadm version', action: 'hang' },
    ]);
    const f = labExec('lab-01', ['yum', 'install', '-y', 'ipset']);
    expect(f).toMatchObject({ code: 1 });
    expect(f.stderr).toContain('Cannot download repomd.xml');
    expect(labExec('lab-01', ['yum', 'install', '-y', 'ipset']).code).toBe(0); // times: 1
    setFaults('lab-01', [{ match: 'systemctl restart', action: 'drop' }]);
    const d = ssh('root', addr['lab-01']!, 'systemctl restart sshd; echo survived');
    expect(d.code).toBe(255);
    expect(d.stdout).not.toContain('survived');
    clearFaults();
  });

  it('records every simulated call with whether it changed anything', () => {
    const calls = readFileSync(join(upperDir('lab-01'), 'var/log/kblab/calls.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(calls.find((c) => c.prog === 'getenforce')).toMatchObject({ mutating: false });
    expect(calls.find((c) => c.prog === 'yum')).toMatchObject({ mutating: true, args: ['install', '-y', 'ipset'] });
  });

  it('down removes every namespace, mount, bridge, process and file, and is safe to repeat', () => {
    labDown();
    labDown();
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).not.toContain('kblab-');
    expect(spawnSync('ip', ['link', 'show', BRIDGE], { encoding: 'utf8' }).status).not.toBe(0);
    expect(spawnSync('findmnt', ['-rn', '-o', 'TARGET'], { encoding: 'utf8' }).stdout).not.toContain(LAB_DIR);
    expect(spawnSync('pgrep', ['-f', 'host-init.sh'], { encoding: 'utf8' }).stdout).toBe('');
    expect(existsSync(LAB_DIR)).toBe(false);
  });
});
