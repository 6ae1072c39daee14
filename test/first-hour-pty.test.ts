/**
 * Issue 25 on a real terminal: the CLI in a tmux pane of 80 columns (a
 * pseudo-terminal, so stdout and stderr are terminals with a width, as for a
 * user). Long messages must break between words, tables must fit, the
 * upgrade question must come after kbootstrap has asked the cluster, and
 * bash must complete kbootstrap's words. No lab: the hosts are a web server
 * on a loopback port.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from './support/build.js';
import { keepTmuxServer } from './support/tmux.js';
import { cacheRoot } from './lab/vm/image.js';

const REPO = join(import.meta.dirname, '..');
const BIN = join(REPO, 'bin', 'kbootstrap.js');
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const SOCKET = `kbfh-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


let web: Server;
let dir = '';
let INV = '';
let SHIM = '';

beforeAll(async () => {
  // the tests run what a user runs: the bundle in dist/, built from the current sources
  ensureBuilt();
  if (hasTmux) keepTmuxServer(SOCKET);
  web = createServer((s) => s.once('data', () => s.end('HTTP/1.1 400 Bad Request\r\n\r\n')));
  await new Promise<void>((r) => web.listen(0, '127.0.0.1', () => r()));
  const port = (web.address() as AddressInfo).port;
  dir = mkdtempSync(join(tmpdir(), 'kb-fh-pty-'));
  INV = join(dir, 'inv.yaml');
  // an Aliyun mirror with the images left upstream: long warnings on every load (issue 25 point 5)
  writeFileSync(INV, `apiVersion: kbootstrap/v1
kind: Inventory
cluster: { name: one, kubernetesVersion: "1.36.4", packageMirror: aliyun }
ssh: { connectTimeoutSeconds: 2, knownHostsPath: ${join(dir, 'known_hosts')} }
hosts:
  - { name: cp, address: 10.1.0.10, role: control-plane, ssh: { host: 127.0.0.1, port: ${port} } }
  - { name: worker-with-a-long-name, address: 10.1.0.11, role: worker, ssh: { host: 127.0.0.1, port: ${port} } }
`);
  // `kbootstrap` on the PATH, as an installed CLI is: the completion scripts call it by name
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  SHIM = join(bin, 'kbootstrap');
  writeFileSync(SHIM, `#!/bin/sh\nexec ${process.execPath} ${BIN} "$@"\n`);
  chmodSync(SHIM, 0o755);
}, 120_000);

afterAll(() => {
  web?.close();
  if (hasTmux) spawnSync('tmux', ['-L', SOCKET, 'kill-server']);
});

async function waitFor(what: () => boolean, ms: number, label: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!what()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${label()}`);
    await sleep(100);
  }
}

/** ARGS in an 80x40 pane; optionally answer KEYS once AT is on screen. The screen as the terminal shows it, and as tmux joins wrapped lines. */
async function inPane(name: string, args: string[], o: { at?: RegExp; keys?: string[] } = {}): Promise<{ screen: string; joined: string; code: number }> {
  const rc = join(dir, `${name}.rc`);
  const cmd = `cd ${dir} && KBOOTSTRAP_SSH_PASSWORD=x SSH_AUTH_SOCK= HOME=${dir} XDG_CACHE_HOME=/tmp/kbfh ${process.execPath} ${BIN} ${args.join(' ')}; echo $? > ${rc}; sleep 60`;
  tmux('new-session', '-d', '-s', name, '-x', '80', '-y', '40', cmd);
  const screen = () => tmux('capture-pane', '-p', '-t', name);
  if (o.at) {
    await waitFor(() => o.at!.test(screen()), 20_000, () => `${o.at} on screen:\n${screen()}`);
    for (const k of o.keys ?? []) tmux('send-keys', '-t', name, k);
  }
  await waitFor(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== '', 30_000, () => `the CLI to exit; screen:\n${screen()}`);
  const r = { screen: screen(), joined: tmux('capture-pane', '-p', '-J', '-t', name), code: Number(readFileSync(rc, 'utf8').trim()) };
  tmux('kill-session', '-t', name);
  return r;
}

describe.skipIf(!hasTmux)('80 columns, in a pseudo-terminal (issue 25 point 9)', () => {
  it('a long warning breaks between words, its continuation indented: the terminal never wraps it mid-word', async () => {
    const { screen, joined, code } = await inPane('warn', ['validate', INV]);
    expect(code).toBe(0);
    // tmux -J joins the lines the terminal wrapped: equal means nothing was wider than the pane
    expect(joined.trimEnd()).toBe(screen.trimEnd());
    const warning = screen.slice(screen.indexOf('inv.yaml:3:'));
    expect(warning.replace(/\n {4}/g, ' ')).toContain('warning: cluster.imageRepository: packageMirror aliyun says the upstream sites may be out of reach, but the control-plane images still come from registry.k8s.io: set cluster.imageRepository to a registry your hosts reach');
  }, 60_000);

  it('status: the table fits 80 columns, the reasons wrap under it', async () => {
    const { screen, joined, code } = await inPane('status', ['status', INV, '--ssh-config', 'none']);
    expect(code).toBe(1);
    expect(joined.trimEnd()).toBe(screen.trimEnd());
    expect(screen).toMatch(/^HOST +REACHABLE +OS +RUNTIME +KUBELET +JOINED +NODE$/m);
    expect(screen).toMatch(/^worker-with-a-long-name +no /m);
  }, 60_000);

  it('check: detail lines fit 80 columns', async () => {
    const { screen, joined } = await inPane('check', ['check', INV, '--ssh-config', 'none']);
    expect(joined.trimEnd()).toBe(screen.trimEnd());
    expect(screen).toMatch(/^worker-with-a-long-name: reachable: fail: 127\.0\.0\.1:\d+ answered, but not with/m);
  }, 60_000);
});

describe.skipIf(!hasTmux)('upgrade asks after connecting (issue 25 point 6)', () => {
  it('the question says what kbootstrap found (here: that it cannot ask cp), then No does nothing', async () => {
    const { screen, code } = await inPane('upgrade', ['upgrade', INV, '--ssh-config', 'none'], { at: /Upgrade cluster one/, keys: ['n', 'Enter'] });
    expect(screen.replace(/\n/g, ' ')).toMatch(/Cannot ask cp: 127\.0\.0\.1:\d+ answered, but not with SSH/);
    expect(screen).toContain('upgrade: nothing done');
    expect(code).toBe(1);
  }, 60_000);
});

describe.skipIf(!hasTmux)('the wizard keeps the answers on Ctrl-C (issue 25 point 4)', () => {
  it('Ctrl-C after the first answers: exit 130, and what was answered is in FILE.draft', async () => {
    const name = 'wizard';
    const rc = join(dir, `${name}.rc`);
    tmux('new-session', '-d', '-s', name, '-x', '80', '-y', '40', `cd ${dir} && ${process.execPath} ${BIN} init new.yaml; echo $? > ${rc}; sleep 60`);
    const screen = () => tmux('capture-pane', '-p', '-t', name);
    await waitFor(() => /Cluster name/.test(screen()), 20_000, () => `the first question; screen:\n${screen()}`);
    // -l: literally (tmux reads a bare "home" as the Home key)
    tmux('send-keys', '-t', name, '-l', 'home');
    tmux('send-keys', '-t', name, 'Enter');
    await waitFor(() => /Kubernetes version/.test(screen()), 20_000, () => `the second question; screen:\n${screen()}`);
    tmux('send-keys', '-t', name, 'C-c');
    await waitFor(() => existsSync(rc) && readFileSync(rc, 'utf8').trim() !== '', 20_000, () => `the CLI to exit; screen:\n${screen()}`);
    const last = screen();
    tmux('kill-session', '-t', name);
    expect(Number(readFileSync(rc, 'utf8').trim())).toBe(130);
    expect(last).toContain('your answers so far are saved in new.yaml.draft');
    expect(last.split('\n').map((l) => l.trimEnd()).filter(Boolean).at(-1)).toBe('kbootstrap: interrupted');
    expect(readFileSync(join(dir, 'new.yaml.draft'), 'utf8')).toContain('name: "home"');
    expect(existsSync(join(dir, 'new.yaml'))).toBe(false);
  }, 60_000);
});

describe('shell completion (issue 25 point 12)', () => {
  /** What bash's completion offers for WORDS (the last being completed), through the script kbootstrap prints. */
  function bashComplete(words: string[]): string[] {
    const script = `source <(kbootstrap completion bash)
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; COMPREPLY=()
_kbootstrap
printf '%s\\n' "\${COMPREPLY[@]}"`;
    const r = spawnSync('bash', ['-c', script], { encoding: 'utf8', cwd: dir, env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } });
    if (r.status !== 0) throw new Error(r.stderr);
    return r.stdout.split('\n').filter(Boolean);
  }

  it('bash: commands, options, option values, step ids, and the hosts of the inventory on the line', () => {
    expect(bashComplete(['kbootstrap', 'st'])).toEqual(['status']);
    expect(bashComplete(['kbootstrap', 'up', INV, '--on'])).toEqual(['--only']);
    expect(bashComplete(['kbootstrap', 'up', INV, '--only', ''])).toEqual(['cp', 'worker-with-a-long-name']);
    expect(bashComplete(['kbootstrap', 'up', INV, '--only', 'cp,'])).toEqual(['cp,worker-with-a-long-name']);
    expect(bashComplete(['kbootstrap', 'reset', INV, '--host', 'w'])).toEqual(['worker-with-a-long-name']);
    expect(bashComplete(['kbootstrap', 'plan', INV, '--skip-steps', 'kubeadm-i'])).toEqual(['kubeadm-init']);
    expect(bashComplete(['kbootstrap', 'status', INV, '-o', ''])).toEqual(['text', 'json']);
    expect(bashComplete(['kbootstrap', 'completion', ''])).toEqual(['bash', 'zsh', 'fish']);
    // the inventory itself: files
    expect(bashComplete(['kbootstrap', 'plan', 'in'])).toEqual(['inv.yaml']);
  });

  it('zsh and fish scripts are printed; an unknown shell is exit 2', () => {
    const kb = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    expect(kb(['completion', 'zsh']).stdout).toMatch(/^#compdef kbootstrap\n[\s\S]*kbootstrap __complete[\s\S]*compdef _kbootstrap kbootstrap\n$/);
    expect(kb(['completion', 'fish']).stdout).toMatch(/kbootstrap __complete \$words[\s\S]*complete -c kbootstrap -f -a '\(__kbootstrap_complete\)'\n$/);
    const bad = kb(['completion', 'powershell']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('completion: no script for "powershell": bash, zsh or fish');
  });
});

/**
 * zsh and fish themselves, from this machine's Debian suite: `apt-get
 * download` + `dpkg -x` into the lab cache (never installed), as
 * test/support/debian-suites.ts does for the oracles. Skipped with the reason
 * when the archive cannot be reached; in CI that is a failure.
 */
function shells(): { root: string } | { skip: string } {
  const root = join(cacheRoot(), 'shells', 'root');
  const pkgs = ['zsh', 'zsh-common', 'fish', 'fish-common', 'libpcre2-32-0'];
  if (!existsSync(join(root, 'usr', 'bin', 'fish')) || !existsSync(join(root, 'bin', 'zsh'))) {
    const debs = join(cacheRoot(), 'shells', 'debs');
    mkdirSync(debs, { recursive: true });
    const dl = spawnSync('apt-get', ['-o', 'APT::Sandbox::User=root', 'download', ...pkgs], { cwd: debs, encoding: 'utf8', timeout: 120_000 });
    if (dl.status !== 0) {
      const why = `cannot fetch ${pkgs.join(', ')}: ${(dl.stderr || String(dl.error)).trim().split('\n').at(-1)}`;
      if (process.env.CI && !/^(false|0)$/i.test(process.env.CI)) throw new Error(why);
      console.warn(`SKIPPED: zsh and fish completion: ${why}`);
      return { skip: why };
    }
    for (const f of readdirSync(debs).filter((x) => x.endsWith('.deb'))) execFileSync('dpkg', ['-x', join(debs, f), root]);
  }
  return { root };
}

describe.skipIf(!hasTmux)('zsh and fish complete kbootstrap\'s words (issue 25 point 12)', () => {
  let got: { root: string } | { skip: string } = { skip: 'not fetched' };
  beforeAll(() => { got = shells(); }, 180_000);

  it('fish: complete -C gives commands, the inventory\'s hosts and files', (ctx) => {
    if ('skip' in got) { ctx.skip(); return; }
    const root = got.root;
    const fish = (line: string) => spawnSync(join(root, 'usr', 'bin', 'fish'), ['--no-config', '-c',
      `set fish_function_path ${join(root, 'usr', 'share', 'fish', 'functions')}; kbootstrap completion fish | source; complete -C${JSON.stringify(line)}`],
    { encoding: 'utf8', cwd: dir, env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}`, LD_LIBRARY_PATH: join(root, 'usr', 'lib', 'x86_64-linux-gnu') } });
    const words = (line: string) => { const r = fish(line); if (r.status !== 0) throw new Error(r.stderr); return r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]); };
    expect(words('kbootstrap st')).toEqual(['status']);
    expect(words(`kbootstrap up ${INV} --only `)).toEqual(['cp', 'worker-with-a-long-name']);
    expect(words(`kbootstrap plan ${INV} --steps kubeadm-i`)).toEqual(['kubeadm-init']);
    expect(words('kbootstrap plan in')).toEqual(['inv.yaml']);
  }, 60_000);

  it('zsh: Tab in an interactive zsh (compinit) completes a command and a host', async (ctx) => {
    if ('skip' in got) { ctx.skip(); return; }
    const root = got.root;
    const zdot = join(dir, 'zdot');
    mkdirSync(zdot, { recursive: true });
    // zsh takes no module path from the environment: the unpacked modules (zle, complete) are named here
    writeFileSync(join(zdot, '.zshrc'), `module_path=(${join(root, 'usr', 'lib', 'x86_64-linux-gnu', 'zsh', '5.9')})
fpath=(${join(root, 'usr', 'share', 'zsh', 'functions')}/**/*(/))
autoload -Uz compinit && compinit -u -D
source <(kbootstrap completion zsh)
PS1='%% '
`);
    tmux('new-session', '-d', '-s', 'zsh', '-x', '100', '-y', '20',
      `cd ${dir} && PATH=${join(dir, 'bin')}:$PATH ZDOTDIR=${zdot} ${join(root, 'bin', 'zsh')} -i`);
    const screen = () => tmux('capture-pane', '-p', '-t', 'zsh');
    try {
      await waitFor(() => /^%\s*$/m.test(screen()), 20_000, () => `the zsh prompt; screen:\n${screen()}`);
      tmux('send-keys', '-t', 'zsh', '-l', 'kbootstrap st');
      tmux('send-keys', '-t', 'zsh', 'Tab');
      await waitFor(() => /^% kbootstrap status\s*$/m.test(screen()), 20_000, () => `"status" completed; screen:\n${screen()}`);
      tmux('send-keys', '-t', 'zsh', 'C-u');
      tmux('send-keys', '-t', 'zsh', '-l', `kbootstrap reset ${INV} --host w`);
      tmux('send-keys', '-t', 'zsh', 'Tab');
      await waitFor(() => /--host worker-with-a-long-name\s*$/m.test(screen()), 20_000, () => `the host completed; screen:\n${screen()}`);
    } finally {
      tmux('kill-session', '-t', 'zsh');
    }
  }, 90_000);
});
