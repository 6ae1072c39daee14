/** Inventories for end-to-end tests: the lab's hosts with per-test changes. */
import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { LAB_DIR, LAB_KEY_FINGERPRINT, readLabState, type LabHost } from '../lab/lab.js';

export interface InvOptions {
  hosts?: (LabHost | { name: string; address: string; os?: string })[];
  user?: string;
  cluster?: Record<string, unknown>;
  ssh?: Record<string, unknown>;
  hostSsh?: Record<string, Record<string, unknown>>;
  roles?: Record<string, 'control-plane' | 'worker'>;
  /** write each host's os: (the lab's hosts have one) */
  withOs?: boolean;
}

const FIXTURES = join(import.meta.dirname, '..', 'lab', 'fixtures');
/** Local manifests must lie under the inventory's directory: writeInventory copies these beside it. */
export const CALICO_FIXTURE = './calico.yaml';
export const FLANNEL_FIXTURE = './kube-flannel.yml';

/** Copy the lab's CNI manifests into dir, where an inventory written there may name them. */
export function copyManifests(dir: string): void {
  for (const f of ['calico.yaml', 'kube-flannel.yml']) copyFileSync(join(FIXTURES, f), join(dir, f));
}

export function writeInventory(o: InvOptions = {}): string {
  const hosts = o.hosts ?? readLabState()!.hosts;
  const inv = {
    apiVersion: 'kbootstrap/v1',
    kind: 'Inventory',
    cluster: {
      name: 'e2e',
      kubernetesVersion: '1.30.4',
      packageMirror: 'upstream',
      // the simulated curl serves the lab's own signing key for every repository key URL
      repositoryKeyFingerprints: [LAB_KEY_FINGERPRINT],
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
      ...(o.withOs && h.os ? { os: h.os } : {}),
      ...(o.hostSsh?.[h.name] ? { ssh: o.hostSsh[h.name] } : {}),
    })),
  };
  const dir = mkdtempSync(join(tmpdir(), 'kb-e2e-'));
  copyManifests(dir);
  const file = join(dir, 'inventory.yaml');
  writeFileSync(file, stringify(inv));
  return file;
}
