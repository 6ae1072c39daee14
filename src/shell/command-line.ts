/**
 * The one command line sent over SSH for every script: bash as root, under
 * sudo for other users (rig's sudo decorator), bounded by `timeout`. The
 * script itself is one quoted argument; a sudo password only ever travels on
 * stdin, never on the command line.
 */
import { shq, shWrap } from './quote.js';

export type Sudo = 'none' | 'no-password' | 'password-on-stdin';

export function remoteCommandLine(script: string, timeoutSeconds: number, sudo: Sudo): string {
  const inner = `timeout -k 10 ${shq(String(Math.max(1, Math.ceil(timeoutSeconds))), 'timeout')} bash -c ${shWrap(script)}`;
  if (sudo === 'none') return inner;
  // -p '': no prompt text mixed into the script's output; -S: the password arrives on stdin
  return sudo === 'password-on-stdin' ? `sudo -S -p '' -- ${inner}` : `sudo -n -- ${inner}`;
}
