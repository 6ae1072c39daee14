/**
 * kbootstrap token and token revoke as plans on the Runner (issue 22 item 3):
 * which control plane acts (the first the cluster answers through), what a
 * second revoke does (nothing), that the join command reaches only the
 * command (never an outcome, an event or a check), and the snippet that
 * lists the tokens without their secrets, run by a real bash.
 */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import type { HostSpec } from '../src/inventory/model.js';
import { Host } from '../src/host/host.js';
import { assumedFacts } from '../src/os/index.js';
import { Runner, type RunEvent } from '../src/runner.js';
import { buildTokenCreatePlan, buildTokenRevokePlan, tokenCreateCommand, tokenIdOf, tokenRevokeCommand, type TokenCommandDeps } from '../src/commands/token.js';
import type { TokenSink } from '../src/steps/token-create.js';
import { bootstrapTokens, parseTokenList } from '../src/host/fact.js';
import { FakeTransport, type Answer } from './support/fake-transport.js';
import { exampleInventory } from './support/contexts.js';
import { jsonReport } from '../src/report.js';

const inv = exampleInventory('rocky-ha');
const TOKEN = 'abcdef.0123456789abcdef';
const HASH = `sha256:${'e'.repeat(64)}`;
const JOIN = `kubeadm join 192.168.60.100:6443 --token ${TOKEN} --discovery-token-ca-cert-hash ${HASH} `;

async function run(plan: ReturnType<typeof buildTokenCreatePlan>, checks: (host: string, t: () => FakeTransport) => Record<string, Answer>) {
  const transports = new Map<string, FakeTransport>();
  const events: RunEvent[] = [];
  const runner = new Runner(inv, plan, async (spec: HostSpec) => {
    const t = new FakeTransport(checks(spec.name, () => transports.get(spec.name)!), (script) => ({
      code: 0, stderr: '',
      stdout: script.includes('kubeadm token create') ? `${JOIN}\n` : script.includes('upload-certs') ? `[upload-certs] Using certificate key:\n${'c'.repeat(64)}\n` : '',
    }));
    transports.set(spec.name, t);
    return new Host(spec, t, assumedFacts('rhel'));
  }, { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1, onEvent: (e) => events.push(e) });
  const result = await runner.run();
  const changes = (h: string) => transports.get(h)?.calls.filter((c) => c.kind === 'exec' && c.mutates).map((c) => c.detail.split('\n').find((l) => /^kubeadm (token (create|delete)|init phase upload-certs)/.test(l))) ?? [];
  return { result, events, changes, status: (h: string) => result.outcomes.find((o) => o.host === h)?.status };
}

describe('kbootstrap token on the Runner', () => {
  it('the first control plane the cluster answers through makes the join command; the ones before it are asked, the ones after skipped', async () => {
    const sink: TokenSink = {};
    const r = await run(buildTokenCreatePlan(inv, { ttl: '1h', controlPlane: true }, sink), (h) => ({ 'token-create': h === 'cp-1' ? 'answers=no-admin-conf\n' : 'answers=yes\n' }));
    expect(r.result.failed).toBe(false);
    expect(sink.made).toEqual({ host: 'cp-2', joinCommand: `${JOIN.trim()} --control-plane --certificate-key ${'c'.repeat(64)}` });
    expect(r.changes('cp-1')).toEqual([]);
    expect(r.changes('cp-2')).toEqual(["kubeadm token create --print-join-command --ttl 1h --description 'kbootstrap token'", 'kubeadm init phase upload-certs --upload-certs']);
    expect(r.changes('cp-3')).toEqual([]);
    expect(r.result.outcomes.map((o) => `${o.host} ${o.status}`)).toEqual(['cp-1 ok', 'cp-2 changed', 'cp-3 skipped']);
    expect(r.result.outcomes.find((o) => o.host === 'cp-1')!.reason).toBe('the cluster does not answer through cp-1 (no /etc/kubernetes/admin.conf): cp-2 is asked next');
    // the secret is the command's alone: no outcome, event or JSON report carries it
    const said = JSON.stringify(r.events) + jsonReport(r.result, 'apply', 0);
    expect(said).not.toContain(TOKEN);
    expect(said).not.toContain('c'.repeat(64));
  });

  it('no control plane answers: the last one refuses, naming what each said; nothing is made anywhere', async () => {
    const sink: TokenSink = {};
    const r = await run(buildTokenCreatePlan(inv, { ttl: '2h' }, sink), (h) => ({ 'token-create': h === 'cp-2' ? 'answers=The connection to the server was refused\n' : 'answers=no-admin-conf\n' }));
    expect(r.result.failed).toBe(true);
    expect(sink.made).toBeUndefined();
    for (const h of ['cp-1', 'cp-2', 'cp-3']) expect(r.changes(h)).toEqual([]);
    expect(r.result.outcomes.find((o) => o.host === 'cp-3')).toMatchObject({
      status: 'failed',
      reason: 'token: no control plane with a running cluster (cp-1: no /etc/kubernetes/admin.conf; cp-2: The connection to the server was refused; cp-3: no /etc/kubernetes/admin.conf)',
    });
  });

  it('refuses --ttl 0 without --force before anything is planned', () => {
    expect(() => buildTokenCreatePlan(inv, { ttl: '0' }, {})).toThrow(/never expires/);
    expect(() => buildTokenCreatePlan(inv, { ttl: '0', force: true }, {})).not.toThrow();
  });
});

describe('kbootstrap token revoke on the Runner', () => {
  const listed = (ids: string[]) => `tokens=${ids.map((id) => JSON.stringify({ kind: 'BootstrapToken', token: id, ttl: '1h', description: 'x' })).join('')}\n`;
  it('a token on the cluster is deleted through cp-1; the re-check finds it gone', async () => {
    const r = await run(buildTokenRevokePlan(inv, 'abcdef'), (_h, t) => ({ 'token-revoke': () => `answers=yes\n${listed(t().applied('token-revoke').length ? ['zzzzzz'] : ['abcdef', 'zzzzzz'])}` }));
    expect(r.result.failed).toBe(false);
    expect(r.changes('cp-1')).toEqual(['kubeadm token delete abcdef']);
    expect(r.result.outcomes.map((o) => `${o.host} ${o.status}`)).toEqual(['cp-1 changed', 'cp-2 skipped', 'cp-3 skipped']);
  });

  it('a second revoke changes nothing: the token is not there', async () => {
    const r = await run(buildTokenRevokePlan(inv, 'abcdef.0123456789abcdef'), () => ({ 'token-revoke': `answers=yes\n${listed(['zzzzzz'])}` }));
    expect(r.result.failed).toBe(false);
    expect(r.changes('cp-1')).toEqual([]);
    expect(r.result.outcomes[0]).toMatchObject({ host: 'cp-1', status: 'ok', reason: 'no token abcdef on the cluster (revoked, or expired)' });
  });

  it('a token list that fails is a refusal, not a blind delete', async () => {
    const r = await run(buildTokenRevokePlan(inv, 'abcdef'), () => ({ 'token-revoke': 'answers=yes\ntokens-error=error: the server has asked for the client to provide credentials\n' }));
    expect(r.result.failed).toBe(true);
    expect(r.changes('cp-1')).toEqual([]);
  });

  it('takes the id, or the whole token (only its id is kept); refuses anything else', () => {
    expect(tokenIdOf('abcdef')).toBe('abcdef');
    expect(tokenIdOf(TOKEN)).toBe('abcdef');
    expect(() => tokenIdOf('ABC')).toThrow(/6-character id/);
  });
});

describe('the bootstrap tokens fact', () => {
  // kubeadm token list -o json as kubeadm 1.3x prints it: one indented object per token (the lab's simulation cites the printer)
  const kubeadmJson = [TOKEN, 'zzzzzz.9999999999999999'].map((t) => JSON.stringify({ kind: 'BootstrapToken', apiVersion: 'output.kubeadm.k8s.io/v1alpha3', creationTimestamp: null, token: t, description: 'kbootstrap token', ttl: '1h', expires: '2026-12-07T13:00:00Z', usages: ['authentication', 'signing'] }, null, 4)).join('\n');

  it('run by bash against a kubeadm that lists two tokens: the ids leave the host, the secrets do not', () => {
    const script = `kubeadm() { cat <<'EOF'\n${kubeadmJson}\nEOF\n}\n${bootstrapTokens.script(undefined as never)}`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('0123456789abcdef');
    expect(r.stdout).not.toContain('9999999999999999');
    expect(bootstrapTokens.parse(r.stdout)).toEqual({ tokens: [
      { id: 'abcdef', ttl: '1h', expires: '2026-12-07T13:00:00Z', description: 'kbootstrap token' },
      { id: 'zzzzzz', ttl: '1h', expires: '2026-12-07T13:00:00Z', description: 'kbootstrap token' },
    ] });
  });

  it('kubeadm fails: the error, not an empty list', () => {
    const r = spawnSync('bash', ['-c', `kubeadm() { echo 'error: no admin.conf' >&2; return 1; }\n${bootstrapTokens.script(undefined as never)}`], { encoding: 'utf8' });
    expect(bootstrapTokens.parse(r.stdout)).toEqual({ tokens: [], error: 'error: no admin.conf' });
  });

  it('parses full tokens too (ids only) and a token without expiry', () => {
    expect(parseTokenList(`{"token":"${TOKEN}"}`)).toEqual([{ id: 'abcdef', ttl: '<forever>', expires: '<never>', description: '<none>' }]);
  });
});

describe('the token commands\' output', () => {
  /** the CLI's run over SSH, stood in for by the Runner over transport doubles: what the command hands it and prints */
  function deps(answer: string) {
    const out: string[] = [];
    const err: string[] = [];
    let code = -1;
    let extrasSeen: { productOnStdout?: boolean; json?: unknown; command: string } | undefined;
    const d = {
      io: { out: (s: string) => { out.push(s); }, err: (s: string) => { err.push(s); }, isTTY: false },
      setCode: (c: number) => { code = c; },
      run: async (_file: string, o: { output: string }, _mode: 'apply', _io: unknown, extras: Parameters<TokenCommandDeps['run']>[4]) => {
        extrasSeen = extras;
        const r = await run(extras.plan(inv), () => ({ 'token-create': answer, 'token-revoke': answer }));
        const c = r.result.failed ? 1 : 0;
        if (o.output === 'json') out.push(jsonReport(r.result, 'apply', c, extras.json?.(r.result)));
        return extras.after ? extras.after(inv, r.result, c) : c;
      },
    };
    return { d, out, err, code: () => code, extras: () => extrasSeen };
  }

  it('token: stdout is the join command and nothing else; the run\'s own lines are not stdout\'s', async () => {
    const x = deps('answers=yes\n');
    await tokenCreateCommand(x.d, 'inv.yaml', { output: 'text', ttl: '2h' });
    expect(x.code()).toBe(0);
    expect(x.out.join('')).toBe(`${JOIN.trim()}\n`);
    expect(x.err.join('')).toBe('');
    expect(x.extras()).toMatchObject({ command: 'token', productOnStdout: true });
  });

  it('token -o json: one document, the run\'s report with the join command, where it was made, its ttl', async () => {
    const x = deps('answers=yes\n');
    await tokenCreateCommand(x.d, 'inv.yaml', { output: 'json', ttl: '30m' });
    const doc = JSON.parse(x.out.join('')) as Record<string, unknown>;
    expect(doc).toMatchObject({ mode: 'apply', exitCode: 0, joinCommand: JOIN.trim(), madeThrough: 'cp-1', ttl: '30m', controlPlane: false });
    expect(doc.steps).toEqual([
      expect.objectContaining({ host: 'cp-1', step: 'token-create', status: 'changed' }),
      expect.objectContaining({ host: 'cp-2', step: 'token-create', status: 'skipped' }),
      expect.objectContaining({ host: 'cp-3', step: 'token-create', status: 'skipped' }),
    ]);
  });

  it('token revoke -o json: the id and whether this run revoked it', async () => {
    const x = deps('answers=yes\ntokens=\n');
    await tokenRevokeCommand(x.d, 'inv.yaml', 'abcdef', { output: 'json' });
    expect(JSON.parse(x.out.join(''))).toMatchObject({ exitCode: 0, token: 'abcdef', revoked: false });
    const y = deps('answers=yes\ntokens=\n');
    await tokenRevokeCommand(y.d, 'inv.yaml', 'abcdef', { output: 'text' });
    expect(y.out.join('')).toBe('token abcdef is not on the cluster (revoked before, or expired): nothing to revoke\n');
  });
});
