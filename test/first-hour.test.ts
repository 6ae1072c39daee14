/**
 * Issue 25, "the first hour": what a new user stumbled on, each reproduced.
 * No lab: the hosts are a web server on a loopback port (SSH fails at once,
 * with what it said) or a closed port. Most cases run the CLI in this
 * process through main() with captured streams (fast enough to sweep every
 * command against every flag); a few spawn bin/kbootstrap.js as a user would.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './support/build.js';
import { main, upgradeQuestion } from '../src/cli.js';
import { resetNext, resetQuestion } from '../src/commands/reset.js';
import { askAnswers, inventoryText, type Prompter } from '../src/commands/init.js';
import { parseInventory } from '../src/inventory/load.js';
import { wrap } from '../src/wrap.js';
import type { Io } from '../src/io.js';

const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'bin', 'kbootstrap.js');

let web: Server;
let webPort = 0;
let dir = '';
let INV = '';
const env = { ...process.env };

beforeAll(async () => {
  // the tests run what a user runs: the bundle in dist/, built from the current sources
  ensureBuilt();
  // a web server where sshd should be: every connection fails at once, and is not retried
  web = createServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  webPort = (web.address() as AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'kb-first-hour-'));
  INV = join(dir, 'inv.yaml');
  writeFileSync(INV, `apiVersion: kbootstrap/v1
kind: Inventory
cluster: { name: one, kubernetesVersion: "1.30.4" }
ssh: { connectTimeoutSeconds: 2, knownHostsPath: ${join(dir, 'known_hosts')} }
hosts:
  - { name: cp, address: 10.1.0.10, role: control-plane, ssh: { host: 127.0.0.1, port: ${webPort} } }
  - { name: w1, address: 10.1.0.11, role: worker, ssh: { host: 127.0.0.1, port: ${webPort} } }
`);
  // credentials that need no key file and no agent; no OpenSSH configuration of whoever runs the tests
  process.env.KBOOTSTRAP_SSH_PASSWORD = 'x';
  delete process.env.SSH_AUTH_SOCK;
  process.env.KUBECONFIG = join(dir, 'kubeconfig');
  process.env.HOME = dir;
}, 120_000);

afterAll(() => {
  web.close();
  process.env = env;
});

interface Run { code: number; stdout: string; stderr: string }

/** The CLI in this process, stdout and stderr captured; COLUMNS: the terminal's width, as if stdout and stderr were one. */
async function cli(args: string[], columns?: number): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: Io = { out: (s) => { stdout += s; }, err: (s) => { stderr += s; }, isTTY: false, columns, errColumns: columns };
  const code = await main(['node', 'kbootstrap', ...args], io);
  return { code, stdout, stderr };
}

function spawnCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', input: '', timeout: 30_000, env: { ...process.env, ...extraEnv } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('--output json: stdout is one JSON document, whatever else is on the line (issue 25 points 2 and 11)', () => {
  // every command, as a user would type it (the inventory's hosts never answer SSH)
  const commands = (): string[][] => [
    ['up', INV], ['up', INV, '--dry-run'], ['plan', INV], ['upgrade', INV], ['upgrade', INV, '--dry-run'],
    ['render', INV], ['render', INV, '--dir', join(dir, 'scripts')], ['validate', INV], ['validate', join(dir, 'nonexistent.yaml')],
    ['init', '--defaults', '-'], ['init', '--defaults', join(dir, `new-${Math.random()}.yaml`)], ['init', join(dir, 'wizard.yaml')],
    ['token', INV], ['token', 'list', INV], ['token', 'revoke', INV, 'abcdef'],
    ['reset', INV, '--host', 'w1'], ['reset', INV, '--all', '--yes'],
    ['kubeconfig', INV], ['kubeconfig', INV, '--merge'], ['kubeconfig', INV, '--file', join(dir, 'admin.conf')],
    ['status', INV], ['check', INV], ['completion', 'bash'], ['help', 'status'], ['nosuch', INV],
  ];
  // every option any command has, a few wrong values, and help
  const flags: string[][] = [
    [], ['--verbose'], ['--quiet'], ['--verbose', '--quiet'], ['--help'], ['--dry-run'], ['--yes'], ['--force'],
    ['--only', 'cp'], ['--steps', 'swp'], ['--skip-steps', 'swap'], ['--concurrency', '0'], ['--command-timeout', '1h'],
    ['--verify-timeout', '5m'], ['--os', 'debian'], ['--accept-new-host-keys'], ['--ssh-config', 'none'], ['--ttl', '0'],
    ['--control-plane'], ['--all'], ['--host', 'nosuch'], ['--merge'], ['--defaults'], ['--max-unavailable', '2'], ['--frobnicate'],
  ];

  it('every command x every flag, with --output json or -o json: JSON.parse(stdout) succeeds', async () => {
    const bad: string[] = [];
    let i = 0;
    for (const c of commands()) {
      for (const f of flags) {
        const json = i++ % 2 ? ['-o', 'json'] : ['--output', 'json'];
        const args = [...c, ...f, ...json];
        const r = await cli(args);
        try {
          const doc = JSON.parse(r.stdout) as Record<string, unknown>;
          // a failure says so in the document, with the exit code
          if (r.code !== 0 && r.code !== 3 && !('error' in doc) && !('exitCode' in doc) && !('failed' in doc) && !('healthy' in doc)) bad.push(`${args.join(' ')}: exit ${r.code} but the JSON does not say it failed: ${r.stdout.slice(0, 200)}`);
        } catch {
          bad.push(`${args.join(' ')}: exit ${r.code}, stdout is not JSON: ${JSON.stringify(r.stdout.slice(0, 300))}`);
        }
      }
    }
    expect(bad).toEqual([]);
  }, 300_000);

  it('every command x every pair of flags (json first, or last): JSON.parse(stdout) succeeds', async () => {
    const bad: string[] = [];
    const pairs: string[][] = [];
    for (let i = 0; i < flags.length; i++) for (let j = i + 1; j < flags.length; j++) pairs.push([...flags[i]!, ...flags[j]!]);
    let n = 0;
    for (const c of commands()) {
      for (const f of pairs) {
        const args = n++ % 2 ? [...c, ...f, '-o', 'json'] : [c[0]!, '--output', 'json', ...c.slice(1), ...f];
        const r = await cli(args);
        try {
          JSON.parse(r.stdout);
        } catch {
          bad.push(`${args.join(' ')}: exit ${r.code}, stdout is not JSON: ${JSON.stringify(r.stdout.slice(0, 300))}`);
        }
      }
    }
    expect(n).toBeGreaterThan(5000);
    expect(bad.slice(0, 20)).toEqual([]);
  }, 600_000);

  it('plan --output json --verbose: the event and SSH lines go to stderr, stdout is the report alone (spawned, as a script runs it)', () => {
    const r = spawnCli(['plan', INV, '--output', 'json', '--verbose', '--ssh-config', 'none']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout) as { mode: string; hosts: unknown[] };
    expect(doc.mode).toBe('plan');
    expect(r.stderr).toMatch(/^cp: ssh address 127\.0\.0\.1 /m);
    expect(r.stderr).toMatch(/^cp: cannot connect: /m);
  });

  it('the verbose line names hosts[].ssh.host as the source of an address that came from it', async () => {
    const r = await cli(['plan', INV, '--verbose', '--ssh-config', 'none']);
    expect(r.stderr).toContain('cp: ssh address 127.0.0.1 (inventory (hosts[0].ssh.host))');
  });

  it('status --output json when no host answers: the cluster was not asked, and nothing claims no host is missing', async () => {
    const r = await cli(['status', INV, '--output', 'json', '--ssh-config', 'none']);
    const doc = JSON.parse(r.stdout) as { cluster: { asked: boolean; missingFromCluster: unknown } };
    expect(doc.cluster.asked).toBe(false);
    expect(doc.cluster.missingFromCluster).toBeNull();
  });

  it('check --output json: a failed reachable row names the host in its detail, as status and up do', async () => {
    const r = await cli(['check', INV, '--output', 'json', '--ssh-config', 'none']);
    const doc = JSON.parse(r.stdout) as { rows: { host: string; check: string; detail: string }[] };
    const status = JSON.parse((await cli(['status', INV, '--output', 'json', '--ssh-config', 'none'])).stdout) as { hosts: { host: string; error: string }[] };
    for (const row of doc.rows.filter((x) => x.check === 'reachable')) {
      expect(row.detail).toBe(status.hosts.find((h) => h.host === row.host)!.error);
      expect(row.detail.startsWith(`${row.host}: `)).toBe(true);
    }
  });
});

describe('-o means the output format on every command, as in kubectl (issue 25 point 3)', () => {
  it('kubeconfig -o FILE is refused, pointing at --file; nothing is written', async () => {
    const r = await cli(['kubeconfig', INV, '-o', join(dir, 'admin.yaml')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('-o/--output is the output format on every command, as in kubectl; to write the kubeconfig to a file use --file FILE');
    expect(existsSync(join(dir, 'admin.yaml'))).toBe(false);
  });

  it('kubeconfig --output json never writes a file named json', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await cli(['kubeconfig', INV, '--output', 'json', '--ssh-config', 'none']);
      expect(JSON.parse(r.stdout)).toHaveProperty('error');
      expect(existsSync(join(dir, 'json'))).toBe(false);
    } finally {
      process.chdir(cwd);
    }
  });

  it('render -o DIR is refused, pointing at --dir', async () => {
    const r = await cli(['render', INV, '-o', join(dir, 'out')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('to write the scripts into a directory use --dir DIR');
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('every command that has -o has it as -o, --output <format>', async () => {
    for (const c of ['up', 'plan', 'upgrade', 'render', 'token', 'reset', 'kubeconfig', 'status', 'check', 'init', 'validate', 'completion']) {
      const r = await cli(['help', c]);
      expect(r.stdout, c).toMatch(/-o, --output <format>\s+text, or json/);
    }
  });
});

describe('options that do nothing or mean two things (issue 25 point 7)', () => {
  it('plan --help lists neither --os nor --verify-timeout; upgrade --help not --verify-timeout', async () => {
    const plan = (await cli(['help', 'plan'])).stdout;
    expect(plan).not.toContain('--os');
    expect(plan).not.toContain('--verify-timeout');
    expect((await cli(['help', 'upgrade'])).stdout).not.toContain('--verify-timeout');
    expect((await cli(['plan', INV, '--os', 'debian'])).stderr).toContain("unknown option '--os'");
  });

  it('one duration parser: --verify-timeout 1h, --command-timeout 90s and 600 are taken, as --ttl 2h is; nonsense is refused alike', async () => {
    for (const f of [['--verify-timeout', '1h'], ['--command-timeout', '90s'], ['--command-timeout', '600'], ['--verify-timeout', '1h30m']]) {
      const r = await cli(['up', INV, '--dry-run', ...f]);
      expect(r.code, f.join(' ')).toBe(0);
    }
    const r = await cli(['up', INV, '--dry-run', '--verify-timeout', 'soon']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('expected seconds (300) or a duration (90s, 5m, 1h)');
  });

  it('--verbose on status, token, kubeconfig and reset shows where each SSH setting came from (stderr)', async () => {
    for (const c of [['status', INV], ['token', INV], ['kubeconfig', INV], ['reset', INV, '--host', 'w1', '--yes']]) {
      const r = await cli([...c, '--verbose', '--ssh-config', 'none']);
      expect(r.stderr, c[0]).toMatch(/^cp: ssh address 127\.0\.0\.1 \(inventory \(hosts\[0\]\.ssh\.host\)\); user root \(default\)/m);
    }
  });

  it('up --os without --dry-run is refused: a real run reads the OS from the host', async () => {
    const r = await cli(['up', INV, '--os', 'debian']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--os is for --dry-run');
  });
});

describe('messages that mislead (issue 25 point 6)', () => {
  it('plan with a host that cannot be reached: its error shown once as it happens and once in the summary; "could not connect", not "failed earlier"', async () => {
    const r = await cli(['plan', INV, '--ssh-config', 'none']);
    const all = r.stdout + r.stderr;
    const said = all.split('\n').filter((l) => l.includes(`answered, but not with SSH`) && l.includes('cp'));
    expect(said.length, all).toBe(2);
    expect(all).not.toContain('cp failed earlier');
    expect(all).toMatch(/steps not run: could not connect to cp/);
  });

  it('reset: the failure names every control plane\'s reason, and never says the hosts were reset when they failed', async () => {
    const r = await cli(['reset', INV, '--host', 'w1', '--yes', '--ssh-config', 'none']);
    expect(r.code).toBe(1);
    // the control plane that would read the cluster and drain w1, and w1 itself: each named with its reason in the summary
    expect(r.stdout).toMatch(/^failed:\n {2}cp: 127\.0\.0\.1:\d+ answered, but not with SSH.*\n {2}w1: 127\.0\.0\.1:\d+ answered, but not with SSH/m);
    expect(r.stdout).toMatch(/^w1 +0 +0 +0 +1 /m);
    expect(r.stdout + r.stderr).not.toContain('w1: reset');
    expect(r.stdout).not.toContain('run kbootstrap up');
  });

  it('reset\'s confirmation and its last line speak of one host as "it"', () => {
    const inv = parseInventory(readFileSync(INV, 'utf8'), 'inv.yaml').inventory;
    expect(resetQuestion([inv.hosts[1]!], false)).toBe('Reset w1 (10.1.0.11)? This runs kubeadm reset -f on it and removes it from the cluster.');
    expect(resetQuestion(inv.hosts, true)).toContain('on them and removes them from the cluster; the cluster itself is destroyed');
    expect(resetNext('inv.yaml', [inv.hosts[1]!], false)).toBe('kbootstrap up inv.yaml to rebuild and rejoin it');
    expect(resetNext('inv.yaml', inv.hosts, false)).toBe('kbootstrap up inv.yaml to rebuild and rejoin them');
    expect(resetNext('inv.yaml', inv.hosts, true)).toBe('kbootstrap up inv.yaml to rebuild the cluster');
  });

  it('a key file that is not there: one message, not a warning and then the same as an error', async () => {
    const inv = join(dir, 'nokey.yaml');
    writeFileSync(inv, readFileSync(INV, 'utf8').replace('ssh: {', 'ssh: { privateKeyPath: /nonexistent/kb-key,'));
    const r = await cli(['status', inv, '--ssh-config', 'none']);
    expect(r.code).toBe(2);
    expect(r.stderr.split('\n').filter((l) => l.includes('/nonexistent/kb-key'))).toHaveLength(1);
    // validate, which connects to nothing, still warns (with the line)
    expect((await cli(['validate', inv])).stderr).toMatch(/nokey\.yaml:4:\d+ warning: ssh\.privateKeyPath: no such file/);
  });

  it('the calico warning for a cni nobody wrote points at kubernetesVersion, not at cluster:', () => {
    // 1.26: no calico release in the versions table is tested against it, so even the default one is warned about
    const text = readFileSync(INV, 'utf8').replace('"1.30.4"', '"1.26.4"');
    let warnings: { path: string; line: number; message: string }[];
    try {
      warnings = parseInventory(text, 'inv.yaml').warnings;
    } catch (e) {
      // (the default release has no pinned digest for 1.26: that error is not this test's subject)
      warnings = (e as { problems: { severity: string; path: string; line: number; message: string }[] }).problems.filter((p) => p.severity === 'warning');
    }
    const w = warnings.find((x) => x.message.includes('calico'))!;
    expect(w.path).toBe('cluster.kubernetesVersion');
    expect(w.line).toBe(3);
    expect(w.message).toMatch(/^the default CNI: calico v\S+ is tested against Kubernetes .*: add cni: \{ plugin: calico, version: \.\.\. \} under cluster: with a release tested against 1\.26/);
  });

  it('the upgrade question says what the cluster runs now', () => {
    const inv = parseInventory(readFileSync(INV, 'utf8'), 'inv.yaml').inventory;
    expect(upgradeQuestion(inv, 1, 'the cluster runs 1.30.4')).toMatch(/^The cluster runs 1\.30\.4\. Upgrade cluster one to Kubernetes 1\.30\.4/);
  });
});

describe('80 columns (issue 25 point 9)', () => {
  it('status on an 80-column terminal: no line is wider, the reason goes under the table', async () => {
    const r = await cli(['status', INV, '--ssh-config', 'none'], 80);
    for (const l of r.stdout.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(/^HOST {2}REACHABLE/m);
    expect(r.stdout).toMatch(/^cp: 127\.0\.0\.1:\d+ answered, but not with SSH/m);
  });

  it('check on an 80-column terminal: detail lines wrap between words', async () => {
    const r = await cli(['check', INV, '--ssh-config', 'none'], 80);
    for (const l of r.stdout.split('\n')) expect(l.length, l).toBeLessThanOrEqual(80);
    expect(r.stdout).toMatch(/^cp: reachable: fail: 127\.0\.0\.1/m);
  });

  it('wrap: at most WIDTH columns, continuation indented, words whole; no width: unchanged', () => {
    const long = 'kbootstrap: warning: ' + 'calico v3.28.2 is tested against Kubernetes 1.27-1.30 only, not 1.31 '.repeat(3).trim();
    const w = wrap(long, 80);
    for (const l of w.split('\n')) expect(l.length).toBeLessThanOrEqual(80);
    expect(w.split('\n').slice(1).every((l) => l.startsWith('    '))).toBe(true);
    expect(w.replace(/\n {4}/g, ' ')).toBe(long);
    expect(wrap(long, undefined)).toBe(long);
    // a word longer than a line is cut at the line's end, never left to overflow
    const url = `see https://example.com/${'x'.repeat(120)} now`;
    for (const l of wrap(url, 80).split('\n')) expect(l.length).toBeLessThanOrEqual(80);
  });
});

describe('kbootstrap\'s words, not the parser\'s (issue 25 point 10)', () => {
  const BASE = `apiVersion: kbootstrap/v1
kind: Inventory
cluster: { name: one, kubernetesVersion: "1.30.4" }
hosts:
  - name: cp
    address: 10.1.0.10
    role: control-plane
`;
  const problems = (text: string): string[] => {
    try {
      parseInventory(text, 'inv.yaml');
      return [];
    } catch (e) {
      return (e as { problems: { line: number; col: number; path: string; message: string }[] }).problems.map((p) => `${p.line}:${p.col} ${p.path ? `${p.path}: ` : ''}${p.message}`);
    }
  };

  it('role:control-plane: a space after the colon, at that line', () => {
    expect(problems(BASE.replace('role: control-plane', 'role:control-plane'))).toEqual(['7:5 YAML syntax: "role:control-plane" needs a space after the colon: role: control-plane']);
  });

  it('a mis-indented line: its own column, and the column it should line up with', () => {
    const text = BASE.replace('cluster: { name: one, kubernetesVersion: "1.30.4" }', 'cluster:\n  name: one\n  kubernetesVersion: "1.30.4"\n podSubnet: 10.244.0.0/16');
    expect(problems(text)).toEqual(['6:2 YAML syntax: bad indentation: this line starts at column 2, the line above at column 3; keys of one mapping start at the same column']);
    expect(problems(`${BASE}   labels: { a: b }\n`)[0]).toMatch(/^8:4 YAML syntax: bad indentation: this line starts at column 4, the line above at column 5/);
  });

  it('ip: means address, not "os"', () => {
    expect(problems(BASE.replace('address:', 'ip:'))).toContain('6:5 hosts[0].ip: unknown field: the host\'s IPv4 address is address: (an SSH alias or other target goes under ssh: { host: ... })');
  });

  it('ssh.password: points at KBOOTSTRAP_SSH_PASSWORD', () => {
    expect(problems(`${BASE}ssh: { password: x }\n`)[0]).toMatch(/^8:8 ssh\.password: unknown field: passwords never go in the inventory: set KBOOTSTRAP_SSH_PASSWORD/);
  });

  it('cni: calico says how to write it', () => {
    expect(problems(BASE.replace('"1.30.4" }', '"1.30.4", cni: calico }'))).toEqual(['3:57 cluster.cni: expected a mapping, got "calico": write cni: { plugin: calico }']);
  });

  it('an unquoted version: the user\'s own value in the hint', () => {
    expect(problems(BASE.replace('"1.30.4"', '1.20'))).toEqual(['3:42 cluster.kubernetesVersion: expected a string, got the number 1.2 (YAML reads 1.20 as 1.2): quote it: "1.20"']);
  });
});

/** Answers in order, each checked against the question it answers; what a prompt refused is kept. */
function scripted(answers: [RegExp, string | boolean][]): Prompter & { asked: string[]; refused: string[] } {
  const asked: string[] = [];
  const refused: string[] = [];
  const next = (message: string) => {
    asked.push(message);
    const a = answers.shift();
    if (!a) throw new Error(`no scripted answer for "${message}"`);
    if (!a[0].test(message)) throw new Error(`expected a prompt like ${a[0]}, got "${message}"`);
    return a[1];
  };
  return {
    asked, refused,
    async input(message, opts) {
      for (;;) {
        const v = String(next(message));
        const value = v === '' ? opts?.default ?? '' : v;
        const ok = opts?.validate?.(value) ?? true;
        if (ok === true) return value;
        refused.push(`${message}: ${ok}`);
      }
    },
    async select(message, choices) {
      const v = String(next(message));
      if (!choices.some((c) => c.value === v)) throw new Error(`${v} is not a choice of "${message}"`);
      return v as never;
    },
    async confirm(message) { return Boolean(next(message)); },
  };
}

describe('the wizard does not trap (issue 25 point 4)', () => {
  const start: [RegExp, string | boolean][] = [
    [/Cluster name/, ''], [/Kubernetes version/, ''], [/Container runtime/, 'containerd'], [/CNI plugin/, 'calico'], [/mirror/, 'upstream'], [/kube-proxy mode/, 'ipvs'],
  ];

  it('podSubnet 192.168.0.0/16, then a host in 192.168.x: the user can go back and change the pod network; SSH user asked once', async () => {
    const warned: string[] = [];
    const p = scripted([...start, [/podSubnet/, '192.168.0.0/16'], [/serviceSubnet/, ''], [/SSH user for every host/, 'admin'], [/private key/, '-'],
      [/Address of host 1/, '192.168.1.10'], [/Change the pod network or this address/, 'subnet'], [/podSubnet/, '10.244.0.0/16'],
      [/Name of host 1/, ''], [/Add another host/, false]]);
    const a = await askAnswers(p, (w) => warned.push(w));
    expect(warned).toEqual(['192.168.1.10 lies inside the pod network (podSubnet 192.168.0.0/16): a host address cannot be in it']);
    expect(a.podSubnet).toBe('10.244.0.0/16');
    expect(a.hosts[0]!.address).toBe('192.168.1.10');
    expect(p.asked.filter((q) => /SSH user/.test(q))).toEqual(['SSH user for every host']);
    expect(() => parseInventory(inventoryText(a), 'x.yaml')).not.toThrow();
  });

  it('two control planes: kube-vip is offered, and its VIP lands in loadBalancer', async () => {
    const p = scripted([...start, [/podSubnet/, ''], [/serviceSubnet/, ''], [/SSH user for every host/, ''], [/private key/, '-'],
      [/Address of host 1/, '10.0.0.10'], [/Name of host 1/, ''], [/Add another host/, true],
      [/Role of host 2/, 'control-plane'], [/Address of host 2/, '10.0.0.11'], [/Name of host 2/, ''], [/Add another host/, true],
      [/Role of host 3/, 'control-plane'], [/Address of host 3/, '10.0.0.12'], [/Name of host 3/, ''], [/Add another host/, false],
      [/what stands in front of them/, 'kube-vip'], [/Virtual IP/, '10.244.0.9'], [/Virtual IP/, '10.0.0.100']]);
    const a = await askAnswers(p);
    expect(p.refused).toEqual([expect.stringMatching(/^Virtual IP .*: 10\.244\.0\.9 lies inside cluster\.podSubnet/)]);
    const inv = parseInventory(inventoryText(a), 'x.yaml');
    expect(inv.inventory.cluster.loadBalancer).toMatchObject({ type: 'kube-vip', address: '10.0.0.100' });
    expect(inv.warnings.map((w) => w.message).join('\n')).not.toContain('no controlPlaneEndpoint');
  });
});

describe('the China path: a mirror, and nothing left silently upstream (issue 25 point 5)', () => {
  const UPSTREAM = 'says the upstream sites may be out of reach';

  it('validate and plan name each download that still goes upstream, with the field that moves it', async () => {
    const inv = join(dir, 'aliyun.yaml');
    writeFileSync(inv, readFileSync(INV, 'utf8').replace('cluster: { name: one,', 'cluster: { name: one, packageMirror: aliyun,'));
    const v = await cli(['validate', inv]);
    expect(v.code).toBe(0);
    const said = v.stderr.split('\n').filter((l) => l.includes(UPSTREAM));
    expect(said).toEqual([
      expect.stringMatching(/warning: cluster\.imageRepository: .* the control-plane images still come from registry\.k8s\.io: set cluster\.imageRepository/),
      expect.stringMatching(/warning: cluster\.cni: .* the calico manifest still comes from raw\.githubusercontent\.com .*: set cluster\.cni\.manifest/),
      expect.stringMatching(/warning: cluster\.registryMirrors: .* calico v3\.\d+\.\d+'s images still come from docker\.io: set cluster\.registryMirrors/),
    ]);
    const plan = await cli(['plan', inv, '--ssh-config', 'none']);
    expect(plan.stderr.split('\n').filter((l) => l.includes(UPSTREAM))).toEqual(said);
    // upstream chosen: not a word
    expect((await cli(['validate', INV])).stderr).not.toContain(UPSTREAM);
  });

  it('a private registry in cluster.registries that mirrors an upstream registry covers it: only what no registry serves is named', () => {
    const text = (mirrorOf: string[]) => `apiVersion: kbootstrap/v1
kind: Inventory
cluster:
  name: one
  kubernetesVersion: "1.36.4"
  packageMirror: aliyun
  cni: { plugin: calico }
  loadBalancer: { type: kube-vip, address: 10.0.0.100 }
  registries:
    - host: registry.lab:5000
      mirrorOf: [${mirrorOf.join(', ')}]
hosts:
  - { name: cp1, address: 10.0.0.10, role: control-plane }
  - { name: cp2, address: 10.0.0.11, role: control-plane }
  - { name: cp3, address: 10.0.0.12, role: control-plane }
`;
    const upstream = (m: string[]) => parseInventory(text(m), 'x.yaml').warnings.filter((w) => w.message.includes(UPSTREAM)).map((w) => w.message.replace(/^.* but /, ''));
    // the registry mirrors nothing: every registry the cluster pulls from is named
    const none = upstream([]);
    expect(none).toEqual([
      expect.stringMatching(/^the control-plane images still come from registry\.k8s\.io/),
      expect.stringMatching(/^the calico manifest still comes from raw\.githubusercontent\.com/),
      expect.stringMatching(/^calico v3\.\d+\.\d+'s images still come from quay\.io, which .* or a registry in cluster\.registries that mirrors it$/),
      expect.stringMatching(/^kube-vip's image still comes from ghcr\.io/),
    ]);
    // it mirrors them all: only the manifest (a file, not an image) is left
    expect(upstream(['registry.k8s.io', 'quay.io', 'ghcr.io', 'docker.io'])).toEqual([expect.stringMatching(/^the calico manifest still comes from/)]);
  });

  it('the wizard: Aliyun sets the image registry and asks for a docker.io mirror when the CNI\'s images are there; only the manifest is left, and named', async () => {
    // 1.31: calico v3.30, images on docker.io (src/versions/table.ts)
    const p = scripted([[/Cluster name/, ''], [/Kubernetes version/, '1.31.2'], [/Container runtime/, 'containerd'], [/CNI plugin/, 'calico'], [/mirror/, 'aliyun'],
      [/docker\.io mirror for the calico images/, 'https://example.mirror.aliyuncs.com'], [/kube-proxy mode/, 'ipvs'],
      [/podSubnet/, ''], [/serviceSubnet/, ''], [/SSH user for every host/, ''], [/private key/, '-'],
      [/Address of host 1/, '10.0.0.10'], [/Name of host 1/, ''], [/Add another host/, false]]);
    const a = await askAnswers(p);
    const left = parseInventory(inventoryText(a), 'x.yaml').warnings.filter((w) => w.message.includes(UPSTREAM));
    expect(left.map((w) => w.path)).toEqual(['cluster.cni']);
    expect(left[0]!.message).toContain('the calico manifest still comes from raw.githubusercontent.com');
    // the default version: calico's images are on quay.io, which no docker.io mirror serves: not asked, and named
    const q = scripted([[/Cluster name/, ''], [/Kubernetes version/, ''], [/Container runtime/, 'containerd'], [/CNI plugin/, 'calico'], [/mirror/, 'aliyun'],
      [/kube-proxy mode/, 'iptables'], [/podSubnet/, ''], [/serviceSubnet/, ''], [/SSH user for every host/, ''], [/private key/, '-'],
      [/Address of host 1/, '10.0.0.10'], [/Name of host 1/, ''], [/Add another host/, false]]);
    const b = await askAnswers(q);
    const named = parseInventory(inventoryText(b), 'x.yaml').warnings.filter((w) => w.message.includes(UPSTREAM));
    expect(named.map((w) => w.path)).toEqual(['cluster.cni', 'cluster.cni']);
    expect(named[1]!.message).toMatch(/calico v3\.\d+\.\d+'s images still come from quay\.io, which cluster\.registryMirrors does not cover/);
  });

  it('the wizard: "another mirror" asks where the control-plane images come from', async () => {
    const p = scripted([[/Cluster name/, ''], [/Kubernetes version/, ''], [/Container runtime/, 'containerd'], [/CNI plugin/, 'flannel'], [/mirror/, 'url'],
      [/Mirror base URL/, 'https://mirror.example.cn'], [/Registry for the control-plane images/, 'registry.example.cn/k8s'],
      [/sha256 of the flannel manifest/, 'ab'.repeat(32)], [/kube-proxy mode/, 'iptables'],
      [/podSubnet/, ''], [/serviceSubnet/, ''], [/SSH user for every host/, ''], [/private key/, '-'],
      [/Address of host 1/, '10.0.0.10'], [/Name of host 1/, ''], [/Add another host/, false]]);
    const a = await askAnswers(p);
    const inv = parseInventory(inventoryText(a), 'x.yaml');
    expect(inv.inventory.cluster.imageRepository).toBe('registry.example.cn/k8s');
    const left = inv.warnings.filter((w) => w.message.includes(UPSTREAM));
    expect(left.map((w) => w.path)).toEqual(['cluster.cni', 'cluster.cni']);
    // flannel's images moved to ghcr.io (src/versions/table.ts): named, since no docker.io mirror serves them
    expect(left[1]!.message).toMatch(/flannel v0\.\d+\.\d+'s images still come from ghcr\.io/);
  });
});
