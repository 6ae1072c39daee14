/**
 * bundle --with-os-packages' choice of a release's own packages (src/bundle/apt.ts resolveOs), on
 * a made-up index: what a minimal installation has (Priority required and what it needs) is left
 * out, unless a relation asks a version of it; a virtual package is its highest-Priority provider;
 * Priority important is not taken as present. test/bundle.test.ts judges the same with real apt on
 * Debian 12's real indexes.
 */
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolve, resolveOs, type DebPackage, type ReadTree } from '../src/bundle/apt.js';
import { debControl } from '../src/bundle/deb-control.js';
import type { AptTree } from '../src/bundle/needs.js';

const tree = { id: 'os', base: 'http://deb.invalid/debian', suite: 'bookworm', components: ['main'], keyUrl: '', fingerprints: [], path: 'debian', keyPath: '' } satisfies AptTree;
const pkg = (name: string, version: string, priority: string, depends = '', provides?: string): DebPackage => ({
  name, version, priority, depends, filename: `pool/main/${name}_${version}_amd64.deb`, sha256: 'a'.repeat(64), size: 1, tree, ...(provides ? { provides } : {}),
});
const index = (packages: DebPackage[]): ReadTree[] => [{ tree, inRelease: '', key: '', index: { path: '', sha256: '', size: 0 }, packages }];

const DEBIAN = index([
  pkg('libc6', '2.36-9+deb12u13', 'required'),
  pkg('mawk', '1.3.4-1', 'required', 'libc6', 'awk'),
  pkg('gawk', '1:5.2.1-2', 'optional', 'libc6, libreadline8', 'awk'),
  pkg('libreadline8', '8.2-1.3', 'important', 'readline-common'),
  pkg('readline-common', '8.2-1.3', 'important'),
  pkg('nftables', '1.0.6-2', 'important', 'libnftnl11'),
  pkg('libnftnl11', '1.2.4-2', 'optional', 'libc6'),
  pkg('libssl3', '3.0.17-1~deb12u2', 'required', 'libc6'),
  pkg('socat', '1.7.4.4-2', 'optional', 'libc6 (>= 2.34), libssl3 (>= 3.0.0), libwrap0 (>= 7.6-4~)'),
  pkg('libwrap0', '7.6.q-32', 'optional', 'libc6, libnsl2'),
  pkg('libnsl2', '1.3.0-2', 'optional', 'libc6'),
  pkg('conntrack', '1:1.4.7-1+b2', 'optional', 'libc6, awk'),
  pkg('gpg', '2.2.40-1.1', 'optional', 'libreadline8 (>= 6.0), gpgconf (= 2.2.40-1.1)'),
  pkg('gpgconf', '2.2.40-1.1', 'optional', 'libc6'),
]);

describe('resolveOs', () => {
  it('leaves out Priority required and what it needs, bundles the rest of the closure; important is not taken as present', () => {
    const r = resolveOs(DEBIAN, ['socat', 'conntrack', 'nftables', 'gpg']);
    const names = r.packages.map((p) => p.name).sort();
    // libc6 goes in: socat asks libc6 (>= 2.34), which a host of an older point release may lack; libssl3 likewise
    expect(names).toEqual(['conntrack', 'gpg', 'gpgconf', 'libc6', 'libnftnl11', 'libnsl2', 'libreadline8', 'libssl3', 'libwrap0', 'nftables', 'readline-common', 'socat']);
    expect(r.packages.find((p) => p.name === 'libc6')!.version).toBe('2.36-9+deb12u13');
    // conntrack's awk is mawk (required, present), not gawk (optional, newer by version), which would bring readline for nothing
    expect(names).not.toContain('gawk');
    expect(names).not.toContain('mawk');
    expect(r.present).toEqual(['mawk']);
    expect([...r.missing]).toEqual([]);
  });

  it('a wanted package or dependency no repository carries is named, with who needs it', () => {
    const r = resolveOs(index([pkg('libc6', '2.36-9', 'required'), pkg('ipvsadm', '1:1.31-1+b1', 'optional', 'libpopt0 (>= 1.14)')]), ['ipvsadm', 'ipset']);
    expect([...r.missing]).toEqual([['ipset', 'wanted'], ['libpopt0', 'ipvsadm']]);
  });
});

/** cri-dockerd's Depends as its .deb has them (Mirantis/cri-dockerd packaging/deb/common/control, read 2026-12-07), with a shlibs line */
const CRI_DEPENDS = 'containerd (>= 1.2.2-3) | containerd.io (>= 1.2.2-3),\n iptables,\n libseccomp2 (>= 2.3.0), libc6 (>= 2.34)';

describe('cri-dockerd\'s .deb in a bundle', () => {
  it('its dependencies are resolved like the trees\' packages: Docker\'s tree gives containerd.io, the rest is the release\'s own', () => {
    const docker = index([pkg('containerd.io', '1.7.27-1', 'optional', 'libc6 (>= 2.34), libseccomp2 (>= 2.5.0)'), pkg('containerd.io', '1.2.0-1', 'optional')]);
    const r = resolve(docker, [], [{ name: 'cri-dockerd', depends: CRI_DEPENDS }]);
    expect(r.packages.map((p) => `${p.name} ${p.version}`)).toEqual(['containerd.io 1.7.27-1']);
    expect([...r.fromOs]).toEqual([['iptables', 'cri-dockerd'], ['libseccomp2', 'cri-dockerd'], ['libc6', 'cri-dockerd']]);
  });

  it('reads Depends from a real .deb (dpkg-deb), its control member gzip\'d or xz\'d', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kb-deb-'));
    for (const z of ['gzip', 'xz']) {
      const root = join(dir, z);
      mkdirSync(join(root, 'DEBIAN'), { recursive: true });
      mkdirSync(join(root, 'usr', 'bin'), { recursive: true });
      writeFileSync(join(root, 'usr', 'bin', 'cri-dockerd'), '#!/bin/sh\n');
      writeFileSync(join(root, 'DEBIAN', 'control'), `Package: cri-dockerd\nVersion: 0.3.16~3-0~debian-bookworm\nArchitecture: amd64\nMaintainer: test <t@test.invalid>\nDepends: ${CRI_DEPENDS}\nDescription: test\n`);
      const deb = join(dir, `cri-dockerd-${z}.deb`);
      execFileSync('dpkg-deb', ['--root-owner-group', `-Z${z}`, '--build', root, deb], { stdio: 'ignore' });
      const c = await debControl(deb);
      expect(c.get('Package')).toBe('cri-dockerd');
      expect(c.get('Depends')!.split(',').map((x) => x.trim())).toEqual(['containerd (>= 1.2.2-3) | containerd.io (>= 1.2.2-3)', 'iptables', 'libseccomp2 (>= 2.3.0)', 'libc6 (>= 2.34)']);
    }
    writeFileSync(join(dir, 'not.deb'), 'PK\x03\x04');
    await expect(debControl(join(dir, 'not.deb'))).rejects.toThrow(/not a \.deb/);
  });
});
