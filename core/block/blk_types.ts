// Models: include/linux/blk_types.h: struct bio, bio_vec, request operations and flags, blk_status_t.

import { EIO, ENODATA, ENOLINK, ENOSPC, EOPNOTSUPP, EREMOTEIO, ETIMEDOUT } from '../uapi/errno.js';
import type { MemCgroup } from '../cgroup/memcontrol.js';

/** REQ_OP_* (the low bits of blk_opf_t). */
export const ReqOp = {
  READ: 0,
  WRITE: 1,
  FLUSH: 2,
} as const;
export type ReqOp = (typeof ReqOp)[keyof typeof ReqOp];

/** REQ_* flag bits (blk_opf_t upper bits); values are ours, names and meanings are Linux's. */
export const ReqFlag = {
  SYNC: 1 << 0,
  META: 1 << 1,
  PRIO: 1 << 2,
  FUA: 1 << 3,
  PREFLUSH: 1 << 4,
  RAHEAD: 1 << 5,
  IDLE: 1 << 6,
  NOMERGE: 1 << 7,
} as const;

/** REQ_NOMERGE_FLAGS: requests and bios with these never merge. */
export const REQ_NOMERGE_FLAGS = ReqFlag.NOMERGE | ReqFlag.PREFLUSH | ReqFlag.FUA;

/** blk_status_t values (include/linux/blk_types.h) and the errno each maps to (blk_status_to_errno). */
export const BlkStatus = {
  OK: 0,
  NOTSUPP: 1,
  TIMEOUT: 2,
  NOSPC: 3,
  TRANSPORT: 4,
  /** "critical target error": the device refused the command for good. */
  TARGET: 5,
  /** "critical medium error": an unrecovered read or write. */
  MEDIUM: 7,
  IOERR: 10,
} as const;
export type BlkStatus = (typeof BlkStatus)[keyof typeof BlkStatus];

export const SECTOR_SHIFT = 9;
export const SECTOR_SIZE = 512;

/** One physically contiguous piece of a bio's data (struct bio_vec). */
export interface BioVec {
  /** Page frame number of the memory. */
  readonly pfn: number;
  /** Byte offset inside the page. */
  readonly offsetBytes: number;
  readonly lenBytes: number;
}

/** struct bio: one I/O to one block device, carrying the id of the I/O that caused it. */
export interface Bio {
  /** Kernel address of the object (what `arg0` reads in a kprobe). */
  readonly kaddr: number;
  /** The I/O this bio works for. */
  readonly ioId: number;
  op: ReqOp;
  /** ReqFlag bits. */
  flags: number;
  /** Device number (dev_t, MAJOR << 20 | MINOR) of the target block device. */
  readonly dev: number;
  sector: number;
  nrSectors: number;
  vecs: BioVec[];
  status: BlkStatus;
  /** pid and comm of the task that submitted it (for block tracepoints' `comm`). */
  readonly submitterPid: number;
  readonly submitterComm: string;
  /** The cgroup it is charged to (bio->bi_blkg's blkcg): the submitter's, or for writeback the
   *  one that owns the pages (wbc_init_bio); undefined is the root. */
  blkcg: MemCgroup | undefined;
  /** bi_write_hint: the inode's i_write_hint (RWH_*) for writes; requests merge only within one hint. */
  writeHint: number;
  /** bio->bi_end_io: runs in interrupt (or softirq) context when the bio completes. */
  endIo: ((bio: Bio) => void) | undefined;
  /** Extra data the owner of endIo keeps on the bio (bi_private). */
  private_: unknown;
  /** bi_issue, set when io.latency's rq_qos throttle took it (BIO_QOS_THROTTLED); cleared when done. */
  qosIssueNs?: number | undefined;
}

/** blk_fill_rwbs: the rwbs string block tracepoints print (e.g. "R", "WS", "FF", "WFS", "RA"). */
export function fillRwbs(op: ReqOp, flags: number): string {
  let s = '';
  if (flags & ReqFlag.PREFLUSH) s += 'F';
  if (op === ReqOp.WRITE) s += 'W';
  else if (op === ReqOp.READ) s += 'R';
  else s += 'F';
  if (flags & ReqFlag.FUA) s += 'F';
  if (flags & ReqFlag.RAHEAD) s += 'A';
  if (flags & ReqFlag.SYNC) s += 'S';
  if (flags & ReqFlag.META) s += 'M';
  return s;
}

/** blk_status_to_errno (block/blk-core.c's blk_errors table). */
export function blkStatusToErrno(status: BlkStatus): number {
  switch (status) {
    case BlkStatus.OK:
      return 0;
    case BlkStatus.NOTSUPP:
      return -EOPNOTSUPP;
    case BlkStatus.TIMEOUT:
      return -ETIMEDOUT;
    case BlkStatus.NOSPC:
      return -ENOSPC;
    case BlkStatus.TRANSPORT:
      return -ENOLINK;
    case BlkStatus.TARGET:
      return -EREMOTEIO;
    case BlkStatus.MEDIUM:
      return -ENODATA;
    default:
      return -EIO;
  }
}
