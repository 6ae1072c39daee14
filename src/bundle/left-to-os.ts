/**
 * `check --bundle FILE`: the OS packages a bundle leaves to each host's release (its manifest's fromOs: what
 * the steps or the bundled packages need from the release's own base repositories, less what --with-os-packages
 * bundled), looked up on the host in check's one round trip, and judged into a row `os-packages`.
 */
import type { Family } from '../inventory/model.js';
import type { HostFacts } from '../os/types.js';
import type { OsName } from '../inventory/schema.js';
import { FAMILIES } from '../os/index.js';
import { bundleOsRelease } from '../os/debian-trees.js';
import { render } from '../shell/templates.js';
import { first, kv } from '../shell/kv.js';
import type { Fact } from '../host/fact.js';
import type { BundleManifest } from './manifest.js';

type Release = BundleManifest['osReleases'][number];

const isRpm = (r: Release) => r.trees.some((t) => t.kind === 'rpm');

/** Every name a host of FAMILY may be asked about: the fromOs of the bundle's releases of that family (one query per host). */
export function namesForFamily(m: BundleManifest, family: Family): string[] {
  return [...new Set(m.osReleases.filter((r) => isRpm(r) === (family === 'rhel')).flatMap((r) => r.fromOs))].sort();
}

/**
 * Which of the packages the bundle leaves to the OS a host lacks, in one query: the names of every release of the
 * host's family in the bundle (its release is known only once it answers); undefined: the host could not say (no
 * dpkg-query or rpm).
 */
export function leftToOsFact(m: BundleManifest): Fact<string[] | undefined> {
  return {
    script(os) {
      const names = namesForFamily(m, os.id);
      return names.length ? render(os.id === 'rhel' ? 'facts/os-packages-rpm' : 'facts/os-packages-deb', { names, wanted: names.join(' ') }) : 'echo os-pkgs=read';
    },
    parse(stdout) {
      const kvs = kv(stdout);
      if (first(kvs, 'os-pkgs') !== 'read') return undefined;
      return [...new Set(kvs.get('os-pkg-missing') ?? [])];
    },
  };
}

/** The host's release in the bundle: matched as up --bundle matches it (an EL release by its major). */
export function releaseFor(m: BundleManifest, f: Pick<HostFacts, 'osId' | 'versionId' | 'arch'>): Release | undefined {
  return m.osReleases.find((r) => bundleOsRelease({ osId: r.osId, versionId: r.versionId, arch: r.arch ?? 'amd64' }) === bundleOsRelease(f));
}

/** The --os name of a host's release (an EL release by its major), for the advice to add it. */
function osNameOf(f: Pick<HostFacts, 'family' | 'osId' | 'versionId' | 'major'>): OsName | undefined {
  const hit = Object.entries(FAMILIES[f.family].releases).find(([, r]) => r.osId === f.osId && (f.family === 'rhel' ? r.major === f.major : r.versionId === f.versionId));
  return hit?.[0] as OsName | undefined;
}

export interface LeftToOs {
  file: string;
  manifest: BundleManifest;
}

/**
 * The os-packages row of one host: pass (every package its release needs from the OS is installed),
 * or fail naming each missing one and what to do; fail when the bundle has no packages for its release.
 */
export function osPackagesVerdict(b: LeftToOs, host: { name: string; os?: string | undefined },
  f: Pick<HostFacts, 'family' | 'osId' | 'versionId' | 'major' | 'arch' | 'prettyName'>, missing: string[] | undefined): { verdict: 'pass' | 'fail'; detail: string } {
  const r = releaseFor(b.manifest, f);
  if (!r) {
    const has = b.manifest.osReleases.map((x) => `${x.os} ${x.arch ?? 'amd64'}`).join(', ') || 'none';
    return { verdict: 'fail', detail: `bundle ${b.file} has no packages for ${f.prettyName} ${f.arch} (host ${host.name}); it has ${has}: add the release with bundle --os ${osNameOf(f) ?? host.os ?? 'RELEASE'}${f.arch !== 'amd64' ? ` --arch ${f.arch}` : ''}` };
  }
  if (!r.fromOs.length) return { verdict: 'pass', detail: `the bundle carries every package ${r.os} needs` };
  if (!missing) return { verdict: 'fail', detail: `cannot tell which of ${r.fromOs.join(', ')} are installed: neither dpkg-query nor rpm answered` };
  const lacking = r.fromOs.filter((n) => missing.includes(n));
  if (!lacking.length) return { verdict: 'pass', detail: `${r.fromOs.length} package${r.fromOs.length === 1 ? '' : 's'} from ${f.prettyName}'s own repositories installed` };
  const them = lacking.length === 1 ? 'it' : 'them';
  const what = r.osPackages
    ? `install ${them} from the distribution's media or a local mirror (the bundle was made --with-os-packages; the repositories it read did not resolve ${them})`
    : `install ${them} from the distribution's media or a local mirror, or make the bundle again with --with-os-packages on a machine that reaches ${r.os}'s base repositories (or a mirror of them)`;
  return { verdict: 'fail', detail: `missing ${lacking.join(', ')} (from ${f.prettyName}'s own repositories; the bundle does not carry ${them}): ${what}` };
}
