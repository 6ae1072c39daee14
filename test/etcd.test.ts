/**
 * Backup archive and etcd membership (issue 22 item 2): what a changed byte,
 * a cut-off file or a wrong sidecar does to `restore` (refused, naming the
 * file, before anything connects), and the quorum rule of `reset --host`.
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packBackup, readBackup, writeBackup } from '../src/etcd/archive.js';
import { healthyEndpoints, parseMembers, planRemoval } from '../src/etcd/members.js';
import { fixtureBackup } from './support/etcd-fixture.js';
import { exampleInventory, ctxFor } from './support/contexts.js';
import { FakeTransport } from './support/fake-transport.js';
import { etcdBackupStep, SNAPSHOT_PATH, type BackupSink } from '../src/steps/etcd-backup.js';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';

const REPO = join(import.meta.dirname, '..');
/** The built CLI (npm run build first), as the operator runs it. */
function kbootstrap(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync('node', [join(REPO, 'bin', 'kbootstrap.js'), ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: mkdtempSync(join(tmpdir(), 'kb-cache-')) } });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

describe('backup archive', () => {
  it('round-trips byte for byte, is 0600 with FILE.sha256 beside it, and packs the same bytes twice', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-archive-'));
    try {
      const c = fixtureBackup('lab');
      expect(packBackup(c).equals(packBackup(c))).toBe(true);
      const file = join(dir, 'b.tar.gz');
      const w = writeBackup(file, c);
      expect(statSync(file).mode & 0o777).toBe(0o600);
      expect(readFileSync(`${file}.sha256`, 'utf8')).toBe(`${w.sha256}  b.tar.gz\n`);
      const r = readBackup(file);
      expect(r.sidecar).toBe('matches');
      expect(r.snapshot.equals(c.snapshot)).toBe(true);
      expect(r.pkiTar.equals(c.pkiTar)).toBe(true);
      expect(r.manifest).toEqual(c.manifest);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses, naming the file, every single changed byte and every cut, with or without FILE.sha256', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-archive-'));
    try {
      const bytes = packBackup(fixtureBackup('lab'));
      const file = join(dir, 'x.tar.gz');
      const named = new RegExp(`^${file.replace(/[.]/g, '\\.')}: not a usable kbootstrap backup: .*; nothing was changed on any host$`);
      // every byte position (the archive is small), one bit flipped, with FILE.sha256 beside it (as backup writes it): all refused
      const accepted: number[] = [];
      const silent: number[] = [];
      for (let at = 0; at < bytes.length; at++) {
        const x = Buffer.from(bytes);
        x[at]! ^= 0x01;
        writeFileSync(file, x);
        writeFileSync(`${file}.sha256`, `${createHash('sha256').update(bytes).digest('hex')}  x.tar.gz\n`);
        try { readBackup(file); accepted.push(at); } catch (e) { expect((e as Error).message).toMatch(named); }
        // without it, the archive alone refuses every change to what it holds; the only bytes it cannot see
        // are padding bits of deflate's flush blocks, which decompress to the very same content
        rmSync(`${file}.sha256`);
        try {
          const r = readBackup(file);
          expect(gunzipSync(x).equals(gunzipSync(bytes))).toBe(true);
          expect(r.sidecar).toBe('absent');
          silent.push(at);
        } catch (e) { expect((e as Error).message).toMatch(named); }
      }
      expect(accepted).toEqual([]);
      expect(silent.length).toBeLessThan(8);
      for (const len of [0, 9, 10, 100, bytes.length - 1]) {
        writeFileSync(file, bytes.subarray(0, len));
        expect(() => readBackup(file)).toThrow(`${file}: not a usable kbootstrap backup`);
      }
      writeFileSync(file, bytes);
      writeFileSync(`${file}.sha256`, `${'0'.repeat(64)}  x.tar.gz\n`);
      expect(() => readBackup(file)).toThrow(/its sha256 is [0-9a-f]{64}, .*x\.tar\.gz\.sha256 says 0{64} \(truncated or altered\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('restore refuses a damaged archive before it connects to anything (exit 2, the file named)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-archive-'));
    try {
      const file = join(dir, 'b.tar.gz');
      writeBackup(file, fixtureBackup('lab'));
      const x = readFileSync(file);
      x[x.length >> 1]! ^= 0xff;
      writeFileSync(file, x);
      // inventories/lab.yaml names hosts nobody can reach: a connection attempt would fail differently
      const r = kbootstrap(['restore', 'inventories/lab.yaml', '--from', file, '--yes']);
      expect(r.code).toBe(2);
      expect(r.stderr).toBe(`kbootstrap: ${file}: not a usable kbootstrap backup: its sha256 is ${/its sha256 is ([0-9a-f]{64})/.exec(r.stderr)?.[1]}, ${file}.sha256 says ${readFileSync(`${file}.sha256`, 'utf8').split(' ')[0]} (truncated or altered); nothing was changed on any host\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it('restore off a terminal without --yes is refused before any credential is read or any host is reached (as reset is)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-archive-'));
    try {
      const file = join(dir, 'b.tar.gz');
      writeBackup(file, fixtureBackup('air'));
      // private-registry.yaml needs KB_REGISTRY_PASSWORD, unset here: reading credentials first would fail on that instead
      const r = kbootstrap(['restore', 'inventories/private-registry.yaml', '--from', file]);
      expect(r.stderr).toBe('kbootstrap: restore: refusing without --yes: there is no terminal to confirm on\n');
      expect(r.code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('backup and restore on the command line', () => {
  it('dry runs print bash or JSON; missing or meaningless arguments are usage errors (exit 2) before anything connects', () => {
    const json = kbootstrap(['backup', 'inventories/rocky-ha.yaml', '--dry-run', '--output', 'json']);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { hosts: { host: string }[] }).hosts.map((h) => h.host)).toEqual(['cp-1', 'cp-2', 'cp-3']);
    const restore = kbootstrap(['restore', 'inventories/rocky-ha.yaml', '--dry-run']);
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain('etcdutl snapshot restore into a new data directory');
    expect(restore.stdout).toContain('# the snapshot from <BACKUP>');
    for (const [args, msg] of [
      [['backup', 'inventories/lab.yaml'], 'kbootstrap: backup: name the archive with --file FILE (-o is the output format, as on every command)\n'],
      [['backup', 'inventories/lab.yaml', '--file', '/nonexistent-dir/b.tar.gz'], 'kbootstrap: backup: cannot write /nonexistent-dir/b.tar.gz: no such directory\n'],
      [['backup', 'inventories/lab.yaml', '--file', 'package.json'], 'kbootstrap: backup: package.json exists; kbootstrap does not overwrite a backup (move it, or choose another name)\n'],
      [['restore', 'inventories/lab.yaml'], 'kbootstrap: restore: name the archive with --from FILE\n'],
      [['restore', 'inventories/lab.yaml', '--from', 'x', '--only', 'k8s-master'], 'kbootstrap: restore: --only does not apply: restore runs its whole plan\n'],
      [['restore', 'inventories/lab.yaml', '--from', '/nonexistent.tar.gz'], 'kbootstrap: cannot read /nonexistent.tar.gz: no such file\n'],
    ] as const) {
      const r = kbootstrap([...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toBe(msg);
    }
  });
});

describe('etcd membership and quorum', () => {
  const list = [
    '8e9e05c52164694d, started, cp-1, https://10.0.0.11:2380, https://10.0.0.11:2379, false',
    '91bc3c398fb3c146, started, cp-2, https://10.0.0.12:2380, https://10.0.0.12:2379, false',
    'fd422379fda50e48, started, cp-3, https://10.0.0.13:2380, https://10.0.0.13:2379, false',
  ];
  const members = parseMembers(list);
  const health = (...up: number[]) => healthyEndpoints(up.map((i) => `https://10.0.0.1${i}:2379 is healthy: successfully committed proposal: took = 2ms`)
    .concat(['https://10.0.0.19:2379 is unhealthy: failed to commit proposal: context deadline exceeded', 'Error: unhealthy cluster']));

  it('reads etcdctl member list -w simple', () => {
    expect(members.map((m) => [m.id, m.name, m.clientUrls[0]])).toEqual([['8e9e05c52164694d', 'cp-1', 'https://10.0.0.11:2379'], ['91bc3c398fb3c146', 'cp-2', 'https://10.0.0.12:2379'], ['fd422379fda50e48', 'cp-3', 'https://10.0.0.13:2379']]);
  });

  it('removes a member when a quorum of healthy members stays; refuses, naming them, when it would not', () => {
    expect(planRemoval(members, health(1, 2, 3), ['cp-3'])).toEqual({ remove: [members[2]] });
    // one member already down: 2 left of which 1 healthy, a quorum of 2 needs 2
    expect(planRemoval(members, health(1, 3), ['cp-3']).refusal).toBe('removing cp-3 from etcd leaves 2 members of which 1 is healthy (cp-2 is not): a quorum needs 2, so etcd, and the cluster with it, would stop');
    // removing the member that is down is fine: 2 left, both healthy
    expect(planRemoval(members, health(1, 3), ['cp-2']).refusal).toBeUndefined();
    expect(planRemoval(members, health(1, 2, 3), ['cp-2', 'cp-3']).refusal).toBeUndefined();
    expect(planRemoval(members, health(1, 2, 3), ['cp-1', 'cp-2', 'cp-3']).refusal).toMatch(/leaves etcd no member/);
    // a host that is no member (a worker, a control plane already removed): nothing to remove
    expect(planRemoval(members, health(1, 2, 3), ['worker-1'])).toEqual({ remove: [] });
  });
});

describe('the etcd-snapshot step', () => {
  const inv = exampleInventory('rocky-ha');
  const healthy = ['etcd=present', 'image=registry.k8s.io/etcd:3.5.15-0', 'health=ok', 'member=8e9e05c52164694d, started, cp-1, https://192.168.60.11:2380, https://192.168.60.11:2379, false', ''].join('\n');
  const status = { hash: 1, revision: 9, totalKey: 5, totalSize: 20480 };

  it('reads etcd\'s health and members; an unhealthy etcd hands the snapshot to the next control plane, the last one refuses, without touching the host', async () => {
    const sink: BackupSink = {};
    const step = etcdBackupStep(sink);
    const t = new FakeTransport();
    const ctx = ctxFor(inv, 0, step, t);
    const ok = step.parse({ step: step.id, code: 0, stdout: healthy }, ctx);
    expect(ok).toMatchObject({ done: false, reason: 'etcd healthy, 1 member (cp-1): a snapshot is taken on every run', found: { image: 'registry.k8s.io/etcd:3.5.15-0' } });
    const sickOut = { step: step.id, code: 0, stdout: 'etcd=present\nimage=x\nhealth=https://127.0.0.1:2379 is unhealthy: failed to commit proposal\n' };
    expect(step.parse(sickOut, ctx)).toMatchObject({ done: true, reason: 'etcd is not healthy: https://127.0.0.1:2379 is unhealthy: failed to commit proposal; cp-2 takes the snapshot', warning: expect.stringContaining('another control plane') });
    const last = ctxFor(inv, 2, step, t);
    const sick = step.parse(sickOut, last);
    expect(sick.done).toBe(false);
    await expect(step.apply(last, sick.found)).rejects.toThrow('cp-3: etcd is not healthy: https://127.0.0.1:2379 is unhealthy: failed to commit proposal; nothing was taken');
    const absent = step.parse({ step: step.id, code: 0, stdout: 'etcd=absent\n' }, ctx);
    await expect(step.apply(ctx, absent.found)).rejects.toThrow(/no stacked etcd here/);
    expect(t.calls).toEqual([]);
  });

  it('takes the snapshot, copies it and the PKI back byte for byte, and removes both from the host, also when a copy fails', async () => {
    const sink: BackupSink = {};
    const step = etcdBackupStep(sink);
    const snapshot = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), Buffer.alloc(20480 + 32 - 3, 0x80)]);
    const t = new FakeTransport({}, (script) => ({ code: 0, stdout: script.includes('snapshot status') ? `${JSON.stringify(status)}\n` : script.includes('kubeadm-config') ? 'data:\n  ClusterConfiguration: |\n    kubernetesVersion: v1.31.2\n' : '', stderr: '' }));
    t.files.set(SNAPSHOT_PATH, snapshot);
    t.files.set('/var/lib/kbootstrap/backup/pki.tar', Buffer.from([1, 2, 0xff]));
    const said: string[] = [];
    const ctx = { ...ctxFor(inv, 0, step, t), progress: (text: string) => said.push(text) };
    await step.apply(ctx, step.parse({ step: step.id, code: 0, stdout: healthy }, ctx).found);
    expect(sink.taken?.snapshot.equals(snapshot)).toBe(true);
    // the progress view's line as the snapshot comes in: of the size etcdutl counted (the transport cannot say it)
    expect(said).toEqual(['snapshot: 10.0 KiB of 20.0 KiB (50%)', 'snapshot: 20.0 KiB of 20.0 KiB (100%)']);
    expect(sink.taken?.pkiTar.equals(Buffer.from([1, 2, 0xff]))).toBe(true);
    expect(sink.taken).toMatchObject({ kubernetesVersion: '1.31.2', status, image: 'registry.k8s.io/etcd:3.5.15-0', members: [{ name: 'cp-1' }] });
    expect(t.calls.at(-1)!.detail).toContain(`rm -f ${SNAPSHOT_PATH} /var/lib/kbootstrap/backup/pki.tar`);
    expect(step.parse({ step: step.id, code: 0, stdout: healthy }, ctx)).toMatchObject({ done: true, reason: 'snapshot taken: 20480 bytes, revision 9, 5 keys' });
    // the control planes after it only ask: one snapshot per run
    const next = ctxFor(inv, 1, step, t);
    expect(step.parse({ step: step.id, code: 0, stdout: healthy }, next)).toMatchObject({ done: true, reason: 'snapshot taken on cp-1: 20480 bytes, revision 9, 5 keys' });

    // a snapshot cut short on the way is refused, and nothing stays behind
    const short = new FakeTransport({}, (script) => ({ code: 0, stdout: script.includes('snapshot status') ? `${JSON.stringify(status)}\n` : '', stderr: '' }));
    short.files.set(SNAPSHOT_PATH, snapshot.subarray(0, 1000));
    const sink2: BackupSink = {};
    const ctx2 = ctxFor(inv, 0, step, short);
    await expect(etcdBackupStep(sink2).apply(ctx2, { members: [] })).rejects.toThrow('cp-1: the snapshot copied here has 1000 bytes, etcdutl counted 20480 + its 32-byte hash');
    expect(short.calls.at(-1)!.detail).toContain(`rm -f ${SNAPSHOT_PATH}`);
    expect(sink2.taken).toBeUndefined();
  });
});
