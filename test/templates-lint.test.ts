import { describe, expect, it } from 'vitest';
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ALLOWED_BLOCKS, ALLOWED_HELPERS, TEMPLATE_DIR, listTemplates } from '../src/shell/templates.js';

type Node = hbs.AST.Node & Record<string, unknown>;

/** Every place a template prints something must be {{q x}} or {{qall xs}}; blocks only if/unless/each. */
function violations(source: string): string[] {
  const out: string[] = [];
  const walk = (node: Node | undefined | null): void => {
    if (!node || typeof node !== 'object') return;
    const loc = (node.loc as hbs.AST.SourceLocation | undefined)?.start;
    const where = loc ? `line ${loc.line}` : '?';
    if (node.type === 'MustacheStatement') {
      const m = node as unknown as hbs.AST.MustacheStatement;
      const name = m.path.type === 'PathExpression' ? (m.path as hbs.AST.PathExpression).original : String(m.path.type);
      if (!(ALLOWED_HELPERS as readonly string[]).includes(name) || m.params.length !== 1) out.push(`${where}: {{${name}}} prints a value without the quoting helper`);
      if (!m.escaped) out.push(`${where}: triple-stash {{{...}}} is not allowed`);
      for (const p of m.params) if (p.type === 'SubExpression') out.push(`${where}: sub-expressions are not allowed`);
    }
    if (node.type === 'BlockStatement') {
      const b = node as unknown as hbs.AST.BlockStatement;
      const name = (b.path as hbs.AST.PathExpression).original;
      if (!(ALLOWED_BLOCKS as readonly string[]).includes(name)) out.push(`${where}: block helper ${name} is not allowed`);
    }
    if (node.type === 'PartialStatement' || node.type === 'PartialBlockStatement') out.push(`${where}: partials are not allowed`);
    for (const v of Object.values(node)) {
      if (Array.isArray(v)) v.forEach((c) => walk(c as Node));
      else if (v && typeof v === 'object' && 'type' in (v as object)) walk(v as Node);
    }
  };
  walk(Handlebars.parse(source) as unknown as Node);
  return out;
}

describe('templates', () => {
  const files = listTemplates();
  it('exist', () => expect(files.length).toBeGreaterThan(20));

  it.each(files.map((f) => [relative(TEMPLATE_DIR, f), f]))('%s prints values only through q/qall', (_n, f) => {
    expect(violations(readFileSync(f, 'utf8'))).toEqual([]);
  });

  it('the lint catches a bare value, a triple-stash and an unknown helper', () => {
    expect(violations('echo {{name}}')).toHaveLength(1);
    expect(violations('echo {{{q name}}}')).toHaveLength(1);
    expect(violations('{{#with x}}{{q y}}{{/with}}')).toHaveLength(1);
    expect(violations('echo {{q name}} {{qall names}}')).toEqual([]);
  });
});
