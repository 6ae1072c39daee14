/**
 * What a host says is data, never terminal commands. Any text that came from a
 * host (PRETTY_NAME, a version, a node name, stderr in an error, what kubeadm
 * printed) passes through printable() before it reaches the screen: C0 and C1
 * control characters other than newline and tab, and DEL, are shown as \xNN
 * (ESC, the 8-bit CSI 0x9b, BEL that ends an OSC title, ...), and carriage
 * returns are dropped, so no host can move the cursor, clear the screen, set
 * the window title or overwrite a line it printed before.
 */
import type { Io } from './io.js';

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

export function printable(text: string): string {
  return text.replace(CONTROL, (c) => c === '\r' ? '' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** An Io whose every line goes through printable(): for commands that print what hosts answered. */
export function printableIo(io: Io): Io {
  return { ...io, out: (s) => io.out(printable(s)), err: (s) => io.err(printable(s)) };
}
