// Models: init/main.c (start_kernel -> rest_init): build the machine: CPUs with their idle tasks,
// memory, block devices with drivers and elevators, filesystems mounted on them with their
// flusher threads, and init (pid 1) which forks the workload's processes.

import { Environment } from '../sim/engine.js';
import { Random } from '../sim/random.js';
import { ProbeRegistry } from '../trace/probe.js';
import { createProbeSites } from '../trace/events.js';
import { Kernel, mkdev } from '../kernel/kernel.js';
import { Scheduler } from '../kernel/sched/core.js';
import { Task, DEFAULT_PRIO, type TaskBody } from '../kernel/sched/task.js';
import { MemoryManager } from '../mm/page_alloc.js';
import { MmStruct } from '../mm/mm_types.js';
import { Writeback } from '../mm/page-writeback.js';
import { Vfs } from '../fs/namei.js';
import { FdTable } from '../fs/types.js';
import { Ext4Fs, ext4FreeBlocks } from '../fs/ext4/super.js';
import { ext4FileOperations } from '../fs/ext4/file.js';
import { BdevInode, blkdevFileOperations } from '../fs/block_dev.js';
import { RequestQueue } from '../block/blk-mq.js';
import { createMqDeadline } from '../block/mq-deadline.js';
import { NvmePciDriver } from '../drivers/nvme/host/pci.js';
import { AhciDriver } from '../drivers/ata/ahci.js';
import { NvmeSsd, DEFAULT_NVME_CONFIG, nvmeCapacitySectors, type NvmeSsdConfig } from '../hw/nvme-ssd.js';
import { Hdd, DEFAULT_HDD_CONFIG, HddGeometry, type HddConfig } from '../hw/hdd.js';
import type { BlockSizeSpec, DeviceSpec, JobSpec, MachineSpec } from '../userspace/job.js';
import { fioJob, JobStats } from '../userspace/fio.js';
import type { BlockDeviceHw } from '../hw/device.js';
import { LatencyHistogram } from '../userspace/stats.js';
import type { DeviceReport, DirectionReport, JobReport, KernelCounters, LatencySummary, RunReport, SampleSummary } from '../userspace/report.js';

/** BLK_DEF_MAX_SECTORS_CAP: 1280 KiB requests; BLK_MAX_SEGMENTS: 128. */
const DEFAULT_LIMITS = { maxSectors: 2560, maxSegments: 128, logicalBlockSizeBytes: 512 } as const;
const NVME_MAJOR = 259;
const SD_MAJOR = 8;

export interface RunningJob {
  readonly spec: JobSpec;
  readonly jobIndex: number;
  readonly task: Task;
  readonly stats: JobStats;
}

export interface BlockDevice {
  readonly name: string;
  readonly q: RequestQueue;
  readonly hw: BlockDeviceHw;
  readonly scheduler: string;
  readonly fs: Ext4Fs | undefined;
}

/** Instantaneous machine-wide gauges, as /proc/meminfo and /proc/sched_debug would show them. */
export interface MachineGauges {
  readonly dirtyPages: number;
  readonly writebackPages: number;
  /** File pages in the page cache (Cached in /proc/meminfo). */
  readonly pageCachePages: number;
  readonly freePages: number;
  /** Tasks on each CPU's runqueue, the running one included (rq->nr_running). */
  readonly runQueueLengths: readonly number[];
}

/** A task as a trace's process tree names it. */
export interface TaskInfo {
  readonly pid: number;
  readonly tgid: number;
  readonly ppid: number;
  readonly comm: string;
  readonly kthread: boolean;
}

export class Machine {
  readonly jobs: RunningJob[] = [];
  readonly devices: BlockDevice[] = [];
  init!: Task;

  constructor(
    readonly k: Kernel,
    readonly spec: MachineSpec,
  ) {}

  get env(): Environment {
    return this.k.env;
  }

  /** kernel_clone + wake_up_new_task: a new process (or kernel thread) running `body`. */
  spawn(comm: string, kthread: boolean, makeBody: (t: Task) => TaskBody, parent?: Task): Task {
    const k = this.k;
    const pid = k.nextPid++;
    const t = new Task(
      k.kaddr(),
      pid,
      pid,
      comm,
      DEFAULT_PRIO,
      kthread,
      kthread ? undefined : new MmStruct(k.kaddr()),
      kthread ? undefined : new FdTable(),
      parent?.cpu ?? 0,
      (task) => k.sched.wakeFromContext(task),
    );
    t.realParent = parent;
    k.tasks.push(t);
    const cpu = k.sched.cpu(parent?.cpu ?? 0);
    if (parent && k.tp.sched_process_fork.enabled) k.tp.sched_process_fork.emit(cpu, 0, parent, t);
    k.sched.wakeUpNewTask(t, makeBody(t), cpu);
    return t;
  }

  /** Starts fio-like jobs (numjobs clones each), forked from init at time now. */
  startJobs(jobs: readonly JobSpec[], stopAtNs: number): void {
    const k = this.k;
    for (const spec of jobs) {
      for (let i = 0; i < spec.numjobs; i++) {
        const stats = new JobStats();
        const rng = k.rng.fork();
        const task = this.spawn(
          spec.name.slice(0, 15),
          false,
          (t) => fioJob(k, t, spec, stats, rng, stopAtNs),
          this.init,
        );
        this.jobs.push({ spec, jobIndex: i, task, stats });
      }
    }
  }

  /** The disk behind a device number, for BTF readers (request->q->disk, bio->bi_bdev). */
  diskOf(dev: number): { readonly name: string; readonly dev: number; readonly kaddr: number } | undefined {
    const d = this.devices.find((x) => x.q.dev === dev);
    return d ? { name: d.name, dev, kaddr: d.q.hctxs[0]?.kaddr ?? 0 } : undefined;
  }

  /** Gauges read now; cheap enough to sample often (counters kept by the kernel, no walks). */
  gauges(): MachineGauges {
    const mm = this.k.mm;
    return {
      dirtyPages: mm.nrDirty,
      writebackPages: mm.nrWriteback,
      pageCachePages: mm.nrFilePages,
      freePages: mm.freePages,
      runQueueLengths: this.k.sched.cpus.map((c) => c.rq.length + (c.current === c.idle ? 0 : 1)),
    };
  }

  /** Every task that exists now, idle tasks excluded, in pid order. */
  tasks(): TaskInfo[] {
    return this.k.tasks
      .filter((t) => t.pid !== 0)
      .map((t) => ({ pid: t.pid, tgid: t.tgid, ppid: t.realParent?.tgid ?? 0, comm: t.comm, kthread: t.kthread }))
      .sort((a, b) => a.pid - b.pid);
  }

  /** Runs the simulation until `untilNs`, or for at most `maxEvents` callbacks (Environment.run). */
  run(untilNs: number, maxEvents = Infinity): number {
    return this.k.env.run(untilNs, maxEvents);
  }

  report(scenario: string, seed: number): RunReport {
    const k = this.k;
    const durationNs = k.env.nowNs;
    const jobs: JobReport[] = this.jobs.map((j) => jobReport(j, durationNs));
    let irqs = 0;
    let softirqs = 0;
    for (const c of k.sched.cpus) {
      irqs += c.irqCount;
      softirqs += c.softirqCount;
    }
    const counters: KernelCounters = {
      pageCacheHits: k.stat.pgcacheHit,
      pageCacheMisses: k.stat.pgcacheMiss,
      readaheadPages: k.stat.readaheadPages,
      minorFaults: k.stat.pgfault - k.stat.pgmajfault,
      majorFaults: k.stat.pgmajfault,
      contextSwitches: k.sched.stats.contextSwitches,
      irqs,
      softirqs,
      bioBackMerges: k.stat.bioBackMerges,
      bioFrontMerges: k.stat.bioFrontMerges,
      requestMerges: k.stat.requestMerges,
      pagesDirtied: k.stat.pgdirtied,
      pagesWrittenBack: k.stat.pgwriteback,
      syscalls: k.stat.syscalls,
    };
    const devices: DeviceReport[] = this.devices.map((d) => ({
      name: d.name,
      scheduler: d.scheduler,
      readIos: d.q.stats.readIos,
      writeIos: d.q.stats.writeIos,
      readBytes: d.q.stats.readBytes,
      writeBytes: d.q.stats.writeBytes,
      // SIMPLIFICATION: merges, ticks and in_queue are not yet counted per queue
      readMerges: 0,
      writeMerges: 0,
      readTicksNs: 0,
      writeTicksNs: 0,
      inQueueNs: 0,
      busyNs: d.q.busyTimeNs(),
      hw: d.hw.counters(),
    }));
    return { scenario, seed, durationNs, eventsRun: k.env.eventsRun, jobs, counters, devices };
  }
}

/** min/max/mean/stdev and the job's percentiles of a latency histogram. */
export function summarizeLatency(h: LatencyHistogram, percentileList: readonly number[]): LatencySummary {
  return {
    count: h.count,
    minNs: h.count ? h.minNs : 0,
    maxNs: h.maxNs,
    meanNs: Math.round(h.meanNs),
    stdevNs: h.stdevNs,
    p50Ns: h.percentileNs(50),
    p99Ns: h.percentileNs(99),
    p999Ns: h.percentileNs(99.9),
    percentiles: percentileList.map((percent) => ({ percent, ns: h.percentileNs(percent) })),
  };
}

const NO_SAMPLES: SampleSummary = { min: 0, max: 0, mean: 0, stdev: 0, samples: 0 };

function jobReport(j: RunningJob, durationNs: number): JobReport {
  const s = j.stats;
  const spec = j.spec;
  const endNs = s.endNs >= 0 ? s.endNs : durationNs;
  const runtimeNs = Math.max(0, endNs - Math.max(0, s.startNs));
  const perSec = (n: number) => (runtimeNs > 0 ? (n * 1e9) / runtimeNs : 0);
  const direction = (h: LatencyHistogram, bytes: number): DirectionReport => {
    const clat = summarizeLatency(h, spec.percentileList);
    return {
      ios: h.count,
      bytes,
      iops: perSec(h.count),
      bandwidthBytesPerSec: perSec(bytes),
      shortIos: 0,
      droppedIos: 0,
      // a synchronous engine's I/O is submitted and completed in one call: no slat, lat = clat
      slat: summarizeLatency(new LatencyHistogram(), []),
      clat,
      lat: { ...clat, percentiles: [] },
      bwSamples: NO_SAMPLES,
      iopsSamples: NO_SAMPLES,
    };
  };
  const sizes = (b: BlockSizeSpec | undefined): readonly [number, number] => (b ? [b.minBytes, b.maxBytes] : [spec.bs, spec.bs]);
  return {
    name: spec.name,
    jobIndex: j.jobIndex,
    jobs: 1,
    groupId: spec.groupId,
    pid: j.task.pid,
    filename: spec.filename,
    rw: spec.rw,
    ioengine: spec.ioengine,
    iodepth: spec.iodepth,
    direct: spec.direct,
    bs: spec.bs,
    blockSizes: { read: sizes(spec.blockSizes?.read), write: sizes(spec.blockSizes?.write) },
    runtimeNs,
    read: direction(s.read, s.readBytes),
    write: direction(s.write, s.writeBytes),
    fsyncs: s.fsync.count,
    fsyncLat: summarizeLatency(s.fsync, spec.percentileList),
    errors: s.errors,
    firstErrno: s.firstErrno,
    cpu: { userNs: 0, systemNs: j.task.sumExecRuntimeNs, contextSwitches: j.task.nvcsw + j.task.nivcsw, majorFaults: 0, minorFaults: 0 },
    depths: { depth: [0, 0, 0, 0, 0, 0, 0], submit: [0, 0, 0, 0, 0, 0, 0], complete: [0, 0, 0, 0, 0, 0, 0] },
    latencyBuckets: { nsec: new Array<number>(10).fill(0), usec: new Array<number>(10).fill(0), msec: new Array<number>(12).fill(0) },
    unifiedRwReporting: spec.unifiedRwReporting,
  };
}

/**
 * The NVMe SSD for a capacity: the default geometry with as many erase blocks per die as the
 * capacity needs (plus over-provisioning and GC's reserve), so it holds at least `capacityBytes`.
 */
function nvmeConfigFor(capacityBytes: number, cpus: number): NvmeSsdConfig {
  const c = DEFAULT_NVME_CONFIG;
  const blockBytes = c.pagesPerBlock * 4096;
  const dies = c.channels * c.diesPerChannel;
  const logicalBlocksPerDie = Math.max(1, Math.ceil(capacityBytes / (blockBytes * dies)));
  const blocksPerDie = Math.ceil(logicalBlocksPerDie / (1 - c.overProvisioning)) + c.gcReserveBlocks + 3;
  // nvme_setup_io_queues: one queue pair per CPU, up to what the controller offers (CPUs share beyond)
  return { ...c, queueCount: Math.min(cpus, c.maxIoQueuePairs), blocksPerDie };
}

/** The disk for a capacity: the default drive with as many heads (platter sides) as it needs. */
function hddConfigFor(capacityBytes: number): HddConfig {
  const c = DEFAULT_HDD_CONFIG;
  const avgSectorsPerTrack = (c.outerSectorsPerTrack + c.innerSectorsPerTrack) / 2;
  const bytesPerHead = c.zones * c.cylindersPerZone * avgSectorsPerTrack * 512;
  return { ...c, heads: Math.max(1, Math.ceil(capacityBytes / bytesPerHead)) };
}

/**
 * The capacity the device built for `spec` reports: at least what was asked (an SSD rounds up to
 * whole erase blocks on every die, a disk to whole platter sides).
 */
export function deviceCapacityBytes(spec: DeviceSpec): number {
  if (spec.kind === 'nvme') return nvmeCapacitySectors(nvmeConfigFor(spec.capacityBytes, 1)) * 512;
  return new HddGeometry(hddConfigFor(spec.capacityBytes)).capacitySectors * 512;
}

/** Blocks the files of a scenario may take on the filesystem mkfs puts on the device built for `spec`. */
export function filesystemFreeBlocks(spec: DeviceSpec): number {
  return ext4FreeBlocks(deviceCapacityBytes(spec));
}

/** Builds a machine from its spec. Same spec and seed: the same machine, event for event. */
export function bootMachine(spec: MachineSpec, seed: number): Machine {
  const env = new Environment();
  const rng = new Random(seed);
  const registry = new ProbeRegistry();
  const sites = createProbeSites(registry);
  const k = new Kernel(env, rng, registry, sites, seed);
  const m = new Machine(k, spec);
  k.sched = new Scheduler(env, sites, spec.cpus, (cpu) => {
    const idle = new Task(k.kaddr(), 0, 0, `swapper/${cpu}`, DEFAULT_PRIO, true, undefined, undefined, cpu, () => undefined);
    return idle;
  });
  k.mm = new MemoryManager(k, spec.memoryBytes);
  k.wb = new Writeback(k);
  k.vfs = new Vfs();
  // init (pid 1): the parent of the workload
  m.init = m.spawn('systemd', false, function* () {}, undefined);

  let nvmeIndex = 0;
  let sdIndex = 0;
  for (const d of spec.devices) {
    let dev: number;
    let q: RequestQueue;
    let hw: BlockDeviceHw;
    if (d.kind === 'nvme') {
      dev = mkdev(NVME_MAJOR, nvmeIndex);
      const ssdConfig = nvmeConfigFor(d.capacityBytes, spec.cpus);
      q = new RequestQueue(k, dev, d.name, DEFAULT_LIMITS, false);
      const drv = new NvmePciDriver(k, q, d.name, nvmeIndex);
      hw = new NvmeSsd(drv, ssdConfig, rng.fork());
      drv.attach(hw);
      q.driver = drv;
      q.initHctxs(hw.queueCount, hw.queueDepth);
      nvmeIndex++;
    } else {
      dev = mkdev(SD_MAJOR, sdIndex * 16);
      q = new RequestQueue(k, dev, d.name, DEFAULT_LIMITS, true);
      const drv = new AhciDriver(k, q, 0);
      hw = new Hdd(drv, hddConfigFor(d.capacityBytes));
      drv.attach(hw);
      q.driver = drv;
      // nr_requests = 2 * min(queue depth, BLKDEV_DEFAULT_RQ) with an elevator
      q.initHctxs(1, d.scheduler === 'none' ? hw.queueDepth : 2 * Math.min(hw.queueDepth, 128));
      sdIndex++;
    }
    if (d.scheduler === 'mq-deadline') q.elevator = createMqDeadline(q);
    k.queues.push(q);
    const capacityBytes = hw.capacitySectors * 512;
    k.vfs.devNodes.set(`/dev/${d.name}`, new BdevInode(k.kaddr(), 1000 + k.queues.length, dev, dev, capacityBytes, blkdevFileOperations(k), `/dev/${d.name}`, k.kaddr()));
    let fs: Ext4Fs | undefined;
    if (d.mount) {
      const fsRef: { fs?: Ext4Fs } = {};
      fs = new Ext4Fs(k, dev, d.mount, capacityBytes, ext4FileOperations(k, () => fsRef.fs!), rng.fork());
      fsRef.fs = fs;
      k.vfs.mount(fs);
      k.wb.startFlusher(dev, (comm, body) => m.spawn(comm, true, body, undefined));
    }
    m.devices.push({ name: d.name, q, hw, scheduler: d.scheduler, fs });
  }
  // The root filesystem: a device mounted at / has it; else the first mounted filesystem is also
  // bind-mounted at /, so /tmp/testfile and /root/x work as on any Linux machine.
  // SIMPLIFICATION: a real machine has a root partition of its own; here / shares the first
  // filesystem (a file at /x is the file <first mount>/x).
  const first = m.devices.find((d) => d.fs !== undefined)?.fs;
  if (first && !k.vfs.isMountPoint('/')) k.vfs.bindMount(first, '/');
  return m;
}

/** What fio's layout phase did for one job's files (fio prints "Laying out IO file"). */
export interface LaidOutFiles {
  readonly job: string;
  readonly files: number;
  readonly bytes: number;
  /**
   * prefilled: written before the run (a job reads them, or overwrite=1); preallocated: blocks
   * reserved (fallocate), sparse: only the size set (fallocate=none).
   */
  readonly how: 'prefilled' | 'preallocated' | 'sparse';
}

/**
 * fio's layout phase: create the jobs' files before the run (cold: nothing of them in the page
 * cache). fio writes a file a job will read; kiotrace puts it on the simulated disk at boot instead,
 * costing no simulated time. Raw devices need nothing, and create_on_open leaves it to the job.
 */
export function layoutJobFiles(m: Machine, jobs: readonly JobSpec[]): LaidOutFiles[] {
  const laidOut: LaidOutFiles[] = [];
  for (const j of jobs) {
    if (j.createOnOpen) continue;
    const reads = j.rw !== 'write' && j.rw !== 'randwrite';
    const how: LaidOutFiles['how'] = reads || j.overwrite ? 'prefilled' : j.fallocate === 'none' || j.fallocate === 'truncate' ? 'sparse' : 'preallocated';
    let files = 0;
    let bytes = 0;
    for (const path of j.files) {
      if (path.startsWith('/dev/')) continue;
      const r = m.k.vfs.resolve(path);
      if (!r) throw new Error(`${path}: not on a mounted filesystem`);
      if (r.fs.inodes.has(r.fsPath)) continue; // the first job naming a file creates it
      if (how === 'sparse') {
        r.fs.createSparseFile(r.fsPath, j.fileSizeBytes, path);
      } else {
        const inode = r.fs.createFile(r.fsPath, j.fileSizeBytes, path);
        // fallocate=keep (FALLOC_FL_KEEP_SIZE): blocks reserved past an unchanged size of 0
        if (how === 'preallocated' && j.fallocate === 'keep') inode.sizeBytes = 0;
      }
      files++;
      bytes += j.fileSizeBytes;
    }
    if (files > 0) laidOut.push({ job: j.name, files, bytes, how });
  }
  return laidOut;
}
