/**
 * Real programs as oracles for the systemd units/drop-ins and sysctl drop-ins kbootstrap
 * writes. The files are collected from every step's managedFiles over the example
 * inventories, so a new unit or sysctl file is checked without touching this test.
 *
 * - systemd-analyze verify (systemd-analyze(1): "verify FILE..." loads the unit files
 *   and their drop-ins and prints errors; --root=PATH "operates on files below the given
 *   root"): a drop-in is verified together with the unit it extends, written as its
 *   package ships it, in a throwaway root that has the machine's targets and a stub of
 *   every executable the unit names. Any message is a failure (unknown keys only warn).
 * - sysctl -p FILE inside a fresh network namespace (unshare --net): net.* keys are
 *   per namespace, so the machine's own settings are never touched.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { STEPS } from '../../src/steps/index.js';
import type { ManagedFile } from '../../src/steps/types.js';
import { ctxFor, exampleInventory } from '../support/contexts.js';

/** Every file any step manages on any host of the example inventories, by path (the first rendering of each). */
function managedFiles(): ManagedFile[] {
  const seen = new Map<string, ManagedFile>();
  for (const name of ['lab', 'rocky-ha', 'ubuntu-docker-flannel', 'rocky-kube-vip', 'ubuntu-kube-vip']) {
    const inv = exampleInventory(name);
    inv.hosts.forEach((h, i) => {
      for (const step of STEPS) {
        if (!step.hosts(inv).includes(h)) continue;
        const ctx = ctxFor(inv, i, step);
        // a step that skips here (the load balancer without kube-vip, SELinux on Debian) writes nothing
        if (step.skip?.(ctx)) continue;
        for (const f of step.managedFiles?.(ctx) ?? []) {
          const key = `${f.path}\n${f.content}`;
          if (!seen.has(key)) seen.set(key, f);
        }
      }
    });
  }
  return [...seen.values()];
}

const FILES = managedFiles();
const UNITS = FILES.filter((f) => f.path.startsWith('/etc/systemd/system/'));
const SYSCTLS = FILES.filter((f) => f.path.startsWith('/etc/sysctl.d/'));

/**
 * The units kbootstrap extends, as their packages install them: cri-dockerd's
 * packaging/systemd/cri-docker.service and cri-docker.socket (Mirantis/cri-dockerd).
 */
const PACKAGED: Record<string, string> = {
  'cri-docker.service': `[Unit]
Description=CRI Interface for Docker Application Container Engine
Documentation=https://docs.mirantis.com
BindsTo=containerd.service
After=network-online.target firewalld.service containerd.service docker.service
Wants=network-online.target
Requires=cri-docker.socket

[Service]
Type=notify
ExecStart=/usr/bin/cri-dockerd --container-runtime-endpoint fd:// --network-plugin=
ExecReload=/bin/kill -s HUP $MAINPID
TimeoutSec=0
RestartSec=2
Restart=always
StartLimitBurst=3
StartLimitInterval=60s
LimitNOFILE=infinity
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
Delegate=yes
KillMode=process

[Install]
WantedBy=multi-user.target
`,
  'cri-docker.socket': `[Unit]
Description=CRI Docker Socket for the API
PartOf=cri-docker.service

[Socket]
ListenStream=%t/cri-dockerd.sock
SocketMode=0660
SocketUser=root
SocketGroup=docker

[Install]
WantedBy=sockets.target
`,
  // what the cri-docker unit binds to and orders after
  'containerd.service': '[Unit]\nDescription=containerd\n[Service]\nExecStart=/usr/bin/containerd\n',
  'docker.service': '[Unit]\nDescription=Docker\n[Service]\nExecStart=/usr/bin/dockerd\n',
};

const ANALYZE = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' }).status === 0;
const SYSTEM_UNITS = '/usr/lib/systemd/system';

/** systemd-analyze verify of the unit a file belongs to, in a root holding it; the messages it prints. */
function verify(file: ManagedFile): string {
  const root = mkdtempSync(join(tmpdir(), 'kb-units-'));
  try {
    const units = join(root, 'etc/systemd/system');
    mkdirSync(join(root, 'usr/lib/systemd/system'), { recursive: true });
    // the machine's targets (sysinit.target, multi-user.target, ...) so dependencies resolve; an alias
    // (ctrl-alt-del.target -> reboot.target) is copied as the file it names: copyFileSync follows the
    // link. Not cpSync(..., { dereference: true }): from Node 22 (its C++ cpSync) that refuses a link
    // to a file as "Recursive option not enabled, cannot copy a directory" (Node 20 copied it)
    for (const t of readdirSync(SYSTEM_UNITS).filter((n) => n.endsWith('.target'))) copyFileSync(join(SYSTEM_UNITS, t), join(root, 'usr/lib/systemd/system', t));
    for (const [name, text] of Object.entries(PACKAGED)) writeFileSync(join(root, 'usr/lib/systemd/system', name), text);
    mkdirSync(join(root, dirname(file.path)), { recursive: true });
    writeFileSync(join(root, file.path), file.content);
    // stubs for every absolute executable the units name: verify checks they exist and are executable
    const texts = [file.content, ...Object.values(PACKAGED)].join('\n');
    for (const m of texts.matchAll(/^Exec\w+=[-@:+!]*(\/\S+)/gm)) {
      const exe = join(root, m[1]!);
      mkdirSync(dirname(exe), { recursive: true });
      writeFileSync(exe, '#!/bin/sh\n');
      chmodSync(exe, 0o755);
    }
    const dropIn = /\/([^/]+)\.d\/[^/]+\.conf$/.exec(file.path);
    const unit = dropIn ? dropIn[1]! : file.path.split('/').pop()!;
    expect(existsSync(join(units, unit)) || unit in PACKAGED, `${file.path}: no packaged ${unit} to verify it with`).toBe(true);
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, unit], { encoding: 'utf8' });
    return [r.status === 0 ? '' : `exit ${r.status}`, r.stdout.trim(), r.stderr.trim()].filter(Boolean).join('\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const ROOT = process.getuid?.() === 0;
const NETNS = ROOT && spawnSync('unshare', ['--net', 'true']).status === 0;
const BRIDGE = existsSync('/proc/sys/net/bridge');

describe('unit files and drop-ins kbootstrap writes, in the real systemd-analyze verify', () => {
  it('there is at least the cri-docker drop-in to verify', () => expect(UNITS.map((f) => f.path)).toContain('/etc/systemd/system/cri-docker.service.d/10-kbootstrap.conf'));
  it.skipIf(!ANALYZE).each(UNITS.map((f) => [f.path, f] as const))('%s', (_p, f) => {
    expect(verify(f)).toBe('');
  });
  if (!ANALYZE) it.skip('SKIPPED: systemd-analyze is not installed (Debian: systemd)', () => {});
});

describe('sysctl drop-ins kbootstrap writes, applied by the real sysctl -p in a fresh network namespace', () => {
  it('there is at least the Kubernetes sysctl file to apply', () => expect(SYSCTLS.length).toBeGreaterThan(0));
  it.skipIf(!NETNS || !BRIDGE).each(SYSCTLS.map((f) => [f.path, f] as const))('%s', (_p, f) => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-sysctl-'));
    try {
      writeFileSync(join(dir, 'k.conf'), f.content);
      // apply, then read every key back in the same namespace
      const keys = f.content.split('\n').filter((l) => /^[a-z]/.test(l)).map((l) => l.split('=')[0]!.trim());
      const r = spawnSync('unshare', ['--net', 'sh', '-c', 'sysctl -p "$1" >/dev/null && shift && sysctl "$@"', 'sh', join(dir, 'k.conf'), ...keys], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      expect(r.stdout).toBe(f.content.split('\n').filter((l) => /^[a-z]/.test(l)).map((l) => l.replace(/\s*=\s*/, ' = ')).join('\n') + '\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  if (!NETNS) it.skip('SKIPPED: applying sysctls in a fresh network namespace needs root and unshare --net', () => {});
  else if (!BRIDGE) it.skip('SKIPPED: /proc/sys/net/bridge is missing (br_netfilter not loaded on this machine; the test does not load modules)', () => {});
});
