// Models: io_uring/poll.c's internal poll for requests (io_arm_poll_handler, __io_arm_poll_handler,
// io_poll_wake, io_poll_task_func): a request on a pollable file (a socket) whose non-blocking try
// said -EAGAIN does not take an io-wq worker; it puts an entry on the file's wait queue for the
// events it needs (EPOLLIN for a receive, EPOLLOUT for a send), and the wakeup that makes them
// ready queues task_work (io_req_task_work_add) that re-issues it non-blocking in the submitter.
// A request polled once that still made no progress goes to io-wq instead (REQ_F_POLLED without
// REQ_F_PARTIAL_IO: IO_APOLL_ABORTED). Tracepoints io_uring:io_uring_poll_arm and io_uring_task_add.
// SIMPLIFICATION: arming costs no CPU time of its own (it is part of the submission's).
// SIMPLIFICATION: task_work runs when the submitter enters io_uring_enter or waits in it for CQEs
// (as with IORING_SETUP_DEFER_TASKRUN), or in the SQ thread's loop; not at any return to user space.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import type { WaitQueue, WaitQueueEntry } from '../sim/process.js';
import { EPOLL, type File, type PollTable } from '../fs/types.js';
import { IORING_OP, ioQueueSqeDone, ioRingClosed, ioTaskWorkWake, type IoKiocb, type IoRingCtx } from './io_uring.js';
import { ioIssue, ioIssueDone } from './rw.js';

/** io_poll_task_func + io_req_task_submit's own cost per re-issued request. */
const IO_POLL_TASK_FUNC_NS = 150;

/** The events an opcode waits for when it would block (io_issue_defs' pollin / pollout), or 0. */
function apollEvents(opcode: number): number {
  if (opcode === IORING_OP.RECV) return EPOLL.IN | EPOLL.RDNORM;
  if (opcode === IORING_OP.SEND || opcode === IORING_OP.SEND_ZC) return EPOLL.OUT | EPOLL.WRNORM;
  return 0;
}

/** struct async_poll's io_poll: the wait-queue entry a request parks on. */
class IoPoll implements WaitQueueEntry {
  readonly exclusive = false;
  wq: WaitQueue | undefined;

  constructor(
    readonly k: Kernel,
    readonly req: IoKiocb,
    readonly file: File,
    /** The events that make the request worth re-issuing (plus EPOLLERR / EPOLLHUP). */
    readonly events: number,
  ) {}

  /** io_poll_wake: a wakeup carrying none of our events is ignored; one that makes them ready queues the re-issue. */
  wakeFunc(key: number): boolean {
    if (key !== 0 && (key & this.events) === 0) return false;
    if (ioRingClosed(this.req.ctx)) return false;
    const mask = this.file.inode.fops.poll!(this.file, undefined) & this.events;
    if (mask === 0) return false;
    this.wq?.removeEntry(this);
    this.wq = undefined;
    ioPollQueueTaskWork(this.k, this.req, mask);
    return true;
  }
}

/** io_req_task_work_add: the request goes to the submitter's task_work (io_uring:io_uring_task_add). */
function ioPollQueueTaskWork(k: Kernel, req: IoKiocb, mask: number): void {
  const ctx = req.ctx;
  if (k.tp.io_uring_task_add.enabled) k.tp.io_uring_task_add.emit(k.sched.ctxCpu, req.ioId, req, mask);
  ctx.taskWork.push(req);
  ioTaskWorkWake(k, ctx);
}

/**
 * io_arm_poll_handler: park `req` on its file's wait queue until the events it needs. False when
 * it cannot (not a pollable opcode or file, or already polled once without progress): the caller
 * punts it to io-wq. Ready at once: the re-issue is queued straight away.
 */
export function ioArmPollHandler(k: Kernel, task: Task, req: IoKiocb): boolean {
  const want = apollEvents(req.opcode);
  const file = req.file;
  if (want === 0 || file === undefined || file.inode.fops.poll === undefined) return false;
  if (req.polled && req.doneBytes === 0) return false;
  req.polled = true;
  // io_arm_poll_handler's mask (one-shot, edge) and the events io_init_poll_iocb arms (plus IO_POLL_UNMASK)
  const armMask = (EPOLL.PRI | EPOLL.ERR | EPOLL.ET | EPOLL.ONESHOT | want) | 0;
  const events = (armMask | EPOLL.ERR | EPOLL.HUP | EPOLL.RDHUP) | 0;
  const poll = new IoPoll(k, req, file, want | EPOLL.ERR | EPOLL.HUP);
  const pt: PollTable = {
    wait(_f: File, wq: WaitQueue) {
      poll.wq = wq;
      wq.addEntry(poll);
    },
  };
  const mask = file.inode.fops.poll(file, pt) & (want | EPOLL.ERR | EPOLL.HUP);
  if (mask !== 0) {
    poll.wq?.removeEntry(poll);
    ioPollQueueTaskWork(k, req, mask);
    return true;
  }
  if (k.tp.io_uring_poll_arm.enabled) k.tp.io_uring_poll_arm.emit(k.sched.cpu(task.cpu), req.ioId, req, armMask, events);
  return true;
}

/** io_run_task_work: each request whose poll fired is issued again, non-blocking (io_poll_task_func). */
export function* ioRunTaskWork(k: Kernel, ctx: IoRingCtx, task: Task): Generator<number, void, void> {
  const savedIoId = task.ioId;
  while (ctx.taskWork.length > 0) {
    const req = ctx.taskWork.shift()!;
    task.ioId = req.ioId;
    yield IO_POLL_TASK_FUNC_NS;
    ioQueueSqeDone(k, task, req, ioIssueDone(req, yield* ioIssue(k, req, task, true), true));
  }
  task.ioId = savedIoId;
}
