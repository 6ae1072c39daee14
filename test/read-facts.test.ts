/**
 * The one read-facts path of the read-only commands (issue 22 item 3):
 * every fact of a host in one round trip, each read by its own parser into a
 * typed value; a fact that fails leaves the others; a host that cannot be
 * reached carries its error; token list's mode asks the control planes in
 * turn and stops at the first the cluster answers through.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import type { HostSpec } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts, FAMILIES } from '../src/os/index.js';
import { factsScript, parseFacts, readFactsThrough, type Reach } from '../src/host/read-facts.js';
import { bootstrapTokens, joined, unitState, type Fact } from '../src/host/fact.js';
import { FakeTransport } from './support/fake-transport.js';
import { exampleInventory } from './support/contexts.js';

const inv = exampleInventory('rocky-ha');

/** hosts over transport doubles whose one exec answers ANSWER(host); UNREACHABLE ones never connect */
function reach(answer: (host: string) => string, unreachable: string[] = []) {
  const transports = new Map<string, FakeTransport>();
  const hosts = new Map<string, Host>();
  const connected: string[] = [];
  const r: Reach = {
    async connect(specs: HostSpec[]) {
      for (const spec of specs) {
        if (unreachable.includes(spec.name) || hosts.has(spec.name)) continue;
        const t = new FakeTransport({}, () => ({ code: 0, stdout: answer(spec.name), stderr: '' }));
        transports.set(spec.name, t);
        hosts.set(spec.name, new Host(spec, t, assumedFacts('rhel')));
        connected.push(spec.name);
      }
    },
    host: (n) => hosts.get(n),
    error: (n) => (unreachable.includes(n) ? `${n}: connect ECONNREFUSED` : undefined),
  };
  return { r, transports, connected };
}

describe('readFacts', () => {
  it('every host in one round trip, each fact typed by its own parser; an unreachable host carries its error', async () => {
    const { r, transports } = reach((h) => `joined=${h === 'worker-2' ? 'no' : 'yes'}\nunit=kubelet enabled ${h === 'cp-2' ? 'failed' : 'active'}\n`, ['worker-1']);
    const read = await readFactsThrough(r, inv, { step: 'status', facts: () => ({ joined, kubelet: unitState('kubelet') }) });
    expect(read.map((x) => x.host)).toEqual(inv.hosts.map((h) => h.name));
    expect(read.find((x) => x.host === 'cp-2')!.values).toEqual({ joined: true, kubelet: { enabled: 'enabled', active: 'failed' } });
    expect(read.find((x) => x.host === 'worker-2')!.values!.joined).toBe(false);
    expect(read.find((x) => x.host === 'worker-1')).toEqual({ spec: inv.hosts[3], host: 'worker-1', error: 'worker-1: connect ECONNREFUSED' });
    for (const [name, t] of transports) {
      expect(t.stats.roundTrips, name).toBe(1);
      expect(t.calls).toEqual([expect.objectContaining({ kind: 'exec', step: 'status', mutates: false })]);
    }
  });

  it('the facts a host is asked may depend on which hosts were reached (status reads the cluster through the first control plane reached)', async () => {
    const { r } = reach(() => 'joined=yes\n', ['cp-1']);
    const asked: string[] = [];
    await readFactsThrough(r, inv, { step: 'status', facts: (spec, reached) => { if (spec.name === inv.hosts.find((h) => h.role === 'control-plane' && reached.has(h.name))?.name) asked.push(spec.name); return { joined }; } });
    expect(asked).toEqual(['cp-2']);
  });

  it('firstAnswering: control planes in turn; the first the cluster answers through gives the values, the later ones are never reached', async () => {
    const cps = inv.hosts.filter((h) => h.role === 'control-plane');
    const { r, connected } = reach((h) => (h === 'cp-2' ? 'answers=yes\ntokens={"token":"abcdef"}\n' : 'answers=no-admin-conf\n'));
    const read = await readFactsThrough(r, inv, { hosts: cps, step: 'token list', firstAnswering: true, facts: () => ({ listed: bootstrapTokens }) });
    expect(connected).toEqual(['cp-1', 'cp-2']);
    expect(read[0]).toMatchObject({ host: 'cp-1', answers: { answers: false, why: 'no /etc/kubernetes/admin.conf' } });
    expect(read[0]!.values).toBeUndefined();
    expect(read[1]!.values).toEqual({ listed: { tokens: [{ id: 'abcdef', ttl: '<forever>', expires: '<never>', description: '<none>' }] } });
    expect(read[2]).toEqual({ spec: cps[2], host: 'cp-3' });
  });
});

describe('factsScript', () => {
  it('run by bash: a fact that exits (its subshell) leaves the others\' lines', () => {
    const broken: Fact<string> = { script: () => 'echo broken=before\nexit 3\necho broken=never', parse: () => '' };
    const script = `set -euo pipefail\n${factsScript({ a: joined, broken, b: unitState('kb-none.service') }, FAMILIES.rhel)}`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('broken=before');
    expect(r.stdout).not.toContain('broken=never');
    expect(parseFacts({ a: joined, b: unitState('kb-none.service') }, r.stdout)).toEqual({ a: false, b: { enabled: expect.any(String), active: expect.any(String) } });
    expect(r.stdout).toMatch(/^unit=kb-none\.service \S+ \S+$/m);
  });
});
