/**
 * What every command that connects to hosts shares: the process's run log
 * (opened by the first connection, closed by main()), the run lock's mode and
 * identity, one Redactor, and the terminal prompt for secrets. Loaded only by
 * those commands: validate, render and --help never load SSH.
 */
import { RunLog } from '../run/run-log.js';
import { Redactor } from '../redact.js';
import { thisRun, type LockMode } from '../run/host-lock.js';
import type { ConnectContext } from '../connect.js';
import type { SessionRun } from '../session.js';
import type { Io } from '../io.js';
import { errLine } from '../wrap.js';

/** The process's run: its arguments (for the log) and its log, once a command has opened one. */
export interface RunState {
  argv: string[];
  log?: RunLog;
}

/** What a command's connections share: its lock (take for commands that change hosts, else observe), the log, one Redactor. */
export function connectContext(state: RunState, command: string, lock: LockMode, io: Io): ConnectContext {
  if (!state.log) {
    const { log, error } = RunLog.open(state.argv, new Redactor());
    if (error) io.err(`kbootstrap: warning: ${error}\n`);
    state.log = log;
  }
  return { lock: { mode: lock, me: thisRun(command) }, log: state.log, redactor: state.log?.redactor ?? new Redactor() };
}

export function sessionRun(state: RunState, command: string, lock: LockMode, io: Io): SessionRun {
  return { ctx: connectContext(state, command, lock, io), warn: (m) => errLine(io, `kbootstrap: warning: ${m}`), info: (line) => io.err(line) };
}

export { terminalConfirm, terminalPrompt } from './prompt.js';
