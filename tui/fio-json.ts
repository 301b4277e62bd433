// `kiotrace run --output-format=json|json+`: the run report in fio 3.36's JSON schema
// (stat.c show_thread_status_json, add_ddir_status_json, add_ddir_lat_json,
// json_array_add_disk_util), printed as fio's json.c prints it: two-space indent, `"key" : value`,
// integers as %lld and floats as %f (six decimals), so tools written for fio's JSON (fio-plot,
// fio2gnuplot-style scripts, jq one-liners) read it. kiotrace's own extras (scenario, kernel
// counters, device hardware counters) go under the top-level key "kiotrace".
// Deterministic: times are the simulated clock's (the machine boots at the Unix epoch).

import type { DeviceReport, DirectionReport, JobReport, KernelCounters, LatencySummary, RunReport } from '../core/userspace/report.js';
import {
  LAT_RANGES_MS,
  LAT_RANGES_NS_US,
  active,
  aggregateFor,
  cFixed,
  cpuPercents,
  depthPercents,
  deviceUtil,
  fioVersion,
  groupStats,
  jobDirections,
  latencyPercents,
  mixDirections,
  percentOfAggregate,
  simulatedCtime,
  sortedPercentiles,
  sum,
  totalIos,
  u64,
  unifiedMode,
  type DirLabel,
  type FioOutputOptions,
  type GroupStats,
} from './summary.js';

/** A JSON value as fio's json.c holds it: integers and floats print differently. */
type FioJson =
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'object'; readonly pairs: ReadonlyArray<readonly [string, FioJson]> }
  | { readonly kind: 'array'; readonly values: readonly FioJson[] };

const int = (value: number): FioJson => ({ kind: 'int', value: u64(value) });
/** A signed integer (fio's error codes). */
const sint = (value: number): FioJson => ({ kind: 'int', value: Number.isFinite(value) ? Math.trunc(value) : 0 });
const float = (value: number): FioJson => ({ kind: 'float', value });
const str = (value: string): FioJson => ({ kind: 'string', value });
const obj = (...pairs: ReadonlyArray<readonly [string, FioJson]>): FioJson => ({ kind: 'object', pairs });
const arr = (values: readonly FioJson[]): FioJson => ({ kind: 'array', values });

/**
 * A JSON string. fio escapes only `\` and `"`; kiotrace also escapes control characters and the
 * characters that could reorder or break a terminal line, so a name from a job file can neither
 * make the JSON invalid nor move the cursor when the JSON is shown.
 */
function quote(text: string): string {
  return JSON.stringify(text).replace(/[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** json.c json_print_value: `level` is the value's depth (a pair's or an array element's). */
function print(value: FioJson, level: number): string {
  const indent = (n: number): string => '  '.repeat(n);
  switch (value.kind) {
    case 'int':
      return String(value.value);
    case 'float':
      return cFixed(value.value, 6);
    case 'string':
      return quote(value.value);
    case 'object':
      return `{\n${value.pairs.map(([k, v]) => `${indent(level + 1)}${quote(k)} : ${print(v, level + 1)}`).join(',\n')}\n${indent(level)}}`;
    case 'array':
      return `[\n${value.values.map((v) => `${indent(level + 1)}${print(v, level + 1)}`).join(',\n')}\n${indent(level)}]`;
  }
}

export interface FioJsonOptions extends FioOutputOptions {
  /** json+: every latency object with percentiles also carries its histogram "bins". */
  readonly plus?: boolean;
  /** The run was stopped by a signal (recorded under "kiotrace"). */
  readonly interrupted?: { readonly signal: string; readonly atNs: number; readonly durationNs: number };
}

/** add_ddir_lat_json: min/max/mean/stddev/N, the percentiles when fio would compute them, json+'s bins. */
function latencyJson(lat: LatencySummary, plus: boolean): FioJson {
  const empty = lat.count === 0;
  const pairs: Array<readonly [string, FioJson]> = [
    ['min', int(empty ? 0 : lat.minNs)],
    ['max', int(empty ? 0 : lat.maxNs)],
    ['mean', float(empty ? 0 : lat.meanNs)],
    ['stddev', float(empty ? 0 : lat.stdevNs)],
    ['N', int(lat.count)],
  ];
  const list = sortedPercentiles(lat.percentiles);
  if (list.length > 0 && !empty) {
    pairs.push(['percentile', obj(...list.map((p): readonly [string, FioJson] => [cFixed(p.percent, 6), int(p.ns)]))]);
    // json+: the histogram's bins (the report keeps them where it keeps percentiles)
    const bins = plus ? lat.bins : undefined;
    if (bins !== undefined) pairs.push(['bins', obj(...bins.filter((b) => b.count > 0).map((b): readonly [string, FioJson] => [String(u64(b.ns)), int(b.count)]))]);
  }
  return obj(...pairs);
}

const NO_DIRECTION: DirectionReport = (() => {
  const none: LatencySummary = { count: 0, minNs: 0, maxNs: 0, meanNs: 0, stdevNs: 0, p50Ns: 0, p99Ns: 0, p999Ns: 0, percentiles: [] };
  const samples = { min: 0, max: 0, mean: 0, stdev: 0, samples: 0 };
  return { ios: 0, bytes: 0, iops: 0, bandwidthBytesPerSec: 0, shortIos: 0, droppedIos: 0, slat: none, clat: none, lat: none, bwSamples: samples, iopsSamples: samples };
})();

/** add_ddir_status_json for read, write, trim or mixed. */
function directionJson(dir: DirectionReport, label: DirLabel | 'trim', job: JobReport, group: GroupStats | undefined, plus: boolean): FioJson {
  const ran = active(dir) && job.runtimeNs > 0;
  const bwBytes = ran ? u64(dir.bandwidthBytesPerSec) : 0;
  const bwS = dir.bwSamples;
  const hasBw = bwS.samples > 0;
  const meanKiB = hasBw ? bwS.mean / 1024 : 0;
  const io = dir.iopsSamples;
  const hasIops = io.samples > 0;
  return obj(
    ['io_bytes', int(dir.bytes)],
    ['io_kbytes', int(Math.floor(u64(dir.bytes) / 1024))],
    ['bw_bytes', int(bwBytes)],
    ['bw', int(Math.floor(bwBytes / 1024))],
    ['iops', float(ran ? dir.iops : 0)],
    ['runtime', int(active(dir) ? job.runtimeNs / 1e6 : 0)],
    ['total_ios', int(dir.ios)],
    ['short_ios', int(dir.shortIos)],
    ['drop_ios', int(dir.droppedIos)],
    ['slat_ns', latencyJson(dir.slat, plus)],
    ['clat_ns', latencyJson(dir.clat, plus)],
    ['lat_ns', latencyJson(dir.lat, plus)],
    ['bw_min', int(hasBw ? bwS.min / 1024 : 0)],
    ['bw_max', int(hasBw ? bwS.max / 1024 : 0)],
    ['bw_agg', float(hasBw && label !== 'trim' ? percentOfAggregate(aggregateFor(group, label, unifiedMode(job.unifiedRwReporting)), meanKiB) : 0)],
    ['bw_mean', float(meanKiB)],
    ['bw_dev', float(hasBw ? bwS.stdev / 1024 : 0)],
    ['bw_samples', int(bwS.samples)],
    ['iops_min', int(hasIops ? io.min : 0)],
    ['iops_max', int(hasIops ? io.max : 0)],
    ['iops_mean', float(hasIops ? io.mean : 0)],
    ['iops_stddev', float(hasIops ? io.stdev : 0)],
    ['iops_samples', int(io.samples)],
  );
}

function percentObject(keys: readonly string[], percents: readonly number[]): FioJson {
  return obj(...keys.map((k, i): readonly [string, FioJson] => [k, float(percents[i] ?? 0)]));
}

/**
 * fio's "job options" lists the options the job file set, as strings.
 * SIMPLIFICATION: the report carries the options kiotrace resolved, not the file's text, so the
 * object lists those (with fio's names and spellings), whether the file set them or not.
 */
function jobOptions(job: JobReport): FioJson {
  const size = (n: number): string => String(u64(n));
  const [rMin, rMax] = job.blockSizes.read;
  const [wMin, wMax] = job.blockSizes.write;
  const bs = rMin === rMax && wMin === wMax ? (rMin === wMin ? size(rMin) : `${size(rMin)},${size(wMin)}`) : `${size(rMin)}-${size(rMax)},${size(wMin)}-${size(wMax)}`;
  const pairs: Array<readonly [string, FioJson]> = [
    ['name', str(job.name)],
    ['filename', str(job.filename)],
    ['rw', str(job.rw)],
    [rMin === rMax && wMin === wMax ? 'bs' : 'bsrange', str(bs)],
    ['ioengine', str(job.ioengine)],
    ['iodepth', str(String(u64(job.iodepth)))],
    ['direct', str(job.direct ? '1' : '0')],
  ];
  if (job.jobs > 1) pairs.push(['numjobs', str(String(job.jobs))], ['group_reporting', str('1')]);
  if (unifiedMode(job.unifiedRwReporting) !== 'none') pairs.push(['unified_rw_reporting', str(job.unifiedRwReporting)]);
  return obj(...pairs);
}

/** show_thread_status_json. */
function jobJson(job: JobReport, group: GroupStats | undefined, report: RunReport, plus: boolean): FioJson {
  const mode = unifiedMode(job.unifiedRwReporting);
  const pairs: Array<readonly [string, FioJson]> = [
    ['jobname', str(job.name)],
    ['groupid', int(job.groupId)],
    // SIMPLIFICATION: the report has no job start time; the simulated clock starts at 0 with every job
    ['job_start', int(0)],
    ['error', sint(Math.abs(job.firstErrno))],
    ['eta', int(0)],
    ['elapsed', int(Math.ceil(report.durationNs / 1e9))],
    ['job options', jobOptions(job)],
  ];
  if (mode === 'mixed') {
    // add_ddir_status_json: under mixed reporting only the "mixed" direction, and no sync
    pairs.push(['mixed', directionJson(mixDirections(job.read, job.write), 'mixed', job, group, plus)]);
  } else {
    pairs.push(['read', directionJson(job.read, 'read', job, group, plus)]);
    pairs.push(['write', directionJson(job.write, 'write', job, group, plus)]);
    pairs.push(['trim', directionJson(NO_DIRECTION, 'trim', job, group, plus)]);
    pairs.push(['sync', obj(['total_ios', int(job.fsyncs)], ['lat_ns', latencyJson(job.fsyncLat, plus)])]);
    const mixed = jobDirections(job).find((v) => v.label === 'mixed');
    if (mixed !== undefined) pairs.push(['mixed', directionJson(mixed.dir, 'mixed', job, group, plus)]);
  }
  const cpu = cpuPercents(job);
  const total = totalIos(job);
  const b = job.latencyBuckets;
  const batchKeys = ['0', '4', '8', '16', '32', '64', '>=64'];
  pairs.push(
    ['job_runtime', int((job.runtimeNs * Math.max(1, job.jobs)) / 1e6)],
    ['usr_cpu', float(cpu.usr)],
    ['sys_cpu', float(cpu.sys)],
    ['ctx', int(job.cpu.contextSwitches)],
    ['majf', int(job.cpu.majorFaults)],
    ['minf', int(job.cpu.minorFaults)],
    ['iodepth_level', percentObject(['1', '2', '4', '8', '16', '32', '>=64'], depthPercents(job.depths.depth, total))],
    ['iodepth_submit', percentObject(batchKeys, depthPercents(job.depths.submit, sum(job.depths.submit)))],
    ['iodepth_complete', percentObject(batchKeys, depthPercents(job.depths.complete, sum(job.depths.complete)))],
    ['latency_ns', percentObject(LAT_RANGES_NS_US, latencyPercents(b.nsec, total, LAT_RANGES_NS_US.length))],
    ['latency_us', percentObject(LAT_RANGES_NS_US, latencyPercents(b.usec, total, LAT_RANGES_NS_US.length))],
    ['latency_ms', percentObject(LAT_RANGES_MS, latencyPercents(b.msec, total, LAT_RANGES_MS.length))],
  );
  // fio adds these with continue_on_error, which is how kiotrace's jobs treat a failed call
  if (job.errors > 0) pairs.push(['total_err', int(job.errors)], ['first_error', sint(Math.abs(job.firstErrno))]);
  const lt = job.latencyTarget;
  pairs.push(['latency_depth', int(lt.depth)], ['latency_target', int(lt.targetNs)], ['latency_percentile', float(lt.percentile)], ['latency_window', int(lt.windowUs)]);
  return obj(...pairs);
}

/** json_array_add_disk_util: /proc/diskstats over the run; ticks and in_queue in ms. */
function diskJson(dev: DeviceReport, durationNs: number): FioJson {
  return obj(
    ['name', str(dev.name)],
    ['read_ios', int(dev.readIos)],
    ['write_ios', int(dev.writeIos)],
    ['read_sectors', int(dev.readBytes / 512)],
    ['write_sectors', int(dev.writeBytes / 512)],
    ['read_merges', int(dev.readMerges)],
    ['write_merges', int(dev.writeMerges)],
    ['read_ticks', int(dev.readTicksNs / 1e6)],
    ['write_ticks', int(dev.writeTicksNs / 1e6)],
    ['in_queue', int(dev.inQueueNs / 1e6)],
    ['util', float(deviceUtil(dev, durationNs))],
  );
}

function countersJson(k: KernelCounters): FioJson {
  return obj(
    ['page_cache_hits', int(k.pageCacheHits)],
    ['page_cache_misses', int(k.pageCacheMisses)],
    ['readahead_pages', int(k.readaheadPages)],
    ['minor_faults', int(k.minorFaults)],
    ['major_faults', int(k.majorFaults)],
    ['context_switches', int(k.contextSwitches)],
    ['irqs', int(k.irqs)],
    ['softirqs', int(k.softirqs)],
    ['bio_back_merges', int(k.bioBackMerges)],
    ['bio_front_merges', int(k.bioFrontMerges)],
    ['request_merges', int(k.requestMerges)],
    ['pages_dirtied', int(k.pagesDirtied)],
    ['pages_written_back', int(k.pagesWrittenBack)],
    ['nr_dirty', int(k.nrDirty)],
    ['nr_writeback', int(k.nrWriteback)],
    ['dirty_throttle_pauses', int(k.dirtyThrottlePauses)],
    ['dirty_throttle_pause_ns', int(k.dirtyThrottlePauseNs)],
    ['syscalls', int(k.syscalls)],
    ['user_copy_bytes', int(k.userCopyBytes)],
    ['pgscan_kswapd', int(k.pgscanKswapd)],
    ['pgscan_direct', int(k.pgscanDirect)],
    ['pgsteal_kswapd', int(k.pgstealKswapd)],
    ['pgsteal_direct', int(k.pgstealDirect)],
    ['pgactivate', int(k.pgactivate)],
    ['pgdeactivate', int(k.pgdeactivate)],
    ['allocstall', int(k.allocstall)],
    ['workingset_refault_file', int(k.workingsetRefaultFile)],
    ['workingset_activate_file', int(k.workingsetActivateFile)],
    ['workingset_restore_file', int(k.workingsetRestoreFile)],
  );
}

/** What fio has no field for: the scenario, per-job file and errors, devices' schedulers and hardware counters, kernel counters. */
function kiotraceJson(report: RunReport, options: FioJsonOptions): FioJson {
  const pairs: Array<readonly [string, FioJson]> = [
    ['scenario', str(report.scenario)],
    ['seed', int(report.seed)],
    ['duration_ns', int(report.durationNs)],
    ['events', int(report.eventsRun)],
  ];
  const stop = options.interrupted;
  if (stop !== undefined) pairs.push(['interrupted', obj(['signal', str(stop.signal)], ['at_ns', int(stop.atNs)], ['duration_ns', int(stop.durationNs)])]);
  pairs.push(
    ['jobs', arr(report.jobs.map((j) => obj(['jobname', str(j.name)], ['job_index', int(j.jobIndex)], ['pid', int(j.pid)], ['filename', str(j.filename)], ['errors', int(j.errors)], ['first_errno', sint(j.firstErrno)])))],
    [
      'devices',
      arr(
        report.devices.map((d) =>
          obj(
            ['name', str(d.name)],
            ['scheduler', str(d.scheduler)],
            ['read_ahead_kb', int(d.readAheadKb)],
            ['read_bytes', int(d.readBytes)],
            ['write_bytes', int(d.writeBytes)],
            ['busy_ns', int(d.busyNs)],
            ['hw', obj(...Object.entries(d.hw).map(([k, v]): readonly [string, FioJson] => [k, Number.isInteger(v) ? sint(v) : float(v)]))],
          ),
        ),
      ),
    ],
    ['counters', countersJson(report.counters)],
  );
  return obj(...pairs);
}

/** The whole JSON document, ending with a newline (fio's json_print_object, then "\n"). */
export function formatFioJson(report: RunReport, options: FioJsonOptions = {}): string {
  const groups = groupStats(report.jobs);
  const seconds = Math.floor(report.durationNs / 1e9);
  const root = obj(
    ['fio version', str(fioVersion(options.version ?? 'dev'))],
    ['timestamp', int(seconds)],
    ['timestamp_ms', int(report.durationNs / 1e6)],
    ['time', str(simulatedCtime(report.durationNs))],
    // the report does not tell global options from a job's own: every option is under "job options"
    ['global options', obj()],
    ['jobs', arr(report.jobs.map((j) => jobJson(j, groups.find((g) => g.groupId === j.groupId), report, options.plus === true)))],
    ...(report.devices.length > 0 ? [['disk_util', arr(report.devices.map((d) => diskJson(d, report.durationNs)))] as const] : []),
    ['kiotrace', kiotraceJson(report, options)],
  );
  return `${print(root, 0)}\n`;
}
