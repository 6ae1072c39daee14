// Regenerates schema/inventory.schema.json from src/inventory/schema.ts.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inventoryJsonSchemaText } from '../src/inventory/json-schema.js';

const out = join(import.meta.dirname, '..', 'schema', 'inventory.schema.json');
writeFileSync(out, inventoryJsonSchemaText());
console.log(`wrote ${out}`);
