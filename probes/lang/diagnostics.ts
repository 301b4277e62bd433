// Diagnostics as data, rendered the way bpftrace prints them (src/ast/diagnostic.cpp,
// src/ast/location.cpp, src/log.cpp):
//
//   stdin:1:12-14: ERROR: syntax: param $0 is out of integer range [1, 9223372036854775807]
//   kprobe:f { $0 }
//              ~~
//
// Mistakes in scripts never throw: every stage returns its diagnostics and the caller decides.

import { formatLoc, type Loc, type SourceFile } from './source.js';

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly severity: Severity;
  /** The message as printed after `ERROR: ` (parser messages start with `syntax: `). */
  readonly message: string;
  /** What to underline; without it only `ERROR: message` is printed. */
  readonly loc?: Loc;
  /** Printed on its own line as `HINT: ...` after the excerpt. */
  readonly hint?: string;
  /** A stable category for tests and tools (`syntax`, ...). Not printed: bpftrace prints none. */
  readonly code?: string;
}

export interface DiagnosticExtras {
  readonly hint?: string;
  readonly code?: string;
}

export function errorAt(message: string, loc?: Loc, extras: DiagnosticExtras = {}): Diagnostic {
  return { severity: 'error', message, ...(loc ? { loc } : {}), ...extras };
}

export function warningAt(message: string, loc?: Loc, extras: DiagnosticExtras = {}): Diagnostic {
  return { severity: 'warning', message, ...(loc ? { loc } : {}), ...extras };
}

export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.severity === 'error');
}

/** How many columns a tab takes in an excerpt (bpftrace: 4, for excerpt and underline alike). */
const TAB_WIDTH = 4;

/**
 * Characters a terminal would act on, or that would not show, instead of showing: C0 and C1
 * controls (the tab among them), DEL, format characters (Cf: the bidirectional overrides that
 * reorder a line, zero-width spaces and joiners, the BOM, soft hyphens, Unicode tag characters),
 * the line and paragraph separators U+2028/U+2029, and lone surrogates.
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Cs}/gu;

/** One unprintable character as a JavaScript escape: `\x1b`, `\u202e`, `\u{e0041}`. */
function escaped(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  return code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\u{${code.toString(16)}}`;
}

/**
 * `text` safe to print on a terminal: every character it would act on or hide (ESC, BEL, CR, a
 * tab unless `keepTabs`, a bidirectional override, a zero-width or tag character, U+2028, a lone
 * surrogate) as a JavaScript escape, so text from a script, a scenario or a job file can never
 * move the cursor, recolour the screen, reorder the line or hide what it says. Printable text,
 * surrogate pairs included, is unchanged.
 */
export function printableText(text: string, options: { readonly keepTabs?: boolean } = {}): string {
  if (options.keepTabs === true) return text.split('\t').map((part) => printableText(part)).join('\t');
  return text.replace(UNPRINTABLE, escaped);
}

/** One UTF-16 code unit that is not half of a pair as an excerpt shows it: a tab as 4 spaces, an unprintable one escaped. */
function shownChar(ch: string): string {
  return ch === '\t' ? ' '.repeat(TAB_WIDTH) : printableText(ch);
}

/** The widest excerpt line: a longer source line is shown as a window around what is underlined. */
export const MAX_EXCERPT_WIDTH = 160;
/** What marks a cut end of an excerpt line. */
const CUT = '\u2026';

/**
 * The excerpt under a header: for a single-line span the line (tabs as 4 spaces) and a line of
 * `~` under columns [col, endCol) clipped to the line's length; for a span over several lines
 * every line of it, no underline; nothing if the line is not in the source. Lines longer than
 * MAX_EXCERPT_WIDTH are cut (see underlinedLine).
 */
function excerpt(loc: Loc, source: SourceFile): string[] {
  if (loc.line !== loc.endLine) {
    const out: string[] = [];
    for (let n = loc.line; n <= loc.endLine; n++) {
      const text = source.lineText(n);
      if (text === undefined) continue;
      const shown = printableText(text, { keepTabs: true });
      if (shown.length <= MAX_EXCERPT_WIDTH) {
        out.push(shown);
        continue;
      }
      // cut at 160 code units, not inside a surrogate pair (whose half would show as an escape)
      const high = text.charCodeAt(MAX_EXCERPT_WIDTH - 1);
      const cutAt = high >= 0xd800 && high <= 0xdbff ? MAX_EXCERPT_WIDTH - 1 : MAX_EXCERPT_WIDTH;
      out.push(printableText(text.slice(0, cutAt), { keepTabs: true }) + CUT);
    }
    return out;
  }
  const text = source.lineText(loc.line);
  return text === undefined ? [] : underlinedLine(text, loc.col, loc.endCol);
}

/** One character of an excerpt line as shown, and its part of the underline (as wide). */
interface Cell {
  readonly shown: string;
  readonly marks: string;
}

/**
 * A source line as an excerpt shows it (tabs as 4 spaces, unprintable characters escaped) and a
 * line of `~` under columns [col, endCol), clipped to the line; nothing for a blank line (the end
 * of an empty program has nothing to point at). A line shown wider than MAX_EXCERPT_WIDTH is cut
 * to a window of that width around the underline, each cut end marked with `…`.
 */
export function underlinedLine(text: string, col: number, endCol: number): string[] {
  if (text.trim() === '') return [];
  const stop = Math.min(endCol - 1, text.length);
  if (text.length <= MAX_EXCERPT_WIDTH && printableText(text) === text) {
    // the usual case (short, no tab, nothing escaped): one column per code unit
    const from = Math.min(col - 1, stop);
    return [text, ' '.repeat(from) + '~'.repeat(Math.max(0, stop - from))];
  }
  // The window is at most MAX_EXCERPT_WIDTH columns and every code unit shows as at least one:
  // only the code units that near where it starts (the underline, else the line's end) can be
  // shown. Building cells for those alone keeps an error in a 1 MB line from costing 1M cells.
  const anchor = Math.max(0, col - 1) < stop ? Math.max(0, col - 1) : text.length;
  let lo = Math.max(0, anchor - MAX_EXCERPT_WIDTH - 1);
  let hi = Math.min(text.length, anchor + MAX_EXCERPT_WIDTH + 1);
  // never start or end inside a surrogate pair
  if (lo > 0 && (text.charCodeAt(lo) & 0xfc00) === 0xdc00 && (text.charCodeAt(lo - 1) & 0xfc00) === 0xd800) lo--;
  if (hi < text.length && (text.charCodeAt(hi) & 0xfc00) === 0xdc00 && (text.charCodeAt(hi - 1) & 0xfc00) === 0xd800) hi++;
  const cells: Cell[] = [];
  const mark = (x: number): string => (x < col - 1 ? ' ' : '~');
  for (let x = lo; x < hi; x++) {
    const code = text.charCodeAt(x);
    const pairs = code >= 0xd800 && code <= 0xdbff && x + 1 < text.length && (text.charCodeAt(x + 1) & 0xfc00) === 0xdc00;
    if (pairs) {
      // one character, two columns of a location: as shown (a tag character escaped), the
      // underline keeps one mark per column
      const shown = printableText(text.slice(x, x + 2));
      const marks = (x < endCol - 1 ? mark(x).repeat(Math.max(1, shown.length - 1)) : '') + (x + 1 < endCol - 1 ? mark(x + 1) : '');
      cells.push({ shown, marks });
      x++;
      continue;
    }
    // a tab or an escape is several columns wide, and so is its part of the underline
    const shown = shownChar(text[x]!);
    cells.push({ shown, marks: x < endCol - 1 ? mark(x).repeat(shown.length) : '' });
  }
  const [from, to] = excerptWindow(cells);
  const shown = cells.slice(from, to).map((c) => c.shown).join('');
  const marks = cells.slice(from, to).map((c) => c.marks).join('');
  const cutBefore = lo + from > 0;
  const cutAfter = to < cells.length || hi < text.length;
  return [(cutBefore ? CUT : '') + shown + (cutAfter ? CUT : ''), (cutBefore ? ' ' : '') + marks.replace(/ +$/, '')];
}

/** The cells [from, to) of a line to show: all when they fit, else MAX_EXCERPT_WIDTH columns from just before the underline, centred on a short one. */
function excerptWindow(cells: readonly Cell[]): [number, number] {
  const width = (from: number, to: number): number => cells.slice(from, to).reduce((n, c) => n + c.shown.length, 0);
  if (width(0, cells.length) <= MAX_EXCERPT_WIDTH) return [0, cells.length];
  let first = cells.findIndex((c) => c.marks.includes('~'));
  if (first < 0) first = cells.length;
  let last = first;
  while (last < cells.length && cells[last]!.marks.includes('~')) last++;
  // start at the underline, then widen to both sides in turn while there is room
  let from = Math.min(first, cells.length - 1);
  let to = from;
  let used = 0;
  while (to < last && used + cells[to]!.shown.length <= MAX_EXCERPT_WIDTH) used += cells[to++]!.shown.length;
  for (let grew = true; grew; ) {
    grew = false;
    if (from > 0 && used + cells[from - 1]!.shown.length <= MAX_EXCERPT_WIDTH) {
      used += cells[--from]!.shown.length;
      grew = true;
    }
    if (to < cells.length && used + cells[to]!.shown.length <= MAX_EXCERPT_WIDTH) {
      used += cells[to++]!.shown.length;
      grew = true;
    }
  }
  return [from, to];
}

/**
 * One diagnostic as bpftrace prints it, ending with a newline:
 * `FILE:LINE:COL-ENDCOL: ERROR: message` (or `FILE:L1-L2: ...` for a multi-line span, or just
 * `ERROR: message` without a location), then the excerpt, then `HINT: ...` if there is a hint.
 * Without `source` the header has no file name and no excerpt.
 */
export function renderDiagnostic(d: Diagnostic, source?: SourceFile): string {
  const label = d.severity === 'error' ? 'ERROR' : 'WARNING';
  const message = printableText(d.message.endsWith('\n') ? d.message.slice(0, -1) : d.message, { keepTabs: true });
  const lines: string[] = [];
  if (d.loc) {
    const file = source && source.name !== '' ? `${source.name}:` : '';
    lines.push(`${file}${formatLoc(d.loc)}: ${label}: ${message}`);
    if (source) lines.push(...excerpt(d.loc, source));
  } else {
    lines.push(`${label}: ${message}`);
  }
  // a hint of several lines (a list) keeps them
  if (d.hint !== undefined && d.hint !== '') lines.push(`HINT: ${d.hint.split('\n').map((l) => printableText(l, { keepTabs: true })).join('\n')}`);
  return lines.join('\n') + '\n';
}

/** How many errors (and how many warnings) are printed: the rest are counted, as clang's -ferror-limit does. */
export const MAX_RENDERED = 20;

/**
 * The diagnostics, errors first then warnings (each group in its original order), as bpftrace
 * emits them; past MAX_RENDERED of a kind, one line says how many more there were.
 */
export function renderDiagnostics(list: readonly Diagnostic[], source?: SourceFile): string {
  const errors = list.filter((d) => d.severity === 'error');
  const warnings = list.filter((d) => d.severity === 'warning');
  const some = (group: readonly Diagnostic[], label: string, what: string): string => {
    const shown = group.slice(0, MAX_RENDERED).map((d) => renderDiagnostic(d, source)).join('');
    const more = group.length - MAX_RENDERED;
    return more > 0 ? `${shown}${label}: ${more} more ${what}${more === 1 ? '' : 's'} not shown\n` : shown;
  };
  return some(errors, 'ERROR', 'error') + some(warnings, 'WARNING', 'warning');
}
