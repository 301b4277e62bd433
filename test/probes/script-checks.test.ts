// What --dry-run refuses, as full rendered text: everything a program would get wrong at run time
// is checked when it compiles (lhist arguments, map shapes, printf fields, exit codes, timer
// rates, sizes, macro growth, an empty program); and the runaway cases that can only show at run
// time stop with one message each and a count at the end.
import test from 'node:test';
import assert from 'node:assert/strict';
import { scenario } from '../helpers/machine.js';
import { scriptOptions } from '../helpers/script.js';
import { prepareRun } from '../../tui/run.js';
import { runScript, startScript } from '../../probes/script.js';
import { globMatches } from '../../core/index.js';
import { excerptLines } from './excerpt.js';

interface Outcome {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `program` on `default` (quiet: no "Attached" line), for `durationNs` unless dry. */
function run(program: string, opts: { dryRun?: boolean; durationNs?: number; format?: 'text' | 'json'; positional?: readonly string[] } = {}): Outcome {
  const durationNs = opts.durationNs ?? 20e6;
  const m = prepareRun(scenario('default'), { seed: 1, durationNs });
  let stdout = '';
  let stderr = '';
  const r = runScript(
    m,
    scriptOptions(
      program,
      durationNs,
      (t, stream) => {
        if (stream === 'stdout') stdout += t;
        else stderr += t;
      },
      { quiet: true, dryRun: opts.dryRun ?? false, format: opts.format ?? 'text', positional: opts.positional ?? [] },
    ),
  );
  return { exitCode: r.exitCode, stdout, stderr };
}

/** `stdin:1:COL-END: ERROR: message`, the program, `~` under [col, end), then any hint. */
function refusal(program: string, col: number, end: number, message: string, hint?: string): string {
  return [`stdin:1:${col}-${end}: ERROR: ${message}`, excerptLines(program, col, end), ...(hint !== undefined ? [`HINT: ${hint}`] : [])].join('\n') + '\n';
}

/** Each program must be refused by --dry-run with exactly this text on stderr, exit 2. */
function assertRefused(cases: readonly (readonly [program: string, stderr: string])[]): void {
  for (const [program, stderr] of cases) {
    const r = run(program, { dryRun: true });
    assert.equal(r.stderr, stderr, program);
    assert.equal(r.exitCode, 2, program);
    assert.equal(r.stdout, '', program);
  }
}

test('lhist and hist arguments are checked when the program compiles, with bpftrace messages', () => {
  const p = (args: string): string => `BEGIN { @ = lhist(1, ${args}); }`;
  assertRefused([
    [p('0, 10, 0'), refusal(p('0, 10, 0'), 13, 31, 'lhist() step must be >= 1 (0 provided)')],
    [p('0, 100000, 1'), refusal(p('0, 100000, 1'), 13, 35, 'lhist() too many buckets, must be <= 1000 (would need 100000)')],
    [
      p('10, 5, 1'),
      refusal(p('10, 5, 1'), 13, 31, 'lhist() min must be less than max (provided min 10 and max 5)') +
        refusal(p('10, 5, 1'), 13, 31, 'lhist() step is too large for the given range (provided step 1 for range -5)'),
    ],
    [p('0, 10, 20'), refusal(p('0, 10, 20'), 13, 32, 'lhist() step is too large for the given range (provided step 20 for range 10)')],
    [p('-1, 10, 1'), refusal(p('-1, 10, 1'), 13, 32, 'lhist: invalid min value (must be non-negative literal)')],
    ['BEGIN { $m = 1; @ = lhist(1, $m, 10, 1); }', refusal('BEGIN { $m = 1; @ = lhist(1, $m, 10, 1); }', 21, 40, 'lhist: invalid min value (must be non-negative literal)')],
    ['BEGIN { $b = 1; @ = hist(1, $b); }', refusal('BEGIN { $b = 1; @ = hist(1, $b); }', 29, 31, 'hist: invalid bits value, need integer literal')],
    ['BEGIN { @h = hist(1, 1); @h = hist(2, 2); }', refusal('BEGIN { @h = hist(1, 1); @h = hist(2, 2); }', 31, 41, 'hist: bits 2 on @h, which is a histogram with bits 1')],
  ]);
});

test('map shape: a map is used with keys or without, and has_key, len, delete and for agree', () => {
  const scalarThenKeyed = 'BEGIN { @x = 0; @x[1] = 1; }';
  const keyedThenScalar = 'BEGIN { @x[1] = 0; print(@x + 1); }';
  const keyedMessage = '@x used as a map with an explicit key (non-scalar map), previously used without an explicit key (scalar map)';
  const scalarMessage = '@x used as a map without an explicit key (scalar map), previously used with an explicit key (non-scalar map)';
  const hasKey = 'BEGIN { @x = 1; if (has_key(@x, 1)) {} }';
  // the check waits for the map's first use when has_key() comes before it
  const hasKeyFirst = 'BEGIN { if (has_key(@x, 1)) {} @x = 1; }';
  const len = 'BEGIN { @x = 1; $n = len(@x); }';
  const delete2 = 'BEGIN { @x = 1; delete(@x, 1); }';
  const delete1 = 'BEGIN { @x[1] = 1; delete(@x); }';
  const iterate = 'BEGIN { @x = 1; for ($kv : @x) { } }';
  const nestedKey = 'BEGIN { @m[1] = 1; @m[(1, (2, 3))] = 2; }';
  assertRefused([
    [scalarThenKeyed, refusal(scalarThenKeyed, 17, 22, keyedMessage)],
    [keyedThenScalar, refusal(keyedThenScalar, 26, 28, scalarMessage)],
    [hasKey, refusal(hasKey, 29, 31, 'call to has_key() expects a map with explicit keys (non-scalar map)')],
    [hasKeyFirst, refusal(hasKeyFirst, 21, 23, 'call to has_key() expects a map with explicit keys (non-scalar map)')],
    [len, refusal(len, 26, 28, 'call to len() expects a map with explicit keys (non-scalar map)')],
    [delete2, refusal(delete2, 24, 26, 'call to delete() with two arguments expects a map with explicit keys (non-scalar map)')],
    [delete1, refusal(delete1, 27, 29, 'call to delete() with a single argument expects a map without explicit keys (scalar map)')],
    [iterate, refusal(iterate, 28, 30, '@x has no explicit keys (scalar map), and cannot be used for iteration')],
    [nestedKey, refusal(nestedKey, 23, 34, "Argument mismatch for @m: trying to access with arguments: '(int8,(int8,int8))' when map expects arguments: 'int8'")],
  ]);
  // a tuple in a variable has its elements' types when the program compiles: a key of another shape is refused there
  const held = 'BEGIN { $t = (1, 2); @m[$t] = 1; @m[1] = 2; @m[3]++; exit(); }';
  const heldMessage = "Argument mismatch for @m: trying to access with arguments: 'int8' when map expects arguments: '(int8,int8)'";
  assertRefused([[held, refusal(held, 37, 38, heldMessage) + refusal(held, 48, 49, heldMessage)]]);
});

test('printf field widths and precisions have a ceiling; exit() takes an int and exits with its low byte', () => {
  const width = 'BEGIN { printf("%99999d\\n", 1); }';
  const precision = 'BEGIN { printf("%.2000s\\n", "a"); }';
  const exitString = 'BEGIN { $a = "1"; exit($a); }';
  assertRefused([
    [width, refusal(width, 16, 27, 'printf: the field width of %99999d is over the limit of 1024')],
    [precision, refusal(precision, 16, 27, 'printf: the precision of %.2000s is over the limit of 1024')],
    [exitString, refusal(exitString, 19, 27, 'exit() only supports int arguments (string provided)')],
  ]);
  const widest = run('BEGIN { printf("%1024d|\\n", 7); exit(); }');
  assert.equal(widest.stdout, `${' '.repeat(1023)}7|\n\n\n`);
  // bpftrace's exit event carries one byte
  assert.deepEqual([run('BEGIN { exit(257); }').exitCode, run('BEGIN { exit(-1); }').exitCode, run('BEGIN { $x = 1; exit($x + 255); }').exitCode], [1, 255, 0]);
});

test('timers faster than the simulation can run are refused: profile:hz:1000000000, interval:ns:1', () => {
  const hint = (provider: string): string => `use a longer period, e.g. ${provider}:hz:99 or ${provider}:ms:1`;
  const fast = (raw: string, period: string): string => `${raw} fires every ${period}: faster than the simulation can run (the shortest period is 10us, 100000 Hz)`;
  assertRefused([
    ['profile:hz:1000000000 { @ = count(); }', refusal('profile:hz:1000000000 { @ = count(); }', 1, 22, fast('profile:hz:1000000000', '1ns'), hint('profile'))],
    ['interval:ns:1 { @ = count(); }', refusal('interval:ns:1 { @ = count(); }', 1, 14, fast('interval:ns:1', '1ns'), hint('interval'))],
    ['interval:us:9 { exit(); }', refusal('interval:us:9 { exit(); }', 1, 14, fast('interval:us:9', '9us'), hint('interval'))],
    ['interval:s:99999999999 { exit(); }', refusal('interval:s:99999999999 { exit(); }', 1, 23, 'Invalid rate of interval probe: interval:s:99999999999')],
    ['interval:ms:1e3 { exit(); }', refusal('interval:ms:1e3 { exit(); }', 1, 16, 'Invalid rate of interval probe: interval:ms:1e3')],
  ]);
  assert.equal(run('interval:us:10 { exit(); }', { dryRun: true }).exitCode, 0);
});

test('max_map_keys, map declarations and string literals have ceilings tied to max_strlen and memory', () => {
  const memory = 'kiotrace keeps every map in memory; a smaller max_strlen allows more keys';
  const keys = 'config = { max_map_keys = 1000000000 } BEGIN { exit(); }';
  const zero = 'config = { max_map_keys = 0 } BEGIN { exit(); }';
  const strlenZero = 'config = { max_strlen = 0 } BEGIN { exit(); }';
  const strlenText = 'config = { max_strlen = "x" } BEGIN { exit(); }';
  const decl = 'let @a = hash(2000000); BEGIN { exit(); }';
  const declType = 'let @a = btree(10); BEGIN { exit(); }';
  const longString = 'config = { max_strlen = 8 } BEGIN { printf("%s\\n", "123456789"); exit(); }';
  assertRefused([
    [keys, refusal(keys, 12, 37, 'max_map_keys 1000000000 is out of range: it must be between 1 and 1048576', memory)],
    [zero, refusal(zero, 12, 28, 'max_map_keys 0 is out of range: it must be between 1 and 1048576', memory)],
    [strlenZero, refusal(strlenZero, 12, 26, 'max_strlen 0 is out of range: it must be between 1 and 1048576')],
    [strlenText, refusal(strlenText, 12, 28, 'max_strlen: expecting a number, got "x"')],
    [decl, refusal(decl, 1, 23, '@a: max entries 2000000 is out of range: it must be between 1 and 1048576', memory)],
    [declType, refusal(declType, 1, 19, 'Invalid bpf map type: btree', 'Valid map types: hash, lruhash, percpuhash, percpulruhash')],
    [longString, refusal(longString, 52, 63, 'String is too long (over 8 bytes): 123456789', 'raise config max_strlen')],
  ]);
  // a smaller max_strlen allows more keys; a declaration sets the map's size
  assert.equal(run('config = { max_strlen = 64; max_map_keys = 4194304 } BEGIN { exit(); }', { dryRun: true }).exitCode, 0);
  const declared = run('let @a = hash(2); BEGIN { @a[1] = 1; @a[2] = 2; @a[3] = 3; exit(); }');
  assert.equal(declared.stdout, '\n\n@a[1]: 1\n@a[2]: 2\n');
  const lru = run('let @a = lruhash(2); BEGIN { @a[1] = 1; @a[2] = 2; @a[3] = 3; exit(); }');
  assert.deepEqual([lru.stdout, lru.stderr], ['\n\n@a[2]: 2\n@a[3]: 3\n', '']);
});

test('an empty program is refused as bpftrace refuses it: No probes to attach, exit 2', () => {
  const hint = 'HINT: a program needs a probe and its action, e.g. kprobe:vfs_read { @[comm] = count(); }\n';
  assertRefused([
    ['', `stdin:1:1-1: ERROR: No probes to attach\n${hint}`],
    ['  \n\t\n', `stdin:3:1-1: ERROR: No probes to attach\n${hint}`],
    ['// nothing', `stdin:1:11-11: ERROR: No probes to attach\n// nothing\n${' '.repeat(10)}\n${hint}`],
    ['/* a */\n// b\n', `stdin:3:1-1: ERROR: No probes to attach\n${hint}`],
    ['config = { max_map_keys = 10 }\n', `stdin:2:1-1: ERROR: No probes to attach\n${hint}`],
    [
      'config = { missing_probes = ignore } kprobe:nope_a { } kprobe:nope_b { }',
      refusal('config = { missing_probes = ignore } kprobe:nope_a { } kprobe:nope_b { }', 38, 51, 'No probes to attach', 'config missing_probes skipped every probe of the program'),
    ],
  ]);
});

test('macros that expand into macros are bounded in depth and in size', () => {
  // ten macros, each passing a 200-term sum to the next: 2000 levels once expanded
  const deep = Array.from({ length: 10 }, (_, i) => `macro m${i}(x) { ${i === 9 ? 'x' : `m${i + 1}(${Array<string>(200).fill('x').join('+')})`} }`).join(' ') + ' BEGIN { $y = m0(1); exit(); }';
  const call = deep.indexOf('m0(1)') + 1;
  assertRefused([[deep, refusal(deep, call, call + 5, 'nested too deeply after macro expansion: more than 1500 levels')]]);
  // thirty macros that each use the next twice: 2^30 expansions without a ceiling
  const doubling = Array.from({ length: 30 }, (_, i) => `macro e${i}(x) { e${i + 1}(x) + e${i + 1}(x) }`).join(' ') + ' macro e30(x) { x } BEGIN { $y = e0(1); exit(); }';
  const at = doubling.indexOf('e0(1)') + 1;
  assertRefused([[doubling, refusal(doubling, at, at + 5, 'program too large after macro expansion: more than 250000 statements and expressions')]]);
});

test('runaway firings stop with one message and a count at the end: while bound, instruction budget, full maps, values that grow', () => {
  const loop = 'interval:ms:1 { $i = 0; while ($i < 20000) { $i++; } } interval:ms:5 { exit(); }';
  const loopAt = 'stdin:1:25-53';
  const underLoop = ' '.repeat(24) + '~'.repeat(28);
  assert.deepEqual(run(loop), {
    exitCode: 0,
    stdout: '\n\n',
    stderr:
      `${loopAt}: WARNING: while loops are deprecated; use a for loop over a range\n${loop}\n${underLoop}\n` +
      `${loopAt}: WARNING: while loop stopped after 10000 iterations; the rest of the loop was skipped\n${loop}\n${underLoop}\n` +
      `WARNING: the while loop at ${loopAt} was stopped after 10000 iterations in 4 firings\n`,
  });
  const budget = 'interval:ms:1 { for ($i : 0..1000000) { @n++; } } interval:ms:5 { exit(); }';
  assert.deepEqual(run(budget), {
    exitCode: 0,
    stdout: '\n\n@n: 200000\n',
    stderr:
      `stdin:1:1-14: WARNING: probe exceeded its instruction budget of 100000; the rest of this firing was skipped\n${budget}\n${'~'.repeat(13)}\n` +
      'WARNING: the probe at stdin:1:1-14 exceeded its instruction budget in 4 firings\n',
  });
  const full = run('config = { max_map_keys = 2 } interval:us:100 { @m[nsecs] = count(); } interval:ms:5 { exit(); }');
  assert.deepEqual(full, {
    exitCode: 0,
    stdout: '\n\n@m[100000]: 1\n@m[200000]: 1\n',
    stderr:
      "WARNING: Map full; can't update element. Try increasing max_map_keys config or manually setting the max entries in a map declaration e.g. `let @a = hash(5000)`\n" +
      'Additional Info - helper: map_update_elem, retcode: -7\n' +
      'WARNING: Map full: @m refused 47 updates in all (max entries 2)\n',
  });
  const fullJson = run('config = { max_map_keys = 2 } interval:us:100 { @m[nsecs] = count(); } interval:ms:5 { exit(); }', { format: 'json' });
  assert.equal(
    fullJson.stdout,
    '{"type": "helper_error", "msg": "Argument list too long", "helper": "map_update_elem", "retcode": -7}\n' +
      '{"type": "runtime_error", "msg": "Map full: @m refused 47 updates in all (max entries 2)"}\n' +
      '{"type": "map", "data": {"@m": {"100000": 1, "200000": 1}}}\n',
  );
  // probes that each use a whole budget and fire often would take hours of wall time: stopped, results kept
  const crawl = 'kprobe:vfs_read { for ($i : 0..1000000) { @m++; } }';
  assert.deepEqual(run(crawl), {
    exitCode: 1,
    stdout: '\n\n@m: 10050000\n',
    stderr:
      `stdin:1:1-16: WARNING: probe exceeded its instruction budget of 100000; the rest of this firing was skipped\n${crawl}\n${'~'.repeat(15)}\n` +
      'WARNING: the program was stopped at 944.3us of simulated time: its probes had run 20100201 instructions, more than the simulation keeps up with (20000000 per simulated second)\n' +
      'WARNING: the probe at stdin:1:1-16 exceeded its instruction budget in 201 firings\n',
  });
  const grow = 'BEGIN { $t = (1, 2); for ($i : 0..100) { $t = ($t, $t); } print($t); exit(); }';
  assert.deepEqual(run(grow), {
    exitCode: 0,
    stdout: '\n\n',
    stderr: `stdin:1:47-55: WARNING: this value grew past 32 levels of nesting or 10000 values (a tuple built from itself?); the rest of this firing was skipped\n${grow}\n${' '.repeat(46)}~~~~~~~~\n`,
  });
});

test('the end-of-run counts come in the order their warnings were first printed, the maps among the rest', () => {
  // @z fills before @a, both before the while loop is first cut (it runs from the second firing)
  const program = 'config = { max_map_keys = 1 } interval:ms:1 { @n++; @z[nsecs] = 1; @a[nsecs] = 1; $i = 0; while ($i < 20000 && @n > 1) { $i++; } } interval:ms:4 { exit(); }';
  const loopAt = 'stdin:1:91-129';
  const underLoop = `${program}\n${' '.repeat(90)}${'~'.repeat(38)}\n`;
  const mapFull =
    "WARNING: Map full; can't update element. Try increasing max_map_keys config or manually setting the max entries in a map declaration e.g. `let @a = hash(5000)`\n" +
    'Additional Info - helper: map_update_elem, retcode: -7\n';
  assert.deepEqual(run(program), {
    exitCode: 0,
    stdout: '\n\n@a[1000000]: 1\n@n: 3\n@z[1000000]: 1\n',
    stderr:
      `${loopAt}: WARNING: while loops are deprecated; use a for loop over a range\n${underLoop}` +
      mapFull +
      mapFull +
      `${loopAt}: WARNING: while loop stopped after 10000 iterations; the rest of the loop was skipped\n${underLoop}` +
      'WARNING: Map full: @z refused 2 updates in all (max entries 1)\n' +
      'WARNING: Map full: @a refused 2 updates in all (max entries 1)\n' +
      `WARNING: the while loop at ${loopAt} was stopped after 10000 iterations in 2 firings\n`,
  });
});

test('attach point globs match without backtracking blow-up; an attach point longer than any name is refused', () => {
  const table: readonly (readonly [glob: string, name: string, matches: boolean])[] = [
    ['kprobe:vfs_*', 'kprobe:vfs_read', true],
    ['kprobe:vfs_*', 'kprobe:do_vfs_read', false],
    ['tracepoint:block:block_rq_?ssue', 'tracepoint:block:block_rq_issue', true],
    ['a?c', 'ac', false],
    ['*a*b', 'xaxb', true],
    ['*a*b', 'xaxbx', false],
    ['**', '', true],
    ['a*', 'a', true],
    ['', 'a', false],
    ['*', 'anything', true],
    // as a regular expression this one takes seconds per name
    ['*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'a'.repeat(60), false],
  ];
  for (const [glob, name, matches] of table) assert.equal(globMatches(glob, name), matches, `${glob} ~ ${name}`);
  const stars = 'kprobe:*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b { }';
  const long = `kprobe:v${'x'.repeat(2000)} { }`;
  assertRefused([
    [stars, refusal(stars, 1, 40, "Probe has no valid attach points. If this is expected, set the 'missing_probes' config variable to 'warn'.")],
    [long, refusal(long, 1, 2009, 'attach point too long: 2008 characters, longer than any probe name (the limit is 1024)')],
  ]);
});

test('a map that could outgrow the maps\' memory by itself is refused when it compiles, with how many keys fit', () => {
  // a million keys of a thousand lhist buckets each took 4 GB and aborted (V8 out of memory)
  const lhist = 'config = { max_map_keys = 1048576 } kprobe:vfs_read { @a[nsecs] = lhist(nsecs % 1000, 0, 1000, 1); }';
  const strings = 'let @s = hash(1000000); kprobe:vfs_read { @s[str(arg0)] = count(); }';
  assertRefused([
    [
      lhist,
      refusal(
        lhist,
        55,
        57,
        '@a: 1048576 keys of up to 8.1 KiB each could take 8.1 GiB, more than the 1.0 GiB kiotrace keeps for all maps',
        'lower max_map_keys to 129304 or declare the map smaller: let @a = hash(129304)',
      ),
    ],
    [strings, refusal(strings, 43, 45, '@s: 1000000 keys of up to 2.2 KiB each could take 2.1 GiB, more than the 1.0 GiB kiotrace keeps for all maps', 'declare it smaller: let @s = hash(467657)')],
  ]);
  // what fits is taken: the same lhist with as many keys as fit, integer keys at the ceiling of max_map_keys
  assert.equal(run(lhist.replace('1048576', '129304'), { dryRun: true }).exitCode, 0);
  assert.equal(run('config = { max_map_keys = 1048576 } kprobe:vfs_read { @[tid, nsecs] = count(); @c[comm] = count(); }', { dryRun: true }).exitCode, 0);
});

test('lhist bounds are fixed by a map\'s first lhist: other bounds on the same map are refused', () => {
  const two = 'BEGIN { @a = lhist(1, 0, 10, 1); @a = lhist(1, 0, 20, 2); }';
  assertRefused([[two, refusal(two, 39, 57, 'Different lhist bounds in a single map unsupported', '@a is an lhist(n, 0, 10, 1) where it is first used; use the same bounds or another map')]]);
  assert.equal(run('BEGIN { @a[1] = lhist(1, 0, 10, 1); @a[2] = lhist(5, 0, 10, 1); @b = lhist(1, 0, 20, 2); exit(); }', { dryRun: true }).exitCode, 0);
});

test('a literal divisor of 0 and literal arithmetic out of 64 bits are refused when the program compiles', () => {
  const literal = 'BEGIN { print(1 / 0); }';
  const modulo = 'BEGIN { $x = 5; print($x % (2 - 2)); }';
  const compound = 'BEGIN { $x = 5; $x /= 0; }';
  const mapCompound = 'BEGIN { @x = 5; @x %= 0; }';
  const overflow = 'BEGIN { print(18446744073709551615 + 1); }';
  const underflow = 'BEGIN { print(-9223372036854775807 - 2); }';
  assertRefused([
    [literal, refusal(literal, 19, 20, 'division by zero: the divisor is always 0')],
    [modulo, refusal(modulo, 29, 34, 'modulo by zero: the divisor is always 0')],
    [compound, refusal(compound, 23, 24, 'division by zero: the divisor is always 0')],
    [mapCompound, refusal(mapCompound, 23, 24, 'modulo by zero: the divisor is always 0')],
    [overflow, refusal(overflow, 15, 39, 'unable to fold literals due to overflow or underflow')],
    [underflow, refusal(underflow, 15, 39, 'unable to fold literals due to overflow or underflow')],
  ]);
});

test('division and modulo truncate toward zero on signed values; a divisor of 0 at run time gives 1 with one warning and a count', () => {
  const table: readonly (readonly [expression: string, printed: string])[] = [
    ['-10 / 3', '-3'],
    ['-10 % 3', '-1'],
    ['10 / -3', '-3'],
    ['7 % -3', '1'],
    ['-7 / -2', '3'],
    ['$m / 3', '-3'],
    ['$m % 3', '-1'],
    ['$m / -4', '2'],
    // INT64_MIN / -1 wraps as 64-bit hardware division does
    ['(-9223372036854775807 - 1) / $n', '-9223372036854775808'],
    // a uint64 past INT64_MAX divides unsigned
    ['~0 / 2', '9223372036854775807'],
    ['18446744073709551615 % 10', '5'],
  ];
  for (const [expression, printed] of table) {
    const r = run(`BEGIN { $m = -10; $n = -1; print(${expression}); exit(); }`);
    assert.deepEqual([r.stdout, r.stderr, r.exitCode], [`${printed}\n\n\n`, '', 0], expression);
  }
  const zero = 'interval:ms:1 { $z = 0; @q = 5 / $z; @r = 7 % $z; $v = 9; $v /= $z; @v = $v; } interval:ms:5 { exit(); }';
  const warned = (col: number, end: number): string =>
    `stdin:1:${col}-${end}: WARNING: Divide or modulo by 0 detected. This can lead to unexpected results. 1 is being used as the result.\n${zero}\n${' '.repeat(col - 1)}${'~'.repeat(end - col)}\n`;
  assert.deepEqual(run(zero), {
    exitCode: 0,
    stdout: '\n\n@q: 1\n@r: 1\n@v: 1\n',
    stderr:
      warned(30, 36) +
      warned(43, 49) +
      warned(59, 67) +
      'WARNING: the division at stdin:1:30-36 was by 0 4 times; 1 was used as the result\n' +
      'WARNING: the modulo at stdin:1:43-49 was by 0 4 times; 1 was used as the result\n' +
      'WARNING: the division at stdin:1:59-67 was by 0 4 times; 1 was used as the result\n',
  });
});

test('types are checked when the program compiles: aggregation and strerror arguments, fields and tuple indexes, casts', () => {
  const table: readonly (readonly [program: string, col: number, end: number, message: string, hint?: string])[] = [
    ['BEGIN { @a = hist("a"); }', 19, 22, 'hist() only supports integer arguments (string[2] provided)'],
    ['BEGIN { @a = lhist("a", 0, 10, 1); }', 20, 23, 'lhist() only supports integer arguments (string[2] provided)'],
    ['BEGIN { @a = sum(true); }', 18, 22, 'sum() only supports integer arguments (bool provided)'],
    ['BEGIN { print(strerror("a")); }', 24, 27, 'strerror() only supports integer arguments (string[2] provided)'],
    ['tracepoint:block:block_rq_issue { print(args.rwbs.x); }', 41, 52, "Can not access field 'x' on expression of type 'string'"],
    ['BEGIN { $x = 1; print($x.y); }', 23, 27, "Can not access field 'y' on expression of type 'int64'"],
    ['BEGIN { $t = (1, 2); print($t.5); }', 28, 32, 'Invalid tuple index: 5. Found 2 elements in tuple.'],
    ['BEGIN { print((1, 2).2); }', 15, 23, 'Invalid tuple index: 2. Found 2 elements in tuple.'],
    ['BEGIN { $x = 1; print($x.0); }', 23, 27, "Can not access index '0' on expression of type 'int64'"],
    ['BEGIN { print((foo)1); }', 16, 19, "Unknown type: 'foo'", 'casts take integer types (int8 ... uint64, u32, ...) and pointers, e.g. (struct request *)arg0'],
    ['BEGIN { print((int8)"s"); }', 15, 24, "Cannot cast from 'string[2]' to 'int8'"],
    ['BEGIN { print((struct request)1); }', 16, 30, "Cannot cast to struct type 'struct request': only to integers and pointers", 'cast to a pointer, e.g. (struct request *)arg0'],
  ];
  assertRefused(table.map(([program, col, end, message, hint]) => [program, refusal(program, col, end, message, hint)] as const));
  // what stays allowed: a tuple variable of one size, records, a task's fields, casts to integers
  const fine = 'kprobe:vfs_read { $t = (1, "a"); $t = (2, "b"); $r = (a = 1); printf("%d %s %d %d %d\\n", $t.0, $t.1, $r.a, curtask.pid, (uint8)257); exit(); }';
  assert.deepEqual(run(fine), { exitCode: 0, stdout: '2 b 1 4 1\n\n\n', stderr: '' });
});

test('print(args) prints a tracepoint\'s fields as a record, as bpftrace does', () => {
  const r = run('tracepoint:block:block_rq_issue { print(args); $a = args; printf("%d\\n", $a.bytes); exit(); }');
  assert.deepEqual(r, {
    exitCode: 0,
    stdout: '{ .dev = 271581184, .sector = 521781856, .nr_sector = 8, .bytes = 4096, .ioprio = 0, .rwbs = R, .comm = rand-direct, .cmd =  }\n4096\n\n\n',
    stderr: '',
  });
});

test('no misleading output: ksym of an unknown address, strftime of a negative time, unroll and func where they cannot be, bool options', () => {
  const printed: readonly (readonly [expression: string, text: string])[] = [
    // every simulated address is unknown: the 64-bit address in hex (it printed 0x-1)
    ['ksym(-1)', '0xffffffffffffffff'],
    ['ksym(4096)', '0x1000'],
    // a time is a uint64 of nanoseconds (it printed -1:-1:-1 -1 0000-1)
    ['strftime("%H:%M:%S %s %f", -1)', '23:34:33 18446744073 709551'],
    ['strftime("%H:%M:%S %f", 3723000004000)', '01:02:03 000004'],
  ];
  for (const [expression, text] of printed) {
    const r = run(`BEGIN { print(${expression}); exit(); }`);
    assert.deepEqual([r.stdout, r.stderr], [`${text}\n\n\n`, ''], expression);
  }
  const unrollHint = 'the count is fixed when the program compiles, e.g. unroll(5); loop a count known only at run time with for ($i : 0..$n)';
  const unrollVar = 'BEGIN { $n = 3; unroll($n) { printf("x\\n"); } }';
  const unrollParam = 'BEGIN { unroll($1) { printf("x\\n"); } }';
  const funcBegin = 'BEGIN { print(func); }';
  const funcInterval = 'interval:ms:1 { print(func); }';
  const funcHint = 'func is the traced function of a kprobe or kretprobe';
  assertRefused([
    [unrollVar, refusal(unrollVar, 24, 26, 'unroll count must be an integer literal', unrollHint)],
    [unrollParam, refusal(unrollParam, 16, 18, 'unroll count is not given: the parameter $1 must be an integer', unrollHint)],
    [funcBegin, refusal(funcBegin, 15, 19, 'The func builtin can not be used with begin probes', funcHint)],
    [funcInterval, refusal(funcInterval, 23, 27, 'The func builtin can not be used with interval probes', funcHint)],
  ]);
  // a literal sum and a positional parameter are fixed at compile time
  assert.equal(run('BEGIN { unroll(1 + 1) { printf("x"); } unroll($1) { printf("y"); } exit(); }', { positional: ['3'] }).stdout, 'xxyyy\n\n');
  assert.equal(run('kprobe:vfs_read { print(func); exit(); }').stdout, 'vfs_read\n\n\n');
  // bool options take true/false (1/0, yes/no); anything else was read as true
  const flag = 'BEGIN { printf("%d %d\\n", getopt("x", true), getopt("y")); exit(); }';
  const table: readonly (readonly [args: readonly string[], printed: string])[] = [
    [[], '1 0'],
    [['--x=false', '--y'], '0 1'],
    [['--x=0', '--y=TRUE'], '0 1'],
    [['--x=no', '--y=yes'], '0 1'],
  ];
  for (const [args, out] of table) assert.equal(run(flag, { positional: args }).stdout, `${out}\n\n\n`, args.join(' '));
  const bad = run(flag, { positional: ['--x=banana'], dryRun: true });
  assert.deepEqual(
    [bad.exitCode, bad.stderr],
    [2, refusal(flag, 27, 44, "getopt: --x is a bool option: its value must be true or false, not 'banana'", '--x alone is true; --x=false turns it off')],
  );
});

test('the preprocessor refuses what it would silently skip: quoted includes (no file is read), imports, unknown directives', () => {
  const lines = (first: string): string => `${first}\nBEGIN { exit(); }`;
  // an import statement is underlined without its ';'
  const refusedLine = (first: string, message: string, hint?: string): string => {
    const width = first.endsWith(';') ? first.length - 1 : first.length;
    return [`stdin:1:1-${width + 1}: ERROR: ${message}`, first, '~'.repeat(width), ...(hint !== undefined ? [`HINT: ${hint}`] : [])].join('\n') + '\n';
  };
  const table: readonly (readonly [first: string, message: string, hint?: string])[] = [
    ['#include "/etc/passwd"', '#include "/etc/passwd": kiotrace does not read files a script includes; kernel types come from the simulated BTF', 'use #include <linux/...> for kernel headers, or put the definitions in the script'],
    ['import "foo";', 'import "foo": kiotrace does not import script files', 'put the macros and probes of the library in this script'],
    ['#nonsense', 'invalid preprocessing directive #nonsense'],
    ['#error stop here', '#error stop here'],
    ['#include', '#include expects "FILENAME" or <FILENAME>'],
    ['#define 5', '#define: expected a macro name'],
  ];
  assertRefused(table.map(([first, message, hint]) => [lines(first), refusedLine(first, message, hint)] as const));
  // still fine: a shebang, pragmas, the null directive, unknown directives in a false #if, kernel headers
  const fine = '#!/usr/bin/env bpftrace\n#pragma once\n#\n#if 0\n#nonsense\n#endif\n#include <linux/sched.h>\n#include <linux/blkdev.h>\nBEGIN { print(TASK_RUNNING); exit(); }';
  assert.deepEqual(run(fine), { exitCode: 0, stdout: '0\n\n\n', stderr: '' });
});

test('the live maps (--tui) are the first 500 lines of at most 1000 characters: 20000 keys of 8000 characters are not built as 160 MB of text ten times a second (3.5 GB and no screen)', () => {
  const m = prepareRun(scenario('default'), { seed: 1, durationNs: 1e6 });
  const long = 'x'.repeat(3000);
  const program = `config = { max_strlen = 4096 } BEGIN { for ($i : 0..2000) { @m["${long}", $i] = $i; } @h = hist(5); @a = 1; } kprobe:vfs_read { @reads = count(); }`;
  const started = startScript(m, scriptOptions(program, 1e6, () => {}, { quiet: true }));
  assert.ok('maps' in started, JSON.stringify(started));
  const lines = started.maps().split('\n');
  // @a, then the hist (its title, bucket, blank line), then @m's smallest values, each cut
  assert.equal(lines.length, 500 + 1);
  assert.equal(lines[500], '');
  assert.deepEqual(lines.slice(0, 6), ['@a: 1', '@h:', '[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|', '', `@m[${long.slice(0, 997)}`, `@m[${long.slice(0, 997)}`]);
  assert.ok(lines.every((l) => l.length <= 1000));
  started.finish();
});

test('/ and % of a string or a tuple are refused where they are written (they printed 0 and said nothing)', () => {
  for (const [program, at, what] of [
    ['BEGIN { print(("a", 1) / 2); }', 15, '/ operator can not be used on a tuple'],
    ['BEGIN { print(comm % 2); }', 15, '% operator can not be used on a string'],
    ['BEGIN { $s = "x"; print(4 / $s); }', 29, '/ operator can not be used on a string'],
  ] as const) {
    const r = run(program);
    assert.equal(r.exitCode, 2, program);
    assert.equal(r.stderr.split('\n')[0]!.replace(/-\d+:/, ':'), `stdin:1:${at}: ERROR: The ${what}`, program);
    assert.equal(r.stdout, '');
  }
  assert.equal(run('BEGIN { print(7 / 2); print(-7 % 2); exit(); }').stdout, '3\n-1\n\n\n');
});
