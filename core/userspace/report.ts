// Models: fio's end-of-run statistics (stat.c: struct thread_stat, group_run_stats, disk_util) and
// the kernel counters of /proc/vmstat, /proc/stat and /proc/interrupts that a run summarises. The
// report is plain data (it is what --json prints); tui/ formats it as fio's text and JSON.

import type { PowerReport } from '../power/power.js';
import type { CrashFileReport } from '../mm/data-gen.js';
import type { LsmStats } from './engines/lsm.js';

export interface Percentile {
  /** 0..100, as percentile_list gives it. */
  readonly percent: number;
  readonly ns: number;
}

export interface LatencySummary {
  readonly count: number;
  readonly minNs: number;
  readonly maxNs: number;
  readonly meanNs: number;
  /** Sample standard deviation (fio's stddev: n - 1 in the denominator). */
  readonly stdevNs: number;
  readonly p50Ns: number;
  readonly p99Ns: number;
  readonly p999Ns: number;
  /** The job's percentile_list, in its order (empty for slat and lat, as fio reports them). */
  readonly percentiles: readonly Percentile[];
  /** The histogram's non-empty buckets, ascending (fio's json+ "bins"); only where percentiles are kept. */
  readonly bins?: readonly LatencyBin[];
}

/** One histogram bucket: its midpoint and how many samples fell in it. */
export interface LatencyBin {
  readonly ns: number;
  readonly count: number;
}

/** fio's bw/iops log averages: samples taken every 500 ms (bwavgtime, iopsavgtime). */
export interface SampleSummary {
  readonly min: number;
  readonly max: number;
  readonly mean: number;
  readonly stdev: number;
  readonly samples: number;
}

export interface DirectionReport {
  /** Completed I/Os in this direction. */
  readonly ios: number;
  readonly bytes: number;
  readonly iops: number;
  readonly bandwidthBytesPerSec: number;
  /** I/Os that moved fewer bytes than asked (fio's short). */
  readonly shortIos: number;
  /** I/Os a rate limit skipped (fio's dropped). */
  readonly droppedIos: number;
  /** Submission latency: from the start of the submitting call to the I/O being in the kernel's hands (0 count for sync engines). */
  readonly slat: LatencySummary;
  /** Completion latency: from submission to completion seen by the job. */
  readonly clat: LatencySummary;
  /** Total latency: slat + clat. */
  readonly lat: LatencySummary;
  /** Bandwidth samples in bytes per second. */
  readonly bwSamples: SampleSummary;
  readonly iopsSamples: SampleSummary;
}

/** fio's IO depth / submit / complete distributions: counts per bucket. */
export interface DepthDistributions {
  /** Depth at each submission: buckets 1, 2, 4, 8, 16, 32, >=64. */
  readonly depth: readonly number[];
  /** I/Os per submit call: buckets 0, 4, 8, 16, 32, 64, >=64 (fio's io_u_submit). */
  readonly submit: readonly number[];
  /** I/Os per reap: the same buckets (fio's io_u_complete). */
  readonly complete: readonly number[];
}

/** Counts of completed I/Os by total latency (fio's io_u_lat_n/u/m, the "lat (usec): 2=..." lines). */
export interface LatencyBuckets {
  /** Upper bounds 2, 4, 10, 20, 50, 100, 250, 500, 750, 1000 ns. */
  readonly nsec: readonly number[];
  /** The same bounds in us. */
  readonly usec: readonly number[];
  /** Upper bounds 2, 4, 10, 20, 50, 100, 250, 500, 750, 1000, 2000 ms, then >=2000. */
  readonly msec: readonly number[];
}

export interface CpuUsage {
  /** CPU time the job's processes ran in user mode and in the kernel. */
  readonly userNs: number;
  readonly systemNs: number;
  readonly contextSwitches: number;
  readonly majorFaults: number;
  readonly minorFaults: number;
}

export interface JobReport {
  /** fio's job name; clones of numjobs > 1 share it and differ in `jobIndex`. */
  readonly name: string;
  readonly jobIndex: number;
  /** Processes this entry sums (numjobs under group_reporting; else 1). */
  readonly jobs: number;
  readonly groupId: number;
  readonly pid: number;
  readonly filename: string;
  readonly rw: string;
  readonly ioengine: string;
  readonly iodepth: number;
  readonly direct: boolean;
  /** The read block size (fio bs=). */
  readonly bs: number;
  /** [min, max] block sizes per direction, as fio's "bs=(R) 4096B-4096B" shows them. */
  readonly blockSizes: { readonly read: readonly [number, number]; readonly write: readonly [number, number] };
  /** How long the job ran, in ns (ramp time excluded). */
  readonly runtimeNs: number;
  readonly read: DirectionReport;
  readonly write: DirectionReport;
  readonly fsyncs: number;
  readonly fsyncLat: LatencySummary;
  /** Syscalls that returned an error, and the first errno seen (0 if none). */
  readonly errors: number;
  readonly firstErrno: number;
  readonly cpu: CpuUsage;
  readonly depths: DepthDistributions;
  readonly latencyBuckets: LatencyBuckets;
  readonly unifiedRwReporting: string;
  /**
   * fio's latency line: latency_target's settings (0 target = none) and the depth the job ran at
   * last (the depth the search found; the job's iodepth without a target).
   */
  readonly latencyTarget: { readonly targetNs: number; readonly windowUs: number; readonly percentile: number; readonly depth: number };
  /** ioengine=lsm: what the store did over the whole run (ramp time included). */
  readonly lsm?: LsmStats;
}

export interface KernelCounters {
  readonly pageCacheHits: number;
  readonly pageCacheMisses: number;
  readonly readaheadPages: number;
  readonly minorFaults: number;
  readonly majorFaults: number;
  readonly contextSwitches: number;
  readonly irqs: number;
  readonly softirqs: number;
  readonly bioBackMerges: number;
  readonly bioFrontMerges: number;
  readonly requestMerges: number;
  readonly pagesDirtied: number;
  readonly pagesWrittenBack: number;
  /** /proc/vmstat nr_dirty and nr_writeback at the end of the run (pages). */
  readonly nrDirty: number;
  readonly nrWriteback: number;
  /** balance_dirty_pages() sleeps of writers that dirtied faster than writeback, and their total time. */
  readonly dirtyThrottlePauses: number;
  readonly dirtyThrottlePauseNs: number;
  readonly syscalls: number;
  /** Bytes copied between user and kernel memory (copy_to_user / copy_from_user of buffered I/O). */
  readonly userCopyBytes: number;
  /** /proc/vmstat's reclaim counters: pgscan_kswapd, pgscan_direct, pgsteal_kswapd, pgsteal_direct, pgactivate, pgdeactivate, allocstall. */
  readonly pgscanKswapd: number;
  readonly pgscanDirect: number;
  readonly pgstealKswapd: number;
  readonly pgstealDirect: number;
  readonly pgactivate: number;
  readonly pgdeactivate: number;
  readonly allocstall: number;
  /** workingset_refault_file, workingset_activate_file, workingset_restore_file. */
  readonly workingsetRefaultFile: number;
  readonly workingsetActivateFile: number;
  readonly workingsetRestoreFile: number;
}

/** What the layout phase did for a job's files before the run (fio's "Laying out IO file"). */
export interface LayoutReport {
  readonly job: string;
  readonly files: number;
  readonly bytes: number;
  /** prefilled (written: a job reads them, or overwrite=1), preallocated (fallocate) or sparse. */
  readonly how: 'prefilled' | 'preallocated' | 'sparse';
}

export interface DeviceReport {
  readonly name: string;
  readonly scheduler: string;
  /** queue/read_ahead_kb: the readahead window files on it start with (KiB). */
  readonly readAheadKb: number;
  readonly readIos: number;
  readonly writeIos: number;
  readonly readBytes: number;
  readonly writeBytes: number;
  /** Requests that absorbed another (bio or request merges), per direction: /proc/diskstats merges. */
  readonly readMerges: number;
  readonly writeMerges: number;
  /** Sum of request service times per direction (/proc/diskstats ticks), in ns. */
  readonly readTicksNs: number;
  readonly writeTicksNs: number;
  /** Time-weighted in-flight requests (/proc/diskstats time_in_queue), in ns. */
  readonly inQueueNs: number;
  /** Time with at least one request in flight (iostat's %util numerator). */
  readonly busyNs: number;
  readonly hw: Readonly<Record<string, number>>;
}

export interface RunReport {
  readonly scenario: string;
  readonly seed: number;
  readonly durationNs: number;
  readonly eventsRun: number;
  readonly jobs: readonly JobReport[];
  /** Files created before the run, at boot, in no simulated time. */
  readonly layout: readonly LayoutReport[];
  readonly counters: KernelCounters;
  readonly devices: readonly DeviceReport[];
  /** The machine's memory cgroups (absent when it has none): cgroup v2's memory.* files at the end. */
  readonly cgroups?: readonly CgroupReport[];
  /** Present when a simulated crash ended the run: what the devices kept of the jobs' files. */
  readonly crash?: CrashReport;
  /** The machine's printers and their spool queues (absent when it has none). */
  readonly printers?: readonly PrinterReport[];
  /** The scenario's events that ran (absent when it has none): what each did and printed. */
  readonly events?: readonly EventReport[];
  /** Per-state time and energy of devices and CPUs, power collapse, wakeup sources (when machine.power is set). */
  readonly power?: PowerReport;
  /** What the network stack moved and how (absent when nothing was sent or received). */
  readonly network?: NetworkReport;
}

/**
 * The copies a byte cost on its way between user memory, the page cache, socket buffers and the
 * NIC, by kind (k.net.copies), plus copies between kernel pages (splice into the page cache).
 */
export interface NetworkReport {
  readonly userToSkbBytes: number;
  readonly skbToUserBytes: number;
  readonly pageToSkbBytes: number;
  readonly linearizeBytes: number;
  readonly zerocopyBytes: number;
  readonly kernelCopyBytes: number;
  readonly txDropped: number;
  readonly rxDropped: number;
}

/** One scenario event as it ran: the shell line, when it started and ended, its status and output. */
export interface EventReport {
  /** The line as a shell would show it: `echo bfq > /sys/block/sda/queue/scheduler`, `lprm 2`. */
  readonly command: string;
  readonly atNs: number;
  /** When it finished; null when the run ended first. */
  readonly doneNs: number | null;
  /** 0, an errno name for a refused write (`EINVAL`), a command's exit status, or "running" / "not run" when the run ended first. */
  readonly status: string;
  readonly output: string;
}

/** A printer at the end of a run: its line, what it printed and its queue's jobs. */
export interface PrinterReport {
  readonly name: string;
  readonly baud: number;
  readonly printedBytes: number;
  /** The paper read back as the jobs it holds, in order (job ids); -1 for bytes no job explains. */
  readonly paperJobs: readonly number[];
  readonly enabled: boolean;
  readonly jobs: readonly PrintJobReport[];
}

export interface PrintJobReport {
  readonly id: number;
  readonly owner: string;
  readonly title: string;
  readonly bytes: number;
  readonly state: string;
  readonly queuedNs: number;
  /** -1: never started / not ended. */
  readonly startNs: number;
  readonly endNs: number;
}

/** A simulated crash: when, and per file the pages whose device block lacks their last write. */
export interface CrashReport {
  readonly atNs: number;
  readonly files: readonly CrashFileReport[];
}

/** One memory cgroup at the end of a run, in bytes (a limit of "max" is null). */
export interface CgroupReport {
  readonly name: string;
  readonly memoryCurrentBytes: number;
  readonly memoryPeakBytes: number;
  readonly memoryMinBytes: number;
  readonly memoryLowBytes: number;
  readonly memoryHighBytes: number | null;
  readonly memoryMaxBytes: number | null;
  /** memory.events: low (reclaimed below memory.low), high, max. */
  readonly events: { readonly low: number; readonly high: number; readonly max: number };
  /** Per device the group has io.max on: the limits (null: "max"), io.stat's counts and the throttling. */
  readonly io?: readonly CgroupIoReport[];
  /** Per device with io.latency on it (any group's): the group's target and blk-iolatency's state. */
  readonly ioLatency?: readonly CgroupIoLatencyReport[];
}

/** One group's io.latency on one device at the end of the run (what io.stat's iolatency fields show). */
export interface CgroupIoLatencyReport {
  readonly device: string;
  /** io.latency's target in us (null: none set, the group is only throttled). */
  readonly targetUs: number | null;
  /** Non-rotational: the stats are missed/total (90th percentile); rotational: the mean. */
  readonly ssd: boolean;
  /** max_depth (null: "max", unthrottled), and the smallest it reached in the run (null: never scaled). */
  readonly depth: number | null;
  readonly minDepth: number | null;
  /** Depth changes over the run, and use_delay now (scale-downs asked for at depth 1). */
  readonly scaleEvents: number;
  readonly useDelay: number;
  /** lat_avg in us and the window in ms (rotational); missed and total of the current window (SSD). */
  readonly avgLatUs: number;
  readonly winMs: number;
  readonly missed: number;
  readonly total: number;
}

/** One io.max line and what blk-throttle did under it. */
export interface CgroupIoReport {
  readonly device: string;
  readonly rbps: number | null;
  readonly wbps: number | null;
  readonly riops: number | null;
  readonly wiops: number | null;
  /** io.stat: bytes and I/Os charged (a split bio counts one I/O per piece). */
  readonly rbytes: number;
  readonly wbytes: number;
  readonly rios: number;
  readonly wios: number;
  /** Bios that waited on the group's service queue, and their summed wait (ns). */
  readonly throttledReadBios: number;
  readonly throttledWriteBios: number;
  readonly throttledReadNs: number;
  readonly throttledWriteNs: number;
}
