/**
 * The versions table (src/versions/table.ts) and what reads it: validate's
 * verdicts per minor and add-on, the dry run's kubeadm API and pause image,
 * the defaults (init --defaults, the wizard, the README's example) validating
 * with no warning at all, and docs/compatibility.md's generated matrix.
 */
import { describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseInventory } from '../src/inventory/load.js';
import { dryRun } from '../src/dry-run.js';
import { DEFAULT_ANSWERS, defaultProxyMode, inventoryText } from '../src/commands/init.js';
import { ADDONS, CNI_NFTABLES, KUBE_MINORS, NFTABLES_PROXY, OS_RELEASES, SUPPORTED_MINORS, TABLE_DATE, addonWarning, defaultAddonVersion, defaultKubernetesVersion, minorStatus, minorWarning } from '../src/versions/index.js';
import { MATRIX_BEGIN, MATRIX_END, matrixJson, matrixMarkdown, matrixText, withMatrix } from '../src/versions/matrix.js';
import { kubeVipManifest } from '../src/steps/load-balancer.js';

const ROOT = join(import.meta.dirname, '..');
const BASE = readFileSync(join(ROOT, 'test', 'fixtures', 'base.yaml'), 'utf8');

/** base.yaml (1.36.4, calico, iptables, aliyun) with edits; warnings as "path: message". */
function validate(...edits: [string, string][]): string[] {
  let text = BASE;
  for (const [from, to] of edits) {
    expect(text).toContain(from);
    text = text.replace(from, to);
  }
  // (the fixture's Aliyun mirror earns warnings about the downloads left upstream: test/first-hour.test.ts's subject)
  return parseInventory(text, 'lab.yaml').warnings.filter((w) => !w.message.includes('says the upstream sites may be out of reach')).map((w) => `${w.path}: ${w.message}`);
}
const at = (version: string): [string, string] => ['"1.36.4"', `"${version}"`];
/** calico with a manifest digest of the inventory's own: the table pins none for v3.33.0, 1.37's default */
const SHA = 'ab'.repeat(32);
const calicoSha: [string, string] = ['{ plugin: calico }', `{ plugin: calico, sha256: "${SHA}" }`];

describe('the table', () => {
  it('every row names at least one source with the date it was read', () => {
    for (const r of [...KUBE_MINORS, ...ADDONS, ...OS_RELEASES]) {
      expect(r.sources.length, JSON.stringify(r).slice(0, 80)).toBeGreaterThan(0);
      for (const s of r.sources) expect(s.read).toMatch(/^20\d\d-\d\d-\d\d$/);
      for (const s of r.sources) expect(s.read <= TABLE_DATE).toBe(true);
    }
  });

  it('1.35, 1.36 and 1.37 are supported on the table date; 1.30-1.34 are past their end of life; 1.38 is not out yet', () => {
    expect(SUPPORTED_MINORS).toEqual([35, 36, 37]);
    expect([30, 31, 32, 33, 34].map(minorStatus)).toEqual(Array(5).fill('end-of-life'));
    expect(minorStatus(38)).toBe('unreleased');
    expect(minorStatus(39)).toBe('unknown');
    // the newest supported minor whose default calico is tested against it and has its manifest digest pinned
    expect(defaultKubernetesVersion()).toBe('1.36.4');
  });

  it('kubeadm config APIs, pause images and kernel/cgroup rules per minor', () => {
    const row = (m: number) => KUBE_MINORS.find((r) => r.minor === m)!;
    expect(row(30).kubeadmApis).toEqual(['kubeadm.k8s.io/v1beta3']);
    expect(row(36).kubeadmApis).toEqual(['kubeadm.k8s.io/v1beta3', 'kubeadm.k8s.io/v1beta4']);
    expect(row(37).kubeadmApis).toEqual(['kubeadm.k8s.io/v1beta4']);
    expect([30, 31, 34, 35, 36, 37].map((m) => row(m).pause)).toEqual(['3.9', '3.10', '3.10.1', '3.10.1', '3.10.2', '3.10.2']);
    expect(row(35).cgroupV1).toBe('refused');
    expect(row(37).kubeProxyModes).toEqual({ iptables: 'default', ipvs: 'deprecated-gated', nftables: 'ga' });
  });

  it('add-on defaults: the newest calico tested against the minor (one with a pinned manifest digest first), the newest of the others', () => {
    expect([30, 31, 34, 35, 36, 37].map((m) => defaultAddonVersion('calico', m))).toEqual(['v3.29.7', 'v3.30.7', 'v3.32.1', 'v3.32.1', 'v3.32.1', 'v3.33.0']);
    expect(defaultAddonVersion('flannel', 37)).toBe('v0.28.9');
    expect(defaultAddonVersion('kube-vip', 37)).toBe('v1.2.3');
    expect(defaultAddonVersion('cri-dockerd', 37)).toBe('0.4.10');
    for (const m of SUPPORTED_MINORS) expect(addonWarning('calico', defaultAddonVersion('calico', m), m)).toBeUndefined();
  });
});

describe('validate reads the table', () => {
  it('a supported minor gives no warning; none says "newer than this kbootstrap knows"', () => {
    for (const v of ['1.35.9', '1.36.4']) expect(validate(at(v))).toEqual([]);
    for (const v of ['1.37.1', '1.37.0']) expect(validate(at(v), calicoSha)).toEqual([]);
    // 1.37's calico (v3.33.0) has no pinned manifest digest: refused until the inventory gives one
    expect(() => validate(at('1.37.1'))).toThrow(/cluster\.cni\.sha256: kbootstrap knows no sha256 for https:\/\/raw\.githubusercontent\.com\/projectcalico\/calico\/v3\.33\.0\/manifests\/calico\.yaml/);
  });

  it('a minor past its end of life warns with its date and source; a newer one\'s date stands in when its own was not read', () => {
    expect(validate(at('1.30.4'))).toEqual([expect.stringMatching(/^cluster\.kubernetesVersion: Kubernetes 1\.30 reached its end of life on 2025-07-15 \(https:\/\/kubernetes\.io\/releases\/1\.30\/, read 2026-12-05\): no more patches; supported today: 1\.35, 1\.36, 1\.37$/)]);
    expect(minorWarning(32)).toMatch(/^Kubernetes 1\.32 is past its end of life: 1\.33, which is newer, ended on 2026-06-28 \(https:\/\/kubernetes\.io\/releases\/1\.33\/, read 2026-12-05\)/);
    expect(minorWarning(38)).toMatch(/^1\.38 is not released yet \(due 2026-12-16\)/);
    expect(minorWarning(40)).toMatch(/^1\.40 is newer than kbootstrap's versions table \(1\.38, read 2026-12-07\); it may work/);
  });

  it('a pinned add-on is judged against the minor', () => {
    expect(validate(['{ plugin: calico }', '{ plugin: calico, version: v3.30.7 }'])).toEqual([expect.stringMatching(/^cluster\.cni\.version: calico v3\.30\.7 is tested against Kubernetes 1\.31-1\.35 only, not 1\.36 .*e\.g\. v3\.32\.1$/)]);
    expect(validate(['{ plugin: calico }', `{ plugin: calico, version: v3.33.0, sha256: "${SHA}" }`])).toEqual([]);
    expect(validate(['{ plugin: calico }', `{ plugin: flannel, version: v0.25.7, sha256: "${SHA}" }`])).toEqual([]); // flannel publishes no tested list
  });

  it('ipvs warns from 1.35, and names the KubeProxyIPVS gate from 1.37', () => {
    expect(validate(at('1.37.1'), calicoSha, ['kubeProxyMode: iptables', 'kubeProxyMode: ipvs'])).toEqual([expect.stringMatching(/^cluster\.kubeProxyMode: kube-proxy's ipvs mode is deprecated from Kubernetes 1\.35 \(KEP-5495\), behind the KubeProxyIPVS feature gate in 1\.37/)]);
  });

  it('cri-dockerd without RuntimeConfig warns from 1.36; its packages per distribution come from the table', () => {
    // cri-dockerd publishes no checksums: a docker inventory names the digest of each file its hosts install
    const docker: [string, string] = ['containerRuntime: containerd', `containerRuntime: docker\n  criDockerd: { sha256: { cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb: "${SHA}" } }`];
    const dockerAt = (version: string): [string, string] => ['containerRuntime: containerd', `containerRuntime: docker\n  criDockerd: { version: "${version}", sha256: { cri-dockerd_${version}.3-0.ubuntu-noble_amd64.deb: "${SHA}" } }`];
    const upstream: [string, string] = ['packageMirror: aliyun', 'packageMirror: upstream'];
    expect(validate(docker, upstream)).toEqual([]);
    expect(validate(dockerAt('0.3.16'), upstream))
      .toEqual([expect.stringMatching(/^cluster\.criDockerd\.version: cri-dockerd 0\.3\.16 does not implement the CRI RuntimeConfig call: kubeadm 1\.36's preflight warns/)]);
    const noble: [string, string] = ['    role: control-plane', '    role: control-plane\n    os: ubuntu24.04'];
    expect(validate(docker, upstream, noble)).toEqual([]); // 0.4.9+ builds noble
    expect(() => validate(dockerAt('0.3.17'), upstream, noble, at('1.35.9')))
      .toThrow(/cri-dockerd 0\.3\.17 publishes no package for Ubuntu 24\.04/);
  });
});

describe('the dry run reads the table', () => {
  const inventory = (version: string, runtime = 'containerd') => {
    const text = BASE.replace('"1.36.4"', `"${version}"`).replace('{ plugin: calico }', `{ plugin: calico, sha256: "${SHA}" }`).replace('containerRuntime: containerd', `containerRuntime: ${runtime}${runtime === 'docker' ? `\n  criDockerd: { sha256: { cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb: "${SHA}" } }` : ''}`).replace('packageMirror: aliyun', 'packageMirror: upstream');
    const inv = parseInventory(text, 'lab.yaml').inventory;
    inv.hosts.forEach((h) => { h.os = 'ubuntu22.04'; });
    return inv;
  };

  it('1.37 renders kubeadm.k8s.io/v1beta4 only, 1.36 the pause image 3.10.2', async () => {
    const s137 = (await dryRun(inventory('1.37.1'))).map((h) => h.script).join('\n');
    expect(s137).toContain('kubeadm.k8s.io/v1beta4');
    expect(s137).not.toContain('kubeadm.k8s.io/v1beta3');
    const s136 = (await dryRun(inventory('1.36.4', 'docker'))).map((h) => h.script).join('\n');
    expect(s136).toContain('registry.k8s.io/pause:3.10.2');
    expect(s136).not.toMatch(/pause:3\.10\.1|pause:3\.10[^.]/);
    // the 1.35-1.37 changelog items: nothing kbootstrap renders sets what they remove or change
    for (const gone of ['featureGates', 'eventRecordQPS', 'flex-volume', 'PublicKeysECDSA', 'NodeLocalCRISocket', 'ControlPlaneKubeletLocalMode']) expect(s137).not.toContain(gone);
    expect(s136).not.toMatch(/KUBELET_EXTRA_ARGS=.*pod-infra-container-image|kubeletExtraArgs/);
  });

  it('kube-vip: vip_subnet for the default 1.2 release, vip_cidr for a pinned 0.8 image', () => {
    const inv = inventory('1.37.1');
    const lb = { type: 'kube-vip' as const, address: '192.168.40.100', port: 6443 };
    const text = (image?: string) => kubeVipManifest({ ...inv.cluster, loadBalancer: { ...lb, image } }, 'eth0', 'admin.conf').content;
    expect(text()).toContain('ghcr.io/kube-vip/kube-vip:v1.2.3');
    expect(text()).toMatch(/name: vip_subnet\n\s+value: "32"/);
    expect(text()).toMatch(/name: address\n\s+value: 192\.168\.40\.100/);
    expect(text()).not.toContain('vip_address');
    expect(text('ghcr.io/kube-vip/kube-vip:v0.8.9')).toMatch(/name: vip_cidr\n/);
  });
});

describe('defaults agree with the table', () => {
  /** Validate as the CLI does (key files checked), with a HOME where the default key exists. */
  function warningsOf(text: string): string[] {
    const home = mkdtempSync(join(tmpdir(), 'kb-home-'));
    mkdirSync(join(home, '.ssh'));
    writeFileSync(join(home, '.ssh', 'id_ed25519'), 'key\n');
    const was = process.env.HOME;
    process.env.HOME = home;
    try {
      return parseInventory(text, 'inventory.yaml', { keyFiles: true }).warnings.map((w) => `${w.path}: ${w.message}`);
    } finally {
      process.env.HOME = was;
    }
  }

  it('init --defaults and the wizard\'s defaults validate with no warning at all, on a supported minor', () => {
    expect(DEFAULT_ANSWERS.version).toBe('1.36.4');
    // kube-proxy's nftables mode is GA from 1.33 (KEP-3866) and calico's nftables data plane GA from v3.31: the default
    expect(DEFAULT_ANSWERS.proxyMode).toBe('nftables');
    expect(inventoryText(DEFAULT_ANSWERS)).toMatch(/^ {2}kubeProxyMode: nftables /m);
    expect(warningsOf(inventoryText(DEFAULT_ANSWERS))).toEqual([]);
    for (const cni of ['calico', 'flannel', 'none'] as const) {
      // flannel and cri-dockerd publish no checksums: the wizard asks for their digests, which these answers give
      const digests = { ...(cni === 'flannel' ? { cniSha256: SHA } : {}) };
      // the wizard's default mode for the plugin: iptables with flannel, whose nftables setting is experimental
      const proxyMode = defaultProxyMode(DEFAULT_ANSWERS.version, cni);
      expect(proxyMode).toBe(cni === 'flannel' ? 'iptables' : 'nftables');
      for (const runtime of ['containerd', 'docker'] as const) {
        const cri = runtime === 'docker' ? { criDockerdSha256: `cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb=${SHA}` } : {};
        expect(warningsOf(inventoryText({ ...DEFAULT_ANSWERS, cni, runtime, proxyMode, ...digests, ...cri }))).toEqual([]);
      }
    }
  });

  it('the README\'s example inventory validates with no warning at all', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const example = /```yaml\n(apiVersion: kbootstrap\/v1\n[\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toBeDefined();
    expect(example).toContain(`kubernetesVersion: "${defaultKubernetesVersion()}"`);
    expect(example).toContain('kubeProxyMode: nftables');
    expect(warningsOf(example!)).toEqual([]);
  });
});

describe('docs/compatibility.md', () => {
  it('its matrix is the one the table generates (npm run docs:matrix)', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'compatibility.md'), 'utf8');
    expect(doc).toContain(MATRIX_BEGIN);
    expect(doc).toContain(MATRIX_END);
    expect(doc, 'docs/compatibility.md differs from src/versions/table.ts: run npm run docs:matrix').toBe(withMatrix(doc));
  });

  it('it shows which CNI plugin supports kube-proxy nftables mode since which release, with the sources (CNI_NFTABLES)', () => {
    const md = matrixMarkdown();
    const section = md.slice(md.indexOf("### kube-proxy's nftables mode and the CNI plugins"), md.indexOf('### Defaults'));
    expect(section).toContain(`feature gate ${NFTABLES_PROXY.gate}`);
    for (const s of NFTABLES_PROXY.sources) expect(section).toContain(s.ref);
    // GA from 1.33 (KEP-3866), read from each minor's row
    expect(section).toMatch(/GA in 1\.33, 1\.34, 1\.35/);
    const rows = Object.fromEntries(section.split('\n').filter((l) => /^\| (calico|flannel) \|/.test(l)).map((l) => [l.split(' | ')[0]!.slice(2), l]));
    expect(Object.keys(rows).sort()).toEqual(Object.keys(CNI_NFTABLES).sort());
    for (const [cni, n] of Object.entries(CNI_NFTABLES)) {
      const row = rows[cni]!;
      expect(row).toContain(`| ${n.setting} | ${n.since} | ${n.ga ?? 'not yet'}`);
      for (const s of n.sources) expect(row).toContain(`${s.ref}${s.for ? ` (${s.for})` : ''}, read ${s.read}`);
    }
    // per release row: calico's 3.28 has no nftables mode, 3.29-3.30 a tech preview, 3.31 on GA; flannel's is experimental
    expect(rows.calico).toContain('3.28.3+: no; 3.29.x: tech preview; 3.30.x: tech preview; 3.31.x: GA');
    expect(rows.flannel).toContain('0.25.x: experimental');
    expect(rows.flannel).not.toMatch(/: (GA|no)\b/);
    // kbootstrap versions prints them too, text and JSON
    expect(matrixText()).toMatch(/calico\s+FELIX_NFTABLESMODE \(Felix NFTablesMode\)\s+v3\.29\.0\s+v3\.31\.0/);
    expect(matrixText()).toMatch(/flannel\s+EnableNFTables \(net-conf\.json\)\s+v0\.25\.0\s+not yet/);
    const json = JSON.parse(JSON.stringify(matrixJson())) as { cniNftables: Record<string, { since: string; sources: unknown[] }>; nftablesProxy: { gate: string } };
    expect(json.cniNftables.calico!.since).toBe('v3.29.0');
    expect(json.cniNftables.flannel!.sources.length).toBeGreaterThan(0);
    expect(json.nftablesProxy.gate).toBe(NFTABLES_PROXY.gate);
  });
});
