// Hand-built RunReports for the fio output goldens (summary.test.ts, fio-output.test.ts): every
// section fio prints has a non-trivial value, and each unit switch (nsec/usec/msec, KiB/MiB) and
// reporting mode (group_reporting, several groups, unified_rw_reporting) is exercised.
import type { DeviceReport, DirectionReport, JobReport, LatencySummary, Percentile, RunReport, SampleSummary } from '../../core/userspace/report.js';

/** fio's default percentile_list. */
export const DEFAULT_PERCENTS = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99] as const;

export const NO_LAT: LatencySummary = { count: 0, minNs: 0, maxNs: 0, meanNs: 0, stdevNs: 0, p50Ns: 0, p99Ns: 0, p999Ns: 0, percentiles: [] };
export const NO_SAMPLES: SampleSummary = { min: 0, max: 0, mean: 0, stdev: 0, samples: 0 };

/** A latency summary; `values` are the ns at DEFAULT_PERCENTS (empty: no percentiles, as slat and lat). */
export function latency(count: number, minNs: number, maxNs: number, meanNs: number, stdevNs: number, values: readonly number[] = []): LatencySummary {
  const percentiles: Percentile[] = values.map((ns, i) => ({ percent: DEFAULT_PERCENTS[i]!, ns }));
  const at = (p: number): number => percentiles.find((x) => x.percent === p)?.ns ?? 0;
  return { count, minNs, maxNs, meanNs, stdevNs, p50Ns: at(50), p99Ns: at(99), p999Ns: at(99.9), percentiles };
}

export const IDLE: DirectionReport = {
  ios: 0,
  bytes: 0,
  iops: 0,
  bandwidthBytesPerSec: 0,
  shortIos: 0,
  droppedIos: 0,
  slat: NO_LAT,
  clat: NO_LAT,
  lat: NO_LAT,
  bwSamples: NO_SAMPLES,
  iopsSamples: NO_SAMPLES,
};

const ZERO7 = [0, 0, 0, 0, 0, 0, 0];

export const BASE_JOB: JobReport = {
  name: 'job',
  jobIndex: 0,
  jobs: 1,
  groupId: 0,
  pid: 100,
  filename: '/dev/nvme0n1',
  rw: 'read',
  ioengine: 'psync',
  iodepth: 1,
  direct: true,
  bs: 4096,
  blockSizes: { read: [4096, 4096], write: [4096, 4096] },
  runtimeNs: 2_000_000_000,
  read: IDLE,
  write: IDLE,
  fsyncs: 0,
  fsyncLat: NO_LAT,
  errors: 0,
  firstErrno: 0,
  cpu: { userNs: 0, systemNs: 0, contextSwitches: 0, majorFaults: 0, minorFaults: 0 },
  depths: { depth: ZERO7, submit: ZERO7, complete: ZERO7 },
  latencyBuckets: { nsec: new Array<number>(10).fill(0), usec: new Array<number>(10).fill(0), msec: new Array<number>(12).fill(0) },
  unifiedRwReporting: 'none',
  latencyTarget: { targetNs: 0, windowUs: 0, percentile: 100, depth: 1 },
};

/** libaio at iodepth 32: slat in nsec (its stdev is under 1000), clat and lat in usec, bw in KiB/s. */
export const RANDREAD: JobReport = {
  ...BASE_JOB,
  name: 'randread',
  pid: 101,
  rw: 'randread',
  ioengine: 'libaio',
  iodepth: 32,
  latencyTarget: { targetNs: 0, windowUs: 0, percentile: 100, depth: 32 },
  read: {
    ...IDLE,
    ios: 200_000,
    bytes: 819_200_000,
    iops: 100_000,
    bandwidthBytesPerSec: 409_600_000,
    slat: latency(200_000, 1_200, 45_000, 2_345.6, 800.25),
    clat: latency(200_000, 50_000, 2_500_000, 310_000.5, 120_000, [
      60_000, 80_000, 120_000, 200_000, 250_000, 280_000, 300_000, 320_000, 340_000, 370_000, 420_000, 480_000, 900_000, 1_100_000, 1_800_000, 2_000_000, 2_400_000,
    ]),
    lat: latency(200_000, 52_000, 2_510_000, 312_346.1, 120_100),
    bwSamples: { min: 380_000_000, max: 430_000_000, mean: 409_600_000, stdev: 9_000_000, samples: 4 },
    iopsSamples: { min: 92_000, max: 105_000, mean: 100_000, stdev: 2_500.5, samples: 4 },
  },
  cpu: { userNs: 100_000_000, systemNs: 700_000_000, contextSwitches: 150_000, majorFaults: 0, minorFaults: 40 },
  depths: { depth: [1, 1, 2, 4, 8, 199_984, 0], submit: [0, 49_000, 1_000, 0, 0, 0, 0], complete: [0, 48_000, 2_000, 0, 0, 0, 0] },
  latencyBuckets: { nsec: new Array<number>(10).fill(0), usec: [0, 0, 0, 0, 10, 20, 50_000, 100_000, 30_000, 10_000], msec: [9_000, 970, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
};

/** numjobs=2 merged by group_reporting, in group 1: clat in msec, fsyncs, failed writes (ENOSPC). */
export const WRITERS: JobReport = {
  ...BASE_JOB,
  name: 'writers',
  jobs: 2,
  groupId: 1,
  pid: 102,
  filename: '/data/writers.0.0',
  rw: 'write',
  direct: false,
  blockSizes: { read: [4096, 4096], write: [4096, 65536] },
  runtimeNs: 1_500_000_000,
  write: {
    ...IDLE,
    ios: 5_000,
    bytes: 20_480_000,
    iops: 3_333.3333333333335,
    bandwidthBytesPerSec: 13_653_333.333333334,
    clat: latency(5_000, 2_500_000, 150_000_000, 4_000_000, 1_500_000, [
      2_600_000, 2_700_000, 2_800_000, 3_000_000, 3_200_000, 3_400_000, 3_600_000, 3_800_000, 4_000_000, 4_300_000, 5_000_000, 6_000_000, 9_000_000, 12_000_000, 60_000_000, 100_000_000, 150_000_000,
    ]),
    lat: latency(5_000, 2_500_000, 150_000_000, 4_000_000, 1_500_000),
    bwSamples: { min: 12_000_000, max: 15_000_000, mean: 13_500_000, stdev: 700_000.5, samples: 6 },
    iopsSamples: { min: 2_900, max: 3_700, mean: 3_300, stdev: 170.25, samples: 6 },
  },
  fsyncs: 50,
  fsyncLat: latency(50, 1_000_000, 9_000_000, 3_000_000, 1_250_000, [
    1_000_000, 1_000_000, 1_100_000, 1_500_000, 2_000_000, 2_500_000, 3_000_000, 3_200_000, 3_500_000, 4_000_000, 5_000_000, 6_000_000, 9_000_000, 9_000_000, 9_000_000, 9_000_000, 9_000_000,
  ]),
  errors: 2,
  firstErrno: -28,
  cpu: { userNs: 30_000_000, systemNs: 150_000_000, contextSwitches: 10_123, majorFaults: 1, minorFaults: 2_048 },
  depths: { depth: [5_000, 0, 0, 0, 0, 0, 0], submit: [0, 5_000, 0, 0, 0, 0, 0], complete: [0, 5_000, 0, 0, 0, 0, 0] },
  latencyBuckets: { nsec: new Array<number>(10).fill(0), usec: new Array<number>(10).fill(0), msec: [0, 4_000, 990, 9, 0, 0, 1, 0, 0, 0, 0, 0] },
};

/** A fast sequential reader, next to randread in group 0 (so the group line has a range): bandwidth samples past 1 GiB/s print in MiB/s; clat stays nsec (min below 2 us). */
export const SEQREAD: JobReport = {
  ...BASE_JOB,
  name: 'seqread',
  pid: 103,
  filename: '/data/seq',
  ioengine: 'io_uring',
  iodepth: 4,
  latencyTarget: { targetNs: 0, windowUs: 0, percentile: 100, depth: 4 },
  direct: false,
  bs: 131_072,
  blockSizes: { read: [131_072, 131_072], write: [131_072, 131_072] },
  runtimeNs: 1_000_000_000,
  read: {
    ...IDLE,
    ios: 19_073,
    bytes: 2_499_936_256,
    iops: 19_073,
    bandwidthBytesPerSec: 2_499_936_256,
    slat: latency(19_073, 900, 12_000, 1_500.25, 300.5),
    clat: latency(19_073, 1_800, 800_000, 52_000.75, 20_000.5, [
      2_000, 3_000, 10_000, 30_000, 40_000, 45_000, 50_000, 52_000, 55_000, 60_000, 70_000, 80_000, 120_000, 200_000, 500_000, 700_000, 800_000,
    ]),
    lat: latency(19_073, 2_800, 810_000, 53_501, 20_100.5),
    bwSamples: { min: 2_400_000_000, max: 2_600_000_000, mean: 2_499_936_256, stdev: 50_000_000, samples: 2 },
    iopsSamples: { min: 18_310, max: 19_836, mean: 19_073, stdev: 1_079.04, samples: 2 },
  },
  cpu: { userNs: 5_000_000, systemNs: 400_000_000, contextSwitches: 4_000, majorFaults: 0, minorFaults: 12 },
  depths: { depth: [10, 20, 19_043, 0, 0, 0, 0], submit: [0, 19_073, 0, 0, 0, 0, 0], complete: [0, 19_073, 0, 0, 0, 0, 0] },
  latencyBuckets: { nsec: new Array<number>(10).fill(0), usec: [1, 2, 3, 500, 12_000, 6_000, 500, 60, 5, 2], msec: new Array<number>(12).fill(0) },
};

export const disk = (d: Partial<DeviceReport> & Pick<DeviceReport, 'name'>): DeviceReport => ({
  scheduler: 'none',
  readAheadKb: 128,
  readIos: 0,
  writeIos: 0,
  readBytes: 0,
  writeBytes: 0,
  readMerges: 0,
  writeMerges: 0,
  readTicksNs: 0,
  writeTicksNs: 0,
  inQueueNs: 0,
  busyNs: 0,
  hw: {},
  ...d,
});

export const REPORT: RunReport = {
  scenario: 'fio-goldens',
  seed: 7,
  durationNs: 2_000_000_000,
  eventsRun: 123_456,
  jobs: [RANDREAD, SEQREAD, WRITERS],
  layout: [
    { job: 'seqread', files: 1, bytes: 10 * 2 ** 30, how: 'prefilled' },
    { job: 'writers', files: 4, bytes: 512 * 2 ** 20, how: 'preallocated' },
  ],
  counters: {
    pageCacheHits: 9_000,
    pageCacheMisses: 1_000,
    readaheadPages: 2_048,
    minorFaults: 2_100,
    majorFaults: 1,
    contextSwitches: 164_123,
    irqs: 219_000,
    softirqs: 219_001,
    bioBackMerges: 10,
    bioFrontMerges: 0,
    requestMerges: 3,
    pagesDirtied: 5_000,
    pagesWrittenBack: 4_000,
    nrDirty: 12,
    nrWriteback: 3,
    dirtyThrottlePauses: 5,
    dirtyThrottlePauseNs: 52_000_000,
    syscalls: 260_000,
    userCopyBytes: 40_960_000,
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
    disk({
      name: 'nvme0n1',
      readIos: 219_073,
      writeIos: 0,
      readBytes: 3_319_136_256,
      readMerges: 12,
      readTicksNs: 61_234_567_890,
      inQueueNs: 61_300_000_000,
      busyNs: 1_999_000_000,
    }),
    disk({
      name: 'sda',
      scheduler: 'mq-deadline',
      writeIos: 4_000,
      writeBytes: 20_480_000,
      writeMerges: 1_000,
      writeTicksNs: 15_000_000_000,
      inQueueNs: 15_500_000_000,
      busyNs: 1_250_000_000,
      hw: { seeks: 12, avgSeekMs: 4.25 },
    }),
  ],
};

/** randrw at 70/30 in one job, for unified_rw_reporting=mixed and both. */
export const RANDRW: JobReport = {
  ...BASE_JOB,
  name: 'randrw',
  pid: 104,
  rw: 'randrw',
  ioengine: 'libaio',
  iodepth: 8,
  latencyTarget: { targetNs: 0, windowUs: 0, percentile: 100, depth: 8 },
  runtimeNs: 1_000_000_000,
  read: {
    ...IDLE,
    ios: 7_000,
    bytes: 28_672_000,
    iops: 7_000,
    bandwidthBytesPerSec: 28_672_000,
    slat: latency(7_000, 1_000, 20_000, 2_000, 500),
    clat: latency(7_000, 60_000, 900_000, 110_000, 40_000, [
      70_000, 75_000, 80_000, 85_000, 90_000, 95_000, 100_000, 105_000, 110_000, 120_000, 150_000, 200_000, 300_000, 400_000, 700_000, 800_000, 900_000,
    ]),
    lat: latency(7_000, 62_000, 910_000, 112_000, 40_100),
    bwSamples: { min: 27_000_000, max: 30_000_000, mean: 28_500_000, stdev: 1_000_000, samples: 2 },
    iopsSamples: { min: 6_800, max: 7_200, mean: 7_000, stdev: 282.84, samples: 2 },
  },
  write: {
    ...IDLE,
    ios: 3_000,
    bytes: 12_288_000,
    iops: 3_000,
    bandwidthBytesPerSec: 12_288_000,
    slat: latency(3_000, 1_500, 30_000, 3_000, 700),
    clat: latency(3_000, 20_000, 400_000, 40_000, 15_000, [
      22_000, 24_000, 26_000, 28_000, 30_000, 32_000, 34_000, 36_000, 38_000, 42_000, 50_000, 60_000, 100_000, 150_000, 300_000, 350_000, 400_000,
    ]),
    lat: latency(3_000, 22_000, 410_000, 43_000, 15_100),
    bwSamples: { min: 11_000_000, max: 13_000_000, mean: 12_000_000, stdev: 1_414_213.56, samples: 2 },
    iopsSamples: { min: 2_900, max: 3_100, mean: 3_000, stdev: 141.42, samples: 2 },
  },
  cpu: { userNs: 20_000_000, systemNs: 120_000_000, contextSwitches: 9_000, majorFaults: 0, minorFaults: 30 },
  depths: { depth: [0, 0, 0, 10_000, 0, 0, 0], submit: [0, 2_500, 0, 0, 0, 0, 0], complete: [0, 2_400, 100, 0, 0, 0, 0] },
  latencyBuckets: { nsec: new Array<number>(10).fill(0), usec: [0, 0, 0, 0, 2_000, 1_500, 6_400, 90, 6, 3], msec: [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0] },
};

export function mixedReport(mode: 'mixed' | 'both'): RunReport {
  return {
    ...REPORT,
    scenario: `fio-${mode}`,
    durationNs: 1_000_000_000,
    jobs: [{ ...RANDRW, unifiedRwReporting: mode }],
    devices: [disk({ name: 'nvme0n1', readIos: 7_000, writeIos: 3_000, readBytes: 28_672_000, writeBytes: 12_288_000, readTicksNs: 770_000_000, writeTicksNs: 120_000_000, inQueueNs: 890_000_000, busyNs: 999_999_999 })],
  };
}
