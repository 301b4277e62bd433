// Diagnostics as full rendered text, bpftrace style: the renderer on its own, then the syntax
// errors the lexer and parser report.
import { test } from 'node:test';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import assert from 'node:assert/strict';
import { errorAt, hasErrors, printableText, renderDiagnostic, renderDiagnostics, warningAt } from '../../../probes/lang/diagnostics.js';
import { excerptLines } from '../excerpt.js';
import { parse } from '../../../probes/lang/parser.js';
import { SourceFile } from '../../../probes/lang/source.js';

/** Everything `parse` reports for a script, rendered. */
function errors(text: string, name = 'stdin'): string {
  const source = new SourceFile(name, text);
  const r = parse(source);
  assert.equal(r.program, undefined, 'no program when there are errors');
  return renderDiagnostics(r.diagnostics, source);
}

const lines = (...l: string[]): string => l.join('\n') + '\n';

test('render: header, source line, ~ under [col, endCol)', () => {
  const src = new SourceFile('stdin', 'kprobe:f { $0 }');
  assert.equal(
    renderDiagnostic(errorAt('syntax: param $0 is out of integer range [1, 9223372036854775807]', { line: 1, col: 12, endLine: 1, endCol: 14 }), src),
    lines('stdin:1:12-14: ERROR: syntax: param $0 is out of integer range [1, 9223372036854775807]', 'kprobe:f { $0 }', '           ~~'),
  );
});

test('render: tabs become 4 spaces in the line and the underline', () => {
  const src = new SourceFile('t.bt', 'BEGIN {\n\t@x = foo;\n}');
  assert.equal(
    renderDiagnostic(errorAt("Unknown identifier: 'foo'", { line: 2, col: 7, endLine: 2, endCol: 10 }), src),
    lines("t.bt:2:7-10: ERROR: Unknown identifier: 'foo'", '    @x = foo;', '         ~~~'),
  );
  assert.equal(
    renderDiagnostic(errorAt('m', { line: 2, col: 1, endLine: 2, endCol: 4 }), src),
    lines('t.bt:2:1-4: ERROR: m', '    @x = foo;', '~~~~~~'),
  );
});

test('render: warnings, hints, no location, no source, multi-line spans, clipping', () => {
  const src = new SourceFile('stdin', 'i:ms:100 { @[1] = 1; printf("%d\\n", @[2]); exit(); }');
  assert.equal(
    renderDiagnostic(warningAt("Can't lookup map element because it does not exist.", { line: 1, col: 37, endLine: 1, endCol: 41 }, { hint: 'use has_key() first' }), src),
    lines(
      "stdin:1:37-41: WARNING: Can't lookup map element because it does not exist.",
      'i:ms:100 { @[1] = 1; printf("%d\\n", @[2]); exit(); }',
      '                                    ~~~~',
      'HINT: use has_key() first',
    ),
  );
  assert.equal(renderDiagnostic(errorAt("Unknown function: 'foo'")), "ERROR: Unknown function: 'foo'\n");
  assert.equal(renderDiagnostic(errorAt('trailing newline dropped\n')), 'ERROR: trailing newline dropped\n');
  assert.equal(renderDiagnostic(errorAt('m', { line: 1, col: 2, endLine: 1, endCol: 3 })), '1:2-3: ERROR: m\n');
  const multi = new SourceFile('stdin', 'BEGIN {\n  @x = 1;\n}\n');
  assert.equal(renderDiagnostic(errorAt('m', { line: 1, col: 7, endLine: 3, endCol: 2 }), multi), lines('stdin:1-3: ERROR: m', 'BEGIN {', '  @x = 1;', '}'));
  // The underline stops at the end of the line; a line past the end of the source prints no excerpt.
  assert.equal(renderDiagnostic(errorAt('m', { line: 1, col: 3, endLine: 1, endCol: 10 }), new SourceFile('f', 'abcd')), lines('f:1:3-10: ERROR: m', 'abcd', '  ~~'));
  assert.equal(renderDiagnostic(errorAt('m', { line: 2, col: 1, endLine: 2, endCol: 1 }), new SourceFile('f', 'abcd\n')), 'f:2:1-1: ERROR: m\n');
});

test('renderDiagnostics: errors first, then warnings; hasErrors', () => {
  const w = warningAt('w1');
  const e1 = errorAt('e1');
  const e2 = errorAt('e2');
  assert.equal(renderDiagnostics([w, e1, e2]), 'ERROR: e1\nERROR: e2\nWARNING: w1\n');
  assert.equal(renderDiagnostics([]), '');
  assert.equal(hasErrors([w]), false);
  assert.equal(hasErrors([w, e1]), true);
});

test('syntax error: unterminated string', () => {
  assert.equal(
    errors('BEGIN { printf("hello); }'),
    lines('stdin:1:16-26: ERROR: syntax: unterminated string', 'BEGIN { printf("hello); }', '               ~~~~~~~~~~'),
  );
  assert.equal(
    errors('BEGIN {\n  printf("a\n  );\n}\n', 'x.bt'),
    lines('x.bt:2:10-12: ERROR: syntax: unterminated string', '  printf("a', '         ~~'),
  );
});

test('syntax error: unexpected token, with a caret under it', () => {
  assert.equal(errors('kprobe:f { $x = 1 $y = 2; }'), lines("stdin:1:19-21: ERROR: syntax: expected ';'", 'kprobe:f { $x = 1 $y = 2; }', '                  ~~'));
  assert.equal(errors('BEGIN { @x = 1 + ; }'), lines('stdin:1:18-19: ERROR: syntax: expected expression', 'BEGIN { @x = 1 + ; }', '                 ~'));
  assert.equal(errors('BEGIN { $x = (1 + 2; }'), lines("stdin:1:20-21: ERROR: syntax: expected ')'", 'BEGIN { $x = (1 + 2; }', '                   ~'));
  assert.equal(errors('BEGIN { } }'), lines('stdin:1:11-12: ERROR: syntax: unexpected input', 'BEGIN { } }', '          ~'));
  assert.equal(errors('BEGIN { if $x > 1 { } }'), lines("stdin:1:15-16: ERROR: syntax: expected '{'", 'BEGIN { if $x > 1 { } }', '              ~'));
  assert.equal(errors('kprobe:f, { }  , { }'), lines('stdin:1:16-17: ERROR: syntax: expected attach point', 'kprobe:f, { }  , { }', '               ~'));
  assert.equal(errors('BEGIN { @x = ` }'), lines('stdin:1:14-15: ERROR: syntax: expected expression', 'BEGIN { @x = ` }', '             ~'));
  assert.equal(errors('BEGIN { args. = 1 }'), lines("stdin:1:15-16: ERROR: syntax: expected field name after '.'", 'BEGIN { args. = 1 }', '              ~'));
});

test('syntax error: missing closing brace', () => {
  // At the end of a -e program the span is empty, as bpftrace prints it.
  assert.equal(errors('BEGIN { printf("hi");'), lines("stdin:1:22-22: ERROR: syntax: expected '}'", 'BEGIN { printf("hi");', ' '.repeat(21)));
  // After a file's final newline the end of input is on a line of its own: no excerpt.
  assert.equal(errors('BEGIN\n{\n\t@x = 1;\n', 'missing.bt'), "missing.bt:4:1-1: ERROR: syntax: expected '}'\n");
  assert.equal(errors('BEGIN { if (1) { @x = 1; }'), lines("stdin:1:27-27: ERROR: syntax: expected '}'", 'BEGIN { if (1) { @x = 1; }', ' '.repeat(26)));
});

test('syntax error: bad numbers', () => {
  assert.equal(errors('BEGIN { @x = 5min; }'), lines("stdin:1:16-18: ERROR: syntax: invalid integer suffix 'in'", 'BEGIN { @x = 5min; }', '               ~~'));
  assert.equal(errors('BEGIN {\n\t@x = 12e3;\n}'), lines('stdin:2:7-11: ERROR: syntax: coefficient part of scientific literal must be 1-9: 12e3', '    @x = 12e3;', '         ~~~~'));
  assert.equal(
    errors('i:s:1 { @ = 18446744073709551616; }'),
    lines(
      'stdin:1:13-33: ERROR: syntax: overflow error, maximum value is 18446744073709551615: 18446744073709551616',
      'i:s:1 { @ = 18446744073709551616; }',
      '            ~~~~~~~~~~~~~~~~~~~~',
    ),
  );
  assert.equal(errors('BEGIN { @ = 1__; }'), lines('stdin:1:15-16: ERROR: syntax: trailing underscore in integer literal', 'BEGIN { @ = 1__; }', '              ~'));
});

test('syntax errors: predicate, positional parameter, escapes, placement of declarations', () => {
  assert.equal(errors('kprobe:f /pid == 1 { }'), lines("stdin:1:20-21: ERROR: syntax: expected '/' to close predicate", 'kprobe:f /pid == 1 { }', '                   ~'));
  assert.equal(
    errors('kprobe:f { $0 }'),
    lines('stdin:1:12-14: ERROR: syntax: param $0 is out of integer range [1, 9223372036854775807]', 'kprobe:f { $0 }', '           ~~'),
  );
  assert.equal(errors('BEGIN { @x = "\\q"; }'), lines("stdin:1:15-17: ERROR: syntax: invalid escape character '\\q'", 'BEGIN { @x = "\\q"; }', '              ~~'));
  assert.equal(
    errors('BEGIN { }\n#define X 1\n'),
    lines('stdin:2:1-12: ERROR: syntax: C definitions must appear before probes and functions', '#define X 1', '~~~~~~~~~~~'),
  );
  assert.equal(
    errors('BEGIN {}\nconfig = { a = 1 }'),
    lines('stdin:2:1-7: ERROR: syntax: config must appear before probes and functions', 'config = { a = 1 }', '~~~~~~'),
  );
  assert.equal(
    errors('let $x = 1;'),
    lines('stdin:1:1-4: ERROR: syntax: root-level let statements need to be map declarations, e.g. let @a = hash(2);', 'let $x = 1;', '~~~'),
  );
  assert.equal(
    errors('BEGIN { $t.0 = 1; }'),
    lines(
      'stdin:1:9-17: ERROR: syntax: Tuples and records are immutable once created. Consider creating a new value and assigning it instead.',
      'BEGIN { $t.0 = 1; }',
      '        ~~~~~~~~',
    ),
  );
  assert.equal(errors('BEGIN { 1 = 2; }'), lines('stdin:1:9-10: ERROR: syntax: invalid assignment target', 'BEGIN { 1 = 2; }', '        ~'));
  assert.equal(errors('BEGIN { "a"++; }'), lines('stdin:1:12-14: ERROR: syntax: increment/decrement requires a variable or map', 'BEGIN { "a"++; }', '           ~~'));
});

test('lexer and preprocessor errors', () => {
  assert.equal(errors('/* never closed\nBEGIN {}'), lines('stdin:1:1-3: ERROR: syntax: unterminated comment', '/* never closed', '~~'));
  assert.equal(errors('#ifdef X\nBEGIN {}\n'), lines('stdin:1:1-9: ERROR: unterminated conditional directive', '#ifdef X', '~~~~~~~~'));
});

test('one error at a time: the first syntax error, no follow-on errors', () => {
  assert.equal(errors('BEGIN { @x = 1 + ; @y = ; }'), lines('stdin:1:18-19: ERROR: syntax: expected expression', 'BEGIN { @x = 1 + ; @y = ; }', '                 ~'));
  // The unterminated string swallows `); }`; the missing `)` and `}` are not reported again.
  assert.equal(errors('BEGIN { printf("hi); }'), lines('stdin:1:16-23: ERROR: syntax: unterminated string', 'BEGIN { printf("hi); }', '               ~~~~~~~'));
  // A bad literal is reported once even though the parser read past it.
  assert.equal(errors('BEGIN { @x = 1zz + 2; @y = 3 }'), lines("stdin:1:15-17: ERROR: syntax: invalid integer suffix 'zz'", 'BEGIN { @x = 1zz + 2; @y = 3 }', '              ~~'));
});

/** The rendered error for a one-line program: header, the line, `~` under [col, endCol). */
/** An error on a one-line (ASCII) program as rendered (a long line as a window, see excerptLines). */
function oneLine(text: string, col: number, endCol: number, message: string, hint?: string): string {
  const l = [`stdin:1:${col}-${endCol}: ERROR: ${message}`, excerptLines(text, col, endCol)];
  if (hint !== undefined) l.push(`HINT: ${hint}`);
  return lines(...l);
}

const NESTED = 'syntax: nested too deeply: more than 256 levels of blocks, parentheses, brackets and operators';

test('nesting: parentheses, blocks, ifs, brackets, calls, unary operators and ?: stop at 256 levels, at the token that opens the 257th', () => {
  // BEGIN's block is level 1, so 255 more fit and the 256th inside it is one too many
  const parens = (n: number): string => `BEGIN { $x = ${'('.repeat(n)}1${')'.repeat(n)}; }`;
  assert.equal(parse(new SourceFile('stdin', parens(255))).diagnostics.length, 0);
  assert.equal(errors(parens(2000)), oneLine(parens(2000), 14 + 255, 15 + 255, NESTED));
  const braces = `BEGIN { ${'{'.repeat(3000)}${'}'.repeat(3000)} }`;
  assert.equal(errors(braces), oneLine(braces, 9 + 255, 10 + 255, NESTED));
  // each `if (` opens its condition's parentheses inside the blocks of the ifs around it
  const ifs = `BEGIN { ${'if (1) { '.repeat(2000)}${'}'.repeat(2000)} }`;
  assert.equal(errors(ifs), oneLine(ifs, 9 + 9 * 255 + 3, 9 + 9 * 255 + 4, NESTED));
  const bangs = `BEGIN { $x = ${'!'.repeat(5000)}1; }`;
  assert.equal(errors(bangs), oneLine(bangs, 14 + 255, 15 + 255, NESTED));
  const keys = `BEGIN { $x = ${'@m['.repeat(1000)}1${']'.repeat(1000)}; }`;
  assert.equal(errors(keys), oneLine(keys, 14 + 3 * 255 + 2, 14 + 3 * 255 + 3, NESTED));
  const calls = `BEGIN { $x = ${'strlen('.repeat(1000)}"a"${')'.repeat(1000)}; }`;
  assert.equal(errors(calls), oneLine(calls, 14 + 7 * 255 + 6, 14 + 7 * 255 + 7, NESTED));
  const ternaries = `BEGIN { $x = ${'1 ? '.repeat(1000)}1${' : 1'.repeat(1000)}; }`;
  assert.equal(errors(ternaries), oneLine(ternaries, 14 + 4 * 255 + 2, 14 + 4 * 255 + 3, NESTED));
  const casts = `BEGIN { $x = ${'(int8)'.repeat(1000)}1; }`;
  assert.equal(errors(casts), oneLine(casts, 14 + 6 * 255, 15 + 6 * 255, NESTED));
});

test('nesting: a chain of 8000 terms is an expression 8000 levels deep; 500 is the limit', () => {
  const chain = (n: number): string => `BEGIN { $x = ${Array<string>(n).fill('1').join('+')}; }`;
  assert.equal(parse(new SourceFile('stdin', chain(500))).diagnostics.length, 0);
  assert.equal(
    errors(chain(8000)),
    oneLine(chain(8000), 14, 14 + 2 * 8000 - 1, 'expression nested too deeply: 8000 levels (the limit is 500)', 'split it into parts held in variables'),
  );
  const fields = `BEGIN { $x = $t${'.a'.repeat(600)}; }`;
  assert.equal(errors(fields), oneLine(fields, 14, 16 + 2 * 600, 'expression nested too deeply: 601 levels (the limit is 500)', 'split it into parts held in variables'));
  const elseIfs = `BEGIN { if (1) { } ${'else if (1) { } '.repeat(600)}}`;
  assert.equal(errors(elseIfs), oneLine(elseIfs, 9, 9 + 11 + 16 * 600 - 1, 'if/else if chain too long: 601 branches (the limit is 500)'));
});

test('#define expansion is bounded: 64 levels, 100000 tokens (not 2^40 for 40 doubling macros)', () => {
  const doubling = Array.from({ length: 40 }, (_, i) => `#define M${i} M${i + 1} M${i + 1}`).join('\n');
  assert.equal(
    errors(`${doubling}\nBEGIN { $x = M0; }`),
    lines('stdin:41:14-16: ERROR: macro expansion too large: more than 100000 tokens', 'BEGIN { $x = M0; }', '             ~~'),
  );
  const chained = Array.from({ length: 100 }, (_, i) => `#define C${i} C${i + 1}`).join('\n');
  assert.equal(
    errors(`${chained}\nBEGIN { $x = C0; }`),
    lines('stdin:101:14-16: ERROR: macro expansion nested too deeply: more than 64 levels of #define', 'BEGIN { $x = C0; }', '             ~~'),
  );
  // 64 levels are fine
  const fits = Array.from({ length: 63 }, (_, i) => `#define C${i} C${i + 1}`).join('\n');
  assert.equal(parse(new SourceFile('stdin', `${fits}\n#define C63 7\nBEGIN { $x = C0; }`)).diagnostics.length, 0);
});

test('render: a long line is shown as a window of 160 columns around the underline, cut ends marked; escapes, tabs and tag characters never split', () => {
  const cut = '\u2026';
  // an error in the middle of a 1400-character line: the 157 columns left, 79 before the underline and 78 after
  const long = `BEGIN { $x = ${'1 + '.repeat(250)}foo + ${'2 + '.repeat(100)}1; }`;
  const at = long.indexOf('foo') + 1;
  const shown = renderDiagnostic(errorAt("Unknown identifier: 'foo'", { line: 1, col: at, endLine: 1, endCol: at + 3 }), new SourceFile('stdin', long)).split('\n');
  assert.deepEqual(shown, [
    `stdin:1:${at}-${at + 3}: ERROR: Unknown identifier: 'foo'`,
    cut + long.slice(at - 1 - 79, at - 1 + 3 + 78) + cut,
    ' '.repeat(1 + 79) + '~~~',
    '',
  ]);
  // at the start of a long line: no cut on the left; escapes (4 columns each) count as shown
  const escapes = `foo ${'\x1b'.repeat(100)}`;
  const start = renderDiagnostic(errorAt('m', { line: 1, col: 1, endLine: 1, endCol: 4 }), new SourceFile('stdin', escapes)).split('\n');
  assert.deepEqual(start, ['stdin:1:1-4: ERROR: m', `foo ${'\\x1b'.repeat(39)}${cut}`, '~~~', '']);
  // tag characters (two columns of a location each) are escaped, whole, and the underline keeps step
  const tags = `$x = "${'\u{e0041}'.repeat(100)}"; bar`;
  const barAt = tags.indexOf('bar') + 1;
  const tagged = renderDiagnostic(errorAt('m', { line: 1, col: barAt, endLine: 1, endCol: barAt + 3 }), new SourceFile('stdin', tags)).split('\n');
  assert.deepEqual(tagged, [`stdin:1:${barAt}-${barAt + 3}: ERROR: m`, `${cut}${'\\u{e0041}'.repeat(17)}"; bar`, ' '.repeat(1 + 9 * 17 + 3) + '~~~', '']);
  // every line of a multi-line span is cut at 160 columns
  const twoLines = `${'a'.repeat(300)}\n${'b'.repeat(10)}`;
  assert.equal(renderDiagnostic(errorAt('m', { line: 1, col: 1, endLine: 2, endCol: 3 }), new SourceFile('stdin', twoLines)), lines('stdin:1-2: ERROR: m', 'a'.repeat(160) + cut, 'b'.repeat(10)));
});

test('render: 20 errors in a 1 MiB line take what their 160-column windows take, not a cell per character of the line (33 s and 450 MB before)', async () => {
  // Rendered in a worker with a small heap: building the whole line as cells, as before, runs it
  // out of memory; the windows alone need next to nothing.
  const diagnosticsUrl = new URL('../../../probes/lang/diagnostics.js', import.meta.url).href;
  const sourceUrl = new URL('../../../probes/lang/source.js', import.meta.url).href;
  const code = `
    const { parentPort } = require('node:worker_threads');
    (async () => {
      const { errorAt, renderDiagnostics } = await import(${JSON.stringify(diagnosticsUrl)});
      const { SourceFile } = await import(${JSON.stringify(sourceUrl)});
      const line = 'BEGIN { $x = $nope; $s = "' + '\\t\\u202e'.repeat(1 << 19) + '"; $y = $nope; }';
      const at = line.lastIndexOf('$nope') + 1;
      const errors = Array.from({ length: 20 }, () => errorAt("Undefined or undeclared variable: $nope", { line: 1, col: at, endLine: 1, endCol: at + 5 }));
      parentPort.postMessage(renderDiagnostics(errors, new SourceFile('stdin', line)).split('\\n').slice(0, 3));
    })();`;
  const worker = new Worker(code, { eval: true, resourceLimits: { maxOldGenerationSizeMb: 48 } });
  const [rendered] = (await Promise.race([once(worker, 'message'), once(worker, 'error').then(([e]) => Promise.reject(e))])) as [string[]];
  await worker.terminate();
  // the window: 156 columns (the next escape, 6 wide, does not fit) around the underline: each
  // tab 4 columns, each escape 6
  assert.deepEqual(rendered, [
    `stdin:1:${26 + (1 << 20) + 9}-${26 + (1 << 20) + 14}: ERROR: Undefined or undeclared variable: $nope`,
    '\u2026' + '    \\u202e'.repeat(14) + '"; $y = $nope; }',
    ' '.repeat(1 + 10 * 14 + 8) + '~~~~~',
  ]);
});

test('#if expressions: nesting is bounded, shifts and octal digits are checked', () => {
  const deep = `#if ${'('.repeat(5000)}1${')'.repeat(5000)}`;
  assert.equal(
    errors(`${deep}\n#endif\nBEGIN {}`),
    oneLine(deep, 1, 10006, 'preprocessor expression nested too deeply: more than 64 levels'),
  );
  assert.equal(errors('#if 1 << 99999999999\n#endif\nBEGIN {}'), lines('stdin:1:1-21: ERROR: invalid preprocessor expression: 1 << 99999999999', '#if 1 << 99999999999', '~'.repeat(20)));
  assert.equal(errors('#if 09\n#endif\nBEGIN {}'), lines('stdin:1:1-7: ERROR: invalid preprocessor expression: 09', '#if 09', '~~~~~~'));
});

test('render: control characters and bidi overrides in a line or message are escaped, and the underline keeps step', () => {
  const src = new SourceFile('stdin', 'BEGIN { @x = "\x1b[2J\u202e"; foo }');
  assert.equal(
    renderDiagnostic(errorAt("Unknown identifier: 'foo'\x07", { line: 1, col: 23, endLine: 1, endCol: 26 }), src),
    lines("stdin:1:23-26: ERROR: Unknown identifier: 'foo'\\x07", 'BEGIN { @x = "\\x1b[2J\\u202e"; foo }', ' '.repeat(30) + '~~~'),
  );
  // an empty line (an empty program) has no excerpt
  assert.equal(renderDiagnostic(errorAt('m', { line: 1, col: 1, endLine: 1, endCol: 1 }), new SourceFile('stdin', '')), 'stdin:1:1-1: ERROR: m\n');
});

test('printableText: controls, DEL, C1, format characters, line separators and lone surrogates escaped (\\xNN up to 0xff, \\uNNNN above, \\u{N} past 0xffff); tabs too unless keepTabs', () => {
  const table: [text: string, shown: string, keepingTabs: string][] = [
    ['plain text, é and 😀', 'plain text, é and 😀', 'plain text, é and 😀'],
    ['a\tb', 'a\\x09b', 'a\tb'],
    ['\x00\x07\x1b[2J\r\n\x7f', '\\x00\\x07\\x1b[2J\\x0d\\x0a\\x7f', '\\x00\\x07\\x1b[2J\\x0d\\x0a\\x7f'],
    ['\x80\x9b\x9f\xa0', '\\x80\\x9b\\x9f\xa0', '\\x80\\x9b\\x9f\xa0'],
    // bidi controls, zero-width joiner, paragraph separator, a narrow no-break space (a space: kept)
    ['\u061c\u200d\u200e\u200f\u2029\u202a\u202e\u202f\u2066\u2069\u206a', '\\u061c\\u200d\\u200e\\u200f\\u2029\\u202a\\u202e\u202f\\u2066\\u2069\\u206a', '\\u061c\\u200d\\u200e\\u200f\\u2029\\u202a\\u202e\u202f\\u2066\\u2069\\u206a'],
    // a BOM, zero-width space, word joiner, line separator, soft hyphen; a no-break space is kept
    ['a\ufeffb\u200bc\u2060d\u2028e\xadf\xa0g', 'a\\ufeffb\\u200bc\\u2060d\\u2028e\\xadf\xa0g', 'a\\ufeffb\\u200bc\\u2060d\\u2028e\\xadf\xa0g'],
    // Unicode tag characters (invisible text after a flag) and the language tag
    ['x\u{e0001}\u{e0041}\u{e007f}y', 'x\\u{e0001}\\u{e0041}\\u{e007f}y', 'x\\u{e0001}\\u{e0041}\\u{e007f}y'],
    ['x\ud83dy\ude00\t\ud83d\ude00', 'x\\ud83dy\\ude00\\x09\ud83d\ude00', 'x\\ud83dy\\ude00\t\ud83d\ude00'],
    ['\ud83d\t\ude00', '\\ud83d\\x09\\ude00', '\\ud83d\t\\ude00'],
  ];
  for (const [text, shown, keepingTabs] of table) {
    assert.equal(printableText(text), shown, JSON.stringify(text));
    assert.equal(printableText(text, { keepTabs: true }), keepingTabs, JSON.stringify(text));
  }
  // every code unit on its own: escaped exactly when it is in the ranges above
  // (the format characters of Unicode 15, and U+2028/U+2029)
  const escapedUnit = (c: number): boolean =>
    c <= 0x1f ||
    (c >= 0x7f && c <= 0x9f) ||
    c === 0xad ||
    (c >= 0x600 && c <= 0x605) ||
    c === 0x61c ||
    c === 0x6dd ||
    c === 0x70f ||
    (c >= 0x890 && c <= 0x891) ||
    c === 0x8e2 ||
    c === 0x180e ||
    (c >= 0x200b && c <= 0x200f) ||
    (c >= 0x2028 && c <= 0x202e) ||
    (c >= 0x2060 && c <= 0x2064) ||
    (c >= 0x2066 && c <= 0x206f) ||
    c === 0xfeff ||
    (c >= 0xfff9 && c <= 0xfffb) ||
    (c >= 0xd800 && c <= 0xdfff);
  for (let c = 0; c <= 0xffff; c++) {
    const ch = String.fromCharCode(c);
    const expected = !escapedUnit(c) ? ch : c <= 0xff ? `\\x${c.toString(16).padStart(2, '0')}` : `\\u${c.toString(16).padStart(4, '0')}`;
    if (printableText(ch) !== expected) assert.fail(`U+${c.toString(16)}: ${JSON.stringify(printableText(ch))}, expected ${JSON.stringify(expected)}`);
  }
  // diagnostics keep a message's tabs, and a multi-line excerpt's
  const src = new SourceFile('stdin', 'BEGIN {\n\t@x = 1;\x1b\n}');
  assert.equal(renderDiagnostic(errorAt('a\tb\x1b', { line: 1, col: 1, endLine: 3, endCol: 2 }), src), lines('stdin:1-3: ERROR: a\tb\\x1b', 'BEGIN {', '\t@x = 1;\\x1b', '}'));
});

test('renderDiagnostics: at most 20 errors and 20 warnings, then how many more (1000 bad probes printed 36 MB)', () => {
  const many = [...Array.from({ length: 25 }, (_, i) => errorAt(`e${i}`)), ...Array.from({ length: 21 }, (_, i) => warningAt(`w${i}`))];
  const expected = [...Array.from({ length: 20 }, (_, i) => `ERROR: e${i}`), 'ERROR: 5 more errors not shown', ...Array.from({ length: 20 }, (_, i) => `WARNING: w${i}`), 'WARNING: 1 more warning not shown'];
  assert.equal(renderDiagnostics(many), lines(...expected));
});
