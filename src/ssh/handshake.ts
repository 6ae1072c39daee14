/**
 * The SSH handshake of one host: TCP, key exchange, the host key checked
 * against known_hosts, authentication, through any jump hosts, with retries
 * on what may pass (a refused or timed-out connection). Apart from the
 * transport (src/ssh/transport.ts) so that a command can start it before it
 * has loaded what runs commands over the connection (templates, steps): up
 * and plan start every host's handshake as soon as the inventory and the
 * credentials are read, and make the plan and the first checks meanwhile.
 */
import { NodeSSH } from 'node-ssh';
import type { Client, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import type { Readable } from 'node:stream';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import type { HostSpec } from '../inventory/model.js';
import { KbError } from '../errors.js';
import { mayRecord, preferredHostKeyAlgorithms, recordHostKey, verifyHostKey, type HostKeyVerdict } from './known-hosts.js';
import { expandHome, type Credentials } from './credentials.js';

export interface SshOptions {
  creds: Credentials;
  acceptNewHostKeys: boolean;
  /** default per-command timeout */
  commandTimeoutMs: number;
  connectAttempts: number;
}

const DEFAULT_KNOWN_HOSTS = () => join(homedir(), '.ssh', 'known_hosts');

function knownHostsFiles(spec: HostSpec): string[] {
  return [DEFAULT_KNOWN_HOSTS(), ...(spec.ssh.knownHostsPath ? [expandHome(spec.ssh.knownHostsPath)] : [])];
}

function describeConnectError(name: string, address: string, port: number, e: Error & { code?: string; level?: string }, timeoutS: number, verdict?: HostKeyVerdict, recordError?: string): string {
  if (verdict?.status === 'unknown' && verdict.certAuthority) {
    const ca = verdict.certAuthority;
    return `${name}: unknown host key ${verdict.fingerprint} for ${address}:${port}: ${ca.file}:${ca.line} names a @cert-authority for this host, and kbootstrap does not check host certificates, so it will not accept a plain key on first use either; add the host's own key to known_hosts`;
  }
  if (verdict?.status === 'unknown') {
    return `${name}: unknown host key ${verdict.fingerprint} for ${address}:${port}: check it, then add it to known_hosts or rerun with --accept-new-host-keys`;
  }
  if (verdict?.status === 'changed') {
    return `${name}: HOST KEY CHANGED for ${address}:${port}: it now presents ${verdict.fingerprint}, ${verdict.file}:${verdict.line} holds another key; refusing to connect (if the host was rebuilt, remove that line)`;
  }
  if (verdict?.status === 'revoked') return `${name}: the host key ${verdict.fingerprint} of ${address}:${port} is marked @revoked at ${verdict.file}:${verdict.line}; refusing to connect`;
  if (recordError) return `${name}: cannot record the new host key of ${address}:${port}: ${recordError}`;
  if (e.code === 'ECONNREFUSED') return `${name}: connection refused by ${address}:${port} (is sshd running?)`;
  if (e.code === 'EHOSTUNREACH' || e.code === 'ENETUNREACH') return `${name}: ${address} is unreachable`;
  if (e.code === 'ETIMEDOUT' || /Timed out while waiting for handshake/.test(e.message)) return `${name}: no answer from ${address}:${port} within ${timeoutS}s`;
  if (e.level === 'client-authentication' || /authentication methods failed/.test(e.message)) {
    return `${name}: authentication failed for ${address}:${port} (wrong key or password, or the user may not log in)`;
  }
  return `${name}: cannot connect to ${address}:${port}: ${e.message}`;
}

const RETRYABLE = new Set(['ECONNREFUSED', 'ETIMEDOUT', 'EHOSTUNREACH', 'ECONNRESET']);

/**
 * What a server that failed the SSH handshake says of itself: an SSH server
 * greets first with "SSH-2.0-..." (RFC 4253 section 4.2); anything else (a web
 * server's error page, a TLS alert) means something else listens on the port.
 * Undefined when it says nothing within a moment, or when it is SSH after all.
 */
function notSshGreeting(address: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let got = '';
    const sock = createConnection({ host: address, port });
    const done = (v: string | undefined) => { sock.destroy(); resolve(v); };
    const timer = setTimeout(() => done(got && !got.startsWith('SSH-') ? got : undefined), 1500);
    sock.on('connect', () => sock.write('SSH-2.0-kbootstrap_probe\r\n'));
    sock.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (got.length >= 4 || got.includes('\n')) { clearTimeout(timer); done(got.startsWith('SSH-') ? undefined : got); }
    });
    sock.on('error', () => { clearTimeout(timer); done(undefined); });
    sock.on('close', () => { clearTimeout(timer); done(got && !got.startsWith('SSH-') ? got : undefined); });
  });
}

function printable(s: string): string {
  const line = s.split(/\r?\n/)[0]!.replace(/[^\x20-\x7e]/g, '?');
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 57)}...` : line);
}

async function connectOnce(spec: { name: string; address: string; port: number; user: string; privateKeyPath?: string; timeoutS: number; knownHosts: string[]; recordTo: string }, o: SshOptions, sock?: Readable): Promise<NodeSSH> {
  let verdict: HostKeyVerdict | undefined;
  let recordError: string | undefined;
  const preferred = preferredHostKeyAlgorithms(spec.knownHosts, spec.address, spec.port) as ServerHostKeyAlgorithm[];
  const cfg: ConnectConfig & { privateKey?: string } = {
    host: spec.address,
    port: spec.port,
    username: spec.user,
    readyTimeout: spec.timeoutS * 1000,
    keepaliveInterval: 15_000,
    keepaliveCountMax: 4,
    hostVerifier: (key: Buffer) => {
      verdict = verifyHostKey(spec.knownHosts, spec.address, spec.port, key);
      if (verdict.status === 'known') return true;
      if (o.acceptNewHostKeys && mayRecord(verdict)) {
        try {
          recordHostKey(spec.recordTo, spec.address, spec.port, key);
        } catch (e) {
          // a throw inside ssh2's callback would escape the connect promise
          recordError = (e as Error).message;
          verdict = undefined;
          return false;
        }
        return true;
      }
      return false;
    },
  };
  // ask for a key type known_hosts already holds for this host, as ssh does, so a host with several keys is not taken as changed
  if (preferred.length) cfg.algorithms = { serverHostKey: { remove: preferred, prepend: preferred, append: [] } };
  if (sock) cfg.sock = sock;
  if (spec.privateKeyPath) {
    cfg.privateKey = o.creds.keys.get(spec.privateKeyPath);
    cfg.passphrase = o.creds.passphrase;
  }
  if (o.creds.agent) cfg.agent = o.creds.agent;
  if (o.creds.password !== undefined) cfg.password = o.creds.password;
  const ssh = new NodeSSH();
  try {
    const connecting = ssh.connect(cfg);
    // TCP_NODELAY before the first byte: a socket starts with Nagle's algorithm on (Node.js net docs,
    // socket.setNoDelay), and ssh2 writes a handshake message and waits for the answer, so a small last
    // segment waits for the host's delayed ACK (40 ms on Linux) at several steps of every handshake and
    // round trip. Measured on the lab, three hosts at once: handshake 100-150 ms on Node.js 20 and
    // 270-280 ms on Node.js 24 without, 65-90 ms on both with (2026-12-07). ssh2's README, setNoDelay:
    // "Disabling Nagle's algorithm improves latency at the expense of lower throughput"; a large upload
    // still goes in full packets. node-ssh makes its ssh2 Client and starts connecting synchronously
    // (no private key file to read: kbootstrap hands it the key's content), so it is there to set; on a
    // forwarded channel (a jump host's) there is no socket and this does nothing.
    (ssh.connection as Client | null)?.setNoDelay(true);
    await connecting;
    return ssh;
  } catch (e) {
    const err = e as Error & { code?: string; level?: string };
    // a handshake that never came may be another program on the port: ask it what it is
    if (!sock && !verdict && (/handshake/i.test(err.message) || err.code === 'ECONNRESET')) {
      const greeting = await notSshGreeting(spec.address, spec.port);
      if (greeting !== undefined) throw new KbError(`${spec.name}: ${spec.address}:${spec.port} answered, but not with SSH (it said ${printable(greeting)}): check ssh.port or the address`);
    }
    const wrapped = new KbError(describeConnectError(spec.name, spec.address, spec.port, err, spec.timeoutS, verdict, recordError));
    (wrapped as KbError & { retryable?: boolean }).retryable = RETRYABLE.has(err.code ?? '') && !verdict && !recordError;
    throw wrapped;
  }
}

async function withRetries<T>(attempts: number, fn: () => Promise<T>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      if (!(e as { retryable?: boolean }).retryable || i === attempts - 1) break;
      await new Promise((r) => setTimeout(r, 500 * (i + 1)));
    }
  }
  throw last;
}

/** Open a forwarded channel from one hop to the next address:port. */
function forward(via: NodeSSH, name: string, viaName: string, address: string, port: number): Promise<Readable> {
  return new Promise<Readable>((resolve, reject) => {
    (via.connection as Client).forwardOut('127.0.0.1', 0, address, port, (err, stream) => (err
      ? reject(new KbError(`${name}: the jump host ${viaName} could not reach ${address}:${port}: ${err.message}`))
      : resolve(stream)));
  });
}

/** An authenticated connection to the host, and the jump hosts' connections it goes through (host last). */
export interface Handshake {
  ssh: NodeSSH;
  jumps: NodeSSH[];
}

export async function sshHandshake(spec: HostSpec, o: SshOptions): Promise<Handshake> {
  const r = spec.ssh.resolved;
  const address = r?.address ?? spec.address;
  const known = r ? r.knownHostsPaths.map(expandHome) : knownHostsFiles(spec);
  const recordTo = r ? known[0]! : spec.ssh.knownHostsPath ? expandHome(spec.ssh.knownHostsPath) : DEFAULT_KNOWN_HOSTS();
  // the user's own StrictHostKeyChecking accept-new is honoured; a changed key is refused whatever it says
  const opts: SshOptions = r?.acceptNew ? { ...o, acceptNewHostKeys: true } : o;
  const timeoutS = spec.ssh.connectTimeoutSeconds;
  const b = spec.ssh.bastion;
  const hops = r?.jumps ?? (b ? [{ address: b.address, port: b.port, user: b.user, privateKeyPath: b.privateKeyPath }] : []);
  // ssh -J a,b,c: connect to a, then to b through a, then to c through b, then to the host through c
  const opened: NodeSSH[] = [];
  try {
    let sock: Readable | undefined;
    for (const [i, h] of hops.entries()) {
      const name = `${spec.name} (jump host ${h.address})`;
      const conn = await withRetries(sock ? 1 : opts.connectAttempts, () => connectOnce({ name, address: h.address, port: h.port, user: h.user, privateKeyPath: h.privateKeyPath, timeoutS, knownHosts: known, recordTo }, opts, sock));
      opened.push(conn);
      const next = hops[i + 1];
      sock = await forward(conn, spec.name, h.address, next?.address ?? address, next?.port ?? spec.ssh.port);
    }
    const ssh = await withRetries(sock ? 1 : opts.connectAttempts, () => connectOnce({
      name: spec.name, address, port: spec.ssh.port, user: spec.ssh.user, privateKeyPath: spec.ssh.privateKeyPath, timeoutS, knownHosts: known, recordTo,
    }, opts, sock));
    return { ssh, jumps: opened };
  } catch (e) {
    // an open jump connection would keep the process alive
    for (const c of opened) c.dispose();
    throw e;
  }
}

