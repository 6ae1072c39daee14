import type { Io } from './io.js';

/**
 * Lines laid out for the terminal's width: a long line breaks between words,
 * its continuation indented, so that nothing wraps mid-word at the edge of an
 * 80-column terminal (only a word longer than a line is cut). Without a width (not a terminal: a log, a pipe) every
 * line stays whole, for grep.
 */
export function wrap(text: string, width: number | undefined, indent = '    '): string {
  if (!width || width < 20) return text;
  return text.split('\n').map((line) => {
    if (line.length <= width) return line;
    const out: string[] = [];
    let cur = '';
    const room = width - indent.length;
    // a word longer than a whole line (a URL, a path) is cut where the line ends: the terminal would cut it there anyway, without the indent
    const words = line.split(' ').flatMap((w) => (w.length <= room ? [w] : w.match(new RegExp(`.{1,${room}}`, 'g'))!));
    for (const word of words) {
      const limit = out.length ? room : width;
      if (cur && (cur + ' ' + word).length > limit) { out.push(cur); cur = word; }
      else cur = cur ? `${cur} ${word}` : word;
    }
    if (cur) out.push(cur);
    return out.map((l, i) => (i ? indent + l : l)).join('\n');
  }).join('\n');
}

/** A message on stderr, laid out for the terminal's width when stderr is one. */
export function errLine(io: Io, text: string): void {
  io.err(wrap(text, io.errColumns) + '\n');
}
