// Models: io_uring/rw.c (io_read, io_write, io_import_fixed, io_complete_rw), io_uring/sync.c
// (io_fsync), io_uring/nop.c and io_issue_sqe's dispatch (the socket ops are net.ts's): what one request does when it is issued, inline (nonblock:
// IOCB_NOWAIT, -EAGAIN means "punt to io-wq") or from an io-wq worker (may sleep).
// A short non-blocking buffered read keeps what it got and punts the rest, as io_read does.
// SIMPLIFICATION: a buffered read that misses is punted to io-wq; Linux (5.9+) instead retries it
// from a page-unlock callback (IOCB_WAITQ) on filesystems with FMODE_BUF_RASYNC such as ext4.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import type { BioVec } from '../block/blk_types.js';
import { immediate, kiocbRw } from '../fs/read_write.js';
import { EIOCBQUEUED, O, type File, type Kiocb, type UserBuffer } from '../fs/types.js';
import { EAGAIN, EBADF, EINVAL, EOPNOTSUPP } from '../uapi/errno.js';
import { IORING_FSYNC_DATASYNC, IORING_OP, ioCompleteRw, type IoKiocb } from './io_uring.js';
import { ioNet } from './net.js';

/**
 * io_issue_sqe's opcode dispatch: the opcode's ->issue as a generator (the caller runs it, then
 * hands its result to ioIssueDone). It adds no generator frame of its own.
 */
export function ioIssue(k: Kernel, req: IoKiocb, task: Task, nonblock: boolean): Generator<number, number, void> {
  switch (req.opcode) {
    case IORING_OP.NOP:
      return immediate(0);
    case IORING_OP.FSYNC:
      return ioFsync(req, task, nonblock);
    case IORING_OP.READ:
    case IORING_OP.READ_FIXED:
      return ioRw(k, req, task, nonblock, false);
    case IORING_OP.WRITE:
    case IORING_OP.WRITE_FIXED:
      return ioRw(k, req, task, nonblock, true);
    case IORING_OP.SEND:
    case IORING_OP.SEND_ZC:
    case IORING_OP.RECV:
      return ioNet(k, req, task, nonblock);
    default:
      return immediate(-EINVAL);
  }
}

/**
 * What an issue's result means for the request: the result to post, -EIOCBQUEUED when a
 * ki_complete will post it, or (nonblock only) -EAGAIN to punt (kiocb_done / io_rw_should_retry).
 */
export function ioIssueDone(req: IoKiocb, ret: number, nonblock: boolean): number {
  const write = req.opcode === IORING_OP.WRITE || req.opcode === IORING_OP.WRITE_FIXED;
  if (!write && req.opcode !== IORING_OP.READ && req.opcode !== IORING_OP.READ_FIXED) return ret;
  if (ret === -EIOCBQUEUED) return ret;
  const done = req.doneBytes;
  if (ret === -EAGAIN) return nonblock ? -EAGAIN : done > 0 ? done : ret;
  const file = req.file;
  // a short inline buffered read: keep what was copied and let io-wq do the rest
  if (file && nonblock && !write && (file.flags & O.DIRECT) === 0 && ret > 0 && ret < req.len - done && req.off + done + ret < file.inode.sizeBytes) {
    req.doneBytes += ret;
    return -EAGAIN;
  }
  if (ret < 0) return done > 0 ? done : ret;
  return done + ret;
}

/** io_fsync: always blocking, so the inline attempt punts it. */
function* ioFsync(req: IoKiocb, task: Task, nonblock: boolean): Generator<number, number, void> {
  if (nonblock) return -EAGAIN;
  const file = req.file;
  if (!file) return -EBADF;
  const end = req.len > 0 ? req.off + req.len : Number.MAX_SAFE_INTEGER;
  return yield* file.inode.fops.fsync(file, task, req.ioId, req.off, end, (req.opFlags & IORING_FSYNC_DATASYNC) !== 0);
}

/** struct io_rw's kiocb: the read/write's kiocb, whose ki_complete finds its request again. */
export class IoRwKiocb implements Kiocb {
  readonly kaddr: number;
  ioId = 0;
  posBytes = 0;
  direct = false;
  hipri = false;
  nowait = false;
  readonly kiComplete = ioCompleteRwKiocb;

  constructor(
    readonly k: Kernel,
    readonly req: IoKiocb,
    public file: File,
    public task: Task,
  ) {
    this.kaddr = k.kaddr();
  }

  /** io_rw_init_file / io_read's kiocb set-up for one issue of the request. */
  init(file: File, task: Task, nonblock: boolean): this {
    const req = this.req;
    this.file = file;
    this.task = task;
    this.ioId = req.ioId;
    this.posBytes = req.off + req.doneBytes;
    this.direct = (file.flags & O.DIRECT) !== 0;
    this.hipri = req.ctx.iopoll;
    this.nowait = nonblock;
    return this;
  }
}

/** io_complete_rw: container_of the kiocb gives the request. */
function ioCompleteRwKiocb(kiocb: Kiocb, res: number): void {
  const rw = kiocb as IoRwKiocb;
  ioCompleteRw(rw.k, rw.req, res);
}

/** io_read / io_write up to ->read_iter / ->write_iter; ioIssueDone reads the result. */
function ioRw(k: Kernel, req: IoKiocb, task: Task, nonblock: boolean, write: boolean): Generator<number, number, void> {
  const file = req.file;
  if (!file) return immediate(-EBADF);
  // io_rw_init_file: polled completion needs O_DIRECT
  if (req.ctx.iopoll && (file.flags & O.DIRECT) === 0) return immediate(-EOPNOTSUPP);
  const done = req.doneBytes;
  const lenBytes = req.len - done;
  const buf: UserBuffer = req.buf ? ioImportFixed(req.buf, req.addr + done, lenBytes) : { va: req.addr + done, lenBytes };
  const kiocb = (req.rw ??= new IoRwKiocb(k, req, file, task)).init(file, task, nonblock);
  return kiocbRw(kiocb, buf, write);
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
