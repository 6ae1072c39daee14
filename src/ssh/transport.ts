/**
 * The SSH transport: one connection per host (node-ssh over ssh2), every
 * command run as root through bash (sudo -n, or sudo -S fed the password on
 * stdin, for other users), bounded by a remote `timeout` and a local timer.
 */
import type { NodeSSH } from 'node-ssh';
import type { Client, ClientChannel } from 'ssh2';
import { randomBytes } from 'node:crypto';
import type { HostSpec } from '../inventory/model.js';
import { createReadStream } from 'node:fs';
import type { CheckOutput, CheckRequest, DownloadOptions, ExecOptions, ExecResult, FileSlice, Progress, Stdin, Transport, UploadOptions } from '../transport/types.js';
import { isFileSlice, stdinBytes } from '../transport/stdin.js';
import { batchScript, parseBatch, readCommand, withPrelude, writeCommand } from '../shell/prelude.js';
import { remoteCommandLine } from '../shell/command-line.js';
import { KbError } from '../errors.js';
import { RemoteCommandError, tail } from '../transport/remote-error.js';
import { sshHandshake, type Handshake, type SshOptions } from './handshake.js';
import { SudoConversation, SUDO_HANDSHAKE_MS, type SudoHandshake } from './sudo.js';

export type { SshOptions } from './handshake.js';

export class ConnectionLostError extends KbError {}

/**
 * Connect to the host: its handshake (src/ssh/handshake.ts), or one already
 * started (EARLY, by up and plan while they loaded the rest), and the transport over it.
 */
export async function sshConnect(spec: HostSpec, o: SshOptions, early?: Promise<Handshake>): Promise<SshTransport> {
  const { ssh, jumps } = await (early ?? sshHandshake(spec, o));
  return new SshTransport(spec, ssh, o, jumps);
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
