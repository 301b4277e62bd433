// Models: io_uring/rw.c (io_read, io_write, io_import_fixed, io_complete_rw), io_uring/sync.c
// (io_fsync) and io_uring/nop.c: what one request does when it is issued, inline (nonblock:
// IOCB_NOWAIT, -EAGAIN means "punt to io-wq") or from an io-wq worker (may sleep).
// A short non-blocking buffered read keeps what it got and punts the rest, as io_read does.
// SIMPLIFICATION: a buffered read that misses is punted to io-wq; Linux (5.9+) instead retries it
// from a page-unlock callback (IOCB_WAITQ) on filesystems with FMODE_BUF_RASYNC such as ext4.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import type { BioVec } from '../block/blk_types.js';
import { kiocbRw } from '../fs/read_write.js';
import { EIOCBQUEUED, O, type UserBuffer } from '../fs/types.js';
import { EAGAIN, EBADF, EINVAL, EOPNOTSUPP } from '../uapi/errno.js';
import { IORING_FSYNC_DATASYNC, IORING_OP, ioCompleteRw, type IoKiocb } from './io_uring.js';

/**
 * io_issue_sqe's opcode dispatch. Returns the result to post, -EIOCBQUEUED when a ki_complete
 * will post it, or (nonblock only) -EAGAIN to punt.
 */
export function* ioIssue(k: Kernel, req: IoKiocb, task: Task, nonblock: boolean): Generator<number, number, void> {
  switch (req.opcode) {
    case IORING_OP.NOP:
      return 0;
    case IORING_OP.FSYNC:
      return yield* ioFsync(req, task, nonblock);
    case IORING_OP.READ:
    case IORING_OP.READ_FIXED:
      return yield* ioRw(k, req, task, nonblock, false);
    case IORING_OP.WRITE:
    case IORING_OP.WRITE_FIXED:
      return yield* ioRw(k, req, task, nonblock, true);
    default:
      return -EINVAL;
  }
}

/** io_fsync: always blocking, so the inline attempt punts it. */
function* ioFsync(req: IoKiocb, task: Task, nonblock: boolean): Generator<number, number, void> {
  if (nonblock) return -EAGAIN;
  const file = req.file;
  if (!file) return -EBADF;
  const sqe = req.sqe;
  const end = sqe.len > 0 ? sqe.off + sqe.len : Number.MAX_SAFE_INTEGER;
  return yield* file.inode.fops.fsync(file, task, req.ioId, sqe.off, end, (sqe.opFlags & IORING_FSYNC_DATASYNC) !== 0);
}

/** io_read / io_write */
function* ioRw(k: Kernel, req: IoKiocb, task: Task, nonblock: boolean, write: boolean): Generator<number, number, void> {
  const file = req.file;
  if (!file) return -EBADF;
  const direct = (file.flags & O.DIRECT) !== 0;
  // io_rw_init_file: polled completion needs O_DIRECT
  if (req.ctx.iopoll && !direct) return -EOPNOTSUPP;
  const sqe = req.sqe;
  const done = req.doneBytes;
  const lenBytes = sqe.len - done;
  const buf: UserBuffer = req.buf ? ioImportFixed(req.buf, sqe.addr + done, lenBytes) : { va: sqe.addr + done, lenBytes };
  const ret = yield* kiocbRw(k, task, req.ioId, file, buf, sqe.off + done, write, {
    nowait: nonblock,
    hipri: req.ctx.iopoll,
    kiComplete: (res) => ioCompleteRw(k, req, res),
  });
  if (ret === -EIOCBQUEUED) return ret;
  if (ret === -EAGAIN) return nonblock ? -EAGAIN : done > 0 ? done : ret;
  // a short inline buffered read: keep what was copied and let io-wq do the rest
  if (nonblock && !write && !direct && ret > 0 && ret < lenBytes && sqe.off + done + ret < file.inode.sizeBytes) {
    req.doneBytes += ret;
    return -EAGAIN;
  }
  if (ret < 0) return done > 0 ? done : ret;
  return done + ret;
}

/** A registered buffer's pinned pages (struct io_mapped_ubuf) and where they are in user memory. */
export interface PinnedBuffer {
  readonly va: number;
  readonly lenBytes: number;
  readonly vecs: readonly BioVec[];
}

/** io_import_fixed: an ITER_BVEC over the registered pages for [va, va + len). */
function ioImportFixed(buf: PinnedBuffer, va: number, lenBytes: number): UserBuffer {
  let skip = va - buf.va;
  let need = lenBytes;
  const vecs: BioVec[] = [];
  for (const v of buf.vecs) {
    if (need <= 0) break;
    if (skip >= v.lenBytes) {
      skip -= v.lenBytes;
      continue;
    }
    const take = Math.min(need, v.lenBytes - skip);
    vecs.push({ pfn: v.pfn, offsetBytes: v.offsetBytes + skip, lenBytes: take });
    need -= take;
    skip = 0;
  }
  return { va, lenBytes, pinned: vecs };
}
