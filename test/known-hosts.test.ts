/**
 * kbootstrap's known_hosts matching against OpenSSH itself.
 *
 * - Which lines name a host: `ssh-keygen -l -F NAME -f FILE` is the oracle
 *   (-l makes it parse each key, so it skips the lines ssh skips).
 * - The verdict: each row states it; where this machine can run sshd (root,
 *   /usr/sbin/sshd) the real `ssh` client confirms every row by connecting
 *   to `sshd -i` through a ProxyCommand — no network — with
 *   StrictHostKeyChecking=yes, and its "Offending key in FILE:LINE" must be
 *   the line kbootstrap names.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownHostsName, matchingLines, mayRecord, recordHostKey, verifyHostKey, type HostKeyVerdict } from '../src/ssh/known-hosts.js';

const SSHD = '/usr/sbin/sshd';
const haveKeygen = spawnSync('ssh-keygen', ['-?']).error === undefined;
const sshdWhy = process.getuid?.() !== 0 ? 'not root' : !existsSync(SSHD) ? `${SSHD} is missing` : spawnSync('ssh', ['-V']).error ? 'ssh is missing' : '';
if (!haveKeygen) console.warn('known-hosts.test: ssh-keygen is missing (apt-get install openssh-client): the OpenSSH oracle tests are SKIPPED');
if (haveKeygen && sshdWhy) console.warn(`known-hosts.test: ${sshdWhy}: the verdicts are not confirmed by the real ssh client (SKIPPED)`);

let dir: string;
/** `type base64` of each test key; K1 is the key the host presents */
const pub: Record<'K1' | 'K2' | 'K3' | 'E', string> = { K1: '', K2: '', K3: '', E: '' };
let presented: Buffer;

function keygen(name: string, type: string): string {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', join(dir, name)]);
  return readFileSync(join(dir, `${name}.pub`), 'utf8').split(' ').slice(0, 2).join(' ');
}

function write(name: string, lines: string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** what `ssh-keygen -l -F` lists: "LINE" or "LINE CA" / "LINE REVOKED" */
function opensshLines(file: string, host: string, port: number): string[] {
  const r = spawnSync('ssh-keygen', ['-l', '-F', knownHostsName(host, port), '-f', file], { encoding: 'utf8' });
  return [...r.stdout.matchAll(/^# Host \S+ found: line (\d+) ?(CA|REVOKED)?$/gm)].map((m) => (m[2] ? `${m[1]} ${m[2]}` : m[1]!));
}

function ourLines(file: string, host: string, port: number): string[] {
  return matchingLines([file], host, port).map((l) => (l.marker ? `${l.line} ${l.marker === 'revoked' ? 'REVOKED' : 'CA'}` : String(l.line)));
}

/** The real ssh client's verdict for K1 presented by host:port. */
function sshVerdict(files: string[], host: string, port: number): { status: HostKeyVerdict['status']; offending?: string } {
  const r = spawnSync('ssh', [
    '-F', '/dev/null', '-p', String(port),
    '-o', `ProxyCommand=${SSHD} -i -f ${join(dir, 'sshd_config')}`,
    '-o', `UserKnownHostsFile=${files.join(' ')}`, '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', '-o', 'CheckHostIP=no', '-o', 'UpdateHostKeys=no',
    '-o', 'IdentityFile=none', '-o', 'IdentitiesOnly=yes',
    host, 'true',
  ], { encoding: 'utf8', timeout: 20_000 });
  const out = r.stderr;
  // a key ssh accepted leads on to authentication, which has nothing to offer
  if (/Permission denied/.test(out)) return { status: 'known' };
  // the last closing line decides: the retry without port prints its own ("... h was revoked ...") before the outer "not known"
  const closing = out.split('\n').filter((l) => /you have requested strict checking/.test(l)).at(-1) ?? '';
  if (/was revoked/.test(closing)) return { status: 'revoked' };
  if (/has changed/.test(closing)) return { status: 'changed', offending: /Offending \S+ key in (\S+)/.exec(out)?.[1] };
  if (/host key is known for/.test(closing)) return { status: 'unknown' };
  throw new Error(`ssh gave no verdict for ${host}:${port}: ${out}`);
}

const MAIN: (keys: typeof pub) => string[] = (k) => [
  '# a comment',
  '',
  `known22.test ${k.K1}`,
  `[known2222.test]:2222 ${k.K1}`,
  `changed.test ${k.K2}`,
  `[changed.test]:2222 ${k.K2}`,
  `*.wild.test ${k.K1}`,
  `[*.portwild.test]:* ${k.K1}`,
  `node?.q.test ${k.K1}`,
  `*.neg.test,!bad.neg.test ${k.K1}`,
  `bad.neg.test ${k.K2}`,
  `@revoked revoked.test ${k.K1}`,
  `revoked.test ${k.K1}`,
  `[revoked.test]:2222 ${k.K1}`,
  `@revoked * ${k.K3}`,
  `@cert-authority *.ca.test ${k.K2}`,
  `@cert-authority ca1.test ${k.K1}`,
  `typed.test ${k.E}`,
  `Mixed.Case.TEST ${k.K1}`,
  'garbage.test ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAgarbage',
  'garbage.test ssh-ed25519',
  `garbage.test ssh-rsa ${k.K1.split(' ')[1]}`,
  `@bogus bogus.test ${k.K1}`,
  `@revoked @cert-authority twomarks.test ${k.K1}`,
  `10.0.0.5 ${k.K1}`,
  `[10.0.0.5]:2222 ${k.K2}`,
  `[::1]:2222 ${k.K1}`,
  `multi.test ${k.K2}`,
  `multi.test ${k.K1}`,
  `multi.test ${k.K3}`,
  `portwins.test ${k.K1}`,
  `[portwins.test]:2222 ${k.K2}`,
  `two.test ${k.K2}`,
  `two.test ${k.K3}`,
  `\tspaced.test   ${k.K1.replace(' ', '\t')}   a comment with words`,
  `crlf.test ${k.K1}\r`,
  `|1|bad|salt ${k.K1}`,
  '[dangling.test]:2222',
];

type Row = [host: string, port: number, verdict: HostKeyVerdict['status'], why: string];
const MAIN_ROWS: Row[] = [
  ['known22.test', 22, 'known', 'plain name, port 22'],
  ['known22.test', 2222, 'known', 'no [host]:2222 line, so ssh retries the plain name (same key only)'],
  ['Known22.TEST', 22, 'known', 'the host name is compared lowercased'],
  ['known2222.test', 2222, 'known', '[host]:port'],
  ['known2222.test', 22, 'unknown', '[host]:port does not cover port 22'],
  ['known2222.test', 2223, 'unknown', 'nor another port'],
  ['changed.test', 22, 'changed', 'another key, port 22'],
  ['changed.test', 2222, 'changed', 'another key, port 2222'],
  ['changed.test', 2223, 'unknown', 'no line for that port; the retry without port finds another key: new, not changed'],
  ['portwins.test', 2222, 'changed', 'a [host]:port line decides before the plain name is tried'],
  ['a.wild.test', 22, 'known', '* wildcard'],
  ['a.b.wild.test', 22, 'known', '* crosses dots'],
  ['wild.test', 22, 'unknown', '*.wild.test needs the dot'],
  ['a.wild.test', 2222, 'known', 'the retry without port also uses wildcards'],
  ['revoked.test', 2224, 'unknown', 'the retry without port finds the key revoked: still new'],
  ['x.portwild.test', 2222, 'known', 'wildcards inside [ ] and for the port'],
  ['x.portwild.test', 22, 'unknown', 'port 22 is looked up without brackets'],
  ['node1.q.test', 22, 'known', '? is one character'],
  ['node10.q.test', 22, 'unknown', '? is exactly one character'],
  ['ok.neg.test', 22, 'known', 'positive part of a negated list'],
  ['bad.neg.test', 22, 'changed', 'negation drops only its own line'],
  ['revoked.test', 22, 'revoked', '@revoked wins over a line listing the key'],
  ['revoked.test', 2222, 'known', '@revoked counts only for the names it matches'],
  ['host.ca.test', 22, 'unknown', '@cert-authority is not a host key'],
  ['ca1.test', 22, 'unknown', 'not even with the same key'],
  ['typed.test', 22, 'changed', 'a known key of another type'],
  ['mixed.case.test', 22, 'known', 'patterns compare lowercased'],
  ['garbage.test', 22, 'unknown', 'unparsable keys are skipped'],
  ['bogus.test', 22, 'unknown', 'an unknown marker skips the line'],
  ['twomarks.test', 22, 'unknown', 'two markers skip the line'],
  ['10.0.0.5', 22, 'known', 'address, port 22'],
  ['10.0.0.5', 2222, 'changed', 'address, port 2222'],
  ['::1', 2222, 'known', 'IPv6 in brackets'],
  ['::1', 22, 'unknown', 'IPv6 on port 22 has no brackets'],
  ['multi.test', 22, 'known', 'any line with the key'],
  ['two.test', 22, 'changed', 'several other keys'],
  ['spaced.test', 22, 'known', 'tabs, runs of blanks, a comment'],
  ['crlf.test', 22, 'known', 'CRLF line end'],
  ['nowhere.test', 22, 'unknown', 'no line'],
  ['dangling.test', 2222, 'unknown', 'a line without a key'],
];

/** hashed with `ssh-keygen -H`, which leaves wildcard and marker lines as they are */
const HASHED_SOURCE: (keys: typeof pub) => string[] = (k) => [
  `hashed.test ${k.K1}`,
  `[hashed.test]:2222 ${k.K2}`,
  `hashed2.test,hashed3.test ${k.K1}`,
  `@revoked hashrev.test ${k.K1}`,
  `hashrev.test ${k.K1}`,
  `[hashrev.test]:2222 ${k.K1}`,
  `*.hwild.test ${k.K1}`,
];
const HASHED_ROWS: Row[] = [
  ['hashed.test', 22, 'known', 'hashed name'],
  ['hashed.test', 2222, 'changed', 'hashed [host]:port, another key'],
  ['hashed.test', 2223, 'known', 'no line for port 2223: the retry without port finds the hashed name'],
  ['hashed2.test', 2222, 'known', 'the same for a name from a hashed list'],
  ['hashed3.test', 2222, 'known', 'and the other name of that list'],
  ['hashed3.test', 22, 'known', 'a list is hashed one name per line'],
  ['HASHED2.test', 22, 'known', 'the name is lowercased before hashing'],
  ['hashrev.test', 22, 'revoked', '@revoked beside a hashed line'],
  ['hashrev.test', 2222, 'known', 'hashed [host]:port, same key'],
  ['x.hwild.test', 22, 'known', 'wildcard line left unhashed'],
];

let mainFile: string;
let hashedFile: string;

beforeAll(() => {
  if (!haveKeygen) return;
  dir = mkdtempSync(join(tmpdir(), 'kb-known-hosts-'));
  pub.K1 = keygen('k1', 'ed25519');
  pub.K2 = keygen('k2', 'ed25519');
  pub.K3 = keygen('k3', 'ed25519');
  pub.E = keygen('e', 'ecdsa');
  presented = Buffer.from(pub.K1.split(' ')[1]!, 'base64');
  mainFile = write('main', MAIN(pub));
  hashedFile = write('hashed', HASHED_SOURCE(pub));
  execFileSync('ssh-keygen', ['-q', '-H', '-f', hashedFile], { stdio: 'ignore' });
  writeFileSync(join(dir, 'sshd_config'), [
    `HostKey ${join(dir, 'k1')}`,
    'UsePAM no', 'PidFile none', 'AuthorizedKeysFile none', 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'LogLevel ERROR',
  ].join('\n') + '\n');
  // sshd refuses to start without its privilege separation directory (Debian creates it only when its own sshd runs)
  if (!sshdWhy) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(!haveKeygen)('known_hosts matching against ssh-keygen -F', () => {
  it('the hashed file really is hashed', () => {
    const text = readFileSync(hashedFile, 'utf8');
    expect(text).not.toMatch(/hashed\.test/);
    expect(text.match(/^\|1\|/gm)).toHaveLength(6);
  });

  for (const [table, rows] of [['plain', MAIN_ROWS], ['hashed', HASHED_ROWS]] as const) {
    it.each(rows)(`${table}: %s port %i -> %s (%s)`, (host, port, verdict) => {
      const file = table === 'plain' ? mainFile : hashedFile;
      expect(ourLines(file, host, port)).toEqual(opensshLines(file, host, port));
      expect(verifyHostKey([file], host, port, presented).status).toBe(verdict);
    });
  }

  it('names the line that holds the other key, and the @revoked line', () => {
    expect(verifyHostKey([mainFile], 'changed.test', 2222, presented)).toMatchObject({ status: 'changed', file: mainFile, line: 6 });
    expect(verifyHostKey([mainFile], 'revoked.test', 22, presented)).toMatchObject({ status: 'revoked', file: mainFile, line: 12 });
    expect(verifyHostKey([mainFile], 'host.ca.test', 22, presented)).toMatchObject({ status: 'unknown', certAuthority: { file: mainFile, line: 16 } });
  });

  it('reads several files as one list: a @revoked line in one beats a good line in another', () => {
    const a = write('a', [`split.test ${pub.K1}`, `split2.test ${pub.K2}`]);
    const b = write('b', [`@revoked split.test ${pub.K1}`, `split2.test ${pub.K1}`]);
    expect(verifyHostKey([a, b], 'split.test', 22, presented).status).toBe('revoked');
    expect(verifyHostKey([a, b], 'split2.test', 22, presented).status).toBe('known');
    expect(verifyHostKey([a, join(dir, 'missing')], 'split2.test', 22, presented).status).toBe('changed');
  });
});

describe.skipIf(!haveKeygen || sshdWhy !== '')('verdicts confirmed by the ssh client (StrictHostKeyChecking=yes)', () => {
  for (const [table, rows] of [['plain', MAIN_ROWS], ['hashed', HASHED_ROWS]] as const) {
    it.each(rows)(`${table}: %s port %i -> %s`, (host, port, verdict) => {
      const file = table === 'plain' ? mainFile : hashedFile;
      const ours = verifyHostKey([file], host, port, presented);
      const theirs = sshVerdict([file], host, port);
      expect(ours.status).toBe(theirs.status);
      expect(theirs.status).toBe(verdict);
      if (ours.status === 'changed') expect(`${ours.file}:${ours.line}`).toBe(theirs.offending);
    });
  }

  it('several files', () => {
    const a = write('a2', [`split.test ${pub.K1}`, `split2.test ${pub.K2}`]);
    const b = write('b2', [`@revoked split.test ${pub.K1}`, `split2.test ${pub.K1}`]);
    for (const host of ['split.test', 'split2.test']) expect(verifyHostKey([a, b], host, 22, presented).status).toBe(sshVerdict([a, b], host, 22).status);
  });
});

describe.skipIf(!haveKeygen)('accept-new: record once, never over a changed key', () => {
  it.each([22, 2222])('port %i: an unknown key is recorded once, under the name ssh looks up', (port) => {
    const file = join(dir, `record-${port}`, 'known_hosts');
    expect(verifyHostKey([file], 'New.Host.test', port, presented).status).toBe('unknown');
    recordHostKey(file, 'New.Host.test', port, presented);
    const after = readFileSync(file, 'utf8');
    expect(after).toBe(`${knownHostsName('new.host.test', port)} ${pub.K1}\n`);
    expect(verifyHostKey([file], 'New.Host.test', port, presented)).toMatchObject({ status: 'known', line: 1 });
    expect(opensshLines(file, 'new.host.test', port)).toEqual(['1']);
    if (!sshdWhy) expect(sshVerdict([file], 'new.host.test', port).status).toBe('known');
  });

  it.each([22, 2222])('port %i: a changed key may not be recorded', (port) => {
    const file = write(`changed-${port}`, [`${knownHostsName('rebuilt.test', port)} ${pub.K2}`]);
    const v = verifyHostKey([file], 'rebuilt.test', port, presented);
    expect(v.status).toBe('changed');
    expect(mayRecord(v)).toBe(false);
  });

  it('a host under a @cert-authority line is not recorded on first use; a revoked key neither', () => {
    expect(mayRecord(verifyHostKey([mainFile], 'host.ca.test', 22, presented))).toBe(false);
    expect(mayRecord(verifyHostKey([mainFile], 'revoked.test', 22, presented))).toBe(false);
    expect(mayRecord(verifyHostKey([mainFile], 'nowhere.test', 22, presented))).toBe(true);
  });

  it('a file without a final newline keeps its last line whole', () => {
    const file = join(dir, 'no-newline');
    writeFileSync(file, `old.test ${pub.K2}`);
    recordHostKey(file, 'new.test', 2222, presented);
    expect(opensshLines(file, 'old.test', 22)).toEqual(['1']);
    expect(opensshLines(file, 'new.test', 2222)).toEqual(['2']);
  });
});
