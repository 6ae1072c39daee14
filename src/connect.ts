/**
 * Connect to a host over SSH and read its OS facts in one round trip; the
 * run lock (src/run/host-lock.ts) is taken or read in that same round trip,
 * and every command goes to the run log when there is one. With a prefetch
 * (the runner's first batch of checks), the checks go in that round trip too,
 * rendered while the handshake goes on for the facts the host had last time
 * (the facts cache) or, on a first run, for the OS its inventory entry names
 * (`os:`); their output is used only where the checks rendered for the facts
 * read in that same script are the very same scripts (Host.checkBatch
 * compares them), so a no-op run costs one round trip per host, and so does a
 * first run's first read of a host whose os: is right.
 */
import type { HostSpec } from './inventory/model.js';
import { Host } from './host/host.js';
import { factsScript, parseFactsOutput, UnsupportedOsError } from './host/facts.js';
import { assumedFacts } from './os/index.js';
import { ConnectionLostError, sshConnect, type SshOptions } from './ssh/transport.js';
import { sshHandshake, type Handshake } from './ssh/handshake.js';
import { KbError } from './errors.js';
import { tail } from './transport/remote-error.js';
import type { CheckRequest, Transport } from './transport/types.js';
import type { Prefetch } from './run/host-pool.js';
import { batchBody, beforeBatch, parseBatch } from './shell/prelude.js';
import { sameFacts, type FactsCache } from './run/facts-cache.js';
import type { Redactor } from './redact.js';
import { LockedTransport, judgeLock, lockScript, parseLockAnswer, type LockRequest } from './run/host-lock.js';
import { LoggedTransport, type RunLog } from './run/run-log.js';
import { CoalescingTransport } from './run/coalesce.js';

/** What a command's connections share: the lock it takes or reads, its log, one Redactor for every host. */
export interface ConnectContext {
  lock?: LockRequest;
  log?: RunLog;
  redactor?: Redactor;
  /** the facts of earlier runs, and where this run's go */
  facts?: FactsCache;
  /** handshakes started before the run (a plain up or plan), by host name: a host's is taken by its connection */
  early?: Map<string, Promise<Handshake>>;
}

/** The transport of a host whose handshake goes on while its first checks are rendered: nothing runs on it. */
function notYetConnected(name: string): Transport {
  const refuse = () => Promise.reject(new Error(`${name}: not connected yet`));
  return { exec: refuse, upload: refuse, download: refuse, checkBatch: refuse, stats: { roundTrips: 0, bytesSent: 0, bytesReceived: 0 }, close: async () => undefined };
}

export async function connectHost(spec: HostSpec, o: SshOptions, ctx: ConnectContext = {}, prefetch?: Prefetch): Promise<Host> {
  // the handshake (started before the run, for a plain up or plan, or now) goes on while the first
  // checks are rendered, for the facts the host had last time
  const early = ctx.early?.get(spec.name);
  ctx.early?.delete(spec.name);
  const handshake = early ?? sshHandshake(spec, o);
  const cached = prefetch ? ctx.facts?.get(spec) : undefined;
  // no facts from before: the OS the inventory names stands in (a guess, judged by the scripts it gives)
  const guess = cached ?? (prefetch && spec.os ? assumedFacts(spec.os) : undefined);
  let checks: CheckRequest[];
  try {
    checks = guess && prefetch ? prefetch(new Host(spec, notYetConnected(spec.name), guess, ctx.redactor)) : [];
  } catch (e) {
    void handshake.then((h) => { h.ssh.dispose(); for (const j of h.jumps) j.dispose(); }, () => undefined);
    throw e;
  }
  let t: Transport;
  try {
    const ssh = await sshConnect(spec, o, handshake);
    t = ctx.log ? new LoggedTransport(ssh, spec.name, ctx.log) : ssh;
  } catch (e) {
    ctx.log?.note(`${spec.name}: cannot connect: ${(e as Error).message}`, { host: true });
    throw e;
  }
  try {
    // an upload goes with the next command (src/run/coalesce.ts); the lock marks a change before either
    const coalesced = new CoalescingTransport(t, spec.name, o.commandTimeoutMs);
    const transport = ctx.lock?.mode === 'take' ? new LockedTransport(coalesced) : coalesced;
    const script = ctx.lock ? `${factsScript()}${lockScript(ctx.lock)}` : factsScript();
    let res;
    try {
      // after the facts and the lock the checks run, options off as in a batch, side by side: they only read
      res = await t.exec(checks.length ? `${script}set +euo pipefail\n${batchBody(checks, true)}\n` : script, { step: 'connect', mutates: false });
    } catch (e) {
      if (!checks.length || e instanceof ConnectionLostError) throw e;
      // a check that hangs (or anything else that stopped the whole script) is its step's failure, as
      // without the prefetch: read the facts alone and let the runner send its checks
      checks = [];
      res = await t.exec(script, { step: 'connect', mutates: false });
    }
    const head = beforeBatch(res.stdout);
    // (the checks end with a printf: a failure here is the facts' or the lock's, as without them)
    if (res.code !== 0) throw new KbError(`${spec.name}: cannot read /etc/os-release: ${tail(res.stderr, 2)}`);
    let facts;
    try {
      facts = parseFactsOutput(head);
    } catch (e) {
      if (e instanceof UnsupportedOsError) throw new KbError(`${spec.name}: ${e.message}`);
      throw e;
    }
    const judged = ctx.lock ? judgeLock(spec.name, ctx.lock, parseLockAnswer(head)) : {};
    if (judged.error) throw judged.error;
    const host = new Host(spec, transport, facts, ctx.redactor);
    if (judged.warning) host.notices.push(judged.warning);
    if (checks.length) {
      try {
        // used only for the checks that are, for the facts just read, the same scripts (Host.checkBatch)
        host.prefetched = { checks, outputs: parseBatch(checks, res.stdout) };
      } catch {
        // cut short: the runner sends its checks again
      }
    }
    if (prefetch && !(cached && sameFacts(cached, facts))) ctx.facts?.put(spec, facts);
    return host;
  } catch (e) {
    ctx.log?.note(`${spec.name}: ${(e as Error).message}`, { host: true });
    await t.close();
    throw e;
  }
}
