/** The defects of docs/compatibility.md §3, one test each (the sources are next to the rules). */
import { describe, expect, it } from 'vitest';
import { osFamily, assumedFacts } from '../src/os/index.js';
import { kernelModulesStep } from '../src/steps/kernel-modules.js';
import { parseFactsOutput } from '../src/host/facts.js';
import { hostRequirements } from '../src/kube/host-requirements.js';
import { dryRun } from '../src/dry-run.js';
import type { Inventory } from '../src/inventory/model.js';
import type { OsName } from '../src/inventory/schema.js';
import { parseInventory } from '../src/inventory/load.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ctxFor, exampleInventory } from './support/contexts.js';

/** validate's warnings (key-file warnings aside) for lab.yaml with edits. */
function warnings(...edits: [string, string][]): string[] {
  let text = readFileSync(join(import.meta.dirname, '..', 'inventories', 'lab.yaml'), 'utf8');
  for (const [from, to] of edits) text = text.replace(from, to);
  // lab.yaml asks for 1.30.4, past its end of life: that warning has its own test (test/versions-table.test.ts)
  return parseInventory(text, 'lab.yaml').warnings.map((w) => `${w.path}: ${w.message}`).filter((w) => !w.includes('privateKeyPath') && !w.startsWith('cluster.kubernetesVersion:'));
}

/** An example inventory at another minor, every host on one release. */
function at(name: string, minor: number, os: OsName): Inventory {
  const inv = exampleInventory(name);
  return { ...inv, cluster: { ...inv.cluster, minor, minorVersion: `v1.${minor}`, kubernetesVersion: `1.${minor}.2` }, hosts: inv.hosts.map((h) => ({ ...h, os })) };
}

describe('docs/compatibility.md defects', () => {
  it('D6: RHEL takes Docker\'s linux/rhel tree, CentOS and its rebuilds linux/centos', () => {
    const cluster = exampleInventory('rocky-ha').cluster;
    const repo = (os: 'rhel9' | 'rocky9' | 'centos7') => osFamily(assumedFacts(os)).dockerRepository(cluster, assumedFacts(os)).content;
    expect(repo('rhel9')).toContain('baseurl=https://download.docker.com/linux/rhel/$releasever/$basearch/stable');
    // the key comes from the same tree, checked against Docker's fingerprint before yum's gpgkey= names it
    expect(osFamily(assumedFacts('rhel9')).dockerRepository(cluster, assumedFacts('rhel9')).key!.url).toBe('https://download.docker.com/linux/rhel/gpg');
    expect(repo('rocky9')).toContain('baseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable');
    expect(repo('centos7')).toContain('linux/centos/');
  });

  it('D7: ipvs loads the conntrack module the host has: nf_conntrack_ipv4 on CentOS 7, nf_conntrack elsewhere', () => {
    const lab = exampleInventory('lab');
    const file = (os: 'centos7' | 'rocky8') => {
      const ctx = ctxFor({ ...lab, hosts: lab.hosts.map((h) => ({ ...h, os })) }, 0, kernelModulesStep);
      return kernelModulesStep.managedFiles!(ctx)[0]!.content;
    };
    expect(file('centos7')).toMatch(/\nnf_conntrack_ipv4\n$/);
    expect(file('rocky8')).toMatch(/\nnf_conntrack\n$/);
    // the facts script's probe, as a host prints it
    const probed = (line: string) => parseFactsOutput(`ID="centos"\nVERSION_ID="7"\nKB_MACHINE=x86_64\n${line}\n`).conntrackModule;
    expect(probed('KB_CONNTRACK=nf_conntrack_ipv4')).toBe('nf_conntrack_ipv4');
    expect(probed('KB_CONNTRACK=nf_conntrack')).toBe('nf_conntrack');
  });

  describe('D2: kernel and cgroup against the minor', () => {
    const facts = (os: OsName) => assumedFacts(os);
    const verdict = (os: OsName, minor: number) => {
      const v = hostRequirements(facts(os), minor);
      return v.refusals.length ? 'refused' : v.warnings.length ? 'warned' : 'ok';
    };
    it.each([
      // [release, minor, verdict]: docs/compatibility.md §1
      ['centos7', 30, 'ok'], ['centos7', 31, 'warned'], ['centos7', 32, 'refused'], ['centos7', 33, 'refused'], ['centos7', 34, 'warned'], ['centos7', 35, 'refused'],
      ['rocky8', 30, 'ok'], ['rocky8', 31, 'warned'], ['rocky8', 32, 'refused'], ['rocky8', 34, 'warned'], ['rocky8', 35, 'refused'],
      ['rocky9', 33, 'ok'], ['rocky9', 34, 'warned'], ['rocky9', 35, 'warned'],
      ['ubuntu20.04', 30, 'ok'], ['ubuntu20.04', 31, 'warned'], ['ubuntu20.04', 34, 'warned'], ['ubuntu20.04', 35, 'refused'],
      ['ubuntu22.04', 35, 'ok'], ['ubuntu24.04', 35, 'ok'], ['debian11', 35, 'ok'], ['debian12', 35, 'ok'],
    ] as const)('%s on 1.%i: %s', (os, minor, want) => {
      expect(verdict(os, minor)).toBe(want);
    });

    it('the reasons name the program that stops and the source', () => {
      expect(hostRequirements(facts('centos7'), 32).refusals).toEqual([expect.stringMatching(/^kernel 3\.10\.0-1160\.el7\.x86_64 is older than 4\.19: kubeadm 1\.32's SystemVerification preflight fails/)]);
      expect(hostRequirements(facts('centos7'), 35).refusals).toEqual([expect.stringMatching(/kubelet 1\.35 refuses to start on it \(failCgroupV1 defaults to true, KEP-5573\)/)]);
      // unknown kernel and cgroup (a host whose facts could not say): no verdict either way
      expect(hostRequirements({ kernel: '', cgroup: '' }, 35)).toEqual({ refusals: [], warnings: [] });
    });

    it('the dry run refuses CentOS 7 on 1.32 before any step, with the reason, and renders it on 1.30', async () => {
      await expect(dryRun(at('lab', 32, 'centos7'))).rejects.toThrow(/cannot render k8s-master: [a-z-]+: CentOS Linux 7 \(Core\) cannot run Kubernetes v1\.32: kernel 3\.10\.0-1160\.el7\.x86_64 is older than 4\.19/);
      await expect(dryRun(at('lab', 35, 'ubuntu20.04'))).rejects.toThrow(/cgroup v1/);
      expect((await dryRun(at('lab', 30, 'centos7'))).length).toBe(3);
      expect((await dryRun(at('lab', 35, 'rocky9'))).length).toBe(3);
    });
  });

  it('D8: validate warns when the calico release is not tested against the minor, and names the range', () => {
    // no version: the versions table picks the newest calico tested against the minor (3.29 for 1.30, 3.30 for 1.31)
    expect(warnings()).toEqual([]);
    expect(warnings(['"1.30.4"', '"1.31.2"'])).toEqual([]);
    const pinned = warnings(['"1.30.4"', '"1.31.2"'], ['{ plugin: calico }', '{ plugin: calico, version: v3.28.2 }']);
    expect(pinned).toEqual([expect.stringMatching(/^cluster\.cni\.version: calico v3\.28\.2 is tested against Kubernetes 1\.27-1\.30 only, not 1\.31 \(tigera\/docs@\S+ read 2026-12-05, calico 3\.28\): set cluster\.cni\.version to a release tested against 1\.31, e\.g\. v3\.30\.7$/)]);
    expect(warnings(['"1.30.4"', '"1.31.2"'], ['{ plugin: calico }', `{ plugin: calico, version: v3.29.0, sha256: "${'ab'.repeat(32)}" }`])).toEqual([]);
    // a release the table does not know is said so when pinned
    expect(warnings(['"1.30.4"', '"1.37.1"'], ['{ plugin: calico }', `{ plugin: calico, version: v3.34.0, sha256: "${'ab'.repeat(32)}" }`], ['kubeProxyMode: ipvs', 'kubeProxyMode: iptables']))
      .toEqual([expect.stringMatching(/^cluster\.cni\.version: calico v3\.34\.0 is not in kbootstrap's versions table \(read 2026-12-07\).*e\.g\. v3\.33\.0 is$/)]);
    // a manifest of the user's own: kbootstrap does not know its version
    expect(warnings(['"1.30.4"', '"1.33.0"'], ['{ plugin: calico }', `{ plugin: calico, manifest: "https://example.com/calico.yaml", sha256: "${'ab'.repeat(32)}" }`])).toEqual([]);
  });

  it('D10: ipvs on 1.35 is deprecated: a validate warning', () => {
    expect(warnings(['"1.30.4"', '"1.35.0"'])).toContain("cluster.kubeProxyMode: kube-proxy's ipvs mode is deprecated from Kubernetes 1.35 (KEP-5495): use nftables or iptables");
    expect(warnings(['"1.30.4"', '"1.35.0"'], ['kubeProxyMode: ipvs', 'kubeProxyMode: iptables']).filter((w) => w.includes('ipvs'))).toEqual([]);
    expect(warnings(['"1.30.4"', '"1.34.0"']).filter((w) => w.includes('ipvs'))).toEqual([]);
  });
});
