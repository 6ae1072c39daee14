/**
 * A command's stdin as the transports see it: text, bytes, or a slice of a file on this machine
 * that is read from disk only as it goes out (src/ssh/transport.ts streams it; the dry run records
 * its size and place without reading it).
 */
import type { FileSlice, Stdin } from './types.js';

export function isFileSlice(s: Stdin | undefined): s is FileSlice {
  return typeof s === 'object' && !Buffer.isBuffer(s);
}

/** How many bytes the command receives. */
export function stdinBytes(s: Stdin | undefined): number {
  if (s === undefined) return 0;
  // a Buffer's length and a slice's are both byte counts
  return typeof s === 'string' ? Buffer.byteLength(s) : s.length;
}

/** What the dry run and the run log say of a slice (its bytes are never read for them). */
export function describeSlice(s: FileSlice): string {
  return `${s.length} bytes of ${s.file}${s.offset ? ` from byte ${s.offset}` : ''}`;
}
