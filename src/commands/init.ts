/**
 * kbootstrap init: a guided inventory. Asks for the cluster and its hosts,
 * writes a commented inventory, and validates it before it touches the disk.
 * --defaults writes a commented example without asking.
 */
import { existsSync } from 'node:fs';
import { expandHome, parseInventory } from '../inventory/load.js';
import { EXIT, InventoryError, UsageError, formatProblem, type Problem } from '../errors.js';
import { nameTaken, writeFileSafely } from '../local-file.js';
import { plural } from '../report.js';
import type { Io } from '../io.js';
import { defaultKubernetesVersion, proxyModeStatus } from '../versions/index.js';
import { CNI_NAMES, clusterCni, cniVersion, type CniName } from '../cni/index.js';
import type { KubeProxyMode } from '../inventory/model.js';

export interface Prompter {
  input(message: string, opts?: { default?: string; validate?: (v: string) => true | string }): Promise<string>;
  select<T extends string>(message: string, choices: { name: string; value: T }[], def?: T): Promise<T>;
  confirm(message: string, def: boolean): Promise<boolean>;
}

export interface InitAnswers {
  name: string;
  version: string;
  runtime: 'containerd' | 'docker';
  cni: CniName | 'none';
  mirror: string;
  /** cri-dockerd release files, needed with docker on a mirror that does not carry them */
  criDockerdUrl?: string;
  /** FILE=SHA256[, FILE=SHA256...]: the cri-dockerd release files the hosts install (cri-dockerd publishes no checksums) */
  criDockerdSha256?: string;
  /** the CNI manifest's sha256, when kbootstrap pins none for its release */
  cniSha256?: string;
  proxyMode: KubeProxyMode;
  podSubnet: string;
  serviceSubnet: string;
  /** a load balancer or VIP in front of several control planes */
  controlPlaneEndpoint?: string;
  user: string;
  /** empty: ssh-agent or a password */
  privateKeyPath?: string;
  hosts: { name: string; address: string; role: 'control-plane' | 'worker'; user?: string }[];
}

const minorOf = (version: string): number => Number(/^v?1\.(\d+)\./.exec(version)?.[1] ?? 0);

/**
 * The kube-proxy mode init suggests: nftables where the versions table says it is GA (1.33 on,
 * KEP-3866) and the CNI plugin's nftables setting is not a preview in the release kbootstrap
 * installs (flannel's is experimental, calico's a tech preview before v3.31), else iptables,
 * kube-proxy's own default. Either way the inventory validates with no warning.
 */
export function defaultProxyMode(version: string, cni: CniName | 'none'): KubeProxyMode {
  const minor = minorOf(version);
  if (proxyModeStatus(minor, 'nftables') !== 'ga') return 'iptables';
  const plugin = clusterCni({ plugin: cni });
  return !plugin || !plugin.nftables.preview(cniVersion(plugin, {}, minor)) ? 'nftables' : 'iptables';
}

const DEFAULT_VERSION = defaultKubernetesVersion();

export const DEFAULT_ANSWERS: InitAnswers = {
  name: 'lab',
  // the newest supported minor's latest patch, and its kube-proxy mode: the versions table
  version: DEFAULT_VERSION,
  runtime: 'containerd',
  cni: 'calico',
  mirror: 'upstream',
  proxyMode: defaultProxyMode(DEFAULT_VERSION, 'calico'),
  podSubnet: '10.244.0.0/16',
  serviceSubnet: '10.96.0.0/12',
  user: 'root',
  privateKeyPath: '~/.ssh/id_ed25519',
  hosts: [
    { name: 'k8s-master', address: '192.168.40.128', role: 'control-plane' },
    { name: 'k8s-node01', address: '192.168.40.129', role: 'worker' },
    { name: 'k8s-node02', address: '192.168.40.130', role: 'worker' },
  ],
};

const y = (s: string) => JSON.stringify(s);

/** "FILE=SHA256, FILE=SHA256" as pairs; a part without "=" keeps an empty digest (the parser then names it). */
function sha256Pairs(text: string): [string, string][] {
  return text.split(/[,\s]+/).filter(Boolean).map((p) => [p.slice(0, p.includes('=') ? p.indexOf('=') : p.length), p.includes('=') ? p.slice(p.indexOf('=') + 1) : '']);
}

export function inventoryText(a: InitAnswers): string {
  const lines = [
    '# kbootstrap inventory, written by `kbootstrap init`.',
    '# Field reference: README.md ("The inventory"); editors can complete this file',
    '# with schema/inventory.schema.json. Passwords never go here: kbootstrap reads',
    '# KBOOTSTRAP_SSH_PASSWORD / KBOOTSTRAP_SUDO_PASSWORD or asks.',
    'apiVersion: kbootstrap/v1',
    'kind: Inventory',
    'cluster:',
    `  name: ${y(a.name)}                # also the kubeconfig cluster and context name`,
    `  kubernetesVersion: ${y(a.version)}   # kubelet, kubeadm and kubectl are pinned and held at this version`,
    a.controlPlaneEndpoint !== undefined
      ? `  controlPlaneEndpoint: ${y(a.controlPlaneEndpoint)}   # the load balancer or VIP in front of the control planes`
      : '  # controlPlaneEndpoint: "host:6443"   # default: the first control plane\'s address:6443',
    `  podSubnet: ${y(a.podSubnet)}         # the CNI manifest is patched to match`,
    `  serviceSubnet: ${y(a.serviceSubnet)}`,
    a.mirror === 'aliyun'
      ? '  imageRepository: registry.aliyuncs.com/google_containers   # control-plane and pause images'
      : '  # imageRepository: registry.aliyuncs.com/google_containers   # default registry.k8s.io',
    `  packageMirror: ${y(a.mirror)}        # upstream | aliyun | base URL of a mirror laid out like mirrors.aliyun.com`,
    `  containerRuntime: ${a.runtime}   # containerd | docker (docker-ce + cri-dockerd)`,
    ...(a.criDockerdUrl !== undefined || a.criDockerdSha256 !== undefined
      ? [`  criDockerd: { ${[
        ...(a.criDockerdUrl !== undefined ? [`url: ${y(a.criDockerdUrl)}`] : []),
        ...(a.criDockerdSha256 !== undefined ? [`sha256: { ${sha256Pairs(a.criDockerdSha256).map(([f, d]) => `${y(f)}: ${y(d)}`).join(', ')} }`] : []),
      ].join(', ')} }   # where the cri-dockerd release files are, and the sha256 each must have`]
      : []),
    `  cni: { plugin: ${a.cni}${a.cniSha256 !== undefined ? `, sha256: ${y(a.cniSha256)}` : ''} }           # ${[...CNI_NAMES, 'none'].join(' | ')}; optional version, manifest (URL or file), sha256`,
    `  kubeProxyMode: ${a.proxyMode}        # iptables | ipvs (deprecated from Kubernetes 1.35) | nftables (GA from 1.33; the CNI's nftables setting follows)`,
    '  registryMirrors: []              # pull-through mirrors for docker.io',
    '  insecureRegistries: []           # host:port registries reached over plain HTTP',
    'ssh:                               # defaults for every host; each can override them under hosts[].ssh',
    `  user: ${y(a.user)}${a.user === 'root' ? '' : '                 # not root: commands run through sudo'}`,
    '  port: 22',
    a.privateKeyPath
      ? `  privateKeyPath: ${y(a.privateKeyPath)}`
      : '  # privateKeyPath: ~/.ssh/id_ed25519   # none: ssh-agent (SSH_AUTH_SOCK) or KBOOTSTRAP_SSH_PASSWORD',
    'hosts:                             # the first control plane runs kubeadm init',
    ...a.hosts.flatMap((h) => [
      `  - name: ${y(h.name)}`,
      `    address: ${y(h.address)}`,
      `    role: ${h.role}`,
      ...(h.user && h.user !== a.user ? [`    ssh: { user: ${y(h.user)} }`] : []),
    ]),
  ];
  return lines.join('\n') + '\n';
}

/** A host that makes an inventory of cluster answers parse, when no host has been asked for yet. */
const PROBE_HOST: InitAnswers['hosts'][number] = { name: 'probe', address: '203.0.113.1', role: 'control-plane' };

/**
 * The inventory's own rules, for one field: the answers so far are written
 * out and parsed exactly as `validate` would, and only the problems at that
 * field count. So a prompt refuses what the final file would refuse.
 */
export function fieldProblem(a: InitAnswers, path: string): true | string {
  const answers = a.hosts.length ? a : { ...a, hosts: [PROBE_HOST] };
  try {
    parseInventory(inventoryText(answers), 'answers');
    return true;
  } catch (e) {
    if (!(e instanceof InventoryError)) throw e;
    const p = e.problems.find((x) => x.severity === 'error' && (x.path === path || x.path.startsWith(`${path}.`)));
    return p ? p.message : true;
  }
}

/** Ask until the answer passes the field's rule (the prompter shows the message). */
async function ask(p: Prompter, a: InitAnswers, message: string, path: string, set: (v: string) => void, def?: string): Promise<void> {
  await p.input(message, { default: def, validate: (v) => { set(v.trim()); return fieldProblem(a, path); } }).then((v) => set(v));
}

function defaultName(hosts: InitAnswers['hosts'], role: 'control-plane' | 'worker'): string {
  const n = hosts.filter((h) => h.role === role).length + 1;
  return role === 'control-plane' ? (n === 1 ? 'k8s-master' : `k8s-master${n}`) : `k8s-node${String(n).padStart(2, '0')}`;
}

/** The host questions, for host i (asked again when the final check refuses one). */
async function askHost(p: Prompter, a: InitAnswers, i: number): Promise<void> {
  const h = a.hosts[i]!;
  await ask(p, a, `Address of host ${i + 1} (IPv4)`, `hosts[${i}].address`, (v) => { h.address = v; }, h.address || undefined);
  await ask(p, a, `Name of host ${i + 1}`, `hosts[${i}].name`, (v) => { h.name = v; }, h.name);
  await ask(p, a, `SSH user on ${h.name}`, `hosts[${i}].ssh.user`, (v) => { h.user = v; }, h.user ?? a.user);
}

async function askKey(p: Prompter, a: InitAnswers, warn: (s: string) => void): Promise<void> {
  const guess = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'].find((k) => existsSync(expandHome(k))) ?? '~/.ssh/id_ed25519';
  for (;;) {
    const v = await p.input('SSH private key file (- for none: ssh-agent or a password)', { default: a.privateKeyPath ?? guess });
    if (v === '-' || v === '') { a.privateKeyPath = undefined; return; }
    a.privateKeyPath = v;
    if (existsSync(expandHome(v))) return;
    warn(`warning: ${v} does not exist (yet): SSH with it will fail until it does`);
    if (await p.confirm(`Keep ${v} anyway?`, false)) return;
  }
}

const SELECT = {
  runtime: [{ name: 'containerd', value: 'containerd' }, { name: 'docker (docker-ce + cri-dockerd)', value: 'docker' }] as const,
  cni: [...CNI_NAMES.map((n) => ({ name: n as string, value: n as CniName | 'none' })), { name: 'none (install your own)', value: 'none' as const }],
  mirror: [{ name: 'upstream (pkgs.k8s.io, registry.k8s.io)', value: 'upstream' }, { name: 'aliyun (mirrors.aliyun.com)', value: 'aliyun' }, { name: 'another mirror (base URL)', value: 'url' }] as const,
};

/**
 * kube-proxy's modes for the minor, as the versions table has them: nftables where kube-proxy has it
 * (its stage said unless GA), iptables (its default), ipvs said deprecated where it is.
 */
function proxyChoices(version: string): { name: string; value: KubeProxyMode }[] {
  const minor = minorOf(version);
  const ipvs = proxyModeStatus(minor, 'ipvs');
  const nft = proxyModeStatus(minor, 'nftables');
  const deprecated = ipvs === 'deprecated' || ipvs === 'deprecated-gated';
  return [
    ...(nft ? [{ name: nft === 'ga' ? 'nftables' : `nftables (${nft} in 1.${minor}, KEP-3866)`, value: 'nftables' as const }] : []),
    { name: 'iptables', value: 'iptables' },
    { name: deprecated ? `ipvs (deprecated in 1.${minor}, KEP-5495)` : 'ipvs', value: 'ipvs' },
  ];
}

/** Re-ask the question behind an inventory path; false when no question sets it. */
async function reask(p: Prompter, a: InitAnswers, path: string, warn: (s: string) => void): Promise<boolean> {
  const host = /^hosts\[(\d+)\]/.exec(path);
  if (host && a.hosts[Number(host[1])]) { await askHost(p, a, Number(host[1])); return true; }
  switch (path) {
    case 'cluster.name': await ask(p, a, 'Cluster name', path, (v) => { a.name = v; }, a.name); return true;
    case 'cluster.kubernetesVersion': await ask(p, a, 'Kubernetes version', path, (v) => { a.version = v; }, a.version); return true;
    case 'cluster.podSubnet': await ask(p, a, 'Pod network (podSubnet, CIDR)', path, (v) => { a.podSubnet = v; }, a.podSubnet); return true;
    case 'cluster.serviceSubnet': await ask(p, a, 'Service network (serviceSubnet, CIDR)', path, (v) => { a.serviceSubnet = v; }, a.serviceSubnet); return true;
    case 'cluster.packageMirror': await ask(p, a, 'Mirror base URL', path, (v) => { a.mirror = v; }); return true;
    case 'cluster.containerRuntime': case 'cluster.criDockerd.url':
      await ask(p, a, 'Base URL of the cri-dockerd release files (the mirror does not carry them)', 'cluster.criDockerd.url', (v) => { a.criDockerdUrl = v; }, a.criDockerdUrl);
      return true;
    case 'cluster.criDockerd.sha256':
      await ask(p, a, 'sha256 of each cri-dockerd release file your hosts install, as FILE=SHA256 separated by commas (cri-dockerd publishes no checksums: check the files yourself)',
        path, (v) => { a.criDockerdSha256 = v; }, a.criDockerdSha256);
      return true;
    case 'cluster.cni.sha256':
      await ask(p, a, `sha256 of the ${a.cni} manifest kbootstrap fetches (it pins none for this release: check the file yourself)`, path, (v) => { a.cniSha256 = v; }, a.cniSha256);
      return true;
    case 'cluster.controlPlaneEndpoint':
      await ask(p, a, 'Load balancer or VIP in front of the control planes (host:port)', path, (v) => { a.controlPlaneEndpoint = v; }, a.controlPlaneEndpoint);
      return true;
    case 'ssh.user': await ask(p, a, 'SSH user for every host', path, (v) => { a.user = v; }, a.user); return true;
    case 'ssh.privateKeyPath': await askKey(p, a, warn); return true;
  }
  return false;
}

export async function askAnswers(p: Prompter, warn: (s: string) => void = () => undefined): Promise<InitAnswers> {
  const a: InitAnswers = { ...DEFAULT_ANSWERS, hosts: [], privateKeyPath: undefined };
  await ask(p, a, 'Cluster name', 'cluster.name', (v) => { a.name = v; }, a.name);
  await ask(p, a, 'Kubernetes version', 'cluster.kubernetesVersion', (v) => { a.version = v; }, a.version);
  a.runtime = await p.select('Container runtime', [...SELECT.runtime], 'containerd');
  a.cni = await p.select('CNI plugin', [...SELECT.cni], 'calico');
  const mirror = await p.select('Package and image mirror', [...SELECT.mirror], 'upstream');
  if (mirror === 'url') await ask(p, a, 'Mirror base URL', 'cluster.packageMirror', (v) => { a.mirror = v; });
  else a.mirror = mirror;
  if (fieldProblem(a, 'cluster.containerRuntime') !== true) await reask(p, a, 'cluster.criDockerd.url', warn);
  if (fieldProblem(a, 'cluster.criDockerd.sha256') !== true) await reask(p, a, 'cluster.criDockerd.sha256', warn);
  // the manifest's digest depends on the release, which the version picks: asked once the version stands
  if (fieldProblem(a, 'cluster.kubernetesVersion') === true && fieldProblem(a, 'cluster.cni.sha256') !== true) await reask(p, a, 'cluster.cni.sha256', warn);
  a.proxyMode = await p.select('kube-proxy mode', proxyChoices(a.version), defaultProxyMode(a.version, a.cni));
  await ask(p, a, 'Pod network (podSubnet, CIDR)', 'cluster.podSubnet', (v) => { a.podSubnet = v; }, a.podSubnet);
  await ask(p, a, 'Service network (serviceSubnet, CIDR)', 'cluster.serviceSubnet', (v) => { a.serviceSubnet = v; }, a.serviceSubnet);
  await ask(p, a, 'SSH user for every host', 'ssh.user', (v) => { a.user = v; }, a.user);
  await askKey(p, a, warn);
  for (;;) {
    const i = a.hosts.length;
    const role = i === 0 ? 'control-plane' : await p.select(`Role of host ${i + 1}`, [{ name: 'worker', value: 'worker' }, { name: 'control-plane', value: 'control-plane' }], 'worker');
    a.hosts.push({ name: defaultName(a.hosts, role), address: '', role, user: a.user });
    await askHost(p, a, i);
    if (!(await p.confirm('Add another host?', a.hosts.length < 3))) break;
  }
  if (a.hosts.filter((h) => h.role === 'control-plane').length > 1) await reask(p, a, 'cluster.controlPlaneEndpoint', warn);
  return a;
}

/** init writes to standard output when FILE is "-". */
function writeInventory(file: string, text: string): void {
  if (file === '-') { process.stdout.write(text); return; }
  writeFileSafely(file, text, { mode: 0o644 });
}

export async function init(file: string, o: { defaults?: boolean; force?: boolean }, io: Io, prompter: Prompter | undefined): Promise<number> {
  if (file !== '-' && nameTaken(file) && !o.force) throw new UsageError(`${file} exists: pass --force to overwrite it`);
  if (file === '-' && !o.defaults) throw new UsageError('init -: standard output is for --defaults; the wizard writes to a file');
  const warn = (s: string) => io.err(s + '\n');
  let answers = DEFAULT_ANSWERS;
  if (!o.defaults) {
    if (!prompter) throw new UsageError('init: no terminal to ask on; use --defaults to write a commented example');
    answers = await askAnswers(prompter, warn);
  }
  let text = inventoryText(answers);
  let warnings: Problem[] = [];
  // every prompt checked its own field; a rule across fields can still refuse the whole: ask again what it names
  for (let round = 1; ; round++) {
    try {
      warnings = parseInventory(text, file).warnings;
      break;
    } catch (e) {
      if (!(e instanceof InventoryError) || o.defaults) throw e;
      const failing = e.problems.filter((x) => x.severity === 'error');
      let reasked = round <= 3 && prompter !== undefined;
      for (const f of reasked ? failing : []) {
        warn(`${f.path || 'inventory'}: ${f.message}`);
        if (!(await reask(prompter!, answers, f.path, warn))) { reasked = false; break; }
      }
      if (!reasked) {
        // nothing left to ask: keep the answers rather than throw them away
        if (file === '-') throw e;
        const draft = `${file}.draft`;
        writeInventory(draft, text);
        io.err(`${e.problems.map(formatProblem).join('\n')}\nyour answers are saved in ${draft}: fix it, then kbootstrap validate ${draft}\n`);
        return EXIT.usage;
      }
      text = inventoryText(answers);
    }
  }
  writeInventory(file, text);
  for (const w of warnings) io.err(`warning: ${w.path}: ${w.message}\n`);
  if (file !== '-') io.out(`wrote ${file}: ${plural(answers.hosts.length, 'host')}, Kubernetes ${answers.version}. Next: kbootstrap check ${file}, then kbootstrap up ${file}\n`);
  return EXIT.ok;
}

/** The terminal prompter, on inquirer. */
export async function inquirerPrompter(): Promise<Prompter> {
  const { default: inquirer } = await import('inquirer');
  return {
    async input(message, opts) {
      const r = await inquirer.prompt<{ v: string }>([{ type: 'input', name: 'v', message, default: opts?.default, validate: opts?.validate }]);
      return r.v.trim();
    },
    async select(message, choices, def) {
      const r = await inquirer.prompt<{ v: typeof def }>([{ type: 'select', name: 'v', message, choices, default: def }]);
      return r.v!;
    },
    async confirm(message, def) {
      return (await inquirer.prompt<{ v: boolean }>([{ type: 'confirm', name: 'v', message, default: def }])).v;
    },
  };
}
