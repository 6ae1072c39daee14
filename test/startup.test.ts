/**
 * Start-up: a command loads only what it uses. Each command below runs the
 * built CLI (bin/kbootstrap.js and the bundle) with a preload that records
 * every module the process loads; none of those that never connect or ask may
 * load node-ssh, ssh2, listr2 or inquirer, neither as a package under
 * node_modules nor as a part of the bundle that carries one. `plan`, which
 * connects, is the control: the same detector must see SSH there.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO, ensureBuilt } from './support/build.js';

const BIN = join(REPO, 'bin', 'kbootstrap.js');
const TRACE = join(REPO, 'test', 'support', 'import-trace.mjs');
const LAB = join(REPO, 'inventories', 'lab.yaml');
/** a package by its directory; in the bundle, esbuild names each module's source path in a comment */
const HEAVY = /node_modules\/(node-ssh|ssh2|listr2|inquirer|@inquirer\/[a-z-]+)\//;

const dir = mkdtempSync(join(tmpdir(), 'kb-startup-'));

beforeAll(() => ensureBuilt(), 180_000);

/** Run the CLI; the heavy packages it loaded (sorted, unique) and its exit code. */
function loaded(args: string[], env: NodeJS.ProcessEnv = {}): { code: number | null; heavy: string[]; modules: number } {
  const trace = join(dir, `trace-${Math.random().toString(36).slice(2)}`);
  writeFileSync(trace, '');
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, ...args], {
    encoding: 'utf8', cwd: dir, timeout: 60_000, input: '',
    env: { ...process.env, KB_IMPORT_TRACE: trace, XDG_CACHE_HOME: join(dir, 'cache'), SSH_AUTH_SOCK: '', ...env },
  });
  const heavy = new Set<string>();
  const lines = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  for (const line of lines) {
    if (line.startsWith('node:')) continue;
    const path = line.startsWith('file:') ? fileURLToPath(line) : line;
    const own = HEAVY.exec(path);
    if (own) { heavy.add(own[1]!); continue; }
    if (!path.startsWith(join(REPO, 'dist') + '/')) continue;
    for (const m of readFileSync(path, 'utf8').matchAll(new RegExp(HEAVY.source, 'g'))) heavy.add(m[1]!.replace(/^@inquirer\/.*/, 'inquirer'));
  }
  return { code: r.status, heavy: [...heavy].sort(), modules: lines.length };
}

describe('commands that do not connect load no SSH, listr2 or inquirer', () => {
  const cases: [string, string[]][] = [
    ['--version', ['--version']],
    ['--help', ['--help']],
    ['help up', ['help', 'up']],
    ['validate', ['validate', LAB]],
    ['render', ['render', LAB]],
    ['render --dir', ['render', LAB, '--dir', join(dir, 'out')]],
    ['validate -o json', ['validate', LAB, '-o', 'json']],
    ['up --dry-run', ['up', LAB, '--dry-run']],
    ['upgrade --dry-run', ['upgrade', LAB, '--dry-run']],
    ['init --defaults', ['init', '--defaults', '-']],
    ['versions', ['versions']],
    ['help bundle', ['help', 'bundle']],
    ['help certs renew', ['help', 'certs', 'renew']],
    ['certs renew --dry-run', ['certs', 'renew', LAB, '--dry-run']],
    ['backup --dry-run', ['backup', LAB, '--dry-run']],
    ['restore --dry-run', ['restore', LAB, '--dry-run']],
    ['completion bash', ['completion', 'bash']],
    ['__complete', ['__complete', 'up', LAB, '--only', '']],
    ['help of an unknown command', ['help', 'upp']],
    ['--help -o json', ['--help', '-o', 'json']],
    ['a usage error', ['up']],
  ];
  it.each(cases)('%s', (_name, args) => {
    const r = loaded(args);
    expect(r.modules).toBeGreaterThan(1);
    expect(r.heavy).toEqual([]);
  });
});

it('plan, which connects, loads SSH (the detector sees it)', () => {
  // a port nothing listens on: the connection is refused at once
  const inv = join(dir, 'refused.yaml');
  writeFileSync(inv, [
    'apiVersion: kbootstrap/v1', 'kind: Inventory',
    'cluster: { name: t, kubernetesVersion: "1.30.4", podSubnet: 10.244.0.0/16, containerRuntime: containerd, cni: { plugin: calico } }',
    'ssh: { user: root, port: 1, connectTimeoutSeconds: 2 }',
    'hosts: [ { name: a, address: 127.0.0.1, role: control-plane, os: rocky9 } ]', '',
  ].join('\n'));
  const r = loaded(['plan', inv, '--output', 'json'], { KBOOTSTRAP_SSH_PASSWORD: 'not-used' });
  expect(r.code).toBe(1);
  expect(r.heavy).toEqual(expect.arrayContaining(['node-ssh', 'ssh2']));
});

it('a plain plan starts its SSH handshakes before it loads the plan, the steps and the runner (they load while the hosts answer)', async () => {
  // something that answers, but not with SSH: the handshake fails at once (no retry, no timeout to wait for)
  const server = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const inv = join(dir, 'early.yaml');
    writeFileSync(inv, [
      'apiVersion: kbootstrap/v1', 'kind: Inventory',
      'cluster: { name: t, kubernetesVersion: "1.30.4", podSubnet: 10.244.0.0/16, containerRuntime: containerd, cni: { plugin: calico } }',
      `ssh: { user: root, port: ${port}, connectTimeoutSeconds: 5 }`,
      'hosts: [ { name: a, address: 127.0.0.1, role: control-plane, os: rocky9 } ]', '',
    ].join('\n'));
    const trace = join(dir, 'trace-early');
    writeFileSync(trace, '');
    const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const p = spawn(process.execPath, ['--import', TRACE, BIN, 'plan', inv, '--ssh-config', 'none', '--output', 'json'], {
        cwd: dir, env: { ...process.env, KB_IMPORT_TRACE: trace, XDG_CACHE_HOME: join(dir, 'cache'), SSH_AUTH_SOCK: '', KBOOTSTRAP_SSH_PASSWORD: 'not-used' },
      });
      let stdout = '';
      p.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
      p.on('close', (code) => resolve({ code, stdout }));
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('not with SSH');
    const lines = readFileSync(trace, 'utf8').split('\n');
    const connected = lines.findIndex((l) => l === `net-connect 127.0.0.1:${port}`);
    expect(connected).toBeGreaterThan(0);
    // the bundle's parts that carry the runner, the plan and the steps (esbuild names each module's source in a comment)
    const partWith = (source: string) => {
      const at = lines.findIndex((l) => l.startsWith('file:') && fileURLToPath(l).startsWith(join(REPO, 'dist') + '/') && readFileSync(fileURLToPath(l), 'utf8').includes(`\n// ${source}\n`));
      expect(at, source).toBeGreaterThan(0);
      return at;
    };
    for (const source of ['src/runner.ts', 'src/plan.ts', 'src/steps/swap.ts']) expect(partWith(source), source).toBeGreaterThan(connected);
  } finally {
    server.close();
  }
});

it('the bundle renders every inventory as its golden files say (its precompiled templates are the template files)', () => {
  for (const inv of ['lab', 'rocky-ha', 'ubuntu-docker-flannel']) {
    const out = join(dir, `render-${inv}`);
    const r = spawnSync(process.execPath, [BIN, 'render', join(REPO, 'inventories', `${inv}.yaml`), '--dir', out], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    for (const f of readdirSync(join(REPO, 'test', 'golden', inv))) {
      expect(readFileSync(join(out, f), 'utf8'), `${inv}/${f}`).toBe(readFileSync(join(REPO, 'test', 'golden', inv, f), 'utf8'));
    }
  }
});

it('the bundle carries Handlebars\' runtime only: its templates come precompiled, so neither the compiler nor source-map is in it', () => {
  const files = [join(REPO, 'dist', 'cli.js'), ...readdirSync(join(REPO, 'dist', 'chunks')).map((f) => join(REPO, 'dist', 'chunks', f))];
  const compiler = files.filter((f) => /node_modules\/(handlebars\/dist\/cjs\/handlebars\/compiler|source-map)\//.test(readFileSync(f, 'utf8')));
  expect(compiler).toEqual([]);
});
