/**
 * The passwords of cluster.registries: read from the environment or the file
 * the inventory names, by the commands that connect to hosts, once, before any
 * connection (like the SSH secrets of src/ssh/credentials.ts), and handed to
 * the steps as each registry's Authorization header. The password and the
 * header go to the run's Redactor: neither appears in any output or log.
 */
import { readFileSync, statSync } from 'node:fs';
import { KbError, EXIT } from '../errors.js';
import type { Inventory } from '../inventory/model.js';
import { expandHome } from '../inventory/load.js';

/** A password file holds one line: a longer file is not a password file. */
const MAX_PASSWORD_FILE_BYTES = 4096;

/** host -> `Basic base64(user:password)`, and the values to hide in every output (each password and its base64 form). */
export function readRegistryAuth(inv: Pick<Inventory, 'cluster'>, env: NodeJS.ProcessEnv): { auth: Map<string, string>; secrets: string[] } {
  const out = new Map<string, string>();
  const secrets: string[] = [];
  for (const r of inv.cluster.registries) {
    const c = r.credentials;
    if (!c) continue;
    const field = `cluster.registries[${r.index}].credentials`;
    let password: string;
    if (c.passwordEnv) {
      const v = env[c.passwordEnv];
      if (v === undefined || v === '') throw new KbError(`${field}.passwordEnv: the environment variable ${c.passwordEnv} is not set (the password of ${c.username} at the registry ${r.host})`, EXIT.usage);
      password = v;
    } else {
      const path = expandHome(c.passwordFile!);
      let text: string;
      try {
        const st = statSync(path);
        if (!st.isFile()) throw new KbError(`${field}.passwordFile: ${path} is not a regular file`, EXIT.usage);
        if (st.size > MAX_PASSWORD_FILE_BYTES) throw new KbError(`${field}.passwordFile: ${path} is ${st.size} bytes: expected the password on one line`, EXIT.usage);
        text = readFileSync(path, 'utf8');
      } catch (e) {
        if (e instanceof KbError) throw e;
        throw new KbError(`${field}.passwordFile: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, EXIT.usage);
      }
      const lines = text.replace(/\r?\n$/, '').split(/\r?\n/);
      if (lines.length !== 1 || !lines[0]) throw new KbError(`${field}.passwordFile: ${path} must hold the password on one line, and nothing else`, EXIT.usage);
      password = lines[0];
    }
    if (/[\0\r\n]/.test(password)) throw new KbError(`${field}: the password of ${r.host} holds a control character`, EXIT.usage);
    const token = Buffer.from(`${c.username}:${password}`, 'utf8').toString('base64');
    secrets.push(password, token);
    out.set(r.host, `Basic ${token}`);
  }
  return { auth: out, secrets };
}
