/**
 * Where SSH secrets come from: environment variables or an interactive
 * prompt, never the inventory. Resolved once, before any connection.
 */
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';
import { KbError, EXIT } from '../errors.js';
import type { HostSpec } from '../inventory/model.js';
import { expandHome } from '../inventory/load.js';

export interface Credentials {
  /** private key text by path */
  keys: Map<string, string>;
  passphrase?: string;
  password?: string;
  sudoPassword?: string;
  agent?: string;
}

export type Prompt = (message: string) => Promise<string>;

export { expandHome };

function isEncrypted(text: string): boolean {
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error) return /encrypted|passphrase/i.test(parsed.message);
  return false;
}

/** Like ssh-add, which asks three times before giving up. */
const MAX_PASSPHRASE_ATTEMPTS = 3;

function wrongPassphrase(parsed: ReturnType<typeof ssh2.utils.parseKey>): boolean {
  return parsed instanceof Error && /bad decrypt|passphrase|integrity check/i.test(parsed.message);
}

/** Read every key the inventory names, and ask for what is missing (only on a terminal). */
export async function resolveCredentials(hosts: HostSpec[], env: NodeJS.ProcessEnv, prompt?: Prompt): Promise<Credentials> {
  const keys = new Map<string, string>();
  const creds: Credentials = {
    keys,
    passphrase: env.KBOOTSTRAP_SSH_PASSPHRASE,
    password: env.KBOOTSTRAP_SSH_PASSWORD,
    sudoPassword: env.KBOOTSTRAP_SUDO_PASSWORD ?? env.KBOOTSTRAP_SSH_PASSWORD,
    agent: env.SSH_AUTH_SOCK,
  };
  // each key file with the inventory field (or config) that names it, for messages: hosts[2].ssh.privateKeyPath, ssh.bastion.privateKeyPath
  const named = new Map<string, string>();
  const add = (path: string | undefined, field: string) => { if (path && !named.has(path)) named.set(path, field); };
  for (const h of hosts) {
    const sourced = h.ssh.fieldPaths?.privateKeyPath ?? (h.ssh.resolved && h.ssh.privateKeyPath ? 'IdentityFile (ssh config)' : 'ssh.privateKeyPath');
    add(h.ssh.privateKeyPath, sourced);
    add(h.ssh.bastion?.privateKeyPath, h.ssh.fieldPaths?.bastion ? `${h.ssh.fieldPaths.bastion}.privateKeyPath` : 'ssh.bastion.privateKeyPath');
    for (const j of h.ssh.resolved?.jumps ?? []) add(j.privateKeyPath, `IdentityFile of jump host ${j.address}`);
  }
  const paths = new Set(named.keys());
  const field = (p: string) => named.get(p) ?? 'ssh.privateKeyPath';
  const encrypted: string[] = [];
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(expandHome(p), 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new KbError(`${field(p)} ${p}: ${err.code === 'ENOENT' ? 'no such file' : err.code === 'EACCES' ? 'permission denied' : err.message}`, EXIT.usage);
    }
    keys.set(p, text);
    if (isEncrypted(text)) encrypted.push(p);
  }
  // the transport hands one passphrase to every key, so it has to open all the encrypted ones
  const opens = (passphrase: string) => encrypted.every((p) => !wrongPassphrase(ssh2.utils.parseKey(keys.get(p)!, passphrase)));
  if (encrypted.length && creds.passphrase === undefined) {
    if (!prompt) throw new KbError(`the private key ${encrypted.join(', ')} is encrypted: set KBOOTSTRAP_SSH_PASSPHRASE (no terminal to ask on)`, EXIT.usage);
    const which = encrypted.join(', ');
    for (let attempt = 1; ; attempt++) {
      const answer = await prompt(attempt === 1 ? `Passphrase for ${which}:` : `Wrong passphrase, try again. Passphrase for ${which}:`);
      if (opens(answer)) { creds.passphrase = answer; break; }
      if (attempt === MAX_PASSPHRASE_ATTEMPTS) throw new KbError(`${field(encrypted[0]!)} ${which}: wrong passphrase (${attempt} attempts)`, EXIT.usage);
    }
  }
  for (const [p, text] of keys) {
    const parsed = ssh2.utils.parseKey(text, creds.passphrase);
    if (parsed instanceof Error) throw new KbError(`${field(p)} ${p}: ${wrongPassphrase(parsed) ? `wrong passphrase${env.KBOOTSTRAP_SSH_PASSPHRASE !== undefined ? ' (from KBOOTSTRAP_SSH_PASSPHRASE)' : ''}` : parsed.message}`, EXIT.usage);
  }
  if (paths.size === 0 && !creds.agent && creds.password === undefined) {
    if (!prompt) throw new KbError('no SSH credentials: set ssh.privateKeyPath in the inventory, run an ssh-agent, or set KBOOTSTRAP_SSH_PASSWORD', EXIT.usage);
    creds.password = await prompt('SSH password:');
    creds.sudoPassword ??= creds.password;
  }
  return creds;
}
