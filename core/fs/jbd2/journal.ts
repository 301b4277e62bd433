// Models: fs/jbd2/journal.c (kjournald2, the commit timer, jbd2_log_start_commit,
// jbd2_log_wait_commit, jbd2_complete_transaction, jbd2_trans_will_send_data_barrier,
// jbd2_journal_abort) and fs/jbd2/transaction.c (jbd2_get_transaction, start_this_handle's waits,
// jbd2_journal_dirty_metadata, jbd2_journal_inode_ranged_write): one journal per ext4 filesystem,
// one running transaction that every handle joins, one committing transaction at a time, and the
// committed transactions on the checkpoint list until their blocks are home.
// SIMPLIFICATION: a handle never sleeps while it is open (the model's metadata updates take no
// time), so T_LOCKED waits for no updates and handle credits are the blocks actually dirtied.
// SIMPLIFICATION: no revoke records, no fast commits (ext4's fast_commit is off by default), no
// journal_async_commit, no frozen buffer copies (a buffer rewritten during its commit simply joins
// the next transaction too).

import type { Kernel } from '../../kernel/kernel.js';
import { TaskState, type Task, type TaskBody } from '../../kernel/sched/task.js';
import { WaitQueue } from '../../sim/process.js';
import { Priority } from '../../sim/engine.js';
import { ioSchedule } from '../../block/blk-core.js';
import type { Folio } from '../../mm/mm_types.js';
import type { Inode } from '../types.js';
import { EIO, EROFS } from '../../uapi/errno.js';
import type { DataMode } from '../../userspace/job.js';
import { jbd2JournalCommitTransaction } from './commit.js';

/** transaction_t's t_state. */
export const TState = { RUNNING: 0, LOCKED: 1, FLUSH: 2, COMMIT: 3, COMMIT_JFLUSH: 4, FINISHED: 5 } as const;
export type TState = (typeof TState)[keyof typeof TState];

/** jbd2_log_space_left keeps 32 blocks back for the commit's own descriptor and commit blocks. */
const LOG_SPACE_RESERVE_BLOCKS = 32;

/** ext4's handle types (fs/ext4/ext4_jbd2.h EXT4_HT_*), as jbd2_handle_start reports them. */
export const EXT4_HT = { INODE: 1, WRITE_PAGE: 2, MAP_BLOCKS: 3 } as const;

/** A file range a transaction must have on disk before it commits (struct jbd2_inode). */
export interface JbdInode {
  readonly inode: Inode;
  /** i_dirty_start / i_dirty_end, bytes, end exclusive. */
  startBytes: number;
  endBytes: number;
}

/** transaction_t */
export class Transaction {
  state: TState = TState.RUNNING;
  /** t_start, t_requested (0: no commit asked for) and t_expires, in ns. */
  readonly startNs: number;
  requestedNs = 0;
  readonly expiresNs: number;
  /** t_handle_count */
  handleCount = 0;
  /** Metadata buffers (their home block numbers), t_buffers. */
  readonly metadata = new Set<number>();
  /** Data pages journalled with data=journal (their home block numbers). */
  readonly data = new Map<Folio, number>();
  /** t_inode_list: ordered data (data=ordered) the commit waits for. */
  readonly inodes = new Map<Inode, JbdInode>();
  /** Where its log blocks start and end (free-running log block counters). */
  logStart = 0;
  logEnd = 0;
  /** t_synchronous_commit: a sync handle (h_sync, IS_SYNC inodes) joined; no such handles in the model. */
  synchronousCommit = false;
  /** t_max_wait: the longest a handle start waited for this transaction, ns. */
  maxWaitNs = 0;

  constructor(
    readonly tid: number,
    nowNs: number,
    commitIntervalNs: number,
  ) {
    this.startNs = nowNs;
    this.expiresNs = nowNs + commitIntervalNs;
  }

  /** t_nr_buffers: blocks the commit will log. */
  get nrBuffers(): number {
    return this.metadata.size + this.data.size;
  }
}

/** Where the journal lives and how it is mounted. */
export interface JournalGeometry {
  readonly dev: number;
  /** The device name ("sda"), for the kthread's comm. */
  readonly devName: string;
  /** First block of the journal on the device; its block 0 is the journal superblock. */
  readonly startBlock: number;
  readonly blocks: number;
  readonly dataMode: DataMode;
  /** commit= in seconds. */
  readonly commitSec: number;
  /** barrier=1: the commit block carries PREFLUSH|FUA. */
  readonly barrier: boolean;
}

/** journal_t */
export class Journal {
  running: Transaction | undefined;
  committing: Transaction | undefined;
  /** j_checkpoint_transactions, oldest first. */
  readonly checkpoint: Transaction[] = [];
  /** j_commit_sequence (last tid committed) and j_commit_request (last tid asked for). */
  commitSequence = 0;
  commitRequest = 0;
  /** j_transaction_sequence: the next tid. */
  private nextTid = 1;
  /** j_head as a free-running count of log blocks written; j_tail is derived. */
  head = 0;
  /** The tail the journal superblock last recorded (free-running). */
  tail = 0;
  /** j_max_transaction_buffers: a quarter of the journal. */
  readonly maxTransactionBuffers: number;
  readonly commitIntervalNs: number;
  /** j_average_commit_time, ns. */
  averageCommitNs = 0;
  /** JBD2_ABORT and the errno it was aborted with. */
  aborted = false;
  abortErrno = 0;
  /** j_wait_done_commit and j_wait_transaction_locked (kjournald2 itself is woken directly). */
  readonly waitDoneCommit = new WaitQueue();
  readonly waitTransactionLocked = new WaitQueue();
  /** j_checkpoint_mutex: one checkpointer at a time; others wait here. */
  checkpointing = false;
  readonly waitCheckpoint = new WaitQueue();
  task: Task | undefined;
  /**
   * Journalled data pages and how many transactions (running, committing or waiting for
   * checkpoint) hold each: the journal keeps such a page in memory (its buffer is pinned) until
   * the last of them has written it home.
   */
  readonly dataPins = new Map<Folio, number>();
  /** Counters the tests and the report read. */
  readonly stats = { commits: 0, blocksLogged: 0, checkpoints: 0, checkpointBlocks: 0 };
  private readonly timerFn = (j: Journal): void => j.commitTimeout();

  constructor(
    private readonly k: Kernel,
    readonly geo: JournalGeometry,
  ) {
    this.maxTransactionBuffers = geo.blocks >> 2;
    this.commitIntervalNs = geo.commitSec * 1e9;
  }

  get dev(): number {
    return this.geo.dev;
  }

  get dataMode(): DataMode {
    return this.geo.dataMode;
  }

  /** Log blocks between the tail and the head (j_free's complement). */
  get usedBlocks(): number {
    return this.head - this.logTail();
  }

  /** The oldest log block still needed: the oldest un-checkpointed (or committing) transaction's start. */
  logTail(): number {
    const oldest = this.checkpoint[0] ?? this.committing;
    return oldest ? oldest.logStart : this.head;
  }

  /** jbd2_log_space_left: free log blocks, less the reserve and what the committing transaction may still write. */
  logSpaceLeft(): number {
    let free = this.geo.blocks - 1 - this.usedBlocks - LOG_SPACE_RESERVE_BLOCKS;
    if (this.committing && this.committing.logEnd === 0) free -= this.committing.nrBuffers + 2;
    return Math.max(0, free);
  }

  /**
   * kthread_run(kjournald2, "jbd2/%s-8") at mount.
   * SIMPLIFICATION: the thread is created at its first wakeup instead (until then it would only
   * sleep), so that mounting does not take CPU time from the workload starting at the same instant.
   */
  start(spawn: (comm: string, body: (t: Task) => TaskBody) => Task): void {
    this.spawn = spawn;
  }

  private spawn: ((comm: string, body: (t: Task) => TaskBody) => Task) | undefined;

  /** The journal thread, created on first use. */
  private kjournald(): Task | undefined {
    if (!this.task && this.spawn) this.task = this.spawn(`jbd2/${this.geo.devName}-8`, (t) => kjournald2(this.k, this, t));
    return this.task;
  }

  /** jbd2_get_transaction: the running transaction, made (and its commit timer armed) if none. */
  runningTransaction(): Transaction {
    let t = this.running;
    if (!t) {
      t = new Transaction(this.nextTid++, this.k.env.nowNs, this.commitIntervalNs);
      this.running = t;
      // timer_reduce(&journal->j_commit_timer, t_expires)
      this.k.env.after(this.commitIntervalNs, Priority.NORMAL, this.timerFn, this);
    }
    return t;
  }

  /** commit_timeout: wake kjournald2, which commits the running transaction once it expired. */
  private commitTimeout(): void {
    const t = this.kjournald();
    if (t && t.state !== TaskState.RUNNING) this.k.sched.tryToWakeUp(t, this.k.sched.cpu(t.cpu), 0);
  }

  /**
   * A handle joins the running transaction (jbd2__journal_start -> start_this_handle, and its
   * jbd2_journal_stop): `type` is ext4's EXT4_HT_* for the handle, `blocks` the credits it asks.
   * SIMPLIFICATION: jbd2_handle_start's line_no (the C source line that started it) reads 0.
   */
  handle(type: number, blocks: number): Transaction {
    const t = this.runningTransaction();
    t.handleCount++;
    const tp = this.k.tp.jbd2_handle_start;
    if (tp.enabled) {
      const cpu = this.k.sched.ctxCpu;
      tp.emit(cpu, cpu.current.ioId, this.dev, t.tid, type, blocks);
    }
    return t;
  }

  /** jbd2_journal_dirty_metadata: the buffer of home block `block` is part of transaction `t`. */
  dirtyMetadata(t: Transaction, block: number): void {
    t.metadata.add(block);
  }

  /** jbd2_journal_dirty_metadata on a data page's buffer (data=journal's write_end_fn). */
  dirtyData(t: Transaction, folio: Folio, block: number): void {
    if (t.data.has(folio)) return;
    const pins = this.dataPins.get(folio) ?? 0;
    if (pins === 0) folio.refs++;
    this.dataPins.set(folio, pins + 1);
    t.data.set(folio, block);
  }

  /** A transaction is done with its data pages (checkpointed, or dropped): unpin them. */
  releaseData(t: Transaction): void {
    for (const f of t.data.keys()) {
      const pins = (this.dataPins.get(f) ?? 1) - 1;
      if (pins > 0) {
        this.dataPins.set(f, pins);
      } else {
        this.dataPins.delete(f);
        f.refs--;
      }
    }
  }

  /** jbd2_journal_inode_ranged_write: the commit waits for [startBytes, endBytes) of the inode. */
  inodeAddWrite(t: Transaction, inode: Inode, startBytes: number, endBytes: number): void {
    const j = t.inodes.get(inode);
    if (!j) {
      t.inodes.set(inode, { inode, startBytes, endBytes });
      return;
    }
    j.startBytes = Math.min(j.startBytes, startBytes);
    j.endBytes = Math.max(j.endBytes, endBytes);
  }

  /** __jbd2_log_start_commit: ask kjournald2 to commit `tid` (if not asked already). */
  logStartCommit(tid: number): boolean {
    if (tid <= this.commitRequest) return false;
    this.commitRequest = tid;
    if (this.running && this.running.tid === tid && this.running.requestedNs === 0) this.running.requestedNs = this.k.env.nowNs;
    this.wakeKjournald();
    return true;
  }

  private wakeKjournald(): void {
    const t = this.kjournald();
    if (t && t.state !== TaskState.RUNNING) this.k.sched.wakeFromContext(t);
  }

  /** jbd2_log_wait_commit: sleep until `tid` has committed. 0, or -EIO when the journal aborted. */
  *logWaitCommit(task: Task, tid: number): Generator<number, number, void> {
    while (tid > this.commitSequence && !this.aborted) {
      this.wakeKjournald();
      task.state = TaskState.UNINTERRUPTIBLE;
      this.waitDoneCommit.add(task);
      yield* ioSchedule(this.k, task);
    }
    return this.aborted ? -EIO : 0;
  }

  /**
   * jbd2_complete_transaction: make sure `tid` is committed: ask for the commit if it is still the
   * running transaction, wait if it is running or committing, return at once if it is done.
   */
  *completeTransaction(task: Task, tid: number): Generator<number, number, void> {
    if (this.aborted) return -EIO;
    if (this.running && this.running.tid === tid) {
      this.logStartCommit(tid);
    } else if (!(this.committing && this.committing.tid === tid)) {
      return 0;
    }
    return yield* this.logWaitCommit(task, tid);
  }

  /**
   * jbd2_trans_will_send_data_barrier: whether the commit of `tid` still has its commit block
   * (PREFLUSH|FUA) to write; when it has not, fsync must flush the device cache itself.
   */
  transWillSendDataBarrier(tid: number): boolean {
    if (!this.geo.barrier) return false;
    if (tid <= this.commitSequence) return false;
    const c = this.committing;
    if (c && c.tid === tid && c.state >= TState.COMMIT_JFLUSH) return false;
    return true;
  }

  /** Whether a handle of `credits` blocks must wait before it joins (two comparisons when not). */
  handleMustWait(credits: number): boolean {
    const t = this.running;
    return this.logSpaceLeft() < this.maxTransactionBuffers + credits || (t !== undefined && t.nrBuffers + credits > this.maxTransactionBuffers && t.nrBuffers > 0);
  }

  /**
   * start_this_handle's waits, before a handle that may dirty `credits` blocks joins: a running
   * transaction that would grow past j_max_transaction_buffers is committed first (the handle
   * waits for it to be locked, wait_transaction_locked), and a log with too little space left is
   * checkpointed (__jbd2_log_wait_for_space). Returns 0, or -EROFS once the journal has aborted.
   */
  *startHandleWait(task: Task, credits: number, checkpoint: (task: Task) => Generator<number, void, void>): Generator<number, number, void> {
    const startNs = this.k.env.nowNs;
    for (;;) {
      if (this.aborted) return -EROFS;
      const t = this.running;
      if (t && t.nrBuffers + credits > this.maxTransactionBuffers && t.nrBuffers > 0) {
        this.logStartCommit(t.tid);
        while (this.running === t && !this.aborted) {
          task.state = TaskState.UNINTERRUPTIBLE;
          this.waitTransactionLocked.add(task);
          yield* ioSchedule(this.k, task);
        }
        continue;
      }
      if (this.logSpaceLeft() < this.maxTransactionBuffers + credits) {
        yield* this.logWaitForSpace(task, checkpoint);
        if (this.logSpaceLeft() < this.maxTransactionBuffers + credits && this.checkpoint.length === 0 && !this.committing && !this.running) break;
        continue;
      }
      break;
    }
    const waited = this.k.env.nowNs - startNs;
    if (waited > 0) {
      const t = this.runningTransaction();
      t.maxWaitNs = Math.max(t.maxWaitNs, waited);
    }
    return this.aborted ? -EROFS : 0;
  }

  /** __jbd2_log_wait_for_space: checkpoint the oldest transaction, or wait for a commit to free space. */
  private *logWaitForSpace(task: Task, checkpoint: (task: Task) => Generator<number, void, void>): Generator<number, void, void> {
    if (this.checkpointing) {
      task.state = TaskState.UNINTERRUPTIBLE;
      this.waitCheckpoint.add(task);
      yield* ioSchedule(this.k, task);
      return;
    }
    if (this.checkpoint.length > 0) {
      this.checkpointing = true;
      yield* checkpoint(task);
      this.checkpointing = false;
      this.waitCheckpoint.wakeAll();
      return;
    }
    // nothing to checkpoint yet: the space comes back once the committing or running transaction commits
    const tid = this.committing?.tid ?? this.running?.tid;
    if (tid !== undefined) {
      this.logStartCommit(tid);
      yield* this.logWaitCommit(task, tid);
    }
  }

  /** Takes the next transaction off the running slot for commit (T_LOCKED -> T_FLUSH). */
  switchToCommitting(t: Transaction): void {
    this.committing = t;
    this.running = undefined;
    this.waitTransactionLocked.wakeAll();
  }

  /**
   * jbd2_journal_abort: a failed journal write aborts the journal. Every later handle start fails
   * (ext4 then reports -EROFS: the filesystem is read-only) and every wait for a commit returns
   * -EIO. Sleepers are woken to see it.
   */
  abort(errno: number): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortErrno = errno;
    this.waitDoneCommit.wakeAll();
    this.waitTransactionLocked.wakeAll();
    this.waitCheckpoint.wakeAll();
    this.wakeKjournald();
  }

  /** The tid the next transaction gets (for tests and stats). */
  get transactionSequence(): number {
    return this.nextTid;
  }
}

/**
 * kjournald2: commit whenever a commit was asked for (fsync, a full transaction) or the running
 * transaction is older than commit= seconds (the commit timer woke it), else sleep on j_wait_commit.
 */
function* kjournald2(k: Kernel, j: Journal, t: Task): Generator<number, void, void> {
  for (;;) {
    if (j.aborted) {
      j.waitDoneCommit.wakeAll();
      t.state = TaskState.INTERRUPTIBLE;
      yield* ioSchedule(k, t);
      continue;
    }
    if (j.commitRequest > j.commitSequence) {
      yield* jbd2JournalCommitTransaction(k, j, t);
      continue;
    }
    j.waitDoneCommit.wakeAll();
    const running = j.running;
    if (running && k.env.nowNs >= running.expiresNs) {
      j.commitRequest = running.tid;
      continue;
    }
    t.state = TaskState.INTERRUPTIBLE;
    yield* ioSchedule(k, t);
  }
}
