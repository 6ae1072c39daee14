/**
 * The run lock and the run log (issue 23, reliability): a second kbootstrap
 * that would change hosts while one runs is refused, naming the holder, and
 * changes nothing; after kill -9 of the holder the next run takes the stale
 * lock over with a warning; a no-op up still costs two round trips per host.
 * A failed run prints the path of its log, which holds the failing command's
 * stderr and no secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { clearFaults, labDown, labExec, labUp, REPO, setFaults, simCalls } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { writeInventory } from './inventory.js';

const SECRET = /\b[a-z0-9]{6}\.[a-z0-9]{16}\b|sha256:[a-f0-9]{64}|\b[a-f0-9]{64}\b/;
const HOSTS = ['lab-01', 'lab-02'];
const LOCK = '/run/kbootstrap/lock';

/** A run in the background, to be killed. */
function start(args: string[], env: Record<string, string>): { child: ChildProcess; done: Promise<void>; output: () => string } {
  const e: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete e.SSH_AUTH_SOCK;
  const child = spawn(process.execPath, [join(REPO, 'bin', 'kbootstrap.js'), ...args], { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  child.stderr!.on('data', (d) => { out += d; });
  const done = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return { child, done, output: () => out };
}

async function until(what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const mutatingCalls = (h: string) => simCalls(h).filter((c) => c.mutating).length;
const lockFile = (h: string) => labExec(h, ['cat', LOCK]);

describe.skipIf(!!LAB_SKIP_REASON)('run lock and run log', () => {
  let inv = '';
  const cache = mkdtempSync(join(tmpdir(), 'kb-cache-'));
  const env = { XDG_CACHE_HOME: cache };
  let first: ReturnType<typeof start> | undefined;
  beforeAll(async () => {
    labDown();
    await labUp({ hosts: 2, family: 'debian' });
    inv = writeInventory();
  });
  afterAll(() => { first?.child.kill('SIGKILL'); clearFaults(); labDown(); });

  it('a second up while one changes the hosts is refused, naming the holder, and changes nothing; plan only warns', async () => {
    // the first run gets stuck in its first change on both hosts
    for (const h of HOSTS) setFaults(h, [{ match: 'swapoff', action: 'hang' }]);
    const calls = Object.fromEntries(HOSTS.map((h) => [h, simCalls(h).length]));
    first = start(['up', inv, '--steps', 'swap'], env);
    await until('the first run to hang in swapoff on both hosts', () => HOSTS.every((h) => simCalls(h).slice(calls[h]).some((c) => c.prog === 'swapoff')));
    const pid = first.child.pid!;
    for (const h of HOSTS) {
      expect(lockFile(h).stdout, h).toMatch(new RegExp(`^session=\\d+ \\d+\\nstate=changing\\ncommand=up\\nuser=${userInfo().username}\\nmachine=${hostname()}\\npid=${pid}\\nsince=\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\n$`));
    }
    const locks = HOSTS.map(lockFile);
    const before = Object.fromEntries(HOSTS.map((h) => [h, mutatingCalls(h)]));

    const second = await kb(['up', inv, '--output', 'json'], { env });
    expect(second.code).toBe(1);
    const holder = `kbootstrap up by ${userInfo().username}@${hostname()} \\(pid ${pid}\\) since \\S+Z`;
    expect(second.json!.hosts.map((h) => h.error)).toEqual(HOSTS.map((h) => expect.stringMatching(new RegExp(`^${h}: locked by ${holder}, whose connection is still open; nothing was changed\\. Wait for that run to end`))));
    expect(new Set(second.json!.steps.map((s) => `${s.status}: ${s.reason}`))).toEqual(new Set(['not-run: not run: another kbootstrap run holds the lock of lab-01, lab-02']));
    // nothing changed by it: no changing call, the holder's lock as it was
    for (const h of HOSTS) expect(mutatingCalls(h), h).toBe(before[h]);
    expect(HOSTS.map(lockFile)).toEqual(locks);
    expect(second.stderr).toMatch(new RegExp(`^kbootstrap: the log of this run: ${cache}/kbootstrap/logs/kbootstrap-\\S+\\.log$`, 'm'));

    // plan reads only: it runs, and says who holds the hosts
    const plan = await kb(['plan', inv, '--steps', 'swap'], { env });
    expect(plan.code).toBe(3);
    expect(plan.stdout + plan.stderr).toMatch(new RegExp(`lab-01: ${holder} holds the run lock: what this shows may change under it`));
    for (const h of HOSTS) expect(mutatingCalls(h), h).toBe(before[h]);
  });

  it('after kill -9 of the holder, the next up takes the stale lock over with a warning, converges and releases it', async () => {
    const pid = first!.child.pid!;
    first!.child.kill('SIGKILL');
    await first!.done;
    clearFaults();
    const r = await kb(['up', inv, '--steps', 'swap', '--output', 'json'], { env });
    expect(notOk(r)).toEqual([]);
    expect(r.code).toBe(0);
    expect(changed(r)).toEqual(['lab-01/swap', 'lab-02/swap']);
    expect([...r.json!.warnings!].sort()).toEqual(HOSTS.map((h) => expect.stringMatching(new RegExp(`^${h}: took over the run lock of kbootstrap up by ${userInfo().username}@${hostname()} \\(pid ${pid}\\) since \\S+Z: that run ended while it was changing this host`))));
    // it changed the hosts, so it released the lock when it closed them
    for (const h of HOSTS) expect(lockFile(h).code, h).not.toBe(0);
  });

  it('a no-op up: the lock costs no round trip (1 per host: facts, lock and checks), and a run that only read needs no release', async () => {
    for (let i = 0; i < 2; i++) {
      const r = await kb(['up', inv, '--steps', 'swap', '--output', 'json'], { env });
      expect(r.code).toBe(0);
      expect(changed(r)).toEqual([]);
      // one for the OS facts, the lock and every check (the facts cached by the runs before)
      expect(r.json!.hosts.map((h) => h.roundTrips)).toEqual([1, 1]);
      // the previous run's lock ended with its connection; nothing was cut off, so nothing to say
      expect(r.json!.warnings).toEqual([]);
      expect(lockFile('lab-01').stdout).toContain('state=reading\n');
    }
  });

  it('a failed run prints the path of its log: the failing command with its stderr, every host and step, no secret, 0600 in 0700', async () => {
    setFaults('lab-02', [{ match: 'kubeadm join', action: 'fail', stderr: 'kblab: the join was refused (for the run log test)', code: 1 }]);
    const r = await kb(['up', inv], { env });
    clearFaults();
    expect(r.code).toBe(1);
    const path = /^kbootstrap: the log of this run: (\S+)$/m.exec(r.stderr)?.[1];
    expect(path, r.stderr).toBeDefined();
    const log = readFileSync(path!, 'utf8');
    expect(statSync(path!).mode & 0o777).toBe(0o600);
    expect(statSync(join(path!, '..')).mode & 0o777).toBe(0o700);
    expect(statSync(join(path!, '..', '..')).mode & 0o777).toBe(0o700);
    expect(log).toMatch(/^# kbootstrap up \S+inventory\.yaml\n/);
    // the failing command, its exit code and stderr, under its host and step
    // the join configuration was written in the same command (on its stdin, not logged); the log keeps
    // what the host printed, with the markers of that command's parts (src/run/coalesce.ts) before it
    expect(log).toMatch(/ lab-02 \[join\] change \(\d+ characters on stdin, not logged\): exit 1 \(\d+ ms\)\n {2}command:\n {4}trap [^\n]* EXIT\n(?: {4}.*\n)*? {4}kb_write \/etc\/kbootstrap\/kubeadm-join\.yaml 600 root:root\n(?: {4}.*\n)*? {4,}kubeadm join --config \/etc\/kbootstrap\/kubeadm-join\.yaml\n(?: {4}.*\n)*?(?: {2}stdout:\n(?: {4}.*\n)*?)? {2}stderr:\n(?: {4}.*\n)*? {4}kblab: the join was refused \(for the run log test\)\n/);
    // the join credentials were in play (fetched, uploaded, used) and never written
    expect(log).toMatch(/ lab-01 \[join\] change: exit 0 \(\d+ ms\)\n {2}command:\n {4}kubeadm token create --print-join-command[^\n]*\n {2}\(output hidden: it may contain secrets\)\n/);
    expect(log).not.toMatch(SECRET);
    // every host's facts and checks, the run's events and its end
    for (const h of HOSTS) expect(log).toMatch(new RegExp(` ${h} \\[connect\\] read: exit 0`));
    expect(log).toContain('lab-02: join: failed (lab-02: join: command failed with exit code 1');
    expect(log).toMatch(/ exit 1\n$/);
  });
});
