// Models: an LSM-tree key-value store with leveled compaction, as RocksDB runs one (db/flush_job.cc,
// db/compaction/compaction_picker_level.cc, db/write_controller.cc, the Get path of
// db/version_set.cc), as a kiotrace fio engine built from real syscalls. Each read io_u is a point
// lookup (Get) of the key its offset names: it preads one block from every level-0 file (their key
// ranges overlap, newest first) and from the one file per deeper level whose range holds the key,
// so a lookup costs (L0 files + levels) preads: read amplification. Two threads of the job's
// process do the background work: "rocksdb:high" flushes each memtable (filled by puts at
// put_rate) to a new L0 file (pwrite, fsync); "rocksdb:low" compacts, picking by RocksDB's level
// scores (L0: files / level0_file_num_compaction_trigger; Ln: bytes / its target,
// max_bytes_for_level_base times max_bytes_for_level_multiplier per level) and merging the inputs
// (pread) into new files of target_file_size_base (pwrite, fsync each). compaction_cgroup puts the
// compaction thread in its own cgroup, so io.max can throttle it: L0 then grows, and lookups pread
// more files. Writes slow to delayed_write_rate at level0_slowdown_writes_trigger L0 files and stop
// at level0_stop_writes_trigger; a writer with max_write_buffer_number memtables full stalls.
// SIMPLIFICATION: keys are positions in [0, 1) spread evenly over a file's blocks, every key is
// new (a merge keeps all its input bytes) and every lookup reaches the last level (no bloom
// filters, no block cache, no early hit), so each probe is one device read of bs bytes; no WAL;
// SST files are fixed-size slots of the job's file (deleting an input frees its slot; no unlink or
// block allocation); one compaction at a time, no subcompactions, no trivial moves; put CPU time
// is not modelled; one immutable memtable is tracked, so with max_write_buffer_number above 2 the
// writer never stalls on full memtables (only on level0_stop_writes_trigger).

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { TaskState } from '../../kernel/sched/task.js';
import type { EngineContext, IoEngineOps, IoU, QueueResult } from './engine.js';
import { FIO_Q } from './engine.js';
import { sysFsync, sysMmap } from '../../fs/open.js';
import { sysPread64, sysPwrite64 } from '../../fs/read_write.js';
import { MAP, PROT } from '../../mm/mmap.js';
import { scheduleTimeout } from '../../kernel/time/timer.js';
import { ioSchedule } from '../../block/blk-core.js';
import { WaitQueue } from '../../sim/process.js';
import { EBADF, EINTR, EINVAL } from '../../uapi/errno.js';
import { NO_LIMITS } from '../../cgroup/memcontrol.js';
import { copyThread } from '../../kernel/fork.js';

/** The store's options, RocksDB's names (ColumnFamilyOptions / DBOptions). */
export interface LsmSpec {
  /** Bytes per second the application puts (the memtable fill rate; not a RocksDB option). */
  readonly putRateBps: number;
  readonly writeBufferSizeBytes: number;
  readonly maxWriteBufferNumber: number;
  readonly targetFileSizeBaseBytes: number;
  readonly maxBytesForLevelBase: number;
  readonly maxBytesForLevelMultiplier: number;
  readonly level0FileNumCompactionTrigger: number;
  readonly level0SlowdownWritesTrigger: number;
  readonly level0StopWritesTrigger: number;
  readonly delayedWriteRateBps: number;
  readonly numLevels: number;
  /** The cgroup the compaction thread runs in ("" : the job's own). */
  readonly compactionCgroup: string;
}

/** RocksDB's defaults (advanced_options.h, options.h); put_rate is kiotrace's. */
export const LSM_DEFAULTS: LsmSpec = {
  putRateBps: 16 * 2 ** 20,
  writeBufferSizeBytes: 64 * 2 ** 20,
  maxWriteBufferNumber: 2,
  targetFileSizeBaseBytes: 64 * 2 ** 20,
  maxBytesForLevelBase: 256 * 2 ** 20,
  maxBytesForLevelMultiplier: 10,
  level0FileNumCompactionTrigger: 4,
  level0SlowdownWritesTrigger: 20,
  level0StopWritesTrigger: 36,
  delayedWriteRateBps: 16 * 2 ** 20,
  numLevels: 7,
  compactionCgroup: '',
};

/** writable_file_max_buffer_size (1 MiB): flush and compaction write, and read their inputs, in these. */
const LSM_IO_BYTES = 2 ** 20;

/** An SST file: a slot of the job's file holding `bytes` of keys in [lo, hi). */
interface SstFile {
  readonly slot: number;
  readonly bytes: number;
  readonly lo: number;
  readonly hi: number;
}

/** What the store did, for reports and tests. */
export interface LsmStats {
  lookups: number;
  /** preads the lookups made (read amplification = probes / lookups). */
  probes: number;
  flushes: number;
  compactions: number;
  compactionReadBytes: number;
  compactionWriteBytes: number;
  /** Time the writer could not put (memtables full, or L0 at the stop trigger). */
  writeStallNs: number;
  /** L0 files now, and the most seen. */
  l0Files: number;
  maxL0Files: number;
  /** Sum over lookups of the L0 files each probed. */
  l0FilesProbed: number;
  /** The job's file ran out of free slots: flushes and compactions stopped (ENOSPC). */
  outOfSpace: boolean;
}

interface Compaction {
  readonly inputs: SstFile[];
  readonly outputLevel: number;
  readonly lo: number;
  readonly hi: number;
}

/** One job's store: its version (the files of each level), free slots and background threads. */
class LsmDb {
  /** levels[0] newest first; deeper levels sorted by key. */
  readonly levels: SstFile[][];
  private readonly freeSlots: number[] = [];
  readonly slotBytes: number;
  /** compact_cursor per level: where the next compaction from it starts. */
  private readonly cursor: number[];
  readonly stats: LsmStats = { lookups: 0, probes: 0, flushes: 0, compactions: 0, compactionReadBytes: 0, compactionWriteBytes: 0, writeStallNs: 0, l0Files: 0, maxL0Files: 0, l0FilesProbed: 0, outOfSpace: false };
  /** Version changes (a flush or compaction installed): background waiters recheck. */
  readonly versionChanged = new WaitQueue();
  readonly threadsExited = new WaitQueue();
  liveThreads = 0;
  stopping = false;
  readonly sleepers = new Set<Task>();

  constructor(
    readonly spec: LsmSpec,
    fileBytes: number,
  ) {
    this.slotBytes = spec.targetFileSizeBaseBytes;
    const nSlots = Math.floor(fileBytes / this.slotBytes);
    for (let s = 0; s < nSlots; s++) this.freeSlots.push(s);
    this.levels = Array.from({ length: spec.numLevels }, () => []);
    this.cursor = new Array<number>(spec.numLevels).fill(0);
    // the store starts loaded: half the slots hold levels 1.. filled to their targets, in order
    let left = Math.floor(nSlots / 2) * this.slotBytes;
    for (let level = 1; level < spec.numLevels && left > 0; level++) {
      const bytes = level === spec.numLevels - 1 ? left : Math.min(left, this.targetBytes(level));
      this.levels[level] = this.makeFiles(bytes, 0, 1) ?? [];
      left -= bytes;
    }
  }

  /** MaxBytesForLevel: the base, times the multiplier per level below L1. */
  targetBytes(level: number): number {
    return this.spec.maxBytesForLevelBase * this.spec.maxBytesForLevelMultiplier ** (level - 1);
  }

  levelBytes(level: number): number {
    let n = 0;
    for (const f of this.levels[level]!) n += f.bytes;
    return n;
  }

  /**
   * Files of at most target_file_size_base covering [lo, hi) evenly, in key order, in free slots;
   * undefined when the job's file has too few free slots left (the store is full: ENOSPC).
   */
  makeFiles(bytes: number, lo: number, hi: number): SstFile[] | undefined {
    const n = Math.max(1, Math.ceil(bytes / this.slotBytes));
    if (n > this.freeSlots.length) {
      this.stats.outOfSpace = true;
      return undefined;
    }
    const out: SstFile[] = [];
    let done = 0;
    for (let i = 0; i < n; i++) {
      const b = i === n - 1 ? bytes - done : this.slotBytes;
      const slot = this.freeSlots.shift()!;
      out.push({ slot, bytes: b, lo: lo + ((hi - lo) * done) / bytes, hi: i === n - 1 ? hi : lo + ((hi - lo) * (done + b)) / bytes });
      done += b;
    }
    return out;
  }

  freeFile(f: SstFile): void {
    // keep the free list sorted, so slot choice is the same whatever the order files die in
    let i = this.freeSlots.length;
    while (i > 0 && this.freeSlots[i - 1]! > f.slot) i--;
    this.freeSlots.splice(i, 0, f.slot);
  }

  /** The file of a sorted level holding `key`. */
  fileFor(level: number, key: number): SstFile | undefined {
    const files = this.levels[level]!;
    let lo = 0;
    let hi = files.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const f = files[mid]!;
      if (key < f.lo) hi = mid - 1;
      else if (key >= f.hi) lo = mid + 1;
      else return f;
    }
    return undefined;
  }

  /** Where a key's block of `blockBytes` lies in the job's file. */
  blockOffset(f: SstFile, key: number, blockBytes: number): number {
    const blocks = Math.max(1, Math.floor(f.bytes / blockBytes));
    const idx = Math.min(blocks - 1, Math.max(0, Math.floor(((key - f.lo) / (f.hi - f.lo)) * blocks)));
    return f.slot * this.slotBytes + idx * blockBytes;
  }

  /** LevelCompactionPicker: the level with the highest score of at least 1, or none. */
  pickCompaction(): Compaction | undefined {
    const spec = this.spec;
    let best = 1;
    let from = -1;
    const l0Score = this.levels[0]!.length / spec.level0FileNumCompactionTrigger;
    if (l0Score >= best) {
      best = l0Score;
      from = 0;
    }
    for (let level = 1; level < spec.numLevels - 1; level++) {
      const score = this.levelBytes(level) / this.targetBytes(level);
      if (score > best) {
        best = score;
        from = level;
      }
    }
    if (from < 0) return undefined;
    if (from === 0) {
      // every L0 file overlaps the whole key range, so all of L0 and all of L1 merge
      return { inputs: [...this.levels[0]!, ...this.levels[1]!], outputLevel: 1, lo: 0, hi: 1 };
    }
    const files = this.levels[from]!;
    const start = files.find((f) => f.lo >= this.cursor[from]!) ?? files[0]!;
    this.cursor[from] = start.hi >= 1 ? 0 : start.hi;
    const overlap = this.levels[from + 1]!.filter((f) => f.hi > start.lo && f.lo < start.hi);
    const lo = Math.min(start.lo, ...overlap.map((f) => f.lo));
    const hi = Math.max(start.hi, ...overlap.map((f) => f.hi));
    return { inputs: [start, ...overlap], outputLevel: from + 1, lo, hi };
  }

  /** LogAndApply: the inputs leave their levels (slots freed), the outputs join theirs. */
  install(c: Compaction, outputs: SstFile[]): void {
    const dead = new Set(c.inputs);
    for (let level = 0; level < this.levels.length; level++) this.levels[level] = this.levels[level]!.filter((f) => !dead.has(f));
    for (const f of c.inputs) this.freeFile(f);
    const level = this.levels[c.outputLevel]!;
    level.push(...outputs);
    level.sort((a, b) => a.lo - b.lo);
    this.stats.l0Files = this.levels[0]!.length;
    this.versionChanged.wakeAll();
  }
}

/** Sleeps up to `ns` (interruptible: stopping the store wakes it). */
function* bgSleep(k: Kernel, db: LsmDb, t: Task, ns: number): Generator<number, void, void> {
  db.sleepers.add(t);
  yield* scheduleTimeout(k, t, ns, TaskState.INTERRUPTIBLE);
  db.sleepers.delete(t);
}

/** Waits for the next version change (or the store stopping). */
function* waitVersion(k: Kernel, db: LsmDb, t: Task): Generator<number, void, void> {
  db.sleepers.add(t);
  t.state = TaskState.INTERRUPTIBLE;
  db.versionChanged.add(t);
  yield* ioSchedule(k, t, false);
  db.versionChanged.remove(t);
  db.sleepers.delete(t);
}

/** Writes `f` (bytes of a flushed memtable or of a compaction's merge) and fsyncs it. */
function* writeFile(k: Kernel, t: Task, fd: number, buf: number, db: LsmDb, f: SstFile, beforeChunk?: () => Generator<number, void, void>): Generator<number, number, void> {
  for (let off = 0; off < f.bytes; off += LSM_IO_BYTES) {
    if (db.stopping) return -EINTR;
    if (beforeChunk) yield* beforeChunk();
    const n = Math.min(LSM_IO_BYTES, f.bytes - off);
    const r = yield* sysPwrite64(k, t, fd, buf, n, f.slot * db.slotBytes + off);
    if (r < 0) return r;
  }
  return yield* sysFsync(k, t, fd);
}

/** BGWorkFlush: turns each full memtable into an L0 file, and runs the write controller. */
function* flushThread(k: Kernel, t: Task, db: LsmDb, fd: number): Generator<number, void, void> {
  const spec = db.spec;
  const buf = yield* sysMmap(k, t, 0, LSM_IO_BYTES, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  // the memtable being filled began at activeStartNs; `immutable` is a full one waiting to flush
  let activeStartNs = k.env.nowNs;
  let immutable = false;
  const fillNs = (): number => {
    const slow = db.levels[0]!.length >= spec.level0SlowdownWritesTrigger;
    const rate = slow ? Math.min(spec.putRateBps, spec.delayedWriteRateBps) : spec.putRateBps;
    return Math.ceil((spec.writeBufferSizeBytes / rate) * 1e9);
  };
  let activeFillNs = fillNs();
  while (!db.stopping && buf > 0) {
    if (!immutable) {
      const readyNs = activeStartNs + activeFillNs;
      if (k.env.nowNs < readyNs) yield* bgSleep(k, db, t, readyNs - k.env.nowNs);
      if (db.stopping) break;
      if (k.env.nowNs < readyNs) continue;
      activeStartNs = readyNs;
      activeFillNs = fillNs();
    }
    immutable = false;
    const file = db.makeFiles(spec.writeBufferSizeBytes, 0, 1)?.[0];
    if (file === undefined || (yield* writeFile(k, t, fd, buf, db, file)) < 0) break;
    db.levels[0]!.unshift(file);
    db.stats.flushes++;
    db.stats.l0Files = db.levels[0]!.length;
    db.stats.maxL0Files = Math.max(db.stats.maxL0Files, db.stats.l0Files);
    db.versionChanged.wakeAll();
    // the active memtable filled while this one flushed: with every buffer full the writer stalled
    const fullAtNs = activeStartNs + activeFillNs;
    if (spec.maxWriteBufferNumber <= 2 && fullAtNs <= k.env.nowNs) {
      db.stats.writeStallNs += k.env.nowNs - fullAtNs;
      immutable = true;
      activeStartNs = k.env.nowNs;
      activeFillNs = fillNs();
    }
    // level0_stop_writes_trigger: no puts until compaction brings L0 down
    const stopAtNs = k.env.nowNs;
    while (!db.stopping && db.levels[0]!.length >= spec.level0StopWritesTrigger) yield* waitVersion(k, db, t);
    if (k.env.nowNs > stopAtNs) {
      db.stats.writeStallNs += k.env.nowNs - stopAtNs;
      activeStartNs += k.env.nowNs - stopAtNs;
    }
  }
  db.liveThreads--;
  db.threadsExited.wakeAll();
}

/** BGWorkCompaction: one compaction at a time, whenever a level's score reaches 1. */
function* compactionThread(k: Kernel, t: Task, db: LsmDb, fd: number): Generator<number, void, void> {
  const buf = yield* sysMmap(k, t, 0, LSM_IO_BYTES, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  while (!db.stopping && buf > 0) {
    const c = db.pickCompaction();
    if (!c) {
      yield* waitVersion(k, db, t);
      continue;
    }
    let total = 0;
    for (const f of c.inputs) total += f.bytes;
    const outputs = db.makeFiles(total, c.lo, c.hi);
    if (outputs === undefined) break;
    // the merge: read the inputs in order, a chunk ahead of each chunk written
    let input = 0;
    let inputOff = 0;
    let failed = false;
    const readChunk = function* (): Generator<number, void, void> {
      let want = LSM_IO_BYTES;
      while (want > 0 && input < c.inputs.length) {
        const f = c.inputs[input]!;
        const n = Math.min(want, f.bytes - inputOff);
        const r = yield* sysPread64(k, t, fd, buf, n, f.slot * db.slotBytes + inputOff);
        if (r < 0) failed = true;
        db.stats.compactionReadBytes += n;
        want -= n;
        inputOff += n;
        if (inputOff >= f.bytes) {
          input++;
          inputOff = 0;
        }
      }
    };
    for (const out of outputs) {
      if (db.stopping || failed || (yield* writeFile(k, t, fd, buf, db, out, readChunk)) < 0) {
        failed = true;
        break;
      }
      db.stats.compactionWriteBytes += out.bytes;
    }
    if (failed) {
      for (const f of outputs) db.freeFile(f);
      break;
    }
    db.install(c, outputs);
    db.stats.compactions++;
  }
  db.liveThreads--;
  db.threadsExited.wakeAll();
}

/** The stores of running jobs, by job task, for tests and reports. */
const stores = new WeakMap<Task, LsmDb>();

/** The store a job's lsm engine runs (undefined for other engines). */
export function lsmStatsOf(task: Task): LsmStats | undefined {
  return stores.get(task)?.stats;
}

export function createLsmEngine(): IoEngineOps {
  let db: LsmDb | undefined;
  return {
    name: 'lsm',
    sync: true,
    *init(ctx: EngineContext): Generator<number, number, void> {
      const spec = ctx.job.lsm ?? LSM_DEFAULTS;
      const fd = ctx.fds[0] ?? -1;
      if (fd < 0) return -EBADF;
      if (spec.writeBufferSizeBytes > spec.targetFileSizeBaseBytes) return -EINVAL;
      const store = new LsmDb(spec, ctx.job.fileSizeBytes);
      db = store;
      stores.set(ctx.task, store);
      const k = ctx.k;
      store.liveThreads = 2;
      copyThread(k, ctx.task, 'rocksdb:high', (t) => flushThread(k, t, store, fd));
      const low = copyThread(k, ctx.task, 'rocksdb:low', (t) => compactionThread(k, t, store, fd));
      if (spec.compactionCgroup !== '') low.memcg = k.mm.memcgByName(spec.compactionCgroup) ?? k.mm.createMemcg(spec.compactionCgroup, NO_LIMITS);
      return 0;
    },
    *queue(ctx: EngineContext, io: IoU): Generator<number, QueueResult, void> {
      const fd = ctx.fds[io.fileIndex] ?? -1;
      const store = db;
      if (fd < 0 || store === undefined) {
        io.result = -EBADF;
        return FIO_Q.COMPLETED;
      }
      // Get: the key's block in every L0 file (newest first), then in its file on each level
      const key = io.offsetBytes / ctx.job.fileSizeBytes;
      const probe = [...store.levels[0]!];
      store.stats.l0FilesProbed += probe.length;
      for (let level = 1; level < store.levels.length; level++) {
        const f = store.fileFor(level, key);
        if (f) probe.push(f);
      }
      io.result = io.lenBytes;
      for (const f of probe) {
        const r = yield* sysPread64(ctx.k, ctx.task, fd, io.bufVa, io.lenBytes, store.blockOffset(f, key, io.lenBytes));
        store.stats.probes++;
        if (r < 0) {
          io.result = r;
          break;
        }
      }
      store.stats.lookups++;
      return FIO_Q.COMPLETED;
    },
    *commit(): Generator<number, number, void> {
      return 0;
    },
    *getevents(): Generator<number, readonly IoU[], void> {
      return [];
    },
    *cleanup(ctx: EngineContext): Generator<number, void, void> {
      const store = db;
      if (store === undefined) return;
      // DB::Close: stop the background threads and wait for them
      store.stopping = true;
      for (const t of store.sleepers) t.wake();
      while (store.liveThreads > 0) {
        ctx.task.state = TaskState.INTERRUPTIBLE;
        store.threadsExited.add(ctx.task);
        yield* ioSchedule(ctx.k, ctx.task);
        store.threadsExited.remove(ctx.task);
      }
    },
  };
}
