/** Errors that carry the process exit code the CLI documents. */

export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  /** plan: something would change */
  changes: 3,
  interrupted: 130,
} as const;

export class KbError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.failed) {
    super(message);
    this.name = 'KbError';
  }
}

export class UsageError extends KbError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = 'UsageError';
  }
}

export interface Problem {
  file: string;
  line: number;
  col: number;
  path: string;
  message: string;
  severity: 'error' | 'warning';
}

export function formatProblem(p: Problem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  const prefix = p.severity === 'warning' ? 'warning: ' : '';
  return `${where} ${prefix}${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export class InventoryError extends KbError {
  constructor(readonly problems: Problem[]) {
    super(problems.filter((p) => p.severity === 'error').map(formatProblem).join('\n'), EXIT.usage);
    this.name = 'InventoryError';
  }
}

/** A failure as the one JSON document of --output json: scripts parse stdout whatever happened. */
export function jsonError(message: string, exitCode: number): string {
  return JSON.stringify({ error: { message, exitCode } }, null, 2) + '\n';
}
