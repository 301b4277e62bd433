// Models: fs/jbd2/checkpoint.c (jbd2_log_do_checkpoint, jbd2_cleanup_journal_tail) and
// jbd2_update_log_tail of fs/jbd2/journal.c: when the log runs short of space, the oldest committed
// transaction's blocks are written to their home locations, then the tail moves past it (after a
// cache flush, so the home copies are durable before the log forgets them) and the journal
// superblock records the new tail.
// SIMPLIFICATION: metadata blocks go home only through checkpoint (the block device's own
// writeback of buffer heads is not modelled), so every checkpoint writes its metadata.

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { bioAlloc, blkStartPlug, submitBio, submitBioWait } from '../../block/blk-core.js';
import { BlkStatus, ReqFlag, ReqOp } from '../../block/blk_types.js';
import { PAGE_SIZE, PG, type Folio } from '../../mm/mm_types.js';
import { folioWaitWriteback } from '../../mm/filemap.js';
import { WbSync } from '../../mm/page-writeback.js';
import type { Inode } from '../types.js';
import { EIO } from '../../uapi/errno.js';
import { blkdevIssueFlush, endBatchBio, JOURNAL_BLOCK_BYTES, waitBioBatch, type BioBatch } from './commit.js';
import type { Journal, Transaction } from './journal.js';

/** Writes a transaction's metadata blocks home, one bio per run of adjacent blocks (REQ_SYNC). */
function* writeMetadataHome(k: Kernel, j: Journal, t: Transaction, task: Task, ioId: number): Generator<number, BlkStatus, void> {
  const q = k.queueByDev(j.dev);
  if (!q) return BlkStatus.IOERR;
  const blocks = [...t.metadata].sort((a, b) => a - b);
  const io: BioBatch = { pending: 0, status: BlkStatus.OK, waiter: task, k };
  const spb = JOURNAL_BLOCK_BYTES / 512;
  blkStartPlug(task);
  let i = 0;
  while (i < blocks.length) {
    let n = 1;
    while (i + n < blocks.length && blocks[i + n] === blocks[i]! + n && n < 256) n++;
    const vecs = Array.from({ length: n }, () => ({ pfn: 0, offsetBytes: 0, lenBytes: JOURNAL_BLOCK_BYTES }));
    io.pending++;
    yield* submitBio(k, task, q, bioAlloc(k, task, ioId, q, ReqOp.WRITE, ReqFlag.SYNC, blocks[i]! * spb, vecs, endBatchBio, io));
    i += n;
  }
  return yield* waitBioBatch(io);
}

/** Writes home the transaction's journalled data pages that are still dirty, and waits for them. */
function* writeDataHome(k: Kernel, t: Transaction, task: Task, ioId: number): Generator<number, number, void> {
  const byInode = new Map<Inode, Folio[]>();
  for (const f of t.data.keys()) {
    if (!f.mapping) continue;
    const list = byInode.get(f.mapping.host);
    if (list) list.push(f);
    else byInode.set(f.mapping.host, [f]);
  }
  let err = 0;
  for (const [inode, folios] of byInode) {
    let first = Infinity;
    let last = -1;
    for (const f of folios) {
      if (!(f.flags & (PG.dirty | PG.writeback))) continue;
      first = Math.min(first, f.index);
      last = Math.max(last, f.index);
    }
    if (last < 0) continue;
    yield* k.wb.writepages(task, inode, ioId, WbSync.ALL, first * PAGE_SIZE, (last + 1) * PAGE_SIZE, Infinity);
    for (const f of folios) yield* folioWaitWriteback(k, task, f);
    if (inode.mapping.wbError !== 0) err = inode.mapping.wbError;
  }
  return err;
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
  const dataErr = yield* writeDataHome(k, t, task, ioId);
  const st = yield* writeMetadataHome(k, j, t, task, ioId);
  if (st !== BlkStatus.OK || dataErr !== 0) {
    j.abort(-EIO);
    return;
  }
  j.stats.checkpoints++;
  j.stats.checkpointBlocks += t.nrBuffers;
  if (j.checkpoint[0] === t) j.checkpoint.shift();
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
