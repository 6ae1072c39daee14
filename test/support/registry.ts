/**
 * A real registry for the tests: Debian's docker-registry (distribution 2.8,
 * fetched from trixie by test/support/debian-suites.ts), serving TLS with a
 * certificate from a lab CA made with openssl and htpasswd (bcrypt) credentials.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchOrSkip } from './debian-suites.js';

/** docker-registry from trixie, or the reason it cannot be had. */
export function registryBinary(): { bin: string } | { skip: string } {
  const u = fetchOrSkip('trixie', 'docker-registry', ['docker-registry']);
  return 'skip' in u ? u : { bin: join(u.root, 'usr/bin/docker-registry') };
}

/**
 * bcrypt htpasswd line (distribution's htpasswd auth takes bcrypt only): Python's crypt over libxcrypt, at cost 5,
 * the default of Apache's `htpasswd -B` (htpasswd(1), -C; read 2026-12-07). Python's own default is cost 12, and the
 * registry checks the hash on every authenticated request (each blob and manifest of a push or pull): 0.3 s of CPU
 * each at cost 12 on this machine against 0.004 s at cost 5, which made a test's two `bundle --push` runs take 49 s.
 */
export function htpasswd(user: string, password: string): string {
  return execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(sys.argv[1] + ":" + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=32)))', user, password], { encoding: 'utf8' });
}

/** A CA and, signed by it, a server certificate for the IPv4 address `ip` (or each of several). */
export function labCa(dir: string, name: string, ip: string | string[] = '127.0.0.1'): { ca: string; cert: string; key: string } {
  const ips = [ip].flat();
  mkdirSync(dir, { recursive: true });
  const o = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  o(['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', `/CN=${name}`]);
  o(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', `/CN=${ips[0]}`]);
  writeFileSync(join(dir, 'ext'), `subjectAltName=${ips.map((i) => `IP:${i}`).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  o(['x509', '-req', '-in', 'srv.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.crt', '-days', '2', '-extfile', 'ext']);
  return { ca: join(dir, 'ca.crt'), cert: join(dir, 'srv.crt'), key: join(dir, 'srv.key') };
}

/** The registry's configuration: filesystem storage under dir, TLS, htpasswd auth. */
export function registryConfig(dir: string, addr: string, tls: { cert: string; key: string }, users: Record<string, string>): string {
  writeFileSync(join(dir, 'htpasswd'), Object.entries(users).map(([u, p]) => htpasswd(u, p)).join(''));
  const file = join(dir, 'registry.yml');
  writeFileSync(file, [
    'version: 0.1', 'log: { level: info }', `storage: { filesystem: { rootdirectory: ${join(dir, 'data')} } }`,
    'http:', `  addr: ${addr}`, `  tls: { certificate: ${tls.cert}, key: ${tls.key} }`,
    `auth: { htpasswd: { realm: kb-lab, path: ${join(dir, 'htpasswd')} } }`, '',
  ].join('\n'));
  return file;
}

/** Start `argv` and resolve once its output matches `ready` (rejects when it exits or takes 20 s). */
export function startUntil(argv: string[], ready: RegExp, what: string, procs: ChildProcess[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    procs.push(p);
    const lines: string[] = [];
    let log = '';
    const on = (b: Buffer) => {
      log += b.toString();
      lines.push(...b.toString().split('\n').filter(Boolean));
      if (ready.test(log)) resolve(lines);
    };
    p.stdout!.on('data', on);
    p.stderr!.on('data', on);
    p.once('exit', (c) => reject(new Error(`${what} exited (${c}):\n${log}`)));
    setTimeout(() => reject(new Error(`${what} did not start:\n${log}`)), 20_000);
  });
}
