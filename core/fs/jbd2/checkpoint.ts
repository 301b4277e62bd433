// Models: fs/jbd2/checkpoint.c (jbd2_log_do_checkpoint, jbd2_cleanup_journal_tail) and
// jbd2_update_log_tail of fs/jbd2/journal.c: when the log runs short of space, the oldest committed
// transaction's blocks are written to their home locations, then the tail moves past it (after a
// cache flush, so the home copies are durable before the log forgets them) and the journal
// superblock records the new tail.
// SIMPLIFICATION: blocks go home only through checkpoint (the block device's own writeback of
// buffer heads, and ext4_writepages of journalled data, are not modelled), so every checkpoint
// writes all of its transaction's blocks.

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { bioAlloc, blkStartPlug, submitBio, submitBioWait } from '../../block/blk-core.js';
import { BlkStatus, ReqFlag, ReqOp } from '../../block/blk_types.js';
import { EIO } from '../../uapi/errno.js';
import { blkdevIssueFlush, endBatchBio, JOURNAL_BLOCK_BYTES, waitBioBatch, type BioBatch } from './commit.js';
import type { Journal, Transaction } from './journal.js';

/**
 * Writes a transaction's blocks home (REQ_SYNC, as __flush_batch's write_dirty_buffer does): its
 * metadata and its journalled data pages, one bio per run of adjacent blocks, and waits for them.
 */
function* writeBlocksHome(k: Kernel, j: Journal, t: Transaction, task: Task, ioId: number): Generator<number, BlkStatus, void> {
  const q = k.queueByDev(j.dev);
  if (!q) return BlkStatus.IOERR;
  const home: { block: number; pfn: number }[] = [];
  for (const block of t.metadata) home.push({ block, pfn: 0 });
  for (const [f, block] of t.data) home.push({ block, pfn: f.pfn });
  home.sort((a, b) => a.block - b.block);
  const io: BioBatch = { pending: 0, status: BlkStatus.OK, waiter: task, k };
  const spb = JOURNAL_BLOCK_BYTES / 512;
  blkStartPlug(task);
  let i = 0;
  while (i < home.length) {
    let n = 1;
    while (i + n < home.length && home[i + n]!.block === home[i]!.block + n && n < 256) n++;
    const vecs = home.slice(i, i + n).map((h) => ({ pfn: h.pfn, offsetBytes: 0, lenBytes: JOURNAL_BLOCK_BYTES }));
    io.pending++;
    yield* submitBio(k, task, q, bioAlloc(k, task, ioId, q, ReqOp.WRITE, ReqFlag.SYNC, home[i]!.block * spb, vecs, endBatchBio, io));
    i += n;
  }
  return yield* waitBioBatch(io);
}

/**
 * jbd2_log_do_checkpoint: write the oldest checkpoint transaction's blocks home, then
 * jbd2_cleanup_journal_tail moves the tail past it. Fails (and aborts the journal) on a write error.
 */
export function* jbd2LogDoCheckpoint(k: Kernel, j: Journal, task: Task): Generator<number, void, void> {
  const t = j.checkpoint[0];
  const cpu = () => k.sched.cpu(task.cpu);
  // jbd2_cleanup_journal_tail's result: 1 when the tail cannot move until blocks are written
  const result = t ? 1 : 0;
  if (k.tp.jbd2_checkpoint.enabled) k.tp.jbd2_checkpoint.emit(cpu(), task.ioId, j.dev, result);
  if (!t) return;
  const ioId = task.ioId || k.newIoId();
  const st = yield* writeBlocksHome(k, j, t, task, ioId);
  if (st !== BlkStatus.OK) {
    j.abort(-EIO);
    return;
  }
  j.stats.checkpoints++;
  j.stats.checkpointBlocks += t.nrBuffers;
  if (j.checkpoint[0] === t) j.checkpoint.shift();
  j.releaseData(t);
  yield* jbd2UpdateLogTail(k, j, task, ioId, t.tid);
}

/**
 * jbd2_cleanup_journal_tail -> jbd2_update_log_tail: flush the device cache (barrier=1) so the
 * checkpointed blocks are durable, then write the journal superblock with the new tail (REQ_FUA).
 */
export function* jbd2UpdateLogTail(k: Kernel, j: Journal, task: Task, ioId: number, freedTid: number): Generator<number, void, void> {
  const q = k.queueByDev(j.dev);
  if (!q) return;
  if (j.geo.barrier && (yield* blkdevIssueFlush(k, task, j.dev, ioId)) !== 0) {
    j.abort(-EIO);
    return;
  }
  const oldTail = j.tail;
  const newTail = j.logTail();
  const flags = ReqFlag.SYNC | ReqFlag.META | (j.geo.barrier ? ReqFlag.FUA : 0);
  const sb = bioAlloc(k, task, ioId, q, ReqOp.WRITE, flags, j.geo.startBlock * (JOURNAL_BLOCK_BYTES / 512), [{ pfn: 0, offsetBytes: 0, lenBytes: JOURNAL_BLOCK_BYTES }], undefined, undefined);
  if ((yield* submitBioWait(k, task, q, sb)) !== BlkStatus.OK) {
    j.abort(-EIO);
    return;
  }
  j.tail = newTail;
  if (k.tp.jbd2_update_log_tail.enabled) {
    const blockNr = (newTail % (j.geo.blocks - 1)) + 1;
    // tail_sequence: the transaction the tail leaves; first_tid: the oldest one still in the log
    const firstTid = j.checkpoint[0]?.tid ?? j.committing?.tid ?? j.commitSequence + 1;
    k.tp.jbd2_update_log_tail.emit(k.sched.cpu(task.cpu), ioId, j.dev, freedTid, firstTid, blockNr, newTail - oldTail);
  }
}
