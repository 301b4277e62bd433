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
 * Characters a terminal would act on instead of showing: C0 and C1 controls (the tab among them),
 * DEL, the bidirectional overrides that reorder a line, and lone surrogates.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** One unprintable character (a UTF-16 code unit) as a JavaScript escape: `\x1b`, `\u202e`. */
function escaped(ch: string): string {
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * `text` safe to print on a terminal: every character it would act on (ESC, BEL, CR, a tab unless
 * `keepTabs`, a bidirectional override, a lone surrogate) as a JavaScript escape, so text from a
 * script, a scenario or a job file can never move the cursor, recolour the screen or reorder the
 * line. Printable text, surrogate pairs included, is unchanged.
 */
export function printableText(text: string, options: { readonly keepTabs?: boolean } = {}): string {
  if (options.keepTabs === true) return text.split('\t').map((part) => printableText(part)).join('\t');
  return text.replace(UNPRINTABLE, escaped);
}

/** One UTF-16 code unit that is not half of a pair as an excerpt shows it: a tab as 4 spaces, an unprintable one escaped. */
function shownChar(ch: string): string {
  return ch === '\t' ? ' '.repeat(TAB_WIDTH) : printableText(ch);
}

/**
 * The excerpt under a header: for a single-line span the line (tabs as 4 spaces) and a line of
 * `~` under columns [col, endCol) clipped to the line's length; for a span over several lines
 * every line of it, no underline; nothing if the line is not in the source.
 */
function excerpt(loc: Loc, source: SourceFile): string[] {
  if (loc.line !== loc.endLine) {
    const out: string[] = [];
    for (let n = loc.line; n <= loc.endLine; n++) {
      const text = source.lineText(n);
      if (text !== undefined) out.push(printableText(text, { keepTabs: true }));
    }
    return out;
  }
  const text = source.lineText(loc.line);
  return text === undefined ? [] : underlinedLine(text, loc.col, loc.endCol);
}

/**
 * A source line as an excerpt shows it (tabs as 4 spaces, unprintable characters escaped) and a
 * line of `~` under columns [col, endCol), clipped to the line; nothing for a blank line (the end
 * of an empty program has nothing to point at).
 */
export function underlinedLine(text: string, col: number, endCol: number): string[] {
  if (text.trim() === '') return [];
  const stop = Math.min(endCol - 1, text.length);
  if (printableText(text) === text) {
    // the usual case (no tab, nothing escaped): one column per code unit
    const from = Math.min(col - 1, stop);
    return [text, ' '.repeat(from) + '~'.repeat(Math.max(0, stop - from))];
  }
  let shown = '';
  let marks = '';
  for (let x = 0; x < text.length; x++) {
    const code = text.charCodeAt(x);
    const pairs = code >= 0xd800 && code <= 0xdbff && x + 1 < text.length && (text.charCodeAt(x + 1) & 0xfc00) === 0xdc00;
    const seen = pairs ? text.slice(x, x + 2) : shownChar(text[x]!);
    shown += seen;
    // the underline keeps step with what is shown: a tab or an escape is several columns, a
    // surrogate pair (one character, two columns of a location) one mark per column as before
    const width = pairs ? 1 : seen.length;
    if (x < endCol - 1) marks += (x < col - 1 ? ' ' : '~').repeat(width);
    if (pairs) {
      x++;
      if (x < endCol - 1) marks += x < col - 1 ? ' ' : '~';
    }
  }
  return [shown, marks];
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
  if (d.hint !== undefined && d.hint !== '') lines.push(`HINT: ${printableText(d.hint, { keepTabs: true })}`);
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
