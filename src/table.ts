/** Plain-text tables for terminal output: columns padded to their widest cell. */
export function table(rows: string[][], opts: { rightAlign?: number[] } = {}): string {
  if (!rows.length) return '';
  const cols = Math.max(...rows.map((r) => r.length));
  const w = Array.from({ length: cols }, (_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const right = new Set(opts.rightAlign ?? []);
  return rows.map((r) => r.map((c, i) => (right.has(i) ? c.padStart(w[i]!) : c.padEnd(w[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}
