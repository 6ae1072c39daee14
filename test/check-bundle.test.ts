// check --bundle (issue 21 item 1): per host, the OS packages the bundle leaves to its release; judge() decides
// the os-packages row, and the fact's snippet, run by real bash against a stand-in dpkg-query or rpm, names
// what the host lacks in one call.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { judge } from '../src/commands/check.js';
import { readBundleManifest } from '../src/bundle/verify.js';
import { makeBundle } from './support/bundle-fixture.js';
import { leftToOsFact, namesForFamily } from '../src/bundle/left-to-os.js';
import type { BundleManifest } from '../src/bundle/manifest.js';
import { assumedFacts, osFamily } from '../src/os/index.js';
import type { OsName } from '../src/inventory/schema.js';
import { exampleInventory } from './support/contexts.js';
import { checkScripts } from './support/shellcheck.js';

type Release = BundleManifest['osReleases'][number];
const release = (os: OsName, fromOs: string[], extra: Partial<Release> = {}): Release => {
  const f = assumedFacts(os);
  const rpm = f.family === 'rhel';
  return {
    os, osId: f.osId, versionId: f.versionId, codename: f.codename, arch: 'amd64',
    trees: [rpm ? { kind: 'rpm', id: 'kubernetes', base: 'https://pkgs.k8s.io/x', suite: '', components: [], path: 'rpm/k8s' } : { id: 'kubernetes', base: 'https://pkgs.k8s.io/x', suite: '/', components: [], path: 'deb/k8s' }],
    packages: [], fromOs, ...extra,
  };
};
const manifest = (osReleases: Release[]): BundleManifest => ({
  format: 'kbootstrap-bundle/1', cluster: 'c', kubernetesVersion: '1.36.4', containerRuntime: 'containerd', cni: 'calico', osReleases, images: [], files: [],
});

describe('check --bundle: judge()', () => {
  const inv = exampleInventory('lab');
  const spec = inv.hosts[0]!;
  const gathered = (os: OsName, missing: string[] | undefined) => ({
    spec, login: { user: 'root', address: spec.address, port: 22 }, os: assumedFacts(os).prettyName, supported: true,
    kernel: { kernel: '6.1.0-26-amd64', cgroup: 'v2' as const }, uuid: 'u', macs: [], cpus: 2, memMiB: 4096,
    hostname: spec.name, joined: false, portsUsed: [], api: new Map(), skewS: 0,
    release: assumedFacts(os), osPackagesMissing: missing,
  });
  const row = (m: BundleManifest, os: OsName, missing: string[] | undefined) =>
    judge({ ...inv, hosts: [spec] }, [gathered(os, missing)], new Map(), { file: 'b.tar', manifest: m }).find((r) => r.check === 'os-packages');
  const bundle = manifest([release('debian12', ['conntrack', 'ebtables', 'socat']), release('rocky9', ['conntrack-tools', 'libc.so.6()(64bit)'])]);

  it('pass: every package the release needs from the OS is installed, with the count', () => {
    expect(row(bundle, 'debian12', [])).toMatchObject({ verdict: 'pass', detail: "3 packages from Debian GNU/Linux 12 (bookworm)'s own repositories installed" });
    // a name of another release of the family (asked in the same query) is not this release's
    expect(row(bundle, 'rocky9', ['socat'])).toMatchObject({ verdict: 'pass' });
  });

  it('fail: names each missing package and what to do', () => {
    const r = row(bundle, 'debian12', ['socat', 'conntrack'])!;
    expect(r.verdict).toBe('fail');
    expect(r.detail).toMatch(/^missing conntrack, socat \(from Debian GNU\/Linux 12 \(bookworm\)'s own repositories; the bundle does not carry them\): install them from the distribution's media or a local mirror, or make the bundle again with --with-os-packages/);
    // a bundle made --with-os-packages: rebuilding it that way is no advice
    const withOs = manifest([release('debian12', ['socat'], { osPackages: { packages: [], present: [], why: '' } })]);
    expect(row(withOs, 'debian12', ['socat'])!.detail).not.toContain('make the bundle again');
    // the host could not say (no dpkg-query, no rpm): not a pass
    expect(row(bundle, 'debian12', undefined)).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('cannot tell') });
  });

  it('fail: a host whose release the bundle has no packages for, named as up --bundle names it', () => {
    const r = row(bundle, 'ubuntu22.04', [])!;
    expect(r.verdict).toBe('fail');
    expect(r.detail).toMatch(/^bundle b\.tar has no packages for Ubuntu 22\.04\.\S+ LTS amd64 \(host \S+\); it has debian12 amd64, rocky9 amd64: add the release with bundle --os ubuntu22\.04$/);
    // another release of the same OS is another release; an EL host of a later point release matches its major, as up --bundle serves it
    expect(row(bundle, 'debian11', [])).toMatchObject({ verdict: 'fail', detail: expect.stringContaining('has no packages for Debian GNU/Linux 11') });
    const rocky95 = { ...gathered('rocky9', []), release: { ...assumedFacts('rocky9'), versionId: '9.5' } };
    expect(judge({ ...inv, hosts: [spec] }, [rocky95], new Map(), { file: 'b.tar', manifest: bundle }).find((x) => x.check === 'os-packages')).toMatchObject({ verdict: 'pass' });
    // arm64 hosts against an amd64-only bundle
    const arm = { ...gathered('debian12', []), release: { ...assumedFacts('debian12'), arch: 'arm64' as const } };
    expect(judge({ ...inv, hosts: [spec] }, [arm], new Map(), { file: 'b.tar', manifest: bundle }).find((x) => x.check === 'os-packages')!.detail).toMatch(/arm64 \(host .*: add the release with bundle --os debian12 --arch arm64$/);
  });

  it('without --bundle there is no os-packages row', () => {
    expect(judge({ ...inv, hosts: [spec] }, [gathered('debian12', ['socat'])], new Map()).some((r) => r.check === 'os-packages')).toBe(false);
  });

  it('each family is asked the names of its own releases', () => {
    expect(namesForFamily(bundle, 'debian')).toEqual(['conntrack', 'ebtables', 'socat']);
    expect(namesForFamily(bundle, 'rhel')).toEqual(['conntrack-tools', 'libc.so.6()(64bit)']);
  });
});

describe('check --bundle: the fact, run by bash against a stand-in package database', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-leftos-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const stub = (name: string, body: string) => {
    const bin = join(dir, name);
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, name === 'deb' ? 'dpkg-query' : 'rpm'), `#!/bin/bash\n${body}\n`);
    chmodSync(join(bin, name === 'deb' ? 'dpkg-query' : 'rpm'), 0o755);
    return bin;
  };
  const run = (script: string, path: string) => {
    const r = spawnSync('/bin/bash', ['-c', script], { encoding: 'utf8', env: { PATH: path } });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  };
  // dpkg-query -W -f='${db:Status-Abbrev} ${Package} ${Provides}\n' with no names: every package dpkg knows
  const deb = stub('deb', `[ "$1" = -W ] && [ "$2" = '-f=\${db:Status-Abbrev} \${Package} \${Provides}\\n' ] && [ $# = 2 ] || { echo "unexpected: $*" >&2; exit 2; }
printf '%s\\n' 'ii  conntrack ' 'rc  socat ' 'ii  mawk awk' 'iU  ebtables ' 'ii  iptables arptables (= 1.8.9), iptables-nft:any' 'iiR ipset '`);
  // rpm -q --whatprovides NAMES: one answer per name (older rpm print the misses on stderr)
  const rpm = stub('rpm', `[ "$1 $2" = '-q --whatprovides' ] || exit 2; shift 2
for a; do case "$a" in conntrack-tools|'libc.so.6()(64bit)') echo x-1.el9.x86_64 ;; /usr/bin/sh) echo bash-5.1.8-9.el9.x86_64 ;; /usr/sbin/ipset) echo "file $a: No such file or directory" ;; /usr/bin/x) echo "file $a is not owned by any package" ;; *) echo "no package provides $a" >&2 ;; esac; done
exit 3`);
  const debNames = ['conntrack', 'socat', 'awk', 'ebtables', 'arptables', 'iptables-nft', 'ipset'];
  const rpmNames = ['conntrack-tools', 'libc.so.6()(64bit)', '/usr/bin/sh', '/usr/sbin/ipset', '/usr/bin/x', 'socat'];
  // one bundle of a Debian and an EL release: each family is asked its own release's names
  const fact = leftToOsFact(manifest([release('debian12', debNames), release('rocky9', rpmNames)]));
  const debScript = fact.script(osFamily(assumedFacts('debian12')));
  const rpmScript = fact.script(osFamily(assumedFacts('rocky9')));
  // awk and sed alone: the machine's own dpkg-query (a Debian) must not answer for the stand-ins
  const sys = join(dir, 'tools');
  mkdirSync(sys);
  for (const t of ['awk', 'sed']) symlinkSync(spawnSync('/bin/bash', ['-c', `command -v ${t}`], { encoding: 'utf8' }).stdout.trim(), join(sys, t));

  it('Debian family: one dpkg-query; installed packages and what they provide count, removed, unpacked and broken ones do not', () => {
    expect(fact.parse(run(debScript, `${deb}:${sys}`))).toEqual(['ebtables', 'ipset', 'socat']);
    expect(debScript).not.toContain('conntrack-tools');
  });

  it('EL family: one rpm --whatprovides for names, capabilities and files', () => {
    expect(fact.parse(run(rpmScript, `${rpm}:${sys}`))).toEqual(['/usr/bin/x', '/usr/sbin/ipset', 'socat']);
  });

  it('a host without the tool cannot say (undefined), and the snippets pass shellcheck', () => {
    expect(fact.parse(run(debScript, sys))).toBeUndefined();
    expect(fact.parse(run(rpmScript, sys))).toBeUndefined();
    writeFileSync(join(dir, 'deb.sh'), debScript);
    writeFileSync(join(dir, 'rpm.sh'), rpmScript);
    checkScripts([join(dir, 'deb.sh'), join(dir, 'rpm.sh')]);
  });
});

describe('check --bundle: reading the bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kb-leftos-read-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads only its manifest; a file that is no bundle is refused with its name', async () => {
    const file = await makeBundle(dir, exampleInventory('lab'), ['debian12'], 'b.bundle', (m) => { m.osReleases[0]!.fromOs = ['conntrack', 'socat']; });
    expect((await readBundleManifest(file)).osReleases.map((r) => [r.os, r.fromOs])).toEqual([['debian12', ['conntrack', 'socat']]]);
    writeFileSync(join(dir, 'junk'), 'not a tar archive\n'.repeat(64));
    await expect(readBundleManifest(join(dir, 'junk'))).rejects.toThrow(/^bundle \S+junk: the archive is damaged or truncated/);
    await expect(readBundleManifest(join(dir, 'absent'))).rejects.toThrow(/^bundle \S+absent: cannot read it: ENOENT/);
  });
});
