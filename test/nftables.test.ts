/**
 * kube-proxy's nftables mode end to end, short of a cluster: what validate says per minor and CNI
 * release (from the versions table), the KubeProxyConfiguration kubeadm gets, the CNI manifests
 * edited by real sed, the kernel rule, check's nft row, and the live switch's drift reading.
 * The lab converges with it in test/e2e/nftables.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { parseInventory } from '../src/inventory/load.js';
import { InventoryError } from '../src/errors.js';
import { initConfig } from '../src/kubeadm-config.js';
import { manifestEdits } from '../src/steps/cni.js';
import { kubeProxyModeStep } from '../src/steps/kube-proxy-mode.js';
import { hostRequirements } from '../src/kube/host-requirements.js';
import { nftVersionProblem } from '../src/kube/proxy-mode.js';
import { CNI_PLUGINS } from '../src/cni/index.js';
import { clusterState } from '../src/kube/cluster-state.js';
import { judge } from '../src/commands/check.js';
import { ctxFor } from './support/contexts.js';

const FIXTURES = join(import.meta.dirname, 'lab', 'fixtures');
const SHA = 'a'.repeat(64);

function inventory(cluster: string): string {
  return `apiVersion: kbootstrap/v1
kind: Inventory
cluster:
  name: nft
${cluster.replace(/^/gm, '  ')}
ssh: { user: root, configFile: none }
hosts:
  - { name: cp, address: 192.168.50.10, role: control-plane, os: debian12 }
`;
}

/** Errors and warnings (path: message) of an inventory. */
function verdict(cluster: string): { errors: string[]; warnings: string[] } {
  try {
    const r = parseInventory(inventory(cluster), 'nft.yaml');
    return { errors: [], warnings: r.warnings.map((w) => `${w.path}: ${w.message}`) };
  } catch (e) {
    if (!(e instanceof InventoryError)) throw e;
    return {
      errors: e.problems.filter((p) => p.severity === 'error').map((p) => `${p.path}: ${p.message}`),
      warnings: e.problems.filter((p) => p.severity !== 'error').map((p) => `${p.path}: ${p.message}`),
    };
  }
}
const load = (cluster: string) => parseInventory(inventory(cluster), 'nft.yaml').inventory;

describe('validate: kubeProxyMode nftables against the minor and the CNI release', () => {
  it('refused where kube-proxy has no nftables mode (before 1.29)', () => {
    const v = verdict('kubernetesVersion: "1.28.15"\ncni: { plugin: calico, version: v3.29.7 }\nkubeProxyMode: nftables');
    expect(v.errors).toContain('cluster.kubeProxyMode: kube-proxy 1.28 has no nftables mode: it came as alpha in 1.29 and is GA from 1.33 (KEP-3866); use iptables, or Kubernetes 1.33 or later');
  });

  it('warned as alpha on 1.29-1.30 (the gate kbootstrap turns on) and as beta on 1.31-1.32; nothing on 1.33+', () => {
    const alpha = verdict('kubernetesVersion: "1.30.4"\ncni: { plugin: calico, version: v3.29.7 }\nkubeProxyMode: nftables');
    expect(alpha.errors).toEqual([]);
    expect(alpha.warnings.join('\n')).toContain('nftables mode is alpha in 1.30, behind the NFTablesProxyMode feature gate, off by default (KEP-3866): kbootstrap turns the gate on');
    const beta = verdict('kubernetesVersion: "1.31.2"\ncni: { plugin: calico, version: v3.31.7 }\nkubeProxyMode: nftables');
    expect(beta.warnings.filter((w) => w.startsWith('cluster.kubeProxyMode'))).toEqual(['cluster.kubeProxyMode: kube-proxy\'s nftables mode is beta in 1.31 (the NFTablesProxyMode feature gate is on by default, KEP-3866); it is GA from 1.33']);
    const ga = verdict('kubernetesVersion: "1.36.4"\ncni: { plugin: calico }\nkubeProxyMode: nftables');
    expect(ga).toEqual({ errors: [], warnings: [] });
  });

  it('a CNI release without an nftables setting is refused; a preview one is warned', () => {
    const old = verdict('kubernetesVersion: "1.33.13"\ncni: { plugin: calico, version: v3.28.2 }\nkubeProxyMode: nftables');
    expect(old.errors.join('\n')).toContain('cluster.cni.version: calico v3.28.2 has no nftables setting (it came in v3.29.0');
    const preview = verdict('kubernetesVersion: "1.33.13"\ncni: { plugin: calico, version: v3.30.7 }\nkubeProxyMode: nftables');
    expect(preview.errors).toEqual([]);
    expect(preview.warnings).toContain('cluster.kubeProxyMode: calico v3.30.7\'s nftables data plane is a tech preview (v3.29.0 release notes); it is generally available from v3.31.0');
    const flannelOld = verdict(`kubernetesVersion: "1.36.4"\ncni: { plugin: flannel, version: v0.24.4, sha256: "${SHA}" }\nkubeProxyMode: nftables`);
    expect(flannelOld.errors.join('\n')).toContain('flannel v0.24.4 has no nftables setting (it came in v0.25.0');
    const flannel = verdict(`kubernetesVersion: "1.36.4"\ncni: { plugin: flannel, sha256: "${SHA}" }\nkubeProxyMode: nftables`);
    expect(flannel.warnings).toEqual(['cluster.kubeProxyMode: flannel v0.28.9\'s EnableNFTables is experimental (its Documentation/configuration.md)']);
    // iptables and ipvs never ask the CNI for anything
    expect(verdict('kubernetesVersion: "1.35.9"\ncni: { plugin: calico, version: v3.28.2 }\nkubeProxyMode: iptables').errors).toEqual([]);
  });
});

describe('KubeProxyConfiguration', () => {
  const proxyDoc = (cluster: string) => {
    const inv = load(cluster);
    const docs = parseAllDocuments(initConfig(inv.cluster, inv.hosts[0]!)).map((d) => d.toJS() as { kind: string });
    return docs.find((d) => d.kind === 'KubeProxyConfiguration');
  };
  it('mode nftables; the alpha gate only where nftables is alpha', () => {
    expect(proxyDoc('kubernetesVersion: "1.36.4"\nkubeProxyMode: nftables')).toEqual({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'nftables' });
    expect(proxyDoc('kubernetesVersion: "1.30.4"\ncni: { plugin: calico, version: v3.29.7 }\nkubeProxyMode: nftables')).toMatchObject({ mode: 'nftables', featureGates: { NFTablesProxyMode: true } });
    expect(proxyDoc('kubernetesVersion: "1.31.2"\ncni: { plugin: calico, version: v3.31.7 }\nkubeProxyMode: nftables')).not.toHaveProperty('featureGates');
    expect(proxyDoc('kubernetesVersion: "1.30.4"\nkubeProxyMode: ipvs')).toEqual({ apiVersion: 'kubeproxy.config.k8s.io/v1alpha1', kind: 'KubeProxyConfiguration', mode: 'ipvs' });
  });
});

/** Run the inventory's manifest edits with the machine's sed (GNU, as on the hosts), as the cni step's kb_edit does. */
function edited(cluster: string, fixture: string): string {
  const sed = manifestEdits(load(cluster)).flatMap((e) => e.sed.flatMap((x) => ['-e', x]));
  return execFileSync('sed', [...sed, join(FIXTURES, fixture)], { encoding: 'utf8' });
}

describe('the CNI manifest follows kube-proxy', () => {
  it('calico: FELIX_NFTABLESMODE=Enabled in calico-node beside the pod CIDR with nftables; untouched otherwise', () => {
    const env = (text: string) => {
      const ds = parseAllDocuments(text).map((d) => d.toJS()).find((o) => o?.kind === 'DaemonSet');
      return Object.fromEntries(ds.spec.template.spec.containers[0].env.map((e: { name: string; value: string }) => [e.name, e.value]));
    };
    const nft = env(edited('kubernetesVersion: "1.36.4"\ncni: { plugin: calico }\nkubeProxyMode: nftables', 'calico.yaml'));
    expect(nft).toMatchObject({ FELIX_NFTABLESMODE: 'Enabled', CALICO_IPV4POOL_CIDR: '10.244.0.0/16', FELIX_IPV6SUPPORT: 'false' });
    const ipt = env(edited('kubernetesVersion: "1.36.4"\ncni: { plugin: calico }\nkubeProxyMode: iptables', 'calico.yaml'));
    expect(ipt).not.toHaveProperty('FELIX_NFTABLESMODE');
    // every edit names the string that proves it took
    const edits = manifestEdits(load('kubernetesVersion: "1.36.4"\ncni: { plugin: calico }\nkubeProxyMode: nftables'));
    expect(edits.flatMap((e) => e.expect)).toEqual(['value: "10.244.0.0/16"', '- name: FELIX_NFTABLESMODE']);
  });

  it('flannel: "EnableNFTables": true in net-conf.json with nftables', () => {
    const conf = (text: string) => {
      const cm = parseAllDocuments(text).map((d) => d.toJS() as { kind?: string; data?: Record<string, string> }).find((o) => o?.kind === 'ConfigMap');
      return JSON.parse(cm!.data!['net-conf.json']!) as Record<string, unknown>;
    };
    const cluster = (mode: string) => `kubernetesVersion: "1.36.4"\ncni: { plugin: flannel, sha256: "${SHA}" }\nkubeProxyMode: ${mode}`;
    expect(conf(edited(cluster('nftables'), 'kube-flannel.yml'))).toMatchObject({ Network: '10.244.0.0/16', EnableNFTables: true });
    expect(conf(edited(cluster('iptables'), 'kube-flannel.yml'))).toMatchObject({ EnableNFTables: false });
    expect(readFileSync(join(FIXTURES, 'kube-flannel.yml'), 'utf8')).toContain('"EnableNFTables": false');
  });
});

describe('the host', () => {
  it('a kernel older than 5.13 is refused for nftables only', () => {
    expect(hostRequirements({ kernel: '5.10.0-28-amd64', cgroup: 'v2' }, 36, 'nftables').refusals).toEqual(['kernel 5.10.0-28-amd64 is older than 5.13: kube-proxy\'s nftables mode needs 5.13 or later (kubernetes.io, Virtual IPs and Service Proxies): use iptables on this cluster']);
    expect(hostRequirements({ kernel: '5.10.0-28-amd64', cgroup: 'v2' }, 36, 'iptables').refusals).toEqual([]);
    expect(hostRequirements({ kernel: '5.13.0', cgroup: 'v2' }, 36, 'nftables').refusals).toEqual([]);
    expect(hostRequirements({ kernel: '6.1.0-18-amd64', cgroup: 'v2' }, 36, 'nftables').refusals).toEqual([]);
  });

  it('nft: missing or older than calico asks for is a warning; a current one passes', () => {
    expect(nftVersionProblem('')).toMatch(/^no nft program: kbootstrap up installs the nftables package/);
    expect(nftVersionProblem('nftables v0.8 (Support Edition)')).toBeUndefined(); // no three-part version: not judged
    expect(nftVersionProblem('nftables v0.9.3 (Topsy)')).toBe('nft 0.9.3 is older than 1.0.1, which calico\'s nftables data plane asks for on the host');
    expect(nftVersionProblem('nftables v1.0.6 (Lester Gooch #5)')).toBeUndefined();
  });

  it('check has an nft row with nftables only', () => {
    const gathered = (inv: ReturnType<typeof load>, nft: string) => ({
      spec: inv.hosts[0]!, login: { user: 'root', address: '192.168.50.10', port: 22 }, os: 'Debian 12', supported: true,
      kernel: { kernel: '6.1.0-18-amd64', cgroup: 'v2' as const }, uuid: 'u', macs: [], cpus: 2, memMiB: 4096, hostname: 'cp', joined: false,
      portsUsed: [], api: new Map<string, string>(), skewS: 0, nft,
    });
    const nftInv = load('kubernetesVersion: "1.36.4"\nkubeProxyMode: nftables');
    expect(judge(nftInv, [gathered(nftInv, '')], new Map()).find((r) => r.check === 'nft')).toMatchObject({ verdict: 'warn' });
    expect(judge(nftInv, [gathered(nftInv, 'nftables v1.0.6 (Lester Gooch #5)')], new Map()).find((r) => r.check === 'nft')).toMatchObject({ verdict: 'pass', detail: 'nftables v1.0.6 (Lester Gooch #5)' });
    const ipt = load('kubernetesVersion: "1.36.4"\nkubeProxyMode: iptables');
    expect(judge(ipt, [gathered(ipt, '')], new Map()).some((r) => r.check === 'nft')).toBe(false);
  });
});

/** A running cluster's state as the cluster/state check prints it. */
function state(mode: string, cni: { calicoEnv?: Record<string, string>; flannelNft?: boolean }): string {
  const items: unknown[] = [{ kind: 'ConfigMap', metadata: { name: 'kube-proxy', namespace: 'kube-system' }, data: { 'config.conf': `kind: KubeProxyConfiguration\nmode: ${mode}\n` } }];
  if (cni.calicoEnv) {
    items.push({ kind: 'DaemonSet', metadata: { name: 'calico-node', namespace: 'kube-system' }, spec: { template: { spec: { containers: [{ name: 'calico-node', image: 'quay.io/calico/node:v3.32.1', env: Object.entries(cni.calicoEnv).map(([name, value]) => ({ name, value })) }] } } } });
  }
  if (cni.flannelNft !== undefined) {
    items.push({ kind: 'ConfigMap', metadata: { name: 'kube-flannel-cfg', namespace: 'kube-flannel' }, data: { 'net-conf.json': JSON.stringify({ Network: '10.244.0.0/16', EnableNFTables: cni.flannelNft }) } });
    items.push({ kind: 'DaemonSet', metadata: { name: 'kube-flannel-ds', namespace: 'kube-flannel' }, spec: { template: { spec: { containers: [{ name: 'kube-flannel', image: 'ghcr.io/flannel-io/flannel:v0.28.9' }] } } } });
  }
  return `cluster=present\nstate=${JSON.stringify({ kind: 'List', items })}\n`;
}

describe('the live switch reads both settings and changes only what differs', () => {
  const calicoNft = load('kubernetesVersion: "1.36.4"\ncni: { plugin: calico }\nkubeProxyMode: nftables');
  const calicoIpt = load('kubernetesVersion: "1.36.4"\ncni: { plugin: calico }\nkubeProxyMode: iptables');
  const parse = (inv: typeof calicoNft, stdout: string) => kubeProxyModeStep.parse({ step: 'kube-proxy-mode', code: 0, stdout }, ctxFor(inv, 0, kubeProxyModeStep));

  it('done when kube-proxy and calico agree with the inventory', () => {
    expect(parse(calicoNft, state('nftables', { calicoEnv: { FELIX_NFTABLESMODE: 'Enabled', CALICO_IPV4POOL_CIDR: '10.244.0.0/16' } }))).toEqual({ done: true, reason: 'kube-proxy runs in nftables mode', found: undefined });
    expect(parse(calicoIpt, state('', { calicoEnv: {} }))).toEqual({ done: true, reason: 'kube-proxy runs in iptables mode', found: undefined });
  });

  it('iptables -> nftables: both differ; kube-proxy only; the CNI only', () => {
    expect(parse(calicoNft, state('iptables', { calicoEnv: {} }))).toEqual({ done: false, reason: 'kube-proxy is in iptables mode, want nftables; calico\'s nftables setting is off, want on', found: { proxy: 'iptables', cni: true } });
    expect(parse(calicoNft, state('ipvs', { calicoEnv: { FELIX_NFTABLESMODE: 'Enabled' } }))).toEqual({ done: false, reason: 'kube-proxy is in ipvs mode, want nftables', found: { proxy: 'ipvs' } });
    expect(parse(calicoIpt, state('iptables', { calicoEnv: { FELIX_NFTABLESMODE: 'Enabled' } }))).toEqual({ done: false, reason: 'kube-proxy runs in iptables mode; calico\'s nftables setting is on, want off', found: { cni: false } });
  });

  it('flannel is read from net-conf.json', () => {
    const flannel = load(`kubernetesVersion: "1.36.4"\ncni: { plugin: flannel, sha256: "${SHA}" }\nkubeProxyMode: nftables`);
    expect(parse(flannel, state('nftables', { flannelNft: false }))).toMatchObject({ done: false, found: { cni: true } });
    expect(parse(flannel, state('nftables', { flannelNft: true }))).toMatchObject({ done: true });
    expect(CNI_PLUGINS.flannel.installed(clusterState(state('nftables', { flannelNft: true })) as never)).toEqual({ cidr: '10.244.0.0/16', nftables: true, version: 'v0.28.9' });
  });

  it('the apply runs the ConfigMap patch and the CNI switch only for what differs', async () => {
    const { FakeTransport } = await import('./support/fake-transport.js');
    const run = async (inv: typeof calicoNft, drift: { proxy?: string; cni?: boolean }) => {
      const t = new FakeTransport();
      await kubeProxyModeStep.apply(ctxFor(inv, 0, kubeProxyModeStep, t), drift);
      return t.calls.map((c) => c.detail).join('\n');
    };
    const cniOnly = await run(calicoNft, { cni: true });
    expect(cniOnly).toContain('set env daemonset/calico-node -c calico-node FELIX_NFTABLESMODE=Enabled');
    expect(cniOnly).not.toContain('configmap kube-proxy');
    const proxyOnly = await run(calicoNft, { proxy: 'iptables' });
    expect(proxyOnly).toContain('rollout restart daemonset kube-proxy');
    expect(proxyOnly).not.toContain('FELIX_NFTABLESMODE');
  });
});

describe('the wizard offers kube-proxy\'s modes from the table', () => {
  /** A prompter that takes every default, records the select questions, and answers the few inputs with no default. */
  async function walk(cni: string, version?: string) {
    const { askAnswers } = await import('../src/commands/init.js');
    const selects: { message: string; choices: string[]; def?: string }[] = [];
    const a = await askAnswers({
      async input(message, opts) {
        if (/Kubernetes version/.test(message) && version) return version;
        if (/Address of host 1/.test(message)) return '10.0.0.10';
        if (/private key/.test(message)) return '-';
        if (/sha256 of the flannel manifest/.test(message)) return SHA;
        return opts?.default ?? '';
      },
      async select(message, choices, def) {
        selects.push({ message, choices: choices.map((c) => c.value), def });
        return (/CNI plugin/.test(message) ? cni : def ?? choices[0]!.value) as never;
      },
      async confirm() { return false; },
    });
    return { a, proxy: selects.find((s) => /kube-proxy mode/.test(s.message))! };
  }

  it('nftables first and the default where it is GA with calico; iptables the default with flannel; no nftables before 1.29', async () => {
    const calico = await walk('calico');
    expect(calico.proxy).toMatchObject({ choices: ['nftables', 'iptables', 'ipvs'], def: 'nftables' });
    expect(calico.a.proxyMode).toBe('nftables');
    expect((await walk('flannel')).proxy).toMatchObject({ choices: ['nftables', 'iptables', 'ipvs'], def: 'iptables' });
    expect((await walk('calico', '1.31.2')).proxy).toMatchObject({ choices: ['nftables', 'iptables', 'ipvs'], def: 'iptables' });
    expect((await walk('calico', '1.28.15')).proxy).toMatchObject({ choices: ['iptables', 'ipvs'], def: 'iptables' });
  });
});
