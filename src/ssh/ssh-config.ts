/**
 * OpenSSH client configuration (ssh_config(5)) resolved the way ssh itself
 * resolves it, so a host reached through ~/.ssh/config needs nothing repeated
 * in the inventory. Pure: reads files, never connects.
 *
 * The `ssh-config` package parses the text (quoting, sections, `=`); the
 * evaluation is done here rather than with its compute(), because compute()
 * runs `Match exec` commands through a shell by default, ignores Include,
 * matches `?` as zero-or-one character, does not expand %h in `Match host`,
 * and keeps no line numbers (needed to say where a value came from).
 *
 * Rules, from ssh_config(5) of OpenSSH 9.2 (Debian 12: /usr/share/man/man5/ssh_config.5.gz,
 * https://man.openbsd.org/ssh_config) and checked against `ssh -G` in test/ssh-config.test.ts.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { homedir, hostname as localHostname, userInfo } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parse, type Line } from 'ssh-config';
import { DEFAULTS } from '../defaults.js';

export type StrictHostKeyChecking = 'yes' | 'no' | 'ask' | 'accept-new';

export type SettingSource =
  | { kind: 'inventory'; field: string }
  | { kind: 'ssh-config'; file: string; line: number }
  | { kind: 'jump-spec'; file: string; line: number }
  | { kind: 'default' };

/** One line of `plan --verbose`: `inventory (hosts[0].ssh.user)`, `ssh config /home/u/.ssh/config:12`, `default`. */
export function describeSource(s: SettingSource): string {
  switch (s.kind) {
    case 'inventory': return `inventory (${s.field})`;
    case 'ssh-config': return `ssh config ${s.file}:${s.line}`;
    case 'jump-spec': return `ProxyJump at ${s.file}:${s.line}`;
    case 'default': return 'default';
  }
}

export interface SshConfigOptions {
  /** config file; omitted: ~/.ssh/config, which may be missing (as for ssh without -F) */
  file?: string;
  /** home for `~` and %d; OpenSSH takes it from the password database, not $HOME */
  homeDir?: string;
  /** where relative Include paths are anchored; OpenSSH expands `~/.ssh` with glob(3) GLOB_TILDE, i.e. from $HOME */
  sshDir?: string;
  localUser?: string;
  env?: Record<string, string | undefined>;
}

/** What a command line would fix before the config is read (ssh -l, -p, -J). */
interface CommandLine {
  user?: { value: string; source: SettingSource };
  port?: { value: number; source: SettingSource };
  /** a ProxyJump list; 'none' disables the config's */
  proxyJump?: { value: string; source: SettingSource };
}

export interface SshJumpHop {
  /** as written in ProxyJump (the alias the hop is resolved under) */
  alias: string;
  settings: SshConfigResult;
}

export interface SshConfigResult {
  /** the name given, as Host blocks saw it */
  alias: string;
  /** HostName with %h expanded, lower-cased as ssh prints it */
  hostname: string;
  user: string;
  port: number;
  /** IdentityFile as written (what `ssh -G` prints); OpenSSH's default list when none is set */
  identityFiles: string[];
  /** the same with ~ and %-tokens expanded: the files ssh would try */
  identityFilePaths: string[];
  /** expanded (what `ssh -G` prints); the first is where ssh records new keys */
  userKnownHostsFiles: string[];
  strictHostKeyChecking: StrictHostKeyChecking;
  connectTimeoutSeconds?: number;
  /** ProxyJump as it applies to this host (from the config or the parent's jump list); undefined when none */
  proxyJump?: string;
  proxyCommand?: string;
  /** the whole chain, the hop nearest to us first */
  jumps: SshJumpHop[];
  /** where each value came from; absent: OpenSSH's default */
  sources: Partial<Record<'hostname' | 'user' | 'port' | 'identityFiles' | 'userKnownHostsFiles' | 'strictHostKeyChecking' | 'connectTimeoutSeconds' | 'proxyJump' | 'proxyCommand', SettingSource>>;
}

export class SshConfigError extends Error {}

/* ---------------------------------------------------------------- reading */

interface Directive { keyword: string; args: string[]; file: string; line: number }

/** Flatten the parsed tree back into file order, with the line each directive is on. */
function directives(file: string, text: string): Directive[] {
  let tree;
  try {
    tree = parse(text);
  } catch (e) {
    throw new SshConfigError(`${file}: ${(e as Error).message}`);
  }
  const out: Directive[] = [];
  let newlines = 0;
  const count = (s: string) => (s.match(/\n/g) ?? []).length;
  const visit = (l: Line) => {
    const line = 1 + newlines + count(l.before);
    newlines += count(l.before) + count(l.after);
    if (l.type === 1 && l.param) {
      const v = l.value;
      const args = typeof v === 'string' ? (v === '' ? [] : [v]) : v.map((x) => x.val);
      out.push({ keyword: l.param.toLowerCase(), args, file, line });
    }
    if ('config' in l) l.config.forEach(visit);
  };
  tree.forEach(visit);
  return out;
}

/** match.c match_pattern(): `*` any run, `?` exactly one character. */
function matchPattern(s: string, pattern: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 's').test(s);
}

/** match.c match_pattern_list(): comma list, a matching `!` entry vetoes. */
function matchPatternList(s: string, list: string, lower: boolean): boolean {
  let got = false;
  for (const raw of list.split(',')) {
    const neg = raw.startsWith('!');
    const p = lower ? (neg ? raw.slice(1) : raw).toLowerCase() : neg ? raw.slice(1) : raw;
    if (matchPattern(s, p)) {
      if (neg) return false;
      got = true;
    }
  }
  return got;
}

/** misc.c percent_expand(): an unknown token is an error in ssh, so it is here. */
function expandTokens(s: string, tokens: Record<string, string>, what: string): string {
  return s.replace(/%(.?)/g, (_m, k: string) => {
    if (k === '%') return '%';
    const v = tokens[k];
    if (v === undefined) throw new SshConfigError(`${what}: %${k} is not supported here (kbootstrap expands ${Object.keys(tokens).map((t) => `%${t}`).join(' ')} %%)`);
    return v;
  });
}

function expandTilde(p: string, home: string, what: string): string {
  if (p === '~') return home;
  if (p.startsWith('~/')) return `${home}/${p.slice(2)}`;
  if (p.startsWith('~')) throw new SshConfigError(`${what}: ~user paths are not supported; write the full path`);
  return p;
}

/** glob(3) for Include: wildcards per path component, no dot files unless asked, sorted. */
function globFiles(pattern: string): string[] {
  if (!/[*?[]/.test(pattern)) {
    try { return statSync(pattern).isFile() ? [pattern] : []; } catch { return []; }
  }
  const parts = pattern.split('/');
  let found = [parts[0] === '' ? '/' : parts[0]!];
  for (const part of parts.slice(1)) {
    if (part === '') continue;
    const next: string[] = [];
    for (const dir of found) {
      if (!/[*?[]/.test(part)) { next.push(join(dir, part)); continue; }
      let names: string[] = [];
      try { names = readdirSync(dir); } catch { continue; }
      const re = new RegExp(`^${part.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.').replace(/\[!/g, '[^')}$`);
      for (const n of names) if (re.test(n) && (!n.startsWith('.') || part.startsWith('.'))) next.push(join(dir, n));
    }
    found = next;
  }
  return found.filter((f) => { try { return statSync(f).isFile(); } catch { return false; } }).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** readconf.c: included files must belong to root or the user and be writable by no one else. */
function checkPermissions(file: string): void {
  const st = statSync(file);
  const uid = process.getuid?.() ?? 0;
  if ((st.uid !== 0 && st.uid !== uid) || (st.mode & 0o022) !== 0) throw new SshConfigError(`Bad owner or permissions on ${file} (ssh refuses it too)`);
}

/* ------------------------------------------------------------- evaluating */

interface Collected {
  hostname?: { value: string; source: SettingSource };
  user?: { value: string; source: SettingSource };
  port?: { value: number; source: SettingSource };
  identityFiles: { value: string; source: SettingSource }[];
  userKnownHostsFiles?: { value: string[]; source: SettingSource };
  strict?: { value: StrictHostKeyChecking; source: SettingSource };
  connectTimeout?: { value: number; source: SettingSource };
  /** ProxyJump and ProxyCommand compete: whichever comes first blocks the other (ssh_config(5), ProxyJump) */
  proxy?: { kind: 'jump' | 'command'; value: string; source: SettingSource };
}

/** ssh_config(5) TIME FORMATS: 90, 1m30s, 1h... */
function parseTime(v: string, where: string): number {
  if (/^\d+$/.test(v)) return Number(v);
  const unit: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };
  if (!/^(\d+[smhdwSMHDW])+$/.test(v)) throw new SshConfigError(`${where}: invalid time value ${JSON.stringify(v)}`);
  let t = 0;
  for (const [, n, u] of v.matchAll(/(\d+)([a-zA-Z])/g)) t += Number(n) * unit[u!.toLowerCase()]!;
  return t;
}

const STRICT: Record<string, StrictHostKeyChecking> = { yes: 'yes', true: 'yes', no: 'no', false: 'no', off: 'no', ask: 'ask', 'accept-new': 'accept-new' };

/** Match criteria kbootstrap evaluates; the others would need DNS, a shell or a second pass, so they are refused, never guessed. */
const MATCH_SUPPORTED = ['all', 'host', 'originalhost', 'user', 'localuser'];

class Evaluator {
  readonly c: Collected = { identityFiles: [] };
  constructor(private alias: string, cmd: CommandLine, private o: Required<Omit<SshConfigOptions, 'file'>>) {
    if (cmd.user) this.c.user = cmd.user;
    if (cmd.port) this.c.port = cmd.port;
    if (cmd.proxyJump) this.c.proxy = { kind: 'jump', ...cmd.proxyJump };
  }

  readFile(file: string, depth: number, active: boolean, neverMatch: boolean, checkPerm: boolean): boolean {
    if (depth > 16) throw new SshConfigError(`${file}: Include nested more than 16 deep (the limit ssh applies)`);
    if (checkPerm) checkPermissions(file);
    let state = active;
    for (const d of directives(file, readFileSync(file, 'utf8'))) state = this.line(d, state, neverMatch, depth);
    return state;
  }

  private where(d: Directive): string { return `${d.file}:${d.line}`; }

  private line(d: Directive, active: boolean, neverMatch: boolean, depth: number): boolean {
    const src: SettingSource = { kind: 'ssh-config', file: d.file, line: d.line };
    // a quoted path may hold spaces; a name or number may not (ssh: "garbage at end of line")
    const one = (spaces = false): string => {
      if (d.args.length !== 1 || (!spaces && /\s/.test(d.args[0]!))) throw new SshConfigError(`${this.where(d)}: ${d.keyword} takes one value`);
      return d.args[0]!;
    };
    switch (d.keyword) {
      case 'host': {
        if (neverMatch) return false;
        let on = false;
        // readconf.c: each whitespace-separated pattern alone (no comma lists); a matching negation vetoes the block
        for (const a of d.args) {
          const neg = a.startsWith('!');
          if (matchPattern(this.alias, neg ? a.slice(1) : a)) {
            if (neg) return false;
            on = true;
          }
        }
        return on;
      }
      case 'match':
        return neverMatch ? false : this.match(d);
      case 'include': {
        for (const a of d.args) {
          const p = a.startsWith('~') ? expandTilde(a, this.o.homeDir, this.where(d)) : isAbsolute(a) ? a : join(this.o.sshDir, a);
          // an Include inside an inactive block is still read, but nothing in it may match (SSHCONF_NEVERMATCH)
          for (const f of globFiles(p)) this.readFile(f, depth + 1, active, neverMatch || !active, true);
        }
        return active;
      }
    }
    if (!active) return active;
    const c = this.c;
    switch (d.keyword) {
      case 'hostname': c.hostname ??= { value: one(), source: src }; break;
      case 'user': c.user ??= { value: one(), source: src }; break;
      case 'port': {
        const v = one();
        if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 65535) throw new SshConfigError(`${this.where(d)}: Port ${JSON.stringify(v)} is not a port number (1-65535)`);
        c.port ??= { value: Number(v), source: src };
        break;
      }
      // the only setting here that accumulates: every IdentityFile line adds a key (ssh_config(5), IdentityFile)
      case 'identityfile': c.identityFiles.push({ value: one(true), source: src }); break;
      case 'userknownhostsfile':
        if (d.args.length === 0) throw new SshConfigError(`${this.where(d)}: UserKnownHostsFile needs a value`);
        c.userKnownHostsFiles ??= { value: d.args, source: src };
        break;
      case 'stricthostkeychecking': {
        const v = STRICT[one().toLowerCase()];
        if (!v) throw new SshConfigError(`${this.where(d)}: StrictHostKeyChecking ${JSON.stringify(d.args[0])}: expected yes, no, ask, accept-new or off`);
        c.strict ??= { value: v, source: src };
        break;
      }
      case 'connecttimeout': {
        const v = one();
        c.connectTimeout ??= { value: v === 'none' ? 0 : parseTime(v, this.where(d)), source: src };
        break;
      }
      case 'proxyjump': {
        const v = one();
        parseJumpList(v, this.where(d));
        c.proxy ??= { kind: 'jump', value: v, source: src };
        break;
      }
      case 'proxycommand':
        if (d.args.length === 0) throw new SshConfigError(`${this.where(d)}: ProxyCommand needs a value`);
        c.proxy ??= { kind: 'command', value: d.args.join(' '), source: src };
        break;
    }
    return active;
  }

  /** readconf.c match_cfg_line(), for the criteria in MATCH_SUPPORTED. */
  private match(d: Directive): boolean {
    const args = d.args;
    if (args.length === 0) throw new SshConfigError(`${this.where(d)}: Match needs at least one criterion`);
    let result = true;
    for (let i = 0; i < args.length; i++) {
      const raw = args[i]!;
      const neg = raw.startsWith('!');
      const crit = (neg ? raw.slice(1) : raw).toLowerCase();
      if (!MATCH_SUPPORTED.includes(crit)) {
        throw new SshConfigError(`${this.where(d)}: Match ${crit} is not supported by kbootstrap (it evaluates ${MATCH_SUPPORTED.join(', ')}); `
          + 'rewrite this block with Host or those criteria, or pass --ssh-config none');
      }
      if (crit === 'all') {
        if (args.length > 1) throw new SshConfigError(`${this.where(d)}: Match all cannot be combined with other criteria`);
        return !neg;
      }
      const arg = args[++i];
      if (arg === undefined) throw new SshConfigError(`${this.where(d)}: Match ${crit} needs a value`);
      // `host` sees HostName as set so far (with %h), `user` the User set so far, as the config is only half read here
      const hostNow = this.c.hostname ? expandTokens(this.c.hostname.value, { h: this.alias }, describeSource(this.c.hostname.source)) : this.alias;
      let ok: boolean;
      switch (crit) {
        case 'host': ok = matchPatternList(hostNow, arg, true); break;
        case 'originalhost': ok = matchPatternList(this.alias, arg, true); break;
        case 'user': ok = matchPatternList(this.c.user?.value ?? this.o.localUser, arg, false); break;
        default: ok = matchPatternList(this.o.localUser, arg, false); break;
      }
      if (ok === neg) result = false;
    }
    return result;
  }
}

export interface JumpSpec { user?: string; host: string; port?: number }

/** readconf.c parse_jump(): `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma separated. */
export function parseJumpList(value: string, where: string): JumpSpec[] {
  if (value.toLowerCase() === 'none') return [];
  return value.split(',').map((hop) => {
    let s = hop.startsWith('ssh://') ? hop.slice(6).replace(/\/$/, '') : hop;
    let user: string | undefined;
    const at = s.lastIndexOf('@');
    if (at >= 0) { user = s.slice(0, at); s = s.slice(at + 1); }
    let host = s;
    let port: number | undefined;
    const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
    if (m) { host = m[1]!; port = m[2] === undefined ? undefined : Number(m[2]); }
    if (!m || !host || (port !== undefined && (port < 1 || port > 65535)) || user === '') {
      throw new SshConfigError(`${where}: invalid ProxyJump hop ${JSON.stringify(hop)}`);
    }
    return { user, host, port };
  });
}

// fill_default_options() in OpenSSH 9.2 readconf.c, as `ssh -G -F /dev/null x` prints them
const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa'];
const DEFAULT_USER_KNOWN_HOSTS = ['~/.ssh/known_hosts', '~/.ssh/known_hosts2'];

function fullOptions(o: SshConfigOptions): Required<Omit<SshConfigOptions, 'file'>> {
  const info = (() => { try { return userInfo(); } catch { return undefined; } })();
  return {
    homeDir: o.homeDir ?? info?.homedir ?? homedir(),
    sshDir: o.sshDir ?? join(homedir(), '.ssh'),
    localUser: o.localUser ?? info?.username ?? process.env.USER ?? '',
    env: o.env ?? process.env,
  };
}

function resolveOne(alias: string, cmd: CommandLine, o: SshConfigOptions, stack: string[]): SshConfigResult {
  const full = fullOptions(o);
  const ev = new Evaluator(alias, cmd, full);
  const file = o.file ?? join(full.homeDir, '.ssh', 'config');
  if (o.file === undefined) {
    // ssh reads ~/.ssh/config only when it exists, and checks its permissions
    try { statSync(file); ev.readFile(file, 0, true, false, true); } catch (e) { if (e instanceof SshConfigError) throw e; }
  } else {
    ev.readFile(file, 0, true, false, false);
  }
  const c = ev.c;
  // ssh.c: HostName's %h is the name given; the result is lower-cased
  const hostname = (c.hostname ? expandTokens(c.hostname.value, { h: alias }, describeSource(c.hostname.source)) : alias).toLowerCase();
  const user = c.user?.value ?? full.localUser;
  const port = c.port?.value ?? 22;
  const proxyJump = c.proxy?.kind === 'jump' && c.proxy.value.toLowerCase() !== 'none' ? c.proxy.value : undefined;
  const tokens: Record<string, string> = {
    h: hostname, p: String(port), r: user, u: full.localUser, d: full.homeDir, n: alias, k: alias,
    i: String(process.getuid?.() ?? 0), l: localHostname(), L: localHostname().split('.')[0]!, j: proxyJump ?? '',
  };
  const expandPath = (p: string, what: string) => expandTokens(expandTilde(p, full.homeDir, what), tokens, what)
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, n: string) => {
      const v = full.env[n];
      if (v === undefined) throw new SshConfigError(`${what}: environment variable ${n} is not set`);
      return v;
    });
  const identityFiles = c.identityFiles.length ? c.identityFiles.map((f) => f.value) : DEFAULT_IDENTITY_FILES;
  const ids = c.identityFiles.length ? c.identityFiles : DEFAULT_IDENTITY_FILES.map((value) => ({ value, source: undefined }));
  const known = c.userKnownHostsFiles?.value ?? DEFAULT_USER_KNOWN_HOSTS;
  const knownWhere = c.userKnownHostsFiles ? describeSource(c.userKnownHostsFiles.source) : 'default UserKnownHostsFile';
  const result: SshConfigResult = {
    alias,
    hostname,
    user,
    port,
    identityFiles,
    identityFilePaths: ids.map((f) => (f.value.toLowerCase() === 'none' ? f.value : expandPath(f.value, f.source ? describeSource(f.source) : 'default IdentityFile'))),
    userKnownHostsFiles: known.map((f) => (f.toLowerCase() === 'none' ? f : expandPath(f, knownWhere))),
    strictHostKeyChecking: c.strict?.value ?? 'ask',
    connectTimeoutSeconds: c.connectTimeout && c.connectTimeout.value > 0 ? c.connectTimeout.value : undefined,
    proxyJump,
    proxyCommand: c.proxy?.kind === 'command' && c.proxy.value.toLowerCase() !== 'none' ? c.proxy.value : undefined,
    jumps: [],
    sources: {
      hostname: c.hostname?.source, user: c.user?.source, port: c.port?.source,
      identityFiles: c.identityFiles[0]?.source, userKnownHostsFiles: c.userKnownHostsFiles?.source,
      strictHostKeyChecking: c.strict?.source, connectTimeoutSeconds: c.connectTimeout?.source,
      proxyJump: c.proxy?.kind === 'jump' ? c.proxy.source : undefined,
      proxyCommand: c.proxy?.kind === 'command' ? c.proxy.source : undefined,
    },
  };
  result.sources = Object.fromEntries(Object.entries(result.sources).filter(([, v]) => v)) as SshConfigResult['sources'];
  if (proxyJump && c.proxy) result.jumps = resolveJumps(proxyJump, c.proxy.source, o, stack);
  return result;
}

/**
 * ssh.c turns `ProxyJump a,b,c` into the ProxyCommand `ssh [-l u] [-p p] -J a,b -F <same file> -W %h:%p c`:
 * the last hop is resolved through the same config with the earlier hops as its
 * own -J (which beats its config's ProxyJump), and so on down to the first hop,
 * whose own ProxyJump from the config still applies.
 */
function resolveJumps(list: string, source: SettingSource, o: SshConfigOptions, stack: string[]): SshJumpHop[] {
  const where = source.kind === 'ssh-config' || source.kind === 'jump-spec' ? `${source.file}:${source.line}` : describeSource(source);
  const hops = parseJumpList(list, where);
  const last = hops[hops.length - 1]!;
  const extra = hops.slice(0, -1).map((h) => `${h.user ? `${h.user}@` : ''}${h.host.includes(':') ? `[${h.host}]` : h.host}${h.port ? `:${h.port}` : ''}`).join(',');
  // a hop is the same ssh invocation when host, -l, -p and -J are the same: meeting it again never ends
  const key = JSON.stringify([last.host, last.user, last.port, extra]);
  if (stack.includes(key) || stack.length > 32) {
    throw new SshConfigError(`ProxyJump loop (${where}): ${[...stack, key].map((k) => (JSON.parse(k) as string[])[0]).join(' -> ')}`);
  }
  const specSource: SettingSource = source.kind === 'ssh-config' ? { kind: 'jump-spec', file: source.file, line: source.line } : source;
  const cmd: CommandLine = {
    user: last.user ? { value: last.user, source: specSource } : undefined,
    port: last.port ? { value: last.port, source: specSource } : undefined,
    proxyJump: extra ? { value: extra, source: specSource } : undefined,
  };
  const settings = resolveOne(last.host, cmd, o, [...stack, key]);
  return [...settings.jumps, { alias: last.host, settings }];
}

/** What OpenSSH would use for `ssh <alias>` with this config (`ssh -G -F file alias`), plus the resolved ProxyJump chain. */
export function resolveSshConfig(alias: string, o: SshConfigOptions = {}): SshConfigResult {
  return resolveOne(alias, {}, o, []);
}

/* ------------------------------------------- precedence for one inventory host */

/** The ssh fields the user actually wrote for a host (host-level over inventory-level), before any default. */
export interface InventorySshExplicit {
  user?: string;
  port?: number;
  privateKeyPath?: string;
  knownHostsPath?: string;
  connectTimeoutSeconds?: number;
  bastion?: { address: string; port?: number; user?: string; privateKeyPath?: string };
}

export interface ConnectionInput {
  /** the alias or address the host is reached by (what Host blocks match) */
  target: string;
  explicit: InventorySshExplicit;
  /** where each explicit field was written, e.g. { user: 'hosts[2].ssh.user' }; default `ssh.<field>` */
  fieldPaths?: Partial<Record<keyof InventorySshExplicit | 'address' | 'bastion.address' | 'bastion.port' | 'bastion.user' | 'bastion.privateKeyPath', string>>;
  /** a config file, or 'none' to ignore OpenSSH's configuration; omitted: ~/.ssh/config if it exists */
  configFile?: string;
  /** the rest of SshConfigOptions (tests point these at fixtures) */
  sshOptions?: Omit<SshConfigOptions, 'file'>;
}

/** kbootstrap's own defaults, used when neither the inventory nor the config says. */
const KBOOTSTRAP_SSH_DEFAULTS = { ...DEFAULTS.ssh, strictHostKeyChecking: 'yes' as StrictHostKeyChecking };

type Sourced<T> = { value: T; source: SettingSource };

export interface ResolvedEndpoint {
  /** the name the config was consulted for */
  alias: string;
  /** what to open a TCP connection to (from the previous hop, if any) */
  address: Sourced<string>;
  port: Sourced<number>;
  user: Sourced<string>;
  /** keys to offer, in order; empty: the agent / KBOOTSTRAP_SSH_PASSWORD as today */
  privateKeyPaths: Sourced<string[]>;
  /** known_hosts files to read; new keys are recorded in the first */
  knownHostsPaths: Sourced<string[]>;
  /** OpenSSH's policy for unknown keys when the config sets one; kbootstrap's own (refuse unless --accept-new-host-keys) otherwise */
  strictHostKeyChecking: Sourced<StrictHostKeyChecking>;
  connectTimeoutSeconds: Sourced<number>;
}

export interface ResolvedConnection extends ResolvedEndpoint {
  /** hops to go through, nearest first; empty for a direct connection */
  jumps: ResolvedEndpoint[];
}

const DEFAULT: SettingSource = { kind: 'default' };

/** The settings a node-ssh connection needs, each with the place it came from, for `plan --verbose`. */
export function resolveConnection(input: ConnectionInput): ResolvedConnection {
  const useConfig = input.configFile !== 'none';
  const opts: SshConfigOptions = { ...input.sshOptions, file: useConfig ? input.configFile : undefined };
  const full = fullOptions(opts);
  const field = (k: keyof NonNullable<ConnectionInput['fieldPaths']>): SettingSource => ({ kind: 'inventory', field: input.fieldPaths?.[k] ?? `ssh.${k}` });
  const home = (p: string) => expandTilde(p, full.homeDir, 'privateKeyPath');
  const ex = input.explicit;

  const fromConfig = (cfg: SshConfigResult | undefined, alias: string, over: {
    user?: Sourced<string>; port?: Sourced<number>; key?: Sourced<string>; knownHosts?: Sourced<string>; timeout?: Sourced<number>; inheritedUser?: Sourced<string>; inheritedKey?: Sourced<string>; addressSource?: SettingSource;
  }): ResolvedEndpoint => {
    const s = cfg?.sources ?? {};
    const pick = <T>(explicit: Sourced<T> | undefined, configured: T | undefined, src: SettingSource | undefined, inherited: Sourced<T> | undefined, dflt: T): Sourced<T> =>
      explicit ?? (configured !== undefined && src ? { value: configured, source: src } : undefined) ?? inherited ?? { value: dflt, source: DEFAULT };
    const defaultKnown = join(full.homeDir, '.ssh', 'known_hosts');
    return {
      alias,
      address: { value: cfg?.hostname ?? alias, source: s.hostname ?? over.addressSource ?? DEFAULT },
      port: pick(over.port, cfg?.port, s.port, undefined, KBOOTSTRAP_SSH_DEFAULTS.port),
      user: pick(over.user, cfg?.user, s.user, over.inheritedUser, KBOOTSTRAP_SSH_DEFAULTS.user),
      privateKeyPaths: over.key
        ? { value: [home(over.key.value)], source: over.key.source }
        : pick(undefined, cfg?.identityFilePaths.filter((p) => p.toLowerCase() !== 'none'), s.identityFiles, over.inheritedKey && { value: [home(over.inheritedKey.value)], source: over.inheritedKey.source }, []),
      knownHostsPaths: over.knownHosts
        // the inventory's file is read along with ~/.ssh/known_hosts and receives new keys (schema: knownHostsPath)
        ? { value: [home(over.knownHosts.value), defaultKnown], source: over.knownHosts.source }
        : pick(undefined, cfg?.userKnownHostsFiles.filter((p) => p.toLowerCase() !== 'none'), s.userKnownHostsFiles, undefined, [defaultKnown]),
      strictHostKeyChecking: pick(undefined, cfg?.strictHostKeyChecking, s.strictHostKeyChecking, undefined, KBOOTSTRAP_SSH_DEFAULTS.strictHostKeyChecking),
      connectTimeoutSeconds: pick(over.timeout, cfg?.connectTimeoutSeconds, s.connectTimeoutSeconds, undefined, KBOOTSTRAP_SSH_DEFAULTS.connectTimeoutSeconds),
    };
  };
  const sourced = <T>(v: T | undefined, k: keyof NonNullable<ConnectionInput['fieldPaths']>): Sourced<T> | undefined => (v === undefined ? undefined : { value: v, source: field(k) });
  const refuseCommand = (cfg: SshConfigResult) => {
    if (cfg.proxyCommand) {
      throw new SshConfigError(`${cfg.alias}: ${describeSource(cfg.sources.proxyCommand!)} sets ProxyCommand, which kbootstrap cannot run; use ProxyJump or ssh.bastion, or --ssh-config none`);
    }
  };

  const cfg = useConfig ? resolveSshConfig(input.target, opts) : undefined;
  if (cfg) refuseCommand(cfg);
  const target = fromConfig(cfg, input.target, {
    user: sourced(ex.user, 'user'), port: sourced(ex.port, 'port'), key: sourced(ex.privateKeyPath, 'privateKeyPath'),
    knownHosts: sourced(ex.knownHostsPath, 'knownHostsPath'), timeout: sourced(ex.connectTimeoutSeconds, 'connectTimeoutSeconds'),
    addressSource: { kind: 'inventory', field: input.fieldPaths?.address ?? 'address' },
  });

  let jumps: ResolvedEndpoint[];
  if (ex.bastion) {
    // the inventory's bastion replaces the config's ProxyJump, as ssh -J does; the bastion itself is still looked up in the config
    const b = ex.bastion;
    const bcfg = useConfig ? resolveSshConfig(b.address, opts) : undefined;
    if (bcfg) refuseCommand(bcfg);
    const before = bcfg?.jumps.map((h) => fromConfig(h.settings, h.alias, {})) ?? [];
    jumps = [...before, fromConfig(bcfg, b.address, {
      addressSource: field('bastion.address'),
      user: sourced(b.user, 'bastion.user'), port: sourced(b.port, 'bastion.port'), key: sourced(b.privateKeyPath, 'bastion.privateKeyPath'),
      // today's inventory semantics: a bastion without its own user/key uses the host's
      inheritedUser: sourced(ex.user, 'user'), inheritedKey: sourced(ex.privateKeyPath, 'privateKeyPath'),
      timeout: sourced(ex.connectTimeoutSeconds, 'connectTimeoutSeconds'),
    })];
  } else {
    for (const h of cfg?.jumps ?? []) refuseCommand(h.settings);
    jumps = cfg?.jumps.map((h) => fromConfig(h.settings, h.alias, {})) ?? [];
  }
  return { ...target, jumps };
}
