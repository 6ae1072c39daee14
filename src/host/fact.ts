/**
 * A fact a host can tell: the read-only snippet that asks, paired with the
 * parser of what it prints, so that every reader (a step's check, status,
 * check) asks and reads it the same way. Snippets print key=value lines
 * (src/shell/kv.ts); a parser reads only its own keys, so facts can share
 * one script and one round trip.
 */
import { kv } from '../shell/kv.js';
import type { OsFamily } from '../os/types.js';

export interface Fact<T> {
  /** the read-only snippet, for this host's OS family */
  script(os: OsFamily): string;
  /** what it printed (among other facts' lines), read */
  parse(stdout: string): T;
}

/** The Kubernetes packages kubeadm's install page names, installed, pinned and held together. */
export const KUBE_PACKAGES = ['kubelet', 'kubeadm', 'kubectl'] as const;

/** Installed versions of these packages: name -> version (a package not installed is absent), from the family's `pkg=NAME=VERSION` lines. */
export function installedPackages(names: readonly string[]): Fact<Map<string, string>> {
  return {
    script: (os) => os.packagesCheck([...names]),
    parse(stdout) {
      const lines = kv(stdout).get('pkg') ?? [];
      const found = new Map(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      // another fact's pkg= lines in the same script are not this one's
      return new Map([...found].filter(([n]) => names.includes(n)));
    },
  };
}
