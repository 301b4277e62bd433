// Models: fs/iomap/direct-io.c (__iomap_dio_rw) for synchronous O_DIRECT: alignment checks,
// writing back and invalidating cached pages of the range, pinning the user pages, one bio per
// mapped extent built straight from them, and sleeping until every bio has completed.

import type { Kernel } from '../../kernel/kernel.js';
import type { Kiocb, UserBuffer } from '../types.js';
import { TaskState } from '../../kernel/sched/task.js';
import { bioAlloc, blkFinishPlug, blkStartPlug, ioSchedule, submitBio } from '../../block/blk-core.js';
import { BlkStatus, ReqFlag, ReqOp, type Bio, type BioVec } from '../../block/blk_types.js';
import { gupBioVecs } from '../../mm/memory.js';
import { mapBlocksTraced } from '../../mm/filemap.js';
import { PAGE_SIZE, PG } from '../../mm/mm_types.js';
import { copyNs } from '../../hw/cpu.js';
import { EFAULT, EINVAL, EIO } from '../../uapi/errno.js';


interface Dio {
  remaining: number;
  error: number;
  waiterDone: boolean;
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
  const vecs = gupBioVecs(task.mm!, buf.va, len);
  if (!vecs) return -EFAULT;
  const pinNs = copyNs(vecs.length * 64); // pin_user_pages bookkeeping, charged with the flush below
  // kiocb_write_and_wait / kiocb_invalidate_pages: cached pages of the range must not go stale
  const first = Math.floor(iocb.posBytes / PAGE_SIZE);
  const last = Math.floor((iocb.posBytes + len - 1) / PAGE_SIZE);
  if (inode.mapping.pages.size > 0) {
    let cached = false;
    for (let i = first; i <= last && !cached; i++) cached = inode.mapping.pages.has(i);
    if (cached) {
      yield* k.wb.writeAndWait(task, iocb.file, iocb.ioId, iocb.posBytes, iocb.posBytes + len);
      if (write) {
        for (let i = first; i <= last; i++) {
          const f = inode.mapping.pages.get(i);
          if (f && !(f.flags & (PG.locked | PG.dirty | PG.writeback)) && f.mapcount === 0) {
            k.mm.deleteFromPageCache(k.sched.cpu(task.cpu), f);
            k.mm.freeFolio(f);
          }
        }
      }
    }
  }
  const dio: Dio = { remaining: 0, error: 0, waiterDone: false };
  const endIo = (bio: Bio): void => {
    if (bio.status !== BlkStatus.OK) dio.error = -EIO;
    if (--dio.remaining === 0) {
      dio.waiterDone = true;
      k.sched.wakeFromContext(task);
    }
  };
  const op = write ? ReqOp.WRITE : ReqOp.READ;
  const flags = write ? ReqFlag.SYNC | ReqFlag.IDLE : 0;
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
    const ext = yield* mapBlocksTraced(k, task, inode, lblk, wantBlocks, write);
    const chunk = ext ? Math.min(len - done, ext.len * inode.blockSizeBytes - offInBlock) : Math.min(len - done, inode.blockSizeBytes - offInBlock);
    // take `chunk` bytes of user pages for this bio
    const bioVecs: BioVec[] = [];
    let need = chunk;
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
      const bio = bioAlloc(k, task, iocb.ioId, q, op, flags, sector, bioVecs, endIo, dio);
      yield* submitBio(k, task, q, bio);
    }
    done += chunk;
  }
  yield blkFinishPlug(k, task) + pinNs;
  while (dio.remaining > 0 && !dio.waiterDone) {
    task.state = TaskState.UNINTERRUPTIBLE;
    yield* ioSchedule(k, task);
  }
  if (write && iocb.posBytes + len > inode.sizeBytes) {
    inode.sizeBytes = iocb.posBytes + len;
    inode.metadataDirty = true;
  }
  return dio.error !== 0 ? dio.error : len;
}
