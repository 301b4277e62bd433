import test from 'node:test';
import assert from 'node:assert/strict';
import { MapStore, mapFullError, type BpfMap } from '../../../probes/lang/maps.js';
import {
  JsonSink,
  TextSink,
  dumpMap,
  printMap as printMapPieces,
  printMapsAtExit as printMapsAtExitPieces,
  renderDiagnostic,
} from '../../../probes/lang/output.js';
import {
  ArrayValue,
  PointerValue,
  SymbolValue,
  UINT32,
  UINT64,
  record,
  tuple,
  valueText,
  type Value,
} from '../../../probes/lang/values.js';

const text = new TextSink();
const json = new JsonSink();

/** What `print(@m)` writes, its pieces joined. */
const printMap = (...args: Parameters<typeof printMapPieces>): string => [...printMapPieces(...args)].join('');
/** What the end of a run writes, its pieces joined. */
const printMapsAtExit = (...args: Parameters<typeof printMapsAtExitPieces>): string => [...printMapsAtExitPieces(...args)].join('');

/** A hist row built from its parts, so the expected strings stay readable. */
function row(label: string, count: number, bar: number): string {
  return label.padEnd(16) + String(count).padStart(8) + ' |' + '@'.repeat(bar).padEnd(52) + '|\n';
}

function scalarHist(values: bigint[], bits = 0): BpfMap {
  const m = new MapStore().map('@');
  for (const v of values) m.hist(undefined, v, bits);
  return m;
}

test('hist: tests/runtime/outputs/hist.txt verbatim', () => {
  const m = scalarHist([-1n, 2n, 3n, 7n, 20n]);
  const want = [
    '@:',
    '(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |',
    '[0]                    0 |                                                    |',
    '[1]                    0 |                                                    |',
    '[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|',
    '[4, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |',
    '[8, 16)                0 |                                                    |',
    '[16, 32)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |',
    '',
    '',
  ].join('\n');
  assert.equal(printMap(text, m), want);
});

test('lhist: tests/runtime/outputs/lhist.txt verbatim', () => {
  const m = new MapStore().map('@');
  for (const v of [2n, 3n, 7n, -1n, 11n]) m.lhist(undefined, v, 0, 10, 2);
  const want = [
    '@:',
    '(..., 0)               1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |',
    '[0, 2)                 0 |                                                    |',
    '[2, 4)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|',
    '[4, 6)                 0 |                                                    |',
    '[6, 8)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |',
    '[8, 10)                0 |                                                    |',
    '[10, ...)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |',
    '',
    '',
  ].join('\n');
  assert.equal(printMap(text, m), want);
});

test('hist and lhist labels: K/M/G suffixes, [N] single values, bits > 0, first bucket', () => {
  const cases: [string, BpfMap, string][] = [
    ['1024..2047 -> [1K, 2K)', scalarHist([1024n, 1500n, 2047n]), '@:\n' + row('[1K, 2K)', 3, 52) + '\n'],
    [
      'K to M across buckets',
      scalarHist([600000n, 1048576n]),
      '@:\n' + row('[512K, 1M)', 1, 52) + row('[1M, 2M)', 1, 52) + '\n',
    ],
    ['10G -> [8G, 16G)', scalarHist([10n * 1024n * 1024n * 1024n]), '@:\n' + row('[8G, 16G)', 1, 52) + '\n'],
    ['a lone 0 is [0]', scalarHist([0n]), '@:\n' + row('[0]', 1, 52) + '\n'],
    ['a lone 1 is [1]', scalarHist([1n]), '@:\n' + row('[1]', 1, 52) + '\n'],
    ['a lone 2 is [2, 4)', scalarHist([2n]), '@:\n' + row('[2, 4)', 1, 52) + '\n'],
    [
      'bits=2: single values up to 7, then 4 buckets per power of two',
      scalarHist([6n, 7n, 7n, 9n, 12n], 2),
      '@:\n' + row('[6]', 1, 26) + row('[7]', 2, 52) + row('[8, 10)', 1, 26) + row('[10, 12)', 0, 0) + row('[12, 14)', 1, 26) + '\n',
    ],
    [
      'bar is int(count/max*52) in float',
      scalarHist([2n, 4n, 4n, 4n]),
      '@:\n' + row('[2, 4)', 1, 17) + row('[4, 8)', 3, 52) + '\n',
    ],
  ];
  for (const [name, m, want] of cases) assert.equal(printMap(text, m), want, name);

  const lh = (values: bigint[], min: number, max: number, step: number): BpfMap => {
    const m = new MapStore().map('@l');
    for (const v of values) m.lhist(undefined, v, min, max, step);
    return m;
  };
  const lcases: [string, BpfMap, string][] = [
    ['step 1: adjacent ints print [N]', lh([3n, 4n, 4n], 0, 10, 1), '@l:\n' + row('[3]', 1, 26) + row('[4]', 2, 52) + '\n'],
    ['step % 1024 == 0: K labels', lh([1500n, 5000n], 0, 4096, 1024), '@l:\n' + row('[1K, 2K)', 1, 52) + row('[2K, 3K)', 0, 0) + row('[3K, 4K)', 0, 0) + row('[4K, ...)', 1, 52) + '\n'],
    ['min 100: the negative bucket is (..., 100)', lh([5n, 150n], 100, 200, 50), '@l:\n' + row('(..., 100)', 1, 52) + row('[100, 150)', 0, 0) + row('[150, 200)', 1, 52) + '\n'],
    ['only the overflow bucket', lh([150n], 0, 100, 10), '@l:\n' + row('[100, ...)', 1, 52) + '\n'],
  ];
  for (const [name, m, want] of lcases) assert.equal(printMap(text, m), want, name);
});

test('keyed histograms: @name[key]:, rows, blank line; sorted by total count; top', () => {
  const m = new MapStore().map('@bytes');
  m.hist('dd', 4096n);
  m.hist('dd', 4096n);
  m.hist('fio', 512n);
  m.hist('cat', 1n);
  m.hist('cat', 1n);
  m.hist('cat', 1n);
  const want =
    '@bytes[fio]:\n' + row('[512, 1K)', 1, 52) + '\n' +
    '@bytes[dd]:\n' + row('[4K, 8K)', 2, 52) + '\n' +
    '@bytes[cat]:\n' + row('[1]', 3, 52) + '\n';
  assert.equal(printMap(text, m), want);
  assert.equal(printMap(text, m, 2), '@bytes[dd]:\n' + row('[4K, 8K)', 2, 52) + '\n' + '@bytes[cat]:\n' + row('[1]', 3, 52) + '\n');
  assert.equal(printMap(text, m, 0, 2), '@bytes[fio]:\n' + row('[512, 1K)', 0, 0) + '\n' + '@bytes[dd]:\n' + row('[4K, 8K)', 1, 52) + '\n' + '@bytes[cat]:\n' + row('[1]', 1, 52) + '\n', 'div divides hist counts (buckets are chosen before dividing)');
});

test('non-histogram maps: text lines, sorting, top and div', () => {
  const s = new MapStore();
  const byValue = s.map('@');
  for (const [k, n] of [['systemd', 24], ['bpftrace', 6], ['bash', 11]] as const) for (let i = 0; i < n; i++) byValue.count(k);

  const multi = s.map('@a');
  multi.assign(tuple(1n, 'x'), 5n);
  multi.assign(tuple(2n, 'y'), 3n);

  const strKeys = s.map('@names');
  for (const [k, v] of [['zsh', 'z'], ['bash', 'b'], ['ash', 'a'], ['Bash', 'B']] as const) strKeys.assign(k, v);

  const intKeys = s.map('@pids');
  for (const k of [30n, -2n, 7n]) intKeys.assign(k, tuple(k, 'p'));

  const unsignedKeys = s.declare('@u', { keyTypes: [UINT32] });
  for (const k of [1n, 4294967295n, 5n]) unsignedKeys.assign(k, 'v');

  const tupleKeys = s.map('@t');
  for (const [a, b] of [[2n, 'b'], [1n, 'b'], [2n, 'a'], [1n, 'a']] as const) tupleKeys.assign(tuple(a, b), `${a}${b}`);

  const nested = s.map('@n');
  nested.assign(tuple(-1n, tuple(-2n, 3n)), 10n);

  const avgs = s.map('@avg');
  for (const [k, v] of [['a', 10n], ['b', 20n], ['c', 30n], ['d', 40n]] as const) avgs.avg(k, v);

  const mins = s.map('@min');
  mins.min('neg', -5n);
  mins.min('pos', 7n);

  const stats = s.map('@st');
  for (const v of [1n, 2n, 3n]) stats.stats('x', v);
  stats.stats('y', -10n);

  const cases: [string, string, string][] = [
    ['count: ascending by value', printMap(text, byValue), '@[bpftrace]: 6\n@[bash]: 11\n@[systemd]: 24\n'],
    ['top 2', printMap(text, byValue, 2), '@[bash]: 11\n@[systemd]: 24\n'],
    ['top larger than the map', printMap(text, byValue, 10), '@[bpftrace]: 6\n@[bash]: 11\n@[systemd]: 24\n'],
    ['div', printMap(text, byValue, 0, 5), '@[bpftrace]: 1\n@[bash]: 2\n@[systemd]: 4\n'],
    ['multi-key: no parentheses, sorted by value', printMap(text, multi), '@a[2, y]: 3\n@a[1, x]: 5\n'],
    ['string values: sorted by key, bytewise', printMap(text, strKeys), '@names[Bash]: B\n@names[ash]: a\n@names[bash]: b\n@names[zsh]: z\n'],
    ['int keys: signed order', printMap(text, intKeys), '@pids[-2]: (-2, p)\n@pids[7]: (7, p)\n@pids[30]: (30, p)\n'],
    ['uint32 keys sort as int32, as bpftrace does', printMap(text, unsignedKeys), '@u[4294967295]: v\n@u[1]: v\n@u[5]: v\n'],
    ['tuple keys: by first field, then second', printMap(text, tupleKeys), '@t[1, a]: 1a\n@t[1, b]: 1b\n@t[2, a]: 2a\n@t[2, b]: 2b\n'],
    ['nested tuple in a key keeps its parentheses', printMap(text, nested), '@n[-1, (-2, 3)]: 10\n'],
    ['avg: print(@, 2, 10)', printMap(text, avgs, 2, 10), '@avg[c]: 3\n@avg[d]: 4\n'],
    ['min/max: values compared as uint64', printMap(text, mins), '@min[pos]: 7\n@min[neg]: -5\n'],
    ['keyed stats: sorted by average', printMap(text, stats), '@st[y]: { .count = 1, .average = -10, .total = -10 }\n@st[x]: { .count = 3, .average = 2, .total = 6 }\n'],
  ];
  for (const [name, got, want] of cases) assert.equal(got, want, name);
});

test('scalar maps: stats record, avg, empty and zeroed maps', () => {
  const s = new MapStore();
  const st = s.map('@stats');
  for (const v of [1n, 2n, 3n]) st.stats(undefined, v);
  const neg = s.map('@neg');
  for (const v of [-10n, -5n, 5n]) neg.stats(undefined, v);
  const av = s.map('@av');
  av.avg(undefined, -30n);
  av.avg(undefined, -10n);
  const empty = s.map('@');
  empty.count(undefined);
  empty.clear();
  const rec = s.map('@r');
  rec.assign(undefined, record({ a: 2n, b: tuple(2n, 'hi') }));
  rec.zero();
  const bool = s.map('@b');
  bool.assign(undefined, true);
  const cases: [string, string, string][] = [
    ['stats', printMap(text, st), '@stats: { .count = 3, .average = 2, .total = 6 }\n'],
    ['stats average truncates toward zero', printMap(text, neg), '@neg: { .count = 3, .average = -3, .total = -10 }\n'],
    ['avg', printMap(text, av), '@av: -20\n'],
    ['print of an empty scalar map', printMap(text, empty), '@: 0\n'],
    ['zeroed record', printMap(text, rec), '@r: { .a = 0, .b = (0, ) }\n'],
    ['bool', printMap(text, bool), '@b: true\n'],
  ];
  for (const [name, got, want] of cases) assert.equal(got, want, name);
});

test('end of run: two newlines, then non-empty maps in name order', () => {
  // The 0.17-verified program: BEGIN{@=hist(-1);...; @s=stats(1);...; @a[1,"x"]=5; @a[2,"y"]=3; @c=count(); exit()}.
  const s = new MapStore();
  s.map('@t').assign(undefined, tuple(1n, 'x'));
  s.map('@s').stats(undefined, 1n);
  s.map('@l').lhist(undefined, 3n, 0, 10, 5);
  s.map('@c').count(undefined);
  s.map('@av').avg(undefined, 4n);
  s.map('@a').assign(tuple(1n, 'x'), 5n);
  s.map('@a').assign(tuple(2n, 'y'), 3n);
  s.map('@').hist(undefined, -1n);
  s.map('@cleared').count('k');
  s.map('@cleared').clear();
  const want =
    '\n\n' +
    '@:\n' + row('(..., 0)', 1, 52) + '\n' +
    '@a[2, y]: 3\n@a[1, x]: 5\n' +
    '@av: 4\n' +
    '@c: 1\n' +
    '@l:\n' + row('[0, 5)', 1, 52) + '\n' +
    '@s: { .count = 1, .average = 1, .total = 1 }\n' +
    '@t: (1, x)\n';
  assert.equal(printMapsAtExit(text, s), want);
  assert.equal(printMapsAtExit(text, s, false), '\n\n');
  assert.equal(printMapsAtExit(json, new MapStore()), '');
});

test('value text forms', () => {
  const cases: [Value, string][] = [
    [5n, '5'],
    [-5n, '-5'],
    ['bash', 'bash'],
    [true, 'true'],
    [false, 'false'],
    [tuple(1n, 2n, 'string'), '(1, 2, string)'],
    [tuple(1n), '(1)'],
    [tuple(0n, ''), '(0, )'],
    [record({ a: 0n, c: 'str' }), '{ .a = 0, .c = str }'],
    [record({}), '{}'],
    [new ArrayValue([1n, 2n, 3n, 4n]), '[1,2,3,4]'],
    [new PointerValue(0xffff888012345678n), '0xffff888012345678'],
    [new SymbolValue('REQ_OP_READ', 0n), 'REQ_OP_READ'],
  ];
  for (const [v, want] of cases) assert.equal(valueText(v), want);
  assert.equal(text.value(tuple(1n, 2n, 'string')), '(1, 2, string)\n');
});

test('JSON records', () => {
  const s = new MapStore();
  s.map('@scalar').assign(undefined, 5n);
  const keyed = s.map('@map');
  keyed.assign('key1', 2n);
  keyed.assign('key2', 3n);
  s.map('@complex').assign(tuple('bpftrace', 2n), 5n);
  const h = s.map('@hist');
  for (const v of [2n, 9n]) h.hist(undefined, v);
  const neg = s.map('@neg');
  neg.hist(undefined, -1n);
  const single = s.map('@single');
  single.hist(undefined, 0n);
  const over = s.map('@over');
  over.lhist(undefined, 150n, 0, 100, 10);
  const kh = s.map('@');
  kh.hist('curl', 2n);
  kh.hist('bpftrace', 1n);
  kh.hist('bpftrace', 1n);
  const st = s.map('@stats');
  st.stats(undefined, 2n);
  st.stats(undefined, 10n);
  const kst = s.map('@kstats');
  kst.stats('curl', 2n);
  kst.stats('wget', 4n);
  const av = s.map('@avg');
  for (const [k, v] of [['c', 30n], ['d', 40n]] as const) av.avg(k, v);
  const empty = s.map('@empty');
  empty.count('x');
  empty.clear();
  const zeroed = s.map('@z');
  zeroed.hist(undefined, 5n);
  zeroed.zero();
  const big = s.declare('@big', { valueType: UINT64 });
  big.assign(undefined, 18446744073709551615n);
  const big2 = s.map('@big2');
  big2.assign(undefined, 9007199254740992n);
  const tup = s.map('@tup');
  tup.assign(undefined, tuple(1n, 'a', true));
  const spaces = s.map('@sp');
  spaces.count('a b');

  const cases: [string, string, string][] = [
    ['scalar map', printMap(json, s.map('@scalar')), '{"type": "map", "data": {"@scalar": 5}}\n'],
    ['keyed map', printMap(json, keyed), '{"type": "map", "data": {"@map": {"key1": 2, "key2": 3}}}\n'],
    ['multi-key: commas, no spaces', printMap(json, s.map('@complex')), '{"type": "map", "data": {"@complex": {"bpftrace,2": 5}}}\n'],
    ['key spaces are removed', printMap(json, spaces), '{"type": "map", "data": {"@sp": {"ab": 1}}}\n'],
    [
      'hist',
      printMap(json, h),
      '{"type": "hist", "data": {"@hist": [{"min": 2, "max": 3, "count": 1},{"min": 4, "max": 7, "count": 0},{"min": 8, "max": 15, "count": 1}]}}\n',
    ],
    ['negative bucket', printMap(json, neg), '{"type": "hist", "data": {"@neg": [{"max": -1, "count": 1}]}}\n'],
    ['single-value bucket', printMap(json, single), '{"type": "hist", "data": {"@single": [{"min": 0, "max": 0, "count": 1}]}}\n'],
    ['lhist overflow', printMap(json, over), '{"type": "hist", "data": {"@over": [{"min": 100, "count": 1}]}}\n'],
    [
      'keyed hist',
      printMap(json, kh),
      '{"type": "hist", "data": {"@": {"curl": [{"min": 2, "max": 3, "count": 1}], "bpftrace": [{"min": 1, "max": 1, "count": 2}]}}}\n',
    ],
    ['zeroed hist', printMap(json, zeroed), '{"type": "hist", "data": {"@z": []}}\n'],
    ['stats', printMap(json, st), '{"type": "stats", "data": {"@stats": {"count": 2, "average": 6, "total": 12}}}\n'],
    [
      'keyed stats',
      printMap(json, kst),
      '{"type": "stats", "data": {"@kstats": {"curl": {"count": 1, "average": 2, "total": 2}, "wget": {"count": 1, "average": 4, "total": 4}}}}\n',
    ],
    ['avg map with div', printMap(json, av, 0, 10), '{"type": "stats", "data": {"@avg": {"c": 3, "d": 4}}}\n'],
    ['empty keyed map: nothing', printMap(json, empty), ''],
    ['integers a double cannot hold are strings', printMap(json, big), '{"type": "map", "data": {"@big": "18446744073709551615"}}\n'],
    ['2^53 is exact', printMap(json, big2), '{"type": "map", "data": {"@big2": 9007199254740992}}\n'],
    ['tuple value', printMap(json, tup), '{"type": "map", "data": {"@tup": [1,"a",true]}}\n'],
    ['printf with escapes', json.printf('test "5"\\\n\t\r\u0001'), '{"type": "printf", "data": "test \\"5\\"\\\\\\n\\t\\r\\u0001"}\n'],
    ['print value', json.value(5n), '{"type": "value", "data": 5}\n'],
    ['print tuple', json.value(tuple(1n, 2n, 'string')), '{"type": "value", "data": [1,2,"string"]}\n'],
    ['print record', json.value(record({ m: 2n, n: 3n })), '{"type": "value", "data": {"m": 2, "n": 3}}\n'],
    ['pointer as a number', json.value(new PointerValue(4096n)), '{"type": "value", "data": 4096}\n'],
    ['time', json.time('08:09:10\n'), '{"type": "time", "data": "08:09:10\\n"}\n'],
    ['join', json.join("/bin/echo,'A'"), '{"type": "join", "data": "/bin/echo,\'A\'"}\n'],
    ['lost events', json.lostEvents(3), '{"type": "lost_events", "count": 3, "data": {"events": 3}}\n'],
    ['attached probes', json.attachedProbes(1), '{"type": "attached_probes", "count": 1, "data": {"probes": 1}}\n'],
    [
      'errorf',
      json.errorf('bad thing 5', { filename: 'stdin', line: 1, col: 9, colEnd: 30 }),
      '{"type": "errorf", "msg": "bad thing 5", "filename": "stdin", "line": 1, "col": 9}\n',
    ],
    [
      'map full',
      json.helperError(mapFullError({ filename: 'stdin', line: 1, col: 87 })),
      '{"type": "helper_error", "msg": "Argument list too long", "helper": "map_update_elem", "retcode": -7, "filename": "stdin", "line": 1, "col": 87}\n',
    ],
  ];
  for (const [name, got, want] of cases) assert.equal(got, want, name);
  assert.equal(json.end(), '');
});

test('text records: printf, lost events, attached, diagnostics', () => {
  const loc = { filename: 'naptime.bt', line: 44, col: 3, colEnd: 25, source: '  @rqtp[tid] = args.rqtp;' };
  const cases: [string, string, string][] = [
    ['printf is raw', text.printf('hi!\n'), 'hi!\n'],
    ['lost events', text.lostEvents(3), 'Lost 3 events\n'],
    ['attached 1', text.attachedProbes(1), 'Attached 1 probe\n'],
    ['attached 2', text.attachedProbes(2), 'Attached 2 probes\n'],
    ['end', text.end(), '\n\n'],
    [
      'map full with location',
      text.helperError(mapFullError(loc)),
      "naptime.bt:44:3-25: WARNING: Map full; can't update element. Try increasing max_map_keys config or manually setting the max entries in a map declaration e.g. `let @a = hash(5000)`\n" +
        'Additional Info - helper: map_update_elem, retcode: -7\n' +
        '  @rqtp[tid] = args.rqtp;\n' +
        '  ~~~~~~~~~~~~~~~~~~~~~~\n',
    ],
    [
      'map full without location',
      text.helperError(mapFullError()),
      "WARNING: Map full; can't update element. Try increasing max_map_keys config or manually setting the max entries in a map declaration e.g. `let @a = hash(5000)`\nAdditional Info - helper: map_update_elem, retcode: -7\n",
    ],
    [
      'tabs in the excerpt are 4 spaces',
      renderDiagnostic('ERROR', 'boom', { filename: 'stdin', line: 1, col: 2, colEnd: 4, source: '\tab' }),
      'stdin:1:2-4: ERROR: boom\n    ab\n    ~~\n',
    ],
  ];
  for (const [name, got, want] of cases) assert.equal(got, want, name);
  assert.equal(text.diagnosticStream, 'stderr');
  assert.equal(json.diagnosticStream, 'stdout');
});

test('dumpMap shapes', () => {
  const s = new MapStore();
  const m = s.map('@m');
  m.count('a');
  assert.deepEqual(dumpMap(m), { shape: 'keyed', stats: false, entries: [{ key: 'a', value: 1n }] });
  const h = s.map('@h');
  h.hist(undefined, 3n);
  const d = dumpMap(h);
  assert.equal(d.shape, 'hist');
});

test('a map is printed an entry at a time: 20000 keys of 8000 control characters are 1 GB of JSON, never one string (-f json aborted out of heap)', () => {
  const s = new MapStore();
  const m = s.map('@m');
  const long = '\x01'.repeat(8000);
  for (let n = 0n; n < 3n; n++) m.assign(tuple(long, n), 1n);
  const h = s.map('@h');
  h.hist('a', 1n);
  h.hist('b', 2n);
  const jsonKeyOf = (n: number): string => `"${'\\u0001'.repeat(8000)},${n}"`;
  for (const [sink, pieces] of [
    [json, ['{"type": "map", "data": {"@m": {', `${jsonKeyOf(0)}: 1`, `, ${jsonKeyOf(1)}: 1`, `, ${jsonKeyOf(2)}: 1`, '}}}\n']],
    [text, [0, 1, 2].map((n) => `@m[${long}, ${n}]: 1\n`)],
  ] as const) {
    assert.deepEqual([...printMapPieces(sink, m)], pieces, sink.format);
  }
  // keyed histograms too, and the end of a run, map after map
  assert.deepEqual([...printMapsAtExitPieces(json, s)].length, 4 + 5);
  assert.equal(
    [...printMapPieces(json, h)].join(''),
    '{"type": "hist", "data": {"@h": {"a": [{"min": 1, "max": 1, "count": 1}], "b": [{"min": 2, "max": 3, "count": 1}]}}}\n',
  );
});
