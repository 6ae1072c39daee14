/** The defects of docs/compatibility.md §3, one test each (the sources are next to the rules). */
import { describe, expect, it } from 'vitest';
import { osFamily, assumedFacts } from '../src/os/index.js';
import { exampleInventory } from './support/contexts.js';

describe('docs/compatibility.md defects', () => {
  it('D6: RHEL takes Docker\'s linux/rhel tree, CentOS and its rebuilds linux/centos', () => {
    const cluster = exampleInventory('rocky-ha').cluster;
    const repo = (os: 'rhel9' | 'rocky9' | 'centos7') => osFamily(assumedFacts(os)).dockerRepository(cluster, assumedFacts(os)).content;
    expect(repo('rhel9')).toContain('baseurl=https://download.docker.com/linux/rhel/$releasever/$basearch/stable');
    expect(repo('rhel9')).toContain('gpgkey=https://download.docker.com/linux/rhel/gpg');
    expect(repo('rocky9')).toContain('baseurl=https://download.docker.com/linux/centos/$releasever/$basearch/stable');
    expect(repo('centos7')).toContain('linux/centos/');
  });
});
