/** Read an inventory for a command, printing the loader's warnings to stderr. */
import { loadInventoryFile, type LoadOptions } from '../inventory/load.js';
import type { Inventory } from '../inventory/model.js';
import { formatProblem } from '../errors.js';
import { errLine } from '../wrap.js';
import type { Io } from '../io.js';

/**
 * The inventory, its warnings on stderr. A key file that is not there is not
 * warned about here: validate warns (it connects to nothing), and a command
 * that connects refuses it when it reads the keys of the hosts it reaches,
 * once, naming the field (a warning and then the same words as an error
 * said it twice).
 */
export function load(file: string, io: Io, opts: LoadOptions = { keyFiles: false }): Inventory {
  const { inventory, warnings } = loadInventoryFile(file, opts);
  for (const w of warnings) errLine(io, formatProblem(w));
  return inventory;
}
