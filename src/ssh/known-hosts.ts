/**
 * Host key verification against OpenSSH known_hosts files: plain and hashed
 * (|1|salt|hash) host patterns, [host]:port entries, @revoked markers.
 * Unknown keys are refused unless accept-new is on (then recorded, like
 * OpenSSH's StrictHostKeyChecking=accept-new); a changed key is always refused.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';

export type HostKeyVerdict =
  | { status: 'known' }
  | { status: 'unknown'; fingerprint: string }
  | { status: 'changed'; fingerprint: string; file: string; line: number }
  | { status: 'revoked'; fingerprint: string };

export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

function hostPattern(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matches(patterns: string, name: string): boolean {
  if (patterns.startsWith('|1|')) {
    const [, , salt, hash] = patterns.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let hit = false;
  for (const p of patterns.split(',')) {
    const neg = p.startsWith('!');
    const pat = neg ? p.slice(1) : p;
    const re = new RegExp(`^${pat.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    if (re.test(name)) {
      if (neg) return false;
      hit = true;
    }
  }
  return hit;
}

interface Entry { file: string; line: number; marker?: string; patterns: string; type: string; key: string }

function entries(files: string[]): Entry[] {
  const out: Entry[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const parts = line.split(/\s+/);
      const marker = parts[0]!.startsWith('@') ? parts.shift() : undefined;
      const [patterns, type, key] = parts;
      if (patterns && type && key) out.push({ file, line: i + 1, marker, patterns, type, key });
    });
  }
  return out;
}

export function verifyHostKey(files: string[], host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const name = hostPattern(host, port);
  const b64 = keyBlob.toString('base64');
  const type = keyBlob.readUInt32BE(0) <= keyBlob.length ? keyBlob.subarray(4, 4 + keyBlob.readUInt32BE(0)).toString() : '';
  const fp = fingerprint(keyBlob);
  const mine = entries(files).filter((e) => matches(e.patterns, name));
  if (mine.some((e) => e.marker === '@revoked' && e.key === b64)) return { status: 'revoked', fingerprint: fp };
  if (mine.some((e) => e.marker !== '@revoked' && e.key === b64)) return { status: 'known' };
  const sameType = mine.find((e) => e.marker !== '@revoked' && e.type === type);
  if (sameType) return { status: 'changed', fingerprint: fp, file: sameType.file, line: sameType.line };
  return { status: 'unknown', fingerprint: fp };
}

export function recordHostKey(file: string, host: string, port: number, keyBlob: Buffer): void {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const type = keyBlob.subarray(4, 4 + keyBlob.readUInt32BE(0)).toString();
  appendFileSync(file, `${hostPattern(host, port)} ${type} ${keyBlob.toString('base64')}\n`, { mode: 0o600 });
}
