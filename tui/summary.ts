// The end-of-run text summary in fio 3.36's normal output format (stat.c show_thread_status_normal,
// show_group_stats, show_disk_util), line for line where kiotrace has the quantity, followed by
// kiotrace's own extras (scenario line, device hardware counters, kernel counters) after the last
// line fio would print, so a parser of fio's text reads everything before them unchanged.
// Deterministic: everything printed comes from the RunReport (no wall clock, no locale).
//
// Why fio 3.36: it is the fio of the current Ubuntu LTS (24.04) and Debian-based distributions;
// later releases changed two lines (the latency target line, "sync_file_range/syncfs").
// The shared arithmetic (groups, unified_rw_reporting=mixed, C's printf rounding) is exported for
// the JSON output (fio-json.ts), so text and JSON always agree.

import type { CgroupReport, CrashReport, DeviceReport, EventReport, DirectionReport, JobReport, KernelCounters, LatencySummary, LayoutReport, NetworkReport, Percentile, PrinterReport, RunReport, SampleSummary } from '../core/userspace/report.js';
import { formatDurationFio, formatNs, num2str, printable } from './units.js';
import type { PowerReport, PowerStateTime } from '../core/index.js';

/** fio's version string as kiotrace gives it, in text and JSON: see fioVersion. */
export const FIO_COMPAT_VERSION = 'fio-3.36';

/**
 * "fio-3.36-kiotrace-0.4.0": starts with the fio release whose output kiotrace reproduces (tools
 * check `fio-3` before reading nanosecond fields, as fio-plot does, and parse "fio-X.Y" like a
 * git-described fio "fio-3.36-12-gabcdef"), and says that kiotrace, not fio, produced it.
 */
export function fioVersion(kiotraceVersion: string): string {
  return `${FIO_COMPAT_VERSION}-kiotrace-${kiotraceVersion}`;
}

export interface FioOutputOptions {
  /** kiotrace's version, for the version line ("fio-3.36-kiotrace-VERSION"); default "dev". */
  readonly version?: string;
}

/** Linux errno names (include/uapi/asm-generic/errno-base.h and errno.h) a simulated syscall can return. */
const ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: 'EPERM',
  2: 'ENOENT',
  4: 'EINTR',
  5: 'EIO',
  6: 'ENXIO',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  21: 'EISDIR',
  22: 'EINVAL',
  24: 'EMFILE',
  27: 'EFBIG',
  28: 'ENOSPC',
  30: 'EROFS',
  61: 'ENODATA',
  62: 'ETIME',
  95: 'EOPNOTSUPP',
  110: 'ETIMEDOUT',
  121: 'EREMOTEIO',
  122: 'EDQUOT',
};

export function errnoName(errno: number): string {
  const n = Math.abs(errno);
  return (Object.hasOwn(ERRNO_NAMES, n) ? ERRNO_NAMES[n] : undefined) ?? `errno ${n}`;
}

// ---------------------------------------------------------------------------------------------
// C's printf, as fio calls it

/**
 * printf("%.Nf"): JavaScript's toFixed rounds an exact tie (0.125 to 2 places) up, glibc to even
 * ("0.12"); ties are exact binary fractions, so checking the scaled value is enough.
 */
export function cFixed(value: number, digits: number): string {
  if (!Number.isFinite(value)) return (0).toFixed(digits);
  const scale = 10 ** digits;
  const scaled = Math.abs(value) * scale;
  const floor = Math.floor(scaled);
  if (scaled - floor === 0.5 && floor % 2 === 0) {
    const text = (floor / scale).toFixed(digits);
    return value < 0 && floor !== 0 ? `-${text}` : text;
  }
  return value.toFixed(digits);
}

/** printf("%W.Pf"). */
function fw(value: number, width: number, digits: number): string {
  return cFixed(value, digits).padStart(width);
}

/** printf("%Wllu") of a value fio holds as an integer (truncated, never negative). */
function uw(value: number, width: number): string {
  return String(u64(value)).padStart(width);
}

/** A count or time fio keeps in an unsigned 64-bit integer. */
export function u64(value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0;
}

// ---------------------------------------------------------------------------------------------
// Directions, unified_rw_reporting and groups (stat.c sum_thread_stats, __show_run_stats)

export type DirLabel = 'read' | 'write' | 'mixed';

export interface DirView {
  readonly label: DirLabel;
  readonly dir: DirectionReport;
}

/**
 * Two latency summaries as one (fio's __sum_stat: min, max, weighted mean, S merged by the
 * parallel variance algorithm).
 * SIMPLIFICATION: fio merges the histograms and reads the percentiles back; the report carries
 * only each side's percentiles, so a merged percentile is the smallest known value at which the
 * two sides' step CDFs (weighted by their counts) reach it: never below the true value's bucket
 * on either side, exact when one side is empty.
 */
export function mergeLatency(a: LatencySummary, b: LatencySummary): LatencySummary {
  if (b.count === 0) return a;
  if (a.count === 0) return b;
  const n = a.count + b.count;
  const mean = (a.meanNs * a.count + b.meanNs * b.count) / n;
  const sA = a.stdevNs ** 2 * (a.count - 1);
  const sB = b.stdevNs ** 2 * (b.count - 1);
  const s = sA + sB + ((b.meanNs - a.meanNs) ** 2 * a.count * b.count) / n;
  const percentOf = (percentiles: readonly Percentile[], ns: number): number => percentiles.reduce((best, p) => (p.ns <= ns && p.percent > best ? p.percent : best), 0);
  const candidates = [...a.percentiles, ...b.percentiles].map((p) => p.ns).sort((x, y) => x - y);
  const at = (percent: number, fallbackNs: number): number => {
    for (const ns of candidates) {
      if ((percentOf(a.percentiles, ns) * a.count + percentOf(b.percentiles, ns) * b.count) / n >= percent) return ns;
    }
    return fallbackNs;
  };
  const list = a.percentiles.length >= b.percentiles.length ? a.percentiles : b.percentiles;
  return {
    count: n,
    minNs: Math.min(a.minNs, b.minNs),
    maxNs: Math.max(a.maxNs, b.maxNs),
    meanNs: mean,
    stdevNs: n > 1 ? Math.sqrt(s / (n - 1)) : 0,
    p50Ns: at(50, Math.max(a.p50Ns, b.p50Ns)),
    p99Ns: at(99, Math.max(a.p99Ns, b.p99Ns)),
    p999Ns: at(99.9, Math.max(a.p999Ns, b.p999Ns)),
    percentiles: list.map((p) => ({ percent: p.percent, ns: at(p.percent, p.ns) })),
  };
}

/** bw/iops samples of two directions as one: fio's sum_stat(pure_sum) adds min, max, mean and S. */
function sumSamples(a: SampleSummary, b: SampleSummary): SampleSummary {
  if (b.samples === 0) return a;
  if (a.samples === 0) return b;
  const n = a.samples + b.samples;
  const s = a.stdev ** 2 * (a.samples - 1) + b.stdev ** 2 * (b.samples - 1);
  return { min: a.min + b.min, max: a.max + b.max, mean: a.mean + b.mean, stdev: n > 1 ? Math.sqrt(s / (n - 1)) : 0, samples: n };
}

/** unified_rw_reporting=mixed: reads and writes summed into one direction. */
export function mixDirections(r: DirectionReport, w: DirectionReport): DirectionReport {
  return {
    ios: r.ios + w.ios,
    bytes: r.bytes + w.bytes,
    iops: r.iops + w.iops,
    bandwidthBytesPerSec: r.bandwidthBytesPerSec + w.bandwidthBytesPerSec,
    shortIos: r.shortIos + w.shortIos,
    droppedIos: r.droppedIos + w.droppedIos,
    slat: mergeLatency(r.slat, w.slat),
    clat: mergeLatency(r.clat, w.clat),
    lat: mergeLatency(r.lat, w.lat),
    bwSamples: sumSamples(r.bwSamples, w.bwSamples),
    iopsSamples: sumSamples(r.iopsSamples, w.iopsSamples),
  };
}

export type UnifiedMode = 'none' | 'mixed' | 'both';

/** fio's unified_rw_reporting values: none/mixed/both, or 0/1/2 (and the old "1" for mixed). */
export function unifiedMode(text: string): UnifiedMode {
  if (text === 'mixed' || text === '1') return 'mixed';
  if (text === 'both' || text === '2') return 'both';
  return 'none';
}

/** The directions fio reports for a job: read and write, one mixed, or all three. */
export function jobDirections(job: JobReport): DirView[] {
  const mode = unifiedMode(job.unifiedRwReporting);
  const mixed: DirView = { label: 'mixed', dir: mixDirections(job.read, job.write) };
  if (mode === 'mixed') return [mixed];
  const both: DirView[] = [
    { label: 'read', dir: job.read },
    { label: 'write', dir: job.write },
  ];
  return mode === 'both' ? [...both, mixed] : both;
}

/** A direction fio shows: it moved bytes or completed I/Os. */
export function active(dir: DirectionReport): boolean {
  return dir.ios > 0 || dir.bytes > 0;
}

/** One direction of fio's struct group_run_stats, in ns and bytes/s. */
export interface GroupDirection {
  readonly minRunNs: number;
  readonly maxRunNs: number;
  readonly minBw: number;
  readonly maxBw: number;
  readonly ioBytes: number;
  /** Aggregate bandwidth: all the group's bytes over its longest run. */
  readonly aggBw: number;
}

export interface GroupStats {
  readonly groupId: number;
  readonly mode: UnifiedMode;
  readonly dirs: ReadonlyMap<DirLabel, GroupDirection>;
}

function bytesPerSec(bytes: number, runtimeNs: number): number {
  return runtimeNs > 0 ? Math.floor((bytes * 1e9) / runtimeNs) : 0;
}

/** fio's run status groups, by group id ascending. */
export function groupStats(jobs: readonly JobReport[]): GroupStats[] {
  const ids = [...new Set(jobs.map((j) => j.groupId))].sort((a, b) => a - b);
  return ids.map((groupId) => {
    const members = jobs.filter((j) => j.groupId === groupId);
    const modes = members.map((j) => unifiedMode(j.unifiedRwReporting));
    const mode: UnifiedMode = modes.includes('mixed') ? 'mixed' : modes.includes('both') ? 'both' : 'none';
    const dirs = new Map<DirLabel, GroupDirection>();
    for (const label of ['read', 'write', 'mixed'] as const) {
      const runs = members.flatMap((j) => jobDirections(j).filter((v) => v.label === label && active(v.dir)).map((v) => ({ runtimeNs: j.runtimeNs, bytes: v.dir.bytes })));
      if (runs.length === 0) continue;
      const maxRunNs = Math.max(...runs.map((r) => r.runtimeNs));
      const ioBytes = runs.reduce((sum, r) => sum + r.bytes, 0);
      const bws = runs.map((r) => bytesPerSec(r.bytes, r.runtimeNs));
      dirs.set(label, {
        minRunNs: Math.min(...runs.map((r) => r.runtimeNs)),
        maxRunNs,
        minBw: Math.min(...bws),
        maxBw: Math.max(...bws),
        ioBytes,
        aggBw: bytesPerSec(ioBytes, maxRunNs),
      });
    }
    return { groupId, mode, dirs };
  });
}

/**
 * The group direction a job direction's "per=" compares with: fio passes DDIR_READ for the mixed
 * direction, which under unified_rw_reporting=both holds the reads alone (so per= is against them).
 */
export function aggregateFor(group: GroupStats | undefined, label: DirLabel, mode: UnifiedMode): GroupDirection | undefined {
  return group?.dirs.get(label === 'mixed' && mode === 'both' ? 'read' : label);
}

/** fio's convert_agg_kbytes_percent: the job's mean KiB/s (truncated, as fio's int) as a share of the group's. */
export function percentOfAggregate(group: GroupDirection | undefined, meanKiB: number): number {
  if (group === undefined || group.aggBw <= 1024) return 100;
  return Math.min(100, (Math.trunc(meanKiB) * 100) / (group.aggBw / 1024));
}

// ---------------------------------------------------------------------------------------------
// Distributions (stat.c stat_calc_dist, stat_calc_lat)

/** IO depth, submit and complete percentages: 0.1 at least for a bucket that saw anything. */
export function depthPercents(counts: readonly number[], total: number): number[] {
  return Array.from({ length: 7 }, (_, i) => {
    const c = counts[i] ?? 0;
    if (total <= 0) return 0;
    const pct = (c / total) * 100;
    return pct < 0.1 && c > 0 ? 0.1 : pct;
  });
}

/** Latency bucket percentages over all of a job's I/Os: 0.01 at least for a bucket that saw anything. */
export function latencyPercents(counts: readonly number[], total: number, length: number): number[] {
  return Array.from({ length }, (_, i) => {
    const c = counts[i] ?? 0;
    if (total <= 0) return 0;
    const pct = (c / total) * 100;
    return pct < 0.01 && c > 0 ? 0.01 : pct;
  });
}

export const LAT_RANGES_NS_US = ['2', '4', '10', '20', '50', '100', '250', '500', '750', '1000'] as const;
export const LAT_RANGES_MS = ['2', '4', '10', '20', '50', '100', '250', '500', '750', '1000', '2000', '>=2000'] as const;

export function totalIos(job: JobReport): number {
  return job.read.ios + job.write.ios;
}

export function sum(values: readonly number[]): number {
  return values.reduce((s, v) => s + v, 0);
}

/** usr and sys as % of the job's run time (fio's total_run_time sums every process of a merged entry). */
export function cpuPercents(job: JobReport): { usr: number; sys: number } {
  const runNs = job.runtimeNs * Math.max(1, job.jobs);
  if (runNs <= 0) return { usr: 0, sys: 0 };
  return { usr: (job.cpu.userNs * 100) / runNs, sys: (job.cpu.systemNs * 100) / runNs };
}

/** The device's %util: busy time over the run (fio: io_ticks over the measured msec), at most 100. */
export function deviceUtil(dev: DeviceReport, durationNs: number): number {
  return durationNs <= 0 ? 0 : Math.min(100, (dev.busyNs / durationNs) * 100);
}

/**
 * The date fio prints after a job's pid (ctime(3) of the moment it reports, without the newline).
 * kiotrace must print the same text for the same run, so it prints the simulated clock instead:
 * the machine boots at the Unix epoch, and the report is taken when the simulation ends.
 */
export function simulatedCtime(durationNs: number): string {
  const d = new Date(Math.floor(durationNs / 1e6));
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${days[d.getUTCDay()]!} ${months[d.getUTCMonth()]!} ${String(d.getUTCDate()).padStart(2)} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} ${d.getUTCFullYear()}`;
}

/** The percentile list's decimals, as fio counts them in the option's text (1:5:...:99.95 gives 2). */
export function percentilePrecision(percentiles: readonly Percentile[]): number {
  let digits = 0;
  for (const p of percentiles) {
    const text = String(p.percent);
    const dot = text.indexOf('.');
    if (dot >= 0 && !text.includes('e')) digits = Math.max(digits, text.length - dot - 1);
  }
  return digits;
}

/** fio sorts the list and stops at the first 0. */
export function sortedPercentiles(percentiles: readonly Percentile[]): Percentile[] {
  return percentiles.filter((p) => p.percent > 0 && p.percent <= 100).sort((a, b) => a.percent - b.percent);
}

// ---------------------------------------------------------------------------------------------
// The normal output

/** display_lat: fio scales a line to usec or msec only when min, max and the stdev are all large. */
function latencyLine(name: string, lat: LatencySummary): string {
  let min = u64(lat.minNs);
  let max = u64(lat.maxNs);
  let mean = lat.meanNs;
  let dev = lat.stdevNs;
  let base = '(nsec)';
  if (min > 2_000_000 && max > 99_999_999 && dev > 1_000_000) {
    min = Math.floor(min / 1_000_000);
    max = Math.floor(max / 1_000_000);
    mean /= 1_000_000;
    dev /= 1_000_000;
    base = '(msec)';
  } else if (min > 2000 && max > 99_999 && dev > 1000) {
    min = Math.floor(min / 1000);
    max = Math.floor(max / 1000);
    mean /= 1000;
    dev /= 1000;
    base = '(usec)';
  }
  return `    ${name} ${base}: min=${num2str(min, 6, false, '')}, max=${num2str(max, 6, false, '')}, avg=${fw(mean, 5, 2)}, stdev=${fw(dev, 5, 2)}`;
}

/** show_clat_percentiles: rows of "|  1.00th=[  100]," as wide as the largest value needs. */
function percentileLines(name: string, lat: LatencySummary): string[] {
  const list = sortedPercentiles(lat.percentiles);
  if (list.length === 0 || lat.count === 0) return [];
  const precision = percentilePrecision(list);
  const values = list.map((p) => u64(p.ns));
  const minv = Math.min(...values);
  const maxv = Math.max(...values);
  let steps = 0;
  let unit = 'nsec';
  if (minv > 2_000_000 && maxv > 99_999_999) {
    steps = 2;
    unit = 'msec';
  } else if (minv > 2000 && maxv > 99_999) {
    steps = 1;
    unit = 'usec';
  }
  const top = Math.floor(maxv / 1000 ** steps);
  const timeWidth = Math.max(5, top > 0 ? Math.floor(Math.log10(top) + 1) : 0);
  const perLine = Math.floor(73 / (precision + 10 + timeWidth));
  const lines = [`    ${name} percentiles (${unit}):`];
  let row = '     |';
  list.forEach((p, j) => {
    let v = values[j]!;
    for (let i = 0; i < steps; i++) v = Math.floor((v + 999) / 1000);
    const last = j === list.length - 1;
    row += ` ${fw(p.percent, precision + 3, precision)}th=[${uw(v, timeWidth)}]${last ? '' : ','}`;
    if (last || j % perLine === perLine - 1) {
      lines.push(row);
      row = '     |';
    }
  });
  return lines;
}

/** The run time fio prints in msec; a run under 1 ms (fio would report nothing for it) in usec or nsec, never 0msec. */
function runUnit(shortestNs: number): { name: string; divisorNs: number } {
  if (shortestNs >= 1_000_000 || shortestNs === 0) return { name: 'msec', divisorNs: 1_000_000 };
  if (shortestNs >= 1_000) return { name: 'usec', divisorNs: 1_000 };
  return { name: 'nsec', divisorNs: 1 };
}

function inUnit(ns: number, unit: { divisorNs: number }): number {
  return Math.floor(ns / unit.divisorNs);
}

/** show_ddir_status for one direction. */
function directionLines(view: DirView, job: JobReport, group: GroupStats | undefined): string[] {
  const dir = view.dir;
  const unit = runUnit(job.runtimeNs);
  const bw = u64(dir.bandwidthBytesPerSec);
  const lines = [
    `  ${view.label}: IOPS=${num2str(u64(dir.iops), 4, false, '')}, BW=${num2str(bw, 4, true, 'B/s')} (${num2str(bw, 4, false, 'B/s')})` +
      `(${num2str(u64(dir.bytes), 4, true, 'B')}/${inUnit(job.runtimeNs, unit)}${unit.name})`,
  ];
  if (dir.slat.count > 0) lines.push(latencyLine('slat', dir.slat));
  if (dir.clat.count > 0) lines.push(latencyLine('clat', dir.clat));
  if (dir.lat.count > 0) lines.push(latencyLine(' lat', dir.lat));
  if (dir.slat.count > 0) lines.push(...percentileLines('slat', dir.slat));
  if (dir.clat.count > 0) lines.push(...percentileLines('clat', dir.clat));
  if (dir.lat.count > 0) lines.push(...percentileLines('lat', dir.lat));
  const bwS = dir.bwSamples;
  if (bwS.samples > 0) {
    // fio keeps bandwidth samples in KiB/s, and switches the line to MiB/s past 1 GiB/s
    let min = u64(bwS.min / 1024);
    let max = u64(bwS.max / 1024);
    let mean = bwS.mean / 1024;
    let dev = bwS.stdev / 1024;
    const per = percentOfAggregate(aggregateFor(group, view.label, unifiedMode(job.unifiedRwReporting)), mean);
    let unitName = 'KiB';
    if (mean > 1024 * 1024) {
      min = Math.floor(min / 1024);
      max = Math.floor(max / 1024);
      mean /= 1024;
      dev /= 1024;
      unitName = 'MiB';
    }
    lines.push(`   bw (${unitName.padStart(5)}/s): min=${uw(min, 5)}, max=${uw(max, 5)}, per=${fw(per, 3, 2)}%, avg=${fw(mean, 5, 2)}, stdev=${fw(dev, 5, 2)}, samples=${u64(bwS.samples)}`);
  }
  const io = dir.iopsSamples;
  if (io.samples > 0) {
    lines.push(`   iops        : min=${uw(io.min, 5)}, max=${uw(io.max, 5)}, avg=${fw(io.mean, 5, 2)}, stdev=${fw(io.stdev, 5, 2)}, samples=${u64(io.samples)}`);
  }
  return lines;
}

/** show_lat: "  lat (usec)   : 2=0.01%, 4=..." five to a line, only the buckets that saw anything. */
function latencyDistributionLines(unit: string, percents: readonly number[], ranges: readonly string[]): string[] {
  const shown = percents.map((p, i) => ({ p, range: ranges[i]! })).filter((e) => e.p > 0);
  const lines: string[] = [];
  for (let i = 0; i < shown.length; i += 5) {
    lines.push(`  lat (${unit})   : ${shown.slice(i, i + 5).map((e) => `${e.range}=${fw(e.p, 3, 2)}%`).join(', ')}`);
  }
  return lines;
}

function jobLines(job: JobReport, group: GroupStats | undefined, durationNs: number): string[] {
  const err = Math.abs(job.firstErrno);
  const errText = err === 0 ? `err=${String(err).padStart(2)}` : `err=${String(err).padStart(2)} (error=${errnoName(err)})`;
  const lines = [`${printable(job.name)}: (groupid=${job.groupId}, jobs=${job.jobs}): ${errText}: pid=${job.pid}: ${simulatedCtime(durationNs)}`];
  for (const view of jobDirections(job)) if (active(view.dir)) lines.push(...directionLines(view, job, group));
  const total = totalIos(job);
  const b = job.latencyBuckets;
  lines.push(...latencyDistributionLines('nsec', latencyPercents(b.nsec, total, LAT_RANGES_NS_US.length), LAT_RANGES_NS_US));
  lines.push(...latencyDistributionLines('usec', latencyPercents(b.usec, total, LAT_RANGES_NS_US.length), LAT_RANGES_NS_US));
  lines.push(...latencyDistributionLines('msec', latencyPercents(b.msec, total, LAT_RANGES_MS.length), LAT_RANGES_MS));
  if (job.fsyncLat.count > 0) lines.push('  fsync/fdatasync/sync_file_range:', latencyLine('sync', job.fsyncLat), ...percentileLines('sync', job.fsyncLat));
  const cpu = cpuPercents(job);
  lines.push(`  cpu          : usr=${fw(cpu.usr, 3, 2)}%, sys=${fw(cpu.sys, 3, 2)}%, ctx=${u64(job.cpu.contextSwitches)}, majf=${u64(job.cpu.majorFaults)}, minf=${u64(job.cpu.minorFaults)}`);
  const dist = (counts: readonly number[], totalCount: number, keys: readonly string[]): string =>
    depthPercents(counts, totalCount)
      .map((p, i) => `${keys[i]!}=${fw(p, 3, 1)}%`)
      .join(', ');
  lines.push(`  IO depths    : ${dist(job.depths.depth, total, ['1', '2', '4', '8', '16', '32', '>=64'])}`);
  const batchKeys = ['0', '4', '8', '16', '32', '64', '>=64'];
  lines.push(`     submit    : ${dist(job.depths.submit, sum(job.depths.submit), batchKeys)}`);
  lines.push(`     complete  : ${dist(job.depths.complete, sum(job.depths.complete), batchKeys)}`);
  const mixed = unifiedMode(job.unifiedRwReporting) === 'mixed';
  const r = mixed ? mixDirections(job.read, job.write) : job.read;
  const w = mixed ? undefined : job.write;
  lines.push(
    `     issued rwts: total=${u64(r.ios)},${u64(w?.ios ?? 0)},0,${u64(job.fsyncs)} short=${u64(r.shortIos)},${u64(w?.shortIos ?? 0)},0,0 dropped=${u64(r.droppedIos)},${u64(w?.droppedIos ?? 0)},0,0`,
  );
  // kiotrace's jobs go on after a failed syscall, as fio's with continue_on_error
  if (job.errors > 0) lines.push(`     errors    : total=${u64(job.errors)}, first_error=${err}/<${errnoName(err)}>`);
  const lt = job.latencyTarget;
  lines.push(`     latency   : target=${u64(lt.targetNs)}, window=${u64(lt.windowUs)}, percentile=${lt.percentile.toFixed(2)}%, depth=${u64(lt.depth)}`);
  return lines;
}

/** A job fio lists in its results: it did some I/O (kiotrace also keeps a job whose calls all failed). */
function reported(job: JobReport): boolean {
  return totalIos(job) > 0 || job.read.bytes + job.write.bytes > 0 || job.fsyncs > 0 || job.errors > 0;
}

const GROUP_LABELS: Readonly<Record<DirLabel, string>> = { read: '   READ', write: '  WRITE', mixed: '  MIXED' };

/** show_group_stats. */
function groupLines(group: GroupStats): string[] {
  const b2 = (n: number): string => num2str(n, 4, true, 'B/s');
  const b10 = (n: number): string => num2str(n, 4, false, 'B/s');
  const line = (label: string, g: GroupDirection): string => {
    const unit = runUnit(g.minRunNs);
    return (
      `${label}: bw=${b2(g.aggBw)} (${b10(g.aggBw)}), ${b2(g.minBw)}-${b2(g.maxBw)} (${b10(g.minBw)}-${b10(g.maxBw)}), ` +
      `io=${num2str(g.ioBytes, 4, true, 'B')} (${num2str(g.ioBytes, 4, false, 'B')}), run=${inUnit(g.minRunNs, unit)}-${inUnit(g.maxRunNs, unit)}${unit.name}`
    );
  };
  const lines: string[] = [];
  const labels: DirLabel[] = group.mode === 'mixed' ? ['mixed'] : ['read', 'write'];
  for (const label of labels) {
    const g = group.dirs.get(label);
    if (g !== undefined) lines.push(line(GROUP_LABELS[label], g));
  }
  if (group.mode === 'both') {
    // show_mixed_group_stats: the directions' sums, and the extremes of their ranges
    const parts = (['read', 'write'] as const).map((l) => group.dirs.get(l)).filter((g): g is GroupDirection => g !== undefined);
    if (parts.length > 0) {
      lines.push(
        line('  MIXED', {
          minRunNs: Math.min(...parts.map((g) => g.minRunNs)),
          maxRunNs: Math.max(...parts.map((g) => g.maxRunNs)),
          minBw: Math.min(...parts.map((g) => g.minBw)),
          maxBw: Math.max(...parts.map((g) => g.maxBw)),
          ioBytes: sum(parts.map((g) => g.ioBytes)),
          aggBw: sum(parts.map((g) => g.aggBw)),
        }),
      );
    }
  }
  return lines;
}

/** print_disk_util: /proc/diskstats over the run, ticks and in_queue in ms, sectors of 512 bytes. */
function diskLine(dev: DeviceReport, durationNs: number): string {
  const ms = (ns: number): number => u64(ns / 1e6);
  return (
    `  ${printable(dev.name)}: ios=${u64(dev.readIos)}/${u64(dev.writeIos)}, sectors=${u64(dev.readBytes / 512)}/${u64(dev.writeBytes / 512)}, ` +
    `merge=${u64(dev.readMerges)}/${u64(dev.writeMerges)}, ticks=${ms(dev.readTicksNs)}/${ms(dev.writeTicksNs)}, in_queue=${ms(dev.inQueueNs)}, ` +
    `util=${fw(deviceUtil(dev, durationNs), 3, 2)}%`
  );
}

/**
 * The lines fio prints while it starts (init.c add_job, backend.c run_threads): each job's
 * options, "..." for the clones of numjobs, the version and the number of processes.
 */
function startLines(report: RunReport, version: string): string[] {
  const lines: string[] = [];
  const size = (bytes: number): string => num2str(u64(bytes), 4, true, 'B');
  for (const job of report.jobs) {
    if (job.jobIndex === 0) {
      const [rMin, rMax] = job.blockSizes.read;
      const [wMin, wMax] = job.blockSizes.write;
      // SIMPLIFICATION: the report has no trim block size; trims take the write size, as bs=R,W leaves them
      lines.push(
        `${printable(job.name)}: (g=${job.groupId}): rw=${printable(job.rw)}, bs=(R) ${size(rMin)}-${size(rMax)}, (W) ${size(wMin)}-${size(wMax)}, (T) ${size(wMin)}-${size(wMax)}, ` +
          `ioengine=${printable(job.ioengine)}, iodepth=${u64(job.iodepth)}`,
      );
    }
    if (job.jobs > 1 || job.jobIndex === 1) lines.push('...');
  }
  const processes = sum(report.jobs.map((j) => Math.max(1, j.jobs)));
  lines.push(fioVersion(version));
  if (processes > 0) lines.push(`Starting ${processes} process${processes > 1 ? 'es' : ''}`);
  for (const l of report.layout) lines.push(layoutLine(l));
  return lines;
}

/**
 * fio's "job: Laying out IO file (1 file / 10240MiB)", and what kiotrace did instead of writing
 * the file: it is on the simulated disk from boot, costing no simulated time.
 */
function layoutLine(l: LayoutReport): string {
  const what = `${printable(l.job)}: Laying out IO file${l.files > 1 ? 's' : ''} (${l.files} file${l.files > 1 ? 's' : ''} / ${Math.floor(l.bytes / 2 ** 20)}MiB)`;
  const how = l.how === 'prefilled' ? 'prefilled at boot' : l.how === 'preallocated' ? 'preallocated at boot (fallocate)' : 'created sparse at boot (fallocate=none)';
  return `${what}: ${how}, no simulated time`;
}

function formatHwValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

/** kiotrace's own lines, after everything fio prints. */
function kiotraceLines(report: RunReport): string[] {
  const lines = [`scenario ${printable(report.scenario)}: seed=${report.seed}, duration=${formatDurationFio(report.durationNs)}, events=${report.eventsRun}`];
  if (report.jobs.length > 0) lines.push('Jobs:');
  for (const job of report.jobs) {
    const failed = job.errors > 0 ? `, ${job.errors} syscall${job.errors === 1 ? '' : 's'} failed (first: ${errnoName(job.firstErrno)})` : '';
    lines.push(`  ${printable(job.name)}: pid=${job.pid}, filename=${printable(job.filename)}, direct=${job.direct ? 1 : 0}${failed}`);
    const l = job.lsm;
    if (l !== undefined) {
      const perLookup = l.lookups === 0 ? 'n/a' : (l.probes / l.lookups).toFixed(2);
      lines.push(
        `    lsm: lookups=${l.lookups}, preads/lookup=${perLookup}, L0 files=${l.l0Files} (max ${l.maxL0Files}), flushes=${l.flushes}, compactions=${l.compactions}, compaction read=${num2str(u64(l.compactionReadBytes), 4, true, 'B')} write=${num2str(u64(l.compactionWriteBytes), 4, true, 'B')}, write stall=${(l.writeStallNs / 1e6).toFixed(0)}ms${l.outOfSpace ? '; the file ran out of free SST slots (ENOSPC): flushes and compactions stopped' : ''}`,
      );
    }
  }
  if (report.devices.length > 0) {
    lines.push('Devices:');
    for (const dev of report.devices) {
      lines.push(`  ${printable(dev.name)}: sched=${printable(dev.scheduler)}, bytes=${num2str(u64(dev.readBytes), 4, true, 'B')}/${num2str(u64(dev.writeBytes), 4, true, 'B')}`);
      const hw = Object.entries(dev.hw);
      if (hw.length > 0) lines.push(`    hw: ${hw.map(([k, v]) => `${printable(k)}=${formatHwValue(v)}`).join(', ')}`);
    }
  }
  lines.push(...counterLines(report.counters));
  if (report.network !== undefined) lines.push(...networkLines(report.network));
  if (report.cgroups !== undefined) lines.push(...cgroupLines(report.cgroups));
  if (report.power !== undefined) lines.push(...powerLines(report.power));
  return lines;
}

/** A labelled line of the counter sections. */
function row(label: string, text: string): string {
  return `  ${`${label}:`.padEnd(13)} ${text}`;
}

/** Time and energy per power state of each device and CPU, power collapse and the wake locks. */
function powerLines(p: PowerReport): string[] {
  const ms = (ns: number): string => `${(ns / 1e6).toFixed(1)}ms`;
  const states = (list: readonly PowerStateTime[]): string => list.map((x) => `${printable(x.state)}=${ms(x.timeNs)}/${x.energyJ.toFixed(3)}J`).join(', ');
  return [
    `Power: autosleep=${p.autosleep}, cpuidle=${p.cpuidle}, power collapse=${ms(p.collapseNs)} in ${p.collapses}`,
    ...p.devices.map((d) => `  ${printable(d.name)}: ${states(d.states)}; runtime suspends=${d.suspends}, resumes=${d.resumes}`),
    ...p.cpus.map((c) => `  cpu${c.cpu}: ${states(c.states)}`),
    ...p.wakeupSources.map((w) => `  wake lock ${printable(w.name)}: active=${w.activeCount}, total=${ms(w.totalTimeNs)}, max=${ms(w.maxTimeNs)}`),
    ...(p.cpufreq === undefined
      ? []
      : [`  cpufreq: governor=${p.cpufreq.governor}`, ...p.cpufreq.cpus.map((c) => `  cpu${c.cpu} time_in_state: ${c.timeInState.map((s) => `${s.khz / 1000}MHz=${ms(s.timeNs)}`).join(', ')}; transitions=${c.transitions}`)]),
  ];
}

function counterLines(k: KernelCounters): string[] {
  const lookups = k.pageCacheHits + k.pageCacheMisses;
  const ratio = lookups === 0 ? 'n/a' : `${((k.pageCacheHits / lookups) * 100).toFixed(2)}%`;
  return [
    'Kernel counters:',
    row('page cache', `hits=${k.pageCacheHits}, misses=${k.pageCacheMisses}, hit ratio=${ratio}`),
    row('readahead', `pages=${k.readaheadPages}`),
    row('page faults', `minor=${k.minorFaults}, major=${k.majorFaults}`),
    row('scheduler', `context switches=${k.contextSwitches}`),
    row('interrupts', `irqs=${k.irqs}, softirqs=${k.softirqs}`),
    row('merges', `bio back=${k.bioBackMerges}, bio front=${k.bioFrontMerges}, request=${k.requestMerges}`),
    row('writeback', `pages dirtied=${k.pagesDirtied}, pages written back=${k.pagesWrittenBack}, nr_dirty=${k.nrDirty}, nr_writeback=${k.nrWriteback}`),
    row('throttle', `dirty pauses=${k.dirtyThrottlePauses}, paused=${(k.dirtyThrottlePauseNs / 1e6).toFixed(0)}ms`),
    row('syscalls', `${k.syscalls}`),
    row('copies', `user<->kernel bytes=${k.userCopyBytes}`),
    row('reclaim', `pgscan kswapd=${k.pgscanKswapd}, direct=${k.pgscanDirect}, pgsteal kswapd=${k.pgstealKswapd}, direct=${k.pgstealDirect}, pgactivate=${k.pgactivate}, pgdeactivate=${k.pgdeactivate}, allocstall=${k.allocstall}`),
    row('workingset', `refault=${k.workingsetRefaultFile}, activate=${k.workingsetActivateFile}, restore=${k.workingsetRestoreFile}`),
  ];
}

/** The network's copies by kind: what each byte sent or received cost on its way. */
function networkLines(n: NetworkReport): string[] {
  const b = (bytes: number): string => num2str(u64(bytes), 4, true, 'B');
  return [
    'Network:',
    row('copied', `user->socket=${b(n.userToSkbBytes)}, socket->user=${b(n.skbToUserBytes)}, page cache->socket=${b(n.pageToSkbBytes)}, linearized=${b(n.linearizeBytes)}, kernel page->page=${b(n.kernelCopyBytes)}`),
    // a linearized skb's frags were queued by reference and copied after all: not read in place
    row('by reference', `${b(Math.max(0, n.zerocopyBytes - n.linearizeBytes))} (page-cache or user pages the NIC read in place; ${b(n.zerocopyBytes)} queued so)`),
    row('dropped', `tx=${n.txDropped}, rx=${n.rxDropped}`),
  ];
}

/** Each cgroup's memory.* and, where io.max or io.latency applies, its io lines at the end of the run. */
function cgroupLines(cgroups: readonly CgroupReport[]): string[] {
  const size = (bytes: number | null): string => (bytes === null ? 'max' : num2str(u64(bytes), 4, true, 'B'));
  const rate = (n: number | null): string => (n === null ? 'max' : String(n));
  const lines = ['Cgroups (memory, io):'];
  for (const g of cgroups) {
    lines.push(
      `  ${printable(g.name)}: current=${size(g.memoryCurrentBytes)}, peak=${size(g.memoryPeakBytes)}, min=${size(g.memoryMinBytes)}, low=${size(g.memoryLowBytes)}, high=${size(g.memoryHighBytes)}, max=${size(g.memoryMaxBytes)}; events low=${g.events.low}, high=${g.events.high}, max=${g.events.max}`,
    );
    // io.max, io.stat, and how long blk-throttle held the group's bios
    for (const io of g.io ?? []) {
      lines.push(
        `    io ${printable(io.device)}: max rbps=${rate(io.rbps)} wbps=${rate(io.wbps)} riops=${rate(io.riops)} wiops=${rate(io.wiops)}; stat rbytes=${io.rbytes} wbytes=${io.wbytes} rios=${io.rios} wios=${io.wios}; throttled read=${io.throttledReadBios} (${(io.throttledReadNs / 1e6).toFixed(0)}ms), write=${io.throttledWriteBios} (${(io.throttledWriteNs / 1e6).toFixed(0)}ms)`,
      );
    }
    // io.latency, io.stat's iolatency fields (Linux's iolatency_pd_stat: per device type), blk-iolatency's scaling
    for (const l of g.ioLatency ?? []) {
      const depth = rate(l.depth);
      const stat = l.ssd ? `missed=${l.missed} total=${l.total} depth=${depth}` : `depth=${depth} avg_lat=${l.avgLatUs} win=${l.winMs}`;
      lines.push(`    io ${printable(l.device)}: latency ${l.targetUs === null ? 'no target' : `target=${l.targetUs}`}; stat ${stat}; scaled ${l.scaleEvents} times, min depth=${rate(l.minDepth)}, use_delay=${l.useDelay}`);
    }
  }
  return lines;
}

/** The whole summary (fio's normal output, then kiotrace's), ending with a newline. */
export function formatReport(report: RunReport, options: FioOutputOptions = {}): string {
  const groups = groupStats(report.jobs);
  const lines: string[] = [...startLines(report, options.version ?? 'dev'), ''];
  for (const job of report.jobs) {
    if (reported(job)) lines.push(...jobLines(job, groups.find((g) => g.groupId === job.groupId), report.durationNs));
  }
  for (const group of groups) {
    lines.push('', `Run status group ${group.groupId} (all jobs):`, ...groupLines(group));
  }
  if (report.devices.length > 0) {
    lines.push('', 'Disk stats (read/write):');
    for (const dev of report.devices) lines.push(diskLine(dev, report.durationNs));
  }
  lines.push('', ...kiotraceLines(report));
  if (report.events) lines.push('', ...eventLines(report.events));
  if (report.crash) lines.push('', ...crashLines(report.crash));
  if (report.printers) lines.push('', ...printerLines(report.printers));
  return `${lines.join('\n')}\n`;
}

/** The scenario's events as they ran: when, the shell line, its status and how long it took, then its output. */
function eventLines(events: readonly EventReport[]): string[] {
  const lines = ['Scenario events:'];
  for (const e of events) {
    const took = e.doneNs === null ? '' : `, took ${formatNs(e.doneNs - e.atNs)}`;
    lines.push(`  at ${formatDurationFio(e.atNs)}: ${printable(e.command)} -> ${e.status}${took}`);
    for (const line of e.output.split('\n')) if (line !== '') lines.push(`    ${printable(line)}`);
  }
  return lines;
}

/** Each printer: its line, its paper read back as jobs, and its queue's jobs. */
function printerLines(printers: readonly PrinterReport[]): string[] {
  const lines = ['Printers:'];
  for (const p of printers) {
    const whole = p.paperJobs.filter((id) => id >= 0);
    const paper = p.paperJobs.includes(-1)
      ? `whole jobs ${whole.join(', ') || 'none'}, then output no single job explains (interleaved or cut short)`
      : whole.length === 0 ? 'nothing' : `job${whole.length === 1 ? '' : 's'} ${whole.join(', ')}, each whole, none interleaved`;
    lines.push(`  ${printable(p.name)}: ${p.baud} baud (${Math.round(p.baud / 10)} B/s), ${p.enabled ? 'enabled' : 'disabled'}; paper: ${p.printedBytes} bytes = ${paper}`);
    for (const j of p.jobs) {
      const when = j.startNs < 0 ? `queued at ${formatNs(j.queuedNs)}` : `queued at ${formatNs(j.queuedNs)}, printing ${formatNs(j.startNs)}..${j.endNs < 0 ? '' : formatNs(j.endNs)}`;
      lines.push(`    job ${j.id} ${printable(j.owner)} "${printable(j.title)}" ${j.bytes} bytes: ${j.state}, ${when}`);
    }
  }
  return lines;
}

/**
 * What a simulated crash left on the devices, per file: pages written in the run, kept and lost;
 * lost pages in runs of the same versions ("pages 0-15: written v1, on device v0").
 */
function crashLines(crash: CrashReport): string[] {
  const lines = [`Crash at ${formatDurationFio(crash.atNs)}: what the devices kept of the jobs' files`];
  if (crash.files.length === 0) lines.push('  (no files)');
  for (const file of crash.files) {
    lines.push(`  ${printable(file.path)}: ${file.pagesWritten} page${file.pagesWritten === 1 ? '' : 's'} written, ${file.pagesKept} kept, ${file.lost.length} lost`);
    let i = 0;
    while (i < file.lost.length) {
      const first = file.lost[i]!;
      let j = i;
      while (j + 1 < file.lost.length) {
        const next = file.lost[j + 1]!;
        if (next.index !== file.lost[j]!.index + 1 || next.writtenVersion !== first.writtenVersion || next.deviceVersion !== first.deviceVersion) break;
        j++;
      }
      const last = file.lost[j]!;
      const pages = first.index === last.index ? `page ${first.index}` : `pages ${first.index}-${last.index}`;
      lines.push(`    lost ${pages}: written v${first.writtenVersion}, on device v${first.deviceVersion}`);
      i = j + 1;
    }
  }
  return lines;
}
