/** The defects of docs/compatibility.md §3, one test each (the sources are next to the rules). */
import { describe, expect, it } from 'vitest';
import { osFamily, assumedFacts } from '../src/os/index.js';
import { kernelModulesStep } from '../src/steps/kernel-modules.js';
import { parseFactsOutput } from '../src/host/facts.js';
import { ctxFor, exampleInventory } from './support/contexts.js';

describe('docs/compatibility.md defects', () => {
  it('D6: RHEL takes Docker\'s linux/rhel tree, CentOS and its rebuilds linux/centos', () => {
    const cluster = exampleInventory('rocky-ha').cluster;
    const repo = (os: 'rhel9' | 'rocky9' | 'centos7') => osFamily(assumedFacts(os)).dockerRepository(cluster, assumedFacts(os)).content;
    expect(repo('rhel9')).toContain('baseurl=https://download.docker.com/linux/rhel/$releasever/$basearch/stable');
    expect(repo('rhel9')).toContain('gpgkey=https://download.docker.com/linux/rhel/gpg');
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
});
