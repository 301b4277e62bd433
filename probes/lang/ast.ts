// The syntax tree of a bpftrace program, as the parser builds it: discriminated unions on
// `kind`, a `loc` on every node, no types or resolved names yet (later passes add those).
// Shapes follow bpftrace's src/ast/ast.h where that is convenient, with two deliberate
// differences: `if`, loops and blocks are statements (bpftrace 0.26 also has if/block
// expressions), and a predicate stays on its probe instead of being folded into an `if`.

import type { Loc } from './source.js';

// ---------------------------------------------------------------------------------------------
// Program

export interface Program {
  readonly kind: 'Program';
  readonly loc: Loc;
  /** The `#!` line, if any. */
  readonly shebang?: string;
  /** `#define`s in source order (already substituted into the tree where object-like). */
  readonly defines: readonly Define[];
  /** `#include`s (ignored: types come from the simulator's BTF-like table). */
  readonly includes: readonly Include[];
  /** `config = { key = value; ... }` entries, in order; empty without a config block. */
  readonly config: readonly ConfigEntry[];
  /** `import "x";` statements. */
  readonly imports: readonly Import[];
  /** Top-level C definitions (`struct x { ... };`) as raw text. */
  readonly cDefinitions: readonly CDefinition[];
  /** `let @m = hash(N);` declarations. */
  readonly mapDecls: readonly MapDecl[];
  /** `macro name(args) { ... }` definitions. */
  readonly macros: readonly MacroDef[];
  readonly probes: readonly Probe[];
}

export interface Define {
  readonly kind: 'Define';
  readonly loc: Loc;
  readonly name: string;
  readonly value: string;
  /** Parameters of a function-like macro (`#define F(a, b) ...`); such macros are not substituted. */
  readonly params?: readonly string[];
}

export interface Include {
  readonly kind: 'Include';
  readonly loc: Loc;
  readonly path: string;
  /** `<path>` rather than `"path"`. */
  readonly system: boolean;
}

export type ConfigValue =
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bool'; readonly value: boolean }
  /** A bare word, e.g. `missing_probes = warn`. */
  | { readonly kind: 'ident'; readonly value: string };

export interface ConfigEntry {
  readonly kind: 'ConfigEntry';
  readonly loc: Loc;
  readonly key: string;
  readonly value: ConfigValue;
}

export interface Import {
  readonly kind: 'Import';
  readonly loc: Loc;
  readonly path: string;
}

export interface CDefinition {
  readonly kind: 'CDefinition';
  readonly loc: Loc;
  readonly text: string;
}

export interface MapDecl {
  readonly kind: 'MapDecl';
  readonly loc: Loc;
  /** With the `@`. */
  readonly name: string;
  /** `hash`, `lruhash`, `percpuhash`, `percpulruhash` (not checked here). */
  readonly mapType: string;
  readonly maxEntries: bigint;
}

export interface MacroDef {
  readonly kind: 'MacroDef';
  readonly loc: Loc;
  readonly name: string;
  readonly params: readonly (Variable | MapRef | Identifier)[];
  readonly block: Block;
}

export interface Probe {
  readonly kind: 'Probe';
  /** Spans the attach points (not the block), as in bpftrace: probe errors underline these. */
  readonly loc: Loc;
  /** From `name=provider:...` before the first attach point. */
  readonly name?: string;
  readonly attachPoints: readonly AttachPoint[];
  readonly predicate?: Expr;
  readonly block: Block;
}

/**
 * One attach point as written. `raw` is the text (`t:block:block_rq_issue`, `interval:1s`,
 * `BEGIN`, `uprobe:/bin/bash:readline`); `provider` is the text before the first `:` exactly as
 * written (aliases and case are resolved later); `parts` are the `:`-separated fields after it,
 * with double quotes removed (`uprobe:bin:cpp:"ns::f"` -> `['bin', 'cpp', 'ns::f']`).
 */
export interface AttachPoint {
  readonly kind: 'AttachPoint';
  readonly loc: Loc;
  readonly raw: string;
  readonly provider: string;
  readonly parts: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Statements

export type Stmt =
  | ExprStmt
  | Assign
  | Let
  | If
  | While
  | ForMap
  | ForRange
  | Unroll
  | Return
  | Break
  | Continue
  | Block;

export interface Block {
  readonly kind: 'Block';
  /** From `{` to `}`. */
  readonly loc: Loc;
  readonly stmts: readonly Stmt[];
}

export interface ExprStmt {
  readonly kind: 'ExprStmt';
  readonly loc: Loc;
  readonly expr: Expr;
  /** Written as `_ = expr;` (the value is deliberately discarded). */
  readonly discard: boolean;
}

export type AssignOp = '=' | '+=' | '-=' | '*=' | '/=' | '%=' | '&=' | '|=' | '^=' | '<<=' | '>>=';

/** `@m = v`, `@m[k] = v`, `$x = v`, and the compound forms (`@x += 2`). */
export interface Assign {
  readonly kind: 'Assign';
  readonly loc: Loc;
  readonly op: AssignOp;
  readonly target: MapRef | MapAccess | Variable;
  readonly value: Expr;
}

/** `let $x;`, `let $x = v;`, `let $x: type = v;` */
export interface Let {
  readonly kind: 'Let';
  readonly loc: Loc;
  readonly variable: Variable;
  readonly type?: TypeSpec;
  readonly init?: Expr;
}

export interface If {
  readonly kind: 'If';
  readonly loc: Loc;
  readonly cond: Expr;
  readonly then: Block;
  /** `else { }` or `else if ...`. */
  readonly else?: Block | If;
}

export interface While {
  readonly kind: 'While';
  readonly loc: Loc;
  readonly cond: Expr;
  readonly body: Block;
}

/** `for ($kv : @m) { }` */
export interface ForMap {
  readonly kind: 'ForMap';
  readonly loc: Loc;
  readonly variable: Variable;
  readonly map: MapRef;
  readonly body: Block;
}

/** `for ($i : start..end) { }` (half-open). */
export interface ForRange {
  readonly kind: 'ForRange';
  readonly loc: Loc;
  readonly variable: Variable;
  readonly start: Expr;
  readonly end: Expr;
  readonly body: Block;
}

/** `unroll(N) { }` */
export interface Unroll {
  readonly kind: 'Unroll';
  readonly loc: Loc;
  readonly count: Expr;
  readonly body: Block;
}

export interface Return {
  readonly kind: 'Return';
  readonly loc: Loc;
  readonly value?: Expr;
}

export interface Break {
  readonly kind: 'Break';
  readonly loc: Loc;
}

export interface Continue {
  readonly kind: 'Continue';
  readonly loc: Loc;
}

// ---------------------------------------------------------------------------------------------
// Expressions

export type Expr =
  | IntLit
  | StringLit
  | BoolLit
  | Builtin
  | Identifier
  | Variable
  | Positional
  | PositionalCount
  | MapRef
  | MapAccess
  | Call
  | Binary
  | Unary
  | Ternary
  | FieldAccess
  | TupleAccess
  | Index
  | Cast
  | Tuple
  | RecordLit
  | Sizeof
  | Offsetof
  | BlockExpr
  | TypeExpr;

export interface IntLit {
  readonly kind: 'Int';
  readonly loc: Loc;
  /** Exact value (durations already in ns). Negative numbers are `Unary('-', Int)`. */
  readonly value: bigint;
  /** The literal as written (`1_000`, `5ms`, `0x10`), or the macro's text if it came from a `#define`. */
  readonly raw: string;
}

export interface StringLit {
  readonly kind: 'String';
  readonly loc: Loc;
  /** Escapes decoded; `\xNN`/octal escapes give one UTF-16 unit per byte. */
  readonly value: string;
}

export interface BoolLit {
  readonly kind: 'Bool';
  readonly loc: Loc;
  readonly value: boolean;
}

/** A builtin variable used without parentheses: `pid`, `comm`, `args`, `arg0`, `retval`, ... */
export interface Builtin {
  readonly kind: 'Builtin';
  readonly loc: Loc;
  readonly name: string;
}

/** Any other bare word: enum constants, `kstack(perf)`'s mode, macro arguments, typedef names. */
export interface Identifier {
  readonly kind: 'Identifier';
  readonly loc: Loc;
  readonly name: string;
}

/** `$name` (name includes the `$`). */
export interface Variable {
  readonly kind: 'Variable';
  readonly loc: Loc;
  readonly name: string;
}

/** `$1`, `$2`, ... */
export interface Positional {
  readonly kind: 'Positional';
  readonly loc: Loc;
  readonly index: number;
}

/** `$#` */
export interface PositionalCount {
  readonly kind: 'PositionalCount';
  readonly loc: Loc;
}

/** A map by name: `@name`, or `@` (name includes the `@`). Also the scalar-map read. */
export interface MapRef {
  readonly kind: 'Map';
  readonly loc: Loc;
  readonly name: string;
}

/** `@m[key]`; several keys `@m[a, b]` become one `Tuple` key, as in bpftrace. */
export interface MapAccess {
  readonly kind: 'MapAccess';
  readonly loc: Loc;
  readonly map: MapRef;
  readonly key: Expr;
}

/** `name(args)`, including zero-argument builtins written with parentheses (`pid()`). */
export interface Call {
  readonly kind: 'Call';
  readonly loc: Loc;
  readonly name: string;
  readonly args: readonly Expr[];
}

export type BinaryOp = '||' | '&&' | '|' | '^' | '&' | '==' | '!=' | '<' | '<=' | '>' | '>=' | '<<' | '>>' | '+' | '-' | '*' | '/' | '%';

export interface Binary {
  readonly kind: 'Binary';
  readonly loc: Loc;
  readonly op: BinaryOp;
  readonly left: Expr;
  readonly right: Expr;
}

/** `*` is dereference and `&` address-of here. */
export type UnaryOp = '!' | '~' | '-' | '*' | '&' | '++' | '--';

export interface Unary {
  readonly kind: 'Unary';
  readonly loc: Loc;
  readonly op: UnaryOp;
  readonly operand: Expr;
  /** False only for post-increment/decrement (`$x++`). */
  readonly prefix: boolean;
}

/** `c ? a : b`; the short form `c ?: b` has no `then`. */
export interface Ternary {
  readonly kind: 'Ternary';
  readonly loc: Loc;
  readonly cond: Expr;
  readonly then?: Expr;
  readonly else: Expr;
}

/** `x.field` or `x->field` (an alias in bpftrace; `arrow` records which was written). */
export interface FieldAccess {
  readonly kind: 'FieldAccess';
  readonly loc: Loc;
  readonly object: Expr;
  readonly field: string;
  readonly arrow: boolean;
}

/** `$t.0` */
export interface TupleAccess {
  readonly kind: 'TupleAccess';
  readonly loc: Loc;
  readonly object: Expr;
  readonly index: number;
}

/** `a[i]` on anything but a map name (arrays, strings, tuples, pointers). */
export interface Index {
  readonly kind: 'Index';
  readonly loc: Loc;
  readonly object: Expr;
  readonly index: Expr;
}

export interface Cast {
  readonly kind: 'Cast';
  readonly loc: Loc;
  readonly type: TypeSpec;
  readonly operand: Expr;
}

/** `(a, b)`, `(a,)`, `()` */
export interface Tuple {
  readonly kind: 'Tuple';
  readonly loc: Loc;
  readonly elements: readonly Expr[];
}

export interface RecordField {
  readonly loc: Loc;
  readonly name: string;
  readonly value: Expr;
}

/** `(a = 1, b = "x")` */
export interface RecordLit {
  readonly kind: 'Record';
  readonly loc: Loc;
  readonly fields: readonly RecordField[];
}

/** `sizeof(type)` or `sizeof(expr)`: exactly one of `type`/`expr`. */
export interface Sizeof {
  readonly kind: 'Sizeof';
  readonly loc: Loc;
  readonly type?: TypeSpec;
  readonly expr?: Expr;
}

/** `{ $x = 1; print("bob"); $x > 1 }`: the statements run in order; the last, an expression without `;`, is the value. */
export interface BlockExpr {
  readonly kind: 'BlockExpr';
  readonly loc: Loc;
  readonly block: Block;
}

/** `typeof(x)` where an expression is expected: a type passed as a macro's argument (`cst(typeof(uint8))`). */
export interface TypeExpr {
  readonly kind: 'TypeExpr';
  readonly loc: Loc;
  readonly type: TypeSpec;
}

/** `offsetof(struct x, a.b)` or `offsetof(expr, a.b)`: exactly one of `type`/`expr`. */
export interface Offsetof {
  readonly kind: 'Offsetof';
  readonly loc: Loc;
  readonly type?: TypeSpec;
  readonly expr?: Expr;
  readonly fields: readonly string[];
}

// ---------------------------------------------------------------------------------------------
// Types as written in casts, `let` annotations, sizeof/offsetof

export type TypeSpec = NamedType | TaggedType | PointerType | ArrayType | TypeofType;

/** `typeof(expr)` or `typeof(type)`: the static type of an expression, where a type is written. */
export interface TypeofType {
  readonly kind: 'TypeofType';
  readonly loc: Loc;
  readonly type?: TypeSpec;
  readonly expr?: Expr;
}

/** `uint32`, `int8`, `string`, or a typedef name (`u64`, `pid_t`). */
export interface NamedType {
  readonly kind: 'NamedType';
  readonly loc: Loc;
  readonly name: string;
}

/** `struct request`, `union x`, `enum e` */
export interface TaggedType {
  readonly kind: 'TaggedType';
  readonly loc: Loc;
  readonly tag: 'struct' | 'union' | 'enum';
  readonly name: string;
}

export interface PointerType {
  readonly kind: 'PointerType';
  readonly loc: Loc;
  readonly to: TypeSpec;
}

/** `int8[8]`; `int8[]` has no size. */
export interface ArrayType {
  readonly kind: 'ArrayType';
  readonly loc: Loc;
  readonly of: TypeSpec;
  readonly size?: number;
}

export type Node =
  | Program
  | Define
  | Include
  | ConfigEntry
  | Import
  | CDefinition
  | MapDecl
  | MacroDef
  | Probe
  | AttachPoint
  | Stmt
  | Expr
  | TypeSpec;

// ---------------------------------------------------------------------------------------------
// Walking

const EXPR_KINDS: ReadonlySet<string> = new Set<Expr['kind']>([
  'Int', 'String', 'Bool', 'Builtin', 'Identifier', 'Variable', 'Positional', 'PositionalCount', 'Map', 'MapAccess', 'Call',
  'Binary', 'Unary', 'Ternary', 'FieldAccess', 'TupleAccess', 'Index', 'Cast', 'Tuple', 'Record', 'Sizeof', 'Offsetof', 'BlockExpr', 'TypeExpr',
]);

export function isExpr(n: Node): n is Expr {
  return EXPR_KINDS.has(n.kind);
}

/**
 * The nodes directly under `n`, in source order (a program's: each kind of top-level item in
 * turn). Spelled out per kind, so a new kind of node does not compile until it is walked.
 */
export function childNodes(n: Node): Node[] {
  const present = (...nodes: (Node | undefined)[]): Node[] => nodes.filter((c): c is Node => c !== undefined);
  switch (n.kind) {
    case 'Program':
      return [...n.defines, ...n.includes, ...n.config, ...n.imports, ...n.cDefinitions, ...n.mapDecls, ...n.macros, ...n.probes];
    case 'MacroDef':
      return [...n.params, n.block];
    case 'Probe':
      return present(...n.attachPoints, n.predicate, n.block);
    case 'Block':
      return [...n.stmts];
    case 'ExprStmt':
      return [n.expr];
    case 'Assign':
      return [n.target, n.value];
    case 'Let':
      return present(n.variable, n.type, n.init);
    case 'If':
      return present(n.cond, n.then, n.else);
    case 'While':
      return [n.cond, n.body];
    case 'ForMap':
      return [n.variable, n.map, n.body];
    case 'ForRange':
      return [n.variable, n.start, n.end, n.body];
    case 'Unroll':
      return [n.count, n.body];
    case 'Return':
      return present(n.value);
    case 'MapAccess':
      return [n.map, n.key];
    case 'Call':
      return [...n.args];
    case 'Binary':
      return [n.left, n.right];
    case 'Unary':
      return [n.operand];
    case 'Ternary':
      return present(n.cond, n.then, n.else);
    case 'FieldAccess':
    case 'TupleAccess':
      return [n.object];
    case 'Index':
      return [n.object, n.index];
    case 'Cast':
      return [n.type, n.operand];
    case 'Tuple':
      return [...n.elements];
    case 'Record':
      return n.fields.map((f) => f.value);
    case 'Sizeof':
    case 'Offsetof':
      return present(n.type, n.expr);
    case 'BlockExpr':
      return [n.block];
    case 'TypeExpr':
      return [n.type];
    case 'PointerType':
      return [n.to];
    case 'TypeofType':
      return present(n.type, n.expr);
    case 'ArrayType':
      return [n.of];
    case 'Define':
    case 'Include':
    case 'ConfigEntry':
    case 'Import':
    case 'CDefinition':
    case 'MapDecl':
    case 'AttachPoint':
    case 'Break':
    case 'Continue':
    case 'Int':
    case 'String':
    case 'Bool':
    case 'Builtin':
    case 'Identifier':
    case 'Variable':
    case 'Positional':
    case 'PositionalCount':
    case 'Map':
    case 'NamedType':
    case 'TaggedType':
      return [];
  }
}

/**
 * The first place where an expression tree gets deeper than `limit` levels: the outermost
 * expression that is (a chain `1 + 1 + ... + 1` is a left-leaning tree as deep as the chain is
 * long). Iterative, with an explicit stack, so it is safe on any tree the parser builds.
 */
export function findTooDeep(root: Node, limit: number): { readonly node: Expr; readonly depth: number } | undefined {
  /** Depth of each finished expression: 1 + its deepest child's. */
  const depthOf = new Map<Node, number>();
  const stack: { node: Node; children: Node[]; next: number }[] = [{ node: root, children: childNodes(root), next: 0 }];
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next < top.children.length) {
      const child = top.children[top.next++]!;
      stack.push({ node: child, children: childNodes(child), next: 0 });
      continue;
    }
    stack.pop();
    const node = top.node;
    if (isExpr(node)) {
      let deepest = 0;
      for (const c of top.children) deepest = Math.max(deepest, depthOf.get(c) ?? 0);
      depthOf.set(node, deepest + 1);
      continue;
    }
    // a statement, probe, type...: the expressions under it are roots
    for (const c of top.children) {
      const d = depthOf.get(c);
      if (d !== undefined && d > limit && isExpr(c)) return { node: c, depth: d };
      depthOf.delete(c);
    }
  }
  return undefined;
}
