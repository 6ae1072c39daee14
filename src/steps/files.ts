/**
 * Files a step owns entirely: the check prints each file's sha256 and mode,
 * the parser compares them with what the inventory asks for, and apply
 * uploads only the ones that differ.
 */
import { createHash } from 'node:crypto';
import { render } from '../shell/templates.js';
import type { ManagedFile, StepHost } from './types.js';

export type { ManagedFile } from './types.js';
import type { CheckOutput } from '../transport/types.js';


export function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

export function fileStateCheck(files: ManagedFile[]): string {
  return files.length ? render('common/file-state', { paths: files.map((f) => f.path) }) : '';
}

export interface FileState {
  path: string;
  state: 'same' | 'missing' | 'differs' | 'mode';
}

export function parseFileStates(out: CheckOutput, files: ManagedFile[]): FileState[] {
  const seen = new Map<string, string[]>();
  for (const line of out.stdout.split('\n')) {
    const m = /^file=(\S+) (.*)$/.exec(line);
    if (m) seen.set(m[1]!, m[2]!.split(' '));
  }
  return files.map((f) => {
    const s = seen.get(f.path);
    if (!s || s[0] === 'missing') return { path: f.path, state: 'missing' as const };
    if (s[0] !== sha256(f.content)) return { path: f.path, state: 'differs' as const };
    if (Number.parseInt(s[1] ?? '', 8) !== Number.parseInt(f.mode, 8)) return { path: f.path, state: 'mode' as const };
    return { path: f.path, state: 'same' as const };
  });
}

export function describeFileStates(states: FileState[]): string[] {
  return states.filter((s) => s.state !== 'same').map((s) =>
    s.state === 'missing' ? `${s.path} missing` : s.state === 'mode' ? `${s.path} has the wrong mode` : `${s.path} differs`);
}

export async function uploadFiles(host: StepHost, files: ManagedFile[], states?: FileState[]): Promise<string[]> {
  const changed: string[] = [];
  for (const f of files) {
    const st = states?.find((s) => s.path === f.path);
    if (st && st.state === 'same') continue;
    await host.upload(f.content, f.path, { mode: f.mode, owner: f.owner, secrets: f.secrets });
    changed.push(f.path);
  }
  return changed;
}
