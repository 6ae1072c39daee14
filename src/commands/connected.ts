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
import type { Prompt } from '../ssh/credentials.js';
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

/** Ask on the terminal without echo (inquirer), only when there is one. */
export async function terminalPrompt(): Promise<Prompt | undefined> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return undefined;
  const { default: inquirer } = await import('inquirer');
  return async (message) => (await inquirer.prompt<{ secret: string }>([{ type: 'password', name: 'secret', message, mask: '*' }])).secret;
}

/** Ask a yes/no question on the terminal (inquirer), default no. */
export async function terminalConfirm(message: string): Promise<boolean> {
  const { default: inquirer } = await import('inquirer');
  return (await inquirer.prompt<{ ok: boolean }>([{ type: 'confirm', name: 'ok', message, default: false }])).ok;
}
