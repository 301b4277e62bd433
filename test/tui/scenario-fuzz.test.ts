// Scenario fuzzing: the shipped scenarios mutated (wrong types, prototype names, huge, negative and
// NaN-ish numbers, huge sizes, deep nesting, long strings, control characters, NUL bytes, duplicate
// keys, truncation, stray characters) and run through parsing and validation, from text and from a
// value; the ones still valid boot and run for a few simulated microseconds, summary and steps
// printed. Nothing may throw; every rejection is rendered diagnostics with no raw control
// characters and no stack. Seeded and deterministic: KIOTRACE_FUZZ_CASES raises the count
// (default 4000), KIOTRACE_FUZZ_SEED picks another sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listScenarioNames, parseScenario, parseScenarioText, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { formatReport } from '../../tui/summary.js';
import { recordSteps } from '../../tui/steps.js';
import { repoRoot } from '../helpers/repo.js';
import { FuzzRandom } from '../helpers/fuzz-random.js';

const CASES = Number(process.env['KIOTRACE_FUZZ_CASES'] ?? 4000);
const SEED = Number(process.env['KIOTRACE_FUZZ_SEED'] ?? 1);
const SCENARIOS = join(repoRoot(), 'traces', 'scenarios');

const PROTO_WORDS = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'prototype', 'isPrototypeOf', '__defineGetter__'];
const CONTROL = ['\u001b[2J', '\u001b]0;title\u0007', '\u0000', '\r', '\u0008', '\u009b31m', '\u202e', '\u2066', '\ud800', '\udc00x'];

function nested(depth: number, asObject: boolean): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = asObject ? { jobs: v } : [v];
  return v;
}

/** Values that replace a field: wrong types, edge numbers and sizes, words that mean something elsewhere. */
function poolValue(rng: FuzzRandom): unknown {
  const pool: readonly (() => unknown)[] = [
    () => null,
    () => rng.next() < 0.5,
    () => rng.pick([0, -1, -0, 1, 1.5, 0.1, 1e308, -1e308, 2 ** 53 + 1, 2 ** 31, 4096, 65537, 257, 16, 17, 256, 3600, 1e-7]),
    () => rng.pick([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, undefined, () => 1, Symbol('s'), 10n]),
    () => rng.pick(['', '0', '-4k', '4k', '1p', '4p', '8p', '16t', '17t', '4t', '5t', '64g', '65g', '63m', '64m', '1t', '16m', '17m', '1e400', '9007199254740993']),
    () => rng.pick(['NaN', 'Infinity', '-1s', '0s', '1ns', '1h', '2h', '1d', '99999999999999999999t', '1.5m', '0.3k', '4KiB', '1constructor', '5tostring']),
    () => rng.pick(PROTO_WORDS),
    () => rng.pick(['read', 'randrw', 'readwrite', 'mmap', 'psync', 'sync', 'nvme', 'hdd', 'none', 'mq-deadline', 'bfq', 'io_uring']),
    () => rng.pick(['/mnt/nvme/x', '/mnt/hdd/y', '/dev/nvme0n1', '/dev/sda', '/dev', '/mnt/nvme', '/mnt/nvme/../x', '//x', 'relative', '/mnt/nvme/a\u0000b']),
    () => `${rng.pick(['/mnt/nvme/', 'job', ''])}${rng.pick(CONTROL)}${rng.pick(['x', ''])}`,
    () => 'x'.repeat(rng.pick([41, 129, 4096, 5000, 100_000])),
    () => rng.pick<unknown>([{}, [], [[[]]], Object.create(null), { constructor: 1 }, [{}], [null]]),
    () => nested(rng.pick([10, 63, 64, 65, 200, 3000]), rng.next() < 0.5),
  ];
  return rng.pick(pool)();
}

/** Valid values by key: mutations that keep a scenario runnable reach boot with unusual machines. */
const VALID: Readonly<Record<string, readonly unknown[]>> = {
  rw: ['read', 'write', 'randread', 'randwrite', 'rw', 'randrw', 'readwrite'],
  bs: ['512', '4k', '64k', '1m', '16m', 8192],
  size: ['4k', '1m', '64m', '1g', 4096],
  numjobs: [1, 2, 8, '3'],
  iodepth: [1, 32, 65536],
  ioengine: ['psync', 'sync', 'mmap'],
  direct: [0, 1, true, false, '1'],
  time_based: [0, 1],
  fsync: [0, 1, 7],
  rwmixread: [0, 50, 100],
  thinktime: [0, 20, '1ms', '1h'],
  startdelay: [0, '10us', '1h'],
  runtime: [0, '10us', '1h'],
  duration: ['1ns', '1us', '5ms', '1h', 2],
  steps: [0, 1, 16],
  cpus: [1, 2, 64, 256, '7'],
  memory: ['64m', '1g', '64g'],
  capacity: ['64m', '100m', '1g', '4t', '16t'],
  type: ['nvme', 'hdd'],
  scheduler: ['none', 'mq-deadline'],
};

function newKey(rng: FuzzRandom): string {
  return rng.pick([
    ...PROTO_WORDS,
    'size',
    'jobs',
    'capacity',
    'blocksize',
    'group_reporting',
    'Name',
    'x'.repeat(rng.pick([41, 5000])),
    `k${rng.pick(CONTROL)}`,
    '',
  ]);
}

/** Every object and array in the tree, with the key path to reach it. */
function containers(value: unknown, out: unknown[] = [], depth = 0): unknown[] {
  if (typeof value === 'object' && value !== null && depth < 8) {
    out.push(value);
    for (const v of Object.values(value)) containers(v, out, depth + 1);
  }
  return out;
}

/** One structural mutation of a JSON-like value, in place. */
function mutateValue(rng: FuzzRandom, root: Record<string, unknown>): void {
  const target = rng.pick(containers(root)) as Record<string, unknown> | unknown[];
  const keys = Object.keys(target);
  const op = rng.int(10);
  if (Array.isArray(target)) {
    if (op < 5 && target.length > 0) target[rng.int(target.length)] = poolValue(rng);
    else if (op < 7 && target.length > 0) target.splice(rng.int(target.length), 1);
    else if (op < 9 && target.length > 0) for (let n = rng.pick([1, 2, 70]); n > 0; n--) target.push(JSON.parse(jsonText(target[0], undefined)));
    else target.push(poolValue(rng));
    return;
  }
  const known = keys.filter((k) => Object.hasOwn(VALID, k));
  if (op < 3 && known.length > 0) {
    const key = rng.pick(known);
    target[key] = rng.pick(VALID[key]!);
  } else if (op < 6 && keys.length > 0) target[rng.pick(keys)] = poolValue(rng);
  else if (op < 8 && keys.length > 0) delete target[rng.pick(keys)];
  else Object.defineProperty(target, newKey(rng), { value: poolValue(rng), enumerable: true, configurable: true, writable: true });
}

/** JSON text of a value that may hold what JSON cannot (those parts become null). */
function jsonText(value: unknown, indent: number | undefined): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' || typeof v === 'symbol' || typeof v === 'function' ? null : v), indent) ?? 'null';
  } catch {
    return '{}'; // a nest too deep for JSON.stringify itself
  }
}

function toText(value: unknown, rng: FuzzRandom): string {
  return jsonText(value, rng.next() < 0.5 ? 2 : undefined);
}

/** One text-level mutation: the mistakes a hand-edited file has. */
function mutateText(rng: FuzzRandom, text: string): string {
  const at = rng.int(text.length + 1);
  switch (rng.int(8)) {
    case 0:
      return text.slice(0, at); // truncation
    case 1:
      return text.slice(0, at) + rng.pick(['{', '}', '[', ']', '"', ',', ':', '\\', '\u0000', '\u001b', '\n', '\t', ' ', 'a', '1', '-', '/', '*', "'", '\ufeff']) + text.slice(at);
    case 2:
      return text.slice(0, at) + text.slice(at + rng.int(20));
    case 3: {
      // a duplicate key
      const m = /"(name|duration|size|rw|jobs|machine)"\s*:/.exec(text.slice(at)) ?? /"(name|duration)"\s*:/.exec(text);
      return m === null ? text : text.replace(`"${m[1]!}":`, `"${m[1]!}": "dup", "${m[1]!}":`);
    }
    case 4: {
      const depth = rng.pick([63, 64, 65, 1000, 20_000]);
      return text.replace(/"jobs"\s*:\s*/, `"jobs": ${'['.repeat(depth)}${']'.repeat(depth)}, "x": `);
    }
    case 5:
      return text.replace(/"name"\s*:\s*"/, `"name": "${'\\u001b[31m'.repeat(rng.int(3))}${'n'.repeat(rng.pick([0, 200, 70_000]))}`);
    case 6:
      return `\ufeff${text}${rng.pick(['', ' ', '\n', ' x', '{}'])}`;
    default:
      return text.replace(/(-?\d+)(?=[,}\s])/, rng.pick(['1e999', '-0', '01', '1.', '.5', '0x10', '1_000', '4k', '-']));
  }
}

const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

interface Tally {
  cases: number;
  rejected: number;
  valid: number;
  ran: number;
  byCode: Map<string, number>;
}

function checkResult(result: ScenarioResult, label: string, tally: Tally): void {
  if (result.ok) return;
  assert.ok(result.diagnostics.length >= 1 && result.diagnostics.length <= 51, `${label}: ${result.diagnostics.length} diagnostics`);
  for (const d of result.diagnostics) {
    tally.byCode.set(d.code, (tally.byCode.get(d.code) ?? 0) + 1);
    const text = renderDiagnostic(d);
    assert.ok(text.length > 0 && text.length < 4000, `${label}: diagnostic of ${text.length} characters`);
    assert.ok(!RAW_CONTROL.test(text), `${label}: raw control character in ${JSON.stringify(text)}`);
    assert.ok(!/internal error|\n\s+at /.test(text), `${label}: ${text}`);
    assert.ok(d.message.length > 0);
  }
}

/** Parses `text` (and its value, when it is JSON) and runs what is valid; throws nothing or fails. */
function fuzzOne(rng: FuzzRandom, bases: readonly string[], index: number, tally: Tally): void {
  const label = `seed ${SEED} case ${index}`;
  const value = JSON.parse(rng.pick(bases)) as Record<string, unknown>;
  for (let n = 1 + rng.int(3); n > 0; n--) mutateValue(rng, value);
  let text = toText(value, rng);
  if (rng.next() < 0.4) text = mutateText(rng, text);
  tally.cases++;
  let fromText: ScenarioResult;
  let fromValue: ScenarioResult;
  try {
    fromText = parseScenarioText(text, `fuzz-${index}.json`);
    fromValue = parseScenario(value, `fuzz-${index}.json`);
  } catch (e) {
    assert.fail(`${label}: parsing threw ${e instanceof Error ? e.stack : String(e)}\n${text.slice(0, 2000)}`);
  }
  checkResult(fromText, label, tally);
  checkResult(fromValue, label, tally);
  if (!fromText.ok) tally.rejected++;
  const result = fromText.ok ? fromText : fromValue;
  if (!result.ok) return;
  tally.valid++;
  try {
    const s = result.scenario;
    const durationNs = Math.min(s.durationNs, 50_000);
    const m = prepareRun(s, { seed: index, durationNs });
    const steps = recordSteps(m, 2);
    m.run(durationNs);
    const summary = formatReport(m.report(s.name, index)) + steps.render();
    assert.ok(!RAW_CONTROL.test(summary), `${label}: raw control character in the summary`);
    tally.ran++;
  } catch (e) {
    assert.fail(`${label}: a valid scenario failed to run: ${e instanceof Error ? e.stack : String(e)}\n${text.slice(0, 2000)}`);
  }
}

test(`${CASES} mutated scenarios: no throw, every rejection a rendered diagnostic, every valid one runs`, (t) => {
  const bases = listScenarioNames(SCENARIOS).map((n) => readFileSync(join(SCENARIOS, `${n}.json`), 'utf8'));
  assert.ok(bases.length >= 3);
  const rng = new FuzzRandom(SEED);
  const tally: Tally = { cases: 0, rejected: 0, valid: 0, ran: 0, byCode: new Map() };
  for (let i = 0; i < CASES; i++) fuzzOne(rng, bases, i, tally);
  const codes = [...tally.byCode].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c}=${n}`).join(' ');
  t.diagnostic(`cases=${tally.cases} rejected(text)=${tally.rejected} valid=${tally.valid} ran=${tally.ran} diagnostics: ${codes}`);
  assert.equal(tally.cases, CASES);
  // the mix exercises both sides: most mutations are mistakes, some stay valid and run
  assert.ok(tally.rejected > CASES / 2 && tally.ran > CASES / 50, `rejected ${tally.rejected}, ran ${tally.ran}`);
});

test('the real CLI on the nastiest scenarios: exit 2, one clear first line, no stack, nothing on stdout', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kiotrace-fuzz-'));
  try {
    const file = (name: string, text: string): string => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    };
    const base = readFileSync(join(SCENARIOS, 'blocking-read.json'), 'utf8');
    const depth = 200_000;
    const cases: ReadonlyArray<[string, string]> = [
      [file('deep.json', `{"name": "d", "duration": "1ms", "jobs": ${'['.repeat(depth)}${']'.repeat(depth)}}`), 'deep.json:1:105: invalid JSON: nested deeper than 64 levels; a scenario needs at most 4 (see traces/README.md)'],
      [file('proto.json', base.replace('"rw": "read"', '"rw": "toString"')), 'proto.json:10:13: jobs[0].rw: unknown mode "toString" (expected one of: read, write, randread, randwrite, rw, readwrite, randrw)'],
      [file('engine.json', base.replace('"ioengine": "sync"', '"ioengine": "constructor"')), 'engine.json:13:19: jobs[0].ioengine: unknown ioengine "constructor" (kiotrace runs: psync, sync, mmap, libaio, io_uring, lsm)'],
      [file('pmem.json', base.replace('"steps": 1,', '"steps": 1, "machine": {"memory": "1p"},')), 'pmem.json:5:37: machine.memory: must be at most 64g (got "1p")'],
      [file('nul.json', base.replace('/mnt/nvme/cold.dat', '/mnt/nvme/cold\\u0000.dat')), 'nul.json:9:19: jobs[0].filename: a path cannot contain a NUL byte (Linux paths end at the first one)'],
      [file('esc.json', base.replace('"name": "cold-read"', '"name": "cold-read", "\\u001b[2J": 1')), 'esc.json:8:28: jobs[0]["\\u001b[2J"]: unknown fio option (see fio(1) and traces/README.md for the options kiotrace reads)'],
      [file('trunc.json', base.slice(0, 200)), 'trunc.json:3:18: invalid JSON: unterminated string (a string cannot span lines)'],
      ['/dev/zero', 'kiotrace: cannot read scenario file "/dev/zero": it is a character device, not a regular file; give a .json scenario or an fio job file'],
    ];
    for (const [scenario, first] of cases) {
      const r = spawnSync(process.execPath, [join(repoRoot(), 'dist', 'tui', 'cli.js'), 'run', scenario], { encoding: 'utf8', cwd: dir, timeout: 60_000 });
      assert.equal(r.status, 2, `${scenario}: ${r.stderr}`);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n')[0], first.startsWith('kiotrace') ? first : `${dir}/${first}`);
      assert.ok(!/internal error|\n\s+at |RangeError|TypeError/.test(r.stderr), r.stderr);
      assert.ok(!RAW_CONTROL.test(r.stderr), JSON.stringify(r.stderr));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
