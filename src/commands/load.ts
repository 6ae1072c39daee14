/** Read an inventory for a command, printing the loader's warnings to stderr. */
import { loadInventoryFile, type LoadOptions } from '../inventory/load.js';
import type { Inventory } from '../inventory/model.js';
import { formatProblem } from '../errors.js';
import type { Io } from '../io.js';

/** Commands that connect also warn about key files that are not there (dry runs do not need them). */
export function load(file: string, io: Io, opts: LoadOptions = { keyFiles: true }): Inventory {
  const { inventory, warnings } = loadInventoryFile(file, opts);
  for (const w of warnings) io.err(formatProblem(w) + '\n');
  return inventory;
}
