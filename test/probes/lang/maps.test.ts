import test from 'node:test';
import assert from 'node:assert/strict';
import {
  MAP_ENTRY_BYTES,
  MAP_FULL_MESSAGE,
  MapKindError,
  MapStore,
  checkHistBits,
  checkLhistArgs,
  histIndex,
  lhistIndex,
} from '../../../probes/lang/maps.js';
import { JsonSink, TextSink, type OutputSink } from '../../../probes/lang/output.js';
import { RepeatingWarnings } from '../../../probes/lang/warnings.js';
import { INT8, UINT64, record, tuple, wrapInt, INT32, UINT8, literalIntType, INT16, INT64 } from '../../../probes/lang/values.js';

// The reference formula, written straight from bpftrace's createLog2Function in bigint.
function refHistIndex(v: bigint, k: number): number {
  const n = BigInt.asIntN(64, v);
  if (n < 0n) return 0;
  if (n < 1n << BigInt(k)) return Number(n) + 1;
  const l = n.toString(2).length - 1;
  return ((l - k + 1) << k) + Number((n >> BigInt(l - k)) & ((1n << BigInt(k)) - 1n)) + 1;
}

test('histIndex: bpftrace log2 buckets', () => {
  const cases: [bigint, number, number][] = [
    [-1n, 0, 0],
    [0n, 0, 1],
    [1n, 0, 2],
    [2n, 0, 3],
    [3n, 0, 3],
    [4n, 0, 4],
    [7n, 0, 4],
    [8n, 0, 5],
    [1023n, 0, 11],
    [1024n, 0, 12],
    [2047n, 0, 12],
    [1n << 40n, 0, 42],
    [(1n << 63n) - 1n, 0, 64],
    [(1n << 64n) - 1n, 0, 0], // uint64 max reads as int64 -1
    [0n, 2, 1],
    [3n, 2, 4],
    [4n, 2, 5],
    [7n, 2, 8],
    [8n, 2, 9],
    [9n, 2, 9],
    [10n, 2, 10],
    [15n, 2, 12],
    [16n, 2, 13],
    [31n, 5, 32],
    [32n, 5, 33],
    [64n, 5, 65],
    [66n, 5, 66],
  ];
  for (const [v, k, want] of cases) assert.equal(histIndex(v, k), want, `hist(${v}, ${k})`);
  for (let k = 0; k <= 5; k++) {
    for (let e = 0; e < 64; e++) {
      for (const d of [-1n, 0n, 1n, 3n]) {
        const v = (1n << BigInt(e)) + d;
        assert.equal(histIndex(v, k), refHistIndex(v, k), `hist(${v}, ${k})`);
      }
    }
  }
});

test('lhistIndex: below min, linear buckets, overflow', () => {
  const cases: [bigint, number, number, number, number][] = [
    [-1n, 0, 10, 2, 0],
    [0n, 0, 10, 2, 1],
    [1n, 0, 10, 2, 1],
    [2n, 0, 10, 2, 2],
    [9n, 0, 10, 2, 5],
    [10n, 0, 10, 2, 6],
    [11n, 0, 10, 2, 6],
    [99n, 100, 200, 10, 0],
    [100n, 100, 200, 10, 1],
    [199n, 100, 200, 10, 10],
    [1n << 62n, 0, 10, 2, 6],
    [9n, 0, 10, 3, 4], // (max-min) not a multiple of step: 9 joins the overflow bucket
  ];
  for (const [v, min, max, step, want] of cases) assert.equal(lhistIndex(v, min, max, step), want, `lhist(${v}, ${min}, ${max}, ${step})`);
});

test('aggregations read back as bpftrace sums them', () => {
  const s = new MapStore();
  const c = s.map('@c');
  for (let i = 0; i < 3; i++) c.count(undefined);
  assert.equal(c.get(), 3n);

  const sum = s.map('@sum');
  sum.sum('a', 5n);
  sum.sum('a', -7n);
  assert.equal(sum.get('a'), -2n);

  const st = s.map('@s');
  for (const v of [-10n, -5n, 5n]) st.stats(undefined, v);
  assert.equal(st.get(), -3n, 'stats average truncates toward zero');

  const av = s.map('@av');
  av.avg(undefined, -30n);
  av.avg(undefined, -10n);
  assert.equal(av.get(), -20n);

  const mn = s.map('@mn');
  const mx = s.map('@mx');
  for (const v of [5n, -3n, 9n]) {
    mn.min(undefined, v);
    mx.max(undefined, v);
  }
  assert.equal(mn.get(), -3n);
  assert.equal(mx.get(), 9n);
  const mx2 = s.map('@mx2');
  mx2.max(undefined, -5n);
  assert.equal(mx2.get(), -5n, 'the first max() sample wins even when negative');
});

test('value maps: assignment, ++/+= with wrapping to the declared type', () => {
  const s = new MapStore();
  const m = s.declare('@x', { valueType: INT8 });
  assert.equal(m.increment(undefined, 127n), 127n);
  assert.equal(m.increment(undefined), -128n);
  const u = s.declare('@u', { valueType: UINT64 });
  u.assign('k', 0n);
  assert.equal(u.increment('k', -1n), 18446744073709551615n);
  const str = s.map('@s');
  str.assign(1n, 'hello');
  assert.equal(str.get(1n), 'hello');
  assert.equal(str.get(2n), '', 'a missing key of a string map reads as ""');
  const rec = s.map('@r');
  rec.assign(undefined, record({ a: 1n, b: tuple(2n, 'hi') }));
  rec.zero();
  assert.deepEqual(rec.get(), record({ a: 0n, b: tuple(0n, '') }));
});

test('keys: ints, strings, bools and tuples find the same entry by value', () => {
  const s = new MapStore();
  const m = s.map('@a');
  m.count(tuple(1n, 'x'));
  m.count(tuple(1n, 'x'));
  m.count(tuple(1n, 'y'));
  m.count(tuple(2n, 'x'));
  assert.equal(m.size, 3);
  assert.equal(m.get(tuple(1n, 'x')), 2n);
  assert.equal(m.has(tuple(1n, 'y')), true);
  assert.equal(m.has(tuple(3n, 'y')), false);

  const n = s.map('@n');
  n.sum(tuple(-1n, tuple(-2n, 3n)), 10n);
  n.sum(tuple(-1n, tuple(-2n, 3n)), 1n);
  assert.equal(n.get(tuple(-1n, tuple(-2n, 3n))), 11n);
  assert.equal(n.size, 1);

  const b = s.map('@b');
  b.count(true);
  b.count(false);
  b.count(true);
  assert.equal(b.get(true), 2n);

  const big = s.map('@big');
  big.count(18446744073709551615n);
  big.count(18446744073709551615n);
  assert.equal(big.get(18446744073709551615n), 2n);
});

test('delete, has_key, len, clear and zero', () => {
  const s = new MapStore();
  const m = s.map('@m');
  m.count(tuple(1n, 'a'));
  m.count(tuple(1n, 'b'));
  m.count(tuple(2n, 'a'));
  assert.equal(m.delete(tuple(1n, 'a')), true);
  assert.equal(m.delete(tuple(1n, 'a')), false, 'delete of a missing key returns false');
  assert.equal(m.has(tuple(1n, 'a')), false);
  assert.equal(m.has(tuple(1n, 'b')), true);
  assert.equal(m.size, 2);
  assert.equal(m.get(tuple(1n, 'a')), 0n, 'a missing key reads as 0');

  m.zero();
  assert.equal(m.size, 2, 'zero keeps the keys');
  assert.equal(m.get(tuple(1n, 'b')), 0n);
  m.count(tuple(1n, 'b'));
  assert.equal(m.get(tuple(1n, 'b')), 1n);

  m.clear();
  assert.equal(m.size, 0);
  assert.deepEqual(m.entries(), []);
  m.count(tuple(9n, 'z'));
  assert.equal(m.get(tuple(9n, 'z')), 1n);

  const sc = s.map('@sc');
  sc.assign(undefined, 5n);
  assert.equal(sc.size, 1);
  assert.equal(sc.delete(), true);
  assert.equal(sc.size, 0);
  assert.equal(sc.delete(), false);

  const h = s.map('@h');
  h.hist(undefined, 5n);
  h.zero();
  assert.deepEqual(h.entries()[0]?.buckets, [0, 0, 0, 0, 0]);
  const mn = s.map('@min');
  mn.min(undefined, 5n);
  mn.zero();
  mn.min(undefined, 9n);
  assert.equal(mn.get(), 9n, 'after zero() the next min() sample wins');
});

/** A store whose maps warn through a RepeatingWarnings into `written` (see `said`). */
function warningStore(sink: OutputSink = new TextSink(), maxMapKeys?: number, memoryBudgetBytes?: number): { store: MapStore; warnings: RepeatingWarnings; said: () => string } {
  let written = '';
  const warnings = new RepeatingWarnings(sink, (t) => (written += t));
  const store = new MapStore({ warnings, ...(maxMapKeys !== undefined ? { maxMapKeys } : {}), ...(memoryBudgetBytes !== undefined ? { memoryBudgetBytes } : {}) });
  return { store, warnings, said: () => written };
}

const MAP_FULL_TEXT =
  "WARNING: Map full; can't update element. Try increasing max_map_keys config or manually setting the max entries in a map declaration e.g. `let @a = hash(5000)`\n" +
  'Additional Info - helper: map_update_elem, retcode: -7\n';

test('map full: new keys refused, said once per map and counted for the end of the run', () => {
  const { store: s, warnings, said } = warningStore(new TextSink(), 2);
  const m = s.map('@m');
  assert.equal(m.count(1n), true);
  assert.equal(m.count(2n), true);
  assert.equal(m.count(3n), false);
  assert.equal(said(), MAP_FULL_TEXT, 'the first refusal is said at once');
  assert.equal(m.count(4n), false);
  assert.equal(m.count(1n), true, 'existing keys still update');
  assert.equal(m.get(1n), 2n);
  assert.equal(m.has(3n), false);
  assert.equal(said(), MAP_FULL_TEXT, 'the second is only counted');
  m.delete(2n);
  assert.equal(m.count(3n), true, 'room again after a delete');
  const d = s.declare('@d', { maxEntries: 1 });
  d.assign(tuple(1n, 'a'), 1n);
  for (let i = 0; i < 5; i++) assert.equal(d.assign(tuple(2n, 'b'), 2n), false);
  assert.equal(said(), MAP_FULL_TEXT + MAP_FULL_TEXT, 'each map says it once');
  assert.equal(warnings.summaries(), 'WARNING: Map full: @m refused 2 updates in all (max entries 2)\nWARNING: Map full: @d refused 5 updates in all (max entries 1)\n');

  const quiet = new MapStore({ maxMapKeys: 1 }).map('@q');
  quiet.count(1n);
  assert.equal(quiet.count(2n), false, 'without warnings a full map refuses silently');

  const big = new MapStore();
  const b = big.map('@b');
  for (let i = 0; i < 4097; i++) b.count(BigInt(i));
  assert.equal(b.size, 4096, 'default max_map_keys is 4096');

  assert.equal(
    MAP_FULL_MESSAGE,
    "Map full; can't update element. Try increasing max_map_keys config or manually setting the max entries in a map declaration e.g. `let @a = hash(5000)`",
  );
});

test('lruhash: a full map evicts its least recently updated key', () => {
  const { store: s, said } = warningStore();
  const m = s.declare('@l', { maxEntries: 2, lru: true });
  m.count('a');
  m.count('b');
  m.count('a');
  m.count('c');
  assert.deepEqual(
    m.entries().map((e) => e.key),
    ['a', 'c'],
  );
  assert.equal(said(), '', 'an eviction is not a refusal');
});

test('misuse is a MapKindError', () => {
  const s = new MapStore();
  const m = s.map('@m');
  m.count('a');
  assert.throws(() => m.sum('a', 1n), MapKindError);
  assert.throws(() => m.count(undefined), MapKindError);
  const h = s.map('@h');
  assert.throws(() => h.hist(undefined, 1n, 6), /hist: bits 6 must be 0\.\.5/);
});

test('a key with another number of elements is skipped and reported once (a variable can hold any tuple)', () => {
  const { store: s, warnings, said } = warningStore(new JsonSink());
  const m = s.map('@m');
  assert.equal(m.count('a'), true);
  assert.equal(m.count(tuple(1n, 2n)), false);
  assert.equal(m.get(tuple(1n, 2n, 3n)), 0n);
  assert.deepEqual([m.keyArity, m.size], [1, 1]);
  assert.equal(said(), '{"type": "runtime_error", "msg": "@m is keyed by 1 element: a key of 2 was skipped"}\n');
  assert.equal(warnings.summaries(), '{"type": "runtime_error", "msg": "@m: 2 keys with the wrong number of elements were skipped in all"}\n');
});

test('store: names in bpftrace exit order', () => {
  const s = new MapStore();
  for (const n of ['@t', '@s', '@l', '@c', '@av', '@a', '@']) s.map(n);
  assert.deepEqual(s.names(), ['@', '@a', '@av', '@c', '@l', '@s', '@t']);
});

test('compiler checks: hist bits and lhist literals, with bpftrace messages', () => {
  assert.equal(checkHistBits(5), undefined);
  assert.equal(checkHistBits(10), 'hist: bits 10 must be 0..5');
  const cases: [number, number, number, string[]][] = [
    [0, 10, 1, []],
    [-10, 10, 1, ['lhist: invalid min value (must be non-negative literal)']],
    [0, -1, 1, ['lhist: invalid max value (must be non-negative literal)']],
    [0, 10, 0, ['lhist() step must be >= 1 (0 provided)']],
    [0, 5000, 1, ['lhist() too many buckets, must be <= 1000 (would need 5000)']],
    [10, 5, 1, ['lhist() min must be less than max (provided min 10 and max 5)', 'lhist() step is too large for the given range (provided step 1 for range -5)']],
    [0, 10, 20, ['lhist() step is too large for the given range (provided step 20 for range 10)']],
  ];
  for (const [min, max, step, want] of cases) assert.deepEqual(checkLhistArgs(min, max, step), want, `lhist(n, ${min}, ${max}, ${step})`);
});

test('values: wrapping and literal types', () => {
  const cases: [bigint, typeof INT8, bigint][] = [
    [300n, UINT8, 44n],
    [255n, INT8, -1n],
    [0x12345678abcdefn, INT32, 0x78abcdefn],
    [-1n, UINT64, 18446744073709551615n],
    [1n << 63n, INT64, -(1n << 63n)],
  ];
  for (const [v, t, want] of cases) assert.equal(wrapInt(v, t), want, `(${t.name})${v}`);
  assert.equal(literalIntType(1n), INT8);
  assert.equal(literalIntType(-129n), INT16);
  assert.equal(literalIntType(1n << 63n), UINT64);
});

test('map memory: all maps share one budget; a key that does not fit is refused, said once per map, counted', () => {
  // an lhist(n, 0, 1000, 1) entry with an integer key: the entry, the key and 1002 buckets
  const lhistEntry = MAP_ENTRY_BYTES + 16 + 48 + 8 * 1002;
  const { store: s, warnings, said } = warningStore(new TextSink(), 1_000_000, 3 * lhistEntry);
  const a = s.map('@a');
  const b = s.map('@b');
  assert.equal(a.lhist(1n, 5n, 0, 1000, 1), true);
  assert.equal(a.lhist(2n, 5n, 0, 1000, 1), true);
  assert.equal(b.lhist(1n, 5n, 0, 1000, 1), true);
  assert.equal(s.memoryBytes, 3 * lhistEntry);
  const aFull = "WARNING: Map full: @a can't take a new key: all maps together are at kiotrace's map memory limit of 24.3 KiB\n";
  const bFull = "WARNING: Map full: @b can't take a new key: all maps together are at kiotrace's map memory limit of 24.3 KiB\n";
  for (let i = 3n; i < 10n; i++) assert.equal(a.lhist(i, 5n, 0, 1000, 1), false);
  assert.equal(said(), aFull, 'the first refusal of @a is said, the rest counted');
  assert.equal(b.lhist(7n, 5n, 0, 1000, 1), false);
  assert.equal(a.lhist(1n, 6n, 0, 1000, 1), true, 'existing keys still update');
  assert.equal(said(), aFull + bFull);
  assert.equal(
    warnings.summaries(),
    'WARNING: Map full: @a refused 7 updates in all (all maps together at the map memory limit of 24.3 KiB)\n',
    'a warning that came once has no summary',
  );
  // what a deleted or cleared key took is given back
  a.delete(1n);
  assert.equal(b.lhist(7n, 5n, 0, 1000, 1), true);
  b.clear();
  a.clear();
  assert.equal(s.memoryBytes, 0);
  // a value map: a longer string in an existing key takes the difference, and may not fit
  const small = warningStore(new TextSink(), 1_000_000, 2 * (MAP_ENTRY_BYTES + 16) + (24 + 2 * 10) + 16);
  const v = small.store.map('@v');
  assert.equal(v.assign(1n, 'x'.repeat(10)), true);
  assert.equal(v.assign(1n, 'x'.repeat(500)), false, 'a value that grows past the budget is refused');
  assert.equal(v.get(1n), 'x'.repeat(10));
  assert.equal(v.assign(2n, 0n), true);
  // an lru map makes room by evicting its own oldest keys
  const lru = warningStore(new TextSink(), 1_000_000, 2 * (MAP_ENTRY_BYTES + 16 + 16));
  const l = lru.store.declare('@l', { lru: true });
  for (let i = 1n; i <= 5n; i++) assert.equal(l.assign(i, i), true);
  assert.deepEqual(l.entries().map((e) => e.key), [4n, 5n]);
  assert.equal(lru.said(), '');
});

test('a key with a nested tuple is charged its index text too: keys of 1000 control characters fill 10 MB at 687 keys, not 3993 (2.9 GB of heap under the 1 GiB budget)', () => {
  const store = new MapStore({ maxMapKeys: 100_000, memoryBudgetBytes: 10_000_000 });
  const m = store.map('@m');
  const controls = '\x01'.repeat(1000);
  let kept = 0;
  for (let n = 0n; n < 10_000n; n++) if (m.assign(tuple(tuple(controls, n), 1n), 1n)) kept++;
  // each key's Map level is indexed by its nested tuple as JSON text: 6 characters a control character
  assert.equal(kept, 687);
  assert.ok(kept * 6000 <= 10_000_000, 'the index text alone fits the budget');
  assert.ok(store.memoryBytes <= 10_000_000);
});

test('count and sum keep small totals as numbers and give the same values as bigints', () => {
  const store = new MapStore();
  const s = store.map('@s');
  for (const v of [5, -3, 10]) s.sum(undefined, v);
  assert.equal(s.get(), 12n);
  // a bigint update after number ones continues from the same total, and one past the safe range goes on in bigints
  s.sum(undefined, 2n ** 60n);
  s.sum(undefined, 1);
  assert.equal(s.get(), 2n ** 60n + 13n);
  // int64 wraps as before
  const w = store.map('@w');
  w.sum(undefined, 9223372036854775807n);
  w.sum(undefined, 1);
  assert.equal(w.get(), -9223372036854775808n);
  const c = store.map('@c');
  for (let i = 0; i < 1000; i++) c.count(undefined);
  assert.equal(c.get(), 1000n);
  c.zero();
  c.count(undefined);
  assert.equal(c.get(), 1n);
  // keyed entries, and a non-integer (never given by the compiler) is truncated rather than thrown on
  const k = store.map('@k');
  k.sum('a', 1.5);
  k.sum('a', 2);
  assert.equal(k.get('a'), 3n);
});
