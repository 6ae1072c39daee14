/**
 * Every OS family kbootstrap supports. A Record over Family: adding a value
 * to Family does not compile until its module is listed here.
 */
import type { Family } from '../inventory/model.js';
import type { OsName } from '../inventory/schema.js';
import { debian } from './debian.js';
import { rhel } from './rhel.js';
import type { HostFacts, OsFamily, ReleaseFacts } from './types.js';

export const FAMILIES: Record<Family, OsFamily> = { rhel, debian };

export function osFamily(facts: Pick<HostFacts, 'family'>): OsFamily {
  return FAMILIES[facts.family];
}

const isFamilyName = (os: OsName): os is Family => Object.hasOwn(FAMILIES, os);

/** The facts a dry run assumes for an inventory os: value (a bare family name means its generic release). */
export function assumedFacts(os: OsName): HostFacts {
  const name = isFamilyName(os) ? FAMILIES[os].genericRelease : os;
  const release: ReleaseFacts | undefined = Object.values(FAMILIES).map((f) => f.releases[name]).find(Boolean);
  if (!release) throw new Error(`no OS family lists the release ${JSON.stringify(os)}`);
  return { ...release, arch: 'amd64', assumed: true };
}

export type { HostFacts, OsFamily } from './types.js';
