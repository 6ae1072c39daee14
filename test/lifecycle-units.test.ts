import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseDuration } from '../src/duration.js';
import { checkTtl } from '../src/commands/token.js';
import { resetTargets } from '../src/commands/reset.js';
import { mergeKubeconfig, rewriteAdminConf, defaultKubeconfigPath } from '../src/commands/kubeconfig.js';
import { askAnswers, init, inventoryText, DEFAULT_ANSWERS, type Prompter } from '../src/commands/init.js';
import { parseInventory, loadInventoryFile } from '../src/inventory/load.js';
import { UsageError } from '../src/errors.js';

const rocky = loadInventoryFile(join(import.meta.dirname, '..', 'inventories', 'rocky-ha.yaml')).inventory;
const io = () => { const o = { out: '', err: '' }; return { o, io: { out: (s: string) => { o.out += s; }, err: (s: string) => { o.err += s; }, isTTY: false } }; };

describe('token', () => {
  it('parses kubeadm durations', () => {
    expect(parseDuration('30m')).toBe(1800);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('24h0m0s')).toBe(86400);
    expect(parseDuration('0')).toBe(0);
    expect(parseDuration('2 hours')).toBeUndefined();
    expect(parseDuration('h')).toBeUndefined();
  });
  it('refuses a token that never expires unless forced', () => {
    expect(() => checkTtl('0', false)).toThrow(UsageError);
    expect(checkTtl('0', true)).toBe(0);
    expect(() => checkTtl('soon', false)).toThrow(/expected a duration like 30m/);
  });
});

describe('reset targets', () => {
  it('names hosts or --all, not both, not neither', () => {
    expect(() => resetTargets(rocky, {})).toThrow(/--host NAME/);
    expect(() => resetTargets(rocky, { all: true, host: ['cp-1'] })).toThrow(/not both/);
    expect(() => resetTargets(rocky, { host: ['nope'] })).toThrow(/no host named "nope"/);
  });
  it('keeps the last control planes unless --all', () => {
    expect(resetTargets(rocky, { host: ['cp-2', 'worker-1'] }).map((h) => h.name)).toEqual(['cp-2', 'worker-1']);
    expect(() => resetTargets(rocky, { host: ['cp-1', 'cp-2', 'cp-3'] })).toThrow('reset: cp-1, cp-2, cp-3 are all the control planes: resetting them destroys the cluster; use --all for that');
    expect(resetTargets(rocky, { all: true })).toHaveLength(5);
  });
});

describe('kubeconfig', () => {
  const admin = 'apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    certificate-authority-data: Q0E=\n    server: https://192.168.60.11:6443\n  name: kubernetes\ncontexts:\n- context:\n    cluster: kubernetes\n    user: kubernetes-admin\n  name: kubernetes-admin@kubernetes\ncurrent-context: kubernetes-admin@kubernetes\nusers:\n- name: kubernetes-admin\n  user:\n    client-certificate-data: Q0VSVA==\n    client-key-data: S0VZ\n';
  it('points at controlPlaneEndpoint and renames cluster, user and context after the cluster', () => {
    const c = rewriteAdminConf(admin, rocky);
    expect(c.clusters![0]).toEqual({ name: 'rocky-ha', cluster: { 'certificate-authority-data': 'Q0E=', server: 'https://192.168.60.100:6443' } });
    expect(c.users![0]!.name).toBe('rocky-ha-admin');
    expect(c.contexts![0]).toEqual({ name: 'rocky-ha', context: { cluster: 'rocky-ha', user: 'rocky-ha-admin' } });
  });
  it('merges without touching other entries or the current context, and replaces its own', () => {
    const mine = rewriteAdminConf(admin, rocky);
    const other = { apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'x', cluster: { server: 'https://x' } }], users: [{ name: 'x', user: {} }], contexts: [{ name: 'x', context: { cluster: 'x', user: 'x' } }], 'current-context': 'x' };
    const once = mergeKubeconfig(other, mine);
    expect(once.contexts!.map((c) => c.name)).toEqual(['x', 'rocky-ha']);
    expect(once['current-context']).toBe('x');
    expect(mergeKubeconfig(once, mine)).toEqual(once);
    expect(mergeKubeconfig(undefined, mine)['current-context']).toBe('rocky-ha');
  });
  it('uses the first $KUBECONFIG path', () => {
    expect(defaultKubeconfigPath({ KUBECONFIG: '/a/one:/b/two' })).toBe('/a/one');
  });
});

/** Answers prompts in order, and checks each prompt's message so the script follows the wizard. */
function scripted(answers: [RegExp, string | boolean][]): Prompter & { asked: string[] } {
  const asked: string[] = [];
  const next = (message: string) => {
    asked.push(message);
    const a = answers.shift();
    if (!a) throw new Error(`no scripted answer for "${message}"`);
    if (!a[0].test(message)) throw new Error(`expected a prompt like ${a[0]}, got "${message}"`);
    return a[1];
  };
  return {
    asked,
    async input(message, opts) {
      const v = String(next(message));
      const value = v === '' ? opts?.default ?? '' : v;
      const ok = opts?.validate?.(value) ?? true;
      if (ok !== true) throw new Error(`validation: ${ok}`);
      return value;
    },
    async select(message, choices) {
      const v = String(next(message));
      if (!choices.some((c) => c.value === v)) throw new Error(`${v} is not a choice of "${message}"`);
      return v as never;
    },
    async confirm(message) { return Boolean(next(message)); },
  };
}

describe('init', () => {
  it('the wizard asks for the cluster and the hosts, and writes a valid, commented inventory', async () => {
    const p = scripted([
      [/Cluster name/, 'homelab'], [/Kubernetes version/, '1.31.2'], [/Container runtime/, 'containerd'], [/CNI plugin/, 'flannel'],
      [/mirror/, 'aliyun'], [/sha256 of the flannel manifest/, 'ab'.repeat(32)], [/kube-proxy mode/, 'iptables'], [/podSubnet/, ''], [/serviceSubnet/, ''], [/SSH user for every host/, 'ubuntu'], [/private key/, '-'],
      [/Address of host 1/, '10.0.0.10'], [/Name of host 1/, ''], [/SSH user on k8s-master/, ''], [/Add another host/, true],
      [/Role of host 2/, 'worker'], [/Address of host 2/, '10.0.0.11'], [/Name of host 2/, 'node-a'], [/SSH user on node-a/, 'root'], [/Add another host/, false],
    ]);
    const a = await askAnswers(p);
    const dir = mkdtempSync(join(tmpdir(), 'kb-init-'));
    const file = join(dir, 'inv.yaml');
    writeFileSync(file, '');
    const { io: w } = io();
    await expect(init(file, {}, w, p)).rejects.toThrow(/exists: pass --force/);
    const { o, io: w2 } = io();
    const text = inventoryText(a);
    expect(text).toContain('# kbootstrap inventory, written by `kbootstrap init`.');
    const inv = parseInventory(text, 'inv.yaml').inventory;
    expect(inv.cluster).toMatchObject({ name: 'homelab', kubernetesVersion: '1.31.2', packageMirror: 'aliyun', imageRepository: 'registry.aliyuncs.com/google_containers', kubeProxyMode: 'iptables', cni: { plugin: 'flannel', sha256: 'ab'.repeat(32) } });
    expect(inv.hosts.map((h) => [h.name, h.address, h.role, h.ssh.user])).toEqual([['k8s-master', '10.0.0.10', 'control-plane', 'ubuntu'], ['node-a', '10.0.0.11', 'worker', 'root']]);
    // driven end to end through init itself
    const p2 = scripted([
      [/Cluster name/, ''], [/Kubernetes version/, ''], [/Container runtime/, 'docker'], [/CNI plugin/, 'calico'], [/mirror/, 'upstream'],
      [/sha256 of each cri-dockerd release file/, `cri-dockerd_0.3.16.3-0.ubuntu-jammy_amd64.deb=${'ab'.repeat(32)}`], [/kube-proxy mode/, 'ipvs'], [/podSubnet/, ''], [/serviceSubnet/, ''], [/SSH user/, ''], [/private key/, '-'],
      [/Address of host 1/, '192.168.1.5'], [/Name of host 1/, ''], [/SSH user on/, ''], [/Add another host/, false],
    ]);
    const file2 = join(dir, 'second.yaml');
    expect(await init(file2, {}, w2, p2)).toBe(0);
    expect(o.out).toContain(`wrote ${file2}: 1 host, Kubernetes 1.36.4`); // the versions table's default
    expect(loadInventoryFile(file2).inventory.cluster.containerRuntime).toBe('docker');
    expect(loadInventoryFile(file2).inventory.cluster.criDockerd.sha256).toEqual({ 'cri-dockerd_0.3.16.3-0.ubuntu-jammy_amd64.deb': 'ab'.repeat(32) });
  });

  it('the wizard re-asks nothing it cannot validate: a bad address fails its prompt', async () => {
    const p = scripted([[/Cluster name/, ''], [/version/, ''], [/runtime/, 'containerd'], [/CNI/, 'calico'], [/mirror/, 'upstream'], [/proxy/, 'ipvs'], [/podSubnet/, ''], [/serviceSubnet/, ''], [/SSH user/, ''], [/private key/, '-'], [/Address of host 1/, '10.0.0.300']]);
    await expect(askAnswers(p)).rejects.toThrow('validation: expected an IPv4 address like 192.168.40.128, got "10.0.0.300"');
  });

  it('--defaults writes the commented example, and refuses to ask without a terminal', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-init-'));
    const { o, io: w } = io();
    expect(await init(join(dir, 'a.yaml'), { defaults: true }, w, undefined)).toBe(0);
    const text = readFileSync(join(dir, 'a.yaml'), 'utf8');
    expect(parse(text).hosts).toHaveLength(DEFAULT_ANSWERS.hosts.length);
    expect(text).toMatch(/# also the kubeconfig cluster and context name/);
    expect(o.out).toContain('Next: kbootstrap check');
    await expect(init(join(dir, 'b.yaml'), {}, w, undefined)).rejects.toThrow(/no terminal to ask on; use --defaults/);
  });
});
