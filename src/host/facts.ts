/**
 * Reading a host's OS: /etc/os-release and the machine type, in one
 * read-only script; the families in src/os decide what it is.
 */
import { FAMILIES, osFamily } from '../os/index.js';
import type { HostFacts } from '../os/types.js';
import { render } from '../shell/templates.js';

export class UnsupportedOsError extends Error {}

/** Parse /etc/os-release text (and `uname -m`) into facts; throws for an OS no family claims. */
export function factsFromOsRelease(text: string, machine: string): HostFacts {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  const id = vars.ID ?? '';
  const like = (vars.ID_LIKE ?? '').split(/\s+/).filter(Boolean);
  const pretty = vars.PRETTY_NAME ?? id;
  const family = Object.values(FAMILIES).find((f) => f.matches(id, like));
  if (!family) {
    throw new UnsupportedOsError(`unsupported OS ${JSON.stringify(pretty)}: kbootstrap supports ${Object.values(FAMILIES).map((f) => f.description).join(' and ')}`);
  }
  const versionId = vars.VERSION_ID ?? '';
  const arch = machine.trim() === 'aarch64' || machine.trim() === 'arm64' ? 'arm64' : 'amd64';
  return {
    family: family.id,
    osId: id,
    versionId,
    codename: vars.VERSION_CODENAME ?? vars.UBUNTU_CODENAME ?? '',
    prettyName: pretty,
    major: Number(versionId.split('.')[0]) || 0,
    arch,
    kernel: vars.KB_KERNEL ?? '',
    cgroup: vars.KB_CGROUPFS === 'cgroup2fs' ? 'v2' : vars.KB_CGROUPFS === 'tmpfs' ? 'v1' : '',
    conntrackModule: vars.KB_CONNTRACK === 'nf_conntrack_ipv4' ? 'nf_conntrack_ipv4' : 'nf_conntrack',
    assumed: false,
  };
}

/** Is this a release kbootstrap is tested against? (others get a warning, not a refusal) */
export function isSupportedRelease(f: HostFacts): boolean {
  return osFamily(f).isSupportedRelease(f);
}

/** The read-only script whose output parseFactsOutput reads. */
export const factsScript = (): string => render('host/facts', {});

export function parseFactsOutput(stdout: string): HostFacts {
  const m = /^KB_MACHINE=(.*)$/m.exec(stdout);
  return factsFromOsRelease(stdout, m?.[1] ?? 'x86_64');
}

export type { HostFacts } from '../os/types.js';
