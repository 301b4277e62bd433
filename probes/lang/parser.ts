// The parser: tokens -> Program. Hand-written recursive descent with precedence climbing for
// binary operators, in C order (bpftrace src/parser.cpp, BinopPrecedence):
//   ternary < || < && < | < ^ < & < == != < < <= > >= < << >> < + - < * / % < unary/cast < postfix
//
// Like bpftrace 0.26 it stops at the first syntax error (later errors are mostly noise), and
// reports it as `syntax: expected ...` with the location of the offending token. Errors are
// returned as diagnostics, never thrown. Speculation (casts, sizeof) uses lexer save/restore.

import * as A from './ast.js';
import { errorAt, type Diagnostic } from './diagnostics.js';
import { createLexer, type Lexer, type LexerOptions, type LexerState, type LexMode } from './lexer.js';
import { spanLoc, type Loc, type SourceFile } from './source.js';
import { COMPOUND_ASSIGN_OPS, KEYWORDS, BUILTIN_TYPES, isBuiltin, type Token } from './tokens.js';

export type ParseOptions = LexerOptions;

export interface ParseResult {
  /** Present when there are no errors. */
  readonly program?: A.Program;
  /** Lexer and parser diagnostics (in practice at most one syntax error: parsing stops there). */
  readonly diagnostics: Diagnostic[];
}

/** Parse a whole script. Never throws on bad input. */
export function parse(source: SourceFile, options: ParseOptions = {}): ParseResult {
  return new Parser(source, options).run();
}

/** Unwinds the parser after the first error (already recorded). Not an Error: no stack needed. */
class ParseAbort {}

const BINARY_PRECEDENCE: ReadonlyMap<string, number> = new Map([
  ['||', 1],
  ['&&', 2],
  ['|', 3],
  ['^', 4],
  ['&', 5],
  ['==', 6],
  ['!=', 6],
  ['<', 7],
  ['<=', 7],
  ['>', 7],
  ['>=', 7],
  ['<<', 8],
  ['>>', 8],
  ['+', 9],
  ['-', 9],
  ['*', 10],
  ['/', 10],
  ['%', 10],
]);

const TAGS: ReadonlySet<string> = new Set(['struct', 'union', 'enum']);

const IMMUTABLE_MESSAGE = 'Tuples and records are immutable once created. Consider creating a new value and assigning it instead.';

interface ParserState {
  readonly tok: Token;
  readonly prev: Token;
  readonly lexer: LexerState;
  readonly diagnosticCount: number;
  readonly nesting: number;
}

/**
 * How deeply parentheses, brackets, call arguments, blocks, prefix operators and `?:` may nest. Each level is a few recursive calls here and in the compiler, so the limit is what
 * keeps them inside the stack; no real script comes near it.
 */
export const MAX_NESTING_DEPTH = 256;

/**
 * How many levels one expression tree may have, counting the operators of a chain
 * (`1 + 1 + ... + 1` is as deep as it is long: the compiler and the evaluator recurse into it);
 * also how many branches one if/else if chain may have.
 */
export const MAX_EXPRESSION_DEPTH = 500;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class Parser {
  private readonly source: SourceFile;
  private readonly lexer: Lexer;
  private tok: Token;
  /** The last consumed token: nodes end where it ends. */
  private prev: Token;
  private diags: Diagnostic[] = [];
  private sawProbe = false;
  /** Nesting levels open now (see MAX_NESTING_DEPTH). */
  private nesting = 0;

  constructor(source: SourceFile, options: ParseOptions) {
    this.source = source;
    this.lexer = createLexer(source, options);
    this.tok = this.lexer.next('attach');
    this.prev = this.current();
  }

  run(): ParseResult {
    let program: A.Program | undefined;
    try {
      program = this.parseProgram();
    } catch (e) {
      if (!(e instanceof ParseAbort)) throw e;
    }
    const diagnostics = [...this.lexer.diagnostics(), ...this.diags];
    const tooDeep = program ? A.findTooDeep(program, MAX_EXPRESSION_DEPTH) : undefined;
    if (tooDeep) {
      diagnostics.push(
        errorAt(`expression nested too deeply: ${tooDeep.depth} levels (the limit is ${MAX_EXPRESSION_DEPTH})`, tooDeep.node.loc, {
          code: 'nesting',
          hint: 'split it into parts held in variables',
        }),
      );
    }
    if (diagnostics.some((d) => d.severity === 'error')) return { diagnostics };
    return program ? { program, diagnostics } : { diagnostics };
  }

  // -------------------------------------------------------------------------------------------
  // Token plumbing

  private advance(mode: LexMode = 'code'): Token {
    const t = this.current();
    this.prev = t;
    this.tok = this.lexer.next(mode);
    return t;
  }

  private save(): ParserState {
    return { tok: this.tok, prev: this.prev, lexer: this.lexer.save(), diagnosticCount: this.diags.length, nesting: this.nesting };
  }

  private restore(s: ParserState): void {
    this.tok = s.tok;
    this.prev = s.prev;
    this.lexer.restore(s.lexer);
    this.diags = this.diags.slice(0, s.diagnosticCount);
    this.nesting = s.nesting;
  }

  /** Opens a nesting level at the current token; past MAX_NESTING_DEPTH that is a syntax error. */
  private enter(): void {
    if (++this.nesting > MAX_NESTING_DEPTH) {
      this.fail(`nested too deeply: more than ${MAX_NESTING_DEPTH} levels of blocks, parentheses, brackets and operators`);
    }
  }

  private leave(): void {
    this.nesting--;
  }

  /** Kind of the token after the current one (scanned as code). */
  private peekKind(): Token['kind'] {
    const s = this.save();
    this.advance();
    const kind = this.tok.kind;
    this.restore(s);
    return kind;
  }

  /** The current token. A method, not a field read, so TypeScript does not keep narrowing it across advance(). */
  private current(): Token {
    return this.tok;
  }

  private at(kind: Token['kind']): boolean {
    return this.tok.kind === kind;
  }

  private isIdent(name: string): boolean {
    return this.at('Ident') && this.tok.text === name;
  }

  private expect(kind: Token['kind'], mode: LexMode = 'code', message = `expected '${kind}'`): Token {
    if (this.tok.kind !== kind) this.fail(message);
    return this.advance(mode);
  }

  /** Where bpftrace underlines "expected ..." errors: the word, number, `$x`/`@x`, or one character at the current token. */
  private errorLoc(): Loc {
    const t = this.current();
    if (t.kind === 'EOF') return t.loc;
    const text = this.source.text;
    const start = t.start;
    let end = start + 1;
    const word = /[A-Za-z0-9_]/;
    const ch = text[start] ?? '';
    if (/[A-Za-z_]/.test(ch) || ch === '@' || ch === '$') {
      while (end < t.end && word.test(text[end] ?? '')) end++;
    } else if (/[0-9]/.test(ch)) {
      while (end < t.end && /[A-Za-z0-9.]/.test(text[end] ?? '')) end++;
    }
    return this.source.loc(start, end);
  }

  /**
   * Record a syntax error and unwind. If the lexer already reported a problem, that is the real
   * cause: unwind without adding a follow-on error.
   */
  private fail(message: string, loc: Loc = this.errorLoc()): never {
    if (this.lexer.diagnostics().length === 0) this.diags.push(errorAt(`syntax: ${message}`, loc, { code: 'syntax' }));
    throw new ParseAbort();
  }

  /** Stop at a statement boundary once the lexer has reported an error (bpftrace stops there too). */
  private checkpoint(): void {
    if (this.lexer.diagnostics().length > 0 || this.diags.length > 0) throw new ParseAbort();
  }

  private from(start: Loc): Loc {
    return spanLoc(start, this.prev.loc);
  }

  // -------------------------------------------------------------------------------------------
  // Program

  private parseProgram(): A.Program {
    const defines: A.Define[] = [];
    const includes: A.Include[] = [];
    let config: A.ConfigEntry[] | undefined;
    const imports: A.Import[] = [];
    const cDefinitions: A.CDefinition[] = [];
    const mapDecls: A.MapDecl[] = [];
    const macros: A.MacroDef[] = [];
    const probes: A.Probe[] = [];

    for (;;) {
      this.checkpoint();
      const t = this.current();
      if (t.kind === 'EOF') break;
      if (t.kind === 'Directive' || t.kind === 'CDefinition') {
        if (this.sawProbe) this.fail('C definitions must appear before probes and functions', t.loc);
        if (t.kind === 'CDefinition') cDefinitions.push({ kind: 'CDefinition', loc: t.loc, text: t.text });
        else if (t.directive.kind === 'define') {
          const d = t.directive;
          defines.push({ kind: 'Define', loc: t.loc, name: d.name, value: d.value, ...(d.params ? { params: d.params } : {}) });
        } else if (t.directive.kind === 'include') {
          includes.push({ kind: 'Include', loc: t.loc, path: t.directive.path, system: t.directive.system });
        }
        this.advance('attach');
        continue;
      }
      if (t.kind === 'Ident') {
        switch (t.text) {
          case 'config':
            if (this.sawProbe) this.fail('config must appear before probes and functions', t.loc);
            if (config) this.fail('duplicate config block', t.loc);
            config = this.parseConfig();
            continue;
          case 'import':
            if (this.sawProbe) this.fail('root imports must appear before probes and functions', t.loc);
            imports.push(this.parseImport());
            continue;
          case 'let':
            mapDecls.push(this.parseMapDecl());
            continue;
          case 'macro':
            macros.push(this.parseMacro());
            continue;
        }
      }
      if (t.kind === 'AttachPoint') {
        probes.push(this.parseProbe());
        continue;
      }
      if (t.kind === '{' || t.kind === ',' || t.kind === '/') this.fail('expected attach point');
      this.fail('unexpected input');
    }

    const shebang = this.lexer.shebang();
    return {
      kind: 'Program',
      loc: this.source.loc(0, this.source.text.length),
      ...(shebang !== undefined ? { shebang } : {}),
      defines,
      includes,
      config: config ?? [],
      imports,
      cDefinitions,
      mapDecls,
      macros,
      probes,
    };
  }

  private parseConfig(): A.ConfigEntry[] {
    this.advance();
    this.expect('=');
    this.expect('{');
    const entries: A.ConfigEntry[] = [];
    while (!this.at('}')) {
      const keyTok = this.current();
      if (keyTok.kind !== 'Ident') this.fail('expected config key');
      this.advance();
      this.expect('=');
      const v = this.current();
      let value: A.ConfigValue;
      if (v.kind === 'String') value = { kind: 'string', value: v.value };
      else if (v.kind === 'Int') value = { kind: 'int', value: v.value };
      else if (v.kind === 'Ident' && (v.text === 'true' || v.text === 'false')) value = { kind: 'bool', value: v.text === 'true' };
      else if (v.kind === 'Ident') value = { kind: 'ident', value: v.text };
      else this.fail('expected string, int, boolean, or ident');
      this.advance();
      entries.push({ kind: 'ConfigEntry', loc: this.from(keyTok.loc), key: keyTok.text, value });
      if (this.at(';')) this.advance();
      else if (!this.at('}')) this.fail("expected ';'");
    }
    this.advance('attach');
    return entries;
  }

  private parseImport(): A.Import {
    const start = this.advance();
    const path = this.current();
    if (path.kind !== 'String') this.fail("expected string after 'import'");
    this.advance();
    const loc = this.from(start.loc);
    if (!this.at(';')) this.fail("expected ';' after import");
    this.advance('attach');
    return { kind: 'Import', loc, path: path.value };
  }

  private parseMapDecl(): A.MapDecl {
    const start = this.advance();
    const mapTok = this.current();
    if (mapTok.kind === 'Variable') this.fail('root-level let statements need to be map declarations, e.g. let @a = hash(2);', start.loc);
    if (mapTok.kind !== 'Map') this.fail("expected '@' in map declaration");
    this.advance();
    this.expect('=');
    const typeTok = this.current();
    if (typeTok.kind !== 'Ident') this.fail('expected map type name');
    this.advance();
    this.expect('(');
    const size = this.current();
    if (size.kind !== 'Int') this.fail('expected positive integer for map declaration max entries');
    this.advance();
    this.expect(')', 'attach');
    const loc = this.from(start.loc);
    if (this.at(';')) this.advance('attach');
    return { kind: 'MapDecl', loc, name: mapTok.text, mapType: typeTok.text, maxEntries: size.value };
  }

  private parseMacro(): A.MacroDef {
    const start = this.advance();
    const nameTok = this.current();
    if (nameTok.kind !== 'Ident') this.fail('expected macro name');
    this.advance();
    const loc = this.from(start.loc);
    this.expect('(');
    const params: (A.Variable | A.MapRef | A.Identifier)[] = [];
    if (!this.at(')')) {
      for (;;) {
        const p = this.current();
        if (p.kind === 'Variable') params.push({ kind: 'Variable', loc: p.loc, name: p.text });
        else if (p.kind === 'Map') params.push({ kind: 'Map', loc: p.loc, name: p.text });
        else if (p.kind === 'Ident' && isBuiltin(p.text)) this.fail(`builtin '${p.text}' can't be used as a macro argument`, p.loc);
        else if (p.kind === 'Ident') params.push({ kind: 'Identifier', loc: p.loc, name: p.text });
        else this.fail('expected macro argument ($var, @map, or identifier)');
        this.advance();
        if (!this.at(',')) break;
        this.advance();
      }
    }
    this.expect(')');
    const block = this.parseBlock('attach');
    return { kind: 'MacroDef', loc, name: nameTok.text, params, block };
  }

  private parseProbe(): A.Probe {
    this.sawProbe = true;
    const first = this.current();
    let name: string | undefined;
    const attachPoints: A.AttachPoint[] = [];
    const label = /^([A-Za-z_]\w*)=(.+)$/s.exec(first.text);
    if (label && first.loc.line === first.loc.endLine) {
      name = label[1]!;
      const skip = name.length + 1;
      const loc = { ...first.loc, col: first.loc.col + skip };
      attachPoints.push(makeAttachPoint(label[2]!, loc));
    } else {
      attachPoints.push(makeAttachPoint(first.text, first.loc));
    }
    this.advance();
    while (this.at(',')) {
      this.advance('attach');
      // A trailing comma before the predicate or block is allowed.
      if (this.at('/') || this.at('{')) break;
      const t = this.current();
      if (t.kind !== 'AttachPoint') this.fail('expected attach point');
      attachPoints.push(makeAttachPoint(t.text, t.loc));
      this.advance();
    }
    const loc = spanLoc(first.loc, attachPoints[attachPoints.length - 1]!.loc);

    let predicate: A.Expr | undefined;
    if (this.at('/')) {
      this.advance();
      predicate = this.parseExpr();
      if (!this.at('/')) this.fail("expected '/' to close predicate");
      this.advance();
    }
    const block = this.parseBlock('attach');
    return { kind: 'Probe', loc, ...(name !== undefined ? { name } : {}), attachPoints, ...(predicate ? { predicate } : {}), block };
  }

  // -------------------------------------------------------------------------------------------
  // Statements

  /** `{ stmt; stmt }`; `after` is how to scan the token after the closing brace. */
  private parseBlock(after: LexMode): A.Block {
    if (!this.at('{')) this.fail("expected '{'");
    this.enter();
    const open = this.advance();
    const stmts: A.Stmt[] = [];
    for (;;) {
      this.checkpoint();
      if (this.at('}')) break;
      if (this.at('EOF')) this.fail("expected '}'");
      if (this.at(';')) {
        this.advance();
        continue;
      }
      stmts.push(this.parseStatement());
    }
    this.advance(after);
    this.leave();
    return { kind: 'Block', loc: this.from(open.loc), stmts };
  }

  /** After a simple statement: `;`, or nothing before `}`. */
  private endStatement(): void {
    if (this.at(';')) this.advance();
    else if (!this.at('}')) this.fail("expected ';'");
  }

  private parseStatement(): A.Stmt {
    const t = this.current();
    if (t.kind === 'Directive' || t.kind === 'CDefinition') this.fail('C definitions must appear before probes and functions', t.loc);
    if (t.kind === '{') return this.parseBlock('code');
    if (t.kind === 'Ident') {
      switch (t.text) {
        case 'if':
          return this.parseIf();
        case 'while': {
          this.advance();
          const cond = this.parseCondition();
          const body = this.parseBlock('code');
          return { kind: 'While', loc: this.from(t.loc), cond, body };
        }
        case 'unroll': {
          this.advance();
          const count = this.parseCondition();
          const body = this.parseBlock('code');
          return { kind: 'Unroll', loc: this.from(t.loc), count, body };
        }
        case 'for':
          return this.parseFor();
        case 'let':
          return this.parseLet();
        case 'return': {
          this.advance();
          if (this.at(';') || this.at('}')) {
            const loc = this.from(t.loc);
            this.endStatement();
            return { kind: 'Return', loc };
          }
          const value = this.parseExpr();
          const loc = this.from(t.loc);
          this.endStatement();
          return { kind: 'Return', loc, value };
        }
        case 'break':
        case 'continue': {
          this.advance();
          const loc = this.from(t.loc);
          this.endStatement();
          return { kind: t.text === 'break' ? 'Break' : 'Continue', loc };
        }
        case '_':
          if (this.peekKind() === '=') {
            this.advance();
            this.advance();
            const expr = this.parseExpr();
            const loc = this.from(t.loc);
            this.endStatement();
            return { kind: 'ExprStmt', loc, expr, discard: true };
          }
          break;
      }
    }

    const expr = this.parseExpr();
    const opTok = this.current();
    if (opTok.kind === '=' || COMPOUND_ASSIGN_OPS.has(opTok.kind)) {
      if (expr.kind === 'TupleAccess' || expr.kind === 'FieldAccess') {
        this.advance();
        this.parseExpr();
        this.fail(IMMUTABLE_MESSAGE, this.from(t.loc));
      }
      if (expr.kind !== 'Variable' && expr.kind !== 'Map' && expr.kind !== 'MapAccess') {
        this.fail('invalid assignment target', expr.loc);
      }
      this.advance();
      const value = this.parseExpr();
      const loc = this.from(t.loc);
      this.endStatement();
      return { kind: 'Assign', loc, op: opTok.kind as A.AssignOp, target: expr, value };
    }
    const loc = this.from(t.loc);
    this.endStatement();
    return { kind: 'ExprStmt', loc, expr, discard: false };
  }

  /** The condition of `if`/`while`/`unroll`: `(expr)`, or a unary expression without parentheses. */
  private parseCondition(): A.Expr {
    if (this.at('(')) {
      this.enter();
      this.advance();
      const e = this.parseExpr();
      this.expect(')');
      this.leave();
      return e;
    }
    return this.parseUnary();
  }

  /**
   * `if c {} else if c2 {} ... else {}`: read in a loop and built into nested If nodes from the
   * end; a chain of more than MAX_EXPRESSION_DEPTH branches is refused (the compiler recurses
   * into each `else if`).
   */
  private parseIf(): A.If {
    const arms: { start: Token; cond: A.Expr; then: A.Block }[] = [];
    let otherwise: A.Block | undefined;
    for (;;) {
      const start = this.advance();
      const cond = this.parseCondition();
      const then = this.parseBlock('code');
      arms.push({ start, cond, then });
      if (!this.isIdent('else')) break;
      this.advance();
      if (this.isIdent('if')) continue;
      if (this.at('{')) otherwise = this.parseBlock('code');
      else this.fail("expected '{' or 'if' after 'else'");
      break;
    }
    const end = this.prev.loc;
    if (arms.length > MAX_EXPRESSION_DEPTH) {
      this.diags.push(errorAt(`if/else if chain too long: ${arms.length} branches (the limit is ${MAX_EXPRESSION_DEPTH})`, spanLoc(arms[0]!.start.loc, end), { code: 'nesting' }));
    }
    let node: A.If | A.Block | undefined = otherwise;
    for (let i = arms.length - 1; i >= 0; i--) {
      const arm = arms[i]!;
      node = { kind: 'If', loc: spanLoc(arm.start.loc, end), cond: arm.cond, then: arm.then, ...(node ? { else: node } : {}) };
    }
    return node as A.If;
  }

  /**
   * `if c { a } else { b }` where a value is wanted: a ternary over two block expressions (an
   * `else if` nests another); without `else` the other value is an empty block's.
   */
  private parseIfExpr(): A.Expr {
    const start = this.advance();
    this.enter();
    const cond = this.parseCondition();
    const thenBlock = this.parseBlock('code');
    let otherwise: A.Expr;
    if (this.isIdent('else')) {
      this.advance();
      if (this.isIdent('if')) otherwise = this.parseIfExpr();
      else {
        const b = this.parseBlock('code');
        otherwise = { kind: 'BlockExpr', loc: b.loc, block: b };
      }
    } else {
      otherwise = { kind: 'BlockExpr', loc: this.prev.loc, block: { kind: 'Block', loc: this.prev.loc, stmts: [] } };
    }
    this.leave();
    return { kind: 'Ternary', loc: this.from(start.loc), cond, then: { kind: 'BlockExpr', loc: thenBlock.loc, block: thenBlock }, else: otherwise };
  }

  private parseFor(): A.ForMap | A.ForRange {
    const start = this.advance();
    const paren = this.at('(');
    if (paren) this.advance();
    const v = this.current();
    if (v.kind !== 'Variable') this.fail('expected variable in for loop');
    this.advance();
    const variable: A.Variable = { kind: 'Variable', loc: v.loc, name: v.text };
    this.expect(':');
    const first = this.parseUnary();
    if (this.at('..')) {
      this.advance();
      const end = this.parseUnary();
      if (paren) this.expect(')');
      const body = this.parseBlock('code');
      return { kind: 'ForRange', loc: this.from(start.loc), variable, start: first, end, body };
    }
    if (paren) this.expect(')');
    if (first.kind !== 'Map') this.fail('expected map or range in for loop', first.loc);
    const body = this.parseBlock('code');
    return { kind: 'ForMap', loc: this.from(start.loc), variable, map: first, body };
  }

  private parseLet(): A.Let {
    const start = this.advance();
    const v = this.current();
    if (v.kind !== 'Variable') this.fail("expected variable after 'let'");
    this.advance();
    const variable: A.Variable = { kind: 'Variable', loc: v.loc, name: v.text };
    let type: A.TypeSpec | undefined;
    let init: A.Expr | undefined;
    if (this.at(':')) {
      this.advance();
      type = this.parseType(true);
    }
    if (this.at('=')) {
      this.advance();
      init = this.parseExpr();
    }
    const loc = this.from(start.loc);
    this.endStatement();
    return { kind: 'Let', loc, variable, ...(type ? { type } : {}), ...(init ? { init } : {}) };
  }

  // -------------------------------------------------------------------------------------------
  // Expressions

  parseExpr(): A.Expr {
    return this.parseTernary();
  }

  private parseTernary(): A.Expr {
    const cond = this.parseBinary(1);
    if (!this.at('?')) return cond;
    this.enter();
    this.advance();
    if (this.at(':')) {
      this.advance();
      const otherwise = this.parseTernary();
      this.leave();
      return { kind: 'Ternary', loc: this.from(cond.loc), cond, else: otherwise };
    }
    const then = this.parseTernary();
    this.expect(':');
    const otherwise = this.parseTernary();
    this.leave();
    return { kind: 'Ternary', loc: this.from(cond.loc), cond, then, else: otherwise };
  }

  private parseBinary(minPrecedence: number): A.Expr {
    let left = this.parseUnary();
    for (;;) {
      const op = this.tok.kind;
      const precedence = BINARY_PRECEDENCE.get(op);
      if (precedence === undefined || precedence < minPrecedence) break;
      // `/` followed by `{` closes a predicate; it is not a division.
      if (op === '/' && this.peekKind() === '{') break;
      this.advance();
      const right = this.parseBinary(precedence + 1);
      left = { kind: 'Binary', loc: spanLoc(left.loc, right.loc), op: op as A.BinaryOp, left, right };
    }
    return left;
  }

  private parseUnary(): A.Expr {
    const t = this.current();
    if (t.kind === '++' || t.kind === '--') {
      this.enter();
      this.advance();
      const operand = this.parseUnary();
      if (operand.kind !== 'Variable' && operand.kind !== 'Map' && operand.kind !== 'MapAccess') {
        this.fail('increment/decrement requires a variable or map', operand.loc);
      }
      this.leave();
      return { kind: 'Unary', loc: this.from(t.loc), op: t.kind, operand, prefix: true };
    }
    if (t.kind === '&') {
      this.advance();
      const target = this.current();
      if (target.kind !== 'Variable' && target.kind !== 'Map') this.fail('address-of operator (&) can only be used on a map or variable');
      this.advance();
      const operand: A.Expr = target.kind === 'Variable' ? { kind: 'Variable', loc: target.loc, name: target.text } : { kind: 'Map', loc: target.loc, name: target.text };
      return { kind: 'Unary', loc: this.from(t.loc), op: '&', operand, prefix: true };
    }
    if (t.kind === '!' || t.kind === '~' || t.kind === '-' || t.kind === '*') {
      this.enter();
      this.advance();
      const operand = this.parseUnary();
      this.leave();
      return { kind: 'Unary', loc: this.from(t.loc), op: t.kind, operand, prefix: true };
    }
    return this.parsePostfix(this.parsePrimary());
  }

  private parsePostfix(expr: A.Expr): A.Expr {
    let e = expr;
    for (;;) {
      const t = this.current();
      if (t.kind === '.') {
        this.advance();
        const f = this.current();
        if (f.kind === 'Int') {
          this.advance();
          e = { kind: 'TupleAccess', loc: this.from(e.loc), object: e, index: Number(f.value) };
        } else if (f.kind === 'Ident') {
          this.advance();
          e = { kind: 'FieldAccess', loc: this.from(e.loc), object: e, field: f.text, arrow: false };
        } else {
          this.fail("expected field name after '.'");
        }
      } else if (t.kind === '->') {
        this.advance();
        const f = this.current();
        if (f.kind !== 'Ident') this.fail("expected field name after '->'");
        this.advance();
        e = { kind: 'FieldAccess', loc: this.from(e.loc), object: e, field: f.text, arrow: true };
      } else if (t.kind === '[') {
        this.enter();
        this.advance();
        const index = this.parseExpr();
        this.expect(']');
        this.leave();
        e = { kind: 'Index', loc: this.from(e.loc), object: e, index };
      } else if (t.kind === '++' || t.kind === '--') {
        if (e.kind !== 'Variable' && e.kind !== 'Map' && e.kind !== 'MapAccess') this.fail('increment/decrement requires a variable or map', t.loc);
        this.advance();
        e = { kind: 'Unary', loc: this.from(e.loc), op: t.kind, operand: e, prefix: false };
      } else {
        return e;
      }
    }
  }

  private parsePrimary(): A.Expr {
    const t = this.current();
    switch (t.kind) {
      case 'Int':
        this.advance();
        return { kind: 'Int', loc: t.loc, value: t.value, raw: t.text };
      case 'String':
        this.advance();
        return { kind: 'String', loc: t.loc, value: t.value };
      case 'Variable':
        this.advance();
        return { kind: 'Variable', loc: t.loc, name: t.text };
      case 'Positional':
        this.advance();
        return { kind: 'Positional', loc: t.loc, index: t.index };
      case 'PositionalCount':
        this.advance();
        return { kind: 'PositionalCount', loc: t.loc };
      case 'Map':
        return this.parseMap();
      case '(':
        return this.parseParen();
      case 'Ident':
        return this.parseWord();
      case '{': {
        const block = this.parseBlock('code');
        return { kind: 'BlockExpr', loc: block.loc, block };
      }
      default:
        return this.fail('expected expression');
    }
  }

  private parseMap(): A.MapRef | A.MapAccess {
    const t = this.advance();
    const map: A.MapRef = { kind: 'Map', loc: t.loc, name: t.text };
    if (!this.at('[')) return map;
    this.enter();
    this.advance();
    const keys = [this.parseExpr()];
    while (this.at(',')) {
      this.advance();
      keys.push(this.parseExpr());
    }
    this.expect(']');
    this.leave();
    const key: A.Expr = keys.length > 1 ? { kind: 'Tuple', loc: spanLoc(keys[0]!.loc, keys[keys.length - 1]!.loc), elements: keys } : keys[0]!;
    return { kind: 'MapAccess', loc: this.from(t.loc), map, key };
  }

  private parseWord(): A.Expr {
    const t = this.current();
    const name = t.text;
    if (name === 'true' || name === 'false') {
      this.advance();
      return { kind: 'Bool', loc: t.loc, value: name === 'true' };
    }
    if (name === 'if') return this.parseIfExpr();
    if (name === 'typeof' && this.peekKind() === '(') {
      const type = this.parseType(true)!;
      return { kind: 'TypeExpr', loc: type.loc, type };
    }
    if (name === 'sizeof') return this.parseSizeof();
    if (name === 'offsetof') return this.parseOffsetof();
    if (KEYWORDS.has(name) && name !== 'config') this.fail('expected expression');
    this.advance();
    if (this.at('(')) {
      this.enter();
      this.advance();
      const args: A.Expr[] = [];
      if (!this.at(')')) {
        args.push(this.parseExpr());
        while (this.at(',')) {
          this.advance();
          args.push(this.parseExpr());
        }
      }
      this.expect(')');
      this.leave();
      return { kind: 'Call', loc: this.from(t.loc), name, args };
    }
    if (isBuiltin(name)) return { kind: 'Builtin', loc: t.loc, name };
    return { kind: 'Identifier', loc: t.loc, name };
  }

  /** `(...)`: empty tuple, record, cast, grouping or tuple. */
  private parseParen(): A.Expr {
    this.enter();
    const e = this.parseParenContents();
    this.leave();
    return e;
  }

  private parseParenContents(): A.Expr {
    const open = this.advance();
    if (this.at(')')) {
      this.advance();
      return { kind: 'Tuple', loc: this.from(open.loc), elements: [] };
    }
    if (this.at('Ident') && !isBuiltin(this.tok.text) && this.peekKind() === '=') return this.parseRecord(open);
    const cast = this.tryCast(open);
    if (cast) return cast;

    const first = this.parseExpr();
    if (!this.at(',')) {
      this.expect(')');
      return first;
    }
    const elements = [first];
    this.advance();
    while (!this.at(')')) {
      elements.push(this.parseExpr());
      if (!this.at(',')) break;
      this.advance();
    }
    this.expect(')');
    return { kind: 'Tuple', loc: this.from(open.loc), elements };
  }

  private parseRecord(open: Token): A.RecordLit {
    const fields: A.RecordField[] = [];
    const seen = new Set<string>();
    for (;;) {
      const nameTok = this.current();
      if (nameTok.kind !== 'Ident') this.fail('expected identifier');
      this.advance();
      this.expect('=');
      const value = this.parseExpr();
      const loc = this.from(nameTok.loc);
      if (seen.has(nameTok.text)) this.fail(`Named argument list already contains name: ${nameTok.text}`, loc);
      seen.add(nameTok.text);
      fields.push({ loc, name: nameTok.text, value });
      if (!this.at(',')) break;
      this.advance();
    }
    this.expect(')');
    return { kind: 'Record', loc: this.from(open.loc), fields };
  }

  /** `(type) expr`: only if a type, `)`, and something that can start an expression follow. */
  private tryCast(open: Token): A.Cast | undefined {
    if (!this.at('Ident') || isBuiltin(this.tok.text)) return undefined;
    const s = this.save();
    let type: A.TypeSpec | undefined;
    try {
      type = this.parseType(false);
      if (type && this.at(')')) {
        this.advance();
        if (!canStartExpression(this.tok)) type = undefined;
      } else {
        type = undefined;
      }
    } catch (e) {
      if (!(e instanceof ParseAbort)) throw e;
      type = undefined;
    }
    if (!type) {
      this.restore(s);
      return undefined;
    }
    const operand = this.parseUnary();
    return { kind: 'Cast', loc: this.from(open.loc), type, operand };
  }

  /**
   * A C type: `name`, `struct name` (union, enum), then any of `*` and `[N]`/`[]`. Without
   * `required`, returns undefined instead of failing when no type starts here.
   */
  private parseType(required: boolean): A.TypeSpec | undefined {
    const start = this.current();
    if (start.kind !== 'Ident') return required ? this.fail('expected type name') : undefined;
    let type: A.TypeSpec;
    this.advance();
    if (start.text === 'typeof' && this.at('(')) {
      // `typeof(type)` or `typeof(expr)`, read as sizeof's operand is
      this.enter();
      const inner = this.parseSizeofContents(start);
      this.leave();
      type = { kind: 'TypeofType', loc: inner.loc, ...(inner.type ? { type: inner.type } : {}), ...(inner.expr ? { expr: inner.expr } : {}) };
    } else if (TAGS.has(start.text)) {
      const nameTok = this.current();
      if (nameTok.kind !== 'Ident') return required ? this.fail('expected identifier') : undefined;
      this.advance();
      type = { kind: 'TaggedType', loc: this.from(start.loc), tag: start.text as A.TaggedType['tag'], name: nameTok.text };
    } else {
      type = { kind: 'NamedType', loc: start.loc, name: start.text };
    }
    for (;;) {
      if (this.at('*')) {
        this.advance();
        type = { kind: 'PointerType', loc: this.from(start.loc), to: type };
      } else if (this.at('[')) {
        this.advance();
        let size: number | undefined;
        const n = this.current();
        if (n.kind === 'Int') {
          size = Number(n.value);
          this.advance();
        }
        this.expect(']');
        type = { kind: 'ArrayType', loc: this.from(start.loc), of: type, ...(size !== undefined ? { size } : {}) };
      } else {
        return type;
      }
    }
  }

  private parseSizeof(): A.Sizeof {
    const start = this.advance();
    if (!this.at('(')) this.fail("expected '('");
    this.enter();
    const node = this.parseSizeofContents(start);
    this.leave();
    return node;
  }

  private parseSizeofContents(start: Token): A.Sizeof {
    this.advance();
    if (this.at('Ident') && !isBuiltin(this.tok.text)) {
      const s = this.save();
      try {
        const type = this.parseType(false);
        // A bare unknown name is an expression (an identifier) rather than a typedef.
        const isType = type !== undefined && (type.kind !== 'NamedType' || BUILTIN_TYPES.has(type.name));
        if (isType && this.at(')')) {
          this.advance();
          return { kind: 'Sizeof', loc: this.from(start.loc), type };
        }
      } catch (e) {
        if (!(e instanceof ParseAbort)) throw e;
      }
      this.restore(s);
    }
    const expr = this.parseExpr();
    this.expect(')');
    return { kind: 'Sizeof', loc: this.from(start.loc), expr };
  }

  private parseOffsetof(): A.Offsetof {
    const start = this.advance();
    if (!this.at('(')) this.fail("expected '('");
    this.enter();
    this.advance();
    const node: Mutable<A.Offsetof> = { kind: 'Offsetof', loc: start.loc, fields: [] };
    if (this.at('Ident') && TAGS.has(this.tok.text)) node.type = this.parseType(true)!;
    else node.expr = this.parseExpr();
    this.expect(',');
    const fields: string[] = [];
    for (;;) {
      const f = this.current();
      if (f.kind !== 'Ident') this.fail('expected identifier');
      fields.push(f.text);
      this.advance();
      if (!this.at('.')) break;
      this.advance();
    }
    this.expect(')');
    this.leave();
    node.fields = fields;
    node.loc = this.from(start.loc);
    return node;
  }
}

function canStartExpression(t: Token): boolean {
  switch (t.kind) {
    case 'Int':
    case 'String':
    case 'Variable':
    case 'Map':
    case 'Positional':
    case 'PositionalCount':
    case 'Ident':
    case '(':
    case '-':
    case '!':
    case '~':
    case '*':
    case '&':
    case '++':
    case '--':
      return true;
    default:
      return false;
  }
}

/** Split raw attach point text on `:` outside double quotes; quotes are removed, `\"` and `\\` unescaped. */
export function splitAttachPoint(raw: string): string[] {
  const fields: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i]!;
    if (quoted) {
      if (ch === '\\' && (raw[i + 1] === '"' || raw[i + 1] === '\\')) cur += raw[++i];
      else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') {
      quoted = true;
    } else if (ch === ':') {
      fields.push(cur);
      cur = '';
    } else {
      cur += ch;
    }
  }
  fields.push(cur);
  return fields;
}

function makeAttachPoint(raw: string, loc: Loc): A.AttachPoint {
  const [provider, ...parts] = splitAttachPoint(raw);
  return { kind: 'AttachPoint', loc, raw, provider: provider ?? '', parts };
}

// -----------------------------------------------------------------------------------------------
// A compact printed form of the tree, for tests and `-d ast`-style dumps. Expressions are
// S-expressions (`(+ 1 (* 2 3))`), calls and postfix operators read like the source
// (`hist((- nsecs @start[tid]))`, `args.filename`, `x->f`), statements are `(= @x v)`,
// `(if c { ... } else { ... })`, blocks `{ s1; s2 }`.

export function printType(t: A.TypeSpec): string {
  switch (t.kind) {
    case 'NamedType':
      return t.name;
    case 'TaggedType':
      return `${t.tag} ${t.name}`;
    case 'PointerType':
      return printType(t.to) + (t.to.kind === 'PointerType' ? '*' : ' *');
    case 'ArrayType':
      return `${printType(t.of)}[${t.size ?? ''}]`;
    case 'TypeofType':
      return `typeof(${t.type ? printType(t.type) : t.expr ? printExpr(t.expr) : ''})`;
  }
}

function printExpr(e: A.Expr): string {
  switch (e.kind) {
    case 'Int':
      return e.value.toString();
    case 'String':
      return JSON.stringify(e.value);
    case 'Bool':
      return String(e.value);
    case 'Builtin':
    case 'Variable':
    case 'Map':
      return e.name;
    case 'Identifier':
      return `(ident ${e.name})`;
    case 'Positional':
      return `$${e.index}`;
    case 'PositionalCount':
      return '$#';
    case 'MapAccess':
      return `${e.map.name}[${printExpr(e.key)}]`;
    case 'Call':
      return `${e.name}(${e.args.map(printExpr).join(', ')})`;
    case 'Binary':
      return `(${e.op} ${printExpr(e.left)} ${printExpr(e.right)})`;
    case 'Unary':
      if (e.op === '++' || e.op === '--') return `(${e.prefix ? 'pre' : 'post'}${e.op} ${printExpr(e.operand)})`;
      return `(${e.op} ${printExpr(e.operand)})`;
    case 'Ternary':
      return e.then ? `(? ${printExpr(e.cond)} ${printExpr(e.then)} ${printExpr(e.else)})` : `(?: ${printExpr(e.cond)} ${printExpr(e.else)})`;
    case 'FieldAccess':
      return `${printExpr(e.object)}${e.arrow ? '->' : '.'}${e.field}`;
    case 'TupleAccess':
      return `${printExpr(e.object)}.${e.index}`;
    case 'Index':
      return `${printExpr(e.object)}[${printExpr(e.index)}]`;
    case 'Cast':
      return `(cast ${printType(e.type)} ${printExpr(e.operand)})`;
    case 'Tuple':
      return `(tuple${e.elements.map((x) => ' ' + printExpr(x)).join('')})`;
    case 'Record':
      return `(record${e.fields.map((f) => ` ${f.name}=${printExpr(f.value)}`).join('')})`;
    case 'Sizeof':
      return `sizeof(${e.type ? printType(e.type) : e.expr ? printExpr(e.expr) : ''})`;
    case 'Offsetof':
      return `offsetof(${e.type ? printType(e.type) : e.expr ? printExpr(e.expr) : ''}, ${e.fields.join('.')})`;
    case 'BlockExpr':
      return printBlock(e.block);
    case 'TypeExpr':
      return printType(e.type);
  }
}

function printBlock(b: A.Block): string {
  return b.stmts.length === 0 ? '{ }' : `{ ${b.stmts.map(printStmt).join('; ')} }`;
}

function printStmt(s: A.Stmt): string {
  switch (s.kind) {
    case 'Block':
      return printBlock(s);
    case 'ExprStmt':
      return s.discard ? `(_= ${printExpr(s.expr)})` : printExpr(s.expr);
    case 'Assign':
      return `(${s.op} ${printExpr(s.target)} ${printExpr(s.value)})`;
    case 'Let':
      return `(let ${s.variable.name}${s.type ? ' : ' + printType(s.type) : ''}${s.init ? ' = ' + printExpr(s.init) : ''})`;
    case 'If':
      return `(if ${printExpr(s.cond)} ${printBlock(s.then)}${s.else ? ' else ' + (s.else.kind === 'If' ? printStmt(s.else) : printBlock(s.else)) : ''})`;
    case 'While':
      return `(while ${printExpr(s.cond)} ${printBlock(s.body)})`;
    case 'ForMap':
      return `(for ${s.variable.name} ${s.map.name} ${printBlock(s.body)})`;
    case 'ForRange':
      return `(for ${s.variable.name} ${printExpr(s.start)}..${printExpr(s.end)} ${printBlock(s.body)})`;
    case 'Unroll':
      return `(unroll ${printExpr(s.count)} ${printBlock(s.body)})`;
    case 'Return':
      return s.value ? `(return ${printExpr(s.value)})` : '(return)';
    case 'Break':
      return '(break)';
    case 'Continue':
      return '(continue)';
  }
}

function printConfigValue(v: A.ConfigValue): string {
  return v.kind === 'string' ? JSON.stringify(v.value) : String(v.value);
}

function printProbe(p: A.Probe): string {
  const aps = p.attachPoints.map((a) => a.raw).join(', ');
  const pred = p.predicate ? ` /${printExpr(p.predicate)}/` : '';
  return `${p.name !== undefined ? p.name + '=' : ''}${aps}${pred} ${printBlock(p.block)}`;
}

/** The printed form of any node; a Program prints one line per top-level item. */
export function printAst(node: A.Node): string {
  switch (node.kind) {
    case 'Program': {
      const lines: string[] = [];
      for (const d of node.defines) lines.push(printAst(d));
      for (const i of node.includes) lines.push(printAst(i));
      if (node.config.length > 0) lines.push(`config = { ${node.config.map(printAst).join('; ')} }`);
      for (const i of node.imports) lines.push(printAst(i));
      for (const c of node.cDefinitions) lines.push(printAst(c));
      for (const m of node.mapDecls) lines.push(printAst(m));
      for (const m of node.macros) lines.push(printAst(m));
      for (const p of node.probes) lines.push(printProbe(p));
      return lines.join('\n');
    }
    case 'Define':
      return `#define ${node.name}${node.params ? `(${node.params.join(', ')})` : ''} ${node.value}`;
    case 'Include':
      return node.system ? `#include <${node.path}>` : `#include "${node.path}"`;
    case 'ConfigEntry':
      return `${node.key} = ${printConfigValue(node.value)}`;
    case 'Import':
      return `import ${JSON.stringify(node.path)}`;
    case 'CDefinition':
      return node.text;
    case 'MapDecl':
      return `let ${node.name} = ${node.mapType}(${node.maxEntries})`;
    case 'MacroDef':
      return `macro ${node.name}(${node.params.map((p) => p.name).join(', ')}) ${printBlock(node.block)}`;
    case 'Probe':
      return printProbe(node);
    case 'AttachPoint':
      return node.raw;
    case 'NamedType':
    case 'TaggedType':
    case 'PointerType':
    case 'ArrayType':
    case 'TypeofType':
      return printType(node);
    case 'ExprStmt':
    case 'Assign':
    case 'Let':
    case 'If':
    case 'While':
    case 'ForMap':
    case 'ForRange':
    case 'Unroll':
    case 'Return':
    case 'Break':
    case 'Continue':
    case 'Block':
      return printStmt(node);
    default:
      return printExpr(node);
  }
}
