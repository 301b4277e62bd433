// Models: fio's job description (fio(1) HOWTO, thread_options.h): the options kiotrace's workloads
// accept, with fio's names, meanings and defaults, after parsing and unit conversion. A job file
// (INI) and a scenario's JSON jobs both end here. A scenario is a machine plus jobs.

import type { NfsMountOptions } from '../fs/nfs/super.js';
import type { FaultSpec } from '../hw/fault-inject.js';
import type { LsmSpec } from './engines/lsm.js';

export type RwMode = 'read' | 'write' | 'randread' | 'randwrite' | 'rw' | 'randrw';
/** fio's ioengine names: psync (pread/pwrite), sync (read/write + lseek), mmap, libaio, io_uring; and kiotrace's lsm (an LSM-tree store, engines/lsm.ts). */
export type IoEngine = 'psync' | 'sync' | 'mmap' | 'libaio' | 'io_uring' | 'lsm';

/** One entry of fio's bssplit: `percent` of the I/Os in a direction are `bytes` long. */
export interface BsSplitEntry {
  readonly bytes: number;
  readonly percent: number;
}

/** Block sizes of one direction (fio's min_bs/max_bs/bssplit for a ddir). */
export interface BlockSizeSpec {
  /** bs, or the low end of bsrange. */
  readonly minBytes: number;
  /** bs, or the high end of bsrange (sizes in between are multiples of minBytes, as fio picks them). */
  readonly maxBytes: number;
  /** bssplit: when not empty it decides every size; the percentages sum to 100. */
  readonly split: readonly BsSplitEntry[];
}

/** fio's random_distribution. */
export type RandomDistribution =
  | { readonly kind: 'random' }
  | { readonly kind: 'zipf'; readonly theta: number }
  | { readonly kind: 'pareto'; readonly h: number }
  /** Gaussian around the middle of the region; stdDevPercent of the region (fio's normal:<dev>). */
  | { readonly kind: 'normal'; readonly stdDevPercent: number }
  /** fio's zoned:A/S:...: accessPercent of the I/Os go to the next sizePercent of the region, uniformly. */
  | { readonly kind: 'zoned'; readonly zones: readonly { readonly accessPercent: number; readonly sizePercent: number }[] };

/** fio's sync=: 0 (none), sync (O_SYNC), dsync (O_DSYNC). */
export type SyncMode = 'none' | 'sync' | 'dsync';

/** fio's fallocate=. */
export type FallocateMode = 'none' | 'native' | 'posix' | 'keep' | 'truncate';

/** fio's file_service_type (how a job with several files picks the next one). */
export type FileServiceType = 'roundrobin' | 'sequential' | 'random';

/**
 * fio's fadvise_hint: which posix_fadvise fio makes when it opens a file (and, for the mmap engine,
 * which madvise on the mapping). `type` (fio's 1, the default) advises RANDOM for random I/O and
 * SEQUENTIAL otherwise; `none` (0) advises nothing.
 */
export type FadviseHint = 'none' | 'type' | 'random' | 'sequential' | 'noreuse';

/** fio's unified_rw_reporting: none (per direction), mixed (one summed), both. */
export type UnifiedRwReporting = 'none' | 'mixed' | 'both';

/** A per-direction pair of limits (fio's `rate=1m,500k` style options); 0 means no limit. */
export interface PerDirection {
  readonly read: number;
  readonly write: number;
}

/** One fio job (after validation and unit conversion). */
export interface JobSpec {
  readonly name: string;
  /** fio's filename as the report shows it (one path, or several joined with ':'). */
  readonly filename: string;
  /**
   * Absolute paths of the job's files (nrfiles of them), or one raw block device such as
   * /dev/nvme0n1. Each file is `fileSizeBytes` long.
   */
  readonly files: readonly string[];
  /**
   * The files of numjobs clones 1, 2, ... when fio names them per clone (the default
   * filename_format $jobname.$jobnum.$filenum); empty: every clone uses `files`.
   */
  readonly cloneFiles: readonly (readonly string[])[];
  /** Random offsets are multiples of this (fio's blockalign); 0: of the smallest block size, fio's default. */
  readonly blockAlignBytes: number;
  /** Size of each file (fio's filesize; size / nrfiles by default). */
  readonly fileSizeBytes: number;
  readonly rw: RwMode;
  /** The read block size when it is one size (fio's bs=); every I/O's size unless blockSizes says otherwise. */
  readonly bs: number;
  /** Per-direction sizes (bs=4k,8k, bsrange, bssplit); undefined: `bs` for every I/O. */
  readonly blockSizes?: { readonly read: BlockSizeSpec; readonly write: BlockSizeSpec };
  /** Bytes of I/O region per file loop: fio's size (total over the job's files). */
  readonly size: number;
  /** Where the job's region starts in each file (fio offset), in bytes. */
  readonly offsetBytes: number;
  /** Added to offset for each numjobs clone: clone i starts at offset + i * offset_increment. */
  readonly offsetIncrementBytes: number;
  /** Stop after this many data I/Os were issued, if nothing ended the job sooner (fio number_ios; 0: no limit). */
  readonly numberIos: number;
  /** How many times the job goes over its region (fio loops; ignored when time_based). */
  readonly loops: number;
  readonly iodepth: number;
  /** I/Os submitted per io_submit/io_uring_enter (fio iodepth_batch_submit; 1 by default). */
  readonly iodepthBatchSubmit: number;
  /** Least completions reaped per getevents (fio iodepth_batch_complete_min; 1 by default). */
  readonly iodepthBatchCompleteMin: number;
  /** Most completions reaped per getevents (fio iodepth_batch_complete_max; iodepth by default). */
  readonly iodepthBatchCompleteMax: number;
  /** Once the queue is full, let it drain to this depth before queueing more (fio iodepth_low; = iodepth). */
  readonly iodepthLow: number;
  readonly ioengine: IoEngine;
  /** O_DIRECT */
  readonly direct: boolean;
  /** O_SYNC / O_DSYNC on the files (fio sync=). */
  readonly sync: SyncMode;
  readonly numjobs: number;
  /** Stop the job after this long (0: no limit). */
  readonly runtimeNs: number;
  /** Keep going over the region until runtime or the end of the run (fio time_based). */
  readonly timeBased: boolean;
  /** Run this long before statistics count (fio ramp_time). */
  readonly rampTimeNs: number;
  /** fsync the file after every N writes (0: never). */
  readonly fsync: number;
  /** fdatasync the file after every N writes (0: never). */
  readonly fdatasync: number;
  /** fsync each file when the job's writes are done (fio end_fsync). */
  readonly endFsync: boolean;
  /**
   * rw=read:8k / rw=read:-8k: bytes added to the sequential offset after each I/O (fio's
   * ddir_seq_add: holes, or reading backwards when negative); 0 for none.
   */
  readonly seqAddBytes: number;
  /** rw=randread:8: I/Os issued sequentially from each random offset (fio's ddir_seq_nr; 1 by default). */
  readonly randomRunIos: number;
  /** Percentage of reads in a mixed workload (fio rwmixread). */
  readonly rwmixread: number;
  /** User-space time between I/Os (fio thinktime, stored in ns). */
  readonly thinktimeNs: number;
  /** Think only after this many I/Os (fio thinktime_blocks; 1 by default). */
  readonly thinktimeBlocks: number;
  /** Of each thinktime, how much fio spends spinning on the CPU (in user space) before it sleeps the rest (fio thinktime_spin). */
  readonly thinktimeSpinNs: number;
  /** Delay before the job starts (fio startdelay, in ns). */
  readonly startdelayNs: number;
  /** The cgroup the job's processes run in (fio cgroup=; "" is the root). */
  readonly cgroup: string;
  /** ioengine=lsm: the store's options (absent: RocksDB's defaults). */
  readonly lsm?: LsmSpec;
  /** Random offsets may repeat before every block was touched once (fio norandommap). */
  readonly norandommap: boolean;
  /** The same random sequence every run (fio randrepeat, default true). */
  readonly randrepeat: boolean;
  readonly randomDistribution: RandomDistribution;
  /** Bandwidth caps in bytes per second (fio rate=). */
  readonly rateBytesPerSec: PerDirection;
  /** IOPS caps (fio rate_iops=). */
  readonly rateIops: PerDirection;
  /** Least bandwidth per ratecycle, in bytes per second; below it the job ends with EIO (fio rate_min). */
  readonly rateMinBytesPerSec: PerDirection;
  /** Least IOPS per ratecycle (fio rate_iops_min). */
  readonly rateMinIops: PerDirection;
  /** The window rate_min and rate_iops_min are averaged over (fio ratecycle, 1 s by default). */
  readonly rateCycleNs: number;
  /** Weight in token-based flow control among jobs of the same flowId; 0 = not in a flow (fio flow=). */
  readonly flow: number;
  /** Which flow the job's weight counts in (fio flow_id=, 0 by default). */
  readonly flowId: number;
  /** After its share is exceeded: drain, then sleep this long before trying again; 0 = spin (fio flow_sleep=, in us). */
  readonly flowSleepNs: number;
  /**
   * fio latency_target: search for the deepest queue whose completions stay under this (0 = off);
   * latency_window is how long each depth is tried, latency_percentile the share of I/Os that must
   * meet it, latency_run keeps adjusting instead of ending the job once the depth is found.
   */
  readonly latencyTargetNs: number;
  readonly latencyWindowNs: number;
  readonly latencyPercentile: number;
  readonly latencyRun: boolean;
  /** linear: evenly spaced issues; poisson: exponential gaps (open-loop arrivals). */
  readonly rateProcess: 'linear' | 'poisson';
  readonly fallocate: FallocateMode;
  /** Create/open each file only when the job first does I/O to it (fio create_on_open). */
  readonly createOnOpen: boolean;
  /** Write the whole file before the job starts, so writes overwrite (fio overwrite). */
  readonly overwrite: boolean;
  readonly fileServiceType: FileServiceType;
  /** posix_fadvise at open (fio fadvise_hint, 1 by default). */
  readonly fadviseHint: FadviseHint;
  /**
   * fio ioscheduler: before the job runs, this name is written to /sys/block/<disk>/queue/scheduler
   * of the disk holding the job's first file (fio's switch_ioscheduler); absent: left as it is.
   */
  readonly ioscheduler?: { readonly disk: string; readonly scheduler: SchedulerName };
  /**
   * fio write_hint: the data lifetime fio sets on each file with fcntl(F_SET_RW_HINT) when it opens
   * it (the inode's i_write_hint, carried by every bio written to it); absent: no fcntl.
   */
  readonly writeHint?: WriteHintName;
  /** io_uring: IORING_SETUP_SQPOLL (fio sqthread_poll). */
  readonly sqthreadPoll: boolean;
  /** io_uring: IORING_REGISTER_BUFFERS and READ_FIXED/WRITE_FIXED (fio fixedbufs). */
  readonly fixedbufs: boolean;
  /** io_uring: IORING_REGISTER_FILES (fio registerfiles). */
  readonly registerfiles: boolean;
  /** io_uring: IORING_SETUP_IOPOLL, polled completions (fio hipri). */
  readonly hipri: boolean;
  /** Reporting group: jobs with the same id are summed in one "Run status group" (fio groupid). */
  readonly groupId: number;
  /** Wait for every job before this one in the file to exit first (fio stonewall). */
  readonly stonewall: boolean;
  /** When this job finishes, end others (fio exitall): which ones, exitWhat says. */
  readonly exitall: boolean;
  /** fio's exit_what: the jobs of this job's reporting group, of its stonewall phase, or all. */
  readonly exitWhat: 'group' | 'stonewall' | 'all';
  /** Start only when the named job has exited (fio wait_for); '' for none. */
  readonly waitFor: string;
  /** Report the group's jobs as one (fio group_reporting). */
  readonly groupReporting: boolean;
  /** Percentiles the report lists (fio percentile_list). */
  readonly percentileList: readonly number[];
  readonly unifiedRwReporting: UnifiedRwReporting;
}

/** fio's defaults for every option a job does not set (the ones with no default are required). */
export const JOB_DEFAULTS = {
  rw: 'read',
  bs: 4096,
  cloneFiles: [],
  blockAlignBytes: 0,
  offsetBytes: 0,
  offsetIncrementBytes: 0,
  loops: 1,
  numberIos: 0,
  iodepth: 1,
  iodepthBatchSubmit: 1,
  iodepthBatchCompleteMin: 1,
  ioengine: 'psync',
  direct: false,
  sync: 'none',
  numjobs: 1,
  runtimeNs: 0,
  timeBased: false,
  rampTimeNs: 0,
  fsync: 0,
  fdatasync: 0,
  endFsync: false,
  rwmixread: 50,
  seqAddBytes: 0,
  randomRunIos: 1,
  thinktimeNs: 0,
  thinktimeBlocks: 1,
  thinktimeSpinNs: 0,
  startdelayNs: 0,
  cgroup: '',
  norandommap: false,
  randrepeat: true,
  randomDistribution: { kind: 'random' },
  rateBytesPerSec: { read: 0, write: 0 },
  rateIops: { read: 0, write: 0 },
  rateProcess: 'linear',
  rateMinBytesPerSec: { read: 0, write: 0 },
  rateMinIops: { read: 0, write: 0 },
  rateCycleNs: 1_000_000_000,
  flow: 0,
  flowId: 0,
  flowSleepNs: 0,
  latencyTargetNs: 0,
  latencyWindowNs: 0,
  latencyPercentile: 100,
  latencyRun: false,
  fallocate: 'native',
  createOnOpen: false,
  overwrite: false,
  fileServiceType: 'roundrobin',
  fadviseHint: 'type',
  sqthreadPoll: false,
  fixedbufs: false,
  registerfiles: false,
  hipri: false,
  groupId: 0,
  stonewall: false,
  exitall: false,
  exitWhat: 'group',
  waitFor: '',
  groupReporting: false,
  percentileList: [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99],
  unifiedRwReporting: 'none',
} as const satisfies Partial<JobSpec>;

/**
 * A job from the options that have no default (name, where, how much) plus any others: fio's
 * defaults fill the rest, and the options that default from others (files from filename,
 * iodepth_batch_complete_max and iodepth_low from iodepth) follow them.
 */
export function completeJob(over: Partial<JobSpec> & Pick<JobSpec, 'name' | 'filename'>): JobSpec {
  const iodepth = over.iodepth ?? JOB_DEFAULTS.iodepth;
  const files = over.files ?? [over.filename];
  const size = over.size ?? 1024 * 1024;
  return {
    ...JOB_DEFAULTS,
    size,
    fileSizeBytes: Math.floor(size / files.length),
    iodepthBatchCompleteMax: iodepth,
    iodepthLow: iodepth,
    ...over,
    files,
  } satisfies JobSpec;
}

/** fio's write_hint values, RWH_WRITE_LIFE_NONE .. RWH_WRITE_LIFE_EXTREME. */
export type WriteHintName = 'none' | 'short' | 'medium' | 'long' | 'extreme';

export type DeviceKind = 'nvme' | 'hdd';
export type SchedulerName = 'none' | 'mq-deadline' | 'bfq' | 'kyber';

export interface DeviceSpec {
  /** Kernel name: nvme0n1, sda, ... */
  readonly name: string;
  readonly kind: DeviceKind;
  readonly capacityBytes: number;
  readonly scheduler: SchedulerName;
  /** Where its ext4-like filesystem is mounted ('' for no filesystem). */
  readonly mount: string;
  /** /sys/block/<dev>/queue/read_ahead_kb (the bdi's ra_pages in KiB); absent: Linux's 128. */
  readonly readAheadKb?: number;
  /** The filesystem's mount options (absent: ext4's defaults, DEFAULT_MOUNT_OPTIONS). */
  readonly mountOptions?: MountOptions;
  /** Injected media faults (absent: a healthy device). */
  readonly faults?: readonly FaultSpec[];
  /** An NVMe SSD's geometry and FTL policy (absent fields: a Samsung 970 PRO-like drive's). */
  readonly ssd?: SsdSpec;
  /** power/autosuspend_delay_ms of a disk (absent: -1, never, as blk_pm_runtime_init sets it). */
  readonly autosuspendDelayMs?: number;
  /** power/control: "auto" (runtime PM allowed, the default for disks) or "on". */
  readonly powerControl?: 'auto' | 'on';
  /** power/pm_qos_latency_tolerance_us of an NVMe controller: APST's exit-latency bound (absent: machine.power's). */
  readonly psMaxLatencyUs?: number;
  /** A disk's /sys/block/<dev>/device/queue_depth: NCQ tags, 1..32 (1: no NCQ); absent: 32. */
  readonly queueDepth?: number;
  /** A disk's scsi_disk cache_type: "write back" (the drive's volatile cache on, the default) or
   *  "write through" (hdparm -W0: a write completes once it is on the platter). */
  readonly cacheType?: 'write back' | 'write through';
}

/** What a scenario may set of an SSD's insides (core/hw/nvme/); every field optional. */
export interface SsdSpec {
  /** Spare flash over the capacity, (physical - logical) / logical, in percent. */
  readonly overProvisioningPercent?: number;
  /** NAND flash page (the unit of tR and tPROG), a power-of-two multiple of 4 KiB. */
  readonly pageSizeBytes?: number;
  /** Erase block, a multiple of the page size. */
  readonly blockSizeBytes?: number;
  /** NAND channels and dies in all (dies a multiple of channels). */
  readonly channels?: number;
  readonly dies?: number;
  readonly gcPolicy?: 'greedy' | 'cost-benefit';
  /** Host writes of different streams go to different open blocks. */
  readonly multiStream?: boolean;
  /** The drive's state at boot: full in order ('sequential', the default) or in random-overwrite steady state. */
  readonly precondition?: 'sequential' | 'random';
  /** Identify Controller CRDT1-3, the Command Retry Delay Times in 100 ms units (absent: the 970 PRO's 0, 0, 0). */
  readonly crdt?: readonly [number, number, number];
  /** Set Features 08h, Interrupt Coalescing (absent: off, its reset value, which Linux keeps). */
  readonly irqCoalescing?: IrqCoalescingSpec;
}

/** NVMe interrupt coalescing as a scenario gives it: either field 0 turns it off. */
export interface IrqCoalescingSpec {
  /** Aggregation time: the longest an interrupt waits after the first unsignalled completion, a multiple of 100 µs. */
  readonly timeUs: number;
  /** Aggregation threshold: completions per interrupt, 1..256 (the spec's THR + 1). */
  readonly threshold: number;
}

/** ext4's data= journalling mode (Documentation/admin-guide/ext4.rst). */
export type DataMode = 'ordered' | 'writeback' | 'journal';

/** The ext4 mount options kiotrace models (mount -o data=journal,commit=5,barrier=1). */
export interface MountOptions {
  readonly data: DataMode;
  /** commit=: the longest a transaction runs before kjournald2 commits it, in seconds. */
  readonly commitSec: number;
  /** barrier= (nobarrier): journal commits flush the device cache and write the commit block FUA. */
  readonly barrier: boolean;
}

/** ext4's defaults: data=ordered, commit=5 (JBD2_DEFAULT_MAX_COMMIT_AGE), barrier=1. */
export const DEFAULT_MOUNT_OPTIONS: MountOptions = { data: 'ordered', commitSec: 5, barrier: true };

export interface MachineSpec {
  readonly cpus: number;
  readonly memoryBytes: number;
  readonly devices: readonly DeviceSpec[];
  /** Memory-management knobs (absent: Linux's defaults). */
  readonly vm?: VmSpec;
  /** Memory cgroups (cgroup v2, children of the root) that jobs can name with fio's cgroup=. */
  readonly cgroups?: readonly CgroupSpec[];
  /** Line printers (/dev/lp0, ...), each with its spool queue and daemon. */
  readonly printers?: readonly PrinterSpec[];
  /** The preemption model, as the preempt= boot parameter names it (absent: voluntary). */
  readonly preempt?: PreemptModelName;
  /** chrt -f: tasks (jobs and kernel threads) whose comm matches run SCHED_FIFO at that priority. */
  readonly schedFifo?: readonly SchedFifoSpec[];
  /** Power management (absent: Linux's defaults, see PowerSpec). */
  readonly power?: PowerSpec;
  /** Ethernet NICs (absent or empty: the machine has no network device). */
  readonly nics?: readonly NicSpec[];
  /** Network filesystems to mount (mount -t nfs), once the host serving them is up. */
  readonly mounts?: readonly NetworkMountSpec[];
  /** The NFS server this machine runs (rpc.nfsd with one export), if any. */
  readonly nfsd?: NfsdSpec;
}

/** ethtool -C: interrupt moderation (absent fields: the driver's defaults). */
export interface NicCoalesceSpec {
  readonly rxUsecs?: number;
  readonly rxFrames?: number;
  readonly txUsecs?: number;
  readonly txFrames?: number;
  readonly adaptiveRx?: boolean;
}

/** An Ethernet NIC: its interface name, IPv4 address, and the hardware's knobs (absent: a 10 GbE ConnectX-4 Lx-like NIC). */
export interface NicSpec {
  readonly name: string;
  /** IPv4 address (host order) and prefix length. */
  readonly addr: number;
  readonly prefixLen: number;
  /** Link speed in bits/s (absent: the network's bandwidth). */
  readonly bitsPerSec?: number;
  /** Queue pairs (absent: one per CPU, as drivers default to). */
  readonly queues?: number;
  /** Buffers per packet the device takes (its scatter-gather limit; absent: 17). */
  readonly maxFrags?: number;
  /** ip link set mtu: the largest IP packet a frame carries (absent: ETH_DATA_LEN, 1500). */
  readonly mtu?: number;
  readonly tso?: boolean;
  /** ethtool -K gro (absent: on, Linux's default). */
  readonly gro?: boolean;
  readonly txRingSize?: number;
  readonly rxRingSize?: number;
  readonly coalesce?: NicCoalesceSpec;
}

/** The network every host's NICs plug into: one switch, its link speed and one-way latency. */
export interface NetworkSpec {
  readonly bitsPerSec: number;
  readonly propagationNs: number;
}

/** Another machine on the network (its own kernel, CPUs, memory, devices and NICs). */
export interface HostSpec {
  readonly name: string;
  readonly machine: MachineSpec;
}

/** rpc.nfsd: the exported directory (on one of the machine's filesystems) and the thread count. */
export interface NfsdSpec {
  readonly export: string;
  readonly threads: number;
}

/** One network mount: mount -t nfs -o <options> <source> <target>. */
export interface NetworkMountSpec {
  readonly type: 'nfs';
  /** "host:/export" */
  readonly source: string;
  readonly target: string;
  /** The -o text as given, and what it means (parsed with nfs(5)'s defaults). */
  readonly optionsText: string;
  readonly options: NfsMountOptions;
}

/** A printer on a serial line: /dev/<name>, bytes/s = baud / 10 (8N1). */
export interface PrinterSpec {
  readonly name: string;
  readonly baud: number;
}

export type PreemptModelName = 'none' | 'voluntary' | 'full';

/** One chrt -f rule: a comm, exact or a prefix ending in "*" (like "jbd2/*"), and its rt_priority 1..99. */
export interface SchedFifoSpec {
  readonly comm: string;
  readonly rtPriority: number;
}

/** Machine-wide power management settings. */
export interface PowerSpec {
  /** /sys/power/autosleep: "off" (Linux's default) or "freeze" (s2idle whenever nothing holds a wakeup source). */
  readonly autosleep: 'off' | 'freeze';
  /**
   * The cpuidle governor: "menu" models C-states; "off" keeps one C1-like idle exit for every wakeup
   * (SIMPLIFICATION: kiotrace's default, so runs without it keep their timing).
   */
  readonly cpuidle: 'menu' | 'off';
  /** nvme_core.default_ps_max_latency_us: 100000; 0 turns APST off. */
  readonly defaultPsMaxLatencyUs: number;
  /** Jobs whose processes hold a wake lock (named after the job) from their start to their exit. */
  readonly wakeLockJobs: readonly string[];
  /** CPU frequency scaling (absent: the performance governor, every CPU at f_max). */
  readonly cpufreq?: CpufreqSpec;
}

/** machine.power.cpufreq: scaling_governor, the CPUs' frequency range (cpuinfo_min/max_freq) and schedutil's rate_limit_us. */
export interface CpufreqSpec {
  readonly governor: 'performance' | 'powersave' | 'schedutil';
  readonly minMhz: number;
  readonly maxMhz: number;
  readonly rateLimitUs: number;
}

export const DEFAULT_POWER: PowerSpec = { autosleep: 'off', cpuidle: 'off', defaultPsMaxLatencyUs: 100_000, wakeLockJobs: [] };

/** A cgroup v2 group's memory controller settings, in bytes (absent: 0 for min/low, "max" for high/max), its io.max, io.weight and io.latency. */
export interface CgroupSpec {
  readonly name: string;
  readonly memoryMinBytes?: number;
  readonly memoryLowBytes?: number;
  readonly memoryHighBytes?: number;
  readonly memoryMaxBytes?: number;
  /** io.max lines: per device, bytes and I/Os per second per direction (absent or Infinity: "max"). */
  readonly ioMax?: readonly IoMaxSpec[];
  /** io.weight (1..10000, absent: 100): the group's share of a device under bfq. */
  readonly ioWeight?: number;
  /** io.latency lines: per device, the group's latency target (blk-iolatency). */
  readonly ioLatency?: readonly IoLatencySpec[];
}

/** One io.latency line ("MAJ:MIN target=<usec>"), for a device named by the machine. */
export interface IoLatencySpec {
  readonly device: string;
  readonly targetUs: number;
}

/** One io.max line ("MAJ:MIN rbps= wbps= riops= wiops="), for a device named by the machine. */
export interface IoMaxSpec {
  readonly device: string;
  readonly rbps: number;
  readonly wbps: number;
  readonly riops: number;
  readonly wiops: number;
}

/** The machine's /proc/sys/vm sysctls (Documentation/admin-guide/sysctl/vm.rst) and its page replacement policy. */
export interface VmSpec {
  /** Percent of dirtyable memory; 0 when dirtyBytes is set (writing one zeroes the other). */
  readonly dirtyRatio: number;
  readonly dirtyBackgroundRatio: number;
  /** Bytes; 0 means "use the ratio". */
  readonly dirtyBytes: number;
  readonly dirtyBackgroundBytes: number;
  /** Age at which the flusher writes dirty data out (centiseconds). */
  readonly dirtyExpireCentisecs: number;
  /** The flusher's periodic wakeup (centiseconds); 0 turns periodic writeback off. */
  readonly dirtyWritebackCentisecs: number;
  /** vm.min_free_kbytes (absent: computed from memory size, as Linux does). */
  readonly minFreeKbytes?: number;
  /** vm.watermark_scale_factor, in 1/10000 of memory (absent: 10). */
  readonly watermarkScaleFactor?: number;
  /** The LRU policy by name (core/mm/vmscan.ts LRU_POLICIES; absent: the two-list LRU). */
  readonly lru?: string;
}

/** Linux's defaults: dirty_ratio 20, dirty_background_ratio 10, expire 30 s, wakeup every 5 s. */
export const DEFAULT_VM: VmSpec = {
  dirtyRatio: 20,
  dirtyBackgroundRatio: 10,
  dirtyBytes: 0,
  dirtyBackgroundBytes: 0,
  dirtyExpireCentisecs: 3000,
  dirtyWritebackCentisecs: 500,
};

export interface Scenario {
  readonly name: string;
  readonly description: string;
  readonly machine: MachineSpec;
  /** Default run length when --duration is not given. */
  readonly durationNs: number;
  readonly jobs: readonly JobSpec[];
  /** How many of the run's first data I/Os `kiotrace run` shows step by step (absent or 0: none). */
  readonly steps?: number;
  /** The run ends when every job has exited, as fio's does (job files); else it runs for durationNs. */
  readonly endsWithJobs?: boolean;
  /** A simulated crash at this time ends the run (scenario "crash_at", kiotrace run --crash-at). */
  readonly crashAtNs?: number;
  /** What a shell does on the machine at given times (scenario "events"), in time order. */
  readonly events?: readonly ScenarioEvent[];
  /** Remote hosts on the network (scenario "hosts"); scripts see only the main machine. */
  readonly hosts?: readonly HostSpec[];
  /** The network (scenario "network"; absent: 10 GbE, 1 us one way). */
  readonly network?: NetworkSpec;
}

/**
 * A scenario event: at `atNs` a shell on the machine writes `value` to a sysfs or procfs file
 * (`echo value > path`), or runs a command line (`argv`).
 */
export type ScenarioEvent = (
  | { readonly kind: 'write'; readonly atNs: number; readonly path: string; readonly value: string }
  | { readonly kind: 'run'; readonly atNs: number; readonly argv: readonly string[] }
) & {
  /** The remote host it runs on (a "hosts" entry's name); absent: the machine itself. */
  readonly host?: string;
};

export const DEFAULT_MACHINE: MachineSpec = {
  cpus: 4,
  memoryBytes: 4 * 1024 ** 3,
  devices: [
    { name: 'nvme0n1', kind: 'nvme', capacityBytes: 512 * 1024 ** 3, scheduler: 'none', mount: '/mnt/nvme' },
    { name: 'sda', kind: 'hdd', capacityBytes: 1024 ** 4, scheduler: 'mq-deadline', mount: '/mnt/hdd' },
  ],
};
