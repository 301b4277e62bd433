// Models: one fio job process (backend.c thread_main + do_io, io_u.c get_io_u / fill_io_u /
// io_u_queued_complete, ioengines.c td_io_queue / td_io_commit / td_io_getevents): get an io_u,
// fill its file, direction, offset and length, queue it to the engine, commit when a batch is
// staged or the queue is full, reap with getevents. Offsets come from fio's random map (lib/axmap.c)
// and distributions (lib/zipf.c, lib/gauss.c); rate= and rate_iops= space issues evenly or as a
// Poisson process; the job's statistics follow stat.c. The only code in kiotrace that makes syscalls.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import type { BlockSizeSpec, JobSpec } from './job.js';
import { IntervalTally, LatencyBucketCounts, LatencyHistogram, batchBucket, depthBucket } from './stats.js';
import { FIO_Q, accessAdvice, payUserTime, type EngineContext, type IoDirection, type IoEngineOps, type IoU, type QueueResult } from './engines/engine.js';
import { createEngine } from './engines/index.js';
import { O, RWH_WRITE_LIFE } from '../fs/types.js';
import { F_SET_FILE_RW_HINT, F_SET_RW_HINT, sysFcntl } from '../fs/fcntl.js';
import { sysClose, sysMmap, sysMunmap, sysOpenat, AT_FDCWD } from '../fs/open.js';
import { MAP, PROT } from '../mm/mmap.js';
import { POSIX_FADV, sysFadvise64 } from '../mm/fadvise.js';
import { scheduleTimeout, sysClockNanosleep } from '../kernel/time/timer.js';
import type { FlowMember } from './flow.js';
import { USER_IO_OVERHEAD_NS } from '../hw/cpu.js';
import { Random } from '../sim/random.js';
import { sysExecve } from '../fs/exec.js';
import { sysNewfstatat } from '../fs/stat.js';
import { findAttribute } from '../fs/sysfs.js';
import type { WaitQueue } from '../sim/process.js';
import { SCHED, TaskState } from '../kernel/sched/task.js';
import { EINVAL, EIO, ENOENT, ETIMEDOUT } from '../uapi/errno.js';

const PAGE_BYTES = 4096;

/** One direction's statistics (fio's thread_stat for a ddir). */
export class DirStats {
  /** Completion latency: issue -> completion seen (fio's clat). */
  readonly clat = new LatencyHistogram();
  /** Submission latency: start of the queue call -> issue (fio's slat; async engines only). */
  readonly slat = new LatencyHistogram();
  /** Total latency: start -> completion seen (fio's lat); see `latency`. */
  readonly lat = new LatencyHistogram();
  /** A synchronous engine issues at the start of queue(), so lat = clat and `lat` is not kept. */
  latIsClat = false;
  bytes = 0;
  /** I/Os that moved fewer bytes than asked (fio's short_io_u). */
  shortIos = 0;
  /** I/Os a rate limit gave up on (fio's drop_io_u); kiotrace's rate limiter never drops. */
  droppedIos = 0;
  /** Issued I/Os (fio's io_issues, the "issued rwts" line). */
  issued = 0;
  /** Bytes and I/Os per 500 ms window of the job's run, for the bw and iops samples. */
  readonly windows = new IntervalTally();

  get ios(): number {
    return this.clat.count;
  }

  /** The total-latency histogram (clat itself when the two are the same). */
  get latency(): LatencyHistogram {
    return this.latIsClat ? this.clat : this.lat;
  }

  clear(): void {
    this.clat.clear();
    this.slat.clear();
    this.lat.clear();
    this.bytes = 0;
    this.shortIos = 0;
    this.droppedIos = 0;
    this.issued = 0;
    this.windows.clear();
  }

  add(o: DirStats): void {
    if (!this.latIsClat || !o.latIsClat) {
      // unless both keep lat as clat, this one keeps a lat histogram of its own from here on
      if (this.latIsClat) this.lat.add(this.clat);
      this.latIsClat = false;
      this.lat.add(o.latency);
    }
    this.clat.add(o.clat);
    this.slat.add(o.slat);
    this.bytes += o.bytes;
    this.shortIos += o.shortIos;
    this.droppedIos += o.droppedIos;
    this.issued += o.issued;
    this.windows.add(o.windows);
  }
}

/** A job's statistics (fio's struct thread_stat): what Machine.report() turns into a JobReport. */
export class JobStats {
  readonly rd = new DirStats();
  readonly wr = new DirStats();
  /** Latency of the job's fsync/fdatasync calls (fio's sync latency line). */
  readonly fsync = new LatencyHistogram();
  errors = 0;
  firstErrno = 0;
  /** When the job started its I/O (after startdelay), -1 before. */
  startNs = -1;
  /** When statistics started to count: the end of ramp_time (= startNs without one). */
  statsStartNs = -1;
  /** When the job finished its I/O (end_fsync included), -1 while it runs. */
  endNs = -1;
  /** fio's io_u_map (depth at submission), io_u_submit and io_u_complete buckets. */
  readonly depth = new Array<number>(7).fill(0);
  readonly submit = new Array<number>(7).fill(0);
  readonly complete = new Array<number>(7).fill(0);
  readonly latencyBuckets = new LatencyBucketCounts();
  /** CPU time the job spent in its own code (filling io_us, reaping): what `cpu usr=` shows. */
  userNs = 0;
  /** The task's CPU time (sumExecRuntimeNs) when the statistics started and ended: the cpu line's window. */
  cpuAtStartNs = 0;
  cpuAtEndNs = -1;
  /** The depth latency_target's search ended at (fio's latency_qd); 0 = no search, the job's iodepth. */
  latencyDepth = 0;

  /** Completion latencies of reads (the histogram the live view samples). */
  get read(): LatencyHistogram {
    return this.rd.clat;
  }

  get write(): LatencyHistogram {
    return this.wr.clat;
  }

  get readBytes(): number {
    return this.rd.bytes;
  }

  get writeBytes(): number {
    return this.wr.bytes;
  }

  noteError(ret: number): void {
    this.errors++;
    if (this.firstErrno === 0) this.firstErrno = -ret;
  }

  /** fio's reset_all_stats at the end of ramp_time: what happened before does not count. */
  resetForRamp(nowNs: number): void {
    this.rd.clear();
    this.wr.clear();
    this.fsync.clear();
    this.depth.fill(0);
    this.submit.fill(0);
    this.complete.fill(0);
    this.latencyBuckets.clear();
    this.statsStartNs = nowNs;
    this.userNs = 0;
  }

  /** Adds another job's statistics (group_reporting). */
  add(o: JobStats): void {
    this.rd.add(o.rd);
    this.wr.add(o.wr);
    this.fsync.add(o.fsync);
    this.errors += o.errors;
    if (this.firstErrno === 0) this.firstErrno = o.firstErrno;
    for (let i = 0; i < 7; i++) {
      this.depth[i]! += o.depth[i]!;
      this.submit[i]! += o.submit[i]!;
      this.complete[i]! += o.complete[i]!;
    }
    this.latencyBuckets.add(o.latencyBuckets);
    this.userNs += o.userNs;
  }
}

// ---- random numbers ---------------------------------------------------------------------------

/** FNV-1a of a string: the job's own seed when randrepeat=1 (its name and clone, never --seed). */
function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** The job's random streams, one per purpose as fio keeps them (td->rand_seeds[]). */
export class JobRandom {
  readonly offset: Random;
  readonly rwmix: Random;
  readonly bs: Random;
  readonly file: Random;
  readonly distribution: Random;
  readonly poisson: readonly [Random, Random];

  constructor(root: Random) {
    this.offset = root.fork();
    this.rwmix = root.fork();
    this.bs = root.fork();
    this.file = root.fork();
    this.distribution = root.fork();
    this.poisson = [root.fork(), root.fork()];
  }

  /**
   * randrepeat=1: a sequence that depends only on the job (its name and clone index), so every
   * run and every --seed repeats it; randrepeat=0: forked from the machine's seeded generator.
   */
  static forJob(job: JobSpec, cloneIndex: number, machineFork: Random): JobRandom {
    if (!job.randrepeat) return new JobRandom(machineFork);
    return new JobRandom(new Random(hashString(job.name) * 1024 + cloneIndex));
  }
}

/** A 53-bit scramble of a block rank (fio's __hash_u64), so hot ranks spread over the file. */
function hashRank(v: number): number {
  const lo = v >>> 0;
  const hi = Math.floor(v / 2 ** 32) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  let g = Math.imul(hi ^ h ^ 0x27d4eb2f, 0x165667b1);
  g ^= g >>> 15;
  return (g >>> 0) * 2 ** 21 + ((h >>> 0) >>> 11);
}

/** fio's lib/zipf.c and lib/gauss.c: a block index in [0, n) drawn from the job's distribution. */
export class BlockDistribution {
  private zetan = 0;
  private zeta2 = 0;
  private readonly randOff: number;
  private readonly stddevBlocks: number;

  constructor(
    readonly dist: JobSpec['randomDistribution'],
    readonly nBlocks: number,
    private readonly rng: Random,
  ) {
    this.randOff = rng.nextU32();
    this.stddevBlocks = 0;
    if (dist.kind === 'zipf') {
      // zipf_update: zeta(n, theta), capped at 10M terms as fio caps it
      const terms = Math.min(nBlocks, 10_000_000);
      for (let i = 0; i < terms; i++) this.zetan += Math.pow(1 / (i + 1), dist.theta);
      this.zeta2 = 1 + Math.pow(0.5, dist.theta);
    } else if (dist.kind === 'normal' && dist.stdDevPercent > 0) {
      this.stddevBlocks = Math.min(Math.floor(nBlocks / 2), Math.ceil((nBlocks * dist.stdDevPercent) / 100));
    }
  }

  next(): number {
    const n = this.nBlocks;
    const d = this.dist;
    let rank: number;
    if (d.kind === 'zipf') {
      // Gray et al.'s quick zipf: rank 1 and 2 exactly, the tail by inversion
      const theta = d.theta;
      const alpha = 1 / (1 - theta);
      const eta = (1 - Math.pow(2 / n, 1 - theta)) / (1 - this.zeta2 / this.zetan);
      const u = this.rng.nextU32() / 0xffffffff;
      const z = u * this.zetan;
      if (z < 1) rank = 0;
      else if (z < 1 + Math.pow(0.5, theta)) rank = 1;
      else rank = Math.floor(n * Math.pow(eta * u - eta + 1, alpha));
    } else if (d.kind === 'pareto') {
      const power = Math.log(d.h) / Math.log(1 - d.h);
      const u = this.rng.nextU32() / 0xffffffff;
      rank = Math.floor((n - 1) * Math.pow(u, power));
    } else if (d.kind === 'normal') {
      // gauss_next: the mean of 12 uniforms (Irwin-Hall), plus a uniform spread of stddev
      let sum = 0;
      for (let i = 0; i < 12; i++) sum += this.rng.nextU32() % (n + 1);
      sum = Math.floor((sum + 11) / 12);
      if (this.stddevBlocks > 0) {
        let dev = Math.floor((this.stddevBlocks * this.rng.nextU32()) / 2 ** 32) - Math.floor(this.stddevBlocks / 2);
        while (dev + sum >= n) dev = Math.trunc(dev / 2);
        sum += dev;
      }
      rank = Math.max(0, sum);
    } else if (d.kind === 'zoned') {
      // zoned: pick the zone by its share of the accesses, then a block in it uniformly
      let pick = this.rng.int(100);
      let startPercent = 0;
      for (const z of d.zones) {
        if (pick < z.accessPercent) {
          const first = Math.floor((n * startPercent) / 100);
          const end = Math.max(first + 1, Math.floor((n * (startPercent + z.sizePercent)) / 100));
          return Math.min(n - 1, first + this.rng.int(end - first));
        }
        pick -= z.accessPercent;
        startPercent += z.sizePercent;
      }
      return this.rng.int(n);
    } else {
      return this.rng.int(n);
    }
    return (hashRank(rank) + this.randOff) % n;
  }
}

/** fio's lib/axmap.c: one bit per block, so a random job touches each block once per loop. */
export class RandomMap {
  private readonly words: Uint32Array;
  /** One bit per word of `words` that is all ones, so a nearly full map is scanned quickly. */
  private readonly fullWords: Uint32Array;
  used = 0;

  constructor(readonly nBlocks: number) {
    this.words = new Uint32Array(Math.ceil(nBlocks / 32) || 1);
    this.fullWords = new Uint32Array(Math.ceil(this.words.length / 32) || 1);
    this.reset();
  }

  reset(): void {
    this.words.fill(0);
    this.fullWords.fill(0);
    this.used = 0;
    // the bits past the last block count as used
    for (let b = this.nBlocks; b < this.words.length * 32; b++) this.setBit(b);
  }

  isSet(b: number): boolean {
    return ((this.words[b >>> 5]! >>> (b & 31)) & 1) === 1;
  }

  private setBit(b: number): void {
    const w = b >>> 5;
    const v = (this.words[w]! | (1 << (b & 31))) >>> 0;
    this.words[w] = v;
    if (v === 0xffffffff) this.fullWords[w >>> 5] = (this.fullWords[w >>> 5]! | (1 << (w & 31))) >>> 0;
  }

  mark(b: number): void {
    if (b < 0 || b >= this.nBlocks || this.isSet(b)) return;
    this.setBit(b);
    this.used++;
  }

  get full(): boolean {
    return this.used >= this.nBlocks;
  }

  /** axmap_next_free: the first free block at or after b, wrapping to the start; -1 when full. */
  nextFree(b: number): number {
    if (this.full) return -1;
    const r = this.scan(b, this.nBlocks);
    return r >= 0 ? r : this.scan(0, b);
  }

  private scan(from: number, to: number): number {
    let w = from >>> 5;
    const first = ~this.words[w]! & (0xffffffff << (from & 31));
    if (first !== 0) {
      const idx = w * 32 + ctz(first);
      return idx < to ? idx : -1;
    }
    w++;
    while (w * 32 < to) {
      const summary = this.fullWords[w >>> 5]!;
      if ((w & 31) === 0 && summary === 0xffffffff) {
        w += 32;
        continue;
      }
      if ((summary >>> (w & 31)) & 1) {
        w++;
        continue;
      }
      const free = ~this.words[w]!;
      if (free !== 0) {
        const idx = w * 32 + ctz(free);
        return idx < to ? idx : -1;
      }
      w++;
    }
    return -1;
  }
}

function ctz(x: number): number {
  return 31 - Math.clz32(x & -x);
}

// ---- the job ----------------------------------------------------------------------------------

type RwDir = 'read' | 'write';

/** What fill() did: an io_u ready, nothing left this loop, a failure, or a file to open first. */
const FILL = { OK: 0, DONE: 1, ERROR: 2, OPEN: 3 } as const;
type Fill = (typeof FILL)[keyof typeof FILL];

/** A job's view of one of its files (fio's struct fio_file). */
const FADVISE_OF = { random: POSIX_FADV.RANDOM, sequential: POSIX_FADV.SEQUENTIAL, noreuse: POSIX_FADV.NOREUSE } as const;
/** fio's write_hint values as the RWH_WRITE_LIFE_* fcntl takes. */
const WRITE_HINT_OF = { none: RWH_WRITE_LIFE.NONE, short: RWH_WRITE_LIFE.SHORT, medium: RWH_WRITE_LIFE.MEDIUM, long: RWH_WRITE_LIFE.LONG, extreme: RWH_WRITE_LIFE.EXTREME } as const;

interface JobFile {
  readonly path: string;
  fd: number;
  /** The I/O region: [startBytes, startBytes + regionBytes). */
  readonly startBytes: number;
  readonly regionBytes: number;
  /** Next sequential offset per direction, relative to startBytes (fio's last_pos[ddir]). */
  readonly nextPos: [number, number];
  /** Bytes issued to this file in the current loop (file_service_type=sequential moves on when done). */
  issuedBytes: number;
  /** I/Os still to issue sequentially from the last random offset (rw=randread:N). */
  randomRunLeft: number;
  /** Nothing left to do in this loop (fio's FIO_FILE_done). */
  done: boolean;
  map: RandomMap | undefined;
  dist: BlockDistribution | undefined;
}

/** Everything the job process needs besides the kernel: what the machine hands to the fork. */
export interface JobParams {
  readonly job: JobSpec;
  /** Which numjobs clone this is (0-based): offset_increment places it. */
  readonly cloneIndex: number;
  readonly stats: JobStats;
  readonly rand: JobRandom;
  /** The end of the run: the job stops issuing then. */
  readonly stopAtNs: number;
  /** stonewall / wait_for: the job sleeps on `waiters` until `isOpen()` says it may start. */
  readonly gate?: { isOpen(): boolean; readonly waiters: WaitQueue };
  /** Called when the job has finished, just before its process exits. */
  readonly onExit?: () => void;
  /** Another job's exitall ends this one: `terminated` if it came before the start, else terminate(). */
  readonly control?: JobControl;
  /** The job's place in its flow (flow=): it waits while it has had more than its share. */
  readonly flow?: FlowMember;
}

/** How the machine ends a running job early (fio's td->terminate, set by exitall). */
export interface JobControl {
  terminated: boolean;
  terminate?: () => void;
}

function sizesOf(job: JobSpec, dir: RwDir): BlockSizeSpec {
  return job.blockSizes?.[dir] ?? { minBytes: job.bs, maxBytes: job.bs, split: [] };
}

/** fio's get_next_buflen: bssplit by percentage, else a random multiple of min in [min, max]. */
function pickLength(spec: BlockSizeSpec, rng: Random): number {
  if (spec.split.length > 0) {
    const perc = 1 + rng.int(100);
    let sum = 0;
    for (const e of spec.split) {
      sum += e.percent;
      if (perc <= sum) return e.bytes;
    }
    return spec.split[spec.split.length - 1]!.bytes;
  }
  if (spec.minBytes >= spec.maxBytes) return spec.minBytes;
  // fio: min + max * U, rounded down to a multiple of min, capped at max
  const r = spec.minBytes + Math.floor(spec.maxBytes * rng.next());
  return Math.min(spec.maxBytes, r - (r % spec.minBytes));
}

/**
 * fio's switch_ioscheduler: writes the scheduler's name to /sys/block/<disk>/queue/scheduler (the
 * disk of the job's first file); 0 or the -errno the write got (fio then fails the job).
 * SIMPLIFICATION: fio also reads the file back to check the name is the bracketed one; here the
 * store's result says it.
 */
function* switchIoscheduler(k: Kernel, task: Task, disk: string, scheduler: string): Generator<number, number, void> {
  const found = findAttribute(`/sys/block/${disk}/queue/scheduler`, k.queues.map((q) => q.diskName));
  if (found === undefined) return -ENOENT;
  return yield* found.attribute.store(k, task, found.target, scheduler);
}

/** The body of one fio job process (no generator of its own: the task runs the job loop directly). */
export function fioJob(k: Kernel, task: Task, p: JobParams): Generator<number, void, void> {
  return new JobRun(k, task, p).run();
}

/** One job's do_io state: its io_us, files, depth counters and rate clocks. */
class JobRun {
  private readonly job: JobSpec;
  private readonly stats: JobStats;
  private readonly rand: JobRandom;
  private readonly files: JobFile[] = [];
  private readonly fds: number[] = [];
  private readonly ious: IoU[] = [];
  private readonly freeList: IoU[] = [];
  private readonly ctx: EngineContext;
  private readonly reads: boolean;
  private readonly writes: boolean;
  private readonly random: boolean;
  private readonly openFlags: number;
  private readonly sizes: { readonly read: BlockSizeSpec; readonly write: BlockSizeSpec };
  /** The unit random offsets and the random map count in (fio: the smaller min bs). */
  private readonly unitBytes: number;
  // fio's fixed-up depth options
  private readonly iodepth: number;
  private readonly batchSubmit: number;
  private readonly completeMin: number;
  private readonly completeMax: number;
  private readonly iodepthLow: number;
  /** io_us taken and not yet completed (fio's cur_depth). */
  private curDepth = 0;
  /** Queued to the engine, not yet committed (fio's io_u_queued). */
  private queued = 0;
  /** An io_u the engine refused with FIO_Q_BUSY, to be queued again first (fio's requeues). */
  private requeued: IoU | undefined;
  private bytesIssuedThisLoop = 0;
  /** Data I/Os issued over the whole job (number_ios counts them across loops). */
  private dataIosIssued = 0;
  private readonly loopBytes: number;
  private fileCursor = 0;
  private lastDdir: IoDirection | undefined;
  private lastWriteFile = 0;
  private writesIssued = 0;
  private completedBlocks = 0;
  private lastThinkBlocks = 0;
  private deadlineNs = 0;
  private rampEndNs = 0;
  /** rate_min / rate_iops_min: when each direction's current cycle began, and its totals then. */
  private readonly minRateSince: [number, number] = [-1, -1];
  private readonly minRateBytes: [number, number] = [0, 0];
  private readonly minRateIos: [number, number] = [0, 0];
  /** Sleeping until a rate-limited issue or a flow turn: what an exitall from another job wakes. */
  private sleepingInLoop = false;
  private rampDone: boolean;
  /** The rate clocks (fio's epoch, rate_io_issue_bytes, last_usec), reset when ramp_time ends. */
  private epochNs = 0;
  private readonly rateIssuedBytes: [number, number] = [0, 0];
  private readonly poissonLastNs: [number, number] = [0, 0];
  private readonly nextIssueNs: [number, number] = [0, 0];
  private readonly rateBps: [number, number];
  /** The smallest block per direction (fio's min_bs[ddir]). */
  private readonly minBytes: [number, number];
  private failed = false;
  private endFsyncing = false;
  /** latency_target's depth search (fio's td->latency_*); `qd` caps the depth in use. */
  private readonly lat = { qd: 1, qdLow: 1, qdHigh: 1, windowStartNs: 0, iosAtStart: 0, failed: 0, stableCount: 0, endRun: false, done: false };
  /** What the search asked of the loop: quiesce, then start a new window (and reset the statistics). */
  private latPending: 'none' | 'cycle' | 'final-run' = 'none';
  /** Data I/Os completed without error (fio's io_blocks), for the search's success rate. */
  private ioBlocks = 0;
  /** A file fill() chose that must be opened first (create_on_open), or -1. */
  private pendingFile = -1;
  private buf = 0;
  private bufBytes = 0;

  private readonly engine: IoEngineOps | undefined;
  private readonly stopAtNs: number;

  constructor(
    private readonly k: Kernel,
    private readonly task: Task,
    private readonly p: JobParams,
  ) {
    const job = p.job;
    if (p.control) {
      // the job stops issuing now, as at the end of its runtime (fio checks td->terminate there)
      p.control.terminate = () => {
        this.deadlineNs = Math.min(this.deadlineNs, this.k.env.nowNs);
        // a job sleeping until its next rate-limited issue or flow turn wakes to end now
        if (this.sleepingInLoop) this.task.wake();
      };
    }
    this.engine = createEngine(job.ioengine);
    this.stopAtNs = p.stopAtNs;
    this.job = job;
    this.stats = p.stats;
    this.stats.rd.latIsClat = this.stats.wr.latIsClat = this.engine?.sync ?? false;
    this.rand = p.rand;
    this.reads = job.rw === 'read' || job.rw === 'randread' || job.rw === 'rw' || job.rw === 'randrw';
    this.writes = job.rw === 'write' || job.rw === 'randwrite' || job.rw === 'rw' || job.rw === 'randrw';
    this.random = job.rw.startsWith('rand');
    // the lsm engine's flush and compaction threads write the file its lookups read
    let flags: number = (this.reads && this.writes) || job.ioengine === 'lsm' ? O.RDWR : this.writes ? O.WRONLY : O.RDONLY;
    if (job.direct) flags |= O.DIRECT;
    if (job.sync === 'sync') flags |= O.SYNC;
    else if (job.sync === 'dsync') flags |= O.DSYNC;
    if (job.ioengine === 'mmap') flags = this.writes ? O.RDWR : O.RDONLY;
    if (job.createOnOpen) flags |= O.CREAT;
    this.openFlags = flags;
    this.sizes = { read: sizesOf(job, 'read'), write: sizesOf(job, 'write') };
    const minRead = this.sizes.read.split.length ? Math.min(...this.sizes.read.split.map((e) => e.bytes)) : this.sizes.read.minBytes;
    const minWrite = this.sizes.write.split.length ? Math.min(...this.sizes.write.split.map((e) => e.bytes)) : this.sizes.write.minBytes;
    this.unitBytes = job.blockAlignBytes > 0 ? job.blockAlignBytes : Math.max(1, this.reads && this.writes ? Math.min(minRead, minWrite) : this.writes ? minWrite : minRead);
    // fixup_options: the depth options never exceed iodepth; 0 means iodepth
    this.iodepth = Math.max(1, job.iodepth);
    this.batchSubmit = job.iodepthBatchSubmit <= 0 || job.iodepthBatchSubmit > this.iodepth ? this.iodepth : job.iodepthBatchSubmit;
    this.iodepthLow = job.iodepthLow <= 0 || job.iodepthLow > this.iodepth ? this.iodepth : job.iodepthLow;
    this.completeMin = Math.max(0, job.iodepthBatchCompleteMin);
    this.completeMax = Math.max(this.completeMin, job.iodepthBatchCompleteMax);
    this.rampDone = job.rampTimeNs <= 0;
    // rate_iops is a rate in bytes of the smallest block (fio's rate_bps = rate_iops * min_bs)
    const bps = (d: RwDir, minBytes: number) => job.rateBytesPerSec[d] || job.rateIops[d] * minBytes;
    this.rateBps = [bps('read', minRead), bps('write', minWrite)];
    this.minBytes = [minRead, minWrite];
    const perFileBytes = Math.floor(job.size / Math.max(1, job.files.length));
    this.loopBytes = perFileBytes * job.files.length;
    const fileStart = job.offsetBytes + p.cloneIndex * job.offsetIncrementBytes;
    for (const path of (p.cloneIndex > 0 ? job.cloneFiles[p.cloneIndex - 1] : undefined) ?? job.files) {
      this.files.push({ path, fd: -1, startBytes: fileStart, regionBytes: perFileBytes, nextPos: [0, 0], issuedBytes: 0, randomRunLeft: 0, done: false, map: undefined, dist: undefined });
      this.fds.push(-1);
    }
    this.ctx = { k, task, job, fds: this.fds, ious: this.ious, pendingUserNs: 0, userNs: 0 };
  }

  private get now(): number {
    return this.k.env.nowNs;
  }

  *run(): Generator<number, void, void> {
    const k = this.k;
    const task = this.task;
    const job = this.job;
    const stats = this.stats;
    const gate = this.p.gate;
    // stonewall / wait_for: the job is held back until the jobs it waits for have exited
    while (gate && !gate.isOpen()) {
      task.state = TaskState.INTERRUPTIBLE;
      gate.waiters.add(task);
      yield SCHED;
    }
    // the forked child execs fio, then runs its job
    yield* sysExecve(k, task, '/usr/bin/fio', ['fio', `--name=${job.name}`]);
    if (job.startdelayNs > 0) yield* sysClockNanosleep(k, task, job.startdelayNs);
    if (job.ioscheduler !== undefined) {
      const err = yield* switchIoscheduler(k, task, job.ioscheduler.disk, job.ioscheduler.scheduler);
      if (err < 0) {
        stats.noteError(err);
        return yield* this.finish();
      }
    }
    const startNs = k.env.nowNs;
    stats.startNs = startNs;
    stats.statsStartNs = startNs;
    // fio's cpu line covers the job's run, not its fork, exec and set-up
    stats.cpuAtStartNs = task.sumExecRuntimeNs;
    this.rampEndNs = startNs + job.rampTimeNs;
    this.epochNs = startNs;
    // runtime counts after ramp_time (fio: the ramp is lead-in time added to the run)
    this.deadlineNs = Math.min(this.stopAtNs, job.runtimeNs > 0 ? startNs + job.rampTimeNs + job.runtimeNs : Infinity, this.p.control?.terminated === true ? startNs : Infinity);
    this.latInit(startNs);
    const engine = this.engine;
    if (!engine) {
      stats.noteError(-EINVAL);
      return yield* this.finish();
    }
    // fio opens every file before the job starts, unless create_on_open defers it to first use
    if (!job.createOnOpen) {
      for (let i = 0; i < this.files.length; i++) {
        if ((yield* this.openFile(i)) < 0) return yield* this.finish();
      }
    }
    // the io_u buffers: iodepth x max bs of page-aligned memory (fio's init_io_u); the mmap
    // engine moves data through its file mapping and needs none
    const maxBs = Math.max(this.sizes.read.maxBytes, this.sizes.write.maxBytes, ...this.sizes.read.split.map((e) => e.bytes), ...this.sizes.write.split.map((e) => e.bytes));
    const slotBytes = Math.ceil(maxBs / PAGE_BYTES) * PAGE_BYTES;
    if (job.ioengine !== 'mmap') {
      this.bufBytes = this.iodepth === 1 ? maxBs : slotBytes * this.iodepth;
      const buf = yield* sysMmap(k, task, 0, this.bufBytes, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
      if (buf < 0) {
        stats.noteError(buf);
        return yield* this.finish();
      }
      this.buf = buf;
    }
    for (let i = 0; i < this.iodepth; i++) {
      this.ious.push({ index: i, bufVa: this.buf + i * slotBytes, bufBytes: maxBs, ddir: 'read', fileIndex: 0, offsetBytes: 0, lenBytes: 0, result: 0, startNs: 0, issueNs: 0, ioId: 0 });
    }
    // the free list pops from its end, as fio's io_u_qpop does
    for (let i = this.iodepth - 1; i >= 0; i--) this.freeList.push(this.ious[i]!);
    const r = yield* engine.init(this.ctx);
    if (r < 0) {
      stats.noteError(r);
      return yield* this.finish();
    }
    const sync = engine.sync;
    const mixed = this.reads && this.writes;
    const rated = this.rateBps[0] + this.rateBps[1] > 0;
    let loopsLeft = Math.max(1, job.loops);
    for (;;) {
      // fio's do_io: one pass over the region; `more` says whether another loop may follow
      let more = true;
      for (;;) {
        if (!this.rampDone) this.checkRamp();
        if (this.failed) {
          more = false;
          break;
        }
        if (this.minRateMissed()) {
          // fio's check_min_rate: td_verror(EIO) and the job ends
          this.stats.noteError(-EIO);
          this.failed = true;
          more = false;
          break;
        }
        if (this.now >= this.deadlineNs) {
          if (this.dueSync()) yield* this.fsyncIfDue();
          more = false;
          break;
        }
        if (this.latPending !== 'none') yield* this.latQuiesce();
        if (this.lat.done) {
          more = false;
          break;
        }
        if (this.p.flow?.exceeded()) {
          yield* this.waitForFlow(this.p.flow);
          continue;
        }
        const due = this.dueSync();
        if (due) {
          const io = this.takeIoU();
          this.fillSync(io, due, this.lastWriteFile);
          yield* this.queueOne(io, true);
          continue;
        }
        if (!job.timeBased && this.bytesIssuedThisLoop >= this.loopBytes && !this.requeued) break;
        if (job.numberIos > 0 && this.dataIosIssued >= job.numberIos && !this.requeued) {
          // fio's number_ios: the job ends normally once it has issued that many
          more = false;
          break;
        }
        let io = this.requeued;
        this.requeued = undefined;
        if (!io) {
          let dir: RwDir = mixed ? (1 + this.rand.rwmix.int(100) <= job.rwmixread ? 'read' : 'write') : this.writes ? 'write' : 'read';
          if (rated) {
            dir = yield* this.waitForRate(dir);
            if (this.failed || this.now >= this.deadlineNs) continue;
          }
          io = this.takeIoU();
          let filled = this.fill(io, dir);
          while (filled === FILL.OPEN) {
            if ((yield* this.openFile(this.pendingFile)) < 0) break;
            filled = this.fill(io, dir);
          }
          if (filled !== FILL.OK) {
            this.putIoU(io);
            if (this.failed) more = false;
            else if (this.dueSync()) yield* this.fsyncIfDue();
            break;
          }
          // fio's user-space work per I/O: picking the offset, filling the io_u
          stats.userNs += USER_IO_OVERHEAD_NS;
          // an async engine's kernel sees the I/O at commit: the CPU is burnt then, once a batch
          if (sync) yield USER_IO_OVERHEAD_NS;
          else this.ctx.pendingUserNs += USER_IO_OVERHEAD_NS;
        }
        // fio's td_io_queue
        this.prepQueue(io, true);
        const queued = engine.queue(this.ctx, io);
        const ret = typeof queued === 'number' ? queued : yield* queued;
        if (this.ctx.userNs > 0) {
          stats.userNs += this.ctx.userNs;
          this.ctx.userNs = 0;
        }
        if (sync && ret === FIO_Q.COMPLETED) this.completedInline(io);
        else if (!this.queuedInPlace(io, ret)) yield* this.afterQueue(io, ret, true);
        if (this.thinkDue(io)) yield* this.think();
        if (this.job.latencyTargetNs > 0 && this.rampDone) this.latCheck();
      }
      if (!sync) yield* this.drain();
      if (!more || this.failed || job.timeBased || --loopsLeft <= 0 || this.now >= this.deadlineNs) break;
      this.resetFiles();
    }
    if (job.endFsync && this.writes && !this.failed) {
      // fio's TD_FSYNCING: each file synced once more; these syncs are not in the sync statistics
      this.endFsyncing = true;
      for (let i = 0; i < this.files.length; i++) {
        if (this.files[i]!.fd < 0) continue;
        const io = this.takeIoU();
        this.fillSync(io, 'fsync', i);
        yield* this.queueOne(io, false);
        yield* this.drain();
      }
    }
    return yield* this.finish();
  }

  private *openFile(i: number): Generator<number, number, void> {
    yield* payUserTime(this.ctx);
    const f = this.files[i]!;
    // setup_files -> get_file_sizes: fio stat()s each file (newfstatat) before it opens it
    yield* sysNewfstatat(this.k, this.task, AT_FDCWD, f.path, 0);
    const fd = yield* sysOpenat(this.k, this.task, AT_FDCWD, f.path, this.openFlags, 0o644);
    if (fd < 0) {
      this.stats.noteError(fd);
      this.failed = true;
      return fd;
    }
    f.fd = fd;
    this.fds[i] = fd;
    // td_io_open_file: fadvise_hint's advice on the file's I/O region (a failure only warns)
    const advice = accessAdvice(this.job);
    if (advice !== undefined) yield* sysFadvise64(this.k, this.task, fd, f.startBytes, f.regionBytes, FADVISE_OF[advice]);
    // td_io_open_file: write_hint set on the file (direct I/O tries the per-file hint first, which
    // Linux no longer has); a failure fails the job
    if (this.job.writeHint !== undefined) {
      const hint = WRITE_HINT_OF[this.job.writeHint];
      let r = this.job.direct ? yield* sysFcntl(this.k, this.task, fd, F_SET_FILE_RW_HINT, hint) : -EINVAL;
      if (r < 0) r = yield* sysFcntl(this.k, this.task, fd, F_SET_RW_HINT, hint);
      if (r < 0) {
        this.stats.noteError(r);
        this.failed = true;
        return r;
      }
    }
    return fd;
  }

  /**
   * fio's flow_threshold_exceeded when the job is over its share: with flow_sleep, quiesce and
   * sleep; without, spin until the others catch up.
   * SIMPLIFICATION: instead of spinning, the job sleeps until another job of the flow takes a turn
   * or leaves (or its runtime ends); the spin's time counts as its user CPU time, but its CPU is
   * free for others meanwhile.
   */
  private *waitForFlow(member: FlowMember): Generator<number, void, void> {
    if (this.job.flowSleepNs > 0) {
      yield* this.drain();
      yield* sysClockNanosleep(this.k, this.task, this.job.flowSleepNs);
      return;
    }
    const t0 = this.now;
    const waiters = member.flow.waiters;
    waiters.add(this.task);
    this.sleepingInLoop = true;
    if (Number.isFinite(this.deadlineNs)) yield* scheduleTimeout(this.k, this.task, this.deadlineNs - t0, TaskState.INTERRUPTIBLE);
    else {
      this.task.state = TaskState.INTERRUPTIBLE;
      yield SCHED;
    }
    this.sleepingInLoop = false;
    waiters.remove(this.task);
    this.stats.userNs += this.now - t0;
  }

  private *finish(): Generator<number, void, void> {
    this.p.flow?.leave();
    if (this.job.latencyTargetNs > 0) this.stats.latencyDepth = this.lat.qd;
    yield* payUserTime(this.ctx);
    this.stats.endNs = this.now;
    this.stats.cpuAtEndNs = this.task.sumExecRuntimeNs;
    if (this.engine && this.ious.length > 0) yield* this.engine!.cleanup(this.ctx);
    if (this.buf > 0) yield* sysMunmap(this.k, this.task, this.buf, this.bufBytes);
    for (const f of this.files) if (f.fd >= 0) yield* sysClose(this.k, this.task, f.fd);
    this.p.onExit?.();
  }

  /** fio_file_reset for a new loop: sequential positions back to the start, random maps cleared. */
  private resetFiles(): void {
    this.bytesIssuedThisLoop = 0;
    this.fileCursor = 0;
    for (const f of this.files) {
      f.nextPos[0] = 0;
      f.nextPos[1] = 0;
      f.issuedBytes = 0;
      f.randomRunLeft = 0;
      f.done = false;
      f.map?.reset();
    }
  }

  /** ramp_time over: statistics and the rate clocks start again from here (reset_all_stats). */
  private checkRamp(): void {
    if (this.rampDone || this.now < this.rampEndNs) return;
    this.rampDone = true;
    // nothing completed since rampEndNs was counted (every completion checks first)
    this.resetAllStats(this.rampEndNs);
  }

  /** fio's reset_all_stats (end of ramp_time, latency_target's final run): counting starts over at `t`. */
  private resetAllStats(t: number): void {
    this.stats.resetForRamp(t);
    this.stats.cpuAtStartNs = this.task.sumExecRuntimeNs;
    this.epochNs = t;
    for (let d = 0; d < 2; d++) {
      this.rateIssuedBytes[d] = 0;
      this.poissonLastNs[d] = 0;
      this.nextIssueNs[d] = 0;
    }
    // lat_target_reset: the depth search starts again, unless it is in its final run
    if (!this.lat.endRun) this.latInit(t);
  }

  /** fio's queue_full: no free io_u, or latency_target's search caps the depth lower. */
  private queueFull(): boolean {
    return this.freeList.length === 0 || (this.job.latencyTargetNs > 0 && this.curDepth >= this.lat.qd);
  }

  /** lat_target_init: the search starts at depth 1, bounded by iodepth. */
  private latInit(t: number): void {
    const lat = this.lat;
    lat.endRun = false;
    lat.qd = this.job.latencyTargetNs > 0 ? 1 : this.iodepth;
    lat.qdHigh = this.iodepth;
    lat.qdLow = 1;
    this.latNewCycle(t);
  }

  /** lat_new_cycle: a new window at the current depth. */
  private latNewCycle(t: number): void {
    this.lat.windowStartNs = t;
    this.lat.iosAtStart = this.ioBlocks;
    this.lat.failed = 0;
  }

  /**
   * lat_target_failed for one I/O over the target: with latency_percentile=100 the depth comes
   * down at once (at depth 1 the job fails with ETIMEDOUT, fio's lat_fatal); else it is counted.
   */
  private latMissed(): void {
    if (this.job.latencyPercentile < 100) {
      this.lat.failed++;
      return;
    }
    if (!this.latRampDown()) return;
    this.stats.noteError(-ETIMEDOUT);
    this.failed = true;
  }

  /** __lat_target_failed: bisect down between the last good depth and this one. True at depth 1. */
  private latRampDown(): boolean {
    const lat = this.lat;
    if (lat.qd === 1) return true;
    lat.qdHigh = lat.qd;
    if (lat.qd === lat.qdLow) lat.qdLow--;
    lat.qd = Math.floor((lat.qd + lat.qdLow) / 2);
    lat.stableCount = 0;
    // fio quiesces here, from the completion path, then starts a new window
    this.latPending = 'cycle';
    return false;
  }

  /** lat_target_check: once a window has passed, the depth goes up or down on its success rate. */
  private latCheck(): void {
    const lat = this.lat;
    if (this.now - lat.windowStartNs < this.job.latencyWindowNs) return;
    const ios = this.ioBlocks - lat.iosAtStart;
    // (no completions in the window: 0/0, which fio's comparison counts as a failure)
    const successPercent = ((ios - lat.failed) / ios) * 100;
    if (successPercent >= this.job.latencyPercentile) this.latRampUp();
    else this.latRampDown();
  }

  /** lat_target_success: double the depth until a failure, then bisect; the same depth twice ends the search. */
  private latRampUp(): void {
    const lat = this.lat;
    const qd = lat.qd;
    lat.qdLow = qd;
    if (qd + 1 === lat.qdHigh && ++lat.stableCount >= 3) {
      // stuck just under a depth that failed once: try that one again now and then
      lat.qdHigh++;
      lat.stableCount = 0;
    }
    lat.qd = lat.qdHigh !== this.iodepth ? Math.floor((qd + lat.qdHigh) / 2) : qd * 2;
    if (lat.qd > this.iodepth) lat.qd = this.iodepth;
    if (!this.job.latencyRun && lat.qd === qd) {
      if (lat.endRun) {
        lat.done = true;
      } else {
        // one more window at the depth found, counted from scratch: the job's results are that depth's
        this.latPending = 'final-run';
        return;
      }
    }
    this.latNewCycle(this.now);
  }

  /** What the search asked for, at the loop's top: drain what is in flight, then the new window. */
  private *latQuiesce(): Generator<number, void, void> {
    const pending = this.latPending;
    this.latPending = 'none';
    yield* this.drain();
    if (pending === 'final-run') {
      this.lat.endRun = true;
      this.resetAllStats(this.now);
    }
    this.latNewCycle(this.now);
  }

  /** fio's get_rw_ddir: after every fsync= / fdatasync= writes, a sync io_u comes first. */
  private dueSync(): 'fsync' | 'fdatasync' | undefined {
    if (this.lastDdir !== 'write' || this.writesIssued === 0) return undefined;
    if (this.job.fsync > 0 && this.writesIssued % this.job.fsync === 0) return 'fsync';
    if (this.job.fdatasync > 0 && this.writesIssued % this.job.fdatasync === 0) return 'fdatasync';
    return undefined;
  }

  /**
   * The sync a job's last write made due is issued before the job stops.
   * SIMPLIFICATION: fio checks only at the next get_io_u, so a job ending right after the Nth
   * write skips that fsync; here the last batch of writes is synced too.
   */
  private *fsyncIfDue(): Generator<number, void, void> {
    const sync = this.dueSync();
    if (!sync || this.failed) return;
    if (!this.engine!.sync) yield* this.drain();
    const io = this.takeIoU();
    this.fillSync(io, sync, this.lastWriteFile);
    yield* this.queueOne(io, true);
    yield* this.drain();
  }

  private takeIoU(): IoU {
    const io = this.freeList.pop();
    if (!io) throw new Error('fio: no free io_u (the loop reaps before the queue is full)');
    this.curDepth++;
    return io;
  }

  private putIoU(io: IoU): void {
    this.curDepth--;
    this.freeList.push(io);
  }

  private fillSync(io: IoU, ddir: 'fsync' | 'fdatasync', fileIndex: number): void {
    io.ddir = ddir;
    io.fileIndex = fileIndex;
    io.offsetBytes = 0;
    io.lenBytes = 0;
    io.result = 0;
    io.ioId = 0;
  }

  /** fio's get_next_file: which of the job's files the next I/O goes to; -1 when all are done. */
  private pickFile(): number {
    const n = this.files.length;
    if (n === 1) return this.files[0]!.done ? -1 : 0;
    let live = 0;
    for (const f of this.files) if (!f.done) live++;
    if (live === 0) return -1;
    if (this.job.fileServiceType === 'random') {
      let k = this.rand.file.int(live);
      for (let i = 0; i < n; i++) if (!this.files[i]!.done && k-- === 0) return i;
    }
    // roundrobin moves on after each I/O; sequential stays on a file until it is done
    while (this.files[this.fileCursor]!.done) this.fileCursor = (this.fileCursor + 1) % n;
    const i = this.fileCursor;
    if (this.job.fileServiceType === 'roundrobin') this.fileCursor = (this.fileCursor + 1) % n;
    return i;
  }

  /**
   * fio's fill_io_u: file, direction, offset and length. FILL.OPEN when the chosen file must be
   * opened first (create_on_open): the caller opens `pendingFile` and calls again.
   */
  private fill(io: IoU, dir: RwDir): Fill {
    for (;;) {
      const fi = this.pendingFile >= 0 ? this.pendingFile : this.pickFile();
      if (fi < 0) return FILL.DONE;
      const f = this.files[fi]!;
      if (f.fd < 0) {
        this.pendingFile = fi;
        return FILL.OPEN;
      }
      this.pendingFile = -1;
      const r = this.fillFrom(io, dir, fi);
      if (r !== FILL.DONE) return r;
      f.done = true;
    }
  }

  /** Offset and length in file `fi`: 'done' when its region has no block left this loop. */
  private fillFrom(io: IoU, dir: RwDir, fi: number): Fill {
    const f = this.files[fi]!;
    const d = dir === 'read' ? 0 : 1;
    const spec = this.sizes[dir];
    let len = pickLength(spec, this.rand.bs);
    let rel: number;
    if (this.random && f.randomRunLeft > 0 && f.nextPos[d] + len <= f.regionBytes) {
      // rw=randread:N: the next I/Os of a run go on from the last random one (fio's ddir_seq_nr)
      f.randomRunLeft--;
      rel = f.nextPos[d];
      f.nextPos[d] = rel + len;
    } else if (this.random) {
      f.randomRunLeft = this.job.randomRunIos - 1;
      const nBlocks = Math.floor(f.regionBytes / this.unitBytes);
      if (nBlocks <= 0) return this.regionTooSmall();
      let b: number;
      if (this.job.randomDistribution.kind !== 'random') {
        f.dist ??= new BlockDistribution(this.job.randomDistribution, nBlocks, this.rand.distribution);
        b = f.dist.next();
      } else {
        b = this.rand.offset.int(nBlocks);
        if (!this.job.norandommap) {
          f.map ??= new RandomMap(nBlocks);
          if (f.map.full) {
            // every block was touched: a time_based job starts the map again (fio_file_reset)
            if (!this.job.timeBased) return FILL.DONE;
            f.map.reset();
          }
          if (f.map.isSet(b)) b = f.map.nextFree(b);
        }
      }
      rel = b * this.unitBytes;
      len = Math.min(len, f.regionBytes - rel);
      if (f.map) for (let o = 0; o < len; o += this.unitBytes) f.map.mark((rel + o) / this.unitBytes);
      f.nextPos[d] = rel + len;
    } else {
      if (spec.minBytes > f.regionBytes) return this.regionTooSmall();
      rel = f.nextPos[d];
      const add = this.job.seqAddBytes;
      if (rel !== 0 && add !== 0) {
        // rw=read:8k skips 8k after each I/O, rw=read:-8k goes backwards (fio's ddir_seq_add);
        // past either end it wraps: forwards to the start, backwards to the end
        rel += add;
        if (rel < 0 || rel >= f.regionBytes) rel = add > 0 ? 0 : f.regionBytes + add;
        if (rel < 0) rel = 0;
      }
      if (rel + Math.min(len, spec.minBytes) > f.regionBytes) {
        // the region is used up: a time_based job wraps to its start, any other is done
        if (!this.job.timeBased) return FILL.DONE;
        rel = 0;
      }
      len = Math.min(len, f.regionBytes - rel);
      f.nextPos[d] = rel + len;
    }
    io.ddir = dir;
    io.fileIndex = fi;
    io.offsetBytes = f.startBytes + rel;
    io.lenBytes = len;
    io.result = 0;
    io.ioId = 0;
    return FILL.OK;
  }

  private regionTooSmall(): Fill {
    this.stats.noteError(-EINVAL);
    this.failed = true;
    return FILL.ERROR;
  }

  /**
   * fio's rate_ddir + usec_for_io: wait until this direction's next issue time. While waiting,
   * completions are reaped as they come, so arrivals do not wait for earlier I/Os.
   * SIMPLIFICATION: fio (io_submit_mode=inline) quiesces before sleeping for the rate; kiotrace
   * keeps the in-flight I/Os going, as io_submit_mode=offload does, so arrivals are open-loop.
   */
  private *waitForRate(dir: RwDir): Generator<number, RwDir, void> {
    yield* payUserTime(this.ctx);
    let d = dir === 'read' ? 0 : 1;
    if (this.rateBps[d] === 0) return dir;
    let due = this.epochNs + this.nextIssueNs[d]!;
    if (due <= this.now) return dir;
    // a mixed job whose other direction is behind its rate issues that one instead
    const o = 1 - d;
    if (this.reads && this.writes && this.rateBps[o]! > 0) {
      const otherDue = this.epochNs + this.nextIssueNs[o]!;
      if (otherDue <= this.now) return o === 0 ? 'read' : 'write';
      if (otherDue < due) {
        d = o;
        due = otherDue;
      }
    }
    yield* this.commit();
    while (this.now < due && this.now < this.deadlineNs && !this.failed) {
      const untilNs = Math.min(due, this.deadlineNs);
      if (this.curDepth > 0 && !this.engine!.sync) {
        yield* this.reap(1, untilNs - this.now);
      } else {
        this.sleepingInLoop = true;
        yield* sysClockNanosleep(this.k, this.task, untilNs - this.now);
        this.sleepingInLoop = false;
      }
    }
    return d === 0 ? 'read' : 'write';
  }

  /**
   * fio's __check_min_rate: after a 2 s settling period, at the first loop turn at least a
   * rate_cycle after the last check, the bytes (or I/Os) each direction completed since then must
   * come to rate_min (rate_iops_min) per second.
   */
  private minRateMissed(): boolean {
    const job = this.job;
    for (let d = 0; d < 2; d++) {
      const dir = d === 0 ? 'read' : 'write';
      const minBps = job.rateMinBytesPerSec[dir];
      const minIops = job.rateMinIops[dir];
      if (minBps === 0 && minIops === 0) continue;
      const now = this.now;
      if (now - this.stats.startNs < 2_000_000_000) continue;
      const ds = d === 0 ? this.stats.rd : this.stats.wr;
      // only a direction that has done I/O is checked (fio: bytes_done[ddir])
      if (ds.bytes === 0) continue;
      if (this.minRateSince[d]! >= 0) {
        const spentNs = now - this.minRateSince[d]!;
        if (spentNs < job.rateCycleNs) continue;
        if (minBps > 0 && ((ds.bytes - this.minRateBytes[d]!) * 1e9) / spentNs < minBps) return true;
        if (minIops > 0 && ((ds.ios - this.minRateIos[d]!) * 1e9) / spentNs < minIops) return true;
      }
      this.minRateSince[d] = now;
      this.minRateBytes[d] = ds.bytes;
      this.minRateIos[d] = ds.ios;
    }
    return false;
  }

  /** After an I/O is issued: when this direction may issue next (fio's usec_for_io). */
  private advanceRate(d: number, lenBytes: number): void {
    const bps = this.rateBps[d]!;
    if (bps === 0) return;
    this.rateIssuedBytes[d]! += lenBytes;
    if (this.job.rateProcess === 'poisson') {
      const iops = bps / this.minBytes[d]!;
      const u = this.rand.poisson[d]!.next();
      this.poissonLastNs[d]! += (1e9 / iops) * -Math.log(1 - u);
      this.nextIssueNs[d] = Math.round(this.poissonLastNs[d]!);
    } else {
      this.nextIssueNs[d] = Math.round((this.rateIssuedBytes[d]! * 1e9) / bps);
    }
  }

  /** fio's td_io_queue plus the reap that follows it in do_io. */
  private *queueOne(io: IoU, countIssue: boolean): Generator<number, void, void> {
    this.prepQueue(io, countIssue);
    const queued = this.engine!.queue(this.ctx, io);
    const ret = typeof queued === 'number' ? queued : yield* queued;
    if (this.engine!.sync && ret === FIO_Q.COMPLETED) this.completedInline(io);
    else yield* this.afterQueue(io, ret, countIssue);
  }

  /** The start of td_io_queue: the io_u's clocks, and the issue counted against size and rate. */
  private prepQueue(io: IoU, countIssue: boolean): void {
    io.startNs = this.now;
    // a synchronous engine's I/O is issued the moment it is queued (fio fills issue_time first)
    io.issueNs = this.engine!.sync ? io.startNs : 0;
    if (countIssue && (io.ddir === 'read' || io.ddir === 'write')) {
      const d = io.ddir === 'read' ? 0 : 1;
      this.bytesIssuedThisLoop += io.lenBytes;
      this.dataIosIssued++;
      this.files[io.fileIndex]!.issuedBytes += io.lenBytes;
      (d === 0 ? this.stats.rd : this.stats.wr).issued++;
      if (this.rateBps[d] !== 0) this.advanceRate(d, io.lenBytes);
    }
  }

  /** A synchronous engine completed the io_u inside queue(): one submit, one reap, depth 1. */
  private completedInline(io: IoU): void {
    this.noteDepth(1);
    this.stats.submit[1]!++;
    this.stats.complete[1]!++;
    this.lastDdir = io.ddir;
    if (io.ddir === 'write') this.noteWriteIssued(io);
    this.complete(io);
  }

  /** The rest of td_io_queue for an async engine: commit a full batch, requeue on BUSY, reap when full. */
  private *afterQueue(io: IoU, ret: QueueResult, countIssue: boolean): Generator<number, void, void> {
    let full = false;
    if (ret === FIO_Q.COMPLETED) {
      this.noteDepth(1);
      this.lastDdir = io.ddir;
      if (io.ddir === 'write') this.noteWriteIssued(io);
      this.complete(io);
    } else if (ret === FIO_Q.QUEUED) {
      this.noteQueued(io);
      if (this.queued >= this.batchSubmit) yield* this.commit();
    } else {
      // FIO_Q_BUSY: take the issue back, queue it again after reaping
      if (countIssue && (io.ddir === 'read' || io.ddir === 'write')) {
        this.bytesIssuedThisLoop -= io.lenBytes;
        this.files[io.fileIndex]!.issuedBytes -= io.lenBytes;
        (io.ddir === 'read' ? this.stats.rd : this.stats.wr).issued--;
      }
      this.requeued = io;
      yield* this.commit();
      full = this.curDepth > 1;
      if (!full) {
        // nothing in flight to wait for: the engine cannot take the I/O at all
        this.requeued = undefined;
        io.result = -EIO;
        this.complete(io);
      }
    }
    full = full || this.queueFull();
    const polling = this.completeMin === 0 && this.completeMax === 0;
    if (full || polling) yield* this.waitForCompletions();
  }

  /**
   * afterQueue's most common case, done without its generator frame: queued, no batch to commit
   * yet, a free io_u left and not polling. False when afterQueue must run instead.
   */
  private queuedInPlace(io: IoU, ret: QueueResult): boolean {
    if (ret !== FIO_Q.QUEUED || this.queued + 1 >= this.batchSubmit || this.queueFull()) return false;
    if (this.completeMin === 0 && this.completeMax === 0) return false;
    this.noteQueued(io);
    return true;
  }

  private noteQueued(io: IoU): void {
    this.queued++;
    this.lastDdir = io.ddir;
    if (io.ddir === 'write') this.noteWriteIssued(io);
  }

  private noteWriteIssued(io: IoU): void {
    this.writesIssued++;
    this.lastWriteFile = io.fileIndex;
  }

  /** fio's io_u_mark_depth: `n` I/Os submitted at the current depth. */
  private noteDepth(n: number): void {
    this.stats.depth[depthBucket(this.curDepth)]! += n;
  }

  /** fio's td_io_commit: submit what was queued (one io_submit / io_uring_enter). */
  private *commit(): Generator<number, void, void> {
    if (this.queued === 0 || this.engine!.sync) return;
    yield* payUserTime(this.ctx);
    this.noteDepth(this.queued);
    const n = yield* this.engine!.commit(this.ctx);
    if (n < 0) {
      this.stats.noteError(n);
      this.failed = true;
    } else {
      this.stats.submit[batchBucket(n)]!++;
    }
    this.queued = 0;
  }

  /** fio's wait_for_completions: reap at least one, and down to iodepth_low when the queue is full. */
  private *waitForCompletions(): Generator<number, void, void> {
    if (this.engine!.sync) return;
    const full = this.queueFull();
    const inFlight = this.curDepth - (this.requeued ? 1 : 0);
    let minEvts = Math.min(this.completeMin, inFlight);
    if ((full && minEvts === 0) || this.completeMin === 0) minEvts = 1;
    do {
      const got = yield* this.reap(minEvts, undefined);
      // (an engine that returns nothing for a blocking reap must not spin the loop in place)
      if (got <= 0 || this.failed) return;
    } while (full && this.curDepth - (this.requeued ? 1 : 0) > this.iodepthLow);
  }

  /** fio's io_u_queued_complete + td_io_getevents: commit, then reap. */
  private *reap(minEvts: number, timeoutNs: number | undefined): Generator<number, number, void> {
    const inFlight = this.curDepth - (this.requeued ? 1 : 0);
    if (inFlight <= 0) return 0;
    if (minEvts > 0) yield* this.commit();
    const min = Math.min(minEvts, inFlight);
    let max = Math.min(this.completeMax || inFlight, inFlight);
    if (min > max) max = min;
    yield* payUserTime(this.ctx);
    const done = yield* this.engine!.getevents(this.ctx, min, max, timeoutNs);
    this.stats.complete[batchBucket(done.length)]!++;
    for (const io of done) this.complete(io);
    return done.length;
  }

  /** Every I/O in flight completes (fio's io_u_quiesce, and the end of do_io). */
  private *drain(): Generator<number, void, void> {
    if (this.engine!.sync) return;
    if (this.requeued) {
      const io = this.requeued;
      this.requeued = undefined;
      this.putIoU(io);
    }
    yield* this.commit();
    while (this.curDepth > 0 && !this.failed) {
      const got = yield* this.reap(this.curDepth, undefined);
      if (got <= 0) break;
    }
  }

  /** fio's io_completed + account_io_completion for one finished io_u. */
  private complete(io: IoU): void {
    this.checkRamp();
    const now = this.now;
    const stats = this.stats;
    this.putIoU(io);
    if (io.ddir === 'fsync' || io.ddir === 'fdatasync') {
      if (io.result < 0) {
        stats.noteError(io.result);
      } else if (!this.endFsyncing) {
        stats.fsync.record(now - (io.issueNs || io.startNs));
      }
      return;
    }
    // thinktime_blocks counts I/Os done, failed ones included (a failing job still thinks)
    this.completedBlocks++;
    let result = io.result;
    if (result === 0 && io.lenBytes > 0) result = -EIO; // fio: "full resid", nothing moved
    if (result < 0) {
      // SIMPLIFICATION: fio stops a job at its first I/O error (continue_on_error=none); kiotrace's
      // job goes on and counts each one, so a trace shows every failing call
      stats.noteError(result);
      return;
    }
    const ds = io.ddir === 'read' ? stats.rd : stats.wr;
    // SIMPLIFICATION: fio requeues the rest of a short I/O; kiotrace counts it short and moves on
    if (result < io.lenBytes) ds.shortIos++;
    const issueNs = io.issueNs || io.startNs;
    if (!this.engine!.sync) ds.slat.record(issueNs - io.startNs);
    ds.clat.record(now - issueNs);
    if (!ds.latIsClat) ds.lat.record(now - io.startNs);
    ds.bytes += result;
    ds.windows.record(now - stats.statsStartNs, result);
    stats.latencyBuckets.record(now - io.startNs);
    this.ioBlocks++;
    // fio's account_io_completion: an I/O over latency_target counts against the current depth
    if (this.job.latencyTargetNs > 0 && now - io.startNs > this.job.latencyTargetNs) this.latMissed();
  }

  /** fio's handle_thinktime trigger: thinktime_blocks I/Os completed since the last think. */
  private thinkDue(io: IoU): boolean {
    if (this.job.thinktimeNs <= 0 || (io.ddir !== 'read' && io.ddir !== 'write')) return false;
    return this.completedBlocks >= this.lastThinkBlocks + Math.max(1, this.job.thinktimeBlocks);
  }

  /** fio's handle_thinktime: drain the queue, then sleep thinktime. */
  private *think(): Generator<number, void, void> {
    yield* payUserTime(this.ctx);
    if (!this.engine!.sync) yield* this.drain();
    this.lastThinkBlocks = this.completedBlocks;
    // thinktime_spin: usec_spin() burns user CPU, then the rest of thinktime is slept
    const spinNs = Math.min(this.job.thinktimeSpinNs, this.job.thinktimeNs);
    if (spinNs > 0) {
      this.stats.userNs += spinNs;
      yield spinNs;
    }
    // SIMPLIFICATION: fio's usleep() sleeps without a traced clock_nanosleep syscall
    if (this.job.thinktimeNs > spinNs) yield* sysClockNanosleep(this.k, this.task, this.job.thinktimeNs - spinNs);
  }
}
