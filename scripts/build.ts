// npm run build: the CLI as one ES module bundle, dist/cli.js (what bin/kbootstrap.js
// runs and `npm pack` publishes), with what only some commands use split into
// dist/chunks/ and loaded when a command imports it (SSH, listr2 and inquirer
// only for the commands that connect or ask). Every template is precompiled
// into the bundle with the options templates.ts compiles them with, and the
// prelude is carried as text: the installed CLI reads no template file.
// ssh2 stays outside: it loads its optional native crypto binding from its own
// directory (lib/protocol/crypto/build/Release/sshcrypto.node); @napi-rs/lzma (xz, for
// bundle --with-os-packages) likewise loads its platform's binding package.
// --if-stale: do nothing when dist/cli.js is newer than every input (the tests
// call it under a lock before they spawn the CLI). The new build replaces
// dist/ in one rename, so a CLI started meanwhile sees the old or the new one.
import { build, type Plugin } from 'esbuild';
import Handlebars from 'handlebars';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { COMPILE_OPTIONS, TEMPLATE_DIR, listTemplates } from '../src/shell/templates.js';

const REPO = resolve(import.meta.dirname, '..');
const OUT = join(REPO, 'dist');

/** src/shell/bundled-templates.ts, replaced by the precompiled templates and the prelude. */
function bundledTemplates(): string {
  const entries = listTemplates().map((file) => {
    const name = relative(TEMPLATE_DIR, file).replace(/\.sh\.hbs$/, '');
    return `  ${JSON.stringify(name)}: ${Handlebars.precompile(readFileSync(file, 'utf8'), COMPILE_OPTIONS)},`;
  });
  const prelude = readFileSync(join(TEMPLATE_DIR, 'prelude.sh'), 'utf8');
  return `export const BUNDLED = {\n prelude: ${JSON.stringify(prelude)},\n templates: {\n${entries.join('\n')}\n }\n};\n`;
}

const templatesPlugin: Plugin = {
  name: 'kbootstrap-templates',
  setup(b) {
    b.onLoad({ filter: /[/\\]src[/\\]shell[/\\]bundled-templates\.ts$/ }, () => ({ contents: bundledTemplates(), loader: 'js' }));
  },
};

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((e) => newest(join(path, e))));
}

/**
 * zod's classic entry and its core re-export every locale (`export * as locales`), which keeps about 40 of
 * them (some 300 KB of the inventory chunk, parsed by every command that reads an inventory) in
 * the bundle although only the English one is ever configured (zod/v4/classic/external.js calls
 * config(en())). The locales index is replaced by one that carries English alone; z.locales.en
 * stays. The same bloat and fix: openai/openai-node#1703 and modelcontextprotocol/ext-apps#665
 * (read 2026-12-07); zod 4.1.12.
 */
const zodEnglishOnly: Plugin = {
  name: 'kbootstrap-zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) => {
      if (!/[/\\]zod[/\\]v4[/\\](classic[/\\]external|core[/\\]index)\.js$/.test(args.importer)) return undefined;
      return { path: join(args.resolveDir, '..', 'locales', 'index.js'), namespace: 'kb-zod-locales' };
    });
    b.onLoad({ filter: /.*/, namespace: 'kb-zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';\n", loader: 'js', resolveDir: join(args.path, '..'),
    }));
  },
};

const INPUTS = ['src', 'templates', 'scripts/build.ts', 'package.json'].map((p) => join(REPO, p));
if (process.argv.includes('--if-stale') && existsSync(join(OUT, 'cli.js')) && statSync(join(OUT, 'cli.js')).mtimeMs > Math.max(...INPUTS.map(newest))) process.exit(0);

const tmp = `${OUT}.new-${process.pid}`;
rmSync(tmp, { recursive: true, force: true });
const result = await build({
  absWorkingDir: REPO,
  entryPoints: { cli: 'src/cli.ts' },
  outdir: tmp,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', '@napi-rs/lzma'],
  // the templates come precompiled (above): the bundle needs Handlebars' runtime only, not its compiler
  // (handlebars/runtime: the same create(), template() and registerHelper(), without the parser and source-map)
  alias: { handlebars: 'handlebars/runtime' },
  // the CommonJS packages in the bundle (node-ssh, handlebars, commander...) call require()
  banner: { js: "import { createRequire as __kbCreateRequire } from 'node:module';\nconst require = __kbCreateRequire(import.meta.url);" },
  plugins: [templatesPlugin, zodEnglishOnly],
  logLevel: 'warning',
  metafile: true,
});
const old = `${OUT}.old-${process.pid}`;
if (existsSync(OUT)) renameSync(OUT, old);
renameSync(tmp, OUT);
rmSync(old, { recursive: true, force: true });
const files = Object.keys(result.metafile.outputs);
console.log(`build: ${files.length} files in ${relative(REPO, OUT)}/ (${Math.round(files.reduce((n, f) => n + result.metafile.outputs[f]!.bytes, 0) / 1024)} KiB)`);
