// Models: fs/jbd2/commit.c (jbd2_journal_commit_transaction, journal_submit_commit_record,
// journal_finish_inode_data_buffers) as kjournald2 runs it: T_LOCKED, then T_FLUSH (the running
// slot is freed for new handles), then T_COMMIT: descriptor blocks and the transaction's buffers
// (metadata, and data with data=journal) go to the log, the ordered data of data=ordered is waited
// for, and the commit block is written with PREFLUSH|FUA (barrier=1); then the transaction moves
// to the checkpoint list and its waiters are woken.
// SIMPLIFICATION: ordered data is only waited for, never submitted by the commit: in the model
// every allocation happens in writeback, which submits the pages itself (ext4_jbd2_inode_add_wait).

import type { Kernel } from '../../kernel/kernel.js';
import { PREEMPT, TaskState, type Task } from '../../kernel/sched/task.js';
import { bioAlloc, blkFinishPlug, blkStartPlug, ioSchedule, submitBio, submitBioWait } from '../../block/blk-core.js';
import { BlkStatus, ReqFlag, ReqOp, type Bio, type BioVec } from '../../block/blk_types.js';
import type { RequestQueue } from '../../block/blk-mq.js';
import { PAGE_SIZE, type Folio } from '../../mm/mm_types.js';
import { folioWaitWriteback } from '../../mm/filemap.js';
import { persistPageVersion } from '../../mm/data-gen.js';
import { NS_PER_JIFFY } from '../../mm/page-writeback-throttle.js';
import { EIO } from '../../uapi/errno.js';
import { errseqCheck } from '../../lib/errseq.js';
import { TState, type Journal, type Transaction } from './journal.js';

/** Bytes of a journal block (the filesystem's block size). */
export const JOURNAL_BLOCK_BYTES = 4096;
/**
 * Block tags one descriptor block holds: (4096 - 12-byte header - 4-byte checksum tail) / 16-byte
 * journal_block_tag3_t, less the 16-byte UUID after the first tag (csum v3).
 */
export const TAGS_PER_DESCRIPTOR = Math.floor((JOURNAL_BLOCK_BYTES - 12 - 4 - 16) / 16);
/**
 * CPU time of jbd2_journal_write_metadata_buffer per buffer: a new buffer head for the log copy,
 * the escape check and the block's crc32c for its tag (about 4 KiB at a few bytes per cycle).
 */
export const WRITE_METADATA_BUFFER_NS = 400;
/** JBD2_JOURNAL_REQ_FLAGS: REQ_META | REQ_SYNC | REQ_IDLE. */
const JOURNAL_REQ_FLAGS = ReqFlag.META | ReqFlag.SYNC | ReqFlag.IDLE;

/** A batch of journal writes in flight (the commit's log buffers, a checkpoint's home writes). */
export interface BioBatch {
  pending: number;
  /** The first error. */
  status: BlkStatus;
  readonly waiter: Task;
  readonly k: Kernel;
}

/** bi_end_io of a batched bio: count it down, keep the first error, wake the waiter at the last. */
export function endBatchBio(bio: Bio): void {
  const io = bio.private_ as BioBatch;
  if (bio.status !== BlkStatus.OK && io.status === BlkStatus.OK) io.status = bio.status;
  if (--io.pending === 0) io.k.sched.wakeFromContext(io.waiter);
}

/** Flushes the task's plug and sleeps until every bio of the batch has completed; its status. */
export function* waitBioBatch(io: BioBatch): Generator<number, BlkStatus, void> {
  const { k, waiter: task } = io;
  const flushNs = blkFinishPlug(k, task);
  if (flushNs > 0) yield flushNs;
  while (io.pending > 0) {
    task.state = TaskState.UNINTERRUPTIBLE;
    yield* ioSchedule(k, task);
  }
  return io.status;
}

/** The device block of free-running log block `n` (the journal's block 0 is its superblock). */
export function logBlockToDevBlock(j: Journal, n: number): number {
  return j.geo.startBlock + 1 + (n % (j.geo.blocks - 1));
}

/**
 * Submits `vecs` as log blocks from free-running log position `first`, one bio per physically
 * contiguous run (a run that reaches the end of the journal wraps to its start).
 */
function* submitLogRun(k: Kernel, j: Journal, task: Task, q: RequestQueue, ioId: number, io: BioBatch, first: number, vecs: BioVec[], flags: number): Generator<number, void, void> {
  const spb = JOURNAL_BLOCK_BYTES / 512;
  let i = 0;
  while (i < vecs.length) {
    const dev0 = logBlockToDevBlock(j, first + i);
    const room = j.geo.startBlock + j.geo.blocks - dev0;
    const n = Math.min(room, vecs.length - i);
    io.pending++;
    const bio = bioAlloc(k, task, ioId, q, ReqOp.WRITE, flags, dev0 * spb, vecs.slice(i, i + n), endBatchBio, io);
    yield* submitBio(k, task, q, bio);
    i += n;
  }
}

/** A page of the log: data pages carry their folio, metadata and descriptors a kernel page. */
function logVec(f: Folio | undefined): BioVec {
  return { pfn: f ? f.pfn : 0, offsetBytes: 0, lenBytes: JOURNAL_BLOCK_BYTES };
}

/**
 * The commit's block loop (the body of jbd2_journal_commit_transaction's "while (commit_transaction
 * ->t_buffers)" loop): each buffer gets a tag in the current descriptor block and a log block after
 * it; a full descriptor (or the last buffer) submits the descriptor and its blocks as one run.
 * Waits for every log write. Returns the blocks written and the first error.
 */
export function* jbd2WriteLogBlocks(k: Kernel, j: Journal, t: Transaction, task: Task, q: RequestQueue, ioId: number): Generator<number, { blocks: number; status: BlkStatus }, void> {
  const io: BioBatch = { pending: 0, status: BlkStatus.OK, waiter: task, k };
  const buffers: (Folio | undefined)[] = [];
  for (const _block of t.metadata) buffers.push(undefined);
  for (const f of t.data.keys()) buffers.push(f);
  let written = 0;
  blkStartPlug(task);
  let group: BioVec[] = [];
  let groupStart = j.head;
  for (let i = 0; i < buffers.length; i++) {
    if (group.length === 0) {
      // jbd2_journal_get_descriptor_buffer: a new descriptor block opens the group
      groupStart = j.head;
      group.push(logVec(undefined));
      j.head++;
    }
    // lock_buffer()'s might_sleep(): a preemption point under PREEMPT_VOLUNTARY
    if (k.sched.mightResched(task)) yield PREEMPT;
    yield WRITE_METADATA_BUFFER_NS;
    group.push(logVec(buffers[i]));
    j.head++;
    if (group.length - 1 === TAGS_PER_DESCRIPTOR || i === buffers.length - 1) {
      written += group.length;
      yield* submitLogRun(k, j, task, q, ioId, io, groupStart, group, JOURNAL_REQ_FLAGS);
      group = [];
      // the cond_resched() after each descriptor's submission
      if (k.sched.condResched(task)) yield PREEMPT;
    }
  }
  const status = yield* waitBioBatch(io);
  return { blocks: written, status };
}

/** journal_finish_inode_data_buffers: wait for the ordered data of every inode in the transaction. */
function* waitOrderedData(k: Kernel, t: Transaction, task: Task): Generator<number, number, void> {
  let err = 0;
  for (const ji of t.inodes.values()) {
    const mapping = ji.inode.mapping;
    const first = Math.floor(ji.startBytes / PAGE_SIZE);
    const last = Math.ceil(ji.endBytes / PAGE_SIZE) - 1;
    for (const f of [...mapping.writebackFolios]) {
      if (f.index < first || f.index > last) continue;
      yield* folioWaitWriteback(k, task, f);
    }
    // filemap_fdatawait_range_keep_errors: the error stays for the file's own fsync to report
    const wbErr = errseqCheck(mapping.wbErr, 0);
    if (wbErr !== 0) err = wbErr;
  }
  return err;
}

function jiffiesBetween(fromNs: number, toNs: number): number {
  return Math.floor(toNs / NS_PER_JIFFY) - Math.floor(fromNs / NS_PER_JIFFY);
}

/**
 * jbd2_journal_commit_transaction: commit the running transaction, in kjournald2's context. A
 * failed log or commit-block write aborts the journal.
 */
export function* jbd2JournalCommitTransaction(k: Kernel, j: Journal, task: Task): Generator<number, void, void> {
  const t = j.running;
  if (!t) {
    // the transaction asked for has committed already (or never got a handle)
    j.commitSequence = j.commitRequest;
    return;
  }
  const q = k.queueByDev(j.dev);
  const ioId = k.newIoId();
  task.ioId = ioId;
  const cpu = () => k.sched.cpu(task.cpu);
  const sync = t.synchronousCommit ? 1 : 0;
  if (k.tp.jbd2_start_commit.enabled) k.tp.jbd2_start_commit.emit(cpu(), ioId, j.dev, sync, t.tid);
  t.state = TState.LOCKED;
  if (k.tp.jbd2_commit_locking.enabled) k.tp.jbd2_commit_locking.emit(cpu(), ioId, j.dev, sync, t.tid);
  const lockedNs = k.env.nowNs;
  // jbd2_journal_wait_updates: no handle is ever open across a sleep in the model, so none to wait for
  t.state = TState.FLUSH;
  if (k.tp.jbd2_commit_flushing.enabled) k.tp.jbd2_commit_flushing.emit(cpu(), ioId, j.dev, sync, t.tid);
  const flushingNs = k.env.nowNs;
  t.logStart = j.head;
  j.switchToCommitting(t);

  t.state = TState.COMMIT;
  if (k.tp.jbd2_commit_logging.enabled) k.tp.jbd2_commit_logging.emit(cpu(), ioId, j.dev, sync, t.tid);
  const loggingNs = k.env.nowNs;
  let err = 0;
  let blocksLogged = 0;
  if (!q) {
    err = -EIO;
  } else {
    const log = yield* jbd2WriteLogBlocks(k, j, t, task, q, ioId);
    blocksLogged = log.blocks;
    if (log.status !== BlkStatus.OK) err = -EIO;
    // data=ordered: the transaction's data must be home before the commit block says it is
    yield* waitOrderedData(k, t, task);
    t.state = TState.COMMIT_JFLUSH;
    if (err === 0) {
      // journal_submit_commit_record + journal_wait_on_commit_record
      const flags = JOURNAL_REQ_FLAGS | (j.geo.barrier ? ReqFlag.PREFLUSH | ReqFlag.FUA : 0);
      const commitBlock = logBlockToDevBlock(j, j.head);
      j.head++;
      blocksLogged++;
      const bio = bioAlloc(k, task, ioId, q, ReqOp.WRITE, flags, commitBlock * (JOURNAL_BLOCK_BYTES / 512), [logVec(undefined)], undefined, undefined);
      const st = yield* submitBioWait(k, task, q, bio);
      if (st !== BlkStatus.OK) err = -EIO;
    }
  }
  t.logEnd = j.head;
  if (err !== 0) j.abort(err);
  t.state = TState.FINISHED;
  const endNs = k.env.nowNs;
  // the blocks now wait for checkpoint to write them home; journalled data is durable from here
  // (a crash would replay it from the log)
  if (!j.aborted) {
    for (const f of t.data.keys()) if (f.mapping) persistPageVersion(f.mapping, f.index, f.dataVersion);
  }
  if (t.nrBuffers > 0 && !j.aborted) j.checkpoint.push(t);
  else j.releaseData(t);
  j.stats.commits++;
  j.stats.blocksLogged += blocksLogged;
  if (k.tp.jbd2_run_stats.enabled) {
    k.tp.jbd2_run_stats.emit(cpu(), ioId, j.dev, t.tid, {
      wait: Math.floor(t.maxWaitNs / NS_PER_JIFFY),
      requestDelay: t.requestedNs !== 0 ? jiffiesBetween(t.requestedNs, lockedNs) : 0,
      running: jiffiesBetween(t.startNs, lockedNs),
      locked: jiffiesBetween(lockedNs, flushingNs),
      flushing: jiffiesBetween(flushingNs, loggingNs),
      logging: jiffiesBetween(loggingNs, endNs),
      handleCount: t.handleCount,
      blocks: t.nrBuffers,
      blocksLogged,
    });
  }
  j.commitSequence = t.tid;
  j.committing = undefined;
  const commitNs = endNs - flushingNs;
  j.averageCommitNs = j.averageCommitNs > 0 ? Math.floor((commitNs + j.averageCommitNs * 3) / 4) : commitNs;
  j.waitDoneCommit.wakeAll();
  if (k.tp.jbd2_end_commit.enabled) k.tp.jbd2_end_commit.emit(cpu(), ioId, j.dev, sync, t.tid, j.commitSequence);
  task.ioId = 0;
}

/** blkdev_issue_flush: an empty PREFLUSH to empty the device's volatile cache. */
export function* blkdevIssueFlush(k: Kernel, task: Task, dev: number, ioId: number): Generator<number, number, void> {
  const q = k.queueByDev(dev);
  if (!q) return -EIO;
  const bio = bioAlloc(k, task, ioId, q, ReqOp.FLUSH, ReqFlag.PREFLUSH, 0, [], undefined, undefined);
  const st = yield* submitBioWait(k, task, q, bio);
  return st === BlkStatus.OK ? 0 : -EIO;
}
