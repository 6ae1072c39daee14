/**
 * `kbootstrap backup --dry-run`, `restore --dry-run`, `reset --dry-run`,
 * `token --dry-run` and `token revoke --dry-run` as golden scripts
 * (issue 22 items 2 and 3): what they run on each host, read as a reviewer
 * would; each passes bash -n and shellcheck. The restore renders a fixed
 * stand-in archive (no real key). KBOOTSTRAP_UPDATE_GOLDEN=1 regenerates.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventoryFile } from '../src/inventory/load.js';
import { dryRun } from '../src/dry-run.js';
import { buildBackupPlan, buildRestorePlan } from '../src/commands/etcd.js';
import { fixtureBackup } from './support/etcd-fixture.js';
import { buildResetPlan, type ResetFlags } from '../src/commands/reset.js';
import { buildTokenCreatePlan, buildTokenRevokePlan } from '../src/commands/token.js';
import { checkScripts } from './support/shellcheck.js';

const ROOT = join(import.meta.dirname, '..');
const UPDATE = process.env.KBOOTSTRAP_UPDATE_GOLDEN === '1';

function diff(expected: string, actual: string, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'kb-golden-'));
  try {
    writeFileSync(join(dir, 'a'), expected);
    writeFileSync(join(dir, 'b'), actual);
    return spawnSync('diff', ['-u', '--label', `golden/${label}`, '--label', 'rendered', join(dir, 'a'), join(dir, 'b')], { encoding: 'utf8' }).stdout;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function golden(kind: 'backup' | 'restore' | 'reset' | 'token-create' | 'token-revoke', name: string, reset: ResetFlags = { all: true }): Promise<Map<string, string>> {
  const { inventory } = loadInventoryFile(join(ROOT, 'inventories', `${name}.yaml`));
  inventory.file = `inventories/${name}.yaml`;
  const plan = kind === 'backup' ? buildBackupPlan(inventory, {})
    : kind === 'reset' ? buildResetPlan(inventory, reset)
      : kind === 'token-create' ? buildTokenCreatePlan(inventory, { ttl: '2h', controlPlane: name === 'rocky-ha' }, {})
        : kind === 'token-revoke' ? buildTokenRevokePlan(inventory, 'abcdef')
          : buildRestorePlan(inventory, { ...fixtureBackup(inventory.cluster.name), file: 'backup.tar.gz' }, false);
  const hosts = await dryRun(inventory, { plan });
  const dir = join(ROOT, 'test', 'golden', `${kind}-${name}`);
  if (UPDATE) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    for (const h of hosts) writeFileSync(join(dir, `${h.host}.sh`), h.script);
  }
  const problems: string[] = [];
  for (const h of hosts) {
    const path = join(dir, `${h.host}.sh`);
    if (!existsSync(path)) { problems.push(`missing golden file ${path} (KBOOTSTRAP_UPDATE_GOLDEN=1)`); continue; }
    const want = readFileSync(path, 'utf8');
    if (want !== h.script) problems.push(diff(want, h.script, `${kind}-${name}/${h.host}.sh`));
  }
  for (const f of readdirSync(dir).filter((f) => !hosts.some((h) => `${h.host}.sh` === f))) problems.push(`stale golden file ${kind}-${name}/${f}`);
  if (problems.length) throw new Error(`golden mismatch:\n${problems.join('\n')}`);
  checkScripts(readdirSync(dir).map((f) => join(dir, f)));
  return new Map(hosts.map((h) => [h.host, h.script]));
}

describe('backup and restore dry runs', () => {
  it('backup: every control plane is asked, the first takes the snapshot; saved and checked, copied back, nothing left behind', async () => {
    for (const name of ['rocky-ha', 'ubuntu-docker-flannel']) {
      const s = await golden('backup', name);
      const [text = '', ...others] = [...s.values()];
      expect(s.size).toBe(name === 'rocky-ha' ? 3 : 1);
      for (const o of others) {
        expect(o).toContain('kb_etcdctl endpoint health');
        expect(o).not.toContain('snapshot save');
      }
      expect(text).toContain('kb_etcdctl snapshot save /var/lib/etcd/kbootstrap-snapshot.db');
      expect(text).toContain('kb_etcdutl snapshot status /var/lib/etcd/kbootstrap-snapshot.db -w json');
      expect(text).toContain('# reads back to this machine: cat -- /var/lib/etcd/kbootstrap-snapshot.db');
      expect(text.indexOf('rm -f /var/lib/etcd/kbootstrap-snapshot.db /var/lib/kbootstrap/backup/pki.tar')).toBeGreaterThan(text.indexOf('reads back to this machine: cat -- /var/lib/kbootstrap/backup/pki.tar'));
    }
  });

  it('restore: every control plane is asked whether a cluster answers; the CAs and the snapshot go to the first, restored as a one-member etcd', async () => {
    const s = await golden('restore', 'rocky-ha');
    expect([...s.keys()]).toEqual(['cp-1', 'cp-2', 'cp-3']);
    expect(s.get('cp-2')).toContain('### restore-gate');
    expect(s.get('cp-2')).not.toContain('restore-etcd');
    const cp1 = s.get('cp-1')!;
    expect(cp1).toContain("--name cp-1 --initial-cluster cp-1=https://192.168.60.11:2380 --initial-advertise-peer-urls https://192.168.60.11:2380");
    // a key is shown as its size and digest, never its content
    expect(cp1).toMatch(/# writes \/etc\/kubernetes\/pki\/ca\.key \(mode 600, root:root\): \d+ bytes, sha256 [0-9a-f]{64}/);
    expect(cp1).not.toContain('FIXTURE CA KEY');
    // containerd: etcdutl from the etcd image when the host has none
    expect(cp1).toContain("ctr -n k8s.io run --rm --mount type=bind,src=/var/lib/kbootstrap,dst=/var/lib/kbootstrap,options=rbind:rw registry.k8s.io/etcd:3.5.15-0");
    const docker = await golden('restore', 'ubuntu-docker-flannel');
    expect([...docker.values()].join('\n')).toContain('docker run --rm --network none -v /var/lib/kbootstrap:/var/lib/kbootstrap registry.k8s.io/etcd:3.5.15-0 etcdutl "$@"');
  });
});

/** `kbootstrap reset --dry-run`: a control plane and a worker of an HA cluster, and --all of a small one. */
describe('reset dry runs', () => {
  it('--host cp-2,worker-1: the preflight and the drains and the etcd removal through cp-1; each host\'s own reset; bash -n and shellcheck', async () => {
    const s = await golden('reset', 'rocky-ha', { host: ['cp-2', 'worker-1'] });
    expect([...s.keys()]).toEqual(['cp-1', 'cp-2', 'worker-1']);
    const cp1 = s.get('cp-1')!;
    expect(cp1).toContain('### reset-preflight');
    expect(cp1).toContain("awk -F', ' -v n=cp-2 '$3 == n { print $1 }'");
    expect(cp1.indexOf('kb_kubectl drain worker-1')).toBeLessThan(cp1.indexOf('kb_kubectl drain cp-2'));
    expect(cp1).not.toContain('kubeadm reset -f');
    expect(s.get('worker-1')).toContain('kubeadm reset -f');
    expect(s.get('worker-1')).not.toContain('etcd-leave');
  });

  it('--all: cp-1 drains the others and is reset last; docker: both runtimes restarted', async () => {
    const s = await golden('reset', 'ubuntu-docker-flannel');
    expect([...s.keys()]).toEqual(['ctl', 'work-1', 'work-2']);
    expect(s.get('ctl')).toContain('kb_kubectl drain work-2');
    expect(s.get('ctl')).toContain('systemctl restart cri-docker');
  });
});

/**
 * `kbootstrap token --dry-run` and `token revoke --dry-run`: the first control plane asks whether the
 * cluster answers and acts, the others are skipped (asked only when it does not answer); the secrets
 * are placeholders, and the token list that revoke reads leaves the host without them.
 */
describe('token dry runs', () => {
  it('token --control-plane (rocky-ha): cp-1 makes the join command and uploads the certificates; cp-2 and cp-3 skipped; workers untouched', async () => {
    const s = await golden('token-create', 'rocky-ha');
    expect([...s.keys()]).toEqual(['cp-1', 'cp-2', 'cp-3']);
    const cp1 = s.get('cp-1')!;
    expect(cp1).toContain("kubeadm token create --print-join-command --ttl 2h --description 'kbootstrap token'");
    expect(cp1).toContain('kubeadm init phase upload-certs --upload-certs');
    expect(cp1.indexOf('answers=yes')).toBeLessThan(cp1.indexOf('kubeadm token create'));
    for (const n of ['cp-2', 'cp-3']) {
      expect(s.get(n)).toContain('# skipped: done through cp-1');
      expect(s.get(n)).not.toContain('kubeadm token create');
    }
  });

  it('token revoke abcdef (ubuntu-docker-flannel): the list read without secrets, then kubeadm token delete', async () => {
    const s = await golden('token-revoke', 'ubuntu-docker-flannel');
    expect([...s.keys()]).toEqual(['ctl']);
    const ctl = s.get('ctl')!;
    expect(ctl).toContain('kubeadm token list -o json');
    expect(ctl).toContain('kubeadm token delete abcdef');
    expect(ctl.indexOf('kubeadm token list')).toBeLessThan(ctl.indexOf('kubeadm token delete'));
  });
});
