/** Inventories for end-to-end tests: the lab's hosts with per-test changes. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LAB_DIR, readLabState, type LabHost } from '../lab/lab.js';

export interface InvOptions {
  hosts?: (LabHost | { name: string; address: string; os?: string })[];
  user?: string;
  cluster?: Record<string, unknown>;
  ssh?: Record<string, unknown>;
  hostSsh?: Record<string, Record<string, unknown>>;
  roles?: Record<string, 'control-plane' | 'worker'>;
}

export const CALICO_FIXTURE = join(import.meta.dirname, '..', 'lab', 'fixtures', 'calico.yaml');

export function writeInventory(o: InvOptions = {}): string {
  const hosts = o.hosts ?? readLabState()!.hosts;
  const inv = {
    apiVersion: 'kbootstrap/v1',
    kind: 'Inventory',
    cluster: {
      name: 'e2e',
      kubernetesVersion: '1.30.4',
      packageMirror: 'upstream',
      containerRuntime: 'containerd',
      cni: { plugin: 'calico', manifest: CALICO_FIXTURE },
      kubeProxyMode: 'ipvs',
      ...o.cluster,
    },
    ssh: {
      user: o.user ?? 'root',
      privateKeyPath: join(LAB_DIR, 'id_ed25519'),
      knownHostsPath: join(LAB_DIR, 'known_hosts'),
      connectTimeoutSeconds: 3,
      ...o.ssh,
    },
    hosts: hosts.map((h, i) => ({
      name: h.name,
      address: h.address,
      role: o.roles?.[h.name] ?? (i === 0 ? 'control-plane' : 'worker'),
      ...(o.hostSsh?.[h.name] ? { ssh: o.hostSsh[h.name] } : {}),
    })),
  };
  const dir = mkdtempSync(join(tmpdir(), 'kb-e2e-'));
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, stringify(inv));
  return file;
}
