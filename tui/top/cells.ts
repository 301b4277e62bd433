// How many terminal cells text takes, so that a line of the view is cut to the terminal's width
// and a column padded by what shows, not by UTF-16 code units: a wide character (中, Ａ, 😀)
// takes two cells, a combining accent or a zero-width character none. A line that is wider than
// the terminal wraps, and the footer goes off the screen.
// SIMPLIFICATION: the wide ranges are the East Asian Wide and Fullwidth blocks of Unicode's
// EastAsianWidth.txt taken whole, and emoji by their Emoji_Presentation property (or an emoji
// followed by VS16); ambiguous-width characters take one cell, as terminals set for Western
// locales show them.

/** Made on first use: ICU's segmenter costs ~15 ms to build, paid before the first frame otherwise. */
let graphemeSegmenter: Intl.Segmenter | undefined;
const graphemes = (text: string): Intl.Segments => (graphemeSegmenter ??= new Intl.Segmenter(undefined, { granularity: 'grapheme' })).segment(text);

/** Text made only of characters that take one cell each: most lines of the view (ASCII, µ, arrows, box drawing, blocks). */
const ONE_CELL_EACH = /^[\u0020-\u007e\u00a0-\u02ff\u2010-\u2027\u2030-\u205e\u2190-\u2319\u2500-\u25fc]*$/;

/** Blocks whose characters are East Asian Wide or Fullwidth: [first, last] code points. */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f],
  [0x2e80, 0x303e],
  [0x3041, 0x33ff],
  [0x3400, 0x4dbf],
  [0x4e00, 0x9fff],
  [0xa000, 0xa4cf],
  [0xa960, 0xa97f],
  [0xac00, 0xd7a3],
  [0xf900, 0xfaff],
  [0xfe10, 0xfe19],
  [0xfe30, 0xfe6f],
  [0xff00, 0xff60],
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18aff],
  [0x1b000, 0x1b2ff],
  [0x1f300, 0x1f64f],
  [0x1f900, 0x1f9ff],
  [0x20000, 0x2fffd],
  [0x30000, 0x3fffd],
];

function isWide(codePoint: number): boolean {
  return WIDE.some(([first, last]) => codePoint >= first && codePoint <= last);
}

/** Cells one grapheme (what a user sees as one character) takes. */
function graphemeCells(g: string): number {
  // marks, zero-width and format characters alone (a combining accent with nothing to sit on)
  if (/^[\p{M}\p{Cf}\p{Cc}]+$/u.test(g)) return 0;
  if (/^\p{Extended_Pictographic}/u.test(g) && (/\p{Emoji_Presentation}/u.test(g) || g.includes('\ufe0f'))) return 2;
  // a flag: two regional indicators
  if (/^\p{Regional_Indicator}{2}$/u.test(g)) return 2;
  return isWide(g.codePointAt(0)!) ? 2 : 1;
}

/** Terminal cells `text` takes (text without escape codes). */
export function cellWidth(text: string): number {
  if (ONE_CELL_EACH.test(text)) return text.length;
  let cells = 0;
  for (const { segment } of graphemes(text)) cells += graphemeCells(segment);
  return cells;
}

/** The longest start of `text` that takes at most `cells` cells (never half a character). */
export function fitCells(text: string, cells: number): string {
  if (ONE_CELL_EACH.test(text)) return text.slice(0, Math.max(0, cells));
  let out = '';
  let used = 0;
  for (const { segment } of graphemes(text)) {
    const w = graphemeCells(segment);
    if (used + w > cells) break;
    out += segment;
    used += w;
  }
  return out;
}
