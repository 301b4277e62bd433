// Models: fio's statistics (stat.c, io_u.c): a log-linear latency histogram whose memory does not
// grow with the number of samples, read back as min/max/mean and percentiles; the io_u_map /
// io_u_submit / io_u_complete / io_u_lat_n/u/m bucket counters; and the bw/iops averages sampled
// every bwavgtime/iopsavgtime (500 ms).

const EXACT_LIMIT = 128; // values below this are kept exactly
const SUB_BUCKETS = 64; // per power of two above EXACT_LIMIT: about 1.6% resolution

function bucketOf(v: number): number {
  if (v < EXACT_LIMIT) return v < 0 ? 0 : Math.floor(v);
  const e = v < 2 ** 31 ? 31 - Math.clz32(v) : Math.floor(Math.log2(v));
  const sub = Math.floor(v / 2 ** (e - 6)); // in [64, 128)
  return EXACT_LIMIT + (e - 7) * SUB_BUCKETS + (sub - SUB_BUCKETS);
}

/** Lowest value that falls in bucket `b`. */
function bucketLow(b: number): number {
  if (b < EXACT_LIMIT) return b;
  const rel = b - EXACT_LIMIT;
  const e = Math.floor(rel / SUB_BUCKETS) + 7;
  const sub = (rel % SUB_BUCKETS) + SUB_BUCKETS;
  return sub * 2 ** (e - 6);
}

export class LatencyHistogram {
  private counts = new Float64Array(1024);
  count = 0;
  sumNs = 0;
  /** Sum of squares, for the standard deviation (fio keeps S as a running sum too). */
  sumSquaresNs2 = 0;
  minNs = Infinity;
  maxNs = 0;

  record(valueNs: number): void {
    const b = bucketOf(valueNs);
    if (b >= this.counts.length) {
      const bigger = new Float64Array(Math.max(b + 1, this.counts.length * 2));
      bigger.set(this.counts);
      this.counts = bigger;
    }
    this.counts[b]!++;
    this.count++;
    this.sumNs += valueNs;
    this.sumSquaresNs2 += valueNs * valueNs;
    if (valueNs < this.minNs) this.minNs = valueNs;
    if (valueNs > this.maxNs) this.maxNs = valueNs;
  }

  /** Forgets every sample (fio's reset_all_stats when ramp_time ends). */
  clear(): void {
    this.counts = new Float64Array(1024);
    this.count = 0;
    this.sumNs = 0;
    this.sumSquaresNs2 = 0;
    this.minNs = Infinity;
    this.maxNs = 0;
  }

  /** A copy, to take the difference with later (what a live view shows per interval). */
  copy(): LatencyHistogram {
    const h = new LatencyHistogram();
    h.counts = this.counts.slice();
    h.count = this.count;
    h.sumNs = this.sumNs;
    h.sumSquaresNs2 = this.sumSquaresNs2;
    h.minNs = this.minNs;
    h.maxNs = this.maxNs;
    return h;
  }

  /** The samples recorded since `earlier` (a copy of this histogram taken before). */
  since(earlier: LatencyHistogram): LatencyHistogram {
    const h = new LatencyHistogram();
    h.counts = this.counts.slice();
    for (let b = 0; b < earlier.counts.length; b++) h.counts[b]! -= earlier.counts[b]!;
    h.count = this.count - earlier.count;
    h.sumNs = this.sumNs - earlier.sumNs;
    h.sumSquaresNs2 = this.sumSquaresNs2 - earlier.sumSquaresNs2;
    // SIMPLIFICATION: min/max of the interval are bounded by the run's; percentiles clamp to them
    h.minNs = this.minNs;
    h.maxNs = this.maxNs;
    return h;
  }

  get meanNs(): number {
    return this.count === 0 ? 0 : this.sumNs / this.count;
  }

  /** Sample standard deviation (n - 1), 0 for fewer than two samples, as fio prints stdev. */
  get stdevNs(): number {
    if (this.count < 2) return 0;
    const variance = (this.sumSquaresNs2 - (this.sumNs * this.sumNs) / this.count) / (this.count - 1);
    return variance > 0 ? Math.sqrt(variance) : 0;
  }

  /** Adds another histogram's samples (group_reporting sums a group's jobs). */
  add(other: LatencyHistogram): void {
    if (other.counts.length > this.counts.length) {
      const bigger = new Float64Array(other.counts.length);
      bigger.set(this.counts);
      this.counts = bigger;
    }
    for (let b = 0; b < other.counts.length; b++) this.counts[b]! += other.counts[b]!;
    this.count += other.count;
    this.sumNs += other.sumNs;
    this.sumSquaresNs2 += other.sumSquaresNs2;
    if (other.minNs < this.minNs) this.minNs = other.minNs;
    if (other.maxNs > this.maxNs) this.maxNs = other.maxNs;
  }

  /** The non-empty buckets, ascending, each as its midpoint (what percentileNs reports) and count. */
  bins(): { ns: number; count: number }[] {
    const out: { ns: number; count: number }[] = [];
    const counts = this.counts;
    for (let b = 0; b < counts.length; b++) {
      if (counts[b]! === 0) continue;
      const lo = bucketLow(b);
      out.push({ ns: b < EXACT_LIMIT ? lo : Math.round((lo + bucketLow(b + 1)) / 2), count: counts[b]! });
    }
    return out;
  }

  /**
   * The value at percentile p (0..100): the smallest bucket whose cumulative count reaches p% of
   * the samples, reported as that bucket's midpoint and clamped to [min, max].
   */
  percentileNs(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    const counts = this.counts;
    for (let b = 0; b < counts.length; b++) {
      seen += counts[b]!;
      if (seen >= rank) {
        const lo = bucketLow(b);
        const hi = bucketLow(b + 1);
        const mid = b < EXACT_LIMIT ? lo : Math.round((lo + hi) / 2);
        return Math.min(this.maxNs, Math.max(this.minNs, mid));
      }
    }
    return this.maxNs;
  }
}

/** fio's io_u_mark_depth: the bucket (1, 2, 4, 8, 16, 32, >=64) of the depth at a submission. */
export function depthBucket(depth: number): number {
  if (depth >= 64) return 6;
  if (depth >= 32) return 5;
  if (depth >= 16) return 4;
  if (depth >= 8) return 3;
  if (depth >= 4) return 2;
  if (depth >= 2) return 1;
  return 0;
}

/** fio's __io_u_mark_map: the bucket (0, 1-4, 5-8, 9-16, 17-32, 33-64, >64) of I/Os per submit or reap. */
export function batchBucket(n: number): number {
  if (n > 64) return 6;
  if (n > 32) return 5;
  if (n > 16) return 4;
  if (n > 8) return 3;
  if (n > 4) return 2;
  if (n > 0) return 1;
  return 0;
}

/** Lower bounds of fio's latency buckets within a unit: [0,2), [2,4), [4,10) ... [750,1000). */
const LAT_LOWS = [2, 4, 10, 20, 50, 100, 250, 500, 750] as const;

function latIndex(v: number): number {
  let i = 0;
  while (i < LAT_LOWS.length && v >= LAT_LOWS[i]!) i++;
  return i;
}

/** fio's io_u_mark_latency: counts of I/Os by total latency in ns, us and ms buckets. */
export class LatencyBucketCounts {
  readonly nsec = new Array<number>(10).fill(0);
  readonly usec = new Array<number>(10).fill(0);
  /** ..., [1000, 2000) ms, then >= 2000 ms. */
  readonly msec = new Array<number>(12).fill(0);

  record(latNs: number): void {
    if (latNs < 1000) this.nsec[latIndex(latNs)]!++;
    else if (latNs < 1_000_000) this.usec[latIndex(Math.floor(latNs / 1000))]!++;
    else {
      const ms = Math.floor(latNs / 1_000_000);
      this.msec[ms >= 2000 ? 11 : ms >= 1000 ? 10 : latIndex(ms)]!++;
    }
  }

  add(o: LatencyBucketCounts): void {
    for (let i = 0; i < 10; i++) this.nsec[i]! += o.nsec[i]!;
    for (let i = 0; i < 10; i++) this.usec[i]! += o.usec[i]!;
    for (let i = 0; i < 12; i++) this.msec[i]! += o.msec[i]!;
  }

  clear(): void {
    this.nsec.fill(0);
    this.usec.fill(0);
    this.msec.fill(0);
  }
}

/** fio's bwavgtime and iopsavgtime default: one bw and one iops sample every 500 ms. */
export const SAMPLE_INTERVAL_NS = 500_000_000;

/**
 * Bytes and I/Os completed in each 500 ms window of a job's run (window i covers
 * [start + i*500ms, start + (i+1)*500ms)): fio's add_bw_sample / add_iops_sample average over
 * each window.
 */
export class IntervalTally {
  readonly bytes: number[] = [];
  readonly ios: number[] = [];

  record(sinceStartNs: number, bytes: number): void {
    const i = Math.floor(sinceStartNs / SAMPLE_INTERVAL_NS);
    while (this.bytes.length <= i) {
      this.bytes.push(0);
      this.ios.push(0);
    }
    this.bytes[i]! += bytes;
    this.ios[i]!++;
  }

  /** Adds another job's windows, window by window (group_reporting sums a group's jobs). */
  add(o: IntervalTally): void {
    for (let i = 0; i < o.bytes.length; i++) {
      if (i >= this.bytes.length) {
        this.bytes.push(0);
        this.ios.push(0);
      }
      this.bytes[i]! += o.bytes[i]!;
      this.ios[i]! += o.ios[i]!;
    }
  }

  clear(): void {
    this.bytes.length = 0;
    this.ios.length = 0;
  }
}

export interface SampleStats {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stdev: number;
  readonly samples: number;
}

/** min/max/mean/sample stdev of the first `windows` complete windows, each value per second. */
export function summarizeSamples(perWindow: readonly number[], windows: number): SampleStats {
  if (windows <= 0) return { min: 0, max: 0, mean: 0, stdev: 0, samples: 0 };
  let min = Infinity;
  let max = 0;
  let sum = 0;
  let sumSq = 0;
  for (let i = 0; i < windows; i++) {
    const v = ((perWindow[i] ?? 0) * 1e9) / SAMPLE_INTERVAL_NS;
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    sumSq += v * v;
  }
  const mean = sum / windows;
  const variance = windows > 1 ? (sumSq - (sum * sum) / windows) / (windows - 1) : 0;
  return { min, max, mean, stdev: variance > 0 ? Math.sqrt(variance) : 0, samples: windows };
}
