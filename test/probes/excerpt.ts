// What a diagnostic's excerpt shows for an ASCII source line, written out from the rule so the
// tests that assert rendered errors agree on it: the line and `~` under columns [col, endCol),
// or, for a line over 160 characters, a window of 160 of them.

/** The widest excerpt line. */
const WIDTH = 160;

/**
 * The excerpt lines (no newline after the last) for `line` underlined at [col, endCol): a line
 * over 160 characters shows 160 of them from the underline's start (a longer underline is cut
 * there), the room left split between the two sides (the left one taking the odd one), `…` at
 * each cut end.
 */
export function excerptLines(line: string, col: number, endCol: number): string {
  const first = col - 1;
  const under = Math.min(endCol - col, WIDTH);
  let from = 0;
  let to = line.length;
  if (line.length > WIDTH) {
    let left = Math.ceil((WIDTH - under) / 2);
    let right = WIDTH - under - left;
    if (left > first) [left, right] = [first, right + left - first];
    if (first + under + right > line.length) [left, right] = [left + first + under + right - line.length, line.length - first - under];
    [from, to] = [first - left, first + under + right];
  }
  const shown = (from > 0 ? '\u2026' : '') + line.slice(from, to) + (to < line.length ? '\u2026' : '');
  const marks = (from > 0 ? ' ' : '') + ' '.repeat(first - from) + '~'.repeat(under);
  return `${shown}\n${marks}`;
}
