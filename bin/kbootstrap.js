#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the prepare script).
import { main } from '../dist/cli.js';

// Exit explicitly: a connection a library keeps open must not keep the CLI alive.
main(process.argv).then(
  (code) => process.exit(code),
  (err) => { console.error(err?.stack ?? String(err)); process.exit(1); },
);
