/**
 * src/connect.ts: a host's first checks are rendered while its SSH handshake
 * goes on (before the run, for a plain up or plan), not after it: the
 * prefetch is called before the handshake has answered, and the connection
 * then takes that handshake.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { connectHost } from '../src/connect.js';
import { FactsCache } from '../src/run/facts-cache.js';
import { assumedFacts } from '../src/os/index.js';
import { KbError } from '../src/errors.js';
import type { Handshake } from '../src/ssh/handshake.js';
import { exampleInventory } from './support/contexts.js';

it('renders the first checks while the handshake goes on, then connects over that handshake', async () => {
  const spec = exampleInventory('rocky-ha').hosts[0]!;
  // a facts directory as the CLI's (…/kbootstrap/facts): the cache makes its parent private too, so never /tmp itself
  const facts = new FactsCache(join(mkdtempSync(join(tmpdir(), 'kb-early-')), 'kbootstrap', 'facts'));
  facts.put(spec, { ...assumedFacts('rocky9'), assumed: false });
  const events: string[] = [];
  let answer!: (e: Error) => void;
  const handshake = new Promise<Handshake>((_resolve, reject) => { answer = reject; });
  const early = new Map([[spec.name, handshake]]);
  const connecting = connectHost(spec, { creds: { keys: new Map() }, acceptNewHostKeys: false, commandTimeoutMs: 1000, connectAttempts: 1 }, { facts, early }, (host) => {
    events.push(`prefetch for ${host.facts.osId}`);
    return [];
  });
  await new Promise((r) => setTimeout(r, 20));
  events.push('handshake answers');
  answer(new KbError(`${spec.name}: authentication failed`));
  await expect(connecting).rejects.toThrow('authentication failed');
  expect(events).toEqual(['prefetch for rocky', 'handshake answers']);
  // the connection took the handshake started for it
  expect(early.size).toBe(0);
});
