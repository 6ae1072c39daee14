/** An upload rides with the host's next command (src/run/coalesce.ts). */
import { describe, expect, it } from 'vitest';
import { CoalescingTransport } from '../src/run/coalesce.js';
import type { ExecOptions, ExecResult, Stdin } from '../src/transport/types.js';
import { FakeTransport } from './support/fake-transport.js';

/** A host that writes the file (prints the marker) unless told the write fails, then runs the script. */
function host(writeFails = false) {
  const stdins: (Stdin | undefined)[] = [];
  const inner = new FakeTransport({}, (script: string, opts: ExecOptions): ExecResult => {
    stdins.push(opts.stdin);
    if (!script.includes('kb_write ')) return { code: 0, stdout: 'plain\n', stderr: '' };
    // the shell ends at the failed write (set -e); the EXIT trap says so
    if (writeFails) return { code: 1, stdout: '', stderr: 'mv: cannot move: Read-only file system\n@@kbootstrap-not-written\n' };
    return { code: 0, stdout: script.includes('@@kbootstrap-check') ? '@@kbootstrap-check begin crictl\nok\n@@kbootstrap-check end crictl 0\n' : 'ran\n', stderr: '' };
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
    expect(inner.calls[0]!.detail).toMatch(/^trap .* EXIT\nkb_write \/etc\/crictl.yaml 0644 root:root\ntrap - EXIT\nsystemctl restart containerd$/);
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
