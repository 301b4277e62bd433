// kiotrace -e / FILE.bt through the real CLI: exit codes, diagnostics as full text, JSON, -o,
// --dry-run, -v, -q; and the safety rails: budgets, bounded loops, map caps, no code injection.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../helpers/repo.js';
import { excerptLines } from './excerpt.js';
import { canonicalSpec } from '../../probes/attach.js';

const cli = join(repoRoot(), 'dist', 'tui', 'cli.js');
const run = (...args: string[]) => spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8', cwd: repoRoot() });

test('script errors: bpftrace-style diagnostics with carets, exit 2', () => {
  const cases: readonly [program: string, stderr: string][] = [
    [
      'kprobe:vfs_reed { @ = count(); }',
      "stdin:1:1-16: ERROR: No matches for kprobe vfs_reed.\nkprobe:vfs_reed { @ = count(); }\n~~~~~~~~~~~~~~~\nHINT: did you mean 'kprobe:vfs_read'?\n" +
        'stdin:1:1-16: WARNING: vfs_reed is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail\nkprobe:vfs_reed { @ = count(); }\n~~~~~~~~~~~~~~~\n',
    ],
    [
      'tracepoint:block:block_rq_issue { @[args.rwbz] = count(); }',
      "stdin:1:37-46: ERROR: Can't find field 'rwbz' in struct for tracepoint:block:block_rq_issue\ntracepoint:block:block_rq_issue { @[args.rwbz] = count(); }\n                                    ~~~~~~~~~\n",
    ],
    ['BEGIN { @x = 1; @x = "a"; }', "stdin:1:17-19: ERROR: Type mismatch for @x: trying to assign value of type 'string[2]' when map already has a type 'int8'\nBEGIN { @x = 1; @x = \"a\"; }\n                ~~\n"],
    [
      'kprobe:submit_bio { printf("%s\\n", ((struct bio *)arg0)->bi_disk->disk_name); }',
      "stdin:1:37-65: ERROR: Struct/union of type 'struct bio' does not contain a field named 'bi_disk'\nkprobe:submit_bio { printf(\"%s\\n\", ((struct bio *)arg0)->bi_disk->disk_name); }\n                                    ~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n",
    ],
    ['macro f(x, y) { x } BEGIN { f(1); }', 'stdin:1:29-33: ERROR: Call to macro f() has the wrong number of arguments: expected 2, got 1\nmacro f(x, y) { x } BEGIN { f(1); }\n                            ~~~~\n'],
    ['macro f(x) { f(x) } BEGIN { f(1); }', 'stdin:1:14-18: ERROR: Recursive macro call: f -> f\nmacro f(x) { f(x) } BEGIN { f(1); }\n             ~~~~\n'],
    ['BEGIN { @x = comm; @x = pid; }', "stdin:1:20-22: ERROR: Type mismatch for @x: trying to assign value of type 'uint32' when map already has a type 'string[16]'\nBEGIN { @x = comm; @x = pid; }\n                   ~~\n"],
    [
      'BEGIN { @n[comm] = 1; @n[pid] = 2; }',
      "stdin:1:26-29: ERROR: Argument mismatch for @n: trying to access with arguments: 'uint32' when map expects arguments: 'string[16]'\nBEGIN { @n[comm] = 1; @n[pid] = 2; }\n                         ~~~\n",
    ],
    [
      'BEGIN { @m[1, 2] = 1; if (has_key(@m, 3)) { exit(); } }',
      "stdin:1:39-40: ERROR: Argument mismatch for @m: trying to access with arguments: 'int8' when map expects arguments: '(int8,int8)'\nBEGIN { @m[1, 2] = 1; if (has_key(@m, 3)) { exit(); } }\n                                      ~\n",
    ],
    ['BEGIN { count(); }', 'stdin:1:9-16: ERROR: count() must be assigned directly to a map\nBEGIN { count(); }\n        ~~~~~~~\n'],
    ['BEGIN { printf("%d %d\\n", 1); }', 'stdin:1:9-29: ERROR: not enough arguments for format string (1 supplied, 2 expected)\nBEGIN { printf("%d %d\\n", 1); }\n        ~~~~~~~~~~~~~~~~~~~~\n'],
    ['BEGIN { $x = $y + 1; }', 'stdin:1:14-16: ERROR: Undefined or undeclared variable: $y\nBEGIN { $x = $y + 1; }\n             ~~\n'],
  ];
  for (const [program, stderr] of cases) {
    const r = run('-e', program);
    assert.equal(r.status, 2, program);
    assert.equal(r.stdout, '', program);
    assert.equal(r.stderr, stderr, program);
  }
  const syntax = run('-e', 'BEGIN { printf("hi") ');
  assert.equal(syntax.status, 2);
  assert.match(syntax.stderr, /^stdin:1:\d+-\d+: ERROR: syntax: /);
  const missing = run('nope.bt');
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, "ERROR: failed to open file 'nope.bt': No such file or directory\n");
});

test('names every object inherits (constructor, __proto__, toString) are not providers or units', () => {
  const lines = [
    'constructor:x { exit(); }',
    '__proto__:x { exit(); }',
    'toString:x { exit(); }',
    'Constructor:x { exit(); }',
    'interval:constructor:1 { exit(); }',
    'profile:__proto__:1 { exit(); }',
    'i:hasOwnProperty:1 { exit(); }',
  ];
  const r = run('-e', lines.join('\n'));
  const error = (n: number, end: number, message: string): string => `stdin:${n}:1-${end}: ERROR: ${message}\n${lines[n - 1]}\n${'~'.repeat(end - 1)}\n`;
  assert.equal(
    r.stderr,
    error(1, 14, 'Invalid probe type: constructor') +
      error(2, 12, 'Invalid probe type: __proto__') +
      error(3, 11, 'Invalid probe type: toString') +
      error(4, 14, 'Invalid probe type: Constructor') +
      error(5, 23, 'Invalid rate of interval probe: interval:constructor:1') +
      error(6, 20, 'Invalid rate of profile probe: profile:__proto__:1') +
      error(7, 19, 'Invalid rate of i probe: i:hasOwnProperty:1'),
  );
  assert.equal(r.status, 2);
  // the attach API and -l canonicalize through the same table
  assert.equal(canonicalSpec('constructor:*'), 'constructor:*');
  assert.equal(canonicalSpec('__proto__:x'), '__proto__:x');
  assert.equal(canonicalSpec('T:block:*'), 'tracepoint:block:*');
});

test('config missing_probes: error by default, warn prints and skips, ignore skips', () => {
  const program = (mode: string): string => `${mode}kprobe:__blk_account_io_done, kprobe:vfs_read { @ = count(); } interval:ms:5 { exit(); }`;
  const strict = run('-e', program(''));
  assert.equal(strict.status, 2);
  const strictLine = 'kprobe:__blk_account_io_done, kprobe:vfs_read { @ = count(); } interval:ms:5 { exit(); }\n~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n';
  assert.equal(
    strict.stderr,
    `stdin:1:1-29: ERROR: No matches for kprobe __blk_account_io_done.\n${strictLine}HINT: did you mean 'kprobe:blk_account_io_done'?\n` +
      `stdin:1:1-29: WARNING: __blk_account_io_done is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail\n${strictLine}`,
  );
  const warn = run('-e', program('config = { missing_probes = warn } '), '--dry-run');
  assert.equal(warn.status, 0);
  assert.equal(
    warn.stderr,
    'stdin:1:36-64: WARNING: __blk_account_io_done is not traceable (either non-existing, inlined, or marked as "notrace"); attaching to it will likely fail\nconfig = { missing_probes = warn } kprobe:__blk_account_io_done, kprobe:vfs_read { @ = count(); } interval:ms:5 { exit(); }\n                                   ~~~~~~~~~~~~~~~~~~~~~~~~~~~~\n' +
      'stdin:1:36-64: WARNING: No matches for kprobe __blk_account_io_done. Skipping.\nconfig = { missing_probes = warn } kprobe:__blk_account_io_done, kprobe:vfs_read { @ = count(); } interval:ms:5 { exit(); }\n                                   ~~~~~~~~~~~~~~~~~~~~~~~~~~~~\nAttached 2 probes\n',
  );
  const ignore = run('-e', program('config = { missing_probes = "ignore" } '));
  assert.equal(ignore.status, 0);
  assert.equal(ignore.stderr, 'Attached 2 probes\n');
  assert.match(ignore.stdout, /^\n\n@: [1-9]\d*\n$/);
  const bad = run('-e', 'config = { missing_probes = maybe } BEGIN { exit(); }');
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr, 'stdin:1:12-34: ERROR: Invalid value for missing_probes: valid values are error, warn, ignore\nconfig = { missing_probes = maybe } BEGIN { exit(); }\n           ~~~~~~~~~~~~~~~~~~~~~~\n');
});

test('sizeof of scalar, pointer and array types and declared structs; kernel struct layout is refused with a hint', () => {
  const ok = run('-q', '-e', 'BEGIN { @m = 5; printf("%d %d %d %d %d %d %d %d\\n", sizeof(u64), sizeof(int), sizeof(char[16]), sizeof(struct request *), sizeof((uint16)pid), sizeof(@m), sizeof(uint8[4]), sizeof(enum req_op)); clear(@m); exit(); }');
  assert.equal(ok.stderr, '');
  assert.equal(ok.stdout, '8 4 16 8 2 8 4 4\n\n\n');
  // the typed pass knows builtins' types and lays out the structs a script declares, as a C compiler does
  const declared = run('-q', '-e', 'struct Foo { int x; char y[8]; long z; } BEGIN { printf("%d %d %d %d\\n", sizeof(pid), sizeof(struct Foo), offsetof(struct Foo, y), offsetof(struct Foo, z)); exit(); }');
  assert.equal(declared.stderr, '');
  assert.equal(declared.stdout, '4 24 4 16\n\n\n');
  const cases: readonly [program: string, stderr: string][] = [
    [
      'BEGIN { printf("%d\\n", sizeof(struct request)); }',
      "stdin:1:31-45: ERROR: sizeof(struct request): kiotrace's kernel types describe members, not their layout\nBEGIN { printf(\"%d\\n\", sizeof(struct request)); }\n                              ~~~~~~~~~~~~~~\nHINT: sizeof works on integer, pointer and array types and the structs the script declares, e.g. sizeof(u64) or sizeof(char[16])\n",
    ],
    ['BEGIN { printf("%d\\n", sizeof(foo_t)); }', "stdin:1:31-36: ERROR: Unknown type: 'foo_t'\nBEGIN { printf(\"%d\\n\", sizeof(foo_t)); }\n                              ~~~~~\n"],
    [
      'BEGIN { printf("%d\\n", sizeof(str(0))); }',
      'stdin:1:31-37: ERROR: sizeof: the size of this expression is not known; cast it to a type first, e.g. sizeof((uint32)pid)\nBEGIN { printf("%d\\n", sizeof(str(0))); }\n                              ~~~~~~\n',
    ],
  ];
  for (const [program, stderr] of cases) {
    const r = run('-e', program);
    assert.equal(r.status, 2, program);
    assert.equal(r.stderr, stderr, program);
  }
});

test('errorf and warnf report at their call site, in text and JSON, and the program carries on', () => {
  const program = 'BEGIN { errorf("bad %d", 5);\n  warnf("careful %s", "x"); printf("after\\n"); exit(); }';
  const text = run('-q', '-e', program);
  assert.equal(text.status, 0);
  assert.equal(text.stdout, 'after\n\n\n');
  assert.equal(
    text.stderr,
    'stdin:1:9-28: ERROR: bad 5\nBEGIN { errorf("bad %d", 5);\n        ~~~~~~~~~~~~~~~~~~~\nstdin:2:3-27: WARNING: careful x\n  warnf("careful %s", "x"); printf("after\\n"); exit(); }\n  ~~~~~~~~~~~~~~~~~~~~~~~~\n',
  );
  const json = run('-q', '-f', 'json', '-e', program);
  assert.equal(json.status, 0);
  assert.equal(
    json.stdout,
    '{"type": "errorf", "msg": "bad 5", "filename": "stdin", "line": 1, "col": 9}\n{"type": "warnf", "msg": "careful x", "filename": "stdin", "line": 2, "col": 3}\n{"type": "printf", "data": "after\\n"}\n',
  );
  assert.equal(json.stderr, '');
});

test('-f json, -o FILE, -q, -v and --dry-run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-'));
  try {
    const json = run('-e', 'BEGIN { printf("a\\"b\\n"); @c = count(); exit(); }', '-f', 'json');
    assert.equal(json.status, 0);
    assert.equal(json.stdout, '{"type": "attached_probes", "count": 1, "data": {"probes": 1}}\n{"type": "printf", "data": "a\\"b\\n"}\n{"type": "map", "data": {"@c": 1}}\n');
    const out = join(dir, 'out.txt');
    const q = run('-e', 'BEGIN { printf("to file\\n"); }', '-q', '-o', out);
    assert.equal(q.status, 0);
    assert.equal(q.stderr, '');
    assert.equal(q.stdout, '');
    assert.equal(readFileSync(out, 'utf8'), 'to file\n\n\n');
    const dry = run('-e', 'tracepoint:block:* { @[probe] = count(); }', '--dry-run', '-v');
    assert.equal(dry.status, 0);
    assert.equal(dry.stdout, '');
    assert.match(dry.stderr, /^tracepoint:block:block_bio_backmerge\n/);
    assert.match(dry.stderr, /Attached 17 probes\n$/);
    // a bad program never overwrites the -o file
    writeFileSync(out, 'keep me');
    const bad = run('-e', 'BEGIN { nope(); }', '-o', out);
    assert.equal(bad.status, 2);
    assert.equal(readFileSync(out, 'utf8'), 'keep me');
    // an -o FILE that cannot be written is refused before anything runs
    const missingDir = join(dir, 'no-such-dir', 'out.txt');
    const unwritable = run('-e', 'BEGIN { printf("x\\n"); }', '-o', missingDir);
    assert.deepEqual([unwritable.status, unwritable.stdout, unwritable.stderr], [2, '', `ERROR: Failed to open output file: ${missingDir}: No such file or directory\n`]);
    const isDir = run('-e', 'BEGIN { printf("x\\n"); }', '-o', dir);
    assert.deepEqual([isDir.status, isDir.stderr], [2, `ERROR: Failed to open output file: ${dir}: Is a directory\n`]);
    const fmt = run('-e', 'BEGIN {}', '-f', 'yaml');
    assert.equal(fmt.status, 2);
    assert.match(fmt.stderr, /^kiotrace: -f: unknown output format "yaml" \(expected text or json\)\n/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('safety: loops are bounded, firings have a budget, maps have a cap', () => {
  const loopProgram = 'BEGIN { $i = 0; while (1) { $i++; } printf("%d\\n", $i); }';
  const loop = run('-e', loopProgram, '-q');
  assert.equal(loop.status, 0);
  assert.equal(loop.stdout, '10000\n\n\n'); // MAX_LOOP_ITERATIONS
  // the cut says so (it was silent)
  const underLoop = `${loopProgram}\n${' '.repeat(16)}${'~'.repeat(19)}\n`;
  assert.equal(
    loop.stderr,
    `stdin:1:17-36: WARNING: while loops are deprecated; use a for loop over a range\n${underLoop}stdin:1:17-36: WARNING: while loop stopped after 10000 iterations; the rest of the loop was skipped\n${underLoop}`,
  );
  const budget = run('-e', 'BEGIN { for ($i : 0..100000000) { @n++; } }', '-q');
  assert.equal(budget.status, 0);
  assert.equal(budget.stderr, 'stdin:1:1-6: WARNING: probe exceeded its instruction budget of 100000; the rest of this firing was skipped\nBEGIN { for ($i : 0..100000000) { @n++; } }\n~~~~~\n');
  assert.match(budget.stdout, /^\n\n@n: \d+\n$/);
  const cap = run('-e', 'config = { max_map_keys = 3 } BEGIN { for ($i : 0..5) { @m[$i] = $i; } }', '-q');
  assert.equal(cap.status, 0);
  assert.match(cap.stderr, /WARNING: Map full; can't update element/);
  assert.equal(cap.stdout, '\n\n@m[0]: 0\n@m[1]: 1\n@m[2]: 2\n');
  const unsafe = run('-e', 'BEGIN { system("ls"); }');
  assert.equal(unsafe.status, 2);
  assert.equal(unsafe.stderr, 'stdin:1:9-21: ERROR: system() is an unsafe function being used in safe mode\nBEGIN { system("ls"); }\n        ~~~~~~~~~~~~\nHINT: run kiotrace with --unsafe\n');
  const cat = run('-e', 'BEGIN { cat("/etc/hostname"); }');
  assert.equal(cat.status, 2);
  assert.match(cat.stderr, /^stdin:1:9-29: ERROR: cat\(\) reads a file of the host machine, not of the simulated one\n/);
});

test('--unsafe: system() runs a host command and cat() prints a host file, in order with printf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-unsafe-'));
  try {
    const file = join(dir, 'note.txt');
    writeFileSync(file, 'from the host\n');
    const program = `BEGIN { printf("a\\n"); system("echo %d-%s", 7, "x"); cat("%s", "${file}"); cat("${join(dir, 'missing')}"); printf("b\\n"); exit(); }`;
    const text = run('--unsafe', '-q', '-e', program);
    assert.equal(text.status, 0, text.stderr);
    assert.equal(text.stdout, 'a\n7-x\nfrom the host\nb\n\n\n');
    assert.equal(text.stderr, `ERROR: failed to open file '${join(dir, 'missing')}' (No such file or directory)\n`);
    const json = run('--unsafe', '-q', '-f', 'json', '-e', 'BEGIN { system("echo hi"); exit(); }');
    // the command's output as it wrote it, newline included (bpftrace's json-output.syscall case)
    assert.equal(json.stdout, '{"type": "syscall", "data": "hi\\n"}\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('safety: user text is data, never code', () => {
  // strings, map names and keys that would do harm if the compiler ever spliced text into JS
  const program = [
    'BEGIN {',
    '  @constructor = 1; @__proto__["__proto__"] = 2; @toString = 3;',
    '  $x = "\\"); process.exit(7); (\\"";',
    '  printf("%s|%s\\n", $x, "${process.exit(9)}");',
    '  @k["`; throw 1; `"] = count();',
    '}',
  ].join('\n');
  const r = run('-e', program, '-q');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, '"); process.exit(7); ("|${process.exit(9)}\n\n\n@__proto__[__proto__]: 2\n@constructor: 1\n@k[`; throw 1; `]: 1\n@toString: 3\n');
});

test('the nastiest programs through the real CLI: exit 2, a clear message with a location, never a stack trace', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-nasty-'));
  const nested = 'syntax: nested too deeply: more than 256 levels of blocks, parentheses, brackets and operators';
  /** `stdin:1:COL-END: ERROR: message`, the line (a window of a long one), and `~` under [col, end). */
  const at = (name: string, line: string, lineNo: number, col: number, end: number, message: string): string =>
    `${name}:${lineNo}:${col}-${end}: ERROR: ${message}\n${excerptLines(line, col, end)}\n`;
  try {
    const parens = `BEGIN { $x = ${'('.repeat(2000)}1${')'.repeat(2000)}; }`;
    const bangs = `BEGIN { $x = ${'!'.repeat(5000)}1; }`;
    const sum = `BEGIN { $x = ${Array<string>(8000).fill('1').join('+')}; }`;
    const cases: readonly [args: readonly string[], stderr: string][] = [
      [['-e', parens], at('stdin', parens, 1, 269, 270, nested)],
      [['-e', bangs], at('stdin', bangs, 1, 269, 270, nested)],
      [['-e', sum], at('stdin', sum, 1, 14, 16013, 'expression nested too deeply: 8000 levels (the limit is 500)') + 'HINT: split it into parts held in variables\n'],
      [['-e', ''], 'stdin:1:1-1: ERROR: No probes to attach\nHINT: a program needs a probe and its action, e.g. kprobe:vfs_read { @[comm] = count(); }\n'],
      [['--dry-run', '-e', 'profile:hz:1000000000 { @ = count(); }'], at('stdin', 'profile:hz:1000000000 { @ = count(); }', 1, 1, 22, 'profile:hz:1000000000 fires every 1ns: faster than the simulation can run (the shortest period is 10us, 100000 Hz)') + 'HINT: use a longer period, e.g. profile:hz:99 or profile:ms:1\n'],
      [['--dry-run', '-e', 'BEGIN { @ = lhist(1, 0, 10, 0); }'], at('stdin', 'BEGIN { @ = lhist(1, 0, 10, 0); }', 1, 13, 31, 'lhist() step must be >= 1 (0 provided)')],
      // an escape sequence in the program comes out escaped, the caret in step
      [['-e', 'BEGIN { \x1b[2J }'], 'stdin:1:9-10: ERROR: syntax: expected expression\nBEGIN { \\x1b[2J }\n        ~~~~\n'],
    ];
    for (const [args, stderr] of cases) {
      const r = run(...args);
      assert.equal(r.stderr, stderr, args.join(' ').slice(0, 80));
      assert.equal(r.status, 2, args.join(' ').slice(0, 80));
    }
    // files: braces and ifs 3000 deep, 40 #defines that each double the one below
    const braces = join(dir, 'braces.bt');
    writeFileSync(braces, `BEGIN\n{\n${'{ if (1) '.repeat(1500)}{ }${' }'.repeat(1500)}\n}\n`);
    const deep = run(braces);
    assert.equal(deep.status, 2);
    assert.match(deep.stderr, new RegExp(`^${braces.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:3:\\d+-\\d+: ERROR: ${nested}\n`));
    const doubling = join(dir, 'doubling.bt');
    writeFileSync(doubling, `${Array.from({ length: 40 }, (_, i) => `#define M${i} M${i + 1} M${i + 1}`).join('\n')}\nBEGIN { @x = M0; }\n`);
    const expansion = run(doubling);
    assert.equal(expansion.status, 2);
    assert.equal(expansion.stderr, at(doubling, 'BEGIN { @x = M0; }', 41, 14, 16, 'macro expansion too large: more than 100000 tokens'));
    // a NUL cannot be in an argument, but it can be in a file
    const nul = join(dir, 'nul.bt');
    writeFileSync(nul, 'BEGIN { @x = 1; \0 }\n');
    const withNul = run(nul);
    assert.equal(withNul.status, 2);
    assert.equal(withNul.stderr, `${nul}:1:17-18: ERROR: syntax: expected expression\nBEGIN { @x = 1; \\x00 }\n${' '.repeat(16)}~~~~\n`);
    for (const r of [deep, expansion, withNul]) assert.doesNotMatch(r.stderr, /internal error|\n {4}at /);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kiotrace - reads the program from standard input, as bpftrace does', () => {
  const r = spawnSync(process.execPath, [cli, '-'], { encoding: 'utf8', cwd: repoRoot(), input: 'BEGIN { printf("hello world!\\n"); exit(); }' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'hello world!\n\n\n');
  const bad = spawnSync(process.execPath, [cli, '-'], { encoding: 'utf8', cwd: repoRoot(), input: 'BEGIN { nope(); }' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^stdin:1:9-15: ERROR: Unknown function: 'nope'/);
});

test('-lv lists several comma-separated patterns, and a kernel struct\'s definition as bpftrace does', () => {
  const r = run('-lv', 'kprobe:vfs_read,struct qstr');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'kprobe:vfs_read\n    struct file *file\n    char *buf\n    size_t count\n    loff_t *pos\nvmlinux: struct qstr {\n\tconst unsigned char * name;\n\tu32 len;\n};\n');
  assert.equal(run('-l', 'interval:*').stdout, 'interval:hz:\ninterval:ms:\ninterval:s:\ninterval:us:\n');
});

test('--probe-filter REGEX runs only the probes whose names match (BEGIN and END always), as bpftrace does', () => {
  const r = run('--probe-filter', 'interval:ms:(200|300)', '-e', 'BEGIN { printf("begin\\n"); } interval:ms:100 { printf("bad\\n"); exit(); } interval:ms:200 { printf("a\\n"); } interval:ms:300 { printf("b\\n"); exit(); } END { printf("end\\n"); }');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'begin\na\nb\nend\n\n\n');
  const none = run('--probe-filter', 'nonexistent_probe_xyz_42', '-e', 'kprobe:vfs_read { exit(); }');
  assert.equal(none.status, 1);
  assert.equal(none.stdout, 'No probes to attach\n');
  const bad = run('--probe-filter', '[invalid', '-e', 'kprobe:vfs_read { exit(); }');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^ERROR: Invalid --probe-filter regex: \[invalid /);
});
