/**
 * The real kubectl 1.36 as the oracle for every `kubectl` command line
 * kbootstrap renders (issue 20 item 8).
 *
 * sid's kubectl (1.36.x; Debian's `kubectl` package, source `kubernetes`) is
 * fetched into the lab's cache (test/support/debian-suites.ts). The command
 * lines come from the scripts kbootstrap renders: the dry runs of `up` and
 * `upgrade` for every inventory in inventories/ (the golden inventories), and
 * the scripts of `status`, `reset` and the session that no dry run shows,
 * rendered from their templates. Each line is found where bash would run it
 * (a `kubectl` or `kb_kubectl` word in command position, outside comments and
 * here-documents), cut at the end of its simple command (an unquoted |, ;, &,
 * ) or newline, line continuations followed), and bash itself evaluates it
 * with the script's own kb_kubectl and a `kubectl` function that records its
 * argv: quoting, expansions and kb_kubectl's --kubeconfig are bash's, not ours.
 * Then the real kubectl runs each argv against a kubeconfig for
 * https://127.0.0.1:1, where nothing listens: it must fail on the connection
 * only, never on a flag or an argument. Limits: the --kubeconfig value is
 * replaced with that kubeconfig, `-f FILE` of a host path with a small
 * manifest and stdin (`-f -`) is that manifest; a line assembled at run time
 * from a variable holding a command (none today) would not be seen; and kubectl
 * checks some arguments only after the server answered (`-o wid` of `get`, a
 * resource type's name), which a server that is not there cannot show.
 */
import { buildTokenCreatePlan } from '../../src/commands/token.js';
import { buildResetPlan } from '../../src/commands/reset.js';
import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { loadInventoryFile } from '../../src/inventory/load.js';
import { dryRun } from '../../src/dry-run.js';
import { buildUpgradePlan } from '../../src/plan.js';
import { buildBackupPlan, buildRestorePlan } from '../../src/commands/etcd.js';
import { fixtureBackup } from '../support/etcd-fixture.js';
import { render } from '../../src/shell/templates.js';
import { PRELUDE } from '../../src/shell/prelude.js';
import { fetchOrSkip } from '../support/debian-suites.js';

const SID = fetchOrSkip('sid', 'kubectl', ['kubectl']);
const SKIP = 'skip' in SID ? SID.skip : '';
const KUBECTL = 'skip' in SID ? '' : join(SID.root, 'usr/bin/kubectl');

const ROOT = join(import.meta.dirname, '..', '..');
const INVENTORIES = readdirSync(join(ROOT, 'inventories')).filter((f) => f.endsWith('.yaml')).sort();

const COMMAND_WORD = /(?<![\w.=/-])(kb_kubectl|kubectl)(?=[ \t])/g;
/** What may stand before a command word on its line: nothing, an operator, `$(`, a keyword, an assignment of `$(`. */
const COMMAND_POSITION = /(?:^|[|;&(!]|\$\(|\b(?:if|elif|then|else|do|while|until)|\w+=\$\()[ \t]*$/;

/**
 * Every kubectl command line of a bash script, as text: from the command word
 * to the end of its simple command. Skips comments, here-documents and
 * kb_kubectl's own definition (its body is what the recorder sees).
 */
function kubectlCommands(script: string): string[] {
  const lines = script.split('\n');
  const out: string[] = [];
  let heredoc: string | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (heredoc !== undefined) {
      if (line === heredoc) heredoc = undefined;
      continue;
    }
    const hd = /<<-?[ \t]*(['"]?)([A-Za-z_][A-Za-z0-9_]*)\1/.exec(line);
    if (/^\s*#/.test(line) || /^kb_kubectl\(\) \{/.test(line) || /^\s*kubectl --kubeconfig=\S+ "\$@"$/.test(line)) {
      if (hd) heredoc = hd[2];
      continue;
    }
    for (const m of line.matchAll(COMMAND_WORD)) {
      const before = line.slice(0, m.index);
      if (!COMMAND_POSITION.test(before) || /(^|\s)#/.test(before) || insideQuotes(before)) continue;
      out.push(simpleCommand(lines.slice(i).join('\n'), m.index));
    }
    if (hd) heredoc = hd[2];
  }
  return out;
}

/** Whether the end of `text` is inside quotes (a `$(` inside double quotes starts a command again). */
function insideQuotes(text: string): boolean {
  let q: '' | "'" | '"' = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (q === "'") { if (c === "'") q = ''; continue; }
    if (c === '\\') { i++; continue; }
    if (q === '"') {
      if (c === '"') q = '';
      else if (c === '$' && text[i + 1] === '(') { q = ''; i++; }
      continue;
    }
    if (c === "'" || c === '"') q = c;
  }
  return q !== '';
}

/** The simple command starting at `start`: up to an unquoted |, ;, &, newline or the ) closing an outer $( (continuations followed). */
function simpleCommand(text: string, start: number): string {
  let q: '' | "'" | '"' = '';
  let depth = 0;
  let i = start;
  for (; i < text.length; i++) {
    const c = text[i]!;
    if (q === "'") { if (c === "'") q = ''; continue; }
    if (c === '\\') { i++; continue; }
    if (q === '"') {
      if (c === '"') q = '';
      else if (c === '$' && text[i + 1] === '(') { depth++; i++; }
      else if (c === ')' && depth) depth--;
      continue;
    }
    if (c === "'" || c === '"') { q = c; continue; }
    if (c === '$' && text[i + 1] === '(') { depth++; i++; continue; }
    if (c === ')') { if (!depth) break; depth--; continue; }
    if (!depth && (c === '|' || c === ';' || c === '&' || c === '\n')) {
      // 2>&1 and >&2 are redirections, not operators
      if (c === '&' && text[i - 1] === '>') continue;
      break;
    }
  }
  return text.slice(start, i).replace(/\\\n/g, ' ').trim();
}

/** The argv kubectl gets from each command line: bash evaluates it with the script's kb_kubectl and a recording kubectl. */
function argvs(commands: string[], kbKubectl: string): string[][] {
  const body = commands.map((c) => `${c}\nprintf '\\1' >&3`).join('\n');
  const script = `${kbKubectl}\nkubectl() { printf '%s\\0' "$@" >&3; }\nkb_conf=/etc/kubernetes/admin.conf\nset -u\n${body}\n`;
  const r = spawnSync('bash', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`bash could not evaluate the kubectl lines (${r.status}): ${r.stderr}\n${commands.join('\n')}`);
  const recorded = (r.output[3] as string).split('\x01').slice(0, -1);
  expect(recorded).toHaveLength(commands.length);
  return recorded.map((a) => a.split('\0').slice(0, -1));
}

/** kb_kubectl as the script defines it (the prelude's). */
function kbKubectlOf(script: string): string {
  const m = /^kb_kubectl\(\) \{\n[\s\S]*?\n\}$/m.exec(script);
  if (!m) throw new Error('no kb_kubectl in the script');
  return m[0];
}

interface Rendered { source: string; script: string }

/** Every script kbootstrap renders that runs kubectl: dry runs of up and upgrade, and the lifecycle commands' templates. */
async function renderedScripts(): Promise<Rendered[]> {
  const out: Rendered[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'kb-kubectl-'));
  try {
    // files an inventory names beside itself (private-registry.yaml's CA) come along with its copy
    for (const f of readdirSync(join(ROOT, 'inventories')).filter((n) => !n.endsWith('.yaml'))) copyFileSync(join(ROOT, 'inventories', f), join(dir, f));
    for (const f of INVENTORIES) {
      const path = join(ROOT, 'inventories', f);
      const { inventory } = loadInventoryFile(path);
      for (const h of await dryRun(inventory)) out.push({ source: `up --dry-run ${f} ${h.host}`, script: h.script });
      // the upgrade to the next minor, as the golden upgrade inventories do
      const minor = inventory.cluster.minor + 1;
      const up = join(dir, f);
      writeFileSync(up, readFileSync(path, 'utf8').replace(/kubernetesVersion: "[^"]+"/, `kubernetesVersion: "1.${minor}.2"`));
      const { inventory: target } = loadInventoryFile(up);
      for (const h of await dryRun(target, { plan: buildUpgradePlan(target) })) out.push({ source: `upgrade --dry-run ${f} (1.${minor}.2) ${h.host}`, script: h.script });
      // backup and restore (issue 22)
      for (const h of await dryRun(inventory, { plan: buildBackupPlan(inventory, {}) })) out.push({ source: `backup --dry-run ${f} ${h.host}`, script: h.script });
      const restore = buildRestorePlan(inventory, { ...fixtureBackup(inventory.cluster.name), file: 'backup.tar.gz' }, false);
      for (const h of await dryRun(inventory, { plan: restore })) out.push({ source: `restore --dry-run ${f} ${h.host}`, script: h.script });
      for (const h of await dryRun(inventory, { plan: buildResetPlan(inventory, { all: true }) })) out.push({ source: `reset --all --dry-run ${f} ${h.host}`, script: h.script });
      for (const h of await dryRun(inventory, { plan: buildTokenCreatePlan(inventory, { ttl: '2h' }, {}) })) out.push({ source: `token --dry-run ${f} ${h.host}`, script: h.script });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // no dry run shows these (status's facts, src/host/fact.ts): rendered as those commands do
  for (const [name, ctx] of OTHER_TEMPLATES) out.push({ source: `templates/${name}.sh.hbs`, script: `${PRELUDE}\n${render(name, ctx)}` });
  return out;
}

const OTHER_TEMPLATES: [string, Record<string, unknown>][] = [
  ['facts/cluster-nodes', {}],
  // flannel's live nftables switch (src/cni/flannel.ts); no example inventory runs flannel with nftables
  ['cni/flannel-nftables', { sed: 's#"EnableNFTables": *[a-z]*#"EnableNFTables": true#' }],
];

/** Templates with a kubectl command line (the guard below: each must be reached by a dry run or be in OTHER_TEMPLATES). */
function templatesWithKubectl(): string[] {
  const files = execFileSync('find', [join(ROOT, 'templates'), '-name', '*.hbs'], { encoding: 'utf8' }).trim().split('\n');
  return files.filter((f) => kubectlCommands(readFileSync(f, 'utf8')).length).map((f) => relative(join(ROOT, 'templates'), f).replace(/\.sh\.hbs$/, '')).sort();
}

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: nowhere
  cluster: { server: "https://127.0.0.1:1", insecure-skip-tls-verify: true }
users:
- name: nobody
  user: { token: "not-a-token" }
contexts:
- name: nowhere
  context: { cluster: nowhere, user: nobody }
current-context: nowhere
`;
const MANIFEST = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kbootstrap-oracle\n  namespace: kube-system\ndata:\n  mode: ""\n';

/** Run the real kubectl on one argv against nothing; the connection must be its only complaint. */
function judge(argv: string[], dir: string): { ok: boolean; stderr: string } {
  const args = argv.map((a, i) => {
    if (a.startsWith('--kubeconfig=')) return `--kubeconfig=${join(dir, 'kubeconfig')}`;
    if (argv[i - 1] === '--kubeconfig') return join(dir, 'kubeconfig');
    if ((argv[i - 1] === '-f' || argv[i - 1] === '--filename') && a !== '-') return join(dir, 'manifest.yaml');
    return a;
  });
  if (!args.some((a) => a.startsWith('--kubeconfig'))) throw new Error(`a kubectl line without --kubeconfig would use the host's default: ${argv.join(' ')}`);
  const r = spawnSync(KUBECTL, args, { input: MANIFEST, encoding: 'utf8', timeout: 30_000, env: { PATH: process.env.PATH ?? '', HOME: dir } });
  const lines = r.stderr.split('\n').filter((l) => l.trim());
  const ok = r.status !== 0 && r.status !== null && lines.length > 0 && lines.every((l) => /127\.0\.0\.1:1\b.*refused|refused.*127\.0\.0\.1:1\b|connection refused/.test(l));
  return { ok, stderr: r.stderr };
}

function withJudgeDir<T>(fn: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'kb-kubectl-'));
  try {
    writeFileSync(join(dir, 'kubeconfig'), KUBECONFIG, { mode: 0o600 });
    writeFileSync(join(dir, 'manifest.yaml'), MANIFEST);
    return fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('finding kubectl command lines in a script', () => {
  it('takes command words only, and cuts each at the end of its simple command', () => {
    const script = [
      'kb_kubectl() {', '  kubectl --kubeconfig=/etc/kubernetes/admin.conf "$@"', '}',
      '# kubectl drain <node> in a comment',
      'apt-mark hold kubelet kubeadm kubectl',
      'yum install -y kubectl-1.31.2 kubelet=1.2',
      'if kb_node=$(kubectl --kubeconfig="$kb_conf" get node \'a b\' -o json 2>&1); then :; fi',
      'until kb_kubectl get --raw=/readyz >/dev/null 2>&1; do sleep 1; done',
      'kb_kubectl -n x get cm y -o yaml \\', '  | sed s/a/b/ \\', '  | kb_kubectl replace -f -',
      'echo "kubectl get nodes"',
      'until ! ip a | grep -qF " $kb_vip/" && kb_kubectl get --raw=/readyz; do :; done',
      "kb_write /f 644 root:root <<'EOF'", 'kubectl get secrets', 'EOF',
      'x=$(kb_kubectl get nodes | awk \'{ print $1 }\')',
    ].join('\n');
    expect(kubectlCommands(script)).toEqual([
      'kubectl --kubeconfig="$kb_conf" get node \'a b\' -o json 2>&1',
      'kb_kubectl get --raw=/readyz >/dev/null 2>&1',
      'kb_kubectl -n x get cm y -o yaml',
      'kb_kubectl replace -f -',
      'kb_kubectl get --raw=/readyz',
      'kb_kubectl get nodes',
    ]);
  });
});

describe.skipIf(!!SKIP)('every kubectl command line kbootstrap renders, in the real kubectl 1.36 (Debian sid)', () => {
  it('the judge is kubectl 1.36', () => {
    expect(execFileSync(KUBECTL, ['version', '--client'], { encoding: 'utf8' })).toMatch(/^Client Version: v1\.36\.\d+$/m);
  });

  it('every template with a kubectl line is reached: by a dry run, or rendered here like its command does', async () => {
    const scripts = await renderedScripts();
    const all = scripts.map((s) => s.script).join('\n');
    const unreached = templatesWithKubectl().filter((t) => !OTHER_TEMPLATES.some(([n]) => n === t)).filter((t) => {
      // the template's first kubectl line, up to its first handlebars expression, appears in a dry run
      const first = kubectlCommands(readFileSync(join(ROOT, 'templates', `${t}.sh.hbs`), 'utf8'))[0]!;
      return !all.includes(first.split('{{')[0]!.trimEnd());
    });
    expect(unreached).toEqual([]);
  });

  it('parses every one and fails only on the connection to 127.0.0.1:1', { timeout: 120_000 }, async () => {
    const scripts = await renderedScripts();
    const t0 = Date.now();
    const seen = new Map<string, string>();
    for (const s of scripts) {
      const cmds = kubectlCommands(s.script);
      argvs(cmds, kbKubectlOf(s.script)).forEach((argv) => {
        const key = JSON.stringify(argv);
        if (!seen.has(key)) seen.set(key, s.source);
      });
    }
    // 17 distinct kubectl lines in the lab inventory's up alone; all inventories, upgrades and lifecycle commands give more
    expect(seen.size).toBeGreaterThan(40);
    const bad = withJudgeDir((dir) => [...seen].flatMap(([key, source]) => {
      const argv = JSON.parse(key) as string[];
      const r = judge(argv, dir);
      return r.ok ? [] : [`${source}: kubectl ${argv.join(' ')}\n${r.stderr}`];
    }));
    expect(bad, bad.join('\n')).toEqual([]);
    console.log(`kubectl 1.36 judged ${seen.size} distinct command lines from ${scripts.length} rendered scripts in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  });

  it('can fail: a rendered upgrade script with drain\'s old --delete-local-data (replaced by --delete-emptydir-data, since removed) is caught end to end', async () => {
    const s = (await renderedScripts()).find((r) => r.source.startsWith('upgrade --dry-run rocky-ha.yaml') && r.source.endsWith(' cp-1'))!;
    const broken = s.script.replaceAll('--delete-emptydir-data', '--delete-local-data');
    expect(broken).not.toBe(s.script);
    withJudgeDir((dir) => {
      const drains = argvs(kubectlCommands(broken), kbKubectlOf(broken)).filter((argv) => argv.includes('drain'));
      expect(drains.length).toBe(5);
      for (const argv of drains) {
        expect(argv).toContain('--delete-local-data');
        const v = judge(argv, dir);
        expect(v.ok).toBe(false);
        expect(v.stderr).toMatch(/unknown flag: --delete-local-data/);
      }
    });
  });

  it('can fail: a removed flag, a missing argument, bad durations and a missing resource are rejected, not refused', () => {
    withJudgeDir((dir) => {
      const kb = ['--kubeconfig=/etc/kubernetes/admin.conf'];
      for (const [argv, said] of [
        [[...kb, 'drain', 'worker-1', '--ignore-daemonsets', '--delete-local-data'], /unknown flag: --delete-local-data/],
        [[...kb, 'label', 'node', 'worker-1', '--overwrite'], /at least one label update is required/],
        [[...kb, 'drain', 'worker-1', '--timeout=10 m'], /invalid argument "10 m" for "--timeout" flag/],
        [[...kb, 'get', '--raw=/readyz', '--request-timeout=5q'], /Invalid timeout value/],
        [[...kb, 'rollout', 'restart'], /required resource not specified/],
      ] as const) {
        const r = judge([...argv], dir);
        expect(r.ok, `kubectl ${argv.join(' ')} passed the judge`).toBe(false);
        expect(r.stderr).toMatch(said);
      }
      // and the same judge passes the line kbootstrap renders
      expect(judge([...kb, 'drain', 'worker-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=10m'], dir).ok).toBe(true);
    });
  });
});

if (SKIP) describe('every kubectl command line in the real kubectl 1.36', () => it.skip(`SKIPPED: ${SKIP}`, () => {}));
