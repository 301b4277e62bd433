// The scanner: source text -> tokens, with the small C preprocessor bpftrace scripts use.
//
// A closure over the text (TypeScript's scanner shape): `next(mode)` returns one token,
// `save()`/`restore()` let the parser look ahead and back off. Two modes, chosen by the parser:
//   'code'   - expressions and statements;
//   'attach' - top level: an attach point is read as raw text up to whitespace, `{`, `,`, or a
//              `/` that opens a predicate (bpftrace src/parser.cpp parse_attach_point), while
//              `config`, `let`, `macro`, `import` and C definitions come back as code.
// Preprocessing: `#define NAME value` (object-like) is substituted into later code tokens,
// `#include` is recorded (a few kernel headers add their constants, see HEADER_CONSTANTS), `#if/#ifdef/#ifndef/#elif/#else/#endif` select lines
// (BPFTRACE_HAVE_BTF is predefined), and a `#!` first line is skipped.

import { errorAt, type Diagnostic } from './diagnostics.js';
import { SourceFile } from './source.js';
import {
  PUNCTUATORS,
  TOP_LEVEL_KEYWORDS,
  type AttachPointToken,
  type CDefinitionToken,
  type Directive,
  type DirectiveToken,
  type IntToken,
  type Punct,
  type StringToken,
  type Token,
} from './tokens.js';
import { ownValue } from './values.js';

export type LexMode = 'code' | 'attach';

/** Macros defined before the script; kiotrace's simulated kernel has BTF. */
export const DEFAULT_PREDEFINED: Readonly<Record<string, string>> = { BPFTRACE_HAVE_BTF: '1' };

/** Object-like macros of the kernel headers older tools include (values as in Linux 6.18). */
const HEADER_CONSTANTS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  'linux/sched.h': { TASK_RUNNING: '0', TASK_INTERRUPTIBLE: '1', TASK_UNINTERRUPTIBLE: '2', __TASK_STOPPED: '4', __TASK_TRACED: '8', TASK_PARKED: '64', TASK_DEAD: '128', TASK_NOLOAD: '1024', TASK_IDLE: '1026' },
  'linux/socket.h': { AF_UNSPEC: '0', AF_UNIX: '1', AF_INET: '2', AF_INET6: '10' },
  // glibc's <sys/socket.h> (bits/socket.h): what tcplife includes when BTF provides the types
  'sys/socket.h': { AF_UNSPEC: '0', AF_UNIX: '1', AF_INET: '2', AF_INET6: '10' },
  'linux/fs.h': { SEEK_SET: '0', SEEK_CUR: '1', SEEK_END: '2' },
};

/** How many `#define`s may expand one inside the other (`#define A B`, `#define B C`, ...). */
export const MAX_MACRO_DEPTH = 64;
/**
 * How many tokens `#define` expansion may produce in one script. `#define A B B` over
 * `#define B C C` over ... doubles at each level: without a ceiling 40 levels are 2^40 tokens.
 */
export const MAX_MACRO_TOKENS = 100_000;
/** How deeply an `#if` expression may nest parentheses, unary operators and `?:`. */
const MAX_PREPROCESSOR_NESTING = 64;

export interface LexerOptions {
  /** Object-like macros defined before the script (default `DEFAULT_PREDEFINED`). */
  readonly predefined?: Readonly<Record<string, string>>;
}

/** A snapshot for `restore()`; opaque to callers. */
export interface LexerState {
  readonly pos: number;
  readonly pending: readonly Token[];
  readonly pendingIndex: number;
  readonly defines: ReadonlyMap<string, MacroDef>;
  readonly macroTokens: number;
  readonly macroBudgetExhausted: boolean;
  readonly cond: readonly CondFrame[];
  readonly diagnosticCount: number;
  readonly sawToken: boolean;
  readonly eofChecked: boolean;
}

export interface Lexer {
  readonly source: SourceFile;
  /** The next token; at the end, `EOF` (again on every later call). */
  next(mode?: LexMode): Token;
  save(): LexerState;
  restore(state: LexerState): void;
  /** Problems found while scanning (bad numbers, strings, directives), in order. */
  diagnostics(): readonly Diagnostic[];
  /** The `#!` line, if the script starts with one. */
  shebang(): string | undefined;
}

/** A `#define` in effect. */
export interface MacroDef {
  readonly value: string;
  readonly functionLike: boolean;
}

/** One open `#if` group. */
export interface CondFrame {
  /** Lines in the current branch are kept. */
  readonly active: boolean;
  /** Whether the enclosing region is kept. */
  readonly parentActive: boolean;
  /** Some branch of this #if group has been kept (so later #elif/#else are not). */
  readonly taken: boolean;
  readonly sawElse: boolean;
  /** Offsets of the opening directive line, for "unterminated conditional directive". */
  readonly start: number;
  readonly end: number;
}

const U64_MAX = (1n << 64n) - 1n;
const I64_MAX = (1n << 63n) - 1n;

/** Integer suffixes: maximum value allowed before scaling, and the multiplier (bpftrace util/int_parser.cpp). */
const INT_SUFFIXES: ReadonlyMap<string, { readonly max: bigint; readonly mult: bigint }> = new Map([
  ['', { max: U64_MAX, mult: 1n }],
  ['u', { max: (1n << 32n) - 1n, mult: 1n }],
  ['ul', { max: U64_MAX, mult: 1n }],
  ['ull', { max: U64_MAX, mult: 1n }],
  ['l', { max: I64_MAX, mult: 1n }],
  ['ll', { max: I64_MAX, mult: 1n }],
  ['ns', { max: U64_MAX, mult: 1n }],
  ['us', { max: U64_MAX, mult: 1_000n }],
  ['ms', { max: U64_MAX, mult: 1_000_000n }],
  ['s', { max: U64_MAX, mult: 1_000_000_000n }],
  ['m', { max: U64_MAX, mult: 60_000_000_000n }],
  ['h', { max: U64_MAX, mult: 3_600_000_000_000n }],
  ['d', { max: U64_MAX, mult: 86_400_000_000_000n }],
]);

function isIdentStart(ch: string | undefined): boolean {
  return ch !== undefined && ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_');
}

function isIdentBody(ch: string | undefined): boolean {
  return isIdentStart(ch) || isDigit(ch);
}

function isDigit(ch: string | undefined): boolean {
  return ch !== undefined && ch >= '0' && ch <= '9';
}

function isHexDigit(ch: string | undefined): boolean {
  return ch !== undefined && /^[0-9a-fA-F]$/.test(ch);
}

function isHSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v';
}

function isSpace(ch: string | undefined): boolean {
  return isHSpace(ch) || ch === '\n';
}

function digitValue(ch: string): number {
  const c = ch.toLowerCase();
  if (c >= '0' && c <= '9') return c.charCodeAt(0) - 48;
  if (c >= 'a' && c <= 'z') return c.charCodeAt(0) - 87;
  return 99;
}

/** Outcome of converting an integer literal's text. */
export type IntConversion = { readonly ok: true; readonly value: bigint } | { readonly ok: false; readonly message: string };

/**
 * bpftrace's integer literal conversion (util::to_uint with base 0): `_` separators, `0x` hex,
 * leading-`0` octal, `NeM` scientific form (coefficient 1-9), C suffixes `u l ul ll ull`
 * (case-insensitive) and duration suffixes `ns us ms s m h d` (scaled to nanoseconds).
 */
export function convertIntLiteral(raw: string): IntConversion {
  const n = raw.replaceAll('_', '');
  let base = 10n;
  let digits = n;
  if (n.length >= 2 && (n.startsWith('0x') || n.startsWith('0X'))) {
    base = 16n;
    digits = n.slice(2);
  } else if (n.length >= 2 && n[0] === '0' && n[1]! >= '0' && n[1]! <= '7') {
    base = 8n;
    digits = n.slice(1);
  }
  const shown = base === 10n ? raw : digits;
  let i = 0;
  let value = 0n;
  while (i < digits.length && BigInt(digitValue(digits[i]!)) < base) {
    value = value * base + BigInt(digitValue(digits[i]!));
    i++;
  }
  if (i === 0) return { ok: false, message: `invalid integer: ${shown}` };
  if (value > U64_MAX) return { ok: false, message: `overflow error, maximum value is ${U64_MAX}: ${shown}` };
  let rest = digits.slice(i);
  if ((rest[0] === 'e' || rest[0] === 'E') && rest[1] !== undefined && rest[1] >= '1' && rest[1] <= '9') {
    if (value <= 0n || value >= 10n) return { ok: false, message: `coefficient part of scientific literal must be 1-9: ${shown}` };
    let j = 1;
    let exp = 0;
    while (isDigit(rest[j])) exp = exp * 10 + (rest.charCodeAt(j++) - 48);
    for (let k = 0; k < exp; k++) {
      value *= 10n;
      if (value > U64_MAX) return { ok: false, message: `overflow error, maximum value is ${U64_MAX}: ${shown}` };
    }
    rest = rest.slice(j);
  }
  const suffix = /^[uUlL]*$/.test(rest) ? rest.toLowerCase() : rest;
  const spec = INT_SUFFIXES.get(suffix);
  if (!spec) return { ok: false, message: `invalid trailing bytes: ${shown}` };
  if (value > spec.max / spec.mult) return { ok: false, message: `overflow error, maximum value is ${spec.max}: ${shown}` };
  return { ok: true, value: value * spec.mult };
}

/** What all the lexers of one script (its own and those of macro expansions) share. */
interface ExpansionBudget {
  /** Tokens produced by `#define` expansion so far (see MAX_MACRO_TOKENS). */
  tokens: number;
  /** The budget ran out or expansion nested too deeply: reported once, expansion stops. */
  exhausted: boolean;
}

export function createLexer(source: SourceFile, options: LexerOptions = {}): Lexer {
  const predefined = new Map<string, MacroDef>();
  for (const [name, value] of Object.entries(options.predefined ?? DEFAULT_PREDEFINED)) {
    predefined.set(name, { value, functionLike: false });
  }
  return makeLexer(source, predefined, new Set(), true, { tokens: 0, exhausted: false });
}

function makeLexer(source: SourceFile, initialDefines: ReadonlyMap<string, MacroDef>, expanding: ReadonlySet<string>, directives: boolean, budget: ExpansionBudget): Lexer {
  const text = source.text;
  const len = text.length;

  let pos = 0;
  let pending: readonly Token[] = [];
  let pendingIndex = 0;
  let defines: ReadonlyMap<string, MacroDef> = initialDefines;
  /** `defines` may be shared (a save() snapshot or the caller's map): copy before changing it. */
  let definesShared = true;
  const writableDefines = (): Map<string, MacroDef> => {
    if (definesShared) {
      defines = new Map(defines);
      definesShared = false;
    }
    return defines as Map<string, MacroDef>;
  };
  let cond: readonly CondFrame[] = [];
  let diags: Diagnostic[] = [];
  let sawToken = false;
  let eofChecked = false;
  let shebangText: string | undefined;

  const report = (message: string, start: number, end: number, code = 'syntax', hint?: string): void => {
    diags.push(errorAt(code === 'syntax' ? `syntax: ${message}` : message, source.loc(start, end), hint === undefined ? { code } : { code, hint }));
  };

  const active = (): boolean => cond.length === 0 || cond[cond.length - 1]!.active;

  const atLineStart = (p: number): boolean => {
    for (let q = p - 1; q >= 0; q--) {
      const ch = text[q];
      if (ch === '\n') return true;
      if (!isHSpace(ch)) return false;
    }
    return true;
  };

  /** End of the logical line starting at p (backslash-newline continues it); the newline is not included. */
  const lineEnd = (p: number): number => {
    let q = p;
    while (q < len && text[q] !== '\n') {
      if (text[q] === '\\' && text[q + 1] === '\n') q += 2;
      else if (text[q] === '\\' && text[q + 1] === '\r' && text[q + 2] === '\n') q += 3;
      else q++;
    }
    return q;
  };

  /** Skip a comment at p if there is one; returns the offset after it, or p. */
  const skipComment = (p: number, reportUnterminated: boolean): number => {
    if (text[p] !== '/') return p;
    if (text[p + 1] === '/') {
      let q = p + 2;
      while (q < len && text[q] !== '\n') q++;
      return q;
    }
    if (text[p + 1] === '*') {
      const close = text.indexOf('*/', p + 2);
      if (close < 0) {
        if (reportUnterminated) report('unterminated comment', p, p + 2);
        return len;
      }
      return close + 2;
    }
    return p;
  };

  // ---------------------------------------------------------------------------------------------
  // Preprocessor

  const parseDirective = (body: string): Directive => {
    const m = /^\s*([A-Za-z_]\w*)?\s*([\s\S]*)$/.exec(body);
    const word = m?.[1] ?? '';
    const rest = (m?.[2] ?? '').trim();
    switch (word) {
      case 'define': {
        const d = /^([A-Za-z_]\w*)(\(([^)]*)\))?\s*([\s\S]*)$/.exec(rest);
        if (!d) return { kind: 'other', text: body.trim() };
        const name = d[1]!;
        const value = (d[4] ?? '').trim();
        if (d[2] !== undefined) {
          const params = d[3]!.split(',').map((s) => s.trim()).filter((s) => s !== '');
          return { kind: 'define', name, value, params };
        }
        return { kind: 'define', name, value };
      }
      case 'undef':
        return { kind: 'undef', name: rest.split(/\s+/)[0] ?? '' };
      case 'include': {
        const sys = /^<([^>]*)>/.exec(rest);
        if (sys) return { kind: 'include', path: sys[1]!, system: true };
        const quoted = /^"([^"]*)"/.exec(rest);
        if (quoted) return { kind: 'include', path: quoted[1]!, system: false };
        return { kind: 'other', text: body.trim() };
      }
      case 'ifdef':
      case 'ifndef':
        return { kind: word, name: rest.split(/\s+/)[0] ?? '' };
      case 'if':
      case 'elif':
        return { kind: word, condition: rest };
      case 'else':
      case 'endif':
        return { kind: word };
      default:
        return { kind: 'other', text: body.trim() };
    }
  };

  /** Directive body with comments removed and continuations joined. */
  const directiveBody = (start: number, end: number): string => {
    let out = '';
    let p = start;
    while (p < end) {
      if (text[p] === '\\' && (text[p + 1] === '\n' || (text[p + 1] === '\r' && text[p + 2] === '\n'))) {
        out += ' ';
        p += text[p + 1] === '\n' ? 2 : 3;
        continue;
      }
      if (text[p] === '/' && (text[p + 1] === '/' || text[p + 1] === '*')) {
        const q = Math.min(skipComment(p, false), end);
        out += ' ';
        p = q;
        continue;
      }
      out += text[p];
      p++;
    }
    return out;
  };

  const evalCondition = (expr: string, start: number, end: number): boolean => {
    const result = evaluatePreprocessorExpr(expr, defines);
    if (result === 'too deep') {
      report(`preprocessor expression nested too deeply: more than ${MAX_PREPROCESSOR_NESTING} levels`, start, end, 'preprocessor');
      return false;
    }
    if (result === undefined) {
      report(`invalid preprocessor expression: ${expr}`, start, end, 'preprocessor');
      return false;
    }
    return result !== 0n;
  };

  /** Apply a directive. Returns true if it is a conditional (which never becomes a token). */
  const applyDirective = (d: Directive, start: number, end: number): boolean => {
    const top = cond[cond.length - 1];
    switch (d.kind) {
      case 'ifdef':
      case 'ifndef':
      case 'if': {
        const parentActive = active();
        let on = false;
        if (parentActive) {
          if (d.kind === 'if') on = evalCondition(d.condition, start, end);
          else on = defines.has(d.name) === (d.kind === 'ifdef');
        }
        cond = [...cond, { active: on, parentActive, taken: on || !parentActive, sawElse: false, start, end }];
        return true;
      }
      case 'elif': {
        if (!top) {
          report('#elif without #if', start, end, 'preprocessor');
          return true;
        }
        if (top.sawElse) report('#elif after #else', start, end, 'preprocessor');
        const on = top.parentActive && !top.taken && evalCondition(d.condition, start, end);
        cond = [...cond.slice(0, -1), { ...top, active: on, taken: top.taken || on }];
        return true;
      }
      case 'else': {
        if (!top) {
          report('#else without #if', start, end, 'preprocessor');
          return true;
        }
        if (top.sawElse) report('#else after #else', start, end, 'preprocessor');
        const on = top.parentActive && !top.taken;
        cond = [...cond.slice(0, -1), { ...top, active: on, taken: true, sawElse: true }];
        return true;
      }
      case 'endif':
        if (!top) report('#endif without #if', start, end, 'preprocessor');
        else cond = cond.slice(0, -1);
        return true;
      case 'define':
        if (active()) writableDefines().set(d.name, { value: d.value, functionLike: d.params !== undefined });
        return false;
      case 'undef':
        if (active() && defines.has(d.name)) writableDefines().delete(d.name);
        return false;
      case 'include': {
        // The kernel's types come from the simulated BTF; a header contributes its constants.
        // A quoted include names a file of the user's: nothing is read from the host's disk.
        if (!d.system) {
          if (active()) report(`#include "${d.path}": kiotrace does not read files a script includes; kernel types come from the simulated BTF`, start, end, 'preprocessor', 'use #include <linux/...> for kernel headers, or put the definitions in the script');
          return false;
        }
        const constants = ownValue(HEADER_CONSTANTS, d.path);
        if (active() && constants) {
          const next = writableDefines();
          for (const [name, value] of Object.entries(constants)) next.set(name, { value, functionLike: false });
        }
        return false;
      }
      case 'other': {
        if (!active()) return false;
        // what a C preprocessor refuses: a directive it does not know, or one it cannot read
        const word = /^[A-Za-z_]\w*/.exec(d.text)?.[0] ?? '';
        if (word === '' && d.text === '') return false; // `#` alone is C's null directive
        if (word === 'pragma') return false; // unknown pragmas are ignored, as clang ignores them
        if (word === 'error') report(`#error ${d.text.slice(5).trim()}`, start, end, 'preprocessor');
        else if (word === 'include') report('#include expects "FILENAME" or <FILENAME>', start, end, 'preprocessor');
        else if (word === 'define') report('#define: expected a macro name', start, end, 'preprocessor');
        else report(`invalid preprocessing directive #${word === '' ? d.text : word}`, start, end, 'preprocessor');
        return false;
      }
    }
  };

  /**
   * Skip whitespace, comments, inactive #if regions and conditional directives. Stops at the
   * first character of a token, or returns the token of an active #define/#include/... line.
   */
  const skipLayout = (): DirectiveToken | undefined => {
    for (;;) {
      if (pos >= len) return undefined;
      const ch = text[pos]!;
      if (ch === '#' && directives && atLineStart(pos)) {
        const end = lineEnd(pos);
        if (text[pos + 1] === '!' && !sawToken && cond.length === 0) {
          shebangText ??= text.slice(pos, end);
          pos = end;
          continue;
        }
        const start = pos;
        const d = parseDirective(directiveBody(pos + 1, end));
        pos = end;
        const wasActive = active();
        const conditional = applyDirective(d, start, end);
        if (conditional || !wasActive) continue;
        let tokenEnd = end;
        while (tokenEnd > start && isSpace(text[tokenEnd - 1])) tokenEnd--;
        return { kind: 'Directive', directive: d, text: text.slice(start, tokenEnd), start, end: tokenEnd, loc: source.loc(start, tokenEnd) };
      }
      if (!active()) {
        // Inside a false #if branch: drop lines, but still see (indented) directives.
        if (isSpace(ch)) {
          pos++;
          continue;
        }
        while (pos < len && text[pos] !== '\n') pos++;
        continue;
      }
      if (isSpace(ch)) {
        pos++;
        continue;
      }
      const after = skipComment(pos, true);
      if (after !== pos) {
        pos = after;
        continue;
      }
      return undefined;
    }
  };

  // ---------------------------------------------------------------------------------------------
  // Tokens

  const scanIdentEnd = (p: number): number => {
    let q = p;
    while (isIdentBody(text[q])) q++;
    return q;
  };

  const scanNumber = (start: number): IntToken => {
    let p = start;
    let ok = true;
    const checkUnderscore = (): void => {
      if (text[p - 1] === '_') {
        report('trailing underscore in integer literal', p - 1, p);
        ok = false;
      }
    };
    const cSuffix = (): void => {
      if (text[p] === 'u' || text[p] === 'U') {
        p++;
        if (text[p] === 'l' || text[p] === 'L') p++;
        if (text[p] === 'l' || text[p] === 'L') p++;
      } else if (text[p] === 'l' || text[p] === 'L') {
        p++;
        if (text[p] === 'l' || text[p] === 'L') p++;
      }
    };
    if (text[p] === '0' && (text[p + 1] === 'x' || text[p + 1] === 'X')) {
      p += 2;
      while (isHexDigit(text[p]) || text[p] === '_') p++;
      checkUnderscore();
      cSuffix();
    } else {
      while (isDigit(text[p]) || text[p] === '_') p++;
      checkUnderscore();
      if (text[p] === 'e' || text[p] === 'E') {
        p++;
        while (isDigit(text[p]) || text[p] === '_') p++;
        checkUnderscore();
      }
      const c = text[p];
      if ((c === 'n' || c === 'u' || c === 'm') && text[p + 1] === 's') p += 2;
      else if (c === 's' || c === 'm' || c === 'h' || c === 'd') p++;
      else cSuffix();
    }
    if (isIdentStart(text[p])) {
      const badStart = p;
      p = scanIdentEnd(p);
      report(`invalid integer suffix '${text.slice(badStart, p)}'`, badStart, p);
      ok = false;
    }
    const raw = text.slice(start, p);
    let value = 0n;
    if (ok) {
      const conv = convertIntLiteral(raw);
      if (conv.ok) value = conv.value;
      else report(conv.message, start, p);
    }
    return { kind: 'Int', value, text: raw, start, end: p, loc: source.loc(start, p) };
  };

  /** Scan a string literal at `start` (a `"`). Stops before a newline if unterminated. */
  const scanString = (start: number): StringToken => {
    let p = start + 1;
    let value = '';
    let terminated = false;
    while (p < len) {
      const ch = text[p]!;
      if (ch === '"') {
        p++;
        terminated = true;
        break;
      }
      if (ch === '\n') break;
      if (ch !== '\\') {
        value += ch;
        p++;
        continue;
      }
      const escStart = p;
      p++;
      if (p >= len || text[p] === '\n') break;
      const esc = text[p]!;
      switch (esc) {
        case 'n':
          value += '\n';
          p++;
          break;
        case 't':
          value += '\t';
          p++;
          break;
        case 'r':
          value += '\r';
          p++;
          break;
        case '"':
          value += '"';
          p++;
          break;
        case '\\':
          value += '\\';
          p++;
          break;
        case 'x':
        case 'X': {
          p++;
          let hex = '';
          while (hex.length < 2 && isHexDigit(text[p])) hex += text[p++];
          if (hex === '') report('invalid hex escape sequence', escStart, p);
          else value += String.fromCharCode(parseInt(hex, 16));
          break;
        }
        default:
          if (esc >= '0' && esc <= '7') {
            let oct = '';
            while (oct.length < 3 && text[p] !== undefined && text[p]! >= '0' && text[p]! <= '7') oct += text[p++];
            const code = parseInt(oct, 8);
            if (code > 255) report(`octal escape sequence out of range '\\${oct}'`, escStart, p);
            value += String.fromCharCode(code & 0xff);
          } else {
            report(`invalid escape character '\\${esc}'`, escStart, p + 1);
            p++;
          }
      }
    }
    if (!terminated) {
      let lineStop = p;
      while (lineStop < len && text[lineStop] !== '\n') lineStop++;
      if (lineStop > start && text[lineStop - 1] === '\r') lineStop--;
      report('unterminated string', start, lineStop);
      p = lineStop;
    }
    return { kind: 'String', value, text: text.slice(start, p), start, end: p, loc: source.loc(start, p) };
  };

  const punctAt = (p: number): Punct | undefined => {
    for (const op of PUNCTUATORS) if (text.startsWith(op, p)) return op;
    return undefined;
  };

  const simple = <K extends Token['kind']>(kind: K, start: number, end: number): { kind: K; text: string; start: number; end: number; loc: ReturnType<SourceFile['loc']> } => ({
    kind,
    text: text.slice(start, end),
    start,
    end,
    loc: source.loc(start, end),
  });

  /**
   * Expand an object-like macro used at [start, end); returns its first token (or the next token
   * if it is empty). Nested expansions share the script's budget: past MAX_MACRO_DEPTH levels or
   * MAX_MACRO_TOKENS tokens the first one to notice reports it (at its use, which the levels
   * above move to theirs) and everything stops expanding.
   */
  const expandMacro = (name: string, def: MacroDef, start: number, end: number, mode: LexMode): Token => {
    if (budget.exhausted) return simple('Ident', start, end);
    if (expanding.size >= MAX_MACRO_DEPTH) {
      budget.exhausted = true;
      report(`macro expansion nested too deeply: more than ${MAX_MACRO_DEPTH} levels of #define`, start, end, 'preprocessor');
      return simple('Ident', start, end);
    }
    const inner = new Set(expanding);
    inner.add(name);
    const sub = makeLexer(new SourceFile(`<macro ${name}>`, def.value), defines, inner, false, budget);
    const loc = source.loc(start, end);
    const tokens: Token[] = [];
    for (let t = sub.next('code'); t.kind !== 'EOF' && !budget.exhausted; t = sub.next('code')) {
      if (++budget.tokens > MAX_MACRO_TOKENS) {
        budget.exhausted = true;
        report(`macro expansion too large: more than ${MAX_MACRO_TOKENS} tokens`, start, end, 'preprocessor');
        break;
      }
      tokens.push({ ...t, start, end, loc, macro: t.macro ?? name });
    }
    for (const d of sub.diagnostics()) diags.push({ ...d, loc });
    if (tokens.length === 0) return scan(mode);
    pending = tokens;
    pendingIndex = 1;
    return tokens[0]!;
  };

  const scanCode = (): Token => {
    const start = pos;
    const ch = text[pos]!;
    if (isIdentStart(ch)) {
      pos = scanIdentEnd(pos);
      const name = text.slice(start, pos);
      const def = defines.get(name);
      if (def && !def.functionLike && !expanding.has(name)) return expandMacro(name, def, start, pos, 'code');
      return simple('Ident', start, pos);
    }
    if (isDigit(ch)) {
      const t = scanNumber(start);
      pos = t.end;
      return t;
    }
    if (ch === '"') {
      const t = scanString(start);
      pos = t.end;
      return t;
    }
    if (ch === '$') {
      const next = text[pos + 1];
      if (isIdentStart(next)) {
        pos = scanIdentEnd(pos + 1);
        return simple('Variable', start, pos);
      }
      if (next === '#') {
        pos += 2;
        return simple('PositionalCount', start, pos);
      }
      if (isDigit(next)) {
        pos++;
        while (isDigit(text[pos])) pos++;
        const digits = text.slice(start + 1, pos);
        const n = BigInt(digits);
        let index = Number(n);
        if (n < 1n || n > I64_MAX) {
          report(`param $${digits} is out of integer range [1, ${I64_MAX}]`, start, pos);
          index = 0;
        }
        return { ...simple('Positional', start, pos), index };
      }
      pos++;
      report("expected identifier after '$'", start, pos);
      return simple('Invalid', start, pos);
    }
    if (ch === '@') {
      pos = isIdentStart(text[pos + 1]) ? scanIdentEnd(pos + 1) : pos + 1;
      return simple('Map', start, pos);
    }
    const op = punctAt(pos);
    if (op !== undefined) {
      pos += op.length;
      return simple(op, start, pos);
    }
    pos += (text.codePointAt(pos) ?? 0) > 0xffff ? 2 : 1;
    return simple('Invalid', start, pos);
  };

  /** Past spaces and comments from `from`. */
  const skipGap = (from: number): number => {
    let q = from;
    for (;;) {
      if (isSpace(text[q])) q++;
      else if (skipComment(q, false) !== q) q = skipComment(q, false);
      else return q;
    }
  };

  /** Whether a `struct`/`union`/`enum` at p starts a C definition (`struct x {`), not an attach point. */
  const looksLikeCDefinition = (p: number): boolean => {
    let q = scanIdentEnd(p);
    for (;;) {
      q = skipGap(q);
      const ch = text[q];
      if (ch === '{') return true;
      if (isIdentStart(ch)) {
        q = scanIdentEnd(q);
        continue;
      }
      if (ch === '(' || ch === '[') {
        const close = ch === '(' ? ')' : ']';
        let depth = 0;
        for (; q < len; q++) {
          if (text[q] === ch) depth++;
          else if (text[q] === close && --depth === 0) break;
        }
        if (q >= len) return false;
        q++;
        continue;
      }
      return false;
    }
  };

  const scanCDefinition = (start: number): CDefinitionToken => {
    let p = start;
    let depth = 0;
    let closed = false;
    while (p < len) {
      const after = skipComment(p, false);
      if (after !== p) {
        p = after;
        continue;
      }
      const ch = text[p];
      if (ch === '"') {
        p = scanString(p).end;
        continue;
      }
      p++;
      if (ch === '{') depth++;
      else if (ch === '}' && --depth === 0) {
        closed = true;
        break;
      }
    }
    if (!closed) report("expected '}'", p, p);
    let q = skipGap(p);
    // `} __attribute__((packed))`, as many as written, belong to the definition
    while (text.startsWith('__attribute', q)) {
      let r = skipGap(scanIdentEnd(q));
      if (text[r] !== '(') break;
      let depth = 0;
      for (; r < len; r++) {
        if (text[r] === '(') depth++;
        else if (text[r] === ')' && --depth === 0) break;
      }
      if (r >= len) break;
      p = r + 1;
      q = skipGap(p);
    }
    if (text[q] === ';') p = q + 1;
    pos = p;
    return simple('CDefinition', start, p);
  };

  /** Raw attach point text at `start` (bpftrace reads it as characters, not tokens). */
  const scanAttachPoint = (start: number): AttachPointToken => {
    let p = start;
    let sawColon = false;
    let segment = start;
    while (p < len) {
      const ch = text[p]!;
      if (isSpace(ch) || ch === '{' || ch === '}' || ch === ',' || ch === ';') break;
      if (ch === '/') {
        if (text[p + 1] === '/' || text[p + 1] === '*') break;
        // A path (`uprobe:/bin/bash:readline`, `uprobe:./a.out:f`) only where a field starts with one.
        const inPath = sawColon && (p === segment || text[segment] === '/' || text[segment] === '.');
        if (!inPath) break;
      }
      if (ch === ':') {
        sawColon = true;
        segment = p + 1;
      }
      if (ch === '"') {
        p = scanString(p).end;
        continue;
      }
      p++;
    }
    pos = p;
    return simple('AttachPoint', start, p);
  };

  const scan = (mode: LexMode): Token => {
    if (pendingIndex < pending.length) return pending[pendingIndex++]!;
    pending = [];
    pendingIndex = 0;
    const directive = skipLayout();
    if (directive) return directive;
    if (pos >= len) {
      if (!eofChecked) {
        eofChecked = true;
        const open = cond[cond.length - 1];
        if (open) report('unterminated conditional directive', open.start, open.end, 'preprocessor');
      }
      return simple('EOF', len, len);
    }
    sawToken = true;
    if (mode === 'attach') {
      const ch = text[pos]!;
      if (isIdentStart(ch)) {
        const word = text.slice(pos, scanIdentEnd(pos));
        if (TOP_LEVEL_KEYWORDS.has(word)) return scanCode();
        if ((word === 'struct' || word === 'union' || word === 'enum') && looksLikeCDefinition(pos)) return scanCDefinition(pos);
      }
      if (ch === '{' || ch === '}' || ch === ',' || ch === ';' || ch === '/') return scanCode();
      return scanAttachPoint(pos);
    }
    return scanCode();
  };

  return {
    source,
    next: (mode: LexMode = 'code') => scan(mode),
    save: () => {
      definesShared = true;
      return { pos, pending, pendingIndex, defines, macroTokens: budget.tokens, macroBudgetExhausted: budget.exhausted, cond, diagnosticCount: diags.length, sawToken, eofChecked };
    },
    restore: (s: LexerState) => {
      pos = s.pos;
      pending = s.pending;
      pendingIndex = s.pendingIndex;
      defines = s.defines;
      definesShared = true;
      budget.tokens = s.macroTokens;
      budget.exhausted = s.macroBudgetExhausted;
      cond = s.cond;
      diags = diags.slice(0, s.diagnosticCount);
      sawToken = s.sawToken;
      eofChecked = s.eofChecked;
    },
    diagnostics: () => diags,
    shebang: () => shebangText,
  };
}

// -----------------------------------------------------------------------------------------------
// #if expressions: integers, macro names (undefined ones are 0), defined(X), ! ~ - + * / % << >>
// < <= > >= == != & ^ | && || and parentheses. Undefined result means a malformed expression;
// 'too deep' one that nests past MAX_PREPROCESSOR_NESTING.

function evaluatePreprocessorExpr(expr: string, defines: ReadonlyMap<string, MacroDef>, depth = 0): bigint | undefined | 'too deep' {
  const tokens = expr.match(/0[xX][0-9a-fA-F]+|\d+|[A-Za-z_]\w*|<<|>>|<=|>=|==|!=|&&|\|\||\S/g) ?? [];
  let i = 0;
  /** Parentheses, unary operators and `?:` open now; past the limit everything gives up. */
  let nesting = 0;
  let tooDeep = false;
  const enter = (): boolean => {
    if (++nesting > MAX_PREPROCESSOR_NESTING) tooDeep = true;
    return !tooDeep;
  };
  const peek = (): string | undefined => tokens[i];
  const take = (): string | undefined => tokens[i++];
  const bool = (b: boolean): bigint => (b ? 1n : 0n);
  const BINARY: readonly (readonly string[])[] = [['||'], ['&&'], ['|'], ['^'], ['&'], ['==', '!='], ['<', '<=', '>', '>='], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

  const primary = (): bigint | undefined => {
    const t = take();
    if (t === undefined) return undefined;
    if (t === '(') {
      if (!enter()) return undefined;
      const v = binary(0);
      nesting--;
      return take() === ')' ? v : undefined;
    }
    if (t === '!' || t === '~' || t === '-' || t === '+') {
      if (!enter()) return undefined;
      const v = primary();
      nesting--;
      if (v === undefined) return undefined;
      return t === '!' ? bool(v === 0n) : t === '~' ? ~v : t === '-' ? BigInt.asIntN(64, -v) : v;
    }
    if (t === 'defined') {
      const paren = peek() === '(';
      if (paren) take();
      const name = take();
      if (name === undefined || !/^[A-Za-z_]\w*$/.test(name)) return undefined;
      if (paren && take() !== ')') return undefined;
      return bool(defines.has(name));
    }
    if (/^\d/.test(t)) {
      const octal = t.startsWith('0') && t.length > 1 && !/^0[xX]/.test(t);
      if (octal && !/^[0-7]+$/.test(t)) return undefined;
      return BigInt.asIntN(64, BigInt(octal ? '0o' + t.slice(1) : t));
    }
    if (/^[A-Za-z_]/.test(t)) {
      const def = defines.get(t);
      if (!def || depth > 16) return 0n;
      const v = evaluatePreprocessorExpr(def.value, defines, depth + 1);
      if (v === 'too deep') tooDeep = true;
      return typeof v === 'bigint' ? v : 0n;
    }
    return undefined;
  };

  // C's intmax_t: results wrap to 64 bits; shifting by a negative amount or by 64+ is an error
  const apply = (op: string, a: bigint, b: bigint): bigint | undefined => {
    if ((op === '<<' || op === '>>') && (b < 0n || b > 63n)) return undefined;
    const v = applyExact(op, a, b);
    return v === undefined ? undefined : BigInt.asIntN(64, v);
  };

  const applyExact = (op: string, a: bigint, b: bigint): bigint | undefined => {
    switch (op) {
      case '||': return bool(a !== 0n || b !== 0n);
      case '&&': return bool(a !== 0n && b !== 0n);
      case '|': return a | b;
      case '^': return a ^ b;
      case '&': return a & b;
      case '==': return bool(a === b);
      case '!=': return bool(a !== b);
      case '<': return bool(a < b);
      case '<=': return bool(a <= b);
      case '>': return bool(a > b);
      case '>=': return bool(a >= b);
      case '<<': return a << b;
      case '>>': return a >> b;
      case '+': return a + b;
      case '-': return a - b;
      case '*': return a * b;
      case '/': return b === 0n ? undefined : a / b;
      case '%': return b === 0n ? undefined : a % b;
      default: return undefined;
    }
  };

  const binary = (level: number): bigint | undefined => {
    if (level >= BINARY.length) return primary();
    let left = binary(level + 1);
    while (left !== undefined) {
      const op = peek();
      if (op === undefined || !BINARY[level]!.includes(op)) break;
      take();
      const right = binary(level + 1);
      if (right === undefined) return undefined;
      left = apply(op, left, right);
    }
    return left;
  };

  const ternary = (): bigint | undefined => {
    const c = binary(0);
    if (c === undefined || peek() !== '?') return c;
    take();
    if (!enter()) return undefined;
    const a = ternary();
    if (take() !== ':') return undefined;
    const b = ternary();
    nesting--;
    if (a === undefined || b === undefined) return undefined;
    return c !== 0n ? a : b;
  };

  const v = ternary();
  if (tooDeep) return 'too deep';
  return i === tokens.length ? v : undefined;
}

// -----------------------------------------------------------------------------------------------

export type TokenizeMode = LexMode | 'program';

export interface TokenizeResult {
  /** Every token, ending with EOF. */
  readonly tokens: readonly Token[];
  readonly diagnostics: readonly Diagnostic[];
  readonly shebang?: string;
}

/**
 * Scan a whole text. `code` and `attach` use one mode throughout; `program` (the default)
 * switches the way the parser does: attach points at top level, code inside predicates,
 * blocks and top-level declarations (`config = {...}`, `let @m = ...;`, `macro f() {...}`).
 */
export function tokenize(input: SourceFile | string, options: LexerOptions & { readonly mode?: TokenizeMode } = {}): TokenizeResult {
  const source = typeof input === 'string' ? new SourceFile('stdin', input) : input;
  const lexer = createLexer(source, options);
  const mode = options.mode ?? 'program';
  const tokens: Token[] = [];
  let depth = 0;
  let inPredicate = false;
  let inDeclaration = false;
  for (;;) {
    const lexMode: LexMode = mode !== 'program' ? mode : depth === 0 && !inPredicate && !inDeclaration ? 'attach' : 'code';
    const t = lexer.next(lexMode);
    tokens.push(t);
    if (t.kind === 'EOF') break;
    if (mode !== 'program') continue;
    if (t.kind === '{') {
      depth++;
      inPredicate = false;
    } else if (t.kind === '}') {
      depth = Math.max(0, depth - 1);
      if (depth === 0) inDeclaration = false;
    } else if (depth === 0 && t.kind === ';') {
      inDeclaration = false;
    } else if (depth === 0 && !inPredicate && !inDeclaration) {
      if (t.kind === 'Ident' && TOP_LEVEL_KEYWORDS.has(t.text)) inDeclaration = true;
      else if (t.kind === '/') inPredicate = true;
    }
  }
  const shebang = lexer.shebang();
  return { tokens, diagnostics: lexer.diagnostics(), ...(shebang !== undefined ? { shebang } : {}) };
}
