// Models: mm/page-writeback.c and fs/fs-writeback.c: dirty-page thresholds, the per-device flusher
// kworker (wb_workfn: periodic kupdate writeback of inodes dirtied more than dirty_expire ago,
// background writeback above dirty_background_ratio), ->writepages building write bios, and the
// throttling of writers that dirty too much.
// SIMPLIFICATION: balance_dirty_pages is a threshold throttle (sleep while dirty pages exceed
// dirty_ratio) instead of Linux's pos_ratio control law; the flusher writes whole inodes in
// MIN_WRITEBACK_PAGES chunks; no per-cgroup writeback.

import type { Kernel } from '../kernel/kernel.js';
import { mkdev } from '../kernel/kernel.js';
import { Task, TaskState, type TaskBody } from '../kernel/sched/task.js';
import { scheduleTimeout } from '../kernel/time/timer.js';
import type { File, Inode } from '../fs/types.js';
import { PAGE_SIZE, PG, type Folio } from './mm_types.js';
import { bioAlloc, blkFinishPlug, blkStartPlug, submitBio } from '../block/blk-core.js';
import { BlkStatus, ReqFlag, ReqOp, type Bio, type BioVec } from '../block/blk_types.js';
import { folioWaitWriteback, mapBlocksTraced } from './filemap.js';
import { EIO, ENOSPC } from '../uapi/errno.js';
import { WRITEPAGE_NS } from '../hw/cpu.js';
import type { WritebackWork } from '../trace/events.js';
import { persistPageVersion } from './data-gen.js';
import { folioMkclean } from './memory.js';

/** vm.dirty_background_ratio, vm.dirty_ratio (percent of dirtyable memory). */
export const DIRTY_BACKGROUND_RATIO = 10;
export const DIRTY_RATIO = 20;
/** vm.dirty_writeback_centisecs = 500: the flusher wakes every 5 s. */
export const DIRTY_WRITEBACK_INTERVAL_NS = 5_000_000_000;
/** vm.dirty_expire_centisecs = 3000: data older than 30 s is written by kupdate. */
export const DIRTY_EXPIRE_NS = 30_000_000_000;
/** MIN_WRITEBACK_PAGES: 4 MiB per inode per pass. */
export const MIN_WRITEBACK_PAGES = 1024;
/** ratelimit_pages: a writer checks the thresholds every 32 pages it dirties. */
const RATELIMIT_PAGES = 32;
/** How long a throttled writer sleeps per pause (min_pause-like, 10 ms). */
const THROTTLE_PAUSE_NS = 10_000_000;

/** enum wb_reason */
export const WbReason = { BACKGROUND: 0, VMSCAN: 1, SYNC: 2, PERIODIC: 3 } as const;
/** enum writeback_sync_modes */
export const WbSync = { NONE: 0, ALL: 1 } as const;

/** struct bdi_writeback: one device's dirty inodes and its flusher. */
export class BdiWriteback {
  /** b_dirty: inode -> dirtied_when (insertion order is age order). */
  readonly dirty = new Map<Inode, number>();
  flusher: Task | undefined;
  flusherAsleep = false;
  wakePending = false;

  constructor(
    readonly name: string,
    readonly dev: number,
  ) {}
}

export class Writeback {
  private readonly bdis = new Map<number, BdiWriteback>();
  private readonly dirtiedSinceCheck = new WeakMap<Task, number>();
  nrWritten = 0;

  constructor(private readonly k: Kernel) {}

  /** The bdi name Linux prints ("MAJOR:MINOR"). */
  bdiName(inode: Inode): string {
    return this.bdiFor(inode).name;
  }

  bdiFor(inode: Inode): BdiWriteback {
    const dev = inode.bdevDev;
    let b = this.bdis.get(dev);
    if (!b) {
      b = new BdiWriteback(bdiNameOf(dev), dev);
      this.bdis.set(dev, b);
    }
    return b;
  }

  get thresholds(): { backgroundPages: number; dirtyPages: number } {
    const dirtyable = this.k.mm.dirtyablePages;
    return {
      backgroundPages: Math.floor((dirtyable * DIRTY_BACKGROUND_RATIO) / 100),
      dirtyPages: Math.floor((dirtyable * DIRTY_RATIO) / 100),
    };
  }

  /** __mark_inode_dirty: put the inode on its device's dirty list (keeps the first dirtied time). */
  inodeDirtied(inode: Inode): void {
    const b = this.bdiFor(inode);
    if (!b.dirty.has(inode)) b.dirty.set(inode, this.k.env.nowNs);
  }

  /** Starts one flusher kworker per device that holds a filesystem. */
  startFlusher(dev: number, spawn: (comm: string, body: (t: Task) => TaskBody) => Task): void {
    const b = this.bdis.get(dev) ?? new BdiWriteback(bdiNameOf(dev), dev);
    this.bdis.set(dev, b);
    b.flusher = spawn(`kworker/u8:${this.bdis.size}-flush-${b.name}`, (t) => this.flusherBody(t, b));
  }

  private wakeFlusher(b: BdiWriteback): void {
    const t = b.flusher;
    if (!t) return;
    if (b.flusherAsleep) this.k.sched.wakeFromContext(t);
    else b.wakePending = true;
  }

  /** balance_dirty_pages_ratelimited */
  *balanceDirtyPagesRatelimited(task: Task): Generator<number, void, void> {
    const n = (this.dirtiedSinceCheck.get(task) ?? 0) + 1;
    if (n < RATELIMIT_PAGES) {
      this.dirtiedSinceCheck.set(task, n);
      return;
    }
    this.dirtiedSinceCheck.set(task, 0);
    const mm = this.k.mm;
    for (;;) {
      const { backgroundPages, dirtyPages } = this.thresholds;
      const dirty = mm.nrDirty + mm.nrWriteback;
      if (mm.nrDirty > backgroundPages) {
        for (const b of this.bdis.values()) {
          if (b.dirty.size === 0) continue;
          if (this.k.tp.writeback_wake_background.enabled) this.k.tp.writeback_wake_background.emit(this.k.sched.cpu(task.cpu), task.ioId, b.name);
          this.wakeFlusher(b);
        }
      }
      if (dirty <= dirtyPages) return;
      // over the limit: pause and let writeback catch up
      yield* scheduleTimeout(this.k, task, THROTTLE_PAUSE_NS, TaskState.UNINTERRUPTIBLE);
    }
  }

  private *flusherBody(t: Task, b: BdiWriteback): Generator<number, void, void> {
    const k = this.k;
    for (;;) {
      if (!b.wakePending) {
        b.flusherAsleep = true;
        yield* scheduleTimeout(k, t, DIRTY_WRITEBACK_INTERVAL_NS, TaskState.INTERRUPTIBLE);
        b.flusherAsleep = false;
      }
      // a timer wakeup is wb_check_old_data_flush's periodic (kupdate) pass
      let periodicTick = !b.wakePending;
      b.wakePending = false;
      // wb_writeback: keep going while over the background threshold or while expired inodes
      // remain, one MIN_WRITEBACK_PAGES chunk per inode per pass
      for (;;) {
        const { backgroundPages } = this.thresholds;
        const background = k.mm.nrDirty > backgroundPages;
        const now = k.env.nowNs;
        const inodes: Inode[] = [];
        for (const [inode, when] of b.dirty) if (background || now - when >= DIRTY_EXPIRE_NS) inodes.push(inode);
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
        const cpu = () => k.sched.cpu(t.cpu);
        if (k.tp.writeback_start.enabled) k.tp.writeback_start.emit(cpu(), ioId, work);
        let written = 0;
        for (const inode of inodes) {
          written += yield* this.writepages(t, inode, ioId, WbSync.NONE, 0, Infinity, MIN_WRITEBACK_PAGES);
          if (background && k.mm.nrDirty <= backgroundPages) break;
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
        if (k.tp.global_dirty_state.enabled) {
          const th = this.thresholds;
          k.tp.global_dirty_state.emit(cpu(), ioId, k.mm.nrDirty, k.mm.nrWriteback, th.backgroundPages, th.dirtyPages, k.stat.pgdirtied, this.nrWritten);
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
    const mapping = inode.mapping;
    const q = k.queueByDev(inode.bdevDev);
    if (!q) return 0;
    const firstIndex = Math.floor(startBytes / PAGE_SIZE);
    const lastIndex = endBytes === Infinity ? Infinity : Math.floor((endBytes - 1) / PAGE_SIZE);
    const dirty: Folio[] = [];
    for (const f of mapping.dirtyFolios) if (f.index >= firstIndex && f.index <= lastIndex) dirty.push(f);
    dirty.sort((a, b) => a.index - b.index);
    if (dirty.length > maxPages) dirty.length = maxPages;
    if (dirty.length === 0) {
      if (mapping.nrDirty === 0) this.bdiFor(inode).dirty.delete(inode);
      return 0;
    }
    const flags = syncMode === WbSync.ALL ? ReqFlag.SYNC : 0;
    const sectorsPerBlock = inode.blockSizeBytes / 512;
    const bpp = PAGE_SIZE / inode.blockSizeBytes;
    blkStartPlug(task);
    let run: Folio[] = [];
    let runSector = -1;
    let nextSector = -1;
    let submitted = 0;
    const self = this;
    const flush = function* (): Generator<number, void, void> {
      if (run.length === 0) return;
      const vecs: BioVec[] = run.map((f) => ({ pfn: f.pfn, offsetBytes: 0, lenBytes: PAGE_SIZE }));
      const bio = bioAlloc(k, task, ioId, q, ReqOp.WRITE, flags, runSector, vecs, (b: Bio) => self.endWriteBio(b), run);
      run = [];
      yield* submitBio(k, task, q, bio);
    };
    for (const f of dirty) {
      // an older writeback of this page must finish first; it may also have been cleaned by
      // another writer while we slept, so look at the dirty bit again after waiting
      yield* folioWaitWriteback(k, task, f);
      if (!folioClearDirtyForIo(k, f)) continue;
      folioStartWriteback(k, f);
      yield WRITEPAGE_NS;
      const ext = yield* mapBlocksTraced(k, task, inode, f.index * bpp, bpp, true);
      if (!ext) {
        // no space to allocate: the page stays dirty and fsync reports the error
        mapping.wbError = -ENOSPC;
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
    if (mapping.nrDirty === 0) this.bdiFor(inode).dirty.delete(inode);
    k.stat.pgwriteback += submitted;
    this.nrWritten += submitted;
    return submitted;
  }

  private endWriteBio(bio: Bio): void {
    const folios = bio.private_ as Folio[];
    const failed = bio.status !== BlkStatus.OK;
    for (const f of folios) {
      if (failed && f.mapping) {
        // mapping_set_error + folio_redirty_for_writepage: fsync will see -EIO
        f.mapping.wbError = -EIO;
        accountFolioDirtied(this.k, f);
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
    const err = inode.mapping.wbError;
    inode.mapping.wbError = 0;
    return err;
  }
}

/** Marks a folio dirty in its mapping's tag and the global counts (folio_account_dirtied). */
export function accountFolioDirtied(k: Kernel, f: Folio): void {
  if (f.flags & PG.dirty) return;
  f.flags |= PG.dirty;
  f.dirtiedNs = k.env.nowNs;
  k.mm.nrDirty++;
  const mapping = f.mapping;
  if (mapping) {
    mapping.dirtyFolios.add(f);
    k.wb.inodeDirtied(mapping.host);
  }
}

/** folio_clear_dirty_for_io: returns whether the folio was dirty. */
export function folioClearDirtyForIo(k: Kernel, f: Folio): boolean {
  if (!(f.flags & PG.dirty)) return false;
  if (f.mapcount > 0) folioMkclean(k, f);
  f.flags &= ~PG.dirty;
  k.mm.nrDirty--;
  f.mapping?.dirtyFolios.delete(f);
  return true;
}

/** folio_start_writeback */
export function folioStartWriteback(k: Kernel, f: Folio): void {
  f.flags |= PG.writeback;
  f.wbVersion = f.dataVersion;
  k.mm.nrWriteback++;
  f.mapping?.writebackFolios.add(f);
}

/** folio_end_writeback: clear PG_writeback and wake whoever waits for it. */
export function folioEndWriteback(k: Kernel, f: Folio): void {
  if (!(f.flags & PG.writeback)) return;
  f.flags &= ~PG.writeback;
  k.mm.nrWriteback--;
  f.mapping?.writebackFolios.delete(f);
  f.waiters?.wakeAll();
}

/** The bdi name Linux prints for a device: "MAJOR:MINOR". */
function bdiNameOf(dev: number): string {
  return `${Math.floor(dev / 2 ** 20)}:${dev % 2 ** 20}`;
}

export { mkdev };
