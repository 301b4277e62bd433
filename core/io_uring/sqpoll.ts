// Models: io_uring/sqpoll.c (io_sq_offload_create, io_sq_thread): with IORING_SETUP_SQPOLL a
// kernel-side thread of the process, iou-sqp-<pid>, polls the SQ ring and submits what user space
// put there, so submission needs no syscall. After sq_thread_idle without work (default 1 s) it
// sets IORING_SQ_NEED_WAKEUP and sleeps until io_uring_enter(IORING_ENTER_SQ_WAKEUP). It also
// reaps polled completions of an IOPOLL ring and runs the task_work of requests it submitted
// whose internal poll fired.
// SIMPLIFICATION: the polling loop is modelled as CPU time in slices of SQPOLL_SLICE_NS, so new
// SQEs are noticed at the end of the slice that is running when they are written.

import type { Kernel } from '../kernel/kernel.js';
import { TaskState, type Task, type TaskBody } from '../kernel/sched/task.js';
import { ioSchedule } from '../block/blk-core.js';
import { IORING_SQ, IO_POST_CQE_NS, ioReqComplete, ioRingClosed, ioSubmitSqes, type IoRingCtx } from './io_uring.js';
import { createIoThread, ioWqOf } from './io-wq.js';
import { ioRunTaskWork } from './poll.js';

/** One pass of io_sq_thread's loop when there is nothing to submit. */
export const SQPOLL_SLICE_NS = 2_000;

/** struct io_sq_data */
export class SqData {
  task: Task | undefined;
  sleeping = false;

  constructor(
    readonly ctx: IoRingCtx,
    readonly idleNs: number,
  ) {}
}

/** io_sq_offload_create: start the SQ thread for `ctx`. */
export function ioSqOffloadCreate(k: Kernel, ctx: IoRingCtx, owner: Task, idleNs: number): SqData {
  const sq = new SqData(ctx, idleNs);
  sq.task = createIoThread(k, owner, `iou-sqp-${owner.pid}`, (t) => ioSqThread(k, sq, t));
  return sq;
}

/** Wake a sleeping SQ thread (IORING_ENTER_SQ_WAKEUP). */
export function ioSqWake(k: Kernel, sq: SqData): void {
  if (sq.sleeping) sq.task!.wake();
  void k;
}

function* ioSqThread(k: Kernel, sq: SqData, task: Task): TaskBody {
  const ctx = sq.ctx;
  const rings = ctx.rings;
  ioWqOf(k, task, rings.sqEntries); // the SQ thread's own io-wq takes what it punts
  let lastActiveNs = k.env.nowNs;
  for (;;) {
    if (ioRingClosed(ctx)) return;
    let worked = false;
    if (ctx.iopollDone.length > 0) {
      while (ctx.iopollDone.length > 0) {
        const d = ctx.iopollDone.shift()!;
        ioReqComplete(k, k.sched.cpu(task.cpu), d.req, d.res);
        yield IO_POST_CQE_NS;
      }
      worked = true;
    }
    if (rings.sqReady > 0) {
      yield* ioSubmitSqes(k, ctx, task, rings.sqReady, true);
      worked = true;
    }
    if (ctx.taskWork.length > 0) {
      // requests whose armed poll fired are re-issued here (the SQ thread submitted them)
      yield* ioRunTaskWork(k, ctx, task);
      worked = true;
    }
    if (worked || ctx.inflight > 0 && ctx.iopoll) {
      lastActiveNs = k.env.nowNs;
      if (!worked) yield SQPOLL_SLICE_NS;
      continue;
    }
    if (k.env.nowNs - lastActiveNs < sq.idleNs) {
      yield SQPOLL_SLICE_NS;
      continue;
    }
    // idle: ask user space for a wakeup, look once more, then sleep
    rings.sqFlags |= IORING_SQ.NEED_WAKEUP;
    if (rings.sqReady > 0) {
      rings.sqFlags &= ~IORING_SQ.NEED_WAKEUP;
      continue;
    }
    sq.sleeping = true;
    task.state = TaskState.INTERRUPTIBLE;
    yield* ioSchedule(k, task, false);
    sq.sleeping = false;
    rings.sqFlags &= ~IORING_SQ.NEED_WAKEUP;
    lastActiveNs = k.env.nowNs;
  }
}
