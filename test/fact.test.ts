/** Fact<T> (issue 22 item 3): a snippet and its parser, one definition for every reader. */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { installedPackages, KUBE_PACKAGES } from '../src/host/fact.js';
import { osFamily, assumedFacts } from '../src/os/index.js';

const SRC = join(import.meta.dirname, '..', 'src');
const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));

describe('Fact<T>', () => {
  it('installed packages: the family\'s snippet, and only its own pkg= lines read back (facts share a script)', () => {
    const f = installedPackages(['kubelet', 'kubectl']);
    expect(f.script(osFamily(assumedFacts('debian')))).toContain('kubelet');
    expect(f.parse('pkg=kubelet=1.36.4-1.1\npkg=containerd.io=1.7.22-1\nheld=kubelet\npkg=kubectl=1.36.4-1.1\n')).toEqual(new Map([['kubelet', '1.36.4-1.1'], ['kubectl', '1.36.4-1.1']]));
    expect(f.parse('pkg=kubeadm=1.36.4\n')).toEqual(new Map());
  });

  it('the pkg= parser and the list of Kubernetes packages are written once, in src/host/fact.ts', () => {
    const others = files(SRC).filter((f) => !f.endsWith(join('host', 'fact.ts')));
    const pkgParsers = others.filter((f) => /get\('pkg'\)/.test(readFileSync(f, 'utf8')));
    expect(pkgParsers).toEqual([]);
    const kubeLists = others.filter((f) => /\[\s*'kubelet',\s*'kubeadm',\s*'kubectl'\s*\]/.test(readFileSync(f, 'utf8')));
    expect(kubeLists).toEqual([]);
    expect(KUBE_PACKAGES).toEqual(['kubelet', 'kubeadm', 'kubectl']);
  });
});
