// Models: mm/page-writeback.c and fs/fs-writeback.c: the per-device flusher kworker (wb_workfn:
// periodic kupdate writeback of inodes dirtied more than dirty_expire ago, background writeback
// while wb_over_bg_thresh), ->writepages building write bios, the dirty/writeback page accounting
// per wb, and balance_dirty_pages(): writers that dirty faster than the disk writes are paused by
// the IO-less control law of page-writeback-throttle.ts.
// SIMPLIFICATION: the flusher writes whole inodes in MIN_WRITEBACK_PAGES chunks
// (writeback_chunk_size's bandwidth-sized chunks are not modelled); no per-cgroup writeback.
// SIMPLIFICATION: pages an exiting task dirtied but was not yet throttled for are dropped, not
// handed to the next dirtier (dirty_throttle_leaks).

import { errseqCheckAndAdvance, errseqSet } from '../lib/errseq.js';
import type { Kernel } from '../kernel/kernel.js';
import { mkdev } from '../kernel/kernel.js';
import { PREEMPT, Task, TaskState, type TaskBody } from '../kernel/sched/task.js';
import { scheduleTimeout } from '../kernel/time/timer.js';
import type { File, Inode } from '../fs/types.js';
import { PAGE_SIZE, PG, type AddressSpace, type Folio } from './mm_types.js';
import { bioAlloc, blkFinishPlug, blkStartPlug, ioSchedule, submitBio } from '../block/blk-core.js';
import { BlkStatus, ReqFlag, ReqOp, blkStatusToErrno, type Bio, type BioVec } from '../block/blk_types.js';
import { folioWaitWriteback, mapBlocksTraced } from './filemap.js';
import { ENOSPC } from '../uapi/errno.js';
import { WRITEPAGE_NS } from '../hw/cpu.js';
import type { WritebackWork } from '../trace/events.js';
import type { HitContext } from '../trace/probe.js';
import { Priority } from '../sim/engine.js';
import { DEFAULT_VM, type VmSpec } from '../userspace/job.js';
import {
  BANDWIDTH_INTERVAL,
  DIRTY_EXCEEDED_RATELIMIT,
  HZ,
  NS_PER_JIFFY,
  RATELIMIT_CALC_SHIFT,
  WbDirtyState,
  WbDomain,
  dirtyFreerunCeiling,
  dirtyPollInterval,
  domainDirtyLimits,
  kbps,
  newDirtyThrottleControl,
  ratelimitPages,
  wbBandwidthEstimateStart,
  wbCalcThresh,
  wbDirtyLimits,
  wbMaxPause,
  wbMinPause,
  wbPositionRatio,
  wbStatError,
  wbUpdateBandwidth,
  wbWriteoutAdd,
  type DirtyThrottleControl,
  type MinPause,
} from './page-writeback-throttle.js';
import { persistPageVersion } from './data-gen.js';
import { folioMkclean } from './memory.js';

/** MIN_WRITEBACK_PAGES: 4 MiB per inode per pass. */
export const MIN_WRITEBACK_PAGES = 1024;
const NS_PER_CENTISEC = 10_000_000;

/** enum wb_reason */
export const WbReason = { BACKGROUND: 0, VMSCAN: 1, SYNC: 2, PERIODIC: 3 } as const;
/** enum writeback_sync_modes */
export const WbSync = { NONE: 0, ALL: 1 } as const;

/** struct bdi_writeback: one device's dirty inodes, its flusher, and its dirty-throttling state. */
export class BdiWriteback extends WbDirtyState {
  /** b_dirty: inode -> dirtied_when (insertion order is age order). */
  readonly dirty = new Map<Inode, number>();
  flusher: Task | undefined;
  flusherAsleep = false;
  wakePending = false;
  /** bw_dwork is queued: a bandwidth update 200 ms after an inode's writeback ended. */
  bwDworkPending = false;

  constructor(
    readonly name: string,
    readonly dev: number,
  ) {
    super();
  }
}

export class Writeback {
  private readonly bdis = new Map<number, BdiWriteback>();
  /** global_wb_domain */
  readonly domain = new WbDomain();
  /** NR_WRITTEN: pages whose writeback completed. */
  nrWritten = 0;
  /** Per-CPU bdp_ratelimits: pages dirtied on each CPU since a dirtier last checked. */
  readonly bdpRatelimits: number[];
  /** ratelimit_pages (writeback_set_ratelimit). */
  private readonly ratelimitPages: number;
  private readonly writebackIntervalNs: number;
  private readonly expireNs: number;
  /** Scratch dirty_throttle_control for balance_dirty_pages and for the background checks. */
  private readonly gdtc = newDirtyThrottleControl();
  private readonly bgdtc = newDirtyThrottleControl();
  private readonly minPause: MinPause = { minPause: 0, nrDirtiedPause: 0 };
  private readonly bwDworkFn = (b: BdiWriteback): void => {
    b.bwDworkPending = false;
    wbUpdateBandwidth(undefined, this.domain, b, this.jiffies());
  };

  constructor(
    private readonly k: Kernel,
    readonly vm: VmSpec = DEFAULT_VM,
  ) {
    this.writebackIntervalNs = vm.dirtyWritebackCentisecs * NS_PER_CENTISEC;
    this.expireNs = vm.dirtyExpireCentisecs * NS_PER_CENTISEC;
    const nrCpus = k.sched.cpus.length;
    this.bdpRatelimits = new Array<number>(nrCpus).fill(0);
    // writeback_set_ratelimit at boot: the domain's limit starts at thresh
    const dtc = this.globalDirtyLimits(this.bgdtc, true);
    this.domain.dirtyLimit = dtc.thresh;
    this.ratelimitPages = ratelimitPages(dtc.thresh, nrCpus);
  }

  /** jiffies (HZ = 1000). */
  jiffies(): number {
    return Math.floor(this.k.env.nowNs / NS_PER_JIFFY);
  }

  /** The bdi name Linux prints ("MAJOR:MINOR"). */
  bdiName(inode: Inode): string {
    return this.bdiFor(inode).name;
  }

  bdiFor(inode: Inode): BdiWriteback {
    const dev = inode.bdevDev;
    let b = this.bdis.get(dev);
    if (!b) {
      b = new BdiWriteback(bdiNameOf(dev), dev);
      b.bwTimeStamp = this.jiffies();
      this.bdis.set(dev, b);
    }
    return b;
  }

  /** domain_dirty_limits of the global domain: dirtyable memory, thresh and bg_thresh. */
  private globalDirtyLimits(dtc: DirtyThrottleControl, includeWriteback: boolean): DirtyThrottleControl {
    const mm = this.k.mm;
    // global_dirtyable_memory (+1: never 0)
    dtc.avail = mm.dirtyablePages + 1;
    dtc.dirty = includeWriteback ? mm.nrDirty + mm.nrWriteback : mm.nrDirty;
    domainDirtyLimits(dtc, this.vm);
    return dtc;
  }

  /** domain_dirty_limits' trace_global_dirty_state. */
  private traceGlobalDirtyState(ctx: HitContext, ioId: number, dtc: DirtyThrottleControl): void {
    const k = this.k;
    k.tp.global_dirty_state.emit(ctx, ioId, k.mm.nrDirty, k.mm.nrWriteback, dtc.bgThresh, dtc.thresh, this.domain.dirtyLimit, k.stat.pgdirtied, this.nrWritten);
  }

  /** The global background and throttling thresholds now (global_dirty_limits), in pages. */
  get thresholds(): { backgroundPages: number; dirtyPages: number } {
    const dtc = this.globalDirtyLimits(this.bgdtc, true);
    return { backgroundPages: dtc.bgThresh, dirtyPages: dtc.thresh };
  }

  /** __mark_inode_dirty: put the inode on its device's dirty list (keeps the first dirtied time). */
  inodeDirtied(inode: Inode): BdiWriteback {
    const b = this.bdiFor(inode);
    if (!b.dirty.has(inode)) b.dirty.set(inode, this.k.env.nowNs);
    return b;
  }

  /** Starts one flusher kworker per device that holds a filesystem. */
  startFlusher(dev: number, spawn: (comm: string, body: (t: Task) => TaskBody) => Task): void {
    const b = this.bdis.get(dev) ?? new BdiWriteback(bdiNameOf(dev), dev);
    this.bdis.set(dev, b);
    b.flusher = spawn(`kworker/u8:${this.bdis.size}-flush-${b.name}`, (t) => this.flusherBody(t, b));
  }

  /** wb_wakeup: run the flusher's work now (again, if it is running). */
  private wakeFlusher(b: BdiWriteback): void {
    const t = b.flusher;
    if (!t) return;
    b.wakePending = true;
    if (b.flusherAsleep) this.k.sched.wakeFromContext(t);
  }

  /** writeback_in_progress: the flusher is running a pass. */
  private writebackInProgress(b: BdiWriteback): boolean {
    return b.flusher !== undefined && !b.flusherAsleep;
  }

  /** wb_start_background_writeback */
  private startBackgroundWriteback(b: BdiWriteback, task: Task): void {
    if (this.k.tp.writeback_wake_background.enabled) this.k.tp.writeback_wake_background.emit(this.k.sched.cpu(task.cpu), task.ioId, b.name);
    this.wakeFlusher(b);
  }

  /** wb_over_bg_thresh: dirty (not under writeback) over bg_thresh, globally or for this wb's share. */
  private wbOverBgThresh(b: BdiWriteback, ctx: HitContext, ioId: number): boolean {
    const dtc = this.globalDirtyLimits(this.bgdtc, false);
    if (this.k.tp.global_dirty_state.enabled) this.traceGlobalDirtyState(ctx, ioId, dtc);
    if (dtc.dirty > dtc.bgThresh) return true;
    return b.nrReclaimable > wbCalcThresh(this.domain, b, dtc.bgThresh, this.jiffies());
  }

  /**
   * balance_dirty_pages_ratelimited: a dirtier looks at the dirty state once it has dirtied
   * nr_dirtied_pause pages (fewer while its wb is over its limit), or when its CPU has dirtied
   * ratelimit_pages since anyone looked.
   */
  *balanceDirtyPagesRatelimited(task: Task, inode: Inode): Generator<number, void, void> {
    const b = this.bdiFor(inode);
    let ratelimit = task.nrDirtiedPause;
    if (b.dirtyExceeded) ratelimit = Math.min(ratelimit, DIRTY_EXCEEDED_RATELIMIT);
    const cpu = task.cpu;
    if (task.nrDirtied >= ratelimit) {
      this.bdpRatelimits[cpu] = 0;
    } else if (this.bdpRatelimits[cpu]! >= this.ratelimitPages) {
      this.bdpRatelimits[cpu] = 0;
      ratelimit = 0;
    }
    if (task.nrDirtied >= ratelimit) yield* this.balanceDirtyPages(task, b, task.nrDirtied);
  }

  /**
   * balance_dirty_pages: below the freerun ceiling the dirtier runs free; above it, it sleeps so
   * that it dirties at task_ratelimit = dirty_ratelimit x pos_ratio, which holds dirty memory
   * near the setpoint while the wb's dirty_ratelimit follows its write bandwidth.
   */
  private *balanceDirtyPages(task: Task, b: BdiWriteback, pagesDirtied: number): Generator<number, void, void> {
    const k = this.k;
    const dtc = this.gdtc;
    const startJiffies = this.jiffies();
    for (;;) {
      let now = this.jiffies();
      const nrDirty = k.mm.nrDirty;
      this.globalDirtyLimits(dtc, true);
      if (k.tp.global_dirty_state.enabled) this.traceGlobalDirtyState(k.sched.cpu(task.cpu), task.ioId, dtc);
      dtc.freerun = dtc.dirty <= dirtyFreerunCeiling(dtc.thresh, dtc.bgThresh);
      if (nrDirty > dtc.bgThresh && !this.writebackInProgress(b)) this.startBackgroundWriteback(b, task);
      if (dtc.freerun) {
        task.dirtyPausedWhen = now;
        task.nrDirtied = 0;
        task.nrDirtiedPause = dirtyPollInterval(dtc.dirty, dtc.thresh);
        return;
      }
      if (!this.writebackInProgress(b)) this.startBackgroundWriteback(b, task);
      // balance_wb_limits
      wbDirtyLimits(dtc, this.domain, b, now);
      dtc.dirtyExceeded = dtc.wbDirty > dtc.wbThresh && dtc.dirty > dtc.thresh;
      wbPositionRatio(dtc, this.domain, b);
      b.dirtyExceeded = dtc.dirtyExceeded;
      if (now > b.bwTimeStamp + BANDWIDTH_INTERVAL) {
        wbUpdateBandwidth(dtc, this.domain, b, now);
        const tp = k.tp.bdi_dirty_ratelimit;
        if (tp.enabled) {
          tp.emit(k.sched.cpu(task.cpu), task.ioId, b.name, kbps(b.writeBandwidth), kbps(b.avgWriteBandwidth), kbps(b.lastDirtyRate), kbps(b.dirtyRatelimit), kbps(b.lastTaskRatelimit), kbps(b.balancedDirtyRatelimit));
        }
      }
      const dirtyRatelimit = b.dirtyRatelimit;
      const taskRatelimit = Math.floor((dirtyRatelimit * dtc.posRatio) / (1 << RATELIMIT_CALC_SHIFT));
      const maxPause = wbMaxPause(b, dtc.wbDirty);
      wbMinPause(this.minPause, b, maxPause, taskRatelimit, dirtyRatelimit);
      const { minPause, nrDirtiedPause } = this.minPause;
      let period: number;
      let pause: number;
      if (taskRatelimit === 0) {
        period = maxPause;
        pause = maxPause;
      } else {
        period = Math.floor((HZ * pagesDirtied) / taskRatelimit);
        pause = period;
        if (task.dirtyPausedWhen !== 0) pause -= now - task.dirtyPausedWhen;
        // a pause too short to sleep: carry it (and up to 1 s of think time) into the next period
        if (pause < minPause) {
          this.traceBalanceDirtyPages(task, b, dtc, dirtyRatelimit, taskRatelimit, pagesDirtied, period, Math.min(pause, 0), startJiffies);
          if (pause < -HZ) {
            task.dirtyPausedWhen = now;
            task.nrDirtied = 0;
          } else if (period > 0) {
            task.dirtyPausedWhen += period;
            task.nrDirtied = 0;
          } else if (task.nrDirtiedPause <= pagesDirtied) {
            task.nrDirtiedPause += pagesDirtied;
          }
          return;
        }
        if (pause > maxPause) {
          now += Math.min(pause - maxPause, maxPause);
          pause = maxPause;
        }
      }
      this.traceBalanceDirtyPages(task, b, dtc, dirtyRatelimit, taskRatelimit, pagesDirtied, period, pause, startJiffies);
      k.stat.dirtyThrottlePauses++;
      k.stat.dirtyThrottlePauseNs += pause * NS_PER_JIFFY;
      // io_schedule_timeout in TASK_KILLABLE
      yield* scheduleTimeout(k, task, pause * NS_PER_JIFFY, TaskState.UNINTERRUPTIBLE, true);
      task.dirtyPausedWhen = now + pause;
      task.nrDirtied = 0;
      task.nrDirtiedPause = nrDirtiedPause;
      if (taskRatelimit > 0) return;
      // over the limit: keep sleeping while this wb still has pages the flusher can clean
      if (dtc.wbDirty <= wbStatError(k.sched.cpus.length)) return;
    }
  }

  private traceBalanceDirtyPages(task: Task, b: BdiWriteback, dtc: DirtyThrottleControl, dirtyRatelimit: number, taskRatelimit: number, dirtied: number, period: number, pause: number, startJiffies: number): void {
    const tp = this.k.tp.balance_dirty_pages;
    if (!tp.enabled) return;
    const jiffies = this.jiffies();
    const freerun = dirtyFreerunCeiling(dtc.thresh, dtc.bgThresh);
    const setpoint = Math.floor((dtc.limit + freerun) / 2);
    const msPerJiffy = 1000 / HZ;
    tp.emit(
      this.k.sched.cpu(task.cpu),
      task.ioId,
      b.name,
      dtc.limit,
      setpoint,
      dtc.dirty,
      Math.floor((setpoint * dtc.wbThresh) / (dtc.thresh + 1)),
      dtc.wbDirty,
      kbps(dirtyRatelimit),
      kbps(taskRatelimit),
      dirtied,
      task.nrDirtiedPause,
      (jiffies - startJiffies) * msPerJiffy,
      pause * msPerJiffy,
      period * msPerJiffy,
      task.dirtyPausedWhen === 0 ? 0 : (jiffies - task.dirtyPausedWhen) * msPerJiffy,
    );
  }

  /** wb_inode_writeback_end: an inode's writeback finished; update the bandwidth 200 ms later. */
  inodeWritebackEnd(b: BdiWriteback): void {
    if (b.bwDworkPending) return;
    b.bwDworkPending = true;
    this.k.env.after(BANDWIDTH_INTERVAL * NS_PER_JIFFY, Priority.NORMAL, this.bwDworkFn, b);
  }

  private *flusherBody(t: Task, b: BdiWriteback): Generator<number, void, void> {
    const k = this.k;
    for (;;) {
      if (!b.wakePending) {
        b.flusherAsleep = true;
        if (this.writebackIntervalNs > 0) {
          yield* scheduleTimeout(k, t, this.writebackIntervalNs, TaskState.INTERRUPTIBLE);
        } else {
          // dirty_writeback_centisecs = 0: no periodic writeback, only explicit wakeups
          t.state = TaskState.INTERRUPTIBLE;
          yield* ioSchedule(k, t, false);
        }
        b.flusherAsleep = false;
      }
      // a timer wakeup is wb_check_old_data_flush's periodic (kupdate) pass
      let periodicTick = !b.wakePending && this.writebackIntervalNs > 0;
      b.wakePending = false;
      // wb_writeback: keep going while over the background threshold or while expired inodes
      // remain, one MIN_WRITEBACK_PAGES chunk per inode per pass
      for (;;) {
        const cpu = () => k.sched.cpu(t.cpu);
        const background = this.wbOverBgThresh(b, cpu(), 0);
        const now = k.env.nowNs;
        const inodes: Inode[] = [];
        for (const [inode, when] of b.dirty) if (background || now - when >= this.expireNs) inodes.push(inode);
        // the periodic pass starts (and is traced) whenever this device has dirty data, even
        // when none of it has expired yet; it then writes nothing
        const periodic = periodicTick && !background && b.dirty.size > 0;
        periodicTick = false;
        if (inodes.length === 0 && !periodic) break;
        const ioId = k.newIoId();
        t.ioId = ioId;
        let pages = 0;
        for (const inode of inodes) pages += inode.mapping.nrDirty;
        const work: WritebackWork = {
          bdiName: b.name,
          // kupdate work asks for every dirty page in the system (get_nr_dirty_pages())
          nrPages: background ? pages : k.mm.nrDirty,
          // kupdate and background work is not tied to one superblock (work->sb is NULL)
          sbDev: 0,
          syncMode: WbSync.NONE,
          forKupdate: !background,
          forBackground: background,
          reason: background ? WbReason.BACKGROUND : WbReason.PERIODIC,
        };
        if (k.tp.writeback_start.enabled) k.tp.writeback_start.emit(cpu(), ioId, work);
        let written = 0;
        for (const inode of inodes) {
          written += yield* this.writepages(t, inode, ioId, WbSync.NONE, 0, Infinity, MIN_WRITEBACK_PAGES);
          if (background && !this.wbOverBgThresh(b, cpu(), ioId)) break;
          // writeback_sb_inodes: cond_resched() between inodes
          if (k.sched.condResched(t)) yield PREEMPT;
        }
        if (k.tp.writeback_written.enabled) {
          k.tp.writeback_written.emit(cpu(), ioId, {
            bdiName: work.bdiName,
            nrPages: written,
            sbDev: work.sbDev,
            syncMode: work.syncMode,
            forKupdate: work.forKupdate,
            forBackground: work.forBackground,
            reason: work.reason,
          });
        }
        t.ioId = 0;
        if (written === 0) break; // no progress (everything under writeback): wait for the next tick
      }
    }
  }

  /**
   * do_writepages / mpage_writepages: write the inode's dirty folios in [startBytes, endBytes) as
   * bios of contiguous blocks, visiting only dirty-tagged folios. WB_SYNC_ALL bios carry REQ_SYNC.
   * Returns the pages submitted.
   */
  *writepages(task: Task, inode: Inode, ioId: number, syncMode: number, startBytes: number, endBytes: number, maxPages: number): Generator<number, number, void> {
    const k = this.k;
    // a filesystem without a block device writes its own way (nfs_writepages)
    const own = inode.aops.writepages;
    if (own) return yield* own(task, inode, ioId, syncMode, startBytes, endBytes, maxPages);
    const mapping = inode.mapping;
    const q = k.queueByDev(inode.bdevDev);
    if (!q) return 0;
    const firstIndex = Math.floor(startBytes / PAGE_SIZE);
    const lastIndex = endBytes === Infinity ? Infinity : Math.floor((endBytes - 1) / PAGE_SIZE);
    const dirty: Folio[] = [];
    for (const f of mapping.dirtyFolios) if (f.index >= firstIndex && f.index <= lastIndex) dirty.push(f);
    dirty.sort((a, b) => a.index - b.index);
    if (dirty.length > maxPages) dirty.length = maxPages;
    const wb = this.bdiFor(inode);
    if (dirty.length === 0) {
      if (mapping.nrDirty === 0) wb.dirty.delete(inode);
      return 0;
    }
    wbBandwidthEstimateStart(wb, this.jiffies());
    const flags = syncMode === WbSync.ALL ? ReqFlag.SYNC : 0;
    const sectorsPerBlock = inode.blockSizeBytes / 512;
    const bpp = PAGE_SIZE / inode.blockSizeBytes;
    blkStartPlug(task);
    let run: Folio[] = [];
    let runSector = -1;
    let nextSector = -1;
    let submitted = 0;
    const self = this;
    let inBatch = 0;
    const flush = function* (): Generator<number, void, void> {
      if (run.length === 0) return;
      const vecs: BioVec[] = run.map((f) => ({ pfn: f.pfn, offsetBytes: 0, lenBytes: PAGE_SIZE }));
      const bio = bioAlloc(k, task, ioId, q, ReqOp.WRITE, flags, runSector, vecs, (b: Bio) => self.endWriteBio(b), run);
      // wbc_init_bio: writeback is charged to the cgroup that owns the pages, not the flusher
      bio.blkcg = run[0]!.memcg;
      // ext4's io_submit_init_bio: the bio carries the inode's write hint
      bio.writeHint = inode.writeHint;
      run = [];
      yield* submitBio(k, task, q, bio);
    };
    for (const f of dirty) {
      // writeback_get_folio: cond_resched() before each new folio batch, folio_lock()'s
      // might_sleep() for each folio
      if (inBatch === PAGEVEC_SIZE) {
        inBatch = 0;
        if (k.sched.condResched(task)) yield PREEMPT;
      }
      inBatch++;
      if (k.sched.mightResched(task)) yield PREEMPT;
      // an older writeback of this page must finish first; it may also have been cleaned by
      // another writer while we slept, so look at the dirty bit again after waiting
      yield* folioWaitWriteback(k, task, f);
      if (!folioClearDirtyForIo(k, f)) continue;
      folioStartWriteback(k, f);
      // SIMPLIFICATION: the whole per-folio setup counts as spent under the i_pages xa_lock that
      // __folio_start_writeback takes (preemption off)
      k.sched.preemptDisable(task);
      yield WRITEPAGE_NS;
      if (k.sched.preemptEnable(task)) yield PREEMPT;
      const ext = yield* mapBlocksTraced(k, task, inode, f.index * bpp, bpp, true);
      if (!ext) {
        // no space to allocate: the page stays dirty and fsync reports the error
        mappingSetError(mapping, -ENOSPC);
        accountFolioDirtied(k, f);
        folioEndWriteback(k, f);
        continue;
      }
      const sector = ext.pblk * sectorsPerBlock;
      if (run.length > 0 && sector !== nextSector) yield* flush();
      if (run.length === 0) runSector = sector;
      run.push(f);
      submitted++;
      nextSector = sector + bpp * sectorsPerBlock;
      if (run.length >= 256) yield* flush();
    }
    yield* flush();
    const ns = blkFinishPlug(k, task);
    if (ns > 0) yield ns;
    if (mapping.nrDirty === 0) wb.dirty.delete(inode);
    k.stat.pgwriteback += submitted;
    // do_writepages: under constant writeback, keep the bandwidth estimate fresh
    const now = this.jiffies();
    if (now > wb.bwTimeStamp + BANDWIDTH_INTERVAL) wbUpdateBandwidth(undefined, this.domain, wb, now);
    return submitted;
  }

  private endWriteBio(bio: Bio): void {
    const folios = bio.private_ as Folio[];
    const failed = bio.status !== BlkStatus.OK;
    for (const f of folios) {
      if (failed && f.mapping) {
        // ext4_finish_bio: mapping_set_error; the folio stays clean (its data is not on the
        // device), so only fsync's error report tells the application
        mappingSetError(f.mapping, blkStatusToErrno(bio.status));
      } else if (f.mapping) {
        persistPageVersion(f.mapping, f.index, f.wbVersion);
      }
      folioEndWriteback(this.k, f);
    }
  }

  /**
   * file_write_and_wait_range: write the range with WB_SYNC_ALL, wait for every page of it under
   * writeback, and report (once) any writeback error. Returns 0 or -errno.
   */
  *writeAndWait(task: Task, file: File, ioId: number, startBytes: number, endBytes: number): Generator<number, number, void> {
    const inode = file.inode;
    yield* this.writepages(task, inode, ioId, WbSync.ALL, startBytes, endBytes, Infinity);
    const first = Math.floor(startBytes / PAGE_SIZE);
    const last = endBytes === Infinity ? Infinity : Math.floor((endBytes - 1) / PAGE_SIZE);
    for (const f of [...inode.mapping.writebackFolios]) {
      if (f.index < first || f.index > last) continue;
      yield* folioWaitWriteback(this.k, task, f);
    }
    return fileCheckAndAdvanceWbErr(file);
  }
}

/** mapping_set_error: record a writeback error on the mapping's errseq_t (and AS_EIO / AS_ENOSPC). */
export function mappingSetError(mapping: AddressSpace, err: number): void {
  mapping.wbErr = errseqSet(mapping.wbErr, err);
}

/**
 * file_check_and_advance_wb_err: the writeback error this file has not reported yet, once: every
 * file open when it happened reports it at its next fsync, then no more.
 */
export function fileCheckAndAdvanceWbErr(file: File): number {
  const mapping = file.inode.mapping;
  const r = errseqCheckAndAdvance(mapping.wbErr, file.fWbErr);
  mapping.wbErr = r.eseq;
  file.fWbErr = r.since;
  return r.err;
}

/**
 * Marks a folio dirty in its mapping's tag and the counts (folio_account_dirtied): NR_FILE_DIRTY,
 * the wb's WB_RECLAIMABLE and WB_DIRTIED, current->nr_dirtied and this CPU's bdp_ratelimits.
 */
export function accountFolioDirtied(k: Kernel, f: Folio): void {
  if (f.flags & PG.dirty) return;
  f.flags |= PG.dirty;
  f.dirtiedNs = k.env.nowNs;
  k.mm.nrDirty++;
  const mapping = f.mapping;
  if (mapping) {
    mapping.dirtyFolios.add(f);
    const wb = k.wb.inodeDirtied(mapping.host);
    wb.nrReclaimable++;
    wb.nrDirtied++;
    const cpu = k.sched.ctxCpu;
    cpu.current.nrDirtied++;
    k.wb.bdpRatelimits[cpu.id]!++;
  }
}

/** folio_clear_dirty_for_io: returns whether the folio was dirty. */
export function folioClearDirtyForIo(k: Kernel, f: Folio): boolean {
  if (!(f.flags & PG.dirty)) return false;
  if (f.mapcount > 0) folioMkclean(k, f);
  f.flags &= ~PG.dirty;
  k.mm.nrDirty--;
  const mapping = f.mapping;
  if (mapping) {
    mapping.dirtyFolios.delete(f);
    k.wb.bdiFor(mapping.host).nrReclaimable--;
  }
  return true;
}

/** folio_start_writeback */
export function folioStartWriteback(k: Kernel, f: Folio): void {
  f.flags |= PG.writeback;
  f.wbVersion = f.dataVersion;
  k.mm.nrWriteback++;
  const mapping = f.mapping;
  if (mapping) {
    mapping.writebackFolios.add(f);
    k.wb.bdiFor(mapping.host).nrWriteback++;
  }
}

/**
 * folio_end_writeback: clear PG_writeback, count the completion for the wb (__wb_writeout_add:
 * its bandwidth and its share of the dirty limit) and wake whoever waits for it.
 */
export function folioEndWriteback(k: Kernel, f: Folio): void {
  if (!(f.flags & PG.writeback)) return;
  f.flags &= ~PG.writeback;
  k.mm.nrWriteback--;
  k.wb.nrWritten++;
  const mapping = f.mapping;
  if (mapping) {
    mapping.writebackFolios.delete(f);
    const wb = k.wb.bdiFor(mapping.host);
    wb.nrWriteback--;
    wbWriteoutAdd(k.wb.domain, wb, k.wb.jiffies(), 1);
    if (mapping.writebackFolios.size === 0) k.wb.inodeWritebackEnd(wb);
  }
  if (f.flags & PG.reclaim) k.mm.rotateReclaimable(f);
  f.waiters?.wakeAll();
}

/** Folios a folio_batch holds (PAGEVEC_SIZE): writeback looks them up, and reschedules, this many at a time. */
const PAGEVEC_SIZE = 31;

/** The bdi name Linux prints for a device: "MAJOR:MINOR". */
function bdiNameOf(dev: number): string {
  return `${Math.floor(dev / 2 ** 20)}:${dev % 2 ** 20}`;
}

export { mkdev };
