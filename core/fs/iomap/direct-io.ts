// Models: fs/iomap/direct-io.c (__iomap_dio_rw) for O_DIRECT: alignment checks, writing back and
// invalidating cached pages of the range, pinning the user pages, one bio per mapped extent built
// straight from them; a sync kiocb sleeps until every bio has completed, an async one (aio,
// io_uring) returns -EIOCBQUEUED and the last bio's end_io calls ki_complete (iomap_dio_bio_end_io).
// SIMPLIFICATION: an async write's completion (i_size update) runs in the end_io's interrupt
// context; Linux defers async write completions to the s_dio_done_wq workqueue.
// SIMPLIFICATION: an async O_DSYNC write that extends the file completes without the journal
// commit Linux runs from the completion workqueue (generic_write_sync); its data is FUA.
// SIMPLIFICATION: an IOCB_NOWAIT bio still sleeps for a tag when the queue has none; Linux fails it
// with BLK_STS_AGAIN (REQ_NOWAIT) and io_uring reissues it from io-wq.

import type { Kernel } from '../../kernel/kernel.js';
import { O, type Kiocb, type UserBuffer, EIOCBQUEUED } from '../types.js';
import { TaskState } from '../../kernel/sched/task.js';
import { bioAlloc, blkFinishPlug, blkStartPlug, ioSchedule, submitBio } from '../../block/blk-core.js';
import { BlkStatus, ReqFlag, ReqOp, blkStatusToErrno, type Bio, type BioVec } from '../../block/blk_types.js';
import { gupBioVecs } from '../../mm/memory.js';
import { mapBlocksEnter, mapBlocksExit } from '../../mm/filemap.js';
import { PAGE_SIZE, type Folio } from '../../mm/mm_types.js';
import { invalidateInodePages2Range, invalidateInodePages2RangeAtomic } from '../../mm/truncate.js';
import { nextPageVersion, persistPageVersion } from '../../mm/data-gen.js';
import { copyNs, EXTENT_LOOKUP_NS } from '../../hw/cpu.js';
import { EAGAIN, EFAULT, EINVAL, EIO, ENOTBLK } from '../../uapi/errno.js';


/** struct iomap_dio: one O_DIRECT call's bios and how it ends (bi_private of each of its bios). */
class IomapDio {
  /** Bios in flight plus the submitter's own reference (dropped when submission is done). */
  remaining = 1;
  error = 0;
  waiterDone = false;
  /** A write's pages [firstIndex, lastIndex]: each gets its next version (data-gen.ts) when
   *  the write lands on the device, which is when readers of the device can see it. */
  firstIndex = 0;
  lastIndex = -1;

  constructor(
    readonly k: Kernel,
    readonly iocb: Kiocb,
    readonly lenBytes: number,
    readonly write: boolean,
  ) {}
}

/** iomap_dio_complete for an async kiocb: size update, invalidation, then ki_complete with the result. */
function iomapDioCompleteAsync(dio: IomapDio): void {
  const iocb = dio.iocb;
  const inode = iocb.file.inode;
  if (dio.write && dio.error === 0 && inode.mapping.pages.size > 0) {
    const k = dio.k;
    const r = invalidateInodePages2RangeAtomic(k, k.sched.cpu(iocb.task.cpu), inode, dio.firstIndex, dio.lastIndex);
    warnStalePagecache(k, iocb, r.busy);
  }
  if (dio.write && dio.error === 0 && iocb.posBytes + dio.lenBytes > inode.sizeBytes) {
    inode.sizeBytes = iocb.posBytes + dio.lenBytes;
    inode.metadataDirty = true;
  }
  iocb.kiComplete!(iocb, dio.error !== 0 ? dio.error : dio.lenBytes);
}

/** iomap_dio_bio_end_io: the last bio of a dio completes it (async) or wakes its waiter (sync). */
function iomapDioBioEndIo(bio: Bio): void {
  const dio = bio.private_ as IomapDio;
  // iomap_dio_set_error(blk_status_to_errno): a medium error reads as -ENODATA, as dd shows it
  if (bio.status !== BlkStatus.OK) dio.error = blkStatusToErrno(bio.status);
  if (--dio.remaining === 0) {
    persistDioVersions(dio);
    dio.waiterDone = true;
    if (dio.iocb.kiComplete) iomapDioCompleteAsync(dio);
    else dio.k.sched.wakeFromContext(dio.iocb.task);
  }
}

/** iomap_dio_rw for reads and writes. Returns bytes transferred or -errno. */
export function* iomapDioRw(k: Kernel, iocb: Kiocb, buf: UserBuffer, write: boolean): Generator<number, number, void> {
  const task = iocb.task;
  const inode = iocb.file.inode;
  const q = k.queueByDev(inode.bdevDev);
  if (!q) return -EIO;
  const align = q.limits.logicalBlockSizeBytes;
  if (iocb.posBytes % align !== 0 || buf.lenBytes % align !== 0 || buf.va % align !== 0) return -EINVAL;
  let len = buf.lenBytes;
  if (!write) {
    if (iocb.posBytes >= inode.sizeBytes) return 0;
    len = Math.min(len, inode.sizeBytes - iocb.posBytes);
  }
  if (len === 0) return 0;
  const first = Math.floor(iocb.posBytes / PAGE_SIZE);
  const last = Math.floor((iocb.posBytes + len - 1) / PAGE_SIZE);
  if (iocb.nowait && !dioCanProceedNowait(inode, iocb.posBytes, len, first, last, write)) return -EAGAIN;
  // a registered (fixed) buffer was pinned at registration: no per-I/O pinning
  const vecs = buf.pinned ? sliceVecs(buf.pinned, len) : gupBioVecs(task.mm!, buf.va, len);
  if (!vecs) return -EFAULT;
  const pinNs = buf.pinned ? 0 : copyNs(vecs.length * 64); // pin_user_pages bookkeeping, charged with the flush below
  // kiocb_write_and_wait / kiocb_invalidate_pages: cached pages of the range must not go stale
  if (inode.mapping.pages.size > 0) {
    let cached = false;
    for (let i = first; i <= last && !cached; i++) cached = inode.mapping.pages.has(i);
    if (cached) {
      yield* k.wb.writeAndWait(task, iocb.file, iocb.ioId, iocb.posBytes, iocb.posBytes + len);
      if (write) {
        // a folio dirtied again since the flush cannot be dropped: the direct write is refused
        // (-ENOTBLK, trace_iomap_dio_invalidate_fail) and the filesystem writes through the cache
        const r = yield* invalidateInodePages2Range(k, task, inode, first, last);
        if (r.costNs > 0) yield r.costNs;
        if (r.busy.length > 0) {
          warnStalePagecache(k, iocb, r.busy);
          return -ENOTBLK;
        }
      }
    }
  }
  const dio = new IomapDio(k, iocb, len, write);
  if (write) {
    dio.firstIndex = first;
    dio.lastIndex = last;
  }
  const complete = iocb.kiComplete;
  const op = write ? ReqOp.WRITE : ReqOp.READ;
  let flags = write ? ReqFlag.SYNC | ReqFlag.IDLE : 0;
  // IOMAP_DIO_WRITE_THROUGH: an async O_DSYNC write is made durable by FUA instead of the fsync
  // that ->write_iter runs after a synchronous one
  if (write && complete && iocb.file.flags & O.DSYNC) flags |= ReqFlag.FUA;
  const sectorsPerBlock = inode.blockSizeBytes / 512;
  blkStartPlug(task);
  let done = 0;
  let vecIdx = 0;
  let vecOff = 0;
  while (done < len) {
    const pos = iocb.posBytes + done;
    const lblk = Math.floor(pos / inode.blockSizeBytes);
    const offInBlock = pos % inode.blockSizeBytes;
    const wantBlocks = Math.ceil((len - done + offInBlock) / inode.blockSizeBytes);
    mapBlocksEnter(k, task, inode, lblk, wantBlocks, write);
    if (!k.sched.burnInline(task, EXTENT_LOOKUP_NS)) yield EXTENT_LOOKUP_NS;
    const ext = mapBlocksExit(k, task, inode, lblk, wantBlocks, write);
    const chunk = ext ? Math.min(len - done, ext.len * inode.blockSizeBytes - offInBlock) : Math.min(len - done, inode.blockSizeBytes - offInBlock);
    // take `chunk` bytes of user pages for this bio (all of them, as they are, when one extent maps the whole range)
    let bioVecs: BioVec[] = vecs;
    let need = chunk;
    if (vecIdx === 0 && vecOff === 0 && chunk === len) {
      vecIdx = vecs.length;
      need = 0;
    } else bioVecs = [];
    while (need > 0) {
      const v = vecs[vecIdx]!;
      const take = Math.min(need, v.lenBytes - vecOff);
      bioVecs.push({ pfn: v.pfn, offsetBytes: v.offsetBytes + vecOff, lenBytes: take });
      need -= take;
      vecOff += take;
      if (vecOff === v.lenBytes) {
        vecIdx++;
        vecOff = 0;
      }
    }
    if (!ext) {
      // a hole reads as zeros without I/O
      yield copyNs(chunk);
    } else {
      const sector = ext.pblk * sectorsPerBlock + offInBlock / 512;
      dio.remaining++;
      const bio = bioAlloc(k, task, iocb.ioId, q, op, flags, sector, bioVecs, iomapDioBioEndIo, dio);
      bio.writeHint = inode.writeHint;
      yield* submitBio(k, task, q, bio);
    }
    done += chunk;
  }
  const flushNs = blkFinishPlug(k, task) + pinNs;
  if (!k.sched.burnInline(task, flushNs)) yield flushNs;
  // the submitter drops its reference: bios that already ended could not finish the dio
  if (--dio.remaining === 0) {
    persistDioVersions(dio);
    dio.waiterDone = true;
  }
  if (complete) {
    if (dio.waiterDone) iomapDioCompleteAsync(dio);
    return -EIOCBQUEUED;
  }
  while (dio.remaining > 0 && !dio.waiterDone) {
    task.state = TaskState.UNINTERRUPTIBLE;
    yield* ioSchedule(k, task);
  }
  if (write && iocb.posBytes + len > inode.sizeBytes) {
    inode.sizeBytes = iocb.posBytes + len;
    inode.metadataDirty = true;
  }
  if (write && dio.error === 0 && inode.mapping.pages.size > 0) {
    // kiocb_invalidate_post_direct_write: pages cached (or faulted in) meanwhile hold the old data
    const r = yield* invalidateInodePages2Range(k, task, inode, first, last);
    if (r.costNs > 0) yield r.costNs;
    warnStalePagecache(k, iocb, r.busy);
  }
  return dio.error !== 0 ? dio.error : len;
}

/**
 * The write's pages are on the device once every bio has completed without error: that is the
 * moment the direct write happens for anyone reading the device, so its versions are made now
 * (a store into a cached page while the write was in flight came before it).
 */
function persistDioVersions(dio: IomapDio): void {
  if (!dio.write || dio.error !== 0) return;
  const k = dio.k;
  const inode = dio.iocb.file.inode;
  for (let i = dio.firstIndex; i <= dio.lastIndex; i++) {
    const v = nextPageVersion(inode.mapping, i);
    persistPageVersion(inode.mapping, i, v);
    if (k.tp.page_data_write.enabled) k.tp.page_data_write.emit(k.sched.cpu(dio.iocb.task.cpu), dio.iocb.ioId, inode, i, v, 'direct');
  }
}

/**
 * dio_warn_stale_pagecache: folios the invalidation had to leave (dirty) keep data older than the
 * device's and will overwrite it at writeback ("Page cache invalidation failure on direct I/O").
 */
function warnStalePagecache(k: Kernel, iocb: Kiocb, busy: readonly Folio[]): void {
  if (busy.length === 0) return;
  k.stat.dioStalePages += busy.length;
  if (!k.tp.dio_invalidate_fail.enabled) return;
  const cpu = k.sched.cpu(iocb.task.cpu);
  for (const f of busy) k.tp.dio_invalidate_fail.emit(cpu, iocb.ioId, iocb.file.inode, f.index, f.dataVersion);
}

/**
 * The IOCB_NOWAIT checks before any blocking step: cached pages of the range would need writeback
 * (filemap_range_needs_writeback), and a write must be a pure overwrite of allocated blocks inside
 * i_size (ext4_dio_write_checks' ext4_overwrite_io), since allocation takes the journal.
 */
function dioCanProceedNowait(inode: Kiocb['file']['inode'], posBytes: number, len: number, first: number, last: number, write: boolean): boolean {
  if (inode.mapping.pages.size > 0) for (let i = first; i <= last; i++) if (inode.mapping.pages.has(i)) return false;
  if (!write) return true;
  if (posBytes + len > inode.sizeBytes) return false;
  const bs = inode.blockSizeBytes;
  let lblk = Math.floor(posBytes / bs);
  const end = Math.ceil((posBytes + len) / bs);
  while (lblk < end) {
    const ext = inode.aops.mapBlocks(inode, lblk, end - lblk, false);
    if (!ext || ext.lblk + ext.len <= lblk) return false;
    lblk = ext.lblk + ext.len;
  }
  return true;
}

/** The first `len` bytes of a registered buffer's pinned pages. */
function sliceVecs(pinned: readonly BioVec[], len: number): BioVec[] {
  const out: BioVec[] = [];
  let need = len;
  for (const v of pinned) {
    if (need <= 0) break;
    const take = Math.min(need, v.lenBytes);
    out.push(take === v.lenBytes ? v : { pfn: v.pfn, offsetBytes: v.offsetBytes, lenBytes: take });
    need -= take;
  }
  return out;
}
