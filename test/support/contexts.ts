/** Step contexts over a transport double, as the runner builds them. */
import { join } from 'node:path';
import { loadInventoryFile } from '../../src/inventory/load.js';
import type { Inventory } from '../../src/inventory/model.js';
import { Host } from '../../src/host/host.js';
import { assumedFacts } from '../../src/os/index.js';
import { JoinCredentials } from '../../src/run/join-credentials.js';
import { bindHost } from '../../src/run/bound-host.js';
import type { AnyStep, StepContext } from '../../src/steps/types.js';
import { FakeTransport } from './fake-transport.js';

export function exampleInventory(name: string): Inventory {
  return loadInventoryFile(join(import.meta.dirname, '..', '..', 'inventories', `${name}.yaml`)).inventory;
}

export function hostFor(inv: Inventory, index: number, t = new FakeTransport()): Host {
  const spec = inv.hosts[index]!;
  return new Host(spec, t, assumedFacts(spec.os ?? 'rhel'));
}

export function ctxFor(inv: Inventory, hostIndex: number, step: Pick<AnyStep, 'id'>, t = new FakeTransport()): StepContext {
  const host = hostFor(inv, hostIndex, t);
  const cp = hostFor(inv, 0, t);
  return {
    inv, cluster: inv.cluster, host: bindHost(host, step.id), firstControlPlane: bindHost(cp, step.id),
    join: new JoinCredentials(() => cp, inv.cluster.controlPlaneEndpoint), options: { verifyTimeoutSeconds: 5 }, show: () => undefined, progress: () => undefined,
  };
}
