/**
 * Safety: a full lab run (hosts up, kbootstrap up over SSH, hosts down)
 * leaves the machine itself exactly as it was.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { labDown, labUp } from '../lab/lab.js';
import { kb, notOk } from './cli.js';
import { writeInventory } from './inventory.js';

const FILES = ['/etc/hostname', '/etc/hosts', '/etc/fstab', '/etc/passwd', '/etc/group', '/etc/shadow', '/etc/sudoers', '/etc/os-release', '/etc/sysctl.conf', '/etc/crictl.yaml', '/etc/selinux/config', '/etc/containerd/config.toml', '/etc/docker/daemon.json'];
const DIRS = ['/etc/sysctl.d', '/etc/modules-load.d', '/etc/yum.repos.d', '/etc/apt/sources.list.d', '/etc/apt/keyrings', '/etc/kubernetes', '/etc/kbootstrap', '/etc/systemd/system', '/root/.kube', '/usr/local/sbin', '/usr/local/bin', '/usr/bin', '/usr/sbin', '/var/lib/kubelet', '/var/lib/etcd', '/etc/cni'];
const SYSCTLS = ['net/ipv4/ip_forward', 'net/bridge/bridge-nf-call-iptables', 'net/bridge/bridge-nf-call-ip6tables', 'vm/swappiness', 'kernel/hostname', 'vm/overcommit_memory'];

function hashOf(path: string): string {
  try { return createHash('sha256').update(readFileSync(path)).digest('hex'); } catch { return 'absent'; }
}

function listing(dir: string): string[] {
  if (!existsSync(dir)) return ['absent'];
  return readdirSync(dir).sort().map((f) => `${f}:${hashOf(`${dir}/${f}`)}`);
}

function sh(cmd: string, args: string[]): string {
  return spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';
}

function snapshot(): Record<string, unknown> {
  return {
    hostname: hostname(),
    files: Object.fromEntries(FILES.map((f) => [f, hashOf(f)])),
    dirs: Object.fromEntries(DIRS.map((d) => [d, listing(d)])),
    sysctls: Object.fromEntries(SYSCTLS.map((k) => [k, existsSync(`/proc/sys/${k}`) ? readFileSync(`/proc/sys/${k}`, 'utf8').trim() : 'absent'])),
    swaps: readFileSync('/proc/swaps', 'utf8'),
    mounts: sh('findmnt', ['-rn', '-o', 'TARGET,SOURCE,FSTYPE,OPTIONS']).split('\n').sort(),
    netns: sh('ip', ['netns', 'list']),
    links: sh('ip', ['-o', 'link', 'show']).split('\n').map((l) => l.split(':')[1]?.trim()).sort(),
    routes: sh('ip', ['route', 'show']),
    knownHosts: hashOf(`${process.env.HOME}/.ssh/known_hosts`),
  };
}

describe.skipIf(!!LAB_SKIP_REASON)('the machine', () => {
  it('is untouched by a full lab run: hostname, /etc, sysctls, swap, mounts, network, known_hosts', async () => {
    labDown();
    const before = snapshot();
    await labUp({ hosts: 3, family: 'mixed' });
    const r = await kb(['up', writeInventory(), '--output', 'json']);
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    const during = snapshot();
    expect(during.hostname).toEqual(before.hostname);
    expect(during.files).toEqual(before.files);
    expect(during.sysctls).toEqual(before.sysctls);
    expect(during.swaps).toEqual(before.swaps);
    labDown();
    expect(snapshot()).toEqual(before);
  });
});
