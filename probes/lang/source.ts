// Script source text and locations: the analog of bpftrace's ASTSource and SourceLocation
// (src/ast/location.h). A location is what a diagnostic underlines.

/**
 * A span of source text. Lines and columns are 1-based; `endCol` is exclusive (the column just
 * past the last character), as in bpftrace's `FILE:LINE:COL-ENDCOL`. A span that ends at the end
 * of a line has `endCol` = line length + 1 on the same line. A zero-width span (an insertion
 * point, e.g. end of input) has `col === endCol`. Columns count UTF-16 code units; a tab is one
 * column (the renderer widens it to 4).
 */
export interface Loc {
  readonly line: number;
  readonly col: number;
  readonly endLine: number;
  readonly endCol: number;
}

/** One line/column position (1-based). */
export interface Position {
  readonly line: number;
  readonly col: number;
}

/** The smallest span covering `a` and `b` (`a` must start first). */
export function spanLoc(a: Loc, b: Loc): Loc {
  return { line: a.line, col: a.col, endLine: b.endLine, endCol: b.endCol };
}

/** `L:C-C2` (single line) or `L1-L2` (several lines): the location part of a diagnostic header. */
export function formatLoc(loc: Loc): string {
  return loc.line !== loc.endLine ? `${loc.line}-${loc.endLine}` : `${loc.line}:${loc.col}-${loc.endCol}`;
}

/**
 * A script: its name as diagnostics print it (`stdin` for `-e`, otherwise the path given on the
 * command line) and its text. Offsets are UTF-16 indexes into `text`.
 */
export class SourceFile {
  readonly name: string;
  readonly text: string;
  /** Offset of the first character of each line. */
  private readonly lineStarts: readonly number[];
  private readonly lines: number;

  constructor(name: string, text: string) {
    this.name = name;
    this.text = text;
    const starts = [0];
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
    this.lineStarts = starts;
    // A final newline ends the last line; it does not start an empty one (but the end-of-input
    // position after it is line N+1, column 1, as bpftrace counts).
    this.lines = starts.length > 1 && starts[starts.length - 1] === text.length ? starts.length - 1 : starts.length;
  }

  /** Number of lines (a trailing newline does not add one; empty text has one empty line). */
  get lineCount(): number {
    return this.lines;
  }

  /** The text of 1-based line `n` without its newline (and without a trailing `\r`), or undefined. */
  lineText(n: number): string | undefined {
    if (n < 1 || n > this.lines) return undefined;
    const start = this.lineStarts[n - 1]!;
    let end = n < this.lineStarts.length ? this.lineStarts[n]! - 1 : this.text.length;
    if (end > start && this.text.charCodeAt(end - 1) === 13) end--;
    return this.text.slice(start, end);
  }

  /** Line and column of an offset (0..text.length). */
  position(offset: number): Position {
    const starts = this.lineStarts;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, col: offset - starts[lo]! + 1 };
  }

  /** The location of the half-open offset range [start, end). */
  loc(start: number, end: number): Loc {
    const a = this.position(start);
    const b = end === start ? a : this.position(end);
    return { line: a.line, col: a.col, endLine: b.line, endCol: b.col };
  }
}
