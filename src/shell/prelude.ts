/**
 * Shell functions every script may use. They travel with each script that
 * needs them (see withPrelude) and are printed once at the top of a dry run.
 */
import { preludeText } from './templates.js';
import { shq } from './quote.js';
import type { CheckOutput, CheckRequest } from '../transport/types.js';

export const PRELUDE = preludeText();

/** Prepend the prelude when the script calls one of its functions. */
export function withPrelude(script: string): string {
  return /\bkb_[a-z_]+/.test(script) ? `${PRELUDE}\n${script}` : script;
}

/** The shell line that writes stdin to dest atomically; shared by SSH uploads and the dry run. */
export function writeCommand(dest: string, mode: string, owner = 'root:root'): string {
  return `kb_write ${shq(dest, 'upload destination')} ${shq(mode, 'file mode')} ${shq(owner, 'file owner')}`;
}

/** The shell line that prints a file's bytes to stdout (a download); shared by SSH and the dry run. */
export function readCommand(path: string): string {
  return `cat -- ${shq(path, 'download source')}`;
}

const MARK = '@@kbootstrap-check';

/** One script that runs every check in its own subshell and marks where each output starts and ends. */
export function batchScript(checks: CheckRequest[], parallel = false): string {
  return withPrelude(batchBody(checks, parallel));
}

/**
 * The arguments of each `kb_file_state` line of a check (templates/common/file-state.sh.hbs renders
 * `kb_file_state {{qall paths}}`), as the shell words they are, when the line is nothing but such words
 * (shq's plain words and single-quoted strings): a line this does not recognise is left to the check.
 */
const FILE_STATE_LINE = /^kb_file_state ((?:[A-Za-z0-9_@%+=:,./-]|'[^'\n]*'|\\')+(?: (?:[A-Za-z0-9_@%+=:,./-]|'[^'\n]*'|\\')+)*)$/gm;

function fileStateWords(checks: CheckRequest[]): string[] {
  const words: string[] = [];
  for (const c of checks) for (const m of c.script.matchAll(FILE_STATE_LINE)) words.push(m[1]!);
  return words;
}

/**
 * The checks of batchScript without the prelude (for a script that carries it already).
 *
 * With `parallel`, the checks run at the same time (they only read the host): each writes its marked
 * output to its own file of a temporary directory and one `cat` prints the files in the checks' order,
 * so the output is the same as when they run one after another, and the round trip lasts as long as the
 * slowest check (the cluster read, a kubectl call) instead of the sum. Without a temporary directory
 * (mktemp failed) they run one after another.
 *
 * Processes, since the no-op run's time is mostly process starts (issue 24): each check is a function
 * run in the background, one process (a function run with `&` is a subshell: its `exit` ends only that
 * check), and the markers are written by the batch's shell, the end one with the code `wait` returns
 * for that check. The managed files of all the checks are read before they start, one sha256sum and one
 * stat for all (kb_file_prefetch), not one pair per check.
 */
export function batchBody(checks: CheckRequest[], parallel = false): string {
  const begin = (c: CheckRequest) => `printf '%s\\n' ${shq(`${MARK} begin ${c.step}`)}`;
  const end = (c: CheckRequest, code: string) => `printf '%s %s\\n' ${shq(`${MARK} end ${c.step}`)} ${code}`;
  const marked = (c: CheckRequest) => [begin(c), `( ${c.script.trimEnd()}\n) </dev/null 2>&1`, end(c, '"$?"')].join('\n');
  if (!parallel || checks.length < 2) return checks.map(marked).join('\n');
  const name = (i: number) => `kb_check_${i}`;
  // zero-padded file names: the shell's glob lists them in the checks' order
  const file = (i: number) => `"$kb_checks"/${String(i).padStart(3, '0')}`;
  const words = fileStateWords(checks);
  return [
    ...checks.map((c, i) => `${name(i)}() {\n${c.script.trimEnd()}\n}`),
    'if kb_checks=$(exec mktemp -d 2>/dev/null); then',
    ...(words.length ? [`  kb_file_prefetch ${words.join(' ')}`] : []),
    ...checks.flatMap((c, i) => [`  ${begin(c)} >${file(i)}`, `  ${name(i)} </dev/null >>${file(i)} 2>&1 &`, `  kb_pid_${i}=$!`]),
    ...checks.map((c, i) => `  wait "$kb_pid_${i}"\n  ${end(c, '"$?"')} >>${file(i)}`),
    ...(words.length ? ['  kb_file_forget'] : []),
    '  cat "$kb_checks"/*',
    '  rm -rf "$kb_checks"',
    'else',
    ...checks.map((c, i) => `  ${begin(c)}\n  ( ${name(i)} ) </dev/null 2>&1\n  ${end(c, '"$?"')}`),
    'fi',
  ].join('\n');
}

/** What a script printed before its batch of checks began (the OS facts and the lock's answer, in the connect round trip). */
export function beforeBatch(stdout: string): string {
  const i = stdout.indexOf(`\n${MARK} begin `);
  return i < 0 ? stdout : stdout.slice(0, i + 1);
}

export function parseBatch(checks: CheckRequest[], stdout: string): CheckOutput[] {
  const out: CheckOutput[] = [];
  const lines = stdout.split('\n');
  let i = 0;
  for (const c of checks) {
    const begin = `${MARK} begin ${c.step}`;
    while (i < lines.length && lines[i] !== begin) i++;
    if (i >= lines.length) throw new Error(`check output for ${c.step} is missing (the batch was cut short)`);
    i++;
    const body: string[] = [];
    const endPrefix = `${MARK} end ${c.step} `;
    while (i < lines.length && !lines[i]!.startsWith(endPrefix)) body.push(lines[i++]!);
    if (i >= lines.length) throw new Error(`check output for ${c.step} is cut short`);
    const code = Number(lines[i]!.slice(endPrefix.length));
    i++;
    out.push({ step: c.step, code, stdout: body.length ? body.join('\n') + '\n' : '' });
  }
  return out;
}
