// Models: fio's completion-latency accounting (stat.c): a log-linear histogram whose memory does
// not grow with the number of samples, read back as min/max/mean and percentiles.

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
