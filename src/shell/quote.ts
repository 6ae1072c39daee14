/**
 * The one place where values become shell words. Every value that reaches a
 * remote shell goes through `shq`; templates reach it through the `q` helper.
 */

export class MissingShellValueError extends Error {
  constructor(what: string) {
    super(`refusing to render a missing value into a shell command (${what})`);
    this.name = 'MissingShellValueError';
  }
}

/** Single-quote a value for POSIX sh. Throws on undefined/null so a typo never renders as ''. */
export function shq(value: unknown, what = 'value'): string {
  if (value === undefined || value === null) throw new MissingShellValueError(what);
  if (typeof value === 'object') throw new TypeError(`cannot quote an object as a shell word (${what})`);
  const s = String(value);
  if (s.includes('\0')) throw new TypeError(`a NUL byte cannot be passed to a shell (${what})`);
  // Plain words need no quotes; keeps rendered scripts readable.
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote each value and join with spaces. */
export function shqAll(values: readonly unknown[], what = 'values'): string {
  return values.map((v, i) => shq(v, `${what}[${i}]`)).join(' ');
}

/** Wrap a whole script so it is one single-quoted word: the argument of `bash -c` in the remote command line (src/shell/command-line.ts). */
export function shWrap(script: string): string {
  return `'${script.replace(/'/g, `'\\''`)}'`;
}

/** A heredoc delimiter that does not occur as a line of the content. */
export function heredocDelimiter(content: string, base = 'KBOOTSTRAP_EOF'): string {
  const lines = new Set(content.split('\n'));
  let d = base;
  for (let i = 1; lines.has(d); i++) d = `${base}_${i}`;
  return d;
}
