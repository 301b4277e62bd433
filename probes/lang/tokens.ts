// Token vocabulary of the bpftrace language: kinds, keywords, builtins, type names.
// bpftrace 0.26 has no separate lexer (src/parser.cpp scans characters); we keep one so the
// parser reads tokens, and give it an attach-point mode for the text before a probe's block.

import type { Loc } from './source.js';

/** Operators and punctuation; the kind of such a token is its text. */
export type Punct =
  | '(' | ')' | '[' | ']' | '{' | '}' | ',' | ';' | ':' | '?' | '.' | '..' | '->'
  | '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '!' | '~' | '<' | '>' | '='
  | '<=' | '>=' | '==' | '!=' | '<<' | '>>' | '&&' | '||' | '++' | '--'
  | '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>=';

/** Every punctuator, longest first (the scanner tries them in this order). */
export const PUNCTUATORS: readonly Punct[] = [
  '<<=', '>>=',
  '..', '->', '<=', '>=', '==', '!=', '<<', '>>', '&&', '||', '++', '--',
  '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=',
  '(', ')', '[', ']', '{', '}', ',', ';', ':', '?', '.',
  '+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '<', '>', '=',
];

/** Compound assignment operators (`@x += 1`). */
export const COMPOUND_ASSIGN_OPS: ReadonlySet<string> = new Set(['+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=']);

interface TokenBase {
  /** Source text of the token (for a token from a `#define` expansion: text in the macro's value). */
  readonly text: string;
  /** Half-open offset range in the source file. A macro-expanded token has its use site's range. */
  readonly start: number;
  readonly end: number;
  readonly loc: Loc;
  /** Set when the token came from expanding this object-like `#define`. */
  readonly macro?: string;
}

export interface PunctToken extends TokenBase {
  readonly kind: Punct;
}

/** An identifier: keyword, builtin, function name, type name, enum constant... (`text` is the name). */
export interface IdentToken extends TokenBase {
  readonly kind: 'Ident';
}

/** Integer literal; `value` has duration suffixes applied (`1ms` = 1000000n); C suffixes are dropped. */
export interface IntToken extends TokenBase {
  readonly kind: 'Int';
  readonly value: bigint;
}

/**
 * String literal with escapes decoded. `\xNN` and octal escapes give one UTF-16 unit per byte
 * (`"\xff"` is U+00FF), so the value is a byte string for anything outside ASCII escapes.
 */
export interface StringToken extends TokenBase {
  readonly kind: 'String';
  readonly value: string;
}

/** `$name` (text includes the `$`). */
export interface VariableToken extends TokenBase {
  readonly kind: 'Variable';
}

/** `@name`, or `@` alone (text includes the `@`). */
export interface MapToken extends TokenBase {
  readonly kind: 'Map';
}

/** `$1`, `$2`, ... */
export interface PositionalToken extends TokenBase {
  readonly kind: 'Positional';
  readonly index: number;
}

/** `$#`, the number of positional parameters. */
export interface PositionalCountToken extends TokenBase {
  readonly kind: 'PositionalCount';
}

/** Raw attach point text, e.g. `tracepoint:syscalls:sys_enter_open*` (attach-point mode only). */
export interface AttachPointToken extends TokenBase {
  readonly kind: 'AttachPoint';
}

/** A C definition at top level (`struct x { ... };`), kept as raw text for a later C-type pass. */
export interface CDefinitionToken extends TokenBase {
  readonly kind: 'CDefinition';
}

/** A preprocessor line (`#define`, `#include`, `#if...`), already applied by the lexer. */
export interface DirectiveToken extends TokenBase {
  readonly kind: 'Directive';
  readonly directive: Directive;
}

/** A character that starts no token (the parser reports it), or the end of input. */
export interface OtherToken extends TokenBase {
  readonly kind: 'Invalid' | 'EOF';
}

export type Token =
  | PunctToken
  | IdentToken
  | IntToken
  | StringToken
  | VariableToken
  | MapToken
  | PositionalToken
  | PositionalCountToken
  | AttachPointToken
  | CDefinitionToken
  | DirectiveToken
  | OtherToken;

export type TokenKind = Token['kind'];

export type Directive =
  /** Object-like (`params` absent) or function-like macro. Only object-like ones are substituted. */
  | { readonly kind: 'define'; readonly name: string; readonly value: string; readonly params?: readonly string[] }
  | { readonly kind: 'undef'; readonly name: string }
  /** `#include <x>` (system) or `#include "x"`; ignored (types come from the simulator's BTF). */
  | { readonly kind: 'include'; readonly path: string; readonly system: boolean }
  | { readonly kind: 'ifdef'; readonly name: string }
  | { readonly kind: 'ifndef'; readonly name: string }
  | { readonly kind: 'if'; readonly condition: string }
  | { readonly kind: 'elif'; readonly condition: string }
  | { readonly kind: 'else' }
  | { readonly kind: 'endif' }
  /** Any other directive (`#pragma`, `#error`...): kept, not applied. */
  | { readonly kind: 'other'; readonly text: string };

/** Reserved words (bpftrace `docs/language.md` §Keywords). `config` is also a builtin in expressions. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'break', 'config', 'continue', 'else', 'for', 'if', 'import', 'let', 'macro', 'offsetof', 'return', 'sizeof', 'unroll', 'while',
]);

/**
 * Builtin variables (reference §3). `argN`/`sargN` are recognised by pattern. `ioid` is
 * kiotrace's own: the id of the I/O a probe hit belongs to.
 */
export const BUILTINS: ReadonlySet<string> = new Set([
  'pid', 'tid', 'uid', 'gid', 'username', 'comm', 'pcomm', 'ppid', 'leader_comm', 'leader_tid', 'cpu', 'ncpus', 'numaid',
  'nsecs', 'elapsed', 'jiffies', 'args', 'retval', 'func', 'probe', 'probetype', 'curtask', 'kstack', 'ustack', 'cgroup',
  'rand', 'cpid', 'has_cpid', 'usermode', 'ctx', 'config', 'ioid',
]);

export function isBuiltin(name: string): boolean {
  return BUILTINS.has(name) || /^s?arg[0-9]+$/.test(name);
}

/** Names that are always types in casts and `sizeof` (other identifiers may be typedefs). */
export const BUILTIN_TYPES: ReadonlySet<string> = new Set([
  'bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'string', 'buffer',
  'inet', 'timestamp', 'ksym_t', 'usym_t', 'kstack_t', 'ustack_t', 'cgroup_path_t', 'strerror_t', 'void',
]);

/** Words that open a top-level declaration instead of an attach point. */
export const TOP_LEVEL_KEYWORDS: ReadonlySet<string> = new Set(['config', 'import', 'let', 'macro']);
