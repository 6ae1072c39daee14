// Regenerates the versions matrix in docs/compatibility.md from src/versions/table.ts.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { withMatrix } from '../src/versions/matrix.js';

const doc = join(import.meta.dirname, '..', 'docs', 'compatibility.md');
writeFileSync(doc, withMatrix(readFileSync(doc, 'utf8')));
console.log(`wrote ${doc}`);
