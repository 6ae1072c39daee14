/**
 * A signed rpm mirror for the bundle tests, laid out like the yum repositories kbootstrap's .repo
 * files name under a packageMirror (Docker's docker-ce/linux/centos/$releasever/$basearch/stable and
 * its key docker-ce/linux/centos/gpg; pkgs.k8s.io's one repository per minor, kubernetes-new/core/
 * stable/v1.30/rpm with its key repodata/repomd.xml.key: src/os/rhel.ts), built with the real tools:
 * rpmbuild for tiny packages (Debian's rpm), createrepo_c for the repodata (Debian's createrepo-c),
 * gpg for repomd.xml.asc, a detached armored signature as dnf's repo_gpgcheck reads it.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestRpm {
  name: string;
  version: string;
  release: string;
  epoch?: number;
  requires?: string[];
  provides?: string[];
  /** files the package holds (a requirement may name one) */
  files?: string[];
  /** baseos, appstream: a Rocky 9 release's own repositories (rockylinux/9/BaseOS/$arch/os), built for x86_64 only */
  tree: 'docker' | 'kube' | 'baseos' | 'appstream';
}

export interface RpmMirror {
  root: string;
  fingerprint: string;
  gnupgHome: string;
  /** the repositories' directories under root */
  docker(arch: string): string;
  kube: string;
  /** Rocky 9's BaseOS and AppStream for an architecture, when the mirror has them */
  os(repo: 'BaseOS' | 'AppStream', arch: string): string;
  /** sign repomd.xml again (after a change) */
  sign(repo: string): void;
}

const run = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function spec(p: TestRpm): string {
  return [
    '%global debug_package %{nil}',
    `Name: ${p.name}`, `Version: ${p.version}`, `Release: ${p.release}`, ...(p.epoch ? [`Epoch: ${p.epoch}`] : []),
    'Summary: kbootstrap bundle test package', 'License: Apache-2.0',
    ...(p.requires ?? []).map((r) => `Requires: ${r}`), ...(p.provides ?? []).map((r) => `Provides: ${r}`),
    '%description', 'A package made for the bundle tests.',
    '%install', ...(p.files ?? []).map((f) => `mkdir -p %{buildroot}$(dirname ${f}) && echo ${p.name} > %{buildroot}${f}`),
    '%files', ...(p.files ?? []), '',
  ].join('\n');
}

/**
 * comps.xml with one group, core (as Rocky's BaseOS has it: what a Minimal Install puts on every host),
 * its packagereq entries typed mandatory, default or optional (https://pagure.io/fedora-comps README).
 */
function comps(core: { mandatory: string[]; default: string[]; optional: string[] }): string {
  const req = (type: string, names: string[]) => names.map((n) => `      <packagereq type="${type}">${n}</packagereq>`);
  return ['<?xml version="1.0" encoding="UTF-8"?>', '<!DOCTYPE comps PUBLIC "-//Red Hat, Inc.//DTD Comps info//EN" "comps.dtd">', '<comps>', '  <group>',
    '    <id>core</id>', '    <name>Core</name>', '    <description>Smallest possible installation</description>', '    <default>true</default>', '    <uservisible>false</uservisible>',
    '    <packagelist>', ...req('mandatory', core.mandatory), ...req('default', core.default), ...req('optional', core.optional), '    </packagelist>', '  </group>', '</comps>', ''].join('\n');
}

export function buildRpmMirror(dir: string, rpms: TestRpm[], arches: string[] = ['x86_64', 'aarch64'],
  opts: { minor?: string; el?: number; core?: { mandatory: string[]; default: string[]; optional: string[] } } = {}): RpmMirror {
  const minor = opts.minor ?? 'v1.30';
  const el = opts.el ?? 9;
  const gnupgHome = mkdtempSync(join(tmpdir(), 'kb-bundle-rpm-gpg-'));
  const gpg = ['--batch', '--homedir', gnupgHome];
  run('gpg', [...gpg, '--passphrase', '', '--quick-gen-key', 'kbootstrap rpm bundle test <rpm@test.invalid>', 'rsa2048', 'sign', 'never']);
  const fingerprint = run('gpg', [...gpg, '--with-colons', '--list-keys']).split('\n').find((l) => l.startsWith('fpr:'))!.split(':')[9]!;
  const key = run('gpg', [...gpg, '--armor', '--export']);
  const docker = (arch: string) => join(dir, 'docker-ce', 'linux', 'centos', String(el), arch, 'stable');
  const kube = join(dir, 'kubernetes-new', 'core', 'stable', minor, 'rpm');
  const os = (repo: 'BaseOS' | 'AppStream', arch: string) => join(dir, 'rockylinux', String(el), repo, arch, 'os');
  const osTree = { baseos: 'BaseOS', appstream: 'AppStream' } as const;
  const top = mkdtempSync(join(tmpdir(), 'kb-rpmbuild-'));
  for (const p of rpms) {
    const file = join(top, `${p.name}-${p.version}.spec`);
    writeFileSync(file, spec(p));
    for (const arch of p.tree === 'baseos' || p.tree === 'appstream' ? ['x86_64'] : arches) {
      run('rpmbuild', ['-bb', '--quiet', '--target', arch, '--define', `_topdir ${top}`, '--define', '_build_id_links none', file]);
      const rpm = `${p.name}-${p.version}-${p.release}.${arch}.rpm`;
      // Docker's repositories keep the packages under Packages/, pkgs.k8s.io's under the architecture
      const dest = p.tree === 'docker' ? join(docker(arch), 'Packages') : p.tree === 'kube' ? join(kube, arch) : join(os(osTree[p.tree], arch), 'Packages');
      mkdirSync(dest, { recursive: true });
      copyFileSync(join(top, 'RPMS', arch, rpm), join(dest, rpm));
    }
  }
  const sign = (repo: string) => {
    run('gpg', [...gpg, '--yes', '--armor', '--detach-sign', '--output', join(repo, 'repodata', 'repomd.xml.asc'), join(repo, 'repodata', 'repomd.xml')]);
  };
  const osRepos = (['baseos', 'appstream'] as const).filter((t) => rpms.some((p) => p.tree === t)).map((t) => os(osTree[t], 'x86_64'));
  for (const repo of [...arches.map(docker), kube, ...osRepos]) {
    mkdirSync(repo, { recursive: true });
    // BaseOS carries the comps groups (createrepo_c --groupfile), as Rocky's does
    const groups = repo === os('BaseOS', 'x86_64') && opts.core ? ['--groupfile', join(top, 'comps.xml')] : [];
    if (groups.length) writeFileSync(join(top, 'comps.xml'), comps(opts.core!));
    // gzip, as Docker's repositories have it (zstd is createrepo_c 1.0's default; Debian's 0.20 writes gz)
    run('createrepo_c', ['--quiet', '--general-compress-type', 'gz', ...groups, repo]);
    sign(repo);
  }
  if (osRepos.length) writeFileSync(join(dir, 'rockylinux', `RPM-GPG-KEY-Rocky-${el}`), key);
  writeFileSync(join(dir, 'docker-ce', 'linux', 'centos', 'gpg'), key);
  writeFileSync(join(kube, 'repodata', 'repomd.xml.key'), key);
  return { root: dir, fingerprint, gnupgHome, docker, kube, os, sign };
}
