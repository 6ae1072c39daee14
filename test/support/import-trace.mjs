// Preloaded with `node --import` by test/startup.test.ts: writes to
// $KB_IMPORT_TRACE every module the process loaded, one path or URL a line:
// ES modules as the loader hook sees them load, CommonJS ones (require(),
// createRequire) from the require cache when the process exits.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';

const file = process.env.KB_IMPORT_TRACE;
if (file) {
  register('./import-trace-hooks.mjs', import.meta.url, { data: { file } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => appendFileSync(file, Object.keys(require.cache).map((k) => `${k}\n`).join('')));
}
