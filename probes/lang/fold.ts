// Literal folding and other syntax-level helpers of the bpftrace-compatible language that the
// type pass (typer.ts) and code generation (compile.ts) share: integer literals folded as
// bpftrace folds them before typing, the value a block ends with, byte lengths of string
// literals, IP address and positional-parameter parsing.

import type * as A from './ast.js';
import type { Loc } from './source.js';

/**
 * How deeply statements and expressions may nest while compiling. The parser bounds a program's
 * own nesting below this; macros expanding into macros can stack their bodies past it.
 */
export const MAX_COMPILE_DEPTH = 1500;

/** What an expression of literals folds to: its value, a reason it cannot be, or undefined when it is not all literals. */
export type Folded = { readonly value: bigint } | { readonly error: string; readonly loc: Loc } | undefined;

export const INT64_MIN = -(1n << 63n);
export const INT64_MAX = (1n << 63n) - 1n;
export const UINT64_MAX = (1n << 64n) - 1n;
/** bpftrace's message for a literal expression out of 64 bits (src/ast/passes/fold_literals.cpp). */
const FOLD_OVERFLOW = 'unable to fold literals due to overflow or underflow';

/**
 * Folds integer literals and `+ - * / % & | ^` and unary `-`/`~` of them with exact math, as
 * bpftrace folds them before it types anything: `-10 / 3` is -3; a result outside
 * [INT64_MIN, UINT64_MAX] or a division by 0 is an error.
 */
export function foldLiterals(e: A.Expr, depth = 0): Folded {
  if (e.kind === 'Int') return { value: e.value };
  if (e.kind !== 'Unary' && e.kind !== 'Binary') return undefined;
  // macro expansion shares argument subtrees, so a tree can be exponentially bigger than its
  // nodes: each node is folded once; past the compiler's depth limit nothing is folded (the
  // compiler reports the depth)
  if (folding.has(e)) return folding.get(e);
  if (depth > MAX_COMPILE_DEPTH) return undefined;
  const folded = foldNode(e, depth);
  folding.set(e, folded);
  return folded;
}

/** What each Unary and Binary node folded to (see foldLiterals). */
const folding = new WeakMap<A.Expr, Folded>();

function foldNode(e: A.Unary | A.Binary, depth: number): Folded {
  if (e.kind === 'Unary' && (e.op === '-' || e.op === '~')) {
    const inner = foldLiterals(e.operand, depth + 1);
    if (inner === undefined || !('value' in inner)) return inner;
    if (e.op === '~') return { value: BigInt.asUintN(64, ~inner.value) };
    const v = -inner.value;
    return v < INT64_MIN ? { error: FOLD_OVERFLOW, loc: e.loc } : { value: v };
  }
  if (e.kind !== 'Binary' || !['+', '-', '*', '/', '%', '&', '|', '^'].includes(e.op)) return undefined;
  const l = foldLiterals(e.left, depth + 1);
  const r = foldLiterals(e.right, depth + 1);
  if (l === undefined || r === undefined) return undefined;
  if (!('value' in l)) return l;
  if (!('value' in r)) return r;
  if ((e.op === '/' || e.op === '%') && r.value === 0n) return { error: divideByZeroMessage(e.op), loc: e.right.loc };
  let v: bigint;
  switch (e.op) {
    case '+':
      v = l.value + r.value;
      break;
    case '-':
      v = l.value - r.value;
      break;
    case '*':
      v = l.value * r.value;
      break;
    case '/':
      v = l.value / r.value;
      break;
    case '%':
      v = l.value % r.value;
      break;
    case '&':
      v = BigInt.asUintN(64, l.value & r.value);
      break;
    case '|':
      v = BigInt.asUintN(64, l.value | r.value);
      break;
    default:
      v = BigInt.asUintN(64, l.value ^ r.value);
      break;
  }
  return v < INT64_MIN || v > UINT64_MAX ? { error: FOLD_OVERFLOW, loc: e.loc } : { value: v };
}

export function divideByZeroMessage(op: '/' | '%'): string {
  return `${op === '/' ? 'division' : 'modulo'} by zero: the divisor is always 0`;
}

/** The expression a block ends with, its value (a last statement `_ = e` discards it). */
export function blockValue(b: A.Block): A.Expr | undefined {
  const last = b.stmts[b.stmts.length - 1];
  if (last?.kind === 'If' && last.else !== undefined) return ifValue(last);
  return last?.kind === 'ExprStmt' && !last.discard ? last.expr : undefined;
}

/** An `if ... else ...` statement that ends a block used as a value: the if-expression it is (one node per statement). */
const ifValues = new WeakMap<A.If, A.Expr>();
function ifValue(s: A.If): A.Expr {
  let v = ifValues.get(s);
  if (v === undefined) {
    const block = (b: A.Block): A.Expr => ({ kind: 'BlockExpr', loc: b.loc, block: b });
    const otherwise = s.else === undefined ? block({ kind: 'Block', loc: s.loc, stmts: [] }) : s.else.kind === 'If' ? ifValue(s.else) : block(s.else);
    v = { kind: 'Ternary', loc: s.loc, cond: s.cond, then: block(s.then), else: otherwise };
    ifValues.set(s, v);
  }
  return v;
}

/** Bytes of a string value: `\xNN` escapes (code units up to 0xff) are one byte, other characters their UTF-8 length. */
export function byteLength(s: string): number {
  let bytes = 0;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    bytes += code <= 0xff ? 1 : code <= 0x7ff ? 2 : code <= 0xffff ? 3 : 4;
  }
  return bytes;
}

/** inet_pton: an IPv4 dotted quad (4 bytes) or an IPv6 address (16 bytes), undefined when it is neither. */
export function parseInetAddress(text: string): number[] | undefined {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    return b.every((x) => x <= 255) ? b : undefined;
  }
  if (!/^[0-9a-fA-F:]+$/.test(text) || (text.match(/::/g) ?? []).length > 1) return undefined;
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const groups = (s: string | undefined): string[] => (s ? s.split(':') : []);
  const h = groups(head);
  const t = groups(tail);
  const missing = 8 - h.length - t.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const all = [...h, ...Array<string>(tail === undefined ? 0 : missing).fill('0'), ...t];
  if (all.some((g) => g.length === 0 || g.length > 4)) return undefined;
  return all.flatMap((g) => {
    const n = parseInt(g, 16);
    return [n >> 8, n & 0xff];
  });
}

/**
 * A positional parameter as a number, read as C's strtoll with base 0 reads it (bpftrace's
 * rule): decimal, 0x hex, 0 octal, with an optional minus; undefined for anything else (a string).
 */
export function positionalNumber(raw: string): bigint | undefined {
  const mm = /^(-?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)$/.exec(raw);
  if (!mm) return undefined;
  const digits = mm[2]!;
  const v = digits.length > 1 && digits[0] === '0' && digits[1] !== 'x' && digits[1] !== 'X' ? BigInt('0o' + digits.slice(1)) : BigInt(digits);
  const n = mm[1] === '-' ? -v : v;
  return n >= INT64_MIN && n <= UINT64_MAX ? n : undefined;
}
