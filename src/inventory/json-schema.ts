/** The JSON Schema published for editors, generated from the zod schema. */
import { z } from 'zod';
import { inventorySchema } from './schema.js';

export function inventoryJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(inventorySchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    title: 'kbootstrap inventory (kbootstrap/v1)',
    description: 'Hosts and cluster settings for `kbootstrap up`. Secrets (SSH passwords, passphrases) never go in this file.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}

export function inventoryJsonSchemaText(): string {
  return JSON.stringify(inventoryJsonSchema(), null, 2) + '\n';
}
