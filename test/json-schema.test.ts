import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inventoryJsonSchemaText } from '../src/inventory/json-schema.js';

describe('schema/inventory.schema.json', () => {
  it('is up to date with src/inventory/schema.ts (npm run schema:json)', () => {
    const committed = readFileSync(join(import.meta.dirname, '..', 'schema', 'inventory.schema.json'), 'utf8');
    expect(committed).toBe(inventoryJsonSchemaText());
  });

  it('forbids unknown fields and documents the contract names', () => {
    const s = JSON.parse(inventoryJsonSchemaText());
    expect(s.additionalProperties).toBe(false);
    expect(Object.keys(s.properties.cluster.properties)).toEqual(expect.arrayContaining([
      'name', 'kubernetesVersion', 'controlPlaneEndpoint', 'podSubnet', 'serviceSubnet', 'imageRepository',
      'packageMirror', 'containerRuntime', 'cni', 'kubeProxyMode', 'registryMirrors', 'insecureRegistries',
    ]));
    expect(s.properties.hosts.items.properties.role.enum).toEqual(['control-plane', 'worker']);
  });
});
