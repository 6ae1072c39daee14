/**
 * The cluster as the cluster-wide steps see it: one `kubectl get` of nodes,
 * ConfigMaps, DaemonSets and pods as JSON (templates/cluster/state.sh.hbs),
 * parsed once per check output however many steps read it.
 */
import { parse as parseYaml } from 'yaml';
import { first, kv } from '../shell/kv.js';

export interface NodeState {
  name: string;
  /** as kubectl prints it: Ready, NotReady, Ready,SchedulingDisabled */
  status: string;
  labels: Map<string, string>;
  kubeletVersion: string;
}

export interface PodState {
  namespace: string;
  name: string;
  /** Running, Pending, Succeeded, Failed */
  phase: string;
  ready: number;
  containers: number;
}

export type ClusterState =
  | { kind: 'absent' }
  | { kind: 'down'; error: string }
  | {
    kind: 'present';
    nodes: Map<string, NodeState>;
    pods: PodState[];
    /** ConfigMap data by namespace/name */
    configMaps: Map<string, Record<string, string>>;
    /** DaemonSets by namespace/name: env of each container by container name */
    daemonSets: Map<string, Map<string, Map<string, string>>>;
    /** DaemonSets by namespace/name: the image of each container by container name */
    daemonSetImages: Map<string, Map<string, string>>;
  };

interface K8sObject {
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> };
  spec?: {
    unschedulable?: boolean;
    template?: { spec?: { containers?: { name?: string; image?: string; env?: { name?: string; value?: string }[] }[] } };
  };
  status?: {
    conditions?: { type?: string; status?: string }[];
    nodeInfo?: { kubeletVersion?: string };
    phase?: string;
    containerStatuses?: { ready?: boolean }[];
  };
  data?: Record<string, string>;
}

let last: { stdout: string; state: ClusterState } | undefined;

/** The state a cluster/state check printed (memoised: every cluster step parses the same output). */
export function clusterState(stdout: string): ClusterState {
  if (last?.stdout === stdout) return last.state;
  const state = parseState(stdout);
  last = { stdout, state };
  return state;
}

function parseState(stdout: string): ClusterState {
  const m = kv(stdout);
  const c = first(m, 'cluster');
  if (c === 'absent' || c === undefined) return { kind: 'absent' };
  if (c === 'down') return { kind: 'down', error: (m.get('error') ?? []).join(' ') || 'the API server does not answer' };
  let list: { items?: K8sObject[] };
  try {
    list = JSON.parse(first(m, 'state') ?? '') as { items?: K8sObject[] };
  } catch {
    return { kind: 'down', error: 'kubectl printed something that is not JSON' };
  }
  const nodes = new Map<string, NodeState>();
  const pods: PodState[] = [];
  const configMaps = new Map<string, Record<string, string>>();
  const daemonSets = new Map<string, Map<string, Map<string, string>>>();
  const daemonSetImages = new Map<string, Map<string, string>>();
  for (const o of list.items ?? []) {
    const name = o.metadata?.name ?? '';
    const ns = o.metadata?.namespace ?? '';
    if (o.kind === 'Node') {
      const ready = o.status?.conditions?.find((x) => x.type === 'Ready')?.status === 'True';
      nodes.set(name, {
        name,
        status: `${ready ? 'Ready' : 'NotReady'}${o.spec?.unschedulable ? ',SchedulingDisabled' : ''}`,
        labels: new Map(Object.entries(o.metadata?.labels ?? {})),
        kubeletVersion: o.status?.nodeInfo?.kubeletVersion ?? '',
      });
    } else if (o.kind === 'Pod') {
      const statuses = o.status?.containerStatuses ?? [];
      pods.push({ namespace: ns, name, phase: o.status?.phase ?? 'Unknown', ready: statuses.filter((s) => s.ready).length, containers: Math.max(statuses.length, 1) });
    } else if (o.kind === 'ConfigMap') {
      configMaps.set(`${ns}/${name}`, o.data ?? {});
    } else if (o.kind === 'DaemonSet') {
      const containers = new Map<string, Map<string, string>>();
      const images = new Map<string, string>();
      for (const ct of o.spec?.template?.spec?.containers ?? []) {
        containers.set(ct.name ?? '', new Map((ct.env ?? []).map((e) => [e.name ?? '', e.value ?? ''])));
        images.set(ct.name ?? '', ct.image ?? '');
      }
      daemonSets.set(`${ns}/${name}`, containers);
      daemonSetImages.set(`${ns}/${name}`, images);
    }
  }
  return { kind: 'present', nodes, pods, configMaps, daemonSets, daemonSetImages };
}

/** kube-proxy's mode from its ConfigMap ('' when unset, which means iptables on Linux). */
export function kubeProxyMode(configConf: string): string {
  const doc = parseYaml(configConf) as { mode?: string } | null;
  return doc?.mode ?? '';
}

/** Why a cluster step cannot look yet: the reason its check reports. */
export function notUp(state: ClusterState): string {
  return state.kind === 'down' ? `the API server does not answer: ${state.error}` : 'the cluster is not initialised yet';
}
