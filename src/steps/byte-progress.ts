/**
 * How far a long transfer is, for the progress view: a step hands the
 * transport this callback (UploadOptions/DownloadOptions.onProgress) and the
 * running step's line reads "snapshot: 12.0 MiB of 40.0 MiB (30%)". Lines
 * come at most every quarter second, and once at the end.
 */
import type { Progress } from '../transport/types.js';

const MIB = 1024 * 1024;

export function formatBytes(n: number): string {
  return n >= MIB ? `${(n / MIB).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${n} B`;
}

/** The text for DONE of TOTAL bytes of WHAT. */
export function progressText(what: string, done: number, total?: number): string {
  return total ? `${what}: ${formatBytes(done)} of ${formatBytes(total)} (${Math.floor((done / total) * 100)}%)` : `${what}: ${formatBytes(done)}`;
}

/** A transport's onProgress that tells SAY how far WHAT is (TOTAL when the caller knows it and the transport does not). */
export function byteProgress(say: (text: string) => void, what: string, total?: number, now: () => number = Date.now, everyMs = 250): Progress {
  let last = -Infinity;
  return (done, t) => {
    const of = t ?? total;
    const end = of !== undefined && done >= of;
    if (!end && now() - last < everyMs) return;
    last = now();
    say(progressText(what, done, of));
  };
}
