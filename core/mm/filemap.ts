// Models: mm/filemap.c: the page cache's read path (filemap_read, filemap_get_pages), folio
// locking and waiting (folio_wait_locked, folio_end_read), buffered writes
// (generic_perform_write), and readahead I/O submission (read_pages -> ->readahead, as
// fs/mpage.c builds bios from contiguous blocks).
// IOCB_NOWAIT (io_uring's inline attempt): a miss still starts readahead, then returns -EAGAIN
// instead of sleeping on the locked folio (filemap_update_page's folio_trylock failing).
// SIMPLIFICATION: a buffered read runs under a block plug for the whole call, so readahead bios
// reach the driver when the reader sleeps on the folio (schedule() flushes the plug, as
// sched_submit_work does) or when the read returns; Linux's read_pages finishes its own plug.

import { Folio, PAGE_SIZE, PG, VM, type AddressSpace, type FileRaState, type Vma } from './mm_types.js';
import { asyncRaWindow, FORCE_RA_CHUNK_PAGES, forceRaPages, readAroundWindow, syncRaWindow, type RaWindow } from './readahead.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { PREEMPT, TaskState } from '../kernel/sched/task.js';
import { FMODE, type File, type Inode, type Kiocb, type UserBuffer } from '../fs/types.js';
import { bioAlloc, blkFinishPlug, blkStartPlug, ioSchedule, submitBio } from '../block/blk-core.js';
import { BlkStatus, ReqFlag, ReqOp, type Bio, type BioVec } from '../block/blk_types.js';
import { copyNs, EXTENT_LOOKUP_NS, FOLIO_ALLOC_NS, MARK_DIRTY_NS, PAGE_CACHE_LOOKUP_NS } from '../hw/cpu.js';
import { userRangeMapped } from './memory.js';
import type { HitContext } from '../trace/probe.js';
import { SimBug } from '../sim/errors.js';
import { accountFolioDirtied } from './page-writeback.js';
import { directReclaim } from './vmscan.js';
import { deviceVersion, nextPageVersion } from './data-gen.js';
import { EAGAIN, EFAULT, EIO, ENOMEM } from '../uapi/errno.js';
import { pipePush, type PipeInodeInfo } from '../fs/pipe.js';


/** filemap_add_folio: a new, locked folio in the page cache and on the LRU. */
export function filemapAddFolio(k: Kernel, ctx: HitContext, ioId: number, mapping: AddressSpace, index: number): Folio | undefined {
  // Linux returns -EEXIST here; our callers look the index up again after every sleep instead
  if (mapping.pages.has(index)) throw new SimBug(`page cache index ${index} of inode ${mapping.host.ino} already present`);
  const f = k.mm.allocFolio(ctx, ioId);
  if (!f) return undefined;
  f.flags = PG.locked;
  f.mapping = mapping;
  f.index = index;
  f.dataVersion = 0;
  mapping.pages.set(index, f);
  k.mm.nrFilePages++;
  k.mm.lruAdd(f);
  if (k.tp.mm_filemap_add_to_page_cache.enabled) k.tp.mm_filemap_add_to_page_cache.emit(ctx, ioId, f);
  return f;
}

/**
 * folio_put for a folio that left the page cache while its holder slept on it (an invalidation
 * removes such a folio but leaves it to its holders): the last reference frees it.
 */
export function folioPutRemoved(k: Kernel, f: Folio): void {
  if (f.refs === 0 && f.mapping === undefined) k.mm.freeFolio(f);
}

/** folio_unlock + wake_up_folio: the end of a read (folio_end_read). */
export function folioEndRead(f: Folio, ok: boolean): void {
  if (ok) f.flags |= PG.uptodate;
  f.flags &= ~PG.locked;
  f.waiters?.wakeAll();
}

/** folio_wait_locked: sleep (D state) until the folio is unlocked. */
export function* folioWaitLocked(k: Kernel, task: Task, f: Folio): Generator<number, void, void> {
  while (f.flags & PG.locked) {
    task.state = TaskState.UNINTERRUPTIBLE;
    f.waitQueue().add(task);
    if (k.tp.folio_wait.enabled) k.tp.folio_wait.emit(k.sched.cpu(task.cpu), task.ioId, f, 'PG_locked');
    yield* ioSchedule(k, task);
  }
}

/** folio_wait_writeback */
export function* folioWaitWriteback(k: Kernel, task: Task, f: Folio): Generator<number, void, void> {
  while (f.flags & PG.writeback) {
    task.state = TaskState.UNINTERRUPTIBLE;
    f.waitQueue().add(task);
    if (k.tp.folio_wait.enabled) k.tp.folio_wait.emit(k.sched.cpu(task.cpu), task.ioId, f, 'PG_writeback');
    yield* ioSchedule(k, task);
  }
}

/**
 * read_pages -> ->readahead (mpage_readahead): maps the folios' blocks and submits one bio per
 * run of contiguous blocks. Folios over holes are zeroed and made uptodate without I/O.
 */
export function* readPages(k: Kernel, task: Task, inode: Inode, folios: readonly Folio[], ioId: number, flags: number): Generator<number, void, void> {
  // a filesystem without a block device reads its own way (nfs_readahead)
  const ra = inode.aops.readahead;
  if (ra) return yield* ra(task, inode, folios, ioId);
  const q = k.queueByDev(inode.bdevDev);
  if (!q) throw new Error(`no queue for dev ${inode.bdevDev}`);
  const sectorsPerBlock = inode.blockSizeBytes / 512;
  const blocksPerPage = PAGE_SIZE / inode.blockSizeBytes;
  let run: Folio[] = [];
  let runSector = -1;
  let nextSector = -1;
  const flush = function* (): Generator<number, void, void> {
    if (run.length === 0) return;
    const vecs: BioVec[] = run.map((f) => ({ pfn: f.pfn, offsetBytes: 0, lenBytes: PAGE_SIZE }));
    const bio = bioAlloc(k, task, ioId, q, ReqOp.READ, flags, runSector, vecs, endReadBio, run);
    run = [];
    yield* submitBio(k, task, q, bio);
  };
  let i = 0;
  while (i < folios.length) {
    const f = folios[i]!;
    const lblk = f.index * blocksPerPage;
    const want = (folios.length - i) * blocksPerPage;
    const ext = yield* mapBlocksTraced(k, task, inode, lblk, want, false);
    if (!ext) {
      // a hole: zero-fill, no I/O
      yield* flush();
      folioEndRead(f, true);
      i++;
      continue;
    }
    const pages = Math.max(1, Math.floor(ext.len / blocksPerPage));
    for (let j = 0; j < pages && i < folios.length; j++, i++) {
      const g = folios[i]!;
      const sector = (ext.pblk + j * blocksPerPage) * sectorsPerBlock;
      if (run.length > 0 && sector !== nextSector) yield* flush();
      if (run.length === 0) runSector = sector;
      run.push(g);
      nextSector = sector + blocksPerPage * sectorsPerBlock;
      if (run.length >= 256) yield* flush(); // BIO_MAX_VECS
    }
  }
  yield* flush();
}

function endReadBio(bio: Bio): void {
  const folios = bio.private_ as Folio[];
  const ok = bio.status === BlkStatus.OK;
  for (const f of folios) {
    // the folio now holds what the device block held
    if (ok && f.mapping) f.dataVersion = deviceVersion(f.mapping, f.index);
    folioEndRead(f, ok);
  }
}

/**
 * filemap_read_folio: lock a folio that is not uptodate, read it alone through ->read_folio and
 * wait. Returns whether it is uptodate now.
 */
export function* filemapReadFolio(k: Kernel, task: Task, inode: Inode, f: Folio, ioId: number): Generator<number, boolean, void> {
  yield* folioWaitLocked(k, task, f);
  if (f.flags & PG.uptodate) return true;
  f.flags |= PG.locked;
  yield* readPages(k, task, inode, [f], ioId, ReqFlag.SYNC);
  yield* folioWaitLocked(k, task, f);
  return (f.flags & PG.uptodate) !== 0;
}

/** ext4_map_blocks with its enter/exit tracepoints, charged as an extent-cache lookup. */
export function* mapBlocksTraced(
  k: Kernel,
  task: Task,
  inode: Inode,
  lblk: number,
  len: number,
  create: boolean,
): Generator<number, MappedRange | undefined, void> {
  mapBlocksEnter(k, task, inode, lblk, len, create);
  yield EXTENT_LOOKUP_NS;
  return mapBlocksExit(k, task, inode, lblk, len, create);
}

/** A mapped run of blocks: pblk for `len` blocks from the logical block asked for. */
export interface MappedRange {
  readonly pblk: number;
  readonly len: number;
}

/**
 * mapBlocksTraced in two halves, for a hot caller that charges the lookup's EXTENT_LOOKUP_NS
 * itself (burnInline) between them instead of adding a generator frame.
 */
export function mapBlocksEnter(k: Kernel, task: Task, inode: Inode, lblk: number, len: number, create: boolean): void {
  if (k.tp.ext4_ext_map_blocks_enter.enabled) k.tp.ext4_ext_map_blocks_enter.emit(k.sched.cpu(task.cpu), task.ioId, inode, lblk, len, create ? 1 : 0);
}

export function mapBlocksExit(k: Kernel, task: Task, inode: Inode, lblk: number, len: number, create: boolean): MappedRange | undefined {
  const ext = inode.aops.mapBlocks(inode, lblk, len, create);
  if (k.tp.ext4_ext_map_blocks_exit.enabled) {
    k.tp.ext4_ext_map_blocks_exit.emit(k.sched.cpu(task.cpu), task.ioId, inode, create ? 1 : 0, ext ? ext.pblk : 0, lblk, ext ? Math.min(ext.len, len) : 0, ext ? Math.min(ext.len, len) : 0);
  }
  if (!ext) return undefined;
  return { pblk: ext.pblk, len: Math.min(ext.len, len) };
}

/**
 * page_cache_ra_unbounded for a window: allocates the missing folios, marks the async trigger
 * page PG_readahead, and reads them. Returns false if memory ran out.
 */
export function* doPageCacheRa(k: Kernel, task: Task, inode: Inode, w: RaWindow, ioId: number, isReadahead: boolean): Generator<number, boolean, void> {
  const mapping = inode.mapping;
  const endIndex = Math.ceil(inode.sizeBytes / PAGE_SIZE);
  const last = Math.min(w.start + w.size, endIndex);
  const markAt = w.start + w.size - w.asyncSize;
  let batch: Folio[] = [];
  let ok = true;
  const flags = isReadahead ? ReqFlag.RAHEAD : 0;
  for (let index = w.start; index < last; index++) {
    if (mapping.pages.has(index)) {
      // already cached: read what we gathered so far, skip this one
      if (batch.length > 0) {
        yield* readPages(k, task, inode, batch, ioId, flags);
        batch = [];
      }
      continue;
    }
    yield FOLIO_ALLOC_NS;
    if (k.mm.mustReclaim(task)) yield* directReclaim(k, task);
    if (mapping.pages.has(index)) {
      // another task added it while we were allocating: treat it as cached
      if (batch.length > 0) {
        yield* readPages(k, task, inode, batch, ioId, flags);
        batch = [];
      }
      continue;
    }
    const f = filemapAddFolio(k, k.sched.cpu(task.cpu), ioId, mapping, index);
    if (!f) {
      ok = false;
      break;
    }
    if (index === markAt && w.asyncSize > 0) f.flags |= PG.readahead;
    batch.push(f);
    k.stat.readaheadPages++;
  }
  if (batch.length > 0) yield* readPages(k, task, inode, batch, ioId, flags);
  return ok;
}

function prevMiss(mapping: AddressSpace, index: number, max: number): number {
  for (let i = index; i >= 0 && index - i < max; i--) if (!mapping.pages.has(i)) return i;
  return index - max < 0 ? -1 : index - max;
}

function nextMiss(mapping: AddressSpace, index: number, max: number): number {
  for (let i = index; i < index + max; i++) if (!mapping.pages.has(i)) return i;
  return -1;
}

/** bdi->io_pages: the device's largest request (max_sectors) in pages. */
function ioPages(k: Kernel, inode: Inode): number {
  const q = k.queueByDev(inode.bdevDev);
  return q ? Math.floor((q.limits.maxSectors * 512) / PAGE_SIZE) : (inode.aops.bdi?.ioPages ?? 0);
}

/** page_cache_sync_ra: a demand miss. */
export function* pageCacheSyncRa(k: Kernel, task: Task, file: File, index: number, reqPages: number, ioId: number): Generator<number, boolean, void> {
  const inode = file.inode;
  const ra: FileRaState = file.ra;
  const cpu = k.sched.cpu(task.cpu);
  const fn = k.fn.page_cache_sync_ra;
  if (fn.entry.enabled) fn.enter(cpu, ioId, file, reqPages);
  let ok: boolean;
  if (file.fMode & FMODE.RANDOM || ra.raPages === 0) {
    // "be dumb": no window, just the pages asked for (one page when readahead is off)
    if (k.tp.page_cache_sync_ra.enabled) k.tp.page_cache_sync_ra.emit(cpu, ioId, inode, index, ra, reqPages);
    ok = yield* forcePageCacheRa(k, task, file, index, ra.raPages === 0 ? 1 : reqPages, ioId);
  } else {
    const w = syncRaWindow(ra, index, reqPages, ioPages(k, inode), (i, max) => prevMiss(inode.mapping, i, max));
    if (k.tp.page_cache_sync_ra.enabled) k.tp.page_cache_sync_ra.emit(cpu, ioId, inode, index, ra, reqPages);
    ok = yield* doPageCacheRa(k, task, inode, w, ioId, true);
  }
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, 0);
  return ok;
}

/**
 * force_page_cache_ra: read `nrToRead` pages from `index` (bounded by forceRaPages) in 2 MiB
 * chunks, with no readahead state and no PG_readahead marker. Returns false if memory ran out.
 */
export function* forcePageCacheRa(k: Kernel, task: Task, file: File, index: number, nrToRead: number, ioId: number): Generator<number, boolean, void> {
  const inode = file.inode;
  const fn = k.fn.force_page_cache_ra;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, file, nrToRead);
  const endIndex = Math.ceil(inode.sizeBytes / PAGE_SIZE);
  let left = forceRaPages(nrToRead, file.ra.raPages, ioPages(k, inode));
  let start = index;
  let ok = true;
  while (ok && left > 0 && start < endIndex) {
    const chunk = Math.min(FORCE_RA_CHUNK_PAGES, left);
    // read_pages plugs, so the chunk's bios merge (a no-op inside filemap_read's plug)
    blkStartPlug(task);
    ok = yield* doPageCacheRa(k, task, inode, { start, size: chunk, asyncSize: 0 }, ioId, true);
    const flushNs = blkFinishPlug(k, task);
    if (flushNs > 0) yield flushNs;
    start += chunk;
    left -= chunk;
  }
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, 0);
  return ok;
}

/**
 * do_sync_mmap_readahead for a major fault at `pgoff` of `vma`: nothing beyond the page under
 * MADV_RANDOM (VM_RAND_READ) or with readahead off, the on-demand window under MADV_SEQUENTIAL
 * (VM_SEQ_READ), else read-around. Returns false if memory ran out.
 */
export function* doSyncMmapReadahead(k: Kernel, task: Task, vma: Vma, file: File, pgoff: number, ioId: number): Generator<number, boolean, void> {
  if (vma.flags & VM.SEQ_READ && file.ra.raPages > 0) return yield* pageCacheSyncRa(k, task, file, pgoff, file.ra.raPages, ioId);
  // read-around, or (after MMAP_LOTSAMISS misses, MADV_RANDOM, no readahead) a plain read of the page
  const w = vma.flags & VM.RAND_READ ? undefined : readAroundWindow(file.ra, pgoff);
  return yield* doPageCacheRa(k, task, file.inode, w ?? { start: pgoff, size: 1, asyncSize: 0 }, ioId, w !== undefined);
}

/** page_cache_async_ra: the reader touched a PG_readahead folio. A new I/O with its own id. */
export function* pageCacheAsyncRa(k: Kernel, task: Task, file: File, f: Folio, reqPages: number): Generator<number, void, void> {
  if (f.flags & PG.writeback) return;
  f.flags &= ~PG.readahead;
  const inode = file.inode;
  const ioId = k.newIoId();
  const cpu = k.sched.cpu(task.cpu);
  const fn = k.fn.page_cache_async_ra;
  if (fn.entry.enabled) fn.enter(cpu, ioId, file, f, reqPages);
  const w = asyncRaWindow(file.ra, f.index, reqPages, ioPages(k, inode), (i, max) => nextMiss(inode.mapping, i, max));
  if (w) {
    if (k.tp.page_cache_async_ra.enabled) k.tp.page_cache_async_ra.emit(cpu, ioId, inode, f.index, file.ra, reqPages);
    const saved = task.ioId;
    task.ioId = ioId;
    yield* doPageCacheRa(k, task, inode, w, ioId, true);
    task.ioId = saved;
  }
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, 0);
}

/** Maximum folios handled per filemap_get_pages batch (PAGEVEC_SIZE-like). */
const FOLIO_BATCH = 15;

/** filemap_read: buffered read through the page cache. Returns bytes read or -errno. */
export function* filemapRead(k: Kernel, iocb: Kiocb, buf: UserBuffer): Generator<number, number, void> {
  const task = iocb.task;
  const file = iocb.file;
  const inode = file.inode;
  const mapping = inode.mapping;
  const fn = k.fn.filemap_read;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), iocb.ioId, iocb, buf.va, 0);
  const pipe = buf.pipe;
  if (pipe === undefined && !userRangeMapped(task, buf.va, buf.lenBytes)) {
    if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), iocb.ioId, -EFAULT);
    return -EFAULT;
  }
  let pos = iocb.posBytes;
  const end = Math.min(pos + buf.lenBytes, inode.sizeBytes);
  let copied = 0;
  let err = 0;
  // where the previous read (then the previous batch) ended: folio_mark_accessed once per folio visit
  let lastPos = file.ra.prevPos;
  blkStartPlug(task);
  while (pos < end) {
    // filemap_read: cond_resched() before each folio batch
    if (k.sched.condResched(task)) yield PREEMPT;
    const index = Math.floor(pos / PAGE_SIZE);
    const lastIndex = Math.floor((end - 1) / PAGE_SIZE);
    const cpu = k.sched.cpu(task.cpu);
    // the cache check
    if (k.tp.mm_filemap_get_pages.enabled) k.tp.mm_filemap_get_pages.emit(cpu, iocb.ioId, inode, index, lastIndex);
    yield PAGE_CACHE_LOOKUP_NS;
    let f = mapping.pages.get(index);
    if (!f) {
      k.stat.pgcacheMiss++;
      const ok = yield* pageCacheSyncRa(k, task, file, index, lastIndex - index + 1, iocb.ioId);
      f = mapping.pages.get(index);
      if (!f) {
        err = ok ? -EIO : -ENOMEM;
        break;
      }
    } else if (f.flags & PG.uptodate) {
      k.stat.pgcacheHit++;
    } else {
      k.stat.pgcacheMiss++;
    }
    f.refs++; // folio_get: reclaim must not take it while we sleep
    if (f.flags & PG.readahead) yield* pageCacheAsyncRa(k, task, file, f, lastIndex - index + 1);
    if (!(f.flags & PG.uptodate) && iocb.nowait) {
      f.refs--;
      err = -EAGAIN;
      break;
    }
    if (!(f.flags & PG.uptodate)) yield* folioWaitLocked(k, task, f);
    f.refs--;
    if (f.mapping !== mapping) {
      // invalidated while we slept (AOP_TRUNCATED_PAGE): drop it and look the index up again
      folioPutRemoved(k, f);
      continue;
    }
    if (!(f.flags & PG.uptodate)) {
      // filemap_update_page -> filemap_read_folio: a read that failed (a readahead I/O error
      // leaves the folio in the cache, not uptodate) is tried once more, alone; then -EIO
      f.refs++;
      const ok = yield* filemapReadFolio(k, task, inode, f, iocb.ioId);
      f.refs--;
      if (!ok || f.mapping !== mapping) {
        if (f.mapping !== mapping) folioPutRemoved(k, f);
        err = -EIO;
        break;
      }
    }
    // only the batch's first folio is marked accessed, and not when this read continues in the
    // folio the last one ended in (pos_same_folio): small sequential reads promote nothing
    if (Math.floor(pos / PAGE_SIZE) !== Math.floor((lastPos - 1) / PAGE_SIZE)) k.mm.markAccessed(f);
    // copy this folio and any following cached, uptodate ones (a folio batch)
    let n = 0;
    let batch = 0;
    let cur: Folio | undefined = f;
    let curIndex = index;
    while (cur && cur.flags & PG.uptodate && batch < FOLIO_BATCH && pos + n < end) {
      if (batch > 0) {
        if (cur.flags & PG.readahead) break;
        k.stat.pgcacheHit++;
      }
      const off = (pos + n) % PAGE_SIZE;
      const len = Math.min(PAGE_SIZE - off, end - (pos + n));
      n += len;
      batch++;
      curIndex++;
      cur = mapping.pages.get(curIndex);
    }
    if (pipe !== undefined) {
      // ITER_PIPE (filemap_splice_read): the folios go into the pipe by reference, no copy
      n = spliceFoliosIntoPipe(mapping, pipe, pos, n);
      if (n === 0) break;
      pos += n;
      lastPos = pos;
      copied += n;
      continue;
    }
    yield copyNs(n);
    k.stat.userCopyBytes += n; // copy_to_user
    const copyFn = k.fn.copy_page_to_iter;
    // SIMPLIFICATION: one copy_page_to_iter hit per folio batch (Linux calls it per folio)
    if (copyFn.entry.enabled) copyFn.enter(k.sched.cpu(task.cpu), iocb.ioId, f, pos % PAGE_SIZE, n);
    if (copyFn.ret.enabled) copyFn.exit(k.sched.cpu(task.cpu), iocb.ioId, n);
    pos += n;
    lastPos = pos;
    copied += n;
  }
  file.ra.prevPos = pos;
  const flushNs = blkFinishPlug(k, task);
  if (flushNs > 0) yield flushNs;
  const ret = copied > 0 ? copied : err;
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), iocb.ioId, ret);
  return ret;
}

/**
 * splice_folio_into_pipe for the cached, uptodate folios covering [pos, pos + lenBytes): each
 * becomes a pipe buffer holding a reference to it, while the pipe has room. Returns the bytes
 * placed.
 */
function spliceFoliosIntoPipe(mapping: AddressSpace, pipe: PipeInodeInfo, pos: number, lenBytes: number): number {
  let placed = 0;
  while (placed < lenBytes && !pipe.full) {
    const f = mapping.pages.get(Math.floor((pos + placed) / PAGE_SIZE))!;
    const off = (pos + placed) % PAGE_SIZE;
    const len = Math.min(PAGE_SIZE - off, lenBytes - placed);
    f.refs++; // folio_get: the pipe holds the page until its reader is done with it
    pipePush(pipe, { folio: f, pfn: f.pfn, offsetBytes: off, lenBytes: len, canMerge: false });
    placed += len;
  }
  return placed;
}

/**
 * generic_perform_write: copy into page-cache folios and dirty them. Partial writes of pages that
 * are not uptodate read the page first (as ->write_begin does).
 */
export function* genericPerformWrite(k: Kernel, iocb: Kiocb, buf: UserBuffer): Generator<number, number, void> {
  const task = iocb.task;
  const inode = iocb.file.inode;
  const mapping = inode.mapping;
  // ext4_buffered_write_iter refuses IOCB_NOWAIT (-EOPNOTSUPP, which io_uring turns into a punt)
  if (iocb.nowait) return -EAGAIN;
  if (buf.pipe === undefined && !userRangeMapped(task, buf.va, buf.lenBytes)) return -EFAULT;
  let pos = iocb.posBytes;
  const end = pos + buf.lenBytes;
  let written = 0;
  while (pos < end) {
    const index = Math.floor(pos / PAGE_SIZE);
    const off = pos % PAGE_SIZE;
    const len = Math.min(PAGE_SIZE - off, end - pos);
    // ->write_begin locks the folio: folio_lock()'s might_sleep(), a PREEMPT_VOLUNTARY point
    if (k.sched.mightResched(task)) yield PREEMPT;
    const cpu = k.sched.cpu(task.cpu);
    if (k.tp.ext4_da_write_begin.enabled) k.tp.ext4_da_write_begin.emit(cpu, iocb.ioId, inode, pos, len);
    yield PAGE_CACHE_LOOKUP_NS;
    let f = mapping.pages.get(index);
    if (!f) {
      yield FOLIO_ALLOC_NS;
      if (k.mm.mustReclaim(task)) yield* directReclaim(k, task);
    }
    f = mapping.pages.get(index); // look again: another task may have added it meanwhile
    if (!f) {
      f = filemapAddFolio(k, k.sched.cpu(task.cpu), iocb.ioId, mapping, index);
      if (!f) return written > 0 ? written : -ENOMEM;
      const fullPage = len === PAGE_SIZE || pos + len >= inode.sizeBytes && off === 0;
      if (!fullPage && index * PAGE_SIZE < inode.sizeBytes) {
        // read-modify-write of a partial page
        yield* readPages(k, task, inode, [f], iocb.ioId, ReqFlag.SYNC);
        yield* folioWaitLocked(k, task, f);
      } else {
        folioEndRead(f, true);
      }
    } else {
      f.refs++; // folio_get across the sleep
      yield* folioWaitLocked(k, task, f);
      f.refs--;
      if (f.mapping !== mapping) {
        // invalidated while we slept: drop it and find or create the page again
        folioPutRemoved(k, f);
        continue;
      }
      if (!(f.flags & PG.uptodate)) {
        f.flags |= PG.locked;
        yield* readPages(k, task, inode, [f], iocb.ioId, ReqFlag.SYNC);
        yield* folioWaitLocked(k, task, f);
      }
    }
    // ->write_begin returns the folio locked: nobody invalidates it under the copy
    f.flags |= PG.locked;
    yield copyNs(len);
    // copy_from_user, or from a pipe's pages (iter_file_splice_write's ITER_BVEC)
    if (buf.pipe === undefined) k.stat.userCopyBytes += len;
    else k.stat.kernelCopyBytes += len;
    f.dataVersion = nextPageVersion(mapping, index);
    if (k.tp.page_data_write.enabled) k.tp.page_data_write.emit(k.sched.cpu(task.cpu), iocb.ioId, inode, index, f.dataVersion, 'write');
    const copyFn = k.fn.copy_page_from_iter_atomic;
    if (copyFn.entry.enabled) copyFn.enter(k.sched.cpu(task.cpu), iocb.ioId, f, off, len);
    if (copyFn.ret.enabled) copyFn.exit(k.sched.cpu(task.cpu), iocb.ioId, len);
    yield MARK_DIRTY_NS;
    k.mm.markAccessed(f);
    // ->write_end: a filesystem that journals the data takes the page; else it is dirty for writeback
    const writeEnd = inode.aops.writeEnd;
    if (writeEnd) writeEnd(inode, f);
    else folioMarkDirty(k, k.sched.cpu(task.cpu), iocb.ioId, f);
    folioEndRead(f, true); // folio_unlock
    pos += len;
    written += len;
    if (pos > inode.sizeBytes) {
      inode.sizeBytes = pos;
      inode.metadataDirty = true;
    }
    yield* k.wb.balanceDirtyPagesRatelimited(task, inode);
  }
  return written;
}

/** folio_mark_dirty: account a newly dirty folio and put its inode on the flusher's list. */
export function folioMarkDirty(k: Kernel, ctx: HitContext, ioId: number, f: Folio): boolean {
  const fn = k.fn.folio_mark_dirty;
  if (fn.entry.enabled) fn.enter(ctx, ioId, f);
  const newly = !(f.flags & PG.dirty);
  if (newly) {
    accountFolioDirtied(k, f);
    const mapping = f.mapping;
    if (mapping && k.tp.writeback_dirty_folio.enabled) k.tp.writeback_dirty_folio.emit(ctx, ioId, k.wb.bdiName(mapping.host), mapping.host.ino, f.index);
    k.stat.pgdirtied++;
  }
  if (fn.ret.enabled) fn.exit(ctx, ioId, newly ? 1 : 0);
  return newly;
}
