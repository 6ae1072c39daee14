/** An upload rides with the host's next command (src/run/coalesce.ts). */
import { describe, expect, it } from 'vitest';
import { CoalescingTransport } from '../src/run/coalesce.js';
import type { ExecOptions, ExecResult, Stdin } from '../src/transport/types.js';
import { FakeTransport } from './support/fake-transport.js';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withPrelude } from '../src/shell/prelude.js';
import { Host } from '../src/host/host.js';
import type { HostFacts } from '../src/host/facts.js';
import { RemoteCommandError } from '../src/transport/remote-error.js';
import { exampleInventory } from './support/contexts.js';

const lab = exampleInventory('lab');

/** A host that writes the file (prints the marker) unless told the write fails, then runs the script. */
function host(writeFails = false) {
  const stdins: (Stdin | undefined)[] = [];
  const inner = new FakeTransport({}, (script: string, opts: ExecOptions): ExecResult => {
    stdins.push(opts.stdin);
    if (!script.includes('kb_write ')) return { code: 0, stdout: 'plain\n', stderr: '' };
    // the shell ends at the failed write (set -e); the EXIT trap says so
    if (writeFails) return { code: 1, stdout: '\n@@kbootstrap-part 0\n', stderr: '\n@@kbootstrap-part 0\nmv: cannot move: Read-only file system\n\n@@kbootstrap-stopped 0\n' };
    const own = script.includes('@@kbootstrap-check') ? '@@kbootstrap-check begin crictl\nok\n@@kbootstrap-check end crictl 0\n' : 'ran\n';
    return { code: 0, stdout: `\n@@kbootstrap-part 0\n\n@@kbootstrap-own\n${own}`, stderr: '\n@@kbootstrap-part 0\n\n@@kbootstrap-own\n' };
  });
  return { inner, stdins, t: new CoalescingTransport(inner, 'lab-01') };
}

describe('CoalescingTransport', () => {
  it('an upload and the next command are one round trip: the file on stdin, then the script; the script sees only its own output', async () => {
    const { inner, stdins, t } = host();
    await t.upload('runtime-endpoint: x\n', '/etc/crictl.yaml', { step: 'crictl', mode: '0644' });
    expect(inner.stats.roundTrips).toBe(0);
    const r = await t.exec('systemctl restart containerd', { step: 'crictl', mutates: true });
    expect(r.stdout).toBe('ran\n');
    expect(inner.stats.roundTrips).toBe(1);
    expect(inner.calls[0]!.detail).toMatch(/^trap .* EXIT\n(.*\n)*kb_write \/etc\/crictl.yaml 0644 root:root\ntrap - EXIT\n(.*\n)*systemctl restart containerd$/);
    expect(stdins).toEqual(['runtime-endpoint: x\n']);
  });

  it('a check batch carries it too, and parses its checks', async () => {
    const { inner, t } = host();
    await t.upload('x\n', '/etc/crictl.yaml', { step: 'crictl', mode: '0644' });
    const outs = await t.checkBatch([{ step: 'crictl', script: 'cat /etc/crictl.yaml' }]);
    expect(outs).toEqual([{ step: 'crictl', code: 0, stdout: 'ok\n' }]);
    expect(inner.stats.roundTrips).toBe(1);
  });

  it('a write that fails fails the carrying command with the upload\'s own error, and its script is not reported as run', async () => {
    const { t } = host(true);
    await t.upload('x\n', '/etc/crictl.yaml', { step: 'crictl', mode: '0644' });
    await expect(t.exec('systemctl restart containerd', { step: 'crictl', mutates: true }))
      .rejects.toThrow(/^lab-01: crictl: command failed with exit code 1: write \/etc\/crictl.yaml\n {4}mv: cannot move: Read-only file system$/);
  });

  it('a second upload, a command with stdin of its own, and close send a kept file alone', async () => {
    const { inner, t } = host();
    await t.upload('a', '/etc/a', { step: 's', mode: '0644' });
    await t.upload('b', '/etc/b', { step: 's', mode: '0644' });
    expect(inner.calls.map((c) => [c.kind, c.detail])).toEqual([['upload', '/etc/a']]);
    await t.exec('cat >/dev/null', { step: 's', mutates: true, stdin: 'own' });
    expect(inner.calls.map((c) => [c.kind, c.detail])).toEqual([['upload', '/etc/a'], ['upload', '/etc/b'], ['exec', 'cat >/dev/null']]);
    await t.upload('c', '/etc/c', { step: 's', mode: '0644' });
    await t.close();
    expect(inner.calls.at(-1)).toEqual({ kind: 'upload', step: 's', detail: '/etc/c' });
  });

  it('kept commands never make one script longer than a command line may be: what is kept goes first', async () => {
    const { inner, t } = host();
    const big = `: ${'x'.repeat(40 * 1024)}`;
    await t.exec(big, { step: 's', mutates: true, carry: true });
    await t.exec(big, { step: 's', mutates: true, carry: true });
    expect(inner.stats.roundTrips).toBe(1);
    await t.exec(big, { step: 's', mutates: true });
    expect(inner.stats.roundTrips).toBe(3);
    expect(inner.calls.every((c) => c.detail.length < 64 * 1024 + 1024)).toBe(true);
  });

  it('a binary upload goes alone at once (an etcd snapshot is never kept nor carried), and a download sends a kept file first', async () => {
    const { inner, t } = host();
    await t.upload(Buffer.from([0, 1, 2]), '/var/lib/etcd-restore/snapshot.db', { step: 'restore-etcd', mode: '0600' });
    expect(inner.calls.map((c) => [c.kind, c.detail])).toEqual([['upload', '/var/lib/etcd-restore/snapshot.db']]);
    await t.upload('x\n', '/etc/crictl.yaml', { step: 'crictl', mode: '0644' });
    inner.files.set('/etc/kubernetes/pki/ca.crt', Buffer.from('CA'));
    await t.download('/etc/kubernetes/pki/ca.crt', { step: 'etcd-backup' });
    expect(inner.calls.map((c) => [c.kind, c.detail])).toEqual([['upload', '/var/lib/etcd-restore/snapshot.db'], ['upload', '/etc/crictl.yaml'], ['download', '/etc/kubernetes/pki/ca.crt']]);
  });
});

/**
 * The host's shell on this machine: each command runs in bash as the SSH transport sends it
 * (set -euo pipefail, the prelude when it calls kb_*), stdin as given, in a scratch directory $D.
 */
function localHost() {
  const dir = mkdtempSync(join(tmpdir(), 'kb-carry-'));
  const owner = `${process.getuid!()}:${process.getgid!()}`;
  const inner = new FakeTransport({}, (script: string, opts: ExecOptions): ExecResult => {
    const r = spawnSync('bash', ['-c', `set -euo pipefail\n${withPrelude(script)}`], {
      env: { ...process.env, D: dir }, encoding: 'utf8', input: typeof opts.stdin === 'string' ? opts.stdin : '',
    });
    return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
  });
  const t = new CoalescingTransport(inner, lab.hosts[0]!.name);
  const host = new Host(lab.hosts[0]!, t, {} as HostFacts);
  const ran = () => (existsSync(join(dir, 'ran')) ? readFileSync(join(dir, 'ran'), 'utf8') : '');
  return { dir, owner, inner, t, host, ran };
}

describe('CoalescingTransport: a command whose result is not read (carry) rides with the next', () => {
  it('keeps each command in order with the uploads, in one round trip: each its own stdin, the carrier sees only its own output', async () => {
    const { dir, owner, inner, host, ran } = localHost();
    // `cat` would eat the upload's content if the kept command shared the stdin
    const keep = await host.exec('echo keys >>"$D/ran"; cat; echo keys-out; echo keys-err >&2', { step: 'kube-packages', mutates: true, carry: true });
    expect(keep).toEqual({ code: 0, stdout: '', stderr: '' });
    await host.upload('[kubernetes]\n', `${dir}/k.repo`, { step: 'kube-packages', mode: '0644', owner });
    await host.exec('echo install >>"$D/ran"; exit 0; echo never', { step: 'kube-packages', mutates: true, carry: true });
    expect(inner.stats.roundTrips).toBe(0);
    const r = await host.exec('echo enable >>"$D/ran"; echo own; echo own-err >&2', { step: 'kube-packages', mutates: true });
    expect(inner.stats.roundTrips).toBe(1);
    expect(readFileSync(join(dir, 'k.repo'), 'utf8')).toBe('[kubernetes]\n');
    // `exit 0` ended its own subshell only, as it ended its own command alone
    expect(ran()).toBe('keys\ninstall\nenable\n');
    expect(r).toEqual({ code: 0, stdout: 'own\n', stderr: 'own-err\n' });
  });

  it('a kept command that fails fails the carrier with its own step, script and stderr, and nothing after it runs', async () => {
    const { dir, owner, inner, host, ran } = localHost();
    await host.exec('echo fetch >>"$D/ran"; echo fine >&2', { step: 'cni', mutates: true, carry: true });
    await host.exec('echo sum >>"$D/ran"\necho "sha256 differs: not applied" >&2\nfalse\necho after >>"$D/ran"', { step: 'cni-fetch', mutates: true, carry: true, note: 'the manifest' });
    await host.upload('x\n', `${dir}/cni.yaml`, { step: 'cni', mode: '0600', owner });
    const err = await host.exec('echo apply >>"$D/ran"', { step: 'cni', mutates: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteCommandError);
    expect((err as Error).message).toBe('k8s-master: cni-fetch: command failed with exit code 1: the manifest: echo sum >>"$D/ran"\n    sha256 differs: not applied');
    expect(inner.stats.roundTrips).toBe(1);
    expect(ran()).toBe('fetch\nsum\n');
    expect(existsSync(join(dir, 'cni.yaml'))).toBe(false);
  });

  it('a write that fails after a kept command is the write\'s failure; a carrier that fails is its own, without the kept parts\' output', async () => {
    const { dir, owner, host, ran } = localHost();
    await host.exec('echo keys >>"$D/ran"; echo keys-err >&2', { step: 'container-runtime', mutates: true, carry: true });
    await host.upload('x\n', `${dir}/no-such-dir/../../${'x'.repeat(300)}/f`, { step: 'container-runtime', mode: '0644', owner });
    await expect(host.exec('echo restart >>"$D/ran"', { step: 'container-runtime', mutates: true }))
      .rejects.toThrow(/^k8s-master: container-runtime: command failed with exit code 1: write .*\n {4}.*File name too long/);
    expect(ran()).toBe('keys\n');
    await host.exec('echo install >>"$D/ran"; echo install-err >&2', { step: 'container-runtime', mutates: true, carry: true });
    await expect(host.exec('echo boom >&2; exit 3', { step: 'container-runtime', mutates: true }))
      .rejects.toThrow(/^k8s-master: container-runtime: command failed with exit code 3: echo boom >&2; exit 3\n {4}boom$/);
    expect(ran()).toBe('keys\ninstall\n');
  });

  it('a check batch, a second stdin and close carry or send what is kept; a command whose code is read never waits', async () => {
    const { dir, owner, inner, host, t, ran } = localHost();
    await host.exec('echo a >>"$D/ran"', { step: 's', mutates: true, carry: true });
    const outs = await host.checkBatch([{ step: 's', script: 'cat "$D/ran"' }]);
    expect(outs).toEqual([{ step: 's', code: 0, stdout: 'a\n' }]);
    expect(inner.stats.roundTrips).toBe(1);
    // allowFailure: the caller reads the code, so it runs at once
    expect((await host.exec('exit 4', { step: 's', mutates: true, carry: true, allowFailure: true })).code).toBe(4);
    expect(inner.stats.roundTrips).toBe(2);
    await host.exec('echo b >>"$D/ran"', { step: 's', mutates: true, carry: true });
    await host.upload('one\n', `${dir}/one`, { step: 's', mode: '0644', owner });
    // a command with stdin of its own: what is kept (it holds an upload) goes first, in one command
    const r = await host.exec('cat', { step: 's', mutates: true, stdin: 'own stdin\n' });
    expect(r.stdout).toBe('own stdin\n');
    expect(inner.stats.roundTrips).toBe(4);
    await host.exec('echo c >>"$D/ran"', { step: 's', mutates: true, carry: true });
    await t.close();
    expect(inner.stats.roundTrips).toBe(5);
    expect(ran()).toBe('a\nb\nc\n');
    expect(readFileSync(join(dir, 'one'), 'utf8')).toBe('one\n');
  });
});
