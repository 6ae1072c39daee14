/**
 * Re-checks that ride on a change: while a step applies, each command that
 * changes its host ends with the step's check and the checks of the steps
 * that depend on it (read-only, after the command succeeded, in the same
 * round trip). What the last change left is then known without another
 * round trip; a change after it (an upload, a command on another host, a
 * command that exits early) discards it and the runner checks as before.
 */
import { batchBody, parseBatch } from '../shell/prelude.js';
import type { CheckOutput, CheckRequest } from '../transport/types.js';

const TRAIL = '@@kbootstrap-trail';

/** The shell run after a changing command: its options back to a check's, a separator, the checks. */
export function trailerScript(checks: CheckRequest[]): string {
  return `set +euo pipefail\nprintf '\\n%s\\n' '${TRAIL}'\n${batchBody(checks)}\n`;
}

/** The command's own stdout, and the checks' outputs when they all arrived. */
export function splitTrailer(stdout: string, checks: CheckRequest[]): { stdout: string; outputs?: CheckOutput[] } {
  const cut = stdout.lastIndexOf(`\n${TRAIL}\n`);
  if (cut < 0) return { stdout };
  try {
    return { stdout: stdout.slice(0, cut), outputs: parseBatch(checks, stdout.slice(cut + TRAIL.length + 2)) };
  } catch {
    return { stdout: stdout.slice(0, cut) };
  }
}
