// The end-of-run text summary: fio's per-job report (stat.c show_thread_status), its run-status
// group lines, an iostat-like disk block, and the kernel counters a run accumulated.
// Deterministic: everything printed comes from the RunReport (no wall clock, no locale).

import type { DeviceReport, DirectionReport, JobReport, KernelCounters, LatencySummary, RunReport } from '../core/userspace/report.js';
import { formatDurationFio, num2str, printable } from './units.js';

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

/** fio's printf("%5.02f"): two decimals, right-aligned to at least 5 characters. */
function fixed2(value: number): string {
  return value.toFixed(2).padStart(5);
}

/**
 * fio picks one unit per latency line (stat.c nsec_to_usec/nsec_to_msec): usec when min, max and
 * mean all exceed 1000 ns, msec when they all exceed 1000000 ns, else nsec.
 * SIMPLIFICATION: fio also requires the standard deviation to exceed the threshold; the report
 * carries no stdev.
 */
function latencyUnit(lat: LatencySummary): { name: string; divisorNs: number } {
  const above = (limitNs: number): boolean => lat.minNs > limitNs && lat.maxNs > limitNs && lat.meanNs > limitNs;
  if (above(1_000_000)) return { name: 'msec', divisorNs: 1_000_000 };
  if (above(1_000)) return { name: 'usec', divisorNs: 1_000 };
  return { name: 'nsec', divisorNs: 1 };
}

/**
 * min, max and the percentiles round to whole units, avg to two decimals, all in the line's unit.
 * fio truncates min and max, so a run of 1999 ns reads min=1, max=1, avg=2.00 usec; rounding
 * them, and keeping avg between them as shown, never prints an average above the maximum.
 */
function latencyLines(label: string, lat: LatencySummary): string[] {
  const unit = latencyUnit(lat);
  const rounded = (ns: number): number => Math.round(ns / unit.divisorNs);
  const whole = (ns: number): string => num2str(rounded(ns), 6, false, '');
  const avg = Math.min(rounded(lat.maxNs), Math.max(rounded(lat.minNs), lat.meanNs / unit.divisorNs));
  return [
    `    ${label} (${unit.name}): min=${whole(lat.minNs)}, max=${whole(lat.maxNs)}, avg=${fixed2(avg)}`,
    `    ${label} percentiles (${unit.name}): p50=${whole(lat.p50Ns)}, p99=${whole(lat.p99Ns)}, p99.9=${whole(lat.p999Ns)}`,
  ];
}

/**
 * The unit of a run time, as fio prints it (msec), but finer for a run shorter than 1 ms: a job that
 * moved data never shows 0 time. `shortestNs` picks the unit for every time printed with it.
 */
function runUnit(shortestNs: number): { name: string; divisorNs: number } {
  if (shortestNs >= 1_000_000) return { name: 'msec', divisorNs: 1_000_000 };
  if (shortestNs >= 1_000) return { name: 'usec', divisorNs: 1_000 };
  return { name: 'nsec', divisorNs: 1 };
}

function inUnit(ns: number, unit: { divisorNs: number }): number {
  return Math.floor(ns / unit.divisorNs);
}

/** fio's "  read: IOPS=12.3k, BW=48.1MiB/s (50.4MB/s)(96.2MiB/2000msec)". */
function directionLines(label: 'read' | 'write', dir: DirectionReport, runtimeNs: number): string[] {
  const iops = num2str(dir.iops, 4, false, '');
  const bw = num2str(dir.bandwidthBytesPerSec, 4, true, 'B/s');
  const bwSi = num2str(dir.bandwidthBytesPerSec, 4, false, 'B/s');
  const io = num2str(dir.bytes, 4, true, 'B');
  const unit = runUnit(runtimeNs);
  return [`  ${label}: IOPS=${iops}, BW=${bw} (${bwSi})(${io}/${inUnit(runtimeNs, unit)}${unit.name})`, ...latencyLines('clat', dir.clat)];
}

function jobLines(job: JobReport): string[] {
  const lines = [
    `${printable(job.name)}: (groupid=0, jobs=1): err=${String(Math.abs(job.firstErrno)).padStart(2)}: pid=${job.pid}`,
    `  rw=${job.rw}, bs=${job.bs}B, ioengine=${job.ioengine}, direct=${job.direct ? 1 : 0}, filename=${printable(job.filename)}`,
  ];
  if (job.read.ios > 0) lines.push(...directionLines('read', job.read, job.runtimeNs));
  if (job.write.ios > 0) lines.push(...directionLines('write', job.write, job.runtimeNs));
  if (job.fsyncs > 0) lines.push('  fsync/fdatasync/sync_file_range:', ...latencyLines('sync', job.fsyncLat));
  lines.push(`  issued rwts: total=${job.read.ios},${job.write.ios},0,${job.fsyncs}`);
  if (job.errors > 0) {
    lines.push(`  errors: ${job.errors} syscall${job.errors === 1 ? '' : 's'} failed (first: ${errnoName(job.firstErrno)})`);
  }
  return lines;
}

/** fio's "Run status group 0 (all jobs):" line for one direction, or nothing if no job did any. */
function groupLine(label: string, jobs: readonly JobReport[], pick: (j: JobReport) => DirectionReport): string[] {
  const active = jobs.filter((j) => pick(j).ios > 0);
  if (active.length === 0) return [];
  const bytes = active.reduce((sum, j) => sum + pick(j).bytes, 0);
  const runs = active.map((j) => j.runtimeNs);
  const maxRunNs = Math.max(...runs);
  const minRunNs = Math.min(...runs);
  const unit = runUnit(minRunNs);
  const aggBw = maxRunNs === 0 ? 0 : (bytes * 1e9) / maxRunNs;
  const bws = active.map((j) => pick(j).bandwidthBytesPerSec);
  const minBw = Math.min(...bws);
  const maxBw = Math.max(...bws);
  const b2 = (n: number): string => num2str(n, 4, true, 'B/s');
  const b10 = (n: number): string => num2str(n, 4, false, 'B/s');
  return [
    `${label.padStart(7)}: bw=${b2(aggBw)} (${b10(aggBw)}), ${b2(minBw)}-${b2(maxBw)} (${b10(minBw)}-${b10(maxBw)}), ` +
      `io=${num2str(bytes, 4, true, 'B')} (${num2str(bytes, 4, false, 'B')}), run=${inUnit(minRunNs, unit)}-${inUnit(maxRunNs, unit)}${unit.name}`,
  ];
}

function formatHwValue(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}

function deviceLines(dev: DeviceReport, durationNs: number): string[] {
  const util = durationNs === 0 ? 0 : Math.min(100, (dev.busyNs / durationNs) * 100);
  const lines = [
    `  ${dev.name}: ios=${dev.readIos}/${dev.writeIos}, bytes=${num2str(dev.readBytes, 4, true, 'B')}/${num2str(dev.writeBytes, 4, true, 'B')}, ` +
      `util=${util.toFixed(2)}%, sched=${dev.scheduler}`,
  ];
  const hw = Object.entries(dev.hw);
  if (hw.length > 0) lines.push(`    hw: ${hw.map(([k, v]) => `${k}=${formatHwValue(v)}`).join(', ')}`);
  return lines;
}

function counterLines(k: KernelCounters): string[] {
  const lookups = k.pageCacheHits + k.pageCacheMisses;
  const ratio = lookups === 0 ? 'n/a' : `${((k.pageCacheHits / lookups) * 100).toFixed(2)}%`;
  const row = (label: string, text: string): string => `  ${`${label}:`.padEnd(13)} ${text}`;
  return [
    'Kernel counters:',
    row('page cache', `hits=${k.pageCacheHits}, misses=${k.pageCacheMisses}, hit ratio=${ratio}`),
    row('readahead', `pages=${k.readaheadPages}`),
    row('page faults', `minor=${k.minorFaults}, major=${k.majorFaults}`),
    row('scheduler', `context switches=${k.contextSwitches}`),
    row('interrupts', `irqs=${k.irqs}, softirqs=${k.softirqs}`),
    row('merges', `bio back=${k.bioBackMerges}, bio front=${k.bioFrontMerges}, request=${k.requestMerges}`),
    row('writeback', `pages dirtied=${k.pagesDirtied}, pages written back=${k.pagesWrittenBack}`),
    row('syscalls', `${k.syscalls}`),
  ];
}

/** The whole summary, ending with a newline. */
export function formatReport(report: RunReport): string {
  const lines: string[] = [`scenario ${printable(report.scenario)}: seed=${report.seed}, duration=${formatDurationFio(report.durationNs)}, events=${report.eventsRun}`, ''];
  for (const job of report.jobs) lines.push(...jobLines(job), '');
  const group = [...groupLine('READ', report.jobs, (j) => j.read), ...groupLine('WRITE', report.jobs, (j) => j.write)];
  if (group.length > 0) lines.push('Run status group 0 (all jobs):', ...group, '');
  if (report.devices.length > 0) {
    lines.push('Disk stats (read/write):');
    for (const dev of report.devices) lines.push(...deviceLines(dev, report.durationNs));
    lines.push('');
  }
  lines.push(...counterLines(report.counters));
  return `${lines.join('\n')}\n`;
}
