// Plain-text tables for the CLI: every column headed and padded; when a width is given, the widest
// columns are narrowed and their cells wrapped at spaces, so no line is wider than it. Pure.

export interface TableOptions {
  /** The widest a line may be; no limit when unset. */
  width?: number;
}

const GAP = '  ';

export function formatTable(headers: string[], rows: string[][], opts: TableOptions = {}): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const limit = opts.width ?? Infinity;
  const total = () => widths.reduce((a, b) => a + b, 0) + GAP.length * (widths.length - 1);
  while (total() > limit) {
    // Narrow the widest column that is still wider than its header.
    let widest = -1;
    widths.forEach((w, i) => {
      if (w > headers[i]!.length && (widest < 0 || w > widths[widest]!)) widest = i;
    });
    if (widest < 0) break;
    widths[widest]!--;
  }
  const render = (cells: string[]) => {
    const wrapped = cells.map((c, i) => wrap(c, widths[i]!));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, line) => wrapped.map((w, i) => (w[line] ?? '').padEnd(widths[i]!)).join(GAP).trimEnd());
  };
  return [...render(headers), widths.map((w) => '-'.repeat(w)).join(GAP), ...rows.flatMap(render)].join('\n');
}

/** Words of `text` in lines of at most `width` characters; a longer word is cut. */
export function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (let word of text.split(' ')) {
    while (word.length > width) {
      if (line) lines.push(line), (line = '');
      lines.push(word.slice(0, width));
      word = word.slice(width);
    }
    if (!line) line = word;
    else if (line.length + 1 + word.length <= width) line += ' ' + word;
    else lines.push(line), (line = word);
  }
  lines.push(line);
  return lines;
}
