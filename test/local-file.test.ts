/**
 * Files kbootstrap writes on the operator's machine (issue 23): the admin
 * kubeconfig through a temporary name nobody can plant, mode 0600 even when
 * nothing changed, and a full or read-only disk as one line, exit 2, with no
 * temporary file left behind.
 */
import { lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { rewriteAdminConf, saveKubeconfig } from '../src/commands/kubeconfig.js';
import { loadInventoryFile } from '../src/inventory/load.js';
import { KbError } from '../src/errors.js';
import { mountSkip, withTmpfs } from './support/mounts.js';

if (mountSkip) console.warn(`local-file.test: ${mountSkip}: the full-disk and read-only cases are SKIPPED`);

const inv = loadInventoryFile(join(import.meta.dirname, '..', 'inventories', 'rocky-ha.yaml')).inventory;
const ADMIN = 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://192.168.60.11:6443\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: kubernetes-admin\n  name: kubernetes-admin@kubernetes\ncurrent-context: kubernetes-admin@kubernetes\nusers:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n';
const cfg = rewriteAdminConf(ADMIN, inv);
const TEXT = stringify(cfg);

const tmp = () => mkdtempSync(join(tmpdir(), 'kb-localfs-'));
const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
const quietIo = () => { const o = { out: '', err: '' }; return { o, io: { out: (s: string) => { o.out += s; }, err: (s: string) => { o.err += s; }, isTTY: false } }; };

/** What saveKubeconfig threw, as the CLI would show it. */
function refusal(fn: () => unknown): { message: string; exitCode: number } {
  try { fn(); } catch (e) {
    if (e instanceof KbError) return { message: e.message, exitCode: e.exitCode };
    return { message: `not a KbError (the CLI shows a stack trace): ${(e as Error).message}`, exitCode: 1 };
  }
  throw new Error('it did not fail');
}

describe('kubeconfig -o FILE / --merge', () => {
  it('does not write through a name planted where the temporary file goes (the old name was FILE.kbootstrap-PID)', () => {
    const dir = tmp();
    const out = join(dir, 'admin.conf');
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched\n', { mode: 0o644 });
    // the old temporary name is predictable from the pid: in a shared directory anyone can plant it
    symlinkSync(victim, `${out}.kbootstrap-${process.pid}`);
    const { io } = quietIo();
    expect(saveKubeconfig(cfg, inv, { file: out }, io, {})).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    expect(mode(victim)).toBe('644');
    expect(lstatSync(out).isFile()).toBe(true);
    expect(readFileSync(out, 'utf8')).toBe(TEXT);
    expect(mode(out)).toBe('600');
  });

  it('an identical file at 0644 ends 0600 (-o)', () => {
    const out = join(tmp(), 'admin.conf');
    writeFileSync(out, TEXT, { mode: 0o644 });
    const { o, io } = quietIo();
    expect(saveKubeconfig(cfg, inv, { file: out }, io, {})).toBe(0);
    expect(o.out).toBe(`${out}: already up to date\n`);
    expect(mode(out)).toBe('600');
  });

  it('an identical file at 0644 ends 0600 (--merge)', () => {
    const path = join(tmp(), 'config');
    writeFileSync(path, stringify(cfg), { mode: 0o644 });
    const { o, io } = quietIo();
    expect(saveKubeconfig(cfg, inv, { merge: true }, io, { KUBECONFIG: path })).toBe(0);
    expect(o.out).toContain('already up to date');
    expect(mode(path)).toBe('600');
  });

  it('leaves nothing but the file in its directory', () => {
    const dir = tmp();
    const { io } = quietIo();
    saveKubeconfig(cfg, inv, { merge: true }, io, { KUBECONFIG: join(dir, 'sub', 'config') });
    expect(readdirSync(join(dir, 'sub'))).toEqual(['config']);
    expect(mode(join(dir, 'sub'))).toBe('700');
    expect(mode(join(dir, 'sub', 'config'))).toBe('600');
  });

  it('a directory where the file should be: one line, exit 2', () => {
    const dir = tmp();
    mkdirSync(join(dir, 'admin.conf'));
    const { io } = quietIo();
    expect(refusal(() => saveKubeconfig(cfg, inv, { file: join(dir, 'admin.conf') }, io, {}))).toEqual({ message: `cannot write ${join(dir, 'admin.conf')}: is a directory`, exitCode: 2 });
  });

  it.skipIf(mountSkip)('a full disk: one line naming the file, exit 2, no temporary file left (-o and --merge)', async () => {
    await withTmpfs('full', (dir) => {
      const { io } = quietIo();
      const out = join(dir, 'admin.conf');
      expect(refusal(() => saveKubeconfig(cfg, inv, { file: out }, io, {}))).toEqual({ message: `cannot write ${out}: no space left on the device`, exitCode: 2 });
      expect(refusal(() => saveKubeconfig(cfg, inv, { merge: true }, io, { KUBECONFIG: join(dir, 'config') }))).toEqual({ message: `cannot write ${join(dir, 'config')}: no space left on the device`, exitCode: 2 });
      expect(readdirSync(dir)).toEqual(['filler']);
    });
  });

  it.skipIf(mountSkip)('a read-only file system: one line naming the file, exit 2', async () => {
    await withTmpfs('read-only', (dir) => {
      const { io } = quietIo();
      const out = join(dir, 'admin.conf');
      expect(refusal(() => saveKubeconfig(cfg, inv, { file: out }, io, {}))).toEqual({ message: `cannot write ${out}: read-only file system`, exitCode: 2 });
      expect(readdirSync(dir)).toEqual([]);
    });
  });
});
