/**
 * The one command line sent over SSH for every script: bash as root, under
 * sudo for other users (rig's sudo decorator), bounded by `timeout`. The
 * script itself is one quoted argument; a sudo password only ever travels on
 * stdin, never on the command line.
 */
import { shq, shWrap } from './quote.js';

export type Sudo = 'none' | 'no-password' | { prompt: string; marker: string };

/**
 * With a sudo password, sudo reads stdin only when it actually asks, so the
 * password and the script's own stdin must never be sent together (a NOPASSWD
 * user or a cached credential would turn the password into the first line of
 * an uploaded file). The transport sends the password only after `prompt`
 * (sudo -p, a nonce) appears on stderr, and the script's stdin only after
 * `marker` does: the first thing the command prints once it runs as root.
 */
export function remoteCommandLine(script: string, timeoutSeconds: number, sudo: Sudo): string {
  const body = typeof sudo === 'object' ? `printf '%s\\n' ${shq(sudo.marker, 'sudo marker')} >&2\n${script}` : script;
  const inner = `timeout -k 10 ${shq(String(Math.max(1, Math.ceil(timeoutSeconds))), 'timeout')} bash -c ${shWrap(body)}`;
  if (sudo === 'none') return inner;
  if (sudo === 'no-password') return `sudo -n -- ${inner}`;
  // -S: the password arrives on stdin, and sudo writes the prompt to stderr, where the transport waits for it
  return `sudo -S -p ${shq(sudo.prompt, 'sudo prompt')} -- ${inner}`;
}
