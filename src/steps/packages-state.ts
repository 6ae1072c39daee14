/** Reading which packages (and versions) a host has, for both families. */
import { render } from '../shell/templates.js';
import type { HostFacts } from '../host/facts.js';
import type { CheckOutput } from '../transport/types.js';

export function packagesCheck(packages: string[], facts: HostFacts): string {
  return render('common/packages-state', { packages }, facts.family);
}

/** name -> installed version ('' when absent) */
export function parsePackages(out: CheckOutput): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.stdout.split('\n')) {
    const r = /^pkg=([^=]+)=(.*)$/.exec(line);
    if (r) m.set(r[1]!, r[2]!);
  }
  return m;
}

export function installScript(packages: string[], facts: HostFacts): string {
  return render('common/install', { packages }, facts.family);
}
