/**
 * OpenSSH is the oracle: for every alias, `ssh -G -F <fixture>` (prints the
 * resolved configuration, connects nowhere) must agree with resolveSshConfig().
 * Jump chains are followed the way ssh.c builds its ProxyCommand for ProxyJump:
 * `ssh [-l user] [-p port] [-J earlier,hops] -F <same file> -W ... <last hop>`,
 * so each hop is asked of `ssh -G` with exactly those arguments.
 * All names are fake (.invalid) or lab addresses (10.213.0.x); nothing resolves or connects.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { describeSource, resolveConnection, resolveSshConfig, parseJumpList, SshConfigError, type SshConfigResult } from '../src/ssh/ssh-config.js';

const FIX = resolve(__dirname, 'fixtures/ssh-config');
const CONFIG = join(FIX, 'config');
// relative Include paths are anchored at $HOME/.ssh (glob(3) GLOB_TILDE); ~ and %d come from the password database
const HOME = mkdtempSync(join(tmpdir(), 'kb-sshcfg-'));
cpSync(join(FIX, 'dot-ssh'), join(HOME, '.ssh'), { recursive: true });
const OPTS = { file: CONFIG, sshDir: join(HOME, '.ssh') };
const PW_HOME = userInfo().homedir;

interface G { hostname: string; user: string; port: number; identityfile: string[]; proxyjump?: string; userknownhostsfile: string[]; stricthostkeychecking: string; connecttimeout?: number }

function sshG(alias: string, args: string[] = []): G {
  const out = execFileSync('ssh', ['-G', '-F', CONFIG, ...args, alias], { env: { ...process.env, HOME }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 }).toString();
  const g: Partial<G> = { identityfile: [] };
  for (const line of out.split('\n')) {
    const sp = line.indexOf(' ');
    const [k, v] = [line.slice(0, sp), line.slice(sp + 1)];
    if (k === 'hostname' || k === 'user' || k === 'stricthostkeychecking') g[k] = v;
    else if (k === 'port') g.port = Number(v);
    else if (k === 'identityfile') g.identityfile!.push(v);
    else if (k === 'proxyjump' && v !== 'none') g.proxyjump = v;
    else if (k === 'userknownhostsfile') g.userknownhostsfile = v.split(' ');
    else if (k === 'connecttimeout' && v !== 'none') g.connecttimeout = Number(v);
  }
  return g as G;
}

/** ssh -G as OpenSSH itself would ask it along the chain, nearest hop first. */
function oracleChain(proxyjump: string | undefined): { alias: string; g: G }[] {
  if (!proxyjump) return [];
  const hops = proxyjump.split(',');
  const lastSpec = parseJumpList(hops[hops.length - 1]!, 'oracle')[0]!;
  const args = [
    ...(lastSpec.user ? ['-l', lastSpec.user] : []),
    ...(lastSpec.port ? ['-p', String(lastSpec.port)] : []),
    ...(hops.length > 1 ? ['-J', hops.slice(0, -1).join(',')] : []),
  ];
  const g = sshG(lastSpec.host, args);
  return [...oracleChain(g.proxyjump), { alias: lastSpec.host, g }];
}

const STRICT_AS_PRINTED = { yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' } as const;

function asG(r: SshConfigResult): G {
  return {
    hostname: r.hostname, user: r.user, port: r.port, identityfile: r.identityFiles,
    ...(r.proxyJump ? { proxyjump: r.proxyJump } : {}),
    userknownhostsfile: r.userKnownHostsFiles, stricthostkeychecking: STRICT_AS_PRINTED[r.strictHostKeyChecking],
    ...(r.connectTimeoutSeconds ? { connecttimeout: r.connectTimeoutSeconds } : {}),
  };
}

const ALIASES = [
  // the five cluster hosts: direct, one hop, two hops, first-value-wins, ProxyJump none
  'cp1', 'cp2', 'worker1', 'worker2', 'worker3',
  'jump1', 'jump2',
  // wildcards: ? is one character, * with a negated pattern, then the fallbacks of Host *
  'web', 'web1', 'web12', 'foo.lab.invalid', 'bad.lab.invalid',
  // from the Include (a dot file is skipped, files in lexical order)
  'extra',
  // nothing specific; Host patterns are case-sensitive
  'nothing', 'CP1',
];

describe('resolveSshConfig agrees with ssh -G', () => {
  it.each(ALIASES)('%s', (alias) => {
    const r = resolveSshConfig(alias, OPTS);
    const g = sshG(alias);
    expect(asG(r)).toEqual(g);
    const chain = oracleChain(g.proxyjump);
    expect(r.jumps.map((h) => ({ alias: h.alias, g: asG(h.settings) }))).toEqual(chain);
  });

  it('the fixture covers a direct host, one hop and a two-hop chain', () => {
    expect(resolveSshConfig('cp1', OPTS).jumps).toEqual([]);
    expect(resolveSshConfig('cp2', OPTS).jumps.map((h) => h.settings.hostname)).toEqual(['10.213.0.2']);
    const w1 = resolveSshConfig('worker1', OPTS).jumps;
    expect(w1.map((h) => `${h.settings.user}@${h.settings.hostname}:${h.settings.port}`)).toEqual(['deploy@10.213.0.2:2022', 'fallback@10.213.0.3:2222']);
    // jump2 as the first hop keeps its own ProxyJump jump1
    expect(resolveSshConfig('web1', OPTS).jumps.map((h) => h.alias)).toEqual(['jump1', 'jump2']);
  });

  it('expands ~ and %-tokens in IdentityFile to the files ssh tries (ssh -v, ProxyCommand false: nothing leaves the machine)', () => {
    for (const alias of ['cp1', 'worker2', 'jump1', 'nothing']) {
      // -o ProxyCommand beats the config's ProxyJump (the first value wins), and `false` ends the session before any key is used
      const run = spawnSync('ssh', ['-v', '-F', CONFIG, '-o', 'ProxyCommand=false', '-o', 'BatchMode=yes', alias, 'true'], {
        env: { ...process.env, HOME }, stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000, encoding: 'utf8',
      });
      const tried = [...run.stderr.matchAll(/^debug1: identity file (.*) type -?\d+$/gm)].map((m) => m[1]!).filter((f) => !f.endsWith('-cert'));
      expect(tried.length).toBeGreaterThan(0);
      expect(resolveSshConfig(alias, OPTS).identityFilePaths, alias).toEqual(tried);
    }
  });

  it('names the file and line each value came from', () => {
    const r = resolveSshConfig('worker2', OPTS);
    expect(describeSource(r.sources.port!)).toBe(`ssh config ${CONFIG}:25`);
    expect(describeSource(r.sources.connectTimeoutSeconds!)).toMatch(/config:\d+$/);
    const cp2 = resolveSshConfig('cp2', OPTS);
    expect(describeSource(cp2.sources.user!)).toBe(`ssh config ${join(HOME, '.ssh/conf.d/10-extra.conf')}:8`);
    expect(r.sources.hostname).toEqual({ kind: 'ssh-config', file: CONFIG, line: 23 });
  });
});

describe('refusals', () => {
  it('detects a ProxyJump loop instead of following it forever', () => {
    expect(() => resolveSshConfig('loop-a', { ...OPTS, file: join(FIX, 'loop.conf') })).toThrow(/ProxyJump loop .*loop-b -> loop-a -> loop-b/);
  });
  it('refuses Match criteria it does not evaluate, naming the line', () => {
    expect(() => resolveSshConfig('x', { ...OPTS, file: join(FIX, 'match-exec.conf') })).toThrow(SshConfigError);
    expect(() => resolveSshConfig('x', { ...OPTS, file: join(FIX, 'match-exec.conf') })).toThrow(/match-exec.conf:1: Match exec is not supported/);
  });
});

describe('resolveConnection: inventory, then the config, then kbootstrap defaults', () => {
  const base = { configFile: CONFIG, sshOptions: { sshDir: join(HOME, '.ssh') } };
  it('takes what the config gives when the inventory is silent', () => {
    const c = resolveConnection({ ...base, target: 'cp1', explicit: {} });
    expect(c.address.value).toBe('10.213.0.11');
    expect(c.user).toEqual({ value: 'admin', source: { kind: 'ssh-config', file: CONFIG, line: 8 } });
    expect(c.port.value).toBe(2201);
    expect(c.privateKeyPaths.value).toEqual([`${PW_HOME}/.ssh/cp1_ed25519`, `${PW_HOME}/.ssh/id_fallback_${userInfo().username}`]);
    expect(c.strictHostKeyChecking.value).toBe('accept-new');
    expect(c.connectTimeoutSeconds).toEqual({ value: 10, source: { kind: 'default' } });
  });
  it('lets what the inventory writes win, field by field', () => {
    const c = resolveConnection({ ...base, target: 'cp1', explicit: { user: 'ops', privateKeyPath: '~/k' }, fieldPaths: { user: 'hosts[0].ssh.user' } });
    expect(c.user).toEqual({ value: 'ops', source: { kind: 'inventory', field: 'hosts[0].ssh.user' } });
    expect(c.privateKeyPaths.value).toEqual([`${PW_HOME}/k`]);
    expect(c.port.source.kind).toBe('ssh-config');
  });
  it('follows the config chain, and an inventory bastion replaces it', () => {
    const viaConfig = resolveConnection({ ...base, target: 'worker1', explicit: {} });
    expect(viaConfig.jumps.map((j) => `${j.user.value}@${j.address.value}:${j.port.value}`)).toEqual(['deploy@10.213.0.2:2022', 'fallback@10.213.0.3:2222']);
    expect(describeSource(viaConfig.jumps[0]!.user.source)).toBe(`ProxyJump at ${CONFIG}:20`);
    const viaBastion = resolveConnection({ ...base, target: 'worker1', explicit: { user: 'ops', bastion: { address: 'jump1', port: 2023 } } });
    expect(viaBastion.jumps.map((j) => `${j.user.value}@${j.address.value}:${j.port.value}`)).toEqual(['jumper@10.213.0.2:2023']);
  });
  it('ignores the config entirely with none', () => {
    const c = resolveConnection({ ...base, configFile: 'none', target: 'cp1', explicit: {} });
    expect([c.address.value, c.user.value, c.port.value, c.jumps.length]).toEqual(['cp1', 'root', 22, 0]);
    expect(c.user.source).toEqual({ kind: 'default' });
  });
});
