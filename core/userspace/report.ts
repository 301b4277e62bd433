// Models: fio's end-of-run report and the kernel counters of /proc/vmstat, /proc/stat and
// /proc/interrupts that a run summarises.

export interface LatencySummary {
  readonly count: number;
  readonly minNs: number;
  readonly maxNs: number;
  readonly meanNs: number;
  readonly p50Ns: number;
  readonly p99Ns: number;
  readonly p999Ns: number;
}

export interface DirectionReport {
  /** Completed I/Os in this direction. */
  readonly ios: number;
  readonly bytes: number;
  readonly iops: number;
  readonly bandwidthBytesPerSec: number;
  /** Completion latency: from issuing the syscall (or the first touch of a page) to its return. */
  readonly clat: LatencySummary;
}

export interface JobReport {
  /** fio's job name; clones of numjobs > 1 share it and differ in `jobIndex`. */
  readonly name: string;
  readonly jobIndex: number;
  readonly pid: number;
  readonly filename: string;
  readonly rw: string;
  readonly ioengine: string;
  readonly direct: boolean;
  readonly bs: number;
  /** How long the job ran, in ns. */
  readonly runtimeNs: number;
  readonly read: DirectionReport;
  readonly write: DirectionReport;
  readonly fsyncs: number;
  readonly fsyncLat: LatencySummary;
  /** Syscalls that returned an error, and the first errno seen (0 if none). */
  readonly errors: number;
  readonly firstErrno: number;
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
  readonly syscalls: number;
}

export interface DeviceReport {
  readonly name: string;
  readonly scheduler: string;
  readonly readIos: number;
  readonly writeIos: number;
  readonly readBytes: number;
  readonly writeBytes: number;
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
  readonly counters: KernelCounters;
  readonly devices: readonly DeviceReport[];
}
