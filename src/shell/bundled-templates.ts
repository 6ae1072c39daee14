/**
 * The templates as the bundle carries them. Running from source (tsx, the
 * tests' vitest) this is undefined and templates.ts compiles each template
 * file when first rendered. scripts/build.ts replaces this module in the
 * bundle with every template precompiled by Handlebars with the same options
 * and the prelude's text, so the installed CLI reads no template file and
 * compiles nothing at run time.
 */
import type Handlebars from 'handlebars';

export interface BundledTemplates {
  /** templates/prelude.sh */
  prelude: string;
  /** by name as render() takes it (templates/<name>.sh.hbs), Handlebars.precompile's output */
  templates: Record<string, Parameters<typeof Handlebars.template>[0]>;
}

export const BUNDLED: BundledTemplates | undefined = undefined;
