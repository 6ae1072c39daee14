/**
 * What users get when things go wrong: one clear line naming the host, the
 * other hosts finishing their phase, exit 1 (2 for bad input), nothing
 * half-written, and a re-run that picks up where the failed one stopped.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LAB_SKIP_REASON } from '../lab/support.js';
import { clearFaults, LAB_DIR, labDown, labExec, labUp, setFaults, upperDir, USERS } from '../lab/lab.js';
import { kb, changed, notOk } from './cli.js';
import { writeInventory } from './inventory.js';

function failures(r: { json?: { steps: { host: string; step: string; status: string; reason: string }[] } }): string[] {
  return (r.json?.steps ?? []).filter((s) => s.status === 'failed').map((s) => `${s.host}/${s.step}: ${s.reason}`);
}

function walk(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

describe.skipIf(!!LAB_SKIP_REASON)('faults', () => {
  let hosts: { name: string; address: string }[] = [];
  beforeAll(async () => {
    labDown();
    hosts = (await labUp({ hosts: 2, centos7Repos: 'vault', family: 'rhel' })).hosts;
  });
  afterAll(() => { clearFaults(); labDown(); });

  it('an unreachable host fails alone with a clear line; the other host is checked', async () => {
    const inv = writeInventory({ hosts: [hosts[0]!, { name: 'lab-09', address: '10.213.0.99' }] });
    const r = await kb(['plan', inv, '--output', 'json']);
    expect(r.code).toBe(1);
    expect(r.json!.hosts.find((h) => h.host === 'lab-09')!.error).toMatch(/^lab-09: (no answer from 10\.213\.0\.99:22 within 3s|10\.213\.0\.99 is unreachable)$/);
    expect(r.json!.steps.filter((s) => s.host === 'lab-01' && s.status === 'would-change').length).toBeGreaterThan(5);
  });

  it('a refused connection', async () => {
    const inv = writeInventory({ hostSsh: { 'lab-02': { port: 2222 } } });
    const r = await kb(['plan', inv, '--output', 'json']);
    expect(r.code).toBe(1);
    expect(r.json!.hosts.find((h) => h.host === 'lab-02')!.error).toBe('lab-02: connection refused by 10.213.0.12:2222 (is sshd running?)');
  });

  it('a wrong password, then the right one (also fed to sudo -S)', async () => {
    const inv = writeInventory({ user: 'kbpw', ssh: { privateKeyPath: undefined } });
    const bad = await kb(['plan', inv, '--output', 'json'], { env: { KBOOTSTRAP_SSH_PASSWORD: 'not-the-password' } });
    expect(bad.code).toBe(1);
    expect(bad.json!.hosts[0]!.error).toBe('lab-01: authentication failed for 10.213.0.11:22 (wrong key or password, or the user may not log in)');
    const good = await kb(['plan', inv, '--output', 'json'], { env: { KBOOTSTRAP_SSH_PASSWORD: USERS.kbpw.password } });
    expect(failures(good)).toEqual([]);
    expect(good.code).toBe(3);
    expect(good.stdout).not.toContain(USERS.kbpw.password);
  });

  it('a missing key file is bad input: exit 2 before connecting', async () => {
    const inv = writeInventory({ ssh: { privateKeyPath: '/nonexistent/id_ed25519' } });
    const r = await kb(['plan', inv]);
    expect(r.code).toBe(2);
    // one message naming the field, last (issue 25 point 6: a warning and then the same words as an error said it twice);
    // other warnings (the lab's minor past its end of life) may come before it
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines.filter((l) => l.includes('/nonexistent/id_ed25519'))).toEqual(['kbootstrap: ssh.privateKeyPath /nonexistent/id_ed25519: no such file']);
    expect(lines.at(-1)).toBe('kbootstrap: ssh.privateKeyPath /nonexistent/id_ed25519: no such file');
  });

  it('sudo that needs a password nobody gave', async () => {
    const inv = writeInventory({ user: 'kbpw' });
    const r = await kb(['plan', inv, '--output', 'json']);
    expect(r.code).toBe(1);
    expect(r.json!.hosts.map((h) => h.error)).toEqual([
      'lab-01: kbpw cannot use sudo without a password: set KBOOTSTRAP_SUDO_PASSWORD, or give the user NOPASSWD sudo rights',
      'lab-02: kbpw cannot use sudo without a password: set KBOOTSTRAP_SUDO_PASSWORD, or give the user NOPASSWD sudo rights',
    ]);
  });

  it('host keys: a changed key is always refused; an unknown one only with --accept-new-host-keys, which records it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-kh-'));
    const lines = readFileSync(join(LAB_DIR, 'known_hosts'), 'utf8').trim().split('\n');
    const swapped = join(dir, 'swapped');
    writeFileSync(swapped, `${hosts[1]!.address} ${lines[0]!.split(' ').slice(1).join(' ')}\n${lines[0]}\n`);
    const changedKey = await kb(['plan', writeInventory({ ssh: { knownHostsPath: swapped } }), '--output', 'json', '--accept-new-host-keys']);
    expect(changedKey.code).toBe(1);
    expect(changedKey.json!.hosts[1]!.error).toMatch(new RegExp(`^lab-02: HOST KEY CHANGED for 10\\.213\\.0\\.12:22: it now presents SHA256:[A-Za-z0-9+/]{43}, ${swapped}:1 holds another key; refusing to connect`));

    const empty = join(dir, 'empty');
    writeFileSync(empty, '');
    const unknown = await kb(['plan', writeInventory({ ssh: { knownHostsPath: empty } }), '--output', 'json']);
    expect(unknown.code).toBe(1);
    expect(unknown.json!.hosts[0]!.error).toMatch(/^lab-01: unknown host key SHA256:[A-Za-z0-9+/]{43} for 10\.213\.0\.11:22: check it, then add it to known_hosts or rerun with --accept-new-host-keys$/);
    const accepted = await kb(['plan', writeInventory({ ssh: { knownHostsPath: empty } }), '--output', 'json', '--accept-new-host-keys']);
    expect(failures(accepted)).toEqual([]);
    expect(readFileSync(empty, 'utf8').trim().split('\n').sort()).toEqual(lines.sort());
  });

  it('a failing package install: the host and step, the command and the end of its stderr; the other host finishes', async () => {
    // every attempt fails (kb_retry tries three times)
    setFaults('lab-02', [{ match: 'yum install', action: 'fail', stderr: "Error: Failed to download metadata for repo 'docker-ce-stable': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried" }]);
    const inv = writeInventory();
    const r = await kb(['up', inv, '--steps', 'container-runtime', '--output', 'json']);
    expect(r.code).toBe(1);
    expect(failures(r)).toEqual([
      `lab-02/container-runtime: lab-02: container-runtime: command failed with exit code 1: kb_retry 3 5 yum install -y containerd.io\n${"    Error: Failed to download metadata for repo 'docker-ce-stable': Cannot download repomd.xml: Cannot download repodata/repomd.xml: All mirrors were tried\n".repeat(3).trimEnd()}`,
    ]);
    expect(changed(r)).toEqual(['lab-01/container-runtime']);
    expect(walk(upperDir('lab-02')).filter((f) => /\.kbootstrap\.[A-Za-z0-9]{6}$/.test(f))).toEqual([]);
    clearFaults();
  });

  it('a command that hangs is stopped at its timeout', async () => {
    setFaults('lab-02', [{ match: 'rpm -q', action: 'hang' }]);
    const r = await kb(['up', writeInventory(), '--steps', 'kube-packages', '--command-timeout', '3', '--output', 'json']);
    clearFaults();
    expect(failures(r), r.stdout + r.stderr).toEqual(['lab-02/kube-packages: lab-02: kube-packages: timed out after 3s']);
    expect(r.code).toBe(1);
    expect(r.json!.steps.find((s) => s.host === 'lab-01' && s.step === 'kube-packages')!.status).toBe('changed');
  });

  it('a connection dropped mid-step: exit 1 with the reason, and the next run resumes and converges', async () => {
    setFaults('lab-02', [{ match: 'swapoff', action: 'drop', times: 1 }]);
    const inv = writeInventory();
    const r = await kb(['up', inv, '--steps', 'swap,kernel-modules,sysctl', '--output', 'json']);
    expect(r.code).toBe(1);
    expect(failures(r)).toEqual(['lab-02/swap: lab-02: swap: the connection dropped while the command ran; run kbootstrap again to resume']);
    expect(r.json!.steps.find((s) => s.host === 'lab-02' && s.step === 'sysctl')!.status).toBe('not-run');
    // (the version gate runs on the first control plane whatever --steps says: no cluster yet, so ok)
    expect(r.json!.steps.filter((s) => s.host === 'lab-01').map((s) => `${s.step} ${s.status}`)).toEqual(['cluster-version ok', 'swap changed', 'kernel-modules changed', 'sysctl changed']);
    const again = await kb(['up', inv, '--steps', 'swap,kernel-modules,sysctl', '--output', 'json']);
    expect(notOk(again)).toEqual([]);
    expect(again.code).toBe(0);
    expect(changed(again)).toEqual(['lab-02/swap', 'lab-02/kernel-modules', 'lab-02/sysctl']);
  });

  it('a hostile value in the inventory is data, never a command on the host', async () => {
    // no spaces, so it passes validation as a URL and reaches the shell as one
    const url = 'https://manifests.invalid/calico.yaml?a=$(touch${IFS}/tmp/kb-pwned)&b=`touch${IFS}/tmp/kb-pwned2`;touch${IFS}/tmp/kb-pwned3';
    const inv = writeInventory({ cluster: { cni: { plugin: 'calico', manifest: url, sha256: 'ab'.repeat(32) } } });
    // no cluster yet (the earlier tests ran prepare steps only), so the cni step fetches the manifest
    const r = await kb(['up', inv, '--steps', 'cni', '--output', 'json']);
    expect(r.json, r.stdout + r.stderr).toBeDefined();
    for (const f of ['/tmp/kb-pwned', '/tmp/kb-pwned2', '/tmp/kb-pwned3']) {
      expect(labExec('lab-01', ['test', '-e', f]).code, f).toBe(1);
      expect(existsSync(f), f).toBe(false);
    }
    const cni = r.json!.steps.find((s) => s.step === 'cni')!;
    expect(cni.status).toBe('failed');
    // curl got the whole value as one argument, and said so
    expect(cni.reason).toContain('curl: (6) Could not resolve host: manifests.invalid');
  });
  it('Ctrl-C stops starting new steps, lets the running one finish, exits 130; the next run converges the cluster', async () => {
    const inv = writeInventory();
    const r = await kb(['up', inv, '--verbose'], { signalAt: (out) => /lab-0\d: hosts-file: (changed|ok)/.test(out) });
    expect(r.code).toBe(130);
    expect(r.stderr).toContain('stopping after the running steps');
    expect(r.stdout).toMatch(/not run \(not run: interrupted\)|interrupted/);
    const again = await kb(['up', inv, '--output', 'json']);
    expect(notOk(again)).toEqual([]);
    expect(again.code).toBe(0);
    const third = await kb(['up', inv, '--output', 'json']);
    expect(changed(third)).toEqual([]);
  });

});
