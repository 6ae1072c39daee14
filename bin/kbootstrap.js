#!/usr/bin/env node
// Thin launcher: the CLI is bundled into dist/cli.js by `npm run build` (also the prepare script,
// so `npm ci` builds it); what only some commands use is in dist/chunks/, loaded when they run.
import { main } from '../dist/cli.js';

// Exit explicitly: a connection a library keeps open must not keep the CLI alive.
main(process.argv).then(
  (code) => process.exit(code),
  (err) => { console.error(err?.stack ?? String(err)); process.exit(1); },
);
