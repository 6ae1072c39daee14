/** Shared by the lab-based tests: skip loudly where the lab cannot run, never silently in CI as root. */
import { labUnavailable } from './lab.js';

export const LAB_SKIP_REASON = labUnavailable();

if (LAB_SKIP_REASON) {
  const msg = `\n*** SKIPPING lab tests: ${LAB_SKIP_REASON} ***\n`;
  if (process.env.CI && process.getuid?.() === 0) {
    // CI runs as root with the lab's packages installed: a missing lab there is a failure, not a skip
    throw new Error(`the lab must run in CI: ${LAB_SKIP_REASON}`);
  }
  process.stderr.write(msg);
}
