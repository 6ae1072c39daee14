/** How far a snapshot's transfer is, as the progress view shows it (issue 22 item 4): sizes, the percentage, at most four lines a second and always the last. */
import { describe, expect, it } from 'vitest';
import { byteProgress, formatBytes, progressText } from '../src/steps/byte-progress.js';
import { restoreEtcdStep } from '../src/steps/etcd-restore.js';
import { fixtureBackup } from './support/etcd-fixture.js';
import { FakeTransport } from './support/fake-transport.js';
import { ctxFor, exampleInventory } from './support/contexts.js';

describe('byte progress', () => {
  it('says bytes, KiB and MiB, and the share of a known total', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(40 * 1024 * 1024)).toBe('40.0 MiB');
    expect(progressText('snapshot', 12 * 1024 * 1024, 40 * 1024 * 1024)).toBe('snapshot: 12.0 MiB of 40.0 MiB (30%)');
    expect(progressText('snapshot', 2048)).toBe('snapshot: 2.0 KiB');
  });

  it('at most one line a quarter second, whatever the chunks; the end always', () => {
    let clock = 0;
    const said: string[] = [];
    const p = byteProgress((t) => said.push(t), 'snapshot', 4096, () => clock);
    p(1024); // first: said
    clock = 100; p(2048); // too soon
    clock = 300; p(3072); // said
    clock = 310; p(4096); // the end: said however soon
    expect(said).toEqual(['snapshot: 1.0 KiB of 4.0 KiB (25%)', 'snapshot: 3.0 KiB of 4.0 KiB (75%)', 'snapshot: 4.0 KiB of 4.0 KiB (100%)']);
  });

  it('the transport\'s total wins over the caller\'s guess', () => {
    const said: string[] = [];
    byteProgress((t) => said.push(t), 'snapshot', 10, () => 0)(50, 100);
    expect(said).toEqual(['snapshot: 50 B of 100 B (50%)']);
  });
});

describe('restore-etcd\'s upload of the snapshot', () => {
  it('tells the progress view how far it is, of the snapshot\'s size', async () => {
    const inv = exampleInventory('rocky-ha');
    const src = { ...fixtureBackup(inv.cluster.name), file: 'backup.tar.gz' };
    const step = restoreEtcdStep(src);
    const said: string[] = [];
    const t = new FakeTransport();
    await step.apply({ ...ctxFor(inv, 0, step, t), progress: (text: string) => said.push(text) }, { occupied: false });
    expect(said.at(-1)).toBe(progressText('snapshot', src.snapshot.length, src.snapshot.length));
    expect(said.at(-1)).toMatch(/\(100%\)$/);
  });
});
