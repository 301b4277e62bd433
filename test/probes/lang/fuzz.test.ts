// A seeded fuzzer for the script language: it generates and mutates programs (every construct
// nested past its limit, long chains, token soup, the shipped scripts and the runtime goldens'
// programs with bytes changed, huge numbers, odd escapes, unicode, NUL bytes, very long names
// and strings) and runs each through parse and compile as --dry-run does, and a sample of those
// that compile through a short simulated run. Whatever the input: no exception escapes, every
// diagnostic has a location, and errors mean exit 2.
//
// KIOTRACE_FUZZ_CASES=200000 (and KIOTRACE_FUZZ_SEED=N) run a bigger batch; the default is small.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../helpers/repo.js';
import { scenario } from '../../helpers/machine.js';
import { prepareRun } from '../../../tui/run.js';
import { runScript, type ScriptOptions } from '../../../probes/script.js';
import { renderDiagnostic } from '../../../probes/lang/diagnostics.js';
import { SourceFile } from '../../../probes/lang/source.js';
import { CASES } from '../runtime-cases.js';
import type { Machine } from '../../../core/index.js';
import { FuzzRandom } from '../../helpers/fuzz-random.js';

const CASE_COUNT = Number(process.env['KIOTRACE_FUZZ_CASES'] ?? 1500);
const SEED = Number(process.env['KIOTRACE_FUZZ_SEED'] ?? 1);
/** One program in this many of those that compile also runs for RUN_NS of simulated time. */
const RUN_EVERY = 5;
const RUN_NS = 1e6;

// ---- material ------------------------------------------------------------------------------

const SHIPPED: readonly string[] = readdirSync(join(repoRoot(), 'traces', 'scripts'))
  .filter((f) => f.endsWith('.bt'))
  .sort()
  .map((f) => readFileSync(join(repoRoot(), 'traces', 'scripts', f), 'utf8'));

const SEEDS: readonly string[] = [
  ...SHIPPED,
  ...CASES.filter((c) => c.program !== '').map((c) => c.program),
  'kprobe:vfs_read /pid > 0/ { @c[comm] = count(); @s = sum(arg1); @h = hist(arg1); }',
  'tracepoint:block:block_rq_issue { @[args.rwbs] = lhist(args.bytes, 0, 65536, 4096); }',
  'macro add(x, y) { x + y } BEGIN { $t = (1, "a", (2, 3)); printf("%d %s\\n", add($t.0, 2), $t.1); exit(); }',
  'interval:ms:1 { $i = 0; while ($i < 5) { $i++; } @n[$i % 2, "k"] = count(); if (@n[1, "k"] > 3) { exit(3); } }',
  'BEGIN { for ($i : 0..10) { @a[$i] = $i * 2; } for ($kv : @a) { @s = sum($kv.1); } print(@a, 3); delete(@a, 1); clear(@a); exit(); }',
  'config = { max_map_keys = 8; missing_probes = warn } kprobe:nope, kprobe:vfs_write { @w[tid] = nsecs; } kretprobe:vfs_write /@w[tid]/ { @us = hist((nsecs - @w[tid]) / 1000); delete(@w, tid); }',
  '#define LIMIT 4\n#ifdef BPFTRACE_HAVE_BTF\nBEGIN { $r = (a = 1, b = "x"); print($r); unroll(LIMIT) { @u++; } exit(); }\n#endif\n',
  'profile:hz:99 { @[kstack(3)] = count(); } interval:ms:20 { print(@); exit(); }',
];

const TOKENS: readonly string[] = [
  'BEGIN', 'END', 'begin', 'kprobe:vfs_read', 'kretprobe:vfs_read', 'tracepoint:block:block_rq_issue', 'interval:ms:1', 'profile:hz:99', 'i:s:1', 'tracepoint:sched:*',
  'kprobe:*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b', 'kprobe:vfs_?ead', 't:*:*',
  '{', '}', '(', ')', '[', ']', ',', ';', ':', '?', '.', '..', '->', '/', '*', '+', '-', '%', '&', '|', '^', '!', '~', '<', '>', '=',
  '<=', '>=', '==', '!=', '<<', '>>', '&&', '||', '++', '--', '+=', '-=', '<<=', '>>=',
  'if', 'else', 'while', 'for', 'unroll', 'return', 'break', 'continue', 'let', 'macro', 'config', 'import', 'sizeof', 'offsetof', 'struct', 'union', 'enum',
  'pid', 'tid', 'comm', 'nsecs', 'cpu', 'arg0', 'arg1', 'retval', 'args', 'args.bytes', 'curtask', 'kstack', 'ustack', 'probe', 'func', 'ioid', 'elapsed',
  'printf', 'print', 'count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'lhist', 'str', 'strlen', 'exit', 'clear', 'zero', 'delete', 'has_key', 'len', 'time', 'strftime', 'join', 'errorf', 'warnf', 'getopt', 'ksym', 'strerror',
  '@', '@m', '@x', '$x', '$t', '$1', '$#', '$0', '0', '1', '-1', '1000', '0x10', '1e3', '1ms', '18446744073709551615', '18446744073709551616',
  '"a"', '"%d\\n"', '"%s %d\\n"', '"\\x41"', '"%*d"', 'true', 'false', '(int8)', '(uint64)', '(struct request *)', 'int8', 'uint32', 'string',
  '#define X 1\n', '#include <linux/sched.h>\n', '#if 1\n', '#endif\n', '\n', '// c\n', '/*', '*/', '"', '\\', '`', '#', '$', '@@',
];

const STRANGE: readonly string[] = [
  '\0', '\x1b[2J', '\x07', '\r', '\r\n', '\t', '\u202e', '\u2066', '\ufeff', '\ud800', '\udc00', '😀', 'é', '中文', '\u0301', '\x7f', '\x85',
  '"\\x"', '"\\777"', '"\\u1234"', '"\\', '"\\0"', '"\\e"', '\\\n',
  '1e999999999', '0x' + 'f'.repeat(40), '9'.repeat(400), '$' + '9'.repeat(30), '$99999999999999999999', '1_', '1__0', '0b101', '08', '1.5', '5min', '1zz',
  '-9223372036854775808', '9223372036854775807', '(int8)999999', '1 << 64', '1 / 0', '1 % 0', '-(-9223372036854775807 - 1)',
];

// ---- generators ----------------------------------------------------------------------------

/** Something nested `d` levels deep, of one construct or a mix: around and far past the limits. */
function nested(r: FuzzRandom): string {
  const d = r.pick([1, 2, 10, 255, 256, 257, 499, 500, 501, r.between(1, 600), r.between(1, 3000)]);
  const n = (s: string, k = d): string => s.repeat(k);
  const chain = (ops: readonly string[], k = d): string => Array.from({ length: k }, (_, i) => (i === 0 ? '1' : `${r.pick(ops)} 1`)).join(' ');
  // the #define doubling (14) and macro chains (16) cost up to their ceilings: fewer of them
  let construct = r.between(0, 22);
  if ((construct === 14 || construct === 16) && r.chance(0.7)) construct = r.pick([0, 1, 2, 11, 20]);
  switch (construct) {
    case 0:
      return `BEGIN { $x = ${n('(')}1${n(')')}; exit(); }`;
    case 1:
      return `BEGIN { ${n('{')} $x = 1; ${n('}')} exit(); }`;
    case 2:
      return `BEGIN { ${n('if (1) { ')}@x = 1;${n(' }')} exit(); }`;
    case 3:
      return `BEGIN { if (0) { } ${n('else if (0) { } ')}else { @x = 1; } exit(); }`;
    case 4:
      return `BEGIN { $x = ${Array.from({ length: d }, () => r.pick(['!', '~', '-', '- '])).join('')}1; exit(); }`;
    case 5:
      return `BEGIN { $x = ${n('1 ? ')}2${n(' : 3')}; exit(); }`;
    case 6:
      return `BEGIN { $x = ${n('strlen(')}"a"${n(')')}; exit(); }`;
    case 7:
      return `BEGIN { @m[1] = 1; $x = ${n('@m[')}1${n(']')}; exit(); }`;
    case 8:
      return `BEGIN { $t = (1, 2); $x = $t${n('[0]')}; exit(); }`;
    case 9:
      return `BEGIN { $x = ${n(r.pick(['(int8)', '(uint64)', '(struct request *)']))}1; exit(); }`;
    case 10:
      return `kprobe:vfs_read { $x = curtask${n(r.pick(['->real_parent', '.real_parent', '.a']))}; exit(); }`;
    case 11:
      return `BEGIN { $x = ${chain(['+', '-', '*', '/', '%', '&', '|', '^', '<<', '>>', '==', '!=', '<', '>', '&&', '||'])}; printf("%d\\n", $x); exit(); }`;
    case 12:
      return `kprobe:vfs_read /${chain(['||', '&&', '+'])}/ { @ = count(); exit(); }`;
    case 13:
      return `${Array.from({ length: Math.min(d, 300) }, (_, i) => `#define D${i} D${i + 1}`).join('\n')}\n#define D${Math.min(d, 300)} 7\nBEGIN { $x = D0; exit(); }`;
    case 14: {
      const levels = r.between(1, 40);
      const defs = Array.from({ length: levels }, (_, i) => `#define M${i} M${i + 1} M${i + 1}`).join('\n');
      return `${defs}\n#define M${levels} 1\nBEGIN { $x = M0; exit(); }`;
    }
    case 15:
      return `#if ${n(r.pick(['(', '!', '-', '1 ? ']))}1${d > 0 && r.chance(0.5) ? n(')') : ''}\nBEGIN { exit(); }\n#endif`;
    case 16: {
      const k = Math.min(d, 60);
      const macros = Array.from({ length: k }, (_, i) => `macro m${i}(x) { m${i + 1}(${r.pick(['x', 'x + x', '(x, x)', 'x * 2 + x'])}) }`).join(' ');
      return `${macros} macro m${k}(x) { x } BEGIN { $y = m0(1); exit(); }`;
    }
    case 17:
      return `BEGIN { $r = ${n('(a = ')}1${n(')')}; print($r); exit(); }`;
    case 18:
      return `BEGIN { $t = ${n('(1, ')}2${n(')')}; print($t); exit(); }`;
    case 19:
      return `BEGIN { $x = ${n('sizeof(')}u64${n(')')}; exit(); }`;
    case 20: {
      // a mix of everything that opens a level
      const opens: readonly (readonly [string, string])[] = [['(', ')'], ['strlen(', ')'], ['@m[', ']'], ['!', ''], ['-', ''], ['1 ? ', ' : 2'], ['(int8)', ''], ['(1, ', ')']];
      const chosen = Array.from({ length: d }, () => r.pick(opens));
      return `BEGIN { @m[1] = 1; $x = ${chosen.map((o) => o[0]).join('')}1${chosen.reverse().map((o) => o[1]).join('')}; exit(); }`;
    }
    case 21:
      return `BEGIN { $t = (1, 2); for ($i : 0..${r.between(0, 200)}) { $t = ${r.pick(['($t, $t)', '($t, 1)', '(a = $t, b = $t)', '($t, $t, $t, $t)'])}; } print($t); exit(); }`;
    default:
      return `BEGIN { ${n('for ($i : 0..2) { ')}@n++;${n(' }')} exit(); }`;
  }
}

function soup(r: FuzzRandom): string {
  const tokens = Array.from({ length: r.between(1, 120) }, () => (r.chance(0.05) ? r.pick(STRANGE) : r.pick(TOKENS)));
  const body = tokens.join(r.chance(0.8) ? ' ' : '');
  switch (r.between(0, 3)) {
    case 0:
      return body;
    case 1:
      return `BEGIN { ${body} }`;
    case 2:
      return `kprobe:vfs_read /${r.pick(TOKENS)}/ { ${body} }`;
    default:
      return `interval:ms:1 { ${body} } interval:ms:3 { exit(); }`;
  }
}

/** Words a program can use in the same places: swapping them keeps the syntax and changes the meaning. */
const SWAPPABLE: readonly string[] = [
  'pid', 'tid', 'comm', 'nsecs', 'cpu', 'arg0', 'arg1', 'retval', 'ioid', 'elapsed', 'kstack', 'probe', 'curtask', '$1', '$2', '$#', '@', '@m', '@x', '$x', '$t',
  'count', 'sum', 'avg', 'min', 'max', 'stats', 'hist', 'str', 'strlen', 'ksym', 'print', 'exit', 'clear', 'zero', 'delete', 'has_key', 'len', 'printf', 'lhist',
];
const SWAP_PATTERN = new RegExp(`(?<![\\w$@])(?:${SWAPPABLE.map((w) => w.replace(/[$#@]/g, '\\$&')).join('|')})(?![\\w])`, 'g');

/** One edit of `text`: a deletion, duplication, insertion, swap, truncation or substitution. */
function mutateOnce(r: FuzzRandom, text: string): string {
  const at = r.between(0, text.length);
  const span = r.between(1, 40);
  switch (r.between(0, 11)) {
    case 10:
    case 11: {
      // a word for another of its kind, so more mutants still compile and run
      const words = [...text.matchAll(SWAP_PATTERN)];
      if (words.length === 0) return text;
      const w = r.pick(words);
      return text.slice(0, w.index) + r.pick(SWAPPABLE) + text.slice(w.index + w[0].length);
    }
    case 0:
      return text.slice(0, at) + text.slice(at + span);
    case 1:
      return text.slice(0, at) + text.slice(at, at + span).repeat(r.pick([2, 3, 50, 1000])) + text.slice(at);
    case 2:
      return text.slice(0, at) + r.pick(TOKENS) + text.slice(at);
    case 3:
      return text.slice(0, at) + r.pick(STRANGE) + text.slice(at);
    case 4: {
      const other = r.between(0, text.length);
      const [a, b] = at < other ? [at, other] : [other, at];
      return text.slice(0, a) + text.slice(b, b + span) + text.slice(a + span, b) + text.slice(a, a + span) + text.slice(b + span);
    }
    case 5:
      return text.slice(0, at);
    case 6:
      return text.replace(/\d+/, () => r.pick(['0', '18446744073709551616', '1e99', '-1', '99999999999999999999999', '256', '1001', '0x7fffffffffffffff']));
    case 7:
      return text.replace(/"/, () => `"${r.pick(STRANGE)}`);
    case 8:
      return text.slice(0, at) + 'x'.repeat(r.pick([100, 5000, 100000])) + text.slice(at);
    default: {
      // splice in a piece of another program
      const donor = r.pick(SEEDS);
      const from = r.between(0, donor.length);
      return text.slice(0, at) + donor.slice(from, from + r.between(1, 80)) + text.slice(at);
    }
  }
}

function mutated(r: FuzzRandom): string {
  let text = r.pick(SEEDS);
  const edits = r.between(1, 6);
  for (let i = 0; i < edits; i++) text = mutateOnce(r, text);
  return text;
}

/** Huge numbers, odd escapes, unicode, NUL bytes, very long names and strings in well-formed places. */
function oddity(r: FuzzRandom): string {
  const long = (ch: string): string => ch.repeat(r.pick([1000, 50000, 200000]));
  switch (r.between(0, 11)) {
    case 0:
      return `BEGIN { $${long('v')} = 1; exit(); }`;
    case 1:
      return `BEGIN { @${long('m')}[1] = 1; exit(); }`;
    case 2:
      return `BEGIN { printf("%s\\n", "${long('s')}"); exit(); }`;
    case 3:
      return `BEGIN { printf("${long('%d')}\\n"); exit(); }`;
    case 4:
      return `BEGIN { @ = lhist(1, ${r.pick(['0', '1e18', '18446744073709551615'])}, ${r.pick(['1e18', '10', '0'])}, ${r.pick(['0', '1', '1e18'])}); exit(); }`;
    case 5:
      return `BEGIN { @ = hist(1, ${r.pick(['6', '-1', '1e18', '$1'])}); printf("%${r.pick(['2147483648', '0', '1024', '1025', '.99999999999'])}d\\n", 1); exit(${r.pick(['256', '-1', '18446744073709551615', '"x"', '(1, 2)'])}); }`;
    case 6:
      return `${r.pick(['interval', 'profile', 'i', 'p'])}:${r.pick(['hz', 'ns', 'us', 'ms', 's', 'x', ''])}:${r.pick(['0', '1', '9', '10', '99', '1000000000', '18446744073709551616', '1e3', ''])} { @ = count(); exit(); }`;
    case 7:
      return `config = { max_map_keys = ${r.pick(['0', '1', '1048576', '1048577', '18446744073709551615', '"x"'])}; max_strlen = ${r.pick(['0', '1', '8', '1048576', '99999999'])} } BEGIN { @m["${long('k').slice(0, r.between(0, 3000))}"] = 1; exit(); }`;
    case 8:
      return `let @a = ${r.pick(['hash', 'lruhash', 'btree', 'percpuhash'])}(${r.pick(['0', '1', '2', '4096', '99999999999'])}); BEGIN { @a[1] = 1; @a[2] = 2; @a[3] = 3; exit(); }`;
    case 9:
      return `BEGIN { printf("${Array.from({ length: r.between(1, 20) }, () => r.pick(STRANGE)).join('')}\\n"); exit(); }`;
    case 10:
      return `BEGIN { $x = ${Array.from({ length: r.between(1, 30) }, () => r.pick(STRANGE)).join(r.pick([' ', '+', ', ']))}; exit(); }`;
    default:
      return r.pick(['', ' ', '\n', '//', '/* */', '#!/usr/bin/env bpftrace\n', '\0', '\ufeff', '{}', 'BEGIN', 'BEGIN {', '}', ';;;', '@', '$', '"']);
  }
}

/** Case `i` of the run: its program text, the same on every run with the same seed. */
function generate(i: number): string {
  const r = new FuzzRandom((SEED * 1_000_003 + i) >>> 0);
  const kind = r.next();
  if (kind < 0.3) return nested(r);
  if (kind < 0.5) return soup(r);
  if (kind < 0.85) return mutated(r);
  return oddity(r);
}

// ---- the checks ----------------------------------------------------------------------------

interface Failure {
  readonly case: number;
  readonly problem: string;
  readonly program: string;
}

/** What bpftrace says about the whole program or its command line, without a location. */
const PROGRAM_WIDE = /^(WARNING: |ERROR: )?(Script is using an unstable feature: |unexpected program command line options: |program command line option --)/;
const HEADER = /^stdin:\d+(?::\d+-\d+|-\d+): (?:ERROR|WARNING): /;
/** kiotrace's crash line, or a line of a JavaScript stack (`    at f (file:///x.js:1:2)`); a source line starting with `at` is neither. */
const CRASH = /internal error|\n {4}at (?:[^\n]* \()?(?:file:|node:|\/)[^\n]*:\d+:\d+\)?(?:\n|$)/;

function options(text: string, dryRun: boolean, out: { text: string }, format: 'text' | 'json' = 'text'): ScriptOptions {
  return {
    sourceName: 'stdin',
    text,
    format,
    // program options only for a program that reads them (others would refuse them, as bpftrace does)
    positional: text.includes('getopt') ? ['7', 'word', '--flag', '--depth=3'] : ['7', 'word'],
    unsafe: false,
    quiet: true,
    verbose: false,
    dryRun,
    durationNs: RUN_NS,
    write: (t) => {
      // a runaway would flood: keep the first MiB to look at
      if (out.text.length < 1 << 20) out.text += t;
    },
  };
}

/** What happened to one program: what is wrong with it if anything, its --dry-run exit code, whether it ran. */
interface Outcome {
  readonly problem?: string;
  readonly exitCode?: number;
  readonly ran?: boolean;
}

function check(text: string, machine: Machine, run: () => boolean): Outcome {
  const problem = (p: string): Outcome => ({ problem: p });
  const out = { text: '' };
  let exitCode: number;
  let rendered: string[];
  try {
    const r = runScript(machine, options(text, true, out));
    exitCode = r.exitCode;
    const source = new SourceFile('stdin', text);
    rendered = r.diagnostics.map((d) => renderDiagnostic(d, source));
    // bpftrace's program-wide notices (LOG(WARNING): the unstable-feature warning) have no location, as there
    for (const d of r.diagnostics) if (d.loc === undefined && !PROGRAM_WIDE.test(d.message)) return problem(`diagnostic without a location: ${d.message.slice(0, 200)}`);
    if (r.diagnostics.some((d) => d.severity === 'error') !== (exitCode === 2)) return problem(`exit ${exitCode} with diagnostics ${JSON.stringify(r.diagnostics.map((d) => d.message.slice(0, 80)))}`);
  } catch (e) {
    return problem(`threw while checking: ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 200)}` : String(e)}`);
  }
  for (const d of rendered) if (!HEADER.test(d) && !PROGRAM_WIDE.test(d)) return problem(`diagnostic header without a location: ${d.slice(0, 200)}`);
  if (CRASH.test(out.text)) return problem(`stack trace or internal error: ${out.text.slice(0, 300)}`);
  if (exitCode !== 0 || !run()) return { exitCode };
  const live = { text: '' };
  try {
    const m = prepareRun(scenario('default'), { seed: 1, durationNs: RUN_NS });
    // every other run in JSON: the other sink
    const r = runScript(m, options(text, false, live, text.length % 2 === 0 ? 'text' : 'json'));
    if (!Number.isInteger(r.exitCode) || r.exitCode < 0 || r.exitCode > 255) return problem(`run exit code ${r.exitCode}`);
  } catch (e) {
    return problem(`threw while running: ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 200)}` : String(e)}`);
  }
  if (CRASH.test(live.text)) return problem(`stack trace or internal error in the run: ${live.text.slice(0, 300)}`);
  return { exitCode, ran: true };
}

test(`fuzz: ${CASE_COUNT} generated and mutated programs (seed ${SEED}) parse and compile without an exception; a sample runs`, () => {
  const machine = prepareRun(scenario('default'), { seed: 1, durationNs: RUN_NS });
  const failures: Failure[] = [];
  let compiled = 0;
  let refused = 0;
  let ran = 0;
  for (let i = 0; i < CASE_COUNT; i++) {
    const text = generate(i);
    const t0 = performance.now();
    const outcome = check(text, machine, () => compiled % RUN_EVERY === 0);
    const dt = performance.now() - t0;
    if (process.env['FUZZ_PROFILE'] !== undefined && dt > 100) process.stdout.write(`# slow ${i} ${dt.toFixed(0)}ms ${JSON.stringify(text.slice(0, 120))} len=${text.length} exit=${outcome.exitCode}\n`);
    if (outcome.problem !== undefined) {
      failures.push({ case: i, problem: outcome.problem, program: text.length > 300 ? `${text.slice(0, 300)}... (${text.length} chars)` : text });
      if (failures.length >= 10) break;
      continue;
    }
    if (outcome.exitCode === 0) compiled++;
    else refused++;
    if (outcome.ran === true) ran++;
  }
  if (process.env['KIOTRACE_FUZZ_CASES'] !== undefined) {
    process.stdout.write(`# fuzz seed ${SEED}: ${CASE_COUNT} cases, ${compiled} compiled, ${refused} refused with exit 2, ${ran} ran, ${failures.length} failures\n`);
  }
  assert.deepEqual(failures, []);
  // the generators reach both sides
  assert.ok(compiled > CASE_COUNT / 20 && refused > CASE_COUNT / 4, `compiled ${compiled}, refused ${refused}`);
});
