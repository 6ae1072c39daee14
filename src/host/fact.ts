/**
 * A fact a host can tell: the read-only snippet that asks, paired with the
 * parser of what it prints, so that every reader (a step's check, status,
 * check) asks and reads it the same way. Snippets print key=value lines
 * (src/shell/kv.ts); a parser reads only its own keys, so facts can share
 * one script and one round trip.
 */
import { first, kv } from '../shell/kv.js';
import { render } from '../shell/templates.js';
import type { OsFamily } from '../os/types.js';
import { parseCerts, type CertFacts } from '../kube/certs.js';

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

/** Whether the cluster answers through this control plane (its admin.conf, /readyz), and why not. */
export interface ClusterAnswers { answers: boolean; why?: string }

export const clusterAnswers: Fact<ClusterAnswers> = {
  script: () => render('facts/cluster-answers', {}),
  parse(stdout) {
    const a = first(kv(stdout), 'answers');
    if (a === 'yes') return { answers: true };
    return { answers: false, why: a === 'no-admin-conf' ? 'no /etc/kubernetes/admin.conf' : a?.trim() || 'no answer' };
  },
};

/** A bootstrap token as `kubeadm token list` describes it: its public id, never its secret. */
export interface ListedToken { id: string; ttl: string; expires: string; description: string }

/**
 * `kubeadm token list -o json` prints one JSON object per token, one after
 * another (BootstrapToken of output.kubeadm.k8s.io); only the public id is kept
 * (the fact's snippet cuts the secret half off on the host already).
 */
export function parseTokenList(text: string): ListedToken[] {
  const tokens: ListedToken[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === '\\') i++;
      else if (ch === '"') inString = false;
      continue;
    }
    if (ch === '"') inString = true;
    else if (ch === '{') { if (depth++ === 0) start = i; }
    else if (ch === '}' && --depth === 0) {
      const o = JSON.parse(text.slice(start, i + 1)) as { token?: string; ttl?: string; expires?: string; description?: string };
      const id = /^([a-z0-9]{6})(\.|$)/.exec(o.token ?? '')?.[1];
      if (id) tokens.push({ id, ttl: o.ttl ?? '<forever>', expires: o.expires ?? '<never>', description: o.description ?? '<none>' });
    }
  }
  return tokens;
}

/** The cluster's bootstrap tokens, ids only (read on a control plane), or why kubeadm could not list them. */
export const bootstrapTokens: Fact<{ tokens: ListedToken[]; error?: string }> = {
  script: () => render('facts/bootstrap-tokens', {}),
  parse(stdout) {
    const m = kv(stdout);
    const error = first(m, 'tokens-error');
    if (error !== undefined) return { tokens: [], error: error.trim() || 'kubeadm token list failed' };
    const line = first(m, 'tokens');
    if (line === undefined) return { tokens: [], error: 'kubeadm token list printed nothing' };
    return { tokens: parseTokenList(line) };
  },
};

/** A joined host: kubeadm init or join wrote /etc/kubernetes/kubelet.conf. */
export const joined: Fact<boolean> = {
  script: () => render('facts/joined', {}),
  parse: (stdout) => first(kv(stdout), 'joined') === 'yes',
};

/** A systemd unit as systemctl is-enabled and is-active say ("unknown" when they say nothing). */
export interface UnitState { enabled: string; active: string }

export function unitState(unit: string): Fact<UnitState> {
  return {
    script: () => render('facts/unit-state', { unit }),
    parse(stdout) {
      const line = (kv(stdout).get('unit') ?? []).map((l) => l.split(' ')).find((f) => f[0] === unit);
      return { enabled: line?.[1] ?? 'unknown', active: line?.[2] ?? 'unknown' };
    },
  };
}

/** What the runtimes and kubelet and kubeadm say their versions are ('' when not installed). */
export interface ComponentVersions { containerd: string; docker: string; kubelet: string; kubeadm: string }

export const componentVersions: Fact<ComponentVersions> = {
  script: () => render('facts/versions', {}),
  parse(stdout) {
    const m = kv(stdout);
    return { containerd: first(m, 'containerd') ?? '', docker: first(m, 'docker') ?? '', kubelet: first(m, 'kubelet') ?? '', kubeadm: first(m, 'kubeadm') ?? '' };
  },
};

/** The host holds this IPv4 address on an interface (kube-vip's VIP on its leader). */
export function holdsAddress(address: string): Fact<boolean> {
  return {
    script: () => render('facts/holds-address', { address }),
    parse: (stdout) => (kv(stdout).get('holds') ?? []).includes(address),
  };
}

export interface ClusterNode { name: string; status: string; roles: string; version: string; address: string }

/** The cluster's nodes and kube-proxy's mode through this control plane; undefined when it lists none (no admin.conf, no answer). */
export const clusterNodes: Fact<{ nodes: ClusterNode[]; proxyMode: string } | undefined> = {
  script: () => render('facts/cluster-nodes', {}),
  parse(stdout) {
    const m = kv(stdout);
    // no node listed: the API server did not answer (a cluster has at least the control plane's node)
    if (!m.has('node')) return undefined;
    return {
      nodes: (m.get('node') ?? []).map((l) => { const [name, status, roles, version, address] = l.split(' '); return { name: name!, status: status!, roles: roles!, version: version!, address: address ?? '' }; }),
      proxyMode: first(m, 'proxy-mode') || 'iptables',
    };
  },
};

/** kubeadm's certificates and kubeconfigs (control planes), the CAs, and the kubelet's client certificate, read with openssl. */
export function certificates(controlPlane: boolean): Fact<CertFacts> {
  return { script: () => render('certs/read', { controlPlane }), parse: parseCerts };
}
