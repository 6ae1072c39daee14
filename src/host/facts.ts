/**
 * What kbootstrap needs to know about a host's OS. A real run reads it from
 * /etc/os-release; a dry run takes it from the inventory's os: field.
 */
import type { Family } from '../inventory/model.js';
import type { OsName } from '../inventory/schema.js';

export interface HostFacts {
  family: Family;
  /** os-release ID: centos, rocky, almalinux, rhel, debian, ubuntu */
  osId: string;
  versionId: string;
  /** Debian family codename (jammy, bookworm); '' on RHEL */
  codename: string;
  prettyName: string;
  /** RHEL major version (7, 8, 9); 0 on Debian */
  el: number;
  arch: 'amd64' | 'arm64';
  /** true when this came from the inventory, not from the host */
  assumed: boolean;
}

const KNOWN: Record<Exclude<OsName, 'rhel' | 'debian'>, Omit<HostFacts, 'arch' | 'assumed'>> = {
  centos7: { family: 'rhel', osId: 'centos', versionId: '7', codename: '', prettyName: 'CentOS Linux 7 (Core)', el: 7 },
  rocky8: { family: 'rhel', osId: 'rocky', versionId: '8.10', codename: '', prettyName: 'Rocky Linux 8.10 (Green Obsidian)', el: 8 },
  rocky9: { family: 'rhel', osId: 'rocky', versionId: '9.4', codename: '', prettyName: 'Rocky Linux 9.4 (Blue Onyx)', el: 9 },
  alma8: { family: 'rhel', osId: 'almalinux', versionId: '8.10', codename: '', prettyName: 'AlmaLinux 8.10 (Cerulean Leopard)', el: 8 },
  alma9: { family: 'rhel', osId: 'almalinux', versionId: '9.4', codename: '', prettyName: 'AlmaLinux 9.4 (Seafoam Ocelot)', el: 9 },
  rhel8: { family: 'rhel', osId: 'rhel', versionId: '8.10', codename: '', prettyName: 'Red Hat Enterprise Linux 8.10 (Ootpa)', el: 8 },
  rhel9: { family: 'rhel', osId: 'rhel', versionId: '9.4', codename: '', prettyName: 'Red Hat Enterprise Linux 9.4 (Plow)', el: 9 },
  debian11: { family: 'debian', osId: 'debian', versionId: '11', codename: 'bullseye', prettyName: 'Debian GNU/Linux 11 (bullseye)', el: 0 },
  debian12: { family: 'debian', osId: 'debian', versionId: '12', codename: 'bookworm', prettyName: 'Debian GNU/Linux 12 (bookworm)', el: 0 },
  'ubuntu20.04': { family: 'debian', osId: 'ubuntu', versionId: '20.04', codename: 'focal', prettyName: 'Ubuntu 20.04.6 LTS', el: 0 },
  'ubuntu22.04': { family: 'debian', osId: 'ubuntu', versionId: '22.04', codename: 'jammy', prettyName: 'Ubuntu 22.04.4 LTS', el: 0 },
  'ubuntu24.04': { family: 'debian', osId: 'ubuntu', versionId: '24.04', codename: 'noble', prettyName: 'Ubuntu 24.04.1 LTS', el: 0 },
};

/** Facts a dry run assumes for an inventory os: value (generic family names mean its newest release). */
export function assumedFacts(os: OsName): HostFacts {
  const key = os === 'rhel' ? 'rocky9' : os === 'debian' ? 'debian12' : os;
  return { ...KNOWN[key], arch: 'amd64', assumed: true };
}

export class UnsupportedOsError extends Error {}

/** Parse /etc/os-release text (and `uname -m`) into facts; throws for an OS outside both families. */
export function factsFromOsRelease(text: string, machine: string): HostFacts {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
    if (m) vars[m[1]!] = m[2]!.replace(/^(["'])(.*)\1$/, '$2');
  }
  const id = vars.ID ?? '';
  const like = (vars.ID_LIKE ?? '').split(/\s+/);
  const pretty = vars.PRETTY_NAME ?? id;
  let family: Family;
  if (['rhel', 'centos', 'rocky', 'almalinux', 'ol'].includes(id) || like.some((l) => ['rhel', 'centos', 'fedora'].includes(l))) family = 'rhel';
  else if (['debian', 'ubuntu'].includes(id) || like.includes('debian') || like.includes('ubuntu')) family = 'debian';
  else throw new UnsupportedOsError(`unsupported OS ${JSON.stringify(pretty)}: kbootstrap supports the RHEL family (CentOS 7, Rocky/Alma/RHEL 8 and 9) and the Debian family (Debian 11/12, Ubuntu 20.04/22.04/24.04)`);
  const versionId = vars.VERSION_ID ?? '';
  const arch = machine.trim() === 'aarch64' || machine.trim() === 'arm64' ? 'arm64' : 'amd64';
  return {
    family,
    osId: id,
    versionId,
    codename: vars.VERSION_CODENAME ?? vars.UBUNTU_CODENAME ?? '',
    prettyName: pretty,
    el: family === 'rhel' ? Number(versionId.split('.')[0]) || 0 : 0,
    arch,
    assumed: false,
  };
}

/** Is this a release kbootstrap is tested against? (others get a warning, not a refusal) */
export function isSupportedRelease(f: HostFacts): boolean {
  if (f.family === 'rhel') return f.el === 7 ? f.osId === 'centos' : f.el === 8 || f.el === 9;
  if (f.osId === 'debian') return ['11', '12'].includes(f.versionId);
  if (f.osId === 'ubuntu') return ['20.04', '22.04', '24.04'].includes(f.versionId);
  return false;
}

/** The read-only script whose output factsFromOsRelease parses. */
export const FACTS_SCRIPT = 'cat /etc/os-release; printf "KB_MACHINE=%s\\n" "$(uname -m)"';

export function parseFactsOutput(stdout: string): HostFacts {
  const m = /^KB_MACHINE=(.*)$/m.exec(stdout);
  return factsFromOsRelease(stdout, m?.[1] ?? 'x86_64');
}
