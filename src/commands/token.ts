/**
 * kbootstrap token: the one command that prints a secret, and only when
 * asked, only to stdout. Also list (ids only, never secrets) and revoke.
 */
import type { Inventory } from '../inventory/model.js';
import { Session, type SessionFlags } from '../session.js';
import { KbError, UsageError, EXIT } from '../errors.js';
import { goDuration, parseDuration } from '../duration.js';
import { parseCertificateKey, tokenCreateScript, tokenDeleteScript, uploadCertsScript } from '../run/join-credentials.js';
import { render } from '../shell/templates.js';
import type { Io } from '../io.js';
import { table } from '../table.js';
import type { Prompt } from '../ssh/credentials.js';

export interface TokenFlags extends SessionFlags { ttl: string; controlPlane?: boolean; force?: boolean; output?: 'text' | 'json' }

export function checkTtl(ttl: string, force: boolean | undefined): number {
  const seconds = parseDuration(ttl);
  if (seconds === undefined) throw new UsageError(`--ttl ${JSON.stringify(ttl)}: expected a duration like 30m, 2h or 24h, or seconds`);
  if (seconds === 0 && !force) throw new UsageError('--ttl 0 makes a token that never expires: anyone who ever sees it can join nodes forever. Pass --force if you mean it');
  return seconds;
}

export async function tokenCreate(inv: Inventory, o: TokenFlags, io: Io, prompt?: Prompt): Promise<number> {
  checkTtl(o.ttl, o.force);
  const s = await Session.open(inv, o, prompt, inv.hosts.filter((h) => h.role === 'control-plane'));
  try {
    const cp = await s.controlPlane();
    const res = await cp.exec(tokenCreateScript(goDuration(o.ttl), 'kbootstrap token'), { step: 'token', mutates: true, secretOutput: true });
    let line = res.stdout.trim().split('\n').find((l) => l.startsWith('kubeadm join'));
    if (!line) throw new KbError(`${cp.name}: kubeadm token create printed no join command`);
    if (o.controlPlane) {
      const key = parseCertificateKey((await cp.exec(uploadCertsScript(), { step: 'token', mutates: true, secretOutput: true })).stdout);
      line += ` --control-plane --certificate-key ${key}`;
    }
    if (o.output === 'json') {
      io.out(JSON.stringify({ joinCommand: line, ttl: o.ttl, controlPlane: Boolean(o.controlPlane) }, null, 2) + '\n');
      return EXIT.ok;
    }
    if (io.isTTY) io.err(`warning: this join command is a secret: whoever has it can join ${o.controlPlane ? 'control planes' : 'nodes'} to ${inv.cluster.name} until it expires (${o.ttl === '0' ? 'never' : o.ttl}${o.controlPlane ? '; the certificate key for 2h' : ''})\n`);
    io.out(`${line}\n`);
    return EXIT.ok;
  } finally {
    await s.close();
  }
}

export interface ListedToken { id: string; ttl: string; expires: string; description: string }

/**
 * `kubeadm token list -o json` prints one JSON object per token, one after
 * another (BootstrapToken of output.kubeadm.k8s.io); only the public id is kept.
 */
export function parseTokenList(stdout: string): ListedToken[] {
  const tokens: ListedToken[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < stdout.length; i++) {
    const ch = stdout[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') { if (depth++ === 0) start = i; }
    else if (ch === '}' && --depth === 0) {
      const o = JSON.parse(stdout.slice(start, i + 1)) as { token?: string; ttl?: string; expires?: string; description?: string };
      const id = /^([a-z0-9]{6})\./.exec(o.token ?? '')?.[1];
      if (id) tokens.push({ id, ttl: o.ttl ?? '<forever>', expires: o.expires ?? '<never>', description: o.description ?? '<none>' });
    }
  }
  return tokens;
}

export async function tokenList(inv: Inventory, o: SessionFlags & { output?: 'text' | 'json' }, io: Io, prompt?: Prompt): Promise<number> {
  const s = await Session.open(inv, o, prompt, inv.hosts.filter((h) => h.role === 'control-plane'));
  try {
    const cp = await s.controlPlane();
    const res = await cp.exec(render('join-credentials/token-list', {}), { step: 'token', mutates: false, secretOutput: true });
    const tokens = parseTokenList(res.stdout);
    if (o.output === 'json') io.out(JSON.stringify({ tokens }, null, 2) + '\n');
    else io.out(table([['ID', 'TTL', 'EXPIRES', 'DESCRIPTION'], ...tokens.map((t) => [t.id, t.ttl, t.expires, t.description])]));
    return EXIT.ok;
  } finally {
    await s.close();
  }
}

export async function tokenRevoke(inv: Inventory, id: string, o: SessionFlags & { output?: 'text' | 'json' }, io: Io, prompt?: Prompt): Promise<number> {
  const tokenId = id.split('.')[0]!;
  if (!/^[a-z0-9]{6}$/.test(tokenId)) throw new UsageError(`token id ${JSON.stringify(id)}: expected the 6-character id shown by kbootstrap token list`);
  const s = await Session.open(inv, o, prompt, inv.hosts.filter((h) => h.role === 'control-plane'));
  try {
    const cp = await s.controlPlane();
    const res = await cp.exec(tokenDeleteScript([tokenId]), { step: 'token', mutates: true, allowFailure: true });
    if (res.code !== 0) throw new KbError(`${cp.name}: ${res.stderr.trim().split('\n')[0]}`);
    io.out(o.output === 'json' ? JSON.stringify({ revoked: tokenId }, null, 2) + '\n' : `token ${tokenId} revoked\n`);
    return EXIT.ok;
  } finally {
    await s.close();
  }
}
