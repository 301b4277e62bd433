// Models: io_uring/io-wq.c (io_wq_enqueue, io_wq_worker, io_worker_handle_work, create_io_worker),
// io_uring/tctx.c (io_init_wq_offload: one io-wq per submitting task, bounded workers at most
// min(sq_entries, 4 * online CPUs), unbounded at most RLIMIT_NPROC) and kernel/fork.c's
// create_io_thread: workers are threads of the submitting process named iou-wrk-<pid>, sharing
// its mm and files. Work hashed on an inode (buffered writes to one file) runs one at a time.
// A worker takes punted requests and issues them blocking; idle workers exit after 5 s, except
// the last one of its pool.
// SIMPLIFICATION: a worker that starts an item counts as blocked at once (punted work is blocking
// I/O), so pending work gets another worker right away; Linux creates it from the scheduler hook
// (io_wq_worker_sleeping) when the running worker actually sleeps.

import type { Kernel } from '../kernel/kernel.js';
import { TaskState, type Task, type TaskBody } from '../kernel/sched/task.js';
import { copyThread } from '../kernel/fork.js';
import type { Inode } from '../fs/types.js';
import { EIOCBQUEUED } from '../fs/types.js';
import { scheduleTimeout } from '../kernel/time/timer.js';
import { ioReqComplete, ioUringState, type IoKiocb } from './io_uring.js';
import { ioIssue, ioIssueDone } from './rw.js';

/** WORKER_IDLE_TIMEOUT (5 * HZ). */
export const WORKER_IDLE_TIMEOUT_NS = 5_000_000_000;
/** io_worker_handle_work's own cost per item (dequeue, io_wq_submit_work set-up). */
const IO_WQ_HANDLE_NS = 300;

/** struct io_wq_work */
export interface IoWqWork {
  readonly kaddr: number;
  readonly req: IoKiocb;
  /** Serializing key (io_wq_hash_work): the inode, or undefined for parallel work. */
  readonly hash: Inode | undefined;
}

/** struct io_wq_acct: one pool (bounded or unbounded). */
export class IoWqAcct {
  readonly work: IoWqWork[] = [];
  /** Idle workers, most recently idle last (wq->free_list). */
  readonly free: IoWorker[] = [];
  readonly busyHashes = new Set<Inode>();
  nrWorkers = 0;
  /** Most workers this pool ever had at once. */
  maxSeen = 0;

  constructor(readonly maxWorkers: number) {}
}

/** struct io_worker */
export class IoWorker {
  idle = false;
  task: Task | undefined;

  constructor(
    readonly wq: IoWq,
    readonly acct: IoWqAcct,
  ) {}
}

/** struct io_wq: the per-task pools. */
export class IoWq {
  readonly bounded: IoWqAcct;
  readonly unbounded: IoWqAcct;
  readonly workers: IoWorker[] = [];

  constructor(
    readonly owner: Task,
    boundedMax: number,
    unboundedMax: number,
  ) {
    this.bounded = new IoWqAcct(boundedMax);
    this.unbounded = new IoWqAcct(unboundedMax);
  }
}

/** The task's io-wq, created on its first ring (io_uring_alloc_task_context -> io_init_wq_offload). */
export function ioWqOf(k: Kernel, task: Task, sqEntries: number): IoWq {
  const st = ioUringState(k);
  let wq = st.wqOfTask.get(task);
  if (!wq) {
    const concurrency = Math.min(sqEntries, 4 * k.sched.cpus.length);
    wq = new IoWq(task, concurrency, st.rlimitNproc);
    st.wqOfTask.set(task, wq);
  }
  return wq;
}

/** io_wq_enqueue: queue the work, then wake an idle worker or create one if the pool allows. */
export function ioWqEnqueue(k: Kernel, wq: IoWq, work: IoWqWork, unbound: boolean): void {
  const acct = unbound ? wq.unbounded : wq.bounded;
  acct.work.push(work);
  activateOrCreate(k, wq, acct);
}

function activateOrCreate(k: Kernel, wq: IoWq, acct: IoWqAcct): void {
  const w = acct.free.pop();
  if (w) {
    w.idle = false;
    w.task!.wake();
    return;
  }
  if (acct.nrWorkers < acct.maxWorkers) createIoWorker(k, wq, acct);
}

/** The first queued item whose hash is not running elsewhere (io_get_next_work). */
function takeWork(acct: IoWqAcct): IoWqWork | undefined {
  for (let i = 0; i < acct.work.length; i++) {
    const w = acct.work[i]!;
    if (w.hash && acct.busyHashes.has(w.hash)) continue;
    acct.work.splice(i, 1);
    return w;
  }
  return undefined;
}

function runnable(acct: IoWqAcct): boolean {
  return acct.work.some((w) => !w.hash || !acct.busyHashes.has(w.hash));
}

function createIoWorker(k: Kernel, wq: IoWq, acct: IoWqAcct): void {
  const worker = new IoWorker(wq, acct);
  acct.nrWorkers++;
  acct.maxSeen = Math.max(acct.maxSeen, acct.nrWorkers);
  const st = ioUringState(k);
  st.maxWorkersSeen = Math.max(st.maxWorkersSeen, acct.nrWorkers);
  wq.workers.push(worker);
  worker.task = createIoThread(k, wq.owner, `iou-wrk-${wq.owner.pid}`, (t) => ioWqWorker(k, worker, t));
}

/**
 * create_io_thread: a thread of `parent`'s process (same tgid, mm, files and cgroup) that never
 * returns to user space. Made runnable at once.
 */
export function createIoThread(k: Kernel, parent: Task, comm: string, makeBody: (t: Task) => TaskBody): Task {
  // it never leaves the kernel: preemptible only at preemption points outside PREEMPT_FULL
  return copyThread(k, parent, comm, makeBody, true);
}

/** io_wq_worker: handle work until idle too long. */
function* ioWqWorker(k: Kernel, worker: IoWorker, task: Task): TaskBody {
  const acct = worker.acct;
  for (;;) {
    const work = takeWork(acct);
    if (work) {
      if (work.hash) acct.busyHashes.add(work.hash);
      // this worker is about to block: more pending work needs another one
      if (runnable(acct)) activateOrCreate(k, worker.wq, acct);
      yield IO_WQ_HANDLE_NS;
      yield* ioWqSubmitWork(k, task, work.req);
      if (work.hash) {
        acct.busyHashes.delete(work.hash);
        if (runnable(acct) && acct.free.length > 0) activateOrCreate(k, worker.wq, acct);
      }
      continue;
    }
    worker.idle = true;
    acct.free.push(worker);
    const sleptAtNs = k.env.nowNs;
    yield* scheduleTimeout(k, task, WORKER_IDLE_TIMEOUT_NS, TaskState.INTERRUPTIBLE);
    if (!worker.idle) continue; // activated by io_wq_enqueue
    worker.idle = false;
    const i = acct.free.indexOf(worker);
    if (i >= 0) acct.free.splice(i, 1);
    const timedOut = k.env.nowNs - sleptAtNs >= WORKER_IDLE_TIMEOUT_NS;
    const ownerGone = worker.wq.owner.state === TaskState.DEAD;
    if (timedOut && acct.work.length === 0 && (acct.nrWorkers > 1 || ownerGone)) break;
  }
  acct.nrWorkers--;
  const j = worker.wq.workers.indexOf(worker);
  if (j >= 0) worker.wq.workers.splice(j, 1);
}

/** io_wq_submit_work: issue the request blocking; post its CQE unless a ki_complete will. */
function* ioWqSubmitWork(k: Kernel, task: Task, req: IoKiocb): Generator<number, void, void> {
  task.ioId = req.ioId;
  const ret = ioIssueDone(req, yield* ioIssue(k, req, task, false), false);
  if (ret !== -EIOCBQUEUED) ioReqComplete(k, k.sched.cpu(task.cpu), req, ret);
  task.ioId = 0;
}
