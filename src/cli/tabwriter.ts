/**
 * Go's text/tabwriter (left-aligned, space padding), which lays out docker's tables:
 * tab-terminated cells form columns; a column's width is its widest cell plus padding,
 * at least `minWidth`; a column runs over consecutive lines that have that cell, so a
 * line without tabs (a section title, a blank line) starts a new block.
 */

export interface TabOptions {
  readonly minWidth: number;
  readonly padding: number;
}

/** docker's tables: `tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)`. */
export const TABLE: TabOptions = { minWidth: 10, padding: 3 };

export function tabwrite(text: string, opts: TabOptions = TABLE): string {
  const endsWithNewline = text.endsWith('\n');
  const rows = (endsWithNewline ? text.slice(0, -1) : text).split('\n').map((l) => l.split('\t'));
  const out: string[] = [];
  layout(rows, 0, rows.length, [], opts, out);
  return out.join('\n') + (endsWithNewline ? '\n' : '');
}

function layout(rows: string[][], from: number, to: number, widths: number[], opts: TabOptions, out: string[]): void {
  const column = widths.length;
  let start = from;
  let i = from;
  while (i < to) {
    if (column >= rows[i]!.length - 1) {
      i++;
      continue;
    }
    emit(rows, start, i, widths, out);
    const blockStart = i;
    let width = opts.minWidth;
    for (; i < to && column < rows[i]!.length - 1; i++) {
      width = Math.max(width, displayWidth(rows[i]![column]!) + opts.padding);
    }
    layout(rows, blockStart, i, [...widths, width], opts, out);
    start = i;
  }
  emit(rows, start, to, widths, out);
}

function emit(rows: string[][], from: number, to: number, widths: readonly number[], out: string[]): void {
  for (let i = from; i < to; i++) {
    const cells = rows[i]!;
    out.push(
      cells
        .map((cell, j) => {
          const w = widths[j];
          return j < cells.length - 1 && w !== undefined ? cell + ' '.repeat(Math.max(0, w - displayWidth(cell))) : cell;
        })
        .join(''),
    );
  }
}

function displayWidth(s: string): number {
  return [...s].length;
}
