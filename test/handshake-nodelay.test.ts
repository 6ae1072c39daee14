/**
 * src/ssh/handshake.ts turns Nagle's algorithm off (TCP_NODELAY) on the connection's socket as soon
 * as node-ssh has made its ssh2 Client, before the SSH handshake runs: with it on, ssh2's small last
 * segments waited for the host's delayed ACK (the lab: 100-150 ms a handshake on Node.js 20,
 * 270-280 ms on Node.js 24, against 65-90 ms without it).
 */
import { expect, it, vi } from 'vitest';
import { exampleInventory } from './support/contexts.js';

const events: string[] = [];

vi.mock('node-ssh', () => ({
  NodeSSH: class {
    connection: { setNoDelay(v: boolean): void } | null = null;
    connect(): Promise<unknown> {
      // as node-ssh does: the ssh2 Client exists, and connects, before connect() returns
      this.connection = { setNoDelay: (v: boolean) => events.push(`setNoDelay(${v})`) };
      events.push('connect');
      return new Promise((resolve) => setTimeout(() => { events.push('ready'); resolve(this); }, 5));
    }
    dispose(): void {}
  },
}));

it('sets TCP_NODELAY before the handshake, not after it', async () => {
  const { sshHandshake } = await import('../src/ssh/handshake.js');
  const spec = exampleInventory('rocky-ha').hosts[0]!;
  await sshHandshake(spec, { creds: { keys: new Map() }, acceptNewHostKeys: false, commandTimeoutMs: 1000, connectAttempts: 1 });
  expect(events).toEqual(['connect', 'setNoDelay(true)', 'ready']);
});
