// The scanner: token tables for numbers, durations, strings, operators, sigils, attach points,
// comments and the small preprocessor.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { convertIntLiteral, createLexer, tokenize, type TokenizeMode } from '../../../probes/lang/lexer.js';
import { SourceFile } from '../../../probes/lang/source.js';
import type { Token } from '../../../probes/lang/tokens.js';

/** One token as a short string: `Int(16)`, `String("a")`, `Ident(pid)`, `==`, `AttachPoint(kprobe:f)`. */
function show(t: Token): string {
  switch (t.kind) {
    case 'Int':
      return `Int(${t.value})`;
    case 'String':
      return `String(${JSON.stringify(t.value)})`;
    case 'Positional':
      return `Positional(${t.index})`;
    case 'Ident':
    case 'Variable':
    case 'Map':
    case 'AttachPoint':
    case 'CDefinition':
    case 'Directive':
    case 'Invalid':
      return `${t.kind}(${t.text})`;
    case 'PositionalCount':
      return 'PositionalCount';
    case 'EOF':
      return 'EOF';
    default:
      return t.kind;
  }
}

function lex(text: string, mode: TokenizeMode = 'code', predefined?: Record<string, string>): { tokens: string[]; errors: string[] } {
  const r = tokenize(text, { mode, ...(predefined ? { predefined } : {}) });
  return {
    tokens: r.tokens.filter((t) => t.kind !== 'EOF').map(show),
    errors: r.diagnostics.map((d) => `${d.loc ? `${d.loc.line}:${d.loc.col}-${d.loc.endCol}: ` : ''}${d.message}`),
  };
}

test('integer literals: bases, separators, scientific form, C suffixes', () => {
  const table: [string, bigint][] = [
    ['0', 0n],
    ['42', 42n],
    ['0x10', 16n],
    ['0XfF', 255n],
    ['017', 15n],
    ['08', 8n],
    ['1_000_000', 1_000_000n],
    ['0x_ff', 255n],
    ['1e6', 1_000_000n],
    ['2e3', 2000n],
    ['9E2', 900n],
    ['123UL', 123n],
    ['123ul', 123n],
    ['7u', 7n],
    ['7LL', 7n],
    ['7ull', 7n],
    ['0x1fUL', 31n],
    ['18446744073709551615', 18446744073709551615n],
    ['9223372036854775807', 9223372036854775807n],
  ];
  for (const [text, value] of table) {
    const r = tokenize(text, { mode: 'code' });
    assert.deepEqual(r.diagnostics, [], text);
    const t = r.tokens[0]!;
    assert.equal(t.kind, 'Int', text);
    assert.equal(t.kind === 'Int' ? t.value : undefined, value, text);
    assert.equal(t.text, text);
    assert.equal(r.tokens[1]!.kind, 'EOF', `${text} is one token`);
  }
});

test('duration suffixes scale to nanoseconds', () => {
  const table: [string, bigint][] = [
    ['7ns', 7n],
    ['10us', 10_000n],
    ['5ms', 5_000_000n],
    ['1s', 1_000_000_000n],
    ['1m', 60_000_000_000n],
    ['2h', 7_200_000_000_000n],
    ['1d', 86_400_000_000_000n],
    ['1_500ms', 1_500_000_000n],
    ['1e3us', 1_000_000n],
  ];
  for (const [text, value] of table) assert.deepEqual(lex(text), { tokens: [`Int(${value})`], errors: [] }, text);
});

test('bad integer literals: bpftrace messages, located on the literal', () => {
  const table: [string, string][] = [
    ['12e3', '1:1-5: syntax: coefficient part of scientific literal must be 1-9: 12e3'],
    ['5min', "1:3-5: syntax: invalid integer suffix 'in'"],
    ['10xyz', "1:3-6: syntax: invalid integer suffix 'xyz'"],
    ['99999999999999999999', '1:1-21: syntax: overflow error, maximum value is 18446744073709551615: 99999999999999999999'],
    ['5000000000u', '1:1-12: syntax: overflow error, maximum value is 4294967295: 5000000000u'],
    ['9223372036854775808l', '1:1-21: syntax: overflow error, maximum value is 9223372036854775807: 9223372036854775808l'],
    ['0x', '1:1-3: syntax: invalid integer: '],
    ['1_', '1:2-3: syntax: trailing underscore in integer literal'],
    ['0128', '1:1-5: syntax: invalid trailing bytes: 128'],
    ['1e0', '1:1-4: syntax: invalid trailing bytes: 1e0'],
    ['30000000000d', '1:1-13: syntax: overflow error, maximum value is 18446744073709551615: 30000000000d'],
  ];
  for (const [text, error] of table) {
    const r = lex(text);
    assert.deepEqual(r.errors, [error], text);
    assert.deepEqual(r.tokens, ['Int(0)'], `${text}: one Int token with value 0`);
  }
});

test('convertIntLiteral is the number conversion on its own', () => {
  assert.deepEqual(convertIntLiteral('1_000'), { ok: true, value: 1000n });
  assert.deepEqual(convertIntLiteral('0x10'), { ok: true, value: 16n });
  assert.deepEqual(convertIntLiteral('3ms'), { ok: true, value: 3_000_000n });
  assert.deepEqual(convertIntLiteral('1x'), { ok: false, message: 'invalid trailing bytes: 1x' });
});

test('string literals and their escapes', () => {
  const table: [string, string][] = [
    ['""', ''],
    ['"hello world"', 'hello world'],
    ['"a\\nb"', 'a\nb'],
    ['"tab\\there"', 'tab\there'],
    ['"cr\\r"', 'cr\r'],
    ['"q\\"q"', 'q"q'],
    ['"back\\\\slash"', 'back\\slash'],
    ['"\\0"', '\0'],
    ['"\\101\\102"', 'AB'],
    ['"\\0101"', '\x081'],
    ['"\\x41\\x4a"', 'AJ'],
    ['"\\xff"', '\xff'],
    ['"\\x7g"', '\x07g'],
    ['"%-6d %s\\n"', '%-6d %s\n'],
  ];
  for (const [text, value] of table) assert.deepEqual(lex(text), { tokens: [`String(${JSON.stringify(value)})`], errors: [] }, text);
});

test('bad strings: unterminated, bad escapes', () => {
  assert.deepEqual(lex('"abc'), { tokens: ['String("abc")'], errors: ['1:1-5: syntax: unterminated string'] });
  assert.deepEqual(lex('"abc\nx'), { tokens: ['String("abc")', 'Ident(x)'], errors: ['1:1-5: syntax: unterminated string'] });
  assert.deepEqual(lex('"a\\qb"'), { tokens: ['String("ab")'], errors: ["1:3-5: syntax: invalid escape character '\\q'"] });
  assert.deepEqual(lex('"\\xzz"'), { tokens: ['String("zz")'], errors: ['1:2-4: syntax: invalid hex escape sequence'] });
  assert.deepEqual(lex('"\\777"').errors, ["1:2-6: syntax: octal escape sequence out of range '\\777'"]);
});

test('operators: longest match first', () => {
  const table: [string, string[]][] = [
    ['== != <= >= << >> && ||', ['==', '!=', '<=', '>=', '<<', '>>', '&&', '||']],
    ['++ -- += -= *= /= %= &= |= ^= <<= >>=', ['++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<=', '>>=']],
    ['-> ? : .. . , ; ( ) [ ] { }', ['->', '?', ':', '..', '.', ',', ';', '(', ')', '[', ']', '{', '}']],
    ['+ - * / % & | ^ ! ~ < > =', ['+', '-', '*', '/', '%', '&', '|', '^', '!', '~', '<', '>', '=']],
    ['a<<=b', ['Ident(a)', '<<=', 'Ident(b)']],
    ['$x->y', ['Variable($x)', '->', 'Ident(y)']],
    ['$x--', ['Variable($x)', '--']],
    ['a---b', ['Ident(a)', '--', '-', 'Ident(b)']],
    ['0..10', ['Int(0)', '..', 'Int(10)']],
    ['$t.0', ['Variable($t)', '.', 'Int(0)']],
    ['a?:b', ['Ident(a)', '?', ':', 'Ident(b)']],
  ];
  for (const [text, tokens] of table) assert.deepEqual(lex(text), { tokens, errors: [] }, text);
});

test('identifiers, variables, maps, positional parameters', () => {
  assert.deepEqual(lex('pid _x9 $x $_y @ @start @_ $1 $12 $# arg0'), {
    tokens: ['Ident(pid)', 'Ident(_x9)', 'Variable($x)', 'Variable($_y)', 'Map(@)', 'Map(@start)', 'Map(@_)', 'Positional(1)', 'Positional(12)', 'PositionalCount', 'Ident(arg0)'],
    errors: [],
  });
  assert.deepEqual(lex('$0'), { tokens: ['Positional(0)'], errors: ['1:1-3: syntax: param $0 is out of integer range [1, 9223372036854775807]'] });
  assert.deepEqual(lex('$ x'), { tokens: ['Invalid($)', 'Ident(x)'], errors: ["1:1-2: syntax: expected identifier after '$'"] });
  assert.deepEqual(lex('a ` b').tokens, ['Ident(a)', 'Invalid(`)', 'Ident(b)']);
});

test('comments are skipped; an unterminated block comment is an error', () => {
  assert.deepEqual(lex('a // line comment\nb /* block\n comment */ c'), { tokens: ['Ident(a)', 'Ident(b)', 'Ident(c)'], errors: [] });
  assert.deepEqual(lex('a /* never closed'), { tokens: ['Ident(a)'], errors: ['1:3-5: syntax: unterminated comment'] });
});

test('token locations: 1-based lines and columns, end exclusive', () => {
  const r = tokenize('BEGIN {\n\t@x = 10;\n}', { mode: 'program' });
  const locs = r.tokens.map((t) => `${show(t)}@${t.loc.line}:${t.loc.col}-${t.loc.endLine}:${t.loc.endCol}`);
  assert.deepEqual(locs, ['AttachPoint(BEGIN)@1:1-1:6', '{@1:7-1:8', 'Map(@x)@2:2-2:4', '=@2:5-2:6', 'Int(10)@2:7-2:9', ';@2:9-2:10', '}@3:1-3:2', 'EOF@3:2-3:2']);
});

test('attach points are raw text up to whitespace, `{`, `,` or a predicate', () => {
  const table: [string, string[]][] = [
    ['BEGIN { }', ['AttachPoint(BEGIN)', '{', '}']],
    ['end{}', ['AttachPoint(end)', '{', '}']],
    ['kprobe:vfs_* { }', ['AttachPoint(kprobe:vfs_*)', '{', '}']],
    ['tracepoint:syscalls:sys_enter_open* {}', ['AttachPoint(tracepoint:syscalls:sys_enter_open*)', '{', '}']],
    ['t:block:block_rq_issue,kretprobe:vfs_read {}', ['AttachPoint(t:block:block_rq_issue)', ',', 'AttachPoint(kretprobe:vfs_read)', '{', '}']],
    ['interval:s:1, interval:1s,\n  profile:hz:99 {}', ['AttachPoint(interval:s:1)', ',', 'AttachPoint(interval:1s)', ',', 'AttachPoint(profile:hz:99)', '{', '}']],
    ['uprobe:/bin/bash:readline { }', ['AttachPoint(uprobe:/bin/bash:readline)', '{', '}']],
    ['uprobe:./a.out:main { }', ['AttachPoint(uprobe:./a.out:main)', '{', '}']],
    ['kprobe:lookup_fast.constprop.* {}', ['AttachPoint(kprobe:lookup_fast.constprop.*)', '{', '}']],
    ['kprobe:do_sys_open+16 {}', ['AttachPoint(kprobe:do_sys_open+16)', '{', '}']],
    ['software:cpu-clock:1e6 {}', ['AttachPoint(software:cpu-clock:1e6)', '{', '}']],
    ['i:ms:$1 {}', ['AttachPoint(i:ms:$1)', '{', '}']],
    ['uprobe:bin:cpp:"ns::f" {}', ['AttachPoint(uprobe:bin:cpp:"ns::f")', '{', '}']],
    ['kprobe:f /pid/ {}', ['AttachPoint(kprobe:f)', '/', 'Ident(pid)', '/', '{', '}']],
    ['kprobe:f/arg2 < 16/{}', ['AttachPoint(kprobe:f)', '/', 'Ident(arg2)', '<', 'Int(16)', '/', '{', '}']],
    ['BEGIN/1/{}', ['AttachPoint(BEGIN)', '/', 'Int(1)', '/', '{', '}']],
    ['BEGIN// comment\n{}', ['AttachPoint(BEGIN)', '{', '}']],
    ['BEGIN/* c */{}', ['AttachPoint(BEGIN)', '{', '}']],
  ];
  for (const [text, tokens] of table) assert.deepEqual(lex(text, 'program'), { tokens, errors: [] }, text);
  // The probe listing pattern of `bpftrace -l` is one attach point.
  assert.deepEqual(lex('tracepoint:syscalls:sys_enter_*', 'attach').tokens, ['AttachPoint(tracepoint:syscalls:sys_enter_*)']);
});

test('program mode: declarations and blocks are code, top level is attach points', () => {
  assert.deepEqual(lex('config = { max_map_keys = 8 } let @a = hash(10); macro m($x) { $x } kprobe:f { @a[1] = 2 / 3 }', 'program').tokens, [
    'Ident(config)', '=', '{', 'Ident(max_map_keys)', '=', 'Int(8)', '}',
    'Ident(let)', 'Map(@a)', '=', 'Ident(hash)', '(', 'Int(10)', ')', ';',
    'Ident(macro)', 'Ident(m)', '(', 'Variable($x)', ')', '{', 'Variable($x)', '}',
    'AttachPoint(kprobe:f)', '{', 'Map(@a)', '[', 'Int(1)', ']', '=', 'Int(2)', '/', 'Int(3)', '}',
  ]);
  assert.deepEqual(lex('struct x { int a; }; BEGIN {}', 'program').tokens, ['CDefinition(struct x { int a; };)', 'AttachPoint(BEGIN)', '{', '}']);
});

test('preprocessor: #define substitutes, #include is recorded, conditionals select lines', () => {
  const text = [
    '#!/usr/bin/env bpftrace',
    '#ifndef BPFTRACE_HAVE_BTF',
    '#include <linux/sched.h>',
    '#else',
    '  #define TASK_RUNNING 0',
    '#endif',
    '#include <linux/blkdev.h>',
    '#define TWICE (2 * TASK_RUNNING) // comment',
    'BEGIN { @ = TWICE; }',
  ].join('\n');
  const r = tokenize(text);
  assert.equal(r.shebang, '#!/usr/bin/env bpftrace');
  assert.deepEqual(r.diagnostics, []);
  assert.deepEqual(
    r.tokens.map(show),
    ['Directive(#define TASK_RUNNING 0)', 'Directive(#include <linux/blkdev.h>)', 'Directive(#define TWICE (2 * TASK_RUNNING) // comment)', 'AttachPoint(BEGIN)', '{', 'Map(@)', '=', '(', 'Int(2)', '*', 'Int(0)', ')', ';', '}', 'EOF'],
  );
  const directives = r.tokens.flatMap((t) => (t.kind === 'Directive' ? [t.directive] : []));
  assert.deepEqual(directives, [
    { kind: 'define', name: 'TASK_RUNNING', value: '0' },
    { kind: 'include', path: 'linux/blkdev.h', system: true },
    { kind: 'define', name: 'TWICE', value: '(2 * TASK_RUNNING)' },
  ]);
  // Expanded tokens carry the use site's location and the macro's name.
  const two = r.tokens.find((t) => t.kind === 'Int' && t.value === 2n)!;
  assert.equal(two.macro, 'TWICE');
  assert.deepEqual(two.loc, { line: 9, col: 13, endLine: 9, endCol: 18 });
});

test('preprocessor: without BTF the other branch is taken; #if expressions', () => {
  const text = '#ifndef BPFTRACE_HAVE_BTF\n#define X 1\n#else\n#define X 2\n#endif\nX';
  assert.deepEqual(lex(text, 'code', {}).tokens, ['Directive(#define X 1)', 'Int(1)']);
  assert.deepEqual(lex(text).tokens, ['Directive(#define X 2)', 'Int(2)']);
  const ifs = '#if defined(A) && A > 1\nbig\n#elif defined A\nsmall\n#else\nnone\n#endif';
  assert.deepEqual(lex(ifs, 'code', { A: '2' }).tokens, ['Ident(big)']);
  assert.deepEqual(lex(ifs, 'code', { A: '1' }).tokens, ['Ident(small)']);
  assert.deepEqual(lex(ifs, 'code', {}).tokens, ['Ident(none)']);
  assert.deepEqual(lex('#if 0\n#if 1\nx\n#endif\ny\n#endif\nz').tokens, ['Ident(z)']);
  // Self-reference does not loop; function-like macros are recorded but not substituted.
  assert.deepEqual(lex('#define A A + 1\n#define F(x) x\nA F(1)').tokens, [
    'Directive(#define A A + 1)', 'Directive(#define F(x) x)', 'Ident(A)', '+', 'Int(1)', 'Ident(F)', '(', 'Int(1)', ')',
  ]);
  assert.deepEqual(lex('#define EMPTY\nEMPTY x').tokens, ['Directive(#define EMPTY)', 'Ident(x)']);
});

test('preprocessor errors', () => {
  assert.deepEqual(lex('#ifdef X\nx').errors, ['1:1-9: unterminated conditional directive']);
  assert.deepEqual(lex('#endif').errors, ['1:1-7: #endif without #if']);
  assert.deepEqual(lex('#else').errors, ['1:1-6: #else without #if']);
  assert.deepEqual(lex('#if 1 +\n#endif').errors, ['1:1-8: invalid preprocessor expression: 1 +']);
});

test('save/restore rewinds position, pending macro tokens and diagnostics', () => {
  const lexer = createLexer(new SourceFile('stdin', '#define P (1, 2)\nP 5x'));
  assert.equal(lexer.next('attach').kind, 'Directive');
  assert.equal(lexer.next().kind, '(');
  const saved = lexer.save();
  const ahead = [lexer.next(), lexer.next(), lexer.next(), lexer.next(), lexer.next()].map(show);
  assert.deepEqual(ahead, ['Int(1)', ',', 'Int(2)', ')', 'Int(0)']);
  assert.equal(lexer.diagnostics().length, 1);
  lexer.restore(saved);
  assert.equal(lexer.diagnostics().length, 0);
  assert.deepEqual([lexer.next(), lexer.next()].map(show), ['Int(1)', ',']);
});
