/**
 * Today's distributions (issue 20 item 7): Rocky/Alma/RHEL 10, Debian 13 and Ubuntu 26.04 are
 * accepted as os: values, recognised from their /etc/os-release, and rendered with Docker's and
 * pkgs.k8s.io's trees and their codenames; Ubuntu 20.04, which Docker no longer builds for, is
 * warned about by validate, check and up. The facts and their sources are the versions table's
 * OS rows (src/versions/table.ts); the goldens of inventories/el10.yaml and resolute.yaml hold
 * the whole scripts.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseInventory } from '../src/inventory/load.js';
import { factsFromOsRelease, isSupportedRelease } from '../src/host/facts.js';
import { assumedFacts, osFamily } from '../src/os/index.js';
import { hostRequirements } from '../src/kube/host-requirements.js';
import { osRow, osRowFor, osWarning } from '../src/versions/index.js';
import { dryRun } from '../src/dry-run.js';
import { judge } from '../src/commands/check.js';
import { Runner } from '../src/runner.js';
import { Host } from '../src/host/host.js';
import { buildPlan } from '../src/plan.js';
import { FakeTransport } from './support/fake-transport.js';
import { exampleInventory } from './support/contexts.js';
import type { OsName } from '../src/inventory/schema.js';

const BASE = readFileSync(join(import.meta.dirname, 'fixtures', 'base.yaml'), 'utf8');

/** The base inventory (1.36.4, containerd) with every host on one os: value. */
function withOs(os: string, extra = ''): string {
  return BASE.replace(/(\n\s+role: [a-z-]+)/g, `$1\n    os: ${os}`).replace('  containerRuntime: containerd', `  containerRuntime: containerd${extra}`);
}
const warningsOf = (text: string) => parseInventory(text, 'lab.yaml').warnings.map((w) => `${w.path}: ${w.message}`).filter((w) => !w.includes('privateKeyPath'));

// /etc/os-release of each release as it ships (ID, VERSION_ID, codename), and what kbootstrap must make of it
const OS_RELEASE: Record<string, string> = {
  rocky10: 'NAME="Rocky Linux"\nVERSION="10.0 (Red Quartz)"\nID="rocky"\nID_LIKE="rhel centos fedora"\nVERSION_ID="10.0"\nPLATFORM_ID="platform:el10"\nPRETTY_NAME="Rocky Linux 10.0 (Red Quartz)"\n',
  alma10: 'NAME="AlmaLinux"\nVERSION="10.0 (Purple Lion)"\nID="almalinux"\nID_LIKE="rhel centos fedora"\nVERSION_ID="10.0"\nPLATFORM_ID="platform:el10"\nPRETTY_NAME="AlmaLinux 10.0 (Purple Lion)"\n',
  rhel10: 'NAME="Red Hat Enterprise Linux"\nVERSION="10.1 (Coughlan)"\nID="rhel"\nID_LIKE="centos fedora"\nVERSION_ID="10.1"\nPLATFORM_ID="platform:el10"\nPRETTY_NAME="Red Hat Enterprise Linux 10.1 (Coughlan)"\n',
  debian13: 'PRETTY_NAME="Debian GNU/Linux 13 (trixie)"\nNAME="Debian GNU/Linux"\nVERSION_ID="13"\nVERSION="13 (trixie)"\nVERSION_CODENAME=trixie\nDEBIAN_VERSION_FULL=13.8\nID=debian\n',
  'ubuntu26.04': 'PRETTY_NAME="Ubuntu 26.04.1 LTS"\nNAME="Ubuntu"\nVERSION_ID="26.04"\nVERSION="26.04.1 LTS (Resolute Raccoon)"\nVERSION_CODENAME=resolute\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=resolute\n',
};

describe('Rocky/Alma/RHEL 10, Debian 13 and Ubuntu 26.04', () => {
  const NEW = ['rocky10', 'alma10', 'rhel10', 'debian13', 'ubuntu26.04'] as const;

  it.each(NEW)('os: %s validates with no warning of its own', (os) => {
    expect(warningsOf(withOs(os))).toEqual([]);
  });

  it.each(NEW)('a host whose /etc/os-release says %s is recognised as that row, a supported release', (os) => {
    const f = factsFromOsRelease(OS_RELEASE[os]!, 'x86_64');
    expect(osRowFor(f.osId, f.versionId)?.os).toBe(os);
    expect(isSupportedRelease(f)).toBe(true);
    expect(f.family).toBe(osRow(os)!.family);
    expect(f.codename).toBe(osRow(os)!.codename);
  });

  it('render with Docker\'s trees and codenames, and pkgs.k8s.io\'s tree of the minor', async () => {
    const scripts = Object.fromEntries((await dryRun(exampleInventory('el10'))).concat(await dryRun(exampleInventory('resolute'))).map((h) => [h.host + '@' + /OS assumed: ([^(]+?) \(/.exec(h.script)![1], h.script]));
    const docker = (s: string) => [...s.matchAll(/^(?:deb \[[^\]]*\] (https:\/\/download\.docker\.com\/\S+ \S+) stable|baseurl=(https:\/\/download\.docker\.com\/\S+))$/gm)].map((m) => m[1] ?? m[2]);
    const kube = (s: string) => [...new Set([...s.matchAll(/https:\/\/pkgs\.k8s\.io\/core:\/stable:\/(v1\.\d+)\/(deb|rpm)\//g)].map((m) => `${m[1]} ${m[2]}`))];
    const got = Object.fromEntries(Object.entries(scripts).map(([k, s]) => [k, { docker: docker(s), kube: kube(s) }]));
    expect(got).toEqual({
      'cp-1@Red Hat Enterprise Linux 10.0': { docker: ['https://download.docker.com/linux/rhel/$releasever/$basearch/stable'], kube: ['v1.36 rpm'] },
      'worker-1@Rocky Linux 10.0': { docker: ['https://download.docker.com/linux/centos/$releasever/$basearch/stable'], kube: ['v1.36 rpm'] },
      'worker-2@AlmaLinux 10.0': { docker: ['https://download.docker.com/linux/centos/$releasever/$basearch/stable'], kube: ['v1.36 rpm'] },
      'cp-1@Ubuntu 26.04.1 LTS': { docker: ['https://download.docker.com/linux/ubuntu resolute'], kube: ['v1.36 deb'] },
      'worker-1@Ubuntu 26.04.1 LTS': { docker: ['https://download.docker.com/linux/ubuntu resolute'], kube: ['v1.36 deb'] },
      'worker-2@Debian GNU/Linux 13': { docker: ['https://download.docker.com/linux/debian trixie'], kube: ['v1.36 deb'] },
    });
    // EL10 keeps dnf 4's yum alias (rpm-software-management/dnf dnf.spec): the same yum lines as EL9
    expect(scripts['cp-1@Red Hat Enterprise Linux 10.0']).toContain('kb_retry 3 5 yum install -y --disableexcludes=kubernetes kubelet-1.36.4 kubeadm-1.36.4 kubectl-1.36.4');
  });

  it('their kernels (EL10 6.12, Debian 13 6.12, Ubuntu 26.04 7.0) pass kubeadm\'s kernel check on every supported minor, cgroup v2', () => {
    for (const os of NEW) {
      const f = assumedFacts(os);
      for (const minor of [35, 36, 37]) expect(hostRequirements(f, minor), `${os} 1.${minor}`).toEqual({ refusals: [], warnings: [] });
    }
  });

  it.each(NEW)('os: %s with the docker runtime is refused: cri-dockerd builds no package for it', (os) => {
    const text = withOs(os, '\n  criDockerd: { version: "0.4.10", sha256: { "cri-dockerd_0.4.10.3-0.ubuntu-jammy_amd64.deb": "' + '0'.repeat(64) + '" } }').replace('containerRuntime: containerd', 'containerRuntime: docker');
    expect(() => parseInventory(text, 'lab.yaml')).toThrow(new RegExp(`cri-dockerd 0\\.4\\.10 publishes no package for ${osRow(os)!.prettyName.replace(/[.()]/g, '\\$&')}: use containerd on this host`));
  });
});

describe('Ubuntu 20.04: Docker stopped building for it (2025-05-22)', () => {
  const FOCAL = 'NAME="Ubuntu"\nVERSION="20.04.6 LTS (Focal Fossa)"\nID=ubuntu\nID_LIKE=debian\nPRETTY_NAME="Ubuntu 20.04.6 LTS"\nVERSION_ID="20.04"\nVERSION_CODENAME=focal\nUBUNTU_CODENAME=focal\n';
  const WARNING = /^Docker stopped building containerd\.io and docker-ce for Ubuntu 20\.04\.6 LTS \(focal\) on 2025-05-22 \(https:\/\/github\.com\/docker\/docker-ce-packaging\/pull\/1200 .*read 2026-12-07\): kbootstrap installs containerd\.io from Docker's repository, whose last packages for it get no fixes; move the host to Ubuntu 22\.04, Ubuntu 24\.04 or Ubuntu 26\.04$/;

  it('validate warns once, at the first host with os: ubuntu20.04, with the date and its source', () => {
    const w = warningsOf(withOs('ubuntu20.04'));
    expect(w).toEqual([expect.stringMatching(/^hosts\[0\]\.os: Docker stopped building/)]);
    expect(w[0]!.replace('hosts[0].os: ', '')).toMatch(WARNING);
    expect(warningsOf(withOs('ubuntu22.04'))).toEqual([]);
  });

  it('check\'s os row warns for a host that reads as Ubuntu 20.04; Ubuntu 22.04 passes', () => {
    const inv = exampleInventory('resolute');
    const g = (os: string) => {
      const f = factsFromOsRelease(os, 'x86_64');
      return {
        spec: inv.hosts[0]!, login: { user: 'root', address: inv.hosts[0]!.address, port: 22 }, os: f.prettyName, supported: isSupportedRelease(f),
        osWarning: osWarning(osRowFor(f.osId, f.versionId)), kernel: { kernel: '5.15.0-105-generic', cgroup: 'v2' as const }, uuid: 'u', macs: [], cpus: 2, memMiB: 4096,
        hostname: 'cp-1', joined: false, portsUsed: [], api: new Map(), skewS: 0,
      };
    };
    const row = (os: string) => judge({ ...inv, hosts: [inv.hosts[0]!] }, [g(os)], new Map()).find((r) => r.check === 'os')!;
    const focal = row(FOCAL);
    expect(focal.verdict).toBe('warn');
    expect(focal.detail.replace('Ubuntu 20.04.6 LTS: ', '')).toMatch(WARNING);
    expect(row(FOCAL.replace(/20\.04\.6 LTS \(Focal Fossa\)/, '22.04.4 LTS (Jammy Jellyfish)').replace(/20\.04\.6/, '22.04.4').replace('"20.04"', '"22.04"').replace(/focal/g, 'jammy'))).toMatchObject({ verdict: 'pass', detail: 'Ubuntu 22.04.4 LTS' });
  });

  it('up warns for a host that is Ubuntu 20.04, and goes on', async () => {
    const inv = exampleInventory('resolute');
    const runner = new Runner(inv, buildPlan(inv, { steps: ['hostname'] }), async (spec) => new Host(spec, new FakeTransport({ hostname: spec.name }),
      spec.name === 'worker-1' ? { ...factsFromOsRelease(FOCAL, 'x86_64'), kernel: '5.15.0-105-generic', cgroup: 'v2' } : assumedFacts(spec.os as OsName)),
    { mode: 'apply', concurrency: 10, verifyTimeoutSeconds: 1 });
    const result = await runner.run();
    expect(result.warnings).toEqual([expect.stringMatching(/^worker-1: Docker stopped building containerd\.io and docker-ce for Ubuntu 20\.04\.6 LTS \(focal\) on 2025-05-22/)]);
    // a warning, not a refusal: the host's steps still run (whatever this fake host answers them)
    expect(result.outcomes.find((o) => o.host === 'worker-1' && o.step === 'hostname')?.reason).not.toMatch(/cannot run|Docker/);
    expect(osFamily(assumedFacts('ubuntu20.04')).id).toBe('debian');
  });
});
