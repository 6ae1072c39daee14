/**
 * The SSH transport: one connection per host (node-ssh over ssh2), every
 * command run as root through bash (sudo -n, or sudo -S fed the password on
 * stdin, for other users), bounded by a remote `timeout` and a local timer.
 */
import { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel, ConnectConfig, ServerHostKeyAlgorithm } from 'ssh2';
import type { Readable } from 'node:stream';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { createConnection } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { HostSpec } from '../inventory/model.js';
import { createReadStream } from 'node:fs';
import type { CheckOutput, CheckRequest, DownloadOptions, ExecOptions, ExecResult, FileSlice, Progress, Stdin, Transport, UploadOptions } from '../transport/types.js';
import { isFileSlice, stdinBytes } from '../transport/stdin.js';
import { batchScript, parseBatch, readCommand, withPrelude, writeCommand } from '../shell/prelude.js';
import { remoteCommandLine } from '../shell/command-line.js';
import { KbError } from '../errors.js';
import { RemoteCommandError, tail } from '../transport/remote-error.js';
import { mayRecord, preferredHostKeyAlgorithms, recordHostKey, verifyHostKey, type HostKeyVerdict } from './known-hosts.js';
import { expandHome, type Credentials } from './credentials.js';
import { SudoConversation, SUDO_HANDSHAKE_MS, type SudoHandshake } from './sudo.js';

export interface SshOptions {
  creds: Credentials;
  acceptNewHostKeys: boolean;
  /** default per-command timeout */
  commandTimeoutMs: number;
  connectAttempts: number;
}

export class ConnectionLostError extends KbError {}

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
    await ssh.connect(cfg);
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

export async function sshConnect(spec: HostSpec, o: SshOptions): Promise<SshTransport> {
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
    return new SshTransport(spec, ssh, o, opened);
  } catch (e) {
    // an open jump connection would keep the process alive
    for (const c of opened) c.dispose();
    throw e;
  }
}

export class SshTransport implements Transport {
  readonly stats = { roundTrips: 0, bytesSent: 0, bytesReceived: 0 };
  private lost?: string;

  constructor(private spec: HostSpec, private ssh: NodeSSH, private o: SshOptions, private jumps: NodeSSH[] = []) {
    const conn = ssh.connection as Client;
    conn.on('close', () => { this.lost ??= 'the connection closed'; });
    conn.on('error', (e: Error) => { this.lost ??= e.message; });
  }

  private get asRoot(): boolean {
    return this.spec.ssh.user === 'root';
  }

  /** The command line sent over SSH: bash as root, under sudo for other users, bounded by timeout. */
  commandLine(body: string, timeoutMs: number): { command: string; handshake?: SudoHandshake } {
    const secs = timeoutMs / 1000;
    if (this.asRoot) return { command: remoteCommandLine(body, secs, 'none') };
    if (this.o.creds.sudoPassword === undefined) return { command: remoteCommandLine(body, secs, 'no-password') };
    // a fresh nonce per command: what the host printed for an earlier one can never answer this one
    const nonce = randomBytes(12).toString('hex');
    const handshake = { prompt: `[kbootstrap sudo ${nonce}] password:`, marker: `@@kbootstrap-sudo-ok ${nonce}`, password: this.o.creds.sudoPassword };
    return { command: remoteCommandLine(body, secs, handshake), handshake };
  }

  /**
   * One command over the connection. stdin (text, bytes, or a file's slice
   * read from disk as it goes) is streamed in chunks, honouring the channel's
   * back-pressure, with progress as it goes; stdout comes back as the bytes the
   * host sent (decoding is the caller's choice).
   */
  private raw(command: string, stdin: Stdin, timeoutMs: number, step: string, handshake?: SudoHandshake, onProgress?: Progress, onReceived?: Progress): Promise<RawResult> {
    const conn = this.ssh.connection as Client | null;
    if (this.lost || !conn) return Promise.reject(new ConnectionLostError(`${this.spec.name}: ${step}: the connection is gone (${this.lost ?? 'not connected'})`));
    this.stats.roundTrips++;
    const input = typeof stdin === 'string' ? Buffer.from(stdin, 'utf8') : stdin;
    this.stats.bytesSent += command.length + stdinBytes(input);
    return new Promise((resolve, reject) => {
      conn.exec(command, (err: Error | undefined, stream: ClientChannel) => {
        if (err) { reject(new ConnectionLostError(`${this.spec.name}: ${step}: cannot start a command: ${err.message}`)); return; }
        const out: Buffer[] = [];
        const errb: Buffer[] = [];
        let code: number | undefined;
        let signal: string | undefined;
        let timedOut = false;
        const timer = setTimeout(() => { timedOut = true; stream.close(); }, timeoutMs + 15_000);
        const sudo = handshake ? new SudoConversation(handshake) : undefined;
        let sudoStalled = false;
        let ended = false;
        // a file that cannot be read to its end: the command is stopped, and this is the error
        let stdinFailed: Error | undefined;
        const send = (): void => {
          if (!isFileSlice(input)) { sendStdin(stream, input, onProgress); return; }
          sendSlice(stream, input, onProgress, (e) => { stdinFailed ??= new KbError(`${this.spec.name}: ${step}: ${e.message}`); stream.close(); });
        };
        const stall = sudo ? setTimeout(() => { sudoStalled = true; stream.close(); }, SUDO_HANDSHAKE_MS) : undefined;
        let received = 0;
        stream.on('data', (d: Buffer) => { out.push(d); received += d.length; onReceived?.(received); });
        stream.stderr.on('data', (d: Buffer) => {
          if (!sudo || sudo.started) { errb.push(d); return; }
          const r = sudo.feed(d);
          if (r.sendPassword) stream.write(`${handshake!.password}\n`);
          // a second prompt means the password was wrong: end stdin, and sudo gives up with its own words
          if (r.refuse && !ended) { ended = true; stream.end(); }
          if (r.started && !ended) { ended = true; clearTimeout(stall); send(); }
        });
        stream.on('exit', (c: number | null, sig?: string) => { code = c ?? undefined; signal = sig; });
        stream.on('close', () => {
          clearTimeout(timer);
          clearTimeout(stall);
          const stdout = Buffer.concat(out);
          const stderr = (sudo ? sudo.stderr() : '') + Buffer.concat(errb).toString('utf8');
          this.stats.bytesReceived += stdout.length + stderr.length;
          if (sudoStalled) {
            reject(new KbError(`${this.spec.name}: ${step}: sudo did not start the command within ${SUDO_HANDSHAKE_MS / 1000}s${stderr.trim() ? `; it said: ${tail(stderr, 3)}` : ''} (kbootstrap answers only its own prompt, sudo -p; a PAM module with a prompt of its own, or sudo-rs before 0.2.6, which has no -p, cannot be driven)`));
            return;
          }
          if (stdinFailed) { reject(stdinFailed); return; }
          if (timedOut) { reject(new KbError(`${this.spec.name}: ${step}: no answer within ${Math.ceil(timeoutMs / 1000)}s; the command was stopped`)); return; }
          if (code === undefined) {
            reject(new ConnectionLostError(`${this.spec.name}: ${step}: the connection dropped while the command ran${signal ? ` (signal ${signal})` : ''}; run kbootstrap again to resume`));
            return;
          }
          resolve({ code, stdout, stderr });
        });
        if (!sudo) send();
      });
    });
  }

  private async runRaw(body: string, opts: { step: string; stdin?: Stdin; timeoutMs?: number; onProgress?: Progress; onReceived?: Progress }): Promise<RawResult> {
    const timeoutMs = opts.timeoutMs ?? this.o.commandTimeoutMs;
    const { command, handshake } = this.commandLine(body, timeoutMs);
    const res = await this.raw(command, opts.stdin ?? '', timeoutMs, opts.step, handshake, opts.onProgress, opts.onReceived);
    if (res.code === 124 || res.code === 137) {
      throw new KbError(`${this.spec.name}: ${opts.step}: timed out after ${Math.ceil(timeoutMs / 1000)}s${res.stderr ? `: ${tail(res.stderr, 3)}` : ''}`);
    }
    if (!this.asRoot) sudoProblem(this.spec, res);
    return res;
  }

  private async run(body: string, opts: { step: string; stdin?: Stdin; timeoutMs?: number; onProgress?: Progress }): Promise<ExecResult> {
    const res = await this.runRaw(body, opts);
    return { ...res, stdout: res.stdout.toString('utf8') };
  }

  exec(script: string, opts: ExecOptions): Promise<ExecResult> {
    return this.run(`set -euo pipefail\n${withPrelude(script)}`, opts);
  }

  async upload(content: string | Buffer, dest: string, opts: UploadOptions): Promise<void> {
    const res = await this.run(`set -euo pipefail\n${withPrelude(writeCommand(dest, opts.mode, opts.owner))}`, { step: opts.step, stdin: content, onProgress: opts.onProgress });
    if (res.code !== 0) throw new RemoteCommandError(this.spec.name, opts.step, `write ${dest}`, res.code, tail(res.stderr));
  }

  async download(path: string, opts: DownloadOptions): Promise<Buffer> {
    // cat as root: the bytes come back on stdout untouched; no timeout but the run's own (a snapshot can be large)
    const res = await this.runRaw(`set -euo pipefail\n${readCommand(path)}`, { step: opts.step, onReceived: opts.onProgress });
    if (res.code !== 0) throw new RemoteCommandError(this.spec.name, opts.step, `read ${path}`, res.code, tail(res.stderr));
    return res.stdout;
  }

  async checkBatch(checks: CheckRequest[]): Promise<CheckOutput[]> {
    // read-only checks alone in their round trip: side by side (src/shell/prelude.ts)
    const res = await this.run(batchScript(checks, true), { step: checks.length === 1 ? checks[0]!.step : 'checks' });
    if (res.code !== 0) throw new RemoteCommandError(this.spec.name, 'checks', 'the read-only checks', res.code, tail(res.stderr || res.stdout));
    return parseBatch(checks, res.stdout);
  }

  async close(): Promise<void> {
    this.ssh.dispose();
    // the hops close from the host outwards
    for (const j of [...this.jumps].reverse()) j.dispose();
  }
}

interface RawResult { code: number; stdout: Buffer; stderr: string }

const CHUNK = 64 * 1024;

/** Write stdin to the channel in chunks, waiting for it to drain, then end it. */
function sendStdin(stream: ClientChannel, input: Buffer, onProgress?: Progress): void {
  let at = 0;
  const more = (): void => {
    while (at < input.length) {
      const end = Math.min(at + CHUNK, input.length);
      const ok = stream.write(input.subarray(at, end));
      at = end;
      onProgress?.(at, input.length);
      if (!ok) { stream.once('drain', more); return; }
    }
    stream.end();
  };
  more();
}

/**
 * Write a file's slice to the channel as it is read from disk, pausing the read while the channel
 * is full: memory holds a few chunks, whatever the slice's size. A file that ends before the slice
 * does (changed since it was checked) or cannot be read is a failure, never a short stdin.
 */
function sendSlice(stream: ClientChannel, s: FileSlice, onProgress: Progress | undefined, fail: (e: Error) => void): void {
  if (s.length === 0) { stream.end(); return; }
  const reader = createReadStream(s.file, { start: s.offset, end: s.offset + s.length - 1, highWaterMark: CHUNK });
  // the command ended (or the connection dropped) first: stop reading
  stream.once('close', () => reader.destroy());
  let at = 0;
  reader.on('data', (chunk: string | Buffer) => {
    at += chunk.length;
    onProgress?.(at, s.length);
    if (!stream.write(chunk)) { reader.pause(); stream.once('drain', () => reader.resume()); }
  });
  reader.on('end', () => {
    if (at < s.length) { fail(new Error(`${s.file} ended at byte ${s.offset + at}; ${s.offset + s.length} were expected: was it changed during the run?`)); return; }
    stream.end();
  });
  reader.on('error', (e) => fail(new Error(`cannot read ${s.file}: ${(e as NodeJS.ErrnoException).code ?? e.message}`)));
}

/** sudo's own failures become one clear line naming the host and user. */
function sudoProblem(spec: HostSpec, res: { code: number; stderr: string }): void {
  if (res.code === 0) return;
  const e = res.stderr;
  const who = `${spec.name}: ${spec.ssh.user}`;
  if (/sudo: a (terminal|password) is required/.test(e)) {
    throw new KbError(`${who} cannot use sudo without a password: set KBOOTSTRAP_SUDO_PASSWORD, or give the user NOPASSWD sudo rights`);
  }
  if (/is not in the sudoers file|is not allowed to (execute|run sudo)|may not run sudo/.test(e)) {
    throw new KbError(`${who} may not use sudo on this host: kbootstrap needs root or sudo rights`);
  }
  if (/incorrect password attempt|Sorry, try again/.test(e)) throw new KbError(`${who}: sudo rejected the password (KBOOTSTRAP_SUDO_PASSWORD)`);
}
