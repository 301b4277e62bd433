// formatReport's edge cases: an idle job, sub-ms runs, the latency line's unit, escaping. The full
// fio-format goldens are in fio-output.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DeviceReport, DirectionReport, JobReport, LatencySummary, RunReport, SampleSummary } from '../../core/userspace/report.js';
import { errnoName, formatReport } from '../../tui/summary.js';

type ShortLatency = Omit<LatencySummary, 'stdevNs' | 'percentiles'>;
const lat = (l: ShortLatency): LatencySummary => ({ ...l, stdevNs: 0, percentiles: [] });
const NO_LAT: LatencySummary = lat({ count: 0, minNs: 0, maxNs: 0, meanNs: 0, p50Ns: 0, p99Ns: 0, p999Ns: 0 });
const NO_SAMPLES: SampleSummary = { min: 0, max: 0, mean: 0, stdev: 0, samples: 0 };
type ShortDirection = Pick<DirectionReport, 'ios' | 'bytes' | 'iops' | 'bandwidthBytesPerSec'> & { clat: ShortLatency };
const dir = (d: ShortDirection): DirectionReport => ({ shortIos: 0, droppedIos: 0, slat: NO_LAT, lat: lat(d.clat), bwSamples: NO_SAMPLES, iopsSamples: NO_SAMPLES, ...d, clat: lat(d.clat) });
const IDLE = dir({ ios: 0, bytes: 0, iops: 0, bandwidthBytesPerSec: 0, clat: NO_LAT });
const JOB_EXTRAS = {
  jobs: 1,
  groupId: 0,
  iodepth: 1,
  blockSizes: { read: [4096, 4096], write: [4096, 4096] },
  cpu: { userNs: 0, systemNs: 0, contextSwitches: 0, majorFaults: 0, minorFaults: 0 },
  depths: { depth: [0, 0, 0, 0, 0, 0, 0], submit: [0, 0, 0, 0, 0, 0, 0], complete: [0, 0, 0, 0, 0, 0, 0] },
  latencyBuckets: { nsec: [], usec: [], msec: [] },
  unifiedRwReporting: 'none',
  latencyTarget: { targetNs: 0, windowUs: 0, percentile: 100, depth: 1 },
} as const;
const disk = (d: Omit<DeviceReport, 'readMerges' | 'writeMerges' | 'readTicksNs' | 'writeTicksNs' | 'inQueueNs' | 'readAheadKb'>): DeviceReport => ({
  readAheadKb: 128,
  readMerges: 0,
  writeMerges: 0,
  readTicksNs: 0,
  writeTicksNs: 0,
  inQueueNs: 0,
  ...d,
});

const reader: JobReport = {
  ...JOB_EXTRAS,
  name: 'seq-reader',
  jobIndex: 0,
  pid: 101,
  filename: '/mnt/nvme/seq-reader.dat',
  rw: 'read',
  ioengine: 'psync',
  direct: false,
  bs: 4096,
  runtimeNs: 2_000_000_000,
  read: dir({
    ios: 24_690,
    bytes: 100_876_288,
    iops: 12_345,
    bandwidthBytesPerSec: 50_438_144,
    // all above 1000 ns: printed in usec
    clat: { count: 24_690, minNs: 2_100, maxNs: 5_283_000, meanNs: 80_123.4, p50Ns: 3_000, p99Ns: 1_200_000, p999Ns: 4_000_000 },
  }),
  write: IDLE,
  fsyncs: 0,
  fsyncLat: NO_LAT,
  errors: 0,
  firstErrno: 0,
};

const writer: JobReport = {
  ...JOB_EXTRAS,
  name: 'fsync-writer',
  jobIndex: 0,
  pid: 102,
  filename: '/mnt/hdd/fsync-writer.dat',
  rw: 'write',
  ioengine: 'psync',
  direct: false,
  bs: 4096,
  runtimeNs: 2_000_000_000,
  read: IDLE,
  write: dir({
    ios: 1_024,
    bytes: 4_194_304,
    iops: 512,
    bandwidthBytesPerSec: 2_097_152,
    // min below 1000 ns: the whole line stays in nsec, as fio does
    clat: { count: 1_024, minNs: 350, maxNs: 12_345_678, meanNs: 4_096.5, p50Ns: 800, p99Ns: 2_000_000, p999Ns: 12_000_000 },
  }),
  fsyncs: 32,
  fsyncLat: lat({ count: 32, minNs: 1_500_000, maxNs: 9_000_000, meanNs: 3_000_000, p50Ns: 2_500_000, p99Ns: 8_000_000, p999Ns: 9_000_000 }),
  errors: 3,
  firstErrno: -5,
};

const report: RunReport = {
  scenario: 'default',
  seed: 7,
  durationNs: 2_000_000_000,
  eventsRun: 123_456,
  jobs: [reader, writer],
  layout: [],
  counters: {
    pageCacheHits: 9_000,
    pageCacheMisses: 1_000,
    readaheadPages: 2_048,
    minorFaults: 10,
    majorFaults: 2,
    contextSwitches: 500,
    irqs: 300,
    softirqs: 301,
    bioBackMerges: 10,
    bioFrontMerges: 0,
    requestMerges: 3,
    pagesDirtied: 4_096,
    pagesWrittenBack: 4_000,
    nrDirty: 12,
    nrWriteback: 3,
    dirtyThrottlePauses: 5,
    dirtyThrottlePauseNs: 52_000_000,
    syscalls: 25_750,
    userCopyBytes: 4_096,
    pgscanKswapd: 0,
    pgscanDirect: 0,
    pgstealKswapd: 0,
    pgstealDirect: 0,
    pgactivate: 0,
    pgdeactivate: 0,
    allocstall: 0,
    workingsetRefaultFile: 0,
    workingsetActivateFile: 0,
    workingsetRestoreFile: 0,
  },
  devices: [
    disk({ name: 'nvme0n1', scheduler: 'none', readIos: 800, writeIos: 0, readBytes: 99_614_720, writeBytes: 0, busyNs: 1_986_400_000, hw: {} }),
    disk({ name: 'sda', scheduler: 'mq-deadline', readIos: 0, writeIos: 40, readBytes: 0, writeBytes: 4_194_304, busyNs: 500_000_000, hw: { seeks: 12, avgSeekMs: 4.25 } }),
  ],
};

test('formatReport is a pure function of the report', () => {
  assert.equal(formatReport(report), formatReport(JSON.parse(JSON.stringify(report)) as RunReport));
});

test('a job without I/O prints no direction lines and an empty run prints n/a hit ratio', () => {
  const idle: RunReport = {
    ...report,
    durationNs: 0,
    jobs: [{ ...reader, read: IDLE, runtimeNs: 0 }],
    counters: { ...report.counters, pageCacheHits: 0, pageCacheMisses: 0 },
    devices: [],
  };
  const text = formatReport(idle);
  assert.ok(!text.includes('IOPS='));
  // fio prints a group's header even when none of its jobs moved data, and no job block for them
  assert.ok(text.includes('\n\nRun status group 0 (all jobs):\n\nscenario default'));
  assert.ok(!text.includes('(groupid=0'));
  assert.ok(!text.includes('Disk stats'));
  assert.ok(text.includes('  page cache:   hits=0, misses=0, hit ratio=n/a\n'));
  assert.ok(text.includes('\nscenario default: seed=7, duration=0ns, events=123456\n'));
});

test('errno names', () => {
  assert.equal(errnoName(-5), 'EIO');
  assert.equal(errnoName(11), 'EAGAIN');
  assert.equal(errnoName(-9999), 'errno 9999');
});

test("latency lines: fio's unit choice (usec only past 2 us min, 100 us max and 1 us stdev; msec likewise), min and max truncated", () => {
  const cases: ReadonlyArray<[Omit<ShortLatency, 'count'>, number, string]> = [
    // every I/O took 1999 ns: too short to scale
    [{ minNs: 1_999, maxNs: 1_999, meanNs: 1_999, p50Ns: 1_999, p99Ns: 1_999, p999Ns: 1_999 }, 0, 'clat (nsec): min=1999, max=1999, avg=1999.00, stdev= 0.00'],
    [{ minNs: 2_100, maxNs: 5_283_000, meanNs: 80_123.4, p50Ns: 3_000, p99Ns: 1_200_000, p999Ns: 4_000_000 }, 5_000, 'clat (usec): min=2, max=5283, avg=80.12, stdev= 5.00'],
    // the stdev is under 1 us: fio keeps nsec, and max needs num2str's k
    [{ minNs: 2_100, maxNs: 5_283_000, meanNs: 80_123.4, p50Ns: 3_000, p99Ns: 1_200_000, p999Ns: 4_000_000 }, 900, 'clat (nsec): min=2100, max=5283.0k, avg=80123.40, stdev=900.00'],
    // min exactly 2000 ns is not above it
    [{ minNs: 2_000, maxNs: 5_283_000, meanNs: 80_123.4, p50Ns: 3_000, p99Ns: 1_200_000, p999Ns: 4_000_000 }, 5_000, 'clat (nsec): min=2000, max=5283.0k, avg=80123.40, stdev=5000.00'],
    [{ minNs: 2_999_999, maxNs: 100_000_000, meanNs: 7_654_321, p50Ns: 3_000_000, p99Ns: 90_000_000, p999Ns: 99_000_000 }, 1_000_001, 'clat (msec): min=2, max=100, avg= 7.65, stdev= 1.00'],
  ];
  for (const [l, stdevNs, expected] of cases) {
    const job: JobReport = { ...reader, read: { ...reader.read, ios: 1, clat: { ...lat({ count: 1, ...l }), stdevNs } } };
    const lines = formatReport({ ...report, jobs: [job] }).split('\n');
    assert.equal(lines.find((x) => x.startsWith('    clat ('))?.trim(), expected);
  }
});

test('a run shorter than 1 ms shows its time in usec or nsec, never 0msec; min and max share the unit', () => {
  const short = (runtimeNs: number): JobReport => ({
    ...reader,
    runtimeNs,
    read: dir({ ios: 1, bytes: 4096, iops: 1e9 / runtimeNs, bandwidthBytesPerSec: (4096 * 1e9) / runtimeNs, clat: { count: 1, minNs: 70_500, maxNs: 70_500, meanNs: 70_500, p50Ns: 70_500, p99Ns: 70_500, p999Ns: 70_500 } }),
  });
  const text = formatReport({ ...report, jobs: [short(70_560), { ...short(2_500_000), name: 'b' }] });
  assert.match(text, /\n {2}read: IOPS=14\.2k, BW=55\.4MiB\/s \(58\.0MB\/s\)\(4096B\/70usec\)\n/);
  assert.match(text, /\n {2}read: IOPS=400, BW=1600KiB\/s \(1638kB\/s\)\(4096B\/2msec\)\n/);
  assert.match(text, /\n {3}READ: bw=3200KiB\/s \(3277kB\/s\), 1600KiB\/s-55\.4MiB\/s \(1638kB\/s-58\.0MB\/s\), io=8192B \(8192B\), run=70-2500usec\n/);
  assert.match(formatReport({ ...report, jobs: [short(900)] }), /\(4096B\/900nsec\)\n[^]*run=900-900nsec\n/);
});

test('names and file names from the scenario are printed escaped', () => {
  const text = formatReport({
    ...report,
    scenario: 'evil\u001b[2J',
    jobs: [{ ...reader, name: 'job\u001b]0;title\u0007', filename: '/mnt/nvme/\u202eexe.txt' }],
  });
  assert.ok(!/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/.test(text), 'no raw control characters');
  assert.ok(text.includes('\nscenario evil\\x1b[2J: seed=7'));
  assert.match(text, /\njob\\x1b\]0;title\\x07: \(groupid=0/);
  assert.match(text, /^job\\x1b\]0;title\\x07: \(g=0\): rw=read/);
  assert.match(text, /filename=\/mnt\/nvme\/\\u202eexe\.txt, direct=0\n/);
});
