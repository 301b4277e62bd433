// Models: fio's I/O engine interface (ioengines.h: struct ioengine_ops and struct io_u). A job
// drives any engine the same way: prep an io_u, queue it, commit what was queued, reap
// completions with getevents. Synchronous engines (psync, sync, mmap) complete in queue();
// libaio and io_uring queue, submit in commit() (io_submit / io_uring_enter) and complete later.

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import type { JobSpec } from '../job.js';

export type IoDirection = 'read' | 'write' | 'fsync' | 'fdatasync';

/** fio's struct io_u: one I/O unit, reused across I/Os (iodepth of them per job). */
export interface IoU {
  /** Its slot, 0..iodepth-1 (fio's io_u->index); engines key their per-slot state on it. */
  readonly index: number;
  /** User VA of its buffer (bs max bytes, page aligned). */
  readonly bufVa: number;
  readonly bufBytes: number;
  ddir: IoDirection;
  /** Which of the job's open files (an index into EngineContext.fds). */
  fileIndex: number;
  offsetBytes: number;
  lenBytes: number;
  /** Bytes moved, or -errno; set by the engine when it completes. */
  result: number;
  /** When the job started to issue it (start of the queue call), in simulated ns. */
  startNs: number;
  /** When it was handed to the kernel (the end of the submitting syscall), in simulated ns. */
  issueNs: number;
  /** The ioId the kernel gave it (0 until submitted), to match it with traces. */
  ioId: number;
}

export const FIO_Q = {
  /** Done inline: result is set (sync engines, or an async engine that completed at once). */
  COMPLETED: 0,
  /** Queued for commit(): its completion comes from getevents(). */
  QUEUED: 1,
  /** Engine cannot take more now: commit and reap first. */
  BUSY: 2,
} as const;
export type QueueResult = (typeof FIO_Q)[keyof typeof FIO_Q];

/** What an engine works with: the job's process, its open files and its io_u buffers. */
export interface EngineContext {
  readonly k: Kernel;
  readonly task: Task;
  readonly job: JobSpec;
  /** The job's open files, in JobSpec.files order. */
  readonly fds: readonly number[];
  readonly ious: readonly IoU[];
  /**
   * User-space CPU time spent preparing I/Os (filling io_us, writing SQEs or iocbs) that the
   * kernel has not seen yet. An async engine pays it just before its next syscall (payUserTime):
   * the kernel sees the batch at the same moment, with one CPU burn instead of one per I/O.
   */
  pendingUserNs: number;
  /** User-space CPU time an engine already spent in place (the mmap engine's loads and stores
   *  through the mapping); fio adds it to the job's usr time. */
  userNs: number;
}

/**
 * The access-pattern advice fio's fadvise_hint gives (td_io_open_file's posix_fadvise, the mmap
 * engine's posix_madvise): `type` follows the job's pattern (td_random); undefined: none.
 * The values are POSIX_FADV_* and, for RANDOM and SEQUENTIAL, MADV_* alike (1 and 2).
 */
export function accessAdvice(job: JobSpec): 'random' | 'sequential' | 'noreuse' | undefined {
  switch (job.fadviseHint) {
    case 'none':
      return undefined;
    case 'type':
      return job.rw.startsWith('rand') ? 'random' : 'sequential';
    default:
      return job.fadviseHint;
  }
}

/** Burns the user-space CPU time owed (EngineContext.pendingUserNs) before a syscall. */
export function* payUserTime(ctx: EngineContext): Generator<number, void, void> {
  const ns = ctx.pendingUserNs;
  if (ns <= 0) return;
  ctx.pendingUserNs = 0;
  yield ns;
}

/** fio's struct ioengine_ops, as generators over simulated time. */
export interface IoEngineOps {
  readonly name: string;
  /** FIO_SYNCIO: queue() completes every I/O itself; commit/getevents are never called. */
  readonly sync: boolean;
  /** Set-up after the files are open (io_setup, io_uring_setup and registrations): 0 or -errno. */
  init(ctx: EngineContext): Generator<number, number, void>;
  /**
   * Takes one prepared io_u. An engine that takes it without spending simulated time (an async
   * engine staging it for commit) returns the result itself: no generator frame per I/O.
   */
  queue(ctx: EngineContext, io: IoU): QueueResult | Generator<number, QueueResult, void>;
  /** Submits what was queued (one syscall for a batch); returns how many were submitted, or -errno. */
  commit(ctx: EngineContext): Generator<number, number, void>;
  /**
   * Waits for at least `min` completions and returns up to `max` of them, results set. With
   * `timeoutNs` (io_getevents' timeout, io_uring_enter's EXT_ARG timeout) it returns after that
   * long even with fewer than `min`: a rate-limited job waits for its next issue time this way.
   */
  getevents(ctx: EngineContext, min: number, max: number, timeoutNs?: number): Generator<number, readonly IoU[], void>;
  /** Tear-down before the files close (io_destroy, closing the ring). */
  cleanup(ctx: EngineContext): Generator<number, void, void>;
}
