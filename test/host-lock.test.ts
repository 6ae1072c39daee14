/** The run lock's scripts (they never appear in a dry run, so the goldens do not lint them) and what kbootstrap makes of their answer. */
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { judgeLock, lockScript, markChangingScript, parseLockAnswer, releaseScript, type LockRequest } from '../src/run/host-lock.js';

const me = { command: 'up', user: "o'brien", machine: 'laptop', pid: 4242, since: '2026-12-05T10:00:00Z' };
const take: LockRequest = { mode: 'take', me };

describe('run lock', () => {
  it('every script passes bash -n and shellcheck, and the holder reaches the shell quoted', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-lock-'));
    const scripts = { take: lockScript(take), observe: lockScript({ mode: 'observe', me }), changing: markChangingScript(), release: releaseScript() };
    for (const [name, s] of Object.entries(scripts)) {
      const f = join(dir, `${name}.sh`);
      writeFileSync(f, `set -euo pipefail\n${s}`);
      expect(spawnSync('bash', ['-n', f]).status, name).toBe(0);
      const r = spawnSync('shellcheck', ['-s', 'bash', '-f', 'gcc', f], { encoding: 'utf8' });
      if (r.error) throw new Error(`shellcheck is required for this test: ${r.error.message}`);
      expect(r.stdout, name).toBe('');
    }
    expect(scripts.take).toContain("'user=o'\\''brien'");
    expect(scripts.observe).not.toContain('mkdir');
  });

  it('a live holder refuses a run that changes hosts and only warns a read-only one', () => {
    const held = parseLockAnswer('ID=debian\nKB_LOCK=held\nKB_LOCK_HOLDER_session=12 345\nKB_LOCK_HOLDER_state=changing\nKB_LOCK_HOLDER_command=up\nKB_LOCK_HOLDER_user=alice\nKB_LOCK_HOLDER_machine=ws\x1b]0;x\x07\nKB_LOCK_HOLDER_pid=77\nKB_LOCK_HOLDER_since=2026-12-05T09:00:00Z\n');
    expect(held.status).toBe('held');
    expect(judgeLock('lab-01', take, held).error!.message).toBe('lab-01: locked by kbootstrap up by alice@ws?]0;x? (pid 77) since 2026-12-05T09:00:00Z, whose connection is still open; nothing was changed. Wait for that run to end (the lock goes with its SSH connection)');
    expect(judgeLock('lab-01', { mode: 'observe', me }, held)).toEqual({ warning: 'lab-01: kbootstrap up by alice@ws?]0;x? (pid 77) since 2026-12-05T09:00:00Z holds the run lock: what this shows may change under it' });
  });

  it('a stale lock is taken over: with a warning when its run was changing the host, silently when it only read', () => {
    const stale = (state: string) => parseLockAnswer(`KB_LOCK=stale\nKB_LOCK_HOLDER_state=${state}\nKB_LOCK_HOLDER_command=reset\nKB_LOCK_HOLDER_user=bob\nKB_LOCK_HOLDER_machine=m\nKB_LOCK_HOLDER_pid=9\nKB_LOCK_HOLDER_since=s\nKB_LOCK=taken\n`);
    expect(stale('changing').status).toBe('stale-taken');
    expect(judgeLock('h', take, stale('changing')).warning).toMatch(/^h: took over the run lock of kbootstrap reset by bob@m \(pid 9\) since s: that run ended while it was changing this host/);
    expect(judgeLock('h', take, stale('reading'))).toEqual({});
    expect(judgeLock('h', take, parseLockAnswer('KB_LOCK=taken\n'))).toEqual({});
    expect(judgeLock('h', take, parseLockAnswer('KB_LOCK=error\n')).error!.message).toBe('h: cannot take the run lock in /run/kbootstrap (the lock script failed)');
    expect(judgeLock('h', take, parseLockAnswer('ID=debian\n')).error!.message).toBe('h: cannot take the run lock in /run/kbootstrap (no answer)');
  });
});
