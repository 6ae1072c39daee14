/**
 * kbootstrap init: a guided inventory. Asks for the cluster and its hosts,
 * writes a commented inventory, and validates it before it touches the disk.
 * --defaults writes a commented example without asking.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { parseInventory } from '../inventory/load.js';
import { parseIPv4, DNS1123_LABEL } from '../inventory/net.js';
import { EXIT, UsageError } from '../errors.js';
import type { Io } from '../io.js';

export interface Prompter {
  input(message: string, opts?: { default?: string; validate?: (v: string) => true | string }): Promise<string>;
  select<T extends string>(message: string, choices: { name: string; value: T }[], def?: T): Promise<T>;
  confirm(message: string, def: boolean): Promise<boolean>;
}

export interface InitAnswers {
  name: string;
  version: string;
  runtime: 'containerd' | 'docker';
  cni: 'calico' | 'flannel' | 'none';
  mirror: string;
  proxyMode: 'ipvs' | 'iptables';
  user: string;
  hosts: { name: string; address: string; role: 'control-plane' | 'worker'; user?: string }[];
}

export const DEFAULT_ANSWERS: InitAnswers = {
  name: 'lab',
  version: '1.30.4',
  runtime: 'containerd',
  cni: 'calico',
  mirror: 'upstream',
  proxyMode: 'ipvs',
  user: 'root',
  hosts: [
    { name: 'k8s-master', address: '192.168.40.128', role: 'control-plane' },
    { name: 'k8s-node01', address: '192.168.40.129', role: 'worker' },
    { name: 'k8s-node02', address: '192.168.40.130', role: 'worker' },
  ],
};

const y = (s: string) => JSON.stringify(s);

export function inventoryText(a: InitAnswers): string {
  const cps = a.hosts.filter((h) => h.role === 'control-plane').length;
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
    cps > 1 ? '  controlPlaneEndpoint: "192.0.2.10:6443"   # TODO: your load balancer or VIP in front of the control planes' : '  # controlPlaneEndpoint: "host:6443"   # default: the first control plane\'s address:6443',
    '  podSubnet: 10.244.0.0/16         # the CNI manifest is patched to match',
    '  serviceSubnet: 10.96.0.0/12',
    a.mirror === 'aliyun'
      ? '  imageRepository: registry.aliyuncs.com/google_containers   # control-plane and pause images'
      : '  # imageRepository: registry.aliyuncs.com/google_containers   # default registry.k8s.io',
    `  packageMirror: ${y(a.mirror)}        # upstream | aliyun | base URL of a mirror laid out like mirrors.aliyun.com`,
    `  containerRuntime: ${a.runtime}   # containerd | docker (docker-ce + cri-dockerd)`,
    ...(a.runtime === 'docker' && a.mirror !== 'upstream' ? ['  criDockerd: { url: "https://example.com/cri-dockerd/" }   # TODO: a copy of the cri-dockerd release files'] : []),
    `  cni: { plugin: ${a.cni} }           # calico | flannel | none; optional version, manifest (URL or file)`,
    `  kubeProxyMode: ${a.proxyMode}            # ipvs | iptables`,
    '  registryMirrors: []              # pull-through mirrors for docker.io',
    '  insecureRegistries: []           # host:port registries reached over plain HTTP',
    'ssh:                               # defaults for every host; each can override them under hosts[].ssh',
    `  user: ${y(a.user)}${a.user === 'root' ? '' : '                 # not root: commands run through sudo'}`,
    '  port: 22',
    '  privateKeyPath: ~/.ssh/id_ed25519',
    'hosts:                             # the first control plane runs kubeadm init',
    ...a.hosts.flatMap((h) => [
      `  - name: ${y(h.name)}`,
      `    address: ${h.address}`,
      `    role: ${h.role}`,
      ...(h.user && h.user !== a.user ? [`    ssh: { user: ${y(h.user)} }`] : []),
    ]),
  ];
  return lines.join('\n') + '\n';
}

const VERSION_RE = /^v?1\.\d+\.\d+$/;

export async function askAnswers(p: Prompter): Promise<InitAnswers> {
  const name = await p.input('Cluster name', { default: 'lab', validate: (v) => (DNS1123_LABEL.test(v) ? true : 'lowercase letters, digits and "-"') });
  const version = await p.input('Kubernetes version', { default: '1.30.4', validate: (v) => (VERSION_RE.test(v) ? true : 'a release like 1.30.4') });
  const runtime = await p.select('Container runtime', [{ name: 'containerd', value: 'containerd' }, { name: 'docker (docker-ce + cri-dockerd)', value: 'docker' }], 'containerd');
  const cni = await p.select('CNI plugin', [{ name: 'calico', value: 'calico' }, { name: 'flannel', value: 'flannel' }, { name: 'none (install your own)', value: 'none' }], 'calico');
  let mirror: string = await p.select('Package and image mirror', [{ name: 'upstream (pkgs.k8s.io, registry.k8s.io)', value: 'upstream' }, { name: 'aliyun (mirrors.aliyun.com)', value: 'aliyun' }, { name: 'another mirror (base URL)', value: 'url' }], 'upstream');
  if (mirror === 'url') mirror = await p.input('Mirror base URL', { validate: (v) => (/^https?:\/\/\S+$/.test(v) ? true : 'an http(s) URL') });
  const proxyMode = await p.select('kube-proxy mode', [{ name: 'ipvs', value: 'ipvs' }, { name: 'iptables', value: 'iptables' }], 'ipvs');
  const user = await p.input('SSH user for every host', { default: 'root', validate: (v) => (/^[a-z_][a-z0-9_.-]*$/i.test(v) ? true : 'a user name') });
  const hosts: InitAnswers['hosts'] = [];
  for (;;) {
    const i = hosts.length;
    const role = i === 0 ? 'control-plane' : await p.select(`Role of host ${i + 1}`, [{ name: 'worker', value: 'worker' }, { name: 'control-plane', value: 'control-plane' }], 'worker');
    const address = await p.input(`Address of host ${i + 1} (IPv4)`, { validate: (v) => (parseIPv4(v) === undefined ? 'an IPv4 address like 192.168.40.128' : hosts.some((h) => h.address === v) ? 'already used' : true) });
    const def = role === 'control-plane' ? (i === 0 ? 'k8s-master' : `k8s-master${i + 1}`) : `k8s-node${String(hosts.filter((h) => h.role === 'worker').length + 1).padStart(2, '0')}`;
    const name = await p.input(`Name of host ${i + 1}`, { default: def, validate: (v) => (!DNS1123_LABEL.test(v) ? 'lowercase letters, digits and "-"' : hosts.some((h) => h.name === v) ? 'already used' : true) });
    const hostUser = await p.input(`SSH user on ${name}`, { default: user });
    hosts.push({ name, address, role, user: hostUser });
    if (!(await p.confirm('Add another host?', hosts.length < 3))) break;
  }
  return { name, version, runtime, cni, mirror, proxyMode, user, hosts };
}

export async function init(file: string, o: { defaults?: boolean; force?: boolean }, io: Io, prompter: Prompter | undefined): Promise<number> {
  if (existsSync(file) && !o.force) throw new UsageError(`${file} exists: pass --force to overwrite it`);
  let answers = DEFAULT_ANSWERS;
  if (!o.defaults) {
    if (!prompter) throw new UsageError('init: no terminal to ask on; use --defaults to write a commented example');
    answers = await askAnswers(prompter);
  }
  const text = inventoryText(answers);
  const { warnings } = parseInventory(text, file); // throws InventoryError (exit 2) before anything is written
  writeFileSync(file, text, { mode: 0o644 });
  for (const w of warnings) io.err(`warning: ${w.path}: ${w.message}\n`);
  io.out(`wrote ${file}: ${answers.hosts.length} hosts, Kubernetes ${answers.version}. Next: kbootstrap check ${file}, then kbootstrap up ${file}\n`);
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
