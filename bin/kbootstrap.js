#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/cli.js by `npm run build` (also the prepare script,
// so `npm ci` builds it); what only some commands use is in dist/chunks/, loaded when they run.
import module from 'node:module';

// Node.js 22.1 and later keep V8's compiled code of the bundle on disk between runs (under the
// system's temporary directory, or NODE_COMPILE_CACHE; NODE_DISABLE_COMPILE_CACHE=1 turns it off):
// the next run skips most of the compiling that is a good part of its start-up. It never throws;
// Node.js 20 has no such function and compiles as before. (nodejs.org/api/module.html, "Module
// compile cache", and nodejs/node#54501; read 2026-12-07.) It must come before the bundle loads.
module.enableCompileCache?.();
const { main } = await import('../dist/cli.js');

// Exit explicitly (a connection a library keeps open must not keep the CLI alive), but only once
// stdout and stderr have taken what was written: to a pipe whose reader is slower than the CLI
// (`| less`, a test that reads the JSON report of 100 hosts), process.exit drops whatever the pipe
// could not hold yet. A reader that never reads must not keep the CLI alive either.
function exit(code) {
  // the code also when the process ends on its own first (a terminal gone: no write calls back)
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit(code)));
  setTimeout(() => process.exit(code), 10_000).unref();
}

main(process.argv).then(
  (code) => exit(code),
  (err) => { console.error(err?.stack ?? String(err)); exit(1); },
);
