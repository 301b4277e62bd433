// Models: fs/jbd2/commit.c (jbd2_journal_commit_transaction) in data=ordered mode, as an fsync
// forces it: the transaction's data has been written (T_FLUSH), the descriptor and metadata
// blocks go to the journal (T_COMMIT), then the commit block with PREFLUSH|FUA (barrier=1).
// SIMPLIFICATION: the committing task is the fsync caller (Linux wakes kjournald2 and waits);
// one metadata block per commit; no checkpointing to home locations and no periodic 5 s commit.

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import type { Ext4Fs } from '../ext4/super.js';
import { bioAlloc, submitBioWait } from '../../block/blk-core.js';
import { BlkStatus, ReqFlag, ReqOp } from '../../block/blk_types.js';
import { EXT4_BLOCK_SIZE } from '../ext4/super.js';
import { EIO, EROFS } from '../../uapi/errno.js';

/** Descriptor block + one inode-table block per commit. */
const JOURNAL_LOG_BLOCKS = 2;

/** Commits the running transaction; returns 0 or -EIO. */
export function* jbd2Commit(k: Kernel, task: Task, fs: Ext4Fs, ioId: number): Generator<number, number, void> {
  const q = k.queueByDev(fs.dev);
  if (!q) return -EIO;
  if (fs.journalErrno !== 0) return -EROFS; // is_journal_aborted
  const tid = fs.tid++;
  const cpu = () => k.sched.cpu(task.cpu);
  if (k.tp.jbd2_start_commit.enabled) k.tp.jbd2_start_commit.emit(cpu(), ioId, fs.dev, tid);
  if (k.tp.jbd2_commit_flushing.enabled) k.tp.jbd2_commit_flushing.emit(cpu(), ioId, fs.dev, tid);
  if (k.tp.jbd2_commit_logging.enabled) k.tp.jbd2_commit_logging.emit(cpu(), ioId, fs.dev, tid);
  const spb = EXT4_BLOCK_SIZE / 512;
  const logStart = fs.journalReserve(JOURNAL_LOG_BLOCKS + 1);
  const pages = (n: number) => Array.from({ length: n }, () => ({ pfn: 0, offsetBytes: 0, lenBytes: EXT4_BLOCK_SIZE }));
  const log = bioAlloc(k, task, ioId, q, ReqOp.WRITE, ReqFlag.SYNC | ReqFlag.META, logStart * spb, pages(JOURNAL_LOG_BLOCKS), undefined, undefined);
  let st = yield* submitBioWait(k, task, q, log);
  if (st === BlkStatus.OK) {
    const commit = bioAlloc(
      k,
      task,
      ioId,
      q,
      ReqOp.WRITE,
      ReqFlag.SYNC | ReqFlag.PREFLUSH | ReqFlag.FUA,
      (logStart + JOURNAL_LOG_BLOCKS) * spb,
      pages(1),
      undefined,
      undefined,
    );
    st = yield* submitBioWait(k, task, q, commit);
  }
  if (k.tp.jbd2_end_commit.enabled) k.tp.jbd2_end_commit.emit(cpu(), ioId, fs.dev, tid);
  if (st !== BlkStatus.OK) {
    // jbd2_journal_abort: a journal block that did not reach the disk aborts the journal
    fs.abortJournal(-EIO);
    return -EIO;
  }
  return 0;
}

/** blkdev_issue_flush: an empty PREFLUSH to empty the device's volatile cache. */
export function* blkdevIssueFlush(k: Kernel, task: Task, dev: number, ioId: number): Generator<number, number, void> {
  const q = k.queueByDev(dev);
  if (!q) return -EIO;
  const bio = bioAlloc(k, task, ioId, q, ReqOp.FLUSH, ReqFlag.PREFLUSH, 0, [], undefined, undefined);
  const st = yield* submitBioWait(k, task, q, bio);
  return st === BlkStatus.OK ? 0 : -EIO;
}
