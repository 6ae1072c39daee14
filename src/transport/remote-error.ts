/** A remote command that failed: host, step, the command and the tail of its output, all redacted. */
import { KbError } from '../errors.js';

export class RemoteCommandError extends KbError {
  constructor(
    readonly host: string,
    readonly step: string,
    readonly command: string,
    readonly code: number,
    readonly stderrTail: string,
  ) {
    super(`${host}: ${step}: command failed with exit code ${code}: ${firstLine(command)}${stderrTail ? `\n${indent(stderrTail)}` : ''}`);
    this.name = 'RemoteCommandError';
  }
}

function firstLine(s: string): string {
  const lines = s.trim().split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
  const l = lines.find((x) => !/^(set -|kb_[a-z_]+\(\))/.test(x.trim())) ?? lines[0] ?? '';
  return l.length > 160 ? l.slice(0, 157) + '...' : l.trim();
}

function indent(s: string): string {
  return s.split('\n').map((l) => `    ${l}`).join('\n');
}

export function tail(s: string, n = 8): string {
  return s.trimEnd().split('\n').slice(-n).join('\n');
}

