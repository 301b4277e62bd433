// fio's own output: hand-built RunReports (test/tui/fio-fixtures.ts) and one real run of the
// default scenario, printed as fio 3.36's normal text and JSON, must equal the golden files in
// test/tui/goldens/ byte for byte. UPDATE_GOLDEN=1 npm test rewrites them (review the diff).
// The goldens were checked line by line against fio's stat.c, json.c and lib/num2str.c.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LatencySummary, RunReport } from '../../core/userspace/report.js';
import { formatFioJson } from '../../tui/fio-json.js';
import type { LatencyBin } from '../../core/userspace/report.js';
import { cFixed, formatReport, mergeLatency, simulatedCtime } from '../../tui/summary.js';
import { num2str } from '../../tui/units.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';
import { scenario } from '../helpers/machine.js';
import { BASE_JOB, IDLE, RANDREAD, REPORT, SEQREAD, latency, mixedReport } from './fio-fixtures.js';

const VERSION = '0.0.0-test';
const update = process.env['UPDATE_GOLDEN'] === '1';

function golden(name: string, got: string): void {
  const file = join(repoRoot(), 'test', 'tui', 'goldens', name);
  if (update || !existsSync(file)) {
    if (!update) assert.fail(`no golden ${name}; run UPDATE_GOLDEN=1 npm test`);
    writeFileSync(file, got);
    return;
  }
  assert.equal(got, readFileSync(file, 'utf8'));
}

const CASES: ReadonlyArray<readonly [string, RunReport]> = [
  ['fio-groups', REPORT],
  ['fio-mixed', mixedReport('mixed')],
  ['fio-both', mixedReport('both')],
];

for (const [name, report] of CASES) {
  test(`normal output: ${name}`, () => golden(`${name}.txt`, formatReport(report, { version: VERSION })));
  test(`json output: ${name}`, () => {
    const text = formatFioJson(report, { version: VERSION });
    golden(`${name}.json`, text);
    // valid JSON, and json+ without histogram bins prints what json prints
    assert.doesNotThrow(() => JSON.parse(text));
    assert.equal(formatFioJson(report, { version: VERSION, plus: true }), text);
  });
}

/** A real run: prepareRun and the machine, the default scenario's four jobs for 30 ms. */
function realRun(): RunReport {
  const s = scenario('default');
  const m = prepareRun(s, { seed: 3, durationNs: 30_000_000 });
  m.run(30_000_000);
  return m.report(s.name, 3);
}

test('a real run of the default scenario prints fio text and JSON, the same every time', () => {
  const report = realRun();
  golden('fio-real-default.txt', formatReport(report, { version: VERSION }));
  golden('fio-real-default.json', formatFioJson(report, { version: VERSION }));
  assert.equal(formatReport(realRun(), { version: VERSION }), formatReport(report, { version: VERSION }));
});

test('the JSON reads as fio-parsers read it', () => {
  const doc = JSON.parse(formatFioJson(REPORT, { version: VERSION })) as {
    'fio version': string;
    jobs: Array<{ jobname: string; 'job options': Record<string, string>; read: { iops: number; bw: number; clat_ns: { percentile: Record<string, number> }; lat_ns: { mean: number } } }>;
    disk_util: Array<{ name: string; util: number }>;
    kiotrace: { counters: { page_cache_hits: number } };
  };
  assert.match(doc['fio version'], /^fio-3\.36-kiotrace-/);
  const rr = doc.jobs[0]!;
  assert.equal(rr.jobname, 'randread');
  assert.equal(rr['job options']['iodepth'], '32');
  assert.equal(rr.read.iops, 100_000);
  assert.equal(rr.read.bw, 400_000);
  assert.equal(rr.read.clat_ns.percentile['99.000000'], 900_000);
  assert.equal(rr.read.lat_ns.mean, 312_346.1);
  assert.equal(doc.disk_util[1]!.name, 'sda');
  assert.equal(doc.disk_util[1]!.util, 62.5);
  assert.equal(doc.kiotrace.counters.page_cache_hits, 9_000);
});

test('json+ adds each histogram\'s bins under the latency objects that have percentiles', () => {
  const bins: readonly LatencyBin[] = [
    { ns: 50_176, count: 100 },
    { ns: 300_032, count: 0 },
    { ns: 2_490_368, count: 3 },
  ];
  const clat: LatencySummary & { bins: readonly LatencyBin[] } = { ...RANDREAD.read.clat, bins };
  const report: RunReport = { ...REPORT, jobs: [{ ...RANDREAD, read: { ...RANDREAD.read, clat } }] };
  const plus = formatFioJson(report, { version: VERSION, plus: true });
  assert.ok(plus.includes('            "99.990000" : 2400000\n          },\n          "bins" : {\n            "50176" : 100,\n            "2490368" : 3\n          }\n        },\n'));
  assert.ok(!formatFioJson(report, { version: VERSION }).includes('"bins"'));
});

test("printf's rounding: exact ties go to even, as glibc does", () => {
  assert.equal(cFixed(0.125, 2), '0.12');
  assert.equal(cFixed(0.375, 2), '0.38');
  assert.equal(cFixed(0.25, 1), '0.2');
  assert.equal(cFixed(2.5, 0), '2');
  assert.equal(cFixed(1.005, 2), '1.00'); // 1.005 is 1.00499999... in binary
  assert.equal(cFixed(99.95, 6), '99.950000');
  assert.equal(cFixed(-0.125, 2), '-0.12');
});

test('num2str carries into the integer part and keeps the decimals, as fio prints it', () => {
  // 10239 KiB: 9 MiB and 0.999 of one, "%.2f" gives "1.00": fio prints 10.00MiB
  assert.equal(num2str(10_239 * 1024, 4, true, 'B'), '10.00MiB');
  assert.equal(num2str(65_536, 4, true, 'B'), '64.0KiB');
  // a tie (256/1024 = 0.25 to one decimal) rounds to even: 10.2, not 10.3
  assert.equal(num2str((10 * 1024 + 256) * 1024, 4, true, 'B'), '10.2MiB');
});

test('the date after the pid is the simulated clock, from the Unix epoch', () => {
  assert.equal(simulatedCtime(0), 'Thu Jan  1 00:00:00 1970');
  assert.equal(simulatedCtime(86_400_000_000_000 * 40 + 3_723_000_000_000), 'Tue Feb 10 01:02:03 1970');
});

test('a custom percentile_list sets the table precision and column width', () => {
  const clat = latency(1_000, 100, 9_000_000_000, 5_000_000, 2_000_000_000, []);
  const custom: LatencySummary = {
    ...clat,
    percentiles: [
      { percent: 99.999, ns: 8_000_000_000 },
      { percent: 50, ns: 3_000_000 },
      { percent: 0, ns: 1 },
    ],
  };
  const job = { ...BASE_JOB, read: { ...IDLE, ios: 1_000, bytes: 4_096_000, iops: 500, bandwidthBytesPerSec: 2_048_000, clat: custom } };
  const text = formatReport({ ...REPORT, jobs: [job] }, { version: VERSION });
  // sorted, 0 dropped (fio's list ends there); 3 decimals; min above 2 ms and max above 100 ms: msec, ceil
  assert.ok(text.includes('    clat percentiles (msec):\n     | 50.000th=[    3], 99.999th=[ 8000]\n'), text);
  // min 100 ns keeps the clat line in nsec, as fio does, whatever max and stdev are
  assert.ok(text.includes('    clat (nsec): min=100, max=9000.0M, avg=5000000.00, stdev=2000000000.00\n'), text);
});

test('merging reads and writes for unified_rw_reporting: pooled mean and stdev, percentiles of the mixture', () => {
  const a = latency(3, 10, 30, 20, 10, [10, 10, 10, 10, 10, 20, 20, 20, 20, 30, 30, 30, 30, 30, 30, 30, 30]);
  const b = latency(1, 100, 100, 100, 0, [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]);
  const m = mergeLatency(a, b);
  assert.equal(m.count, 4);
  assert.equal(m.minNs, 10);
  assert.equal(m.maxNs, 100);
  assert.equal(m.meanNs, 40);
  // samples 10, 20, 30, 100: squared deviations from 40 sum to 5000
  assert.equal(m.stdevNs.toFixed(6), Math.sqrt(5_000 / 3).toFixed(6));
  assert.equal(m.p50Ns, 20);
  assert.equal(m.p99Ns, 100);
  assert.equal(mergeLatency(a, latency(0, 0, 0, 0, 0)), a);
});

test('names in JSON are escaped so the document stays valid and terminal-safe', () => {
  const report: RunReport = { ...REPORT, scenario: 'evil\u001b[2J', jobs: [{ ...SEQREAD, name: 'job"\\\u0007\u202e', filename: '/x\n' }] };
  const text = formatFioJson(report, { version: VERSION });
  assert.ok(!/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/.test(text), 'no raw control characters');
  const doc = JSON.parse(text) as { jobs: Array<{ jobname: string }>; kiotrace: { scenario: string } };
  assert.equal(doc.jobs[0]!.jobname, 'job"\\\u0007\u202e');
  assert.equal(doc.kiotrace.scenario, 'evil\u001b[2J');
});

test('an interrupted run says so under "kiotrace"', () => {
  const text = formatFioJson(REPORT, { version: VERSION, interrupted: { signal: 'SIGINT', atNs: 1_000, durationNs: 2_000_000_000 } });
  const doc = JSON.parse(text) as { kiotrace: { interrupted: { signal: string; at_ns: number } } };
  assert.deepEqual(doc.kiotrace.interrupted, { signal: 'SIGINT', at_ns: 1_000, duration_ns: 2_000_000_000 });
});
