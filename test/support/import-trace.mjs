// Preloaded with `node --import` by test/startup.test.ts: writes to
// $KB_IMPORT_TRACE every module the process loaded, one path or URL a line:
// ES modules as the loader hook sees them load, CommonJS ones (require(),
// createRequire) from the require cache when the process exits; and the TCP
// connections it opens, as they open.
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import net from 'node:net';

const file = process.env.KB_IMPORT_TRACE;
if (file) {
  register('./import-trace-hooks.mjs', import.meta.url, { data: { file } });
  const require = createRequire(import.meta.url);
  process.on('exit', () => appendFileSync(file, Object.keys(require.cache).map((k) => `${k}\n`).join('')));
  // and every TCP connection the process opens, when it opens it (on the main thread: in order with
  // what it loads after that): "net-connect HOST:PORT"
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function (...args) {
    const o = typeof args[0] === 'object' && args[0] !== null ? args[0] : { port: args[0], host: args[1] };
    if (o.port !== undefined) appendFileSync(file, `net-connect ${o.host}:${o.port}\n`);
    return connect.apply(this, args);
  };
}
