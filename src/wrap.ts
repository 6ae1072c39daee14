/**
 * Lines laid out for the terminal's width: a long line breaks between words,
 * its continuation indented, so that nothing wraps mid-word at the edge of an
 * 80-column terminal. Without a width (not a terminal: a log, a pipe) every
 * line stays whole, for grep.
 */
export function wrap(text: string, width: number | undefined, indent = '    '): string {
  if (!width || width < 20) return text;
  return text.split('\n').map((line) => {
    if (line.length <= width) return line;
    const out: string[] = [];
    let cur = '';
    for (const word of line.split(' ')) {
      const limit = out.length ? width - indent.length : width;
      if (cur && (cur + ' ' + word).length > limit) { out.push(cur); cur = word; }
      else cur = cur ? `${cur} ${word}` : word;
    }
    if (cur) out.push(cur);
    return out.map((l, i) => (i ? indent + l : l)).join('\n');
  }).join('\n');
}
