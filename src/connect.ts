/**
 * Connect to a host over SSH and read its OS facts in one round trip; the
 * run lock (src/run/host-lock.ts) is taken or read in that same round trip,
 * and every command goes to the run log when there is one.
 */
import type { HostSpec } from './inventory/model.js';
import { Host } from './host/host.js';
import { factsScript, parseFactsOutput, UnsupportedOsError } from './host/facts.js';
import { sshConnect, type SshOptions } from './ssh/transport.js';
import { KbError } from './errors.js';
import { tail } from './transport/remote-error.js';
import type { Transport } from './transport/types.js';
import type { Redactor } from './redact.js';
import { LockedTransport, judgeLock, lockScript, parseLockAnswer, type LockRequest } from './run/host-lock.js';
import { LoggedTransport, type RunLog } from './run/run-log.js';

/** What a command's connections share: the lock it takes or reads, its log, one Redactor for every host. */
export interface ConnectContext {
  lock?: LockRequest;
  log?: RunLog;
  redactor?: Redactor;
}

export async function connectHost(spec: HostSpec, o: SshOptions, ctx: ConnectContext = {}): Promise<Host> {
  let t: Transport;
  try {
    const ssh = await sshConnect(spec, o);
    t = ctx.log ? new LoggedTransport(ssh, spec.name, ctx.log) : ssh;
  } catch (e) {
    ctx.log?.note(`${spec.name}: cannot connect: ${(e as Error).message}`, { host: true });
    throw e;
  }
  try {
    const script = ctx.lock ? `${factsScript()}${lockScript(ctx.lock)}` : factsScript();
    const res = await t.exec(script, { step: 'connect', mutates: false });
    if (res.code !== 0) throw new KbError(`${spec.name}: cannot read /etc/os-release: ${tail(res.stderr, 2)}`);
    let facts;
    try {
      facts = parseFactsOutput(res.stdout);
    } catch (e) {
      if (e instanceof UnsupportedOsError) throw new KbError(`${spec.name}: ${e.message}`);
      throw e;
    }
    const judged = ctx.lock ? judgeLock(spec.name, ctx.lock, parseLockAnswer(res.stdout)) : {};
    if (judged.error) throw judged.error;
    const host = new Host(spec, ctx.lock?.mode === 'take' ? new LockedTransport(t) : t, facts, ctx.redactor);
    if (judged.warning) host.notices.push(judged.warning);
    return host;
  } catch (e) {
    ctx.log?.note(`${spec.name}: ${(e as Error).message}`, { host: true });
    await t.close();
    throw e;
  }
}
