/**
 * Host key verification against OpenSSH known_hosts files, with OpenSSH's own
 * matching rules, so that a file written or read by `ssh` means the same here.
 *
 * The format is sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT"
 * (https://man.openbsd.org/sshd.8#SSH_KNOWN_HOSTS_FILE_FORMAT; Debian 12's
 * /usr/share/man/man8/sshd.8.gz, OpenSSH 9.2p1). Where the page is silent the
 * rules follow OpenSSH's hostfile.c (hostkeys_foreach, match_maybe_hashed,
 * check_hostkeys_by_key_or_type) and match.c (match_pattern_list); each such
 * rule is tested against `ssh-keygen -l -F` in test/known-hosts.test.ts.
 */
import { createHash, createHmac } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';

interface Place { file: string; line: number }

export type HostKeyVerdict =
  | ({ status: 'known' } & Place)
  /**
   * `certAuthority`: a @cert-authority line names a CA for this host. kbootstrap
   * (ssh2) never asks for host certificates, so that line neither vouches for
   * nor contradicts the plain key: the verdict stays "unknown", as in OpenSSH
   * for a plain key, but accept-new must not record over it (see mayRecord).
   */
  | { status: 'unknown'; fingerprint: string; certAuthority?: Place }
  | ({ status: 'changed'; fingerprint: string } & Place)
  | ({ status: 'revoked'; fingerprint: string } & Place);

export interface KnownHostsLine extends Place {
  marker?: 'revoked' | 'cert-authority';
  hosts: string;
  type: string;
  blob: Buffer;
}

export function fingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** ASCII-only, like OpenSSH's lowercase()/tolower() in the C locale. */
function lower(s: string): string {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/**
 * The name a host is looked up (and recorded) under: `host` on port 22,
 * `[host]:port` otherwise (sshd(8): "enclosed within [ and ] brackets then
 * followed by : and a non-standard port number"; OpenSSH's put_host_port).
 * ssh lowercases the host name before the lookup and when it writes a line.
 */
export function knownHostsName(host: string, port: number): string {
  const h = lower(host);
  return port === 22 ? h : `[${h}]:${port}`;
}

/** `*` any run of characters (also none), `?` exactly one; nothing else is special (match.c match_pattern). */
function glob(name: string, pattern: string): boolean {
  let n = 0;
  let p = 0;
  let starP = -1;
  let starN = 0;
  while (n < name.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === name[n])) {
      n++;
      p++;
    } else if (p < pattern.length && pattern[p] === '*') {
      starP = p++;
      starN = n;
    } else if (starP >= 0) {
      p = starP + 1;
      n = ++starN;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * A comma-separated pattern list against a lowercased name (match.c
 * match_pattern_list with dolower): patterns compare lowercased; a `!pattern`
 * that matches rejects the name whatever else matched ("if the host name
 * matches a negated pattern, it is not accepted (by that line) even if it
 * matched another pattern on the line", sshd(8)).
 */
function matchPatternList(name: string, list: string): boolean {
  let positive = false;
  for (const raw of list.split(',')) {
    const negated = raw.startsWith('!');
    const pattern = lower(negated ? raw.slice(1) : raw);
    // match.c copies each sub-pattern into a 1024-byte buffer and gives up on the whole list when one does not fit
    if (pattern.length >= 1023) return false;
    if (glob(name, pattern)) {
      if (negated) return false;
      positive = true;
    }
  }
  return positive;
}

const HASH_MAGIC = '|1|';

/**
 * `|1|salt|hash`: HMAC-SHA1 keyed with the 20-byte salt over the lookup name.
 * A field starting with `|` is only ever a hash ("none of the above negation
 * or wildcard operators may be applied", sshd(8)); a bad salt makes the line
 * invalid (hostfile.c extract_salt), so it is skipped.
 */
function matchHashed(name: string, field: string): boolean | 'invalid' {
  if (!field.startsWith(HASH_MAGIC)) return 'invalid';
  const rest = field.slice(HASH_MAGIC.length);
  const bar = rest.indexOf('|');
  if (bar <= 0 || bar > 1024) return 'invalid';
  const b64salt = rest.slice(0, bar);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64salt)) return 'invalid';
  const salt = Buffer.from(b64salt, 'base64');
  if (salt.length !== 20) return 'invalid';
  // hostfile.c compares the whole re-encoded field, so a non-canonical spelling of the same bytes does not match
  const encoded = `${HASH_MAGIC}${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  return encoded === field;
}

/** SSH wire strings: uint32 length + bytes, back to back, filling the blob exactly. */
function sshStrings(blob: Buffer): Buffer[] | undefined {
  const out: Buffer[] = [];
  let at = 0;
  while (at < blob.length) {
    if (at + 4 > blob.length) return undefined;
    const len = blob.readUInt32BE(at);
    if (at + 4 + len > blob.length) return undefined;
    out.push(blob.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  return out;
}

/** How many wire strings each plain key type's public blob holds (RFC 4253 6.6, RFC 5656 3.1, RFC 8709 4, OpenSSH PROTOCOL.u2f). */
const BLOB_FIELDS: Record<string, number> = {
  'ssh-ed25519': 2,
  'ssh-rsa': 3,
  'ssh-dss': 5,
  'ecdsa-sha2-nistp256': 3,
  'ecdsa-sha2-nistp384': 3,
  'ecdsa-sha2-nistp521': 3,
  'sk-ssh-ed25519@openssh.com': 3,
  'sk-ecdsa-sha2-nistp256@openssh.com': 4,
};

export function keyType(blob: Buffer): string | undefined {
  const fields = sshStrings(blob);
  const type = fields?.[0]?.toString('latin1');
  if (!fields || !type || BLOB_FIELDS[type] !== fields.length) return undefined;
  if (/^(sk-)?ssh-ed25519/.test(type) && fields[1]!.length !== 32) return undefined;
  const curve = /^(?:sk-)?ecdsa-sha2-(nistp\d+)/.exec(type)?.[1];
  if (curve && fields[1]!.toString('latin1') !== curve) return undefined;
  return type;
}

/**
 * A line's key as OpenSSH's sshkey_read takes it: a known type name, then
 * base64 of a blob of that same type. Lines whose key does not parse are
 * skipped by ssh (and by `ssh-keygen -l -F`); host certificates as a line's
 * key are not supported here and skipped too.
 */
function parseKey(type: string | undefined, b64: string | undefined): Buffer | undefined {
  if (!type || !b64 || !/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return undefined;
  const blob = Buffer.from(b64, 'base64');
  return keyType(blob) === type ? blob : undefined;
}

/**
 * The lines of these files that name this host and port, in file order:
 * exactly the lines `ssh-keygen -l -F NAME -f FILE` lists. Comments, blank
 * lines, unknown markers, bad hashes and unparsable keys are skipped, as ssh
 * skips them.
 */
export function matchingLines(files: string[], host: string, port: number): KnownHostsLine[] {
  const name = knownHostsName(host, port);
  const out: KnownHostsLine[] = [];
  for (const file of files) {
    if (!existsSync(file) || !statSync(file).isFile()) continue;
    readFileSync(file, 'utf8').split('\n').forEach((raw, i) => {
      // ssh separates fields by blanks and tabs only; a CR of a CRLF file ends the key and is ignored
      const fields = raw.replace(/\r$/, '').split(/[ \t]+/).filter(Boolean);
      if (fields.length === 0 || fields[0]!.startsWith('#')) return;
      let marker: KnownHostsLine['marker'];
      if (fields[0]!.startsWith('@')) {
        const m = fields.shift();
        // hostfile.c check_markers: exactly these two, case-sensitive, one per line
        if (m === '@revoked') marker = 'revoked';
        else if (m === '@cert-authority') marker = 'cert-authority';
        else return;
        if (fields[0]?.startsWith('@')) return;
      }
      const [hosts, type, b64] = fields;
      if (!hosts) return;
      const hit = hosts.startsWith('|') ? matchHashed(name, hosts) : matchPatternList(name, hosts);
      if (hit !== true) return;
      const blob = parseKey(type, b64);
      if (blob) out.push({ file, line: i + 1, marker, hosts, type: type!, blob });
    });
  }
  return out;
}

/**
 * OpenSSH's verdict for a plain (non-certificate) host key, hostfile.c
 * check_hostkeys_by_key_or_type: among the lines naming the host, ignoring
 * @cert-authority and @revoked lines, the same key makes it known, and any
 * other key — of any type — makes it changed; none makes it new. Then a
 * matching @revoked line with this key overrides everything ("never accepted",
 * sshd(8)), even when another line lists the key as good.
 *
 * So a plain `host` line is not a line for `[host]:2222` (ssh-keygen -F does
 * not list it), yet ssh accepts the key it holds on port 2222 (below).
 */
export function verifyHostKey(files: string[], host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const v = verdictFor(files, host, port, keyBlob);
  // ssh -v "checking without port identifier" (sshconnect.c check_host_key, case HOST_NEW): on another port, a
  // host with no [host]:port line at all is still known when its plain name lists this very key; any other
  // outcome of that second look (another key, revoked, nothing) leaves it new
  if (v.status === 'unknown' && port !== 22) {
    const plain = verdictFor(files, host, 22, keyBlob);
    if (plain.status === 'known') return plain;
  }
  return v;
}

function verdictFor(files: string[], host: string, port: number, keyBlob: Buffer): HostKeyVerdict {
  const fp = fingerprint(keyBlob);
  const lines = matchingLines(files, host, port);
  const revoked = lines.find((l) => l.marker === 'revoked' && l.blob.equals(keyBlob));
  if (revoked) return { status: 'revoked', fingerprint: fp, file: revoked.file, line: revoked.line };
  const plain = lines.filter((l) => l.marker === undefined);
  const same = plain.find((l) => l.blob.equals(keyBlob));
  if (same) return { status: 'known', file: same.file, line: same.line };
  // the last such line, the one ssh names as "Offending ... key in FILE:LINE"
  const other = plain.at(-1);
  if (other) return { status: 'changed', fingerprint: fp, file: other.file, line: other.line };
  const ca = lines.find((l) => l.marker === 'cert-authority');
  return ca ? { status: 'unknown', fingerprint: fp, certAuthority: { file: ca.file, line: ca.line } } : { status: 'unknown', fingerprint: fp };
}

/**
 * Whether --accept-new-host-keys may record this verdict's key. Only a plain
 * "unknown": OpenSSH's accept-new would also record a key for a host covered
 * by a @cert-authority line, but such a host is meant to be vouched for by its
 * certificate, which kbootstrap cannot check; trusting its first plain key
 * instead would quietly downgrade that to trust-on-first-use.
 */
export function mayRecord(v: HostKeyVerdict): boolean {
  return v.status === 'unknown' && !v.certAuthority;
}

/** Appends `name type base64` as ssh writes it (hostfile.c write_host_entry, unhashed). */
export function recordHostKey(file: string, host: string, port: number, keyBlob: Buffer): void {
  const type = keyType(keyBlob);
  if (!type) throw new Error(`not an SSH public key blob (${fingerprint(keyBlob)})`);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // a file whose last line has no newline would otherwise get our line glued onto it
  const needsNewline = existsSync(file) && statSync(file).size > 0 && !readFileSync(file).subarray(-1).equals(Buffer.from('\n'));
  appendFileSync(file, `${needsNewline ? '\n' : ''}${knownHostsName(host, port)} ${type} ${keyBlob.toString('base64')}\n`, { mode: 0o600 });
}

/** ssh2's host key algorithm names for each key type it can verify. */
const ALGORITHMS: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/**
 * Host key algorithms to move to the front of the offer so the server shows a
 * key of a type already known for it. OpenSSH does the same (sshconnect2.c
 * order_hostkeyalgs); without it a host known by its ECDSA key but also
 * holding an Ed25519 one would show the Ed25519 key, which the rule above
 * must call "changed". Empty when nothing is known.
 */
export function preferredHostKeyAlgorithms(files: string[], host: string, port: number): string[] {
  const types = new Set(matchingLines(files, host, port).filter((l) => l.marker === undefined).map((l) => l.type));
  return Object.entries(ALGORITHMS).filter(([t]) => types.has(t)).flatMap(([, algs]) => algs);
}
