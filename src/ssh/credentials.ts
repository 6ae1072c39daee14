/**
 * Where SSH secrets come from: environment variables or an interactive
 * prompt, never the inventory. Resolved once, before any connection.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import ssh2 from 'ssh2';
import { KbError, EXIT } from '../errors.js';
import type { HostSpec } from '../inventory/model.js';

export interface Credentials {
  /** private key text by path */
  keys: Map<string, string>;
  passphrase?: string;
  password?: string;
  sudoPassword?: string;
  agent?: string;
}

export type Prompt = (message: string) => Promise<string>;

export function expandHome(p: string): string {
  return p === '~' ? homedir() : p.startsWith('~/') ? `${homedir()}/${p.slice(2)}` : p;
}

function isEncrypted(text: string): boolean {
  const parsed = ssh2.utils.parseKey(text);
  if (parsed instanceof Error) return /encrypted|passphrase/i.test(parsed.message);
  return false;
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
  const paths = new Set<string>();
  for (const h of hosts) {
    if (h.ssh.privateKeyPath) paths.add(h.ssh.privateKeyPath);
    if (h.ssh.bastion?.privateKeyPath) paths.add(h.ssh.bastion.privateKeyPath);
  }
  let needPassphrase = false;
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(expandHome(p), 'utf8');
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new KbError(`ssh.privateKeyPath ${p}: ${err.code === 'ENOENT' ? 'no such file' : err.message}`, EXIT.usage);
    }
    keys.set(p, text);
    if (isEncrypted(text)) needPassphrase = true;
  }
  if (needPassphrase && creds.passphrase === undefined) {
    if (!prompt) throw new KbError('the private key is encrypted: set KBOOTSTRAP_SSH_PASSPHRASE (no terminal to ask on)', EXIT.usage);
    creds.passphrase = await prompt('Passphrase for the SSH private key:');
  }
  for (const [p, text] of keys) {
    const parsed = ssh2.utils.parseKey(text, creds.passphrase);
    if (parsed instanceof Error) throw new KbError(`ssh.privateKeyPath ${p}: ${/bad decrypt|passphrase/i.test(parsed.message) ? 'wrong passphrase' : parsed.message}`, EXIT.usage);
  }
  if (paths.size === 0 && !creds.agent && creds.password === undefined) {
    if (!prompt) throw new KbError('no SSH credentials: set ssh.privateKeyPath in the inventory, run an ssh-agent, or set KBOOTSTRAP_SSH_PASSWORD', EXIT.usage);
    creds.password = await prompt('SSH password:');
    creds.sudoPassword ??= creds.password;
  }
  return creds;
}
