/**
 * Handlebars for shell: one isolated instance, HTML escaping off, strict
 * mode, and only the quoting helpers. A value can reach a template's output
 * only through {{q x}} or {{qall xs}} (test/templates-lint.test.ts enforces it).
 */
import Handlebars from 'handlebars';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { shq, shqAll } from './quote.js';
import { BUNDLED } from './bundled-templates.js';

export const TEMPLATE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

const hb = Handlebars.create();
hb.registerHelper('q', function (this: unknown, value: unknown, options: Handlebars.HelperOptions) {
  if (arguments.length !== 2) throw new Error('q takes exactly one value');
  return shq(value, `{{q}} in ${options?.data?.root?.__template ?? 'template'}`);
});
hb.registerHelper('qall', function (this: unknown, values: unknown, options: Handlebars.HelperOptions) {
  if (!Array.isArray(values)) throw new Error(`qall needs a list in ${options?.data?.root?.__template ?? 'template'}`);
  return shqAll(values);
});

export const ALLOWED_HELPERS = ['q', 'qall'] as const;
export const ALLOWED_BLOCKS = ['if', 'unless', 'each'] as const;

/** How every template is compiled: here from the files, and by scripts/build.ts for the bundle. */
export const COMPILE_OPTIONS = {
  noEscape: true,
  strict: true,
  knownHelpers: { q: true, qall: true },
  knownHelpersOnly: true,
} as const;

const compiled = new Map<string, Handlebars.TemplateDelegate>();

/** A template compiled once per process: taken from the bundle's precompiled set, else compiled from its file. */
function compile(name: string): Handlebars.TemplateDelegate {
  let t = compiled.get(name);
  if (!t) {
    const spec = BUNDLED?.templates[name];
    if (spec) t = hb.template(spec);
    else {
      const file = join(TEMPLATE_DIR, `${name}.sh.hbs`);
      if (BUNDLED || !existsSync(file)) throw new Error(`no template ${name}.sh.hbs${BUNDLED ? ' in this build' : ` in ${TEMPLATE_DIR}`}`);
      t = hb.compile(readFileSync(file, 'utf8'), COMPILE_OPTIONS);
    }
    compiled.set(name, t);
  }
  return t;
}

/**
 * Render templates/<name>.sh.hbs (OS-specific ones live under os/<family>/).
 * The result is trimmed of trailing blank lines.
 */
export function render(name: string, context: Record<string, unknown>): string {
  const out = compile(name)({ ...context, __template: `${name}.sh.hbs` });
  return out.replace(/\s+$/, '') + '\n';
}

/** templates/prelude.sh: the bundle's copy, else the file. */
export function preludeText(): string {
  return BUNDLED?.prelude ?? readFileSync(join(TEMPLATE_DIR, 'prelude.sh'), 'utf8');
}

export function listTemplates(dir = TEMPLATE_DIR): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listTemplates(p));
    else if (e.name.endsWith('.hbs')) out.push(p);
  }
  return out.sort();
}

