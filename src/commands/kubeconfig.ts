/**
 * kbootstrap kubeconfig: admin.conf from a control plane, pointed at
 * controlPlaneEndpoint and renamed after the cluster; written 0600, or merged
 * into ~/.kube/config ($KUBECONFIG) without touching other entries.
 */
import { homedir } from 'node:os';
import { dirname, join, delimiter } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Inventory } from '../inventory/model.js';
import { Session, type SessionFlags } from '../session.js';
import { EXIT, KbError } from '../errors.js';
import { render } from '../shell/templates.js';
import type { Io } from '../io.js';
import type { Prompt } from '../ssh/credentials.js';
import { makeDirs, readIfThere, setMode, writeFileSafely } from '../local-file.js';

export interface KubeconfigFlags extends SessionFlags { file?: string; merge?: boolean; output?: 'text' | 'json' }

interface Named<T> { name: string; [k: string]: unknown; cluster?: T; user?: T; context?: T }
interface Kubeconfig {
  apiVersion?: string;
  kind?: string;
  clusters?: Named<Record<string, unknown>>[];
  users?: Named<Record<string, unknown>>[];
  contexts?: Named<Record<string, unknown>>[];
  'current-context'?: string;
  preferences?: Record<string, unknown>;
}

/** Rename the admin kubeconfig's entries after the cluster and point it at the endpoint. */
export function rewriteAdminConf(text: string, inv: Inventory): Kubeconfig {
  const cfg = parse(text) as Kubeconfig;
  const cluster = cfg.clusters?.[0]?.cluster;
  const user = cfg.users?.[0]?.user;
  if (!cluster || !user) throw new KbError('admin.conf has no cluster or user entry');
  const name = inv.cluster.name;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { ...cluster, server: `https://${inv.cluster.controlPlaneEndpoint}` } }],
    users: [{ name: `${name}-admin`, user }],
    contexts: [{ name, context: { cluster: name, user: `${name}-admin` } }],
    'current-context': name,
  };
}

function upsert<T extends { name: string }>(list: T[] | undefined, item: T): T[] {
  const out = [...(list ?? [])];
  const i = out.findIndex((x) => x.name === item.name);
  if (i >= 0) out[i] = item; else out.push(item);
  return out;
}

/** Merge one cluster's entries into an existing kubeconfig; other entries and current-context stay. */
export function mergeKubeconfig(existing: Kubeconfig | undefined, add: Kubeconfig): Kubeconfig {
  const base: Kubeconfig = existing ?? { apiVersion: 'v1', kind: 'Config', clusters: [], users: [], contexts: [], preferences: {} };
  return {
    ...base,
    apiVersion: base.apiVersion ?? 'v1',
    kind: base.kind ?? 'Config',
    clusters: upsert(base.clusters, add.clusters![0]!),
    users: upsert(base.users, add.users![0]!),
    contexts: upsert(base.contexts, add.contexts![0]!),
    'current-context': base['current-context'] || add['current-context'],
  };
}

/** It holds the admin client key: 0600 whatever the umask, in a directory made 0700 when it is new. */
function writeKubeconfig(path: string, text: string): void {
  makeDirs(dirname(path), 0o700);
  writeFileSafely(path, text, { mode: 0o600 });
}

export function defaultKubeconfigPath(env: NodeJS.ProcessEnv): string {
  const first = env.KUBECONFIG?.split(delimiter).find(Boolean);
  return first ?? join(homedir(), '.kube', 'config');
}

export async function kubeconfig(inv: Inventory, o: KubeconfigFlags, io: Io, prompt?: Prompt): Promise<number> {
  const s = await Session.open(inv, o, prompt, inv.hosts.filter((h) => h.role === 'control-plane'));
  let cfg: Kubeconfig;
  try {
    const cp = await s.controlPlane();
    const res = await cp.exec(render('kubeconfig/admin', {}), { step: 'kubeconfig', mutates: false, secretOutput: true });
    cfg = rewriteAdminConf(res.stdout, inv);
  } finally {
    await s.close();
  }
  return saveKubeconfig(cfg, inv, o, io, process.env);
}

/**
 * Where the fetched kubeconfig goes: --file FILE, merged into $KUBECONFIG
 * (~/.kube/config), or standard output. With --output json, standard output
 * gets the kubeconfig itself as JSON (as kubectl config view -o json), or,
 * when it went to a file, what was done.
 */
export function saveKubeconfig(cfg: Kubeconfig, inv: Inventory, o: { file?: string; merge?: boolean; output?: 'text' | 'json' }, io: Io, env: NodeJS.ProcessEnv): number {
  const json = o.output === 'json';
  const said = (path: string, change: 'unchanged' | 'added' | 'updated' | 'written', text: string) => {
    io.out(json ? JSON.stringify({ file: path, context: inv.cluster.name, change }, null, 2) + '\n' : text);
    return EXIT.ok;
  };
  if (o.merge) {
    const path = defaultKubeconfigPath(env);
    const before = readIfThere(path, 'cannot write');
    const merged = stringify(mergeKubeconfig(before ? (parse(before) as Kubeconfig) : undefined, cfg));
    if (before !== undefined && stringify(parse(before)) === merged) {
      // nothing to change but the mode: an existing file may have been left readable by others
      setMode(path, 0o600);
      return said(path, 'unchanged', `${path}: context ${inv.cluster.name} is already up to date\n`);
    }
    writeKubeconfig(path, merged);
    const change = before?.includes(`name: ${inv.cluster.name}\n`) ? 'updated' : 'added';
    return said(path, change, `${path}: ${change} context ${inv.cluster.name} (kubectl --context ${inv.cluster.name})\n`);
  }
  const text = stringify(cfg);
  if (o.file) {
    if (readIfThere(o.file, 'cannot write') === text) {
      setMode(o.file, 0o600);
      return said(o.file, 'unchanged', `${o.file}: already up to date\n`);
    }
    writeKubeconfig(o.file, text);
    return said(o.file, 'written', `wrote ${o.file} (mode 0600)\n`);
  }
  if (io.isTTY) io.err('warning: this kubeconfig holds cluster-admin credentials; use --file FILE or --merge to keep it in a file\n');
  io.out(json ? JSON.stringify(cfg, null, 2) + '\n' : text);
  return EXIT.ok;
}
