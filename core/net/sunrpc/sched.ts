// Models: net/sunrpc/sched.c and include/linux/sunrpc/sched.h: struct rpc_task and its finite
// state machine (__rpc_execute runs tk_callback, then tk_action, until the task sleeps on an
// rpc_wait_queue or has no action left), rpc_sleep_on / rpc_sleep_on_timeout with the queue
// timer that sets -ETIMEDOUT, rpc_wake_up_queued_task and rpc_make_runnable, and rpciod: a
// synchronous task runs in its caller's context and the caller sleeps (TASK_KILLABLE) while the
// task is queued; an asynchronous one is run by the rpciod workqueue's kworker.
// SIMPLIFICATION: rpciod is one kworker thread per machine (Linux's unbound workqueue may run
// several works at once); each action is charged RPC_ACTION_NS of CPU.

import type { Kernel } from '../../kernel/kernel.js';
import { TaskState, type Task, type TaskBody } from '../../kernel/sched/task.js';
import { ioSchedule } from '../../block/blk-core.js';
import { Priority } from '../../sim/engine.js';
import { ETIMEDOUT } from '../../uapi/errno.js';
import type { RpcClnt, RpcMessage } from './clnt.js';
import type { RpcRqst } from './xprt.js';

/** tk_flags (include/linux/sunrpc/sched.h). */
export const RPC_TASK = {
  ASYNC: 0x0001,
  SOFT: 0x0200,
  SOFTCONN: 0x0400,
  SENT: 0x0800,
  TIMEOUT: 0x1000,
} as const;

/** tk_runstate bit numbers. */
export const RPC_TASK_RUNNING = 0;
export const RPC_TASK_QUEUED = 1;
export const RPC_TASK_ACTIVE = 2;
export const RPC_TASK_NEED_XMIT = 3;
export const RPC_TASK_NEED_RECV = 4;

/** CPU time of one state-machine step (an action, a callback). */
export const RPC_ACTION_NS = 150;

/** struct rpc_call_ops: what the owner of an async task is told. */
export interface RpcCallOps {
  /** rpc_call_done: the reply is decoded (or the call failed); runs in the task's context (rpciod). */
  rpcCallDone?(task: RpcTask): void;
  /** rpc_release: the task is going away. */
  rpcRelease?(task: RpcTask): void;
}

/** An rpc action (tk_action / tk_callback): one step of the state machine. */
export interface RpcAction {
  readonly name: string;
  /** Its "address" (TP_printk's %ps of the action pointer; ksym() prints it as hex). */
  readonly addr: number;
  run(task: RpcTask): void;
}

// below 2^53, like every simulated kernel address, so scripts read it exactly
let nextActionAddr = 0xffff_c0a0_0000;
/** Declares a state-machine step with a fixed, kallsyms-like address. */
export function rpcAction(name: string, run: (task: RpcTask) => void): RpcAction {
  const addr = nextActionAddr;
  nextActionAddr += 0x80;
  return { name, addr, run };
}

/** struct rpc_wait_queue: tasks sleeping for the same thing (a slot, the transport, a reply). */
export class RpcWaitQueue {
  readonly tasks: RpcTask[] = [];
  constructor(readonly name: string) {}
}

/** struct rpc_task */
export class RpcTask {
  readonly kaddr: number;
  /** tk_pid: the task's number (per machine). */
  readonly tkPid: number;
  tkFlags: number;
  tkRunstate = 0;
  tkStatus = 0;
  tkAction: RpcAction | undefined;
  tkCallback: RpcAction | undefined;
  tkRqstp: RpcRqst | undefined;
  /** The queue it sleeps on, and the sleep's timeout (tk_timeout, ns; 0 = none). */
  tkWaitqueue: RpcWaitQueue | undefined;
  tkTimeoutNs = 0;
  /** The pending queue timer (rpc_set_queue_timer), cancelled on wake-up. */
  timer: { active: boolean } | undefined;
  /** A synchronous task's caller, sleeping while the task is queued. */
  sleeper: Task | undefined;
  /** tk_start, when the request was first transmitted, when the reply arrived (rpc_stats_latency). */
  readonly tkStartNs: number;
  transmitNs = -1;
  replyNs = -1;
  /** Major timeouts seen (hard mounts keep retrying: "server not responding, still trying"). */
  majorTimeouts = 0;
  constructor(
    readonly k: Kernel,
    readonly tkClient: RpcClnt,
    readonly tkMsg: RpcMessage,
    flags: number,
    readonly tkOps: RpcCallOps,
    /** The I/O this call works for. */
    readonly ioId: number,
  ) {
    this.kaddr = k.kaddr();
    this.tkPid = rpcState(k).nextTaskId++;
    this.tkFlags = flags;
    this.tkStartNs = k.env.nowNs;
  }

  get isAsync(): boolean {
    return (this.tkFlags & RPC_TASK.ASYNC) !== 0;
  }

  get queued(): boolean {
    return (this.tkRunstate & (1 << RPC_TASK_QUEUED)) !== 0;
  }
}

/** Per-machine sunrpc state: task ids and the rpciod worker. */
interface RpcState {
  nextTaskId: number;
  /** rpciod's work list and its kworker (created on the first async task). */
  readonly work: RpcTask[];
  worker: Task | undefined;
  workerIdle: boolean;
}

const states = new WeakMap<Kernel, RpcState>();

function rpcState(k: Kernel): RpcState {
  let s = states.get(k);
  if (!s) {
    s = { nextTaskId: 1, work: [], worker: undefined, workerIdle: false };
    states.set(k, s);
  }
  return s;
}

function setBit(task: RpcTask, bit: number): void {
  task.tkRunstate |= 1 << bit;
}
function clearBit(task: RpcTask, bit: number): void {
  task.tkRunstate &= ~(1 << bit);
}

/** rpc_task_timeout: jiffies left in the current sleep (as the tracepoint reports it). */
function sleepTimeoutJiffies(task: RpcTask): number {
  return Math.floor(task.tkTimeoutNs / 1_000_000);
}

/** rpc_sleep_on: queue the task; __rpc_execute then parks it until rpc_wake_up_queued_task. */
export function rpcSleepOn(q: RpcWaitQueue, task: RpcTask, action: RpcAction | undefined): void {
  rpcSleepOnTimeout(q, task, action, 0);
}

/** rpc_sleep_on_timeout: as rpc_sleep_on, woken with tk_status = -ETIMEDOUT after `timeoutNs`. */
export function rpcSleepOnTimeout(q: RpcWaitQueue, task: RpcTask, action: RpcAction | undefined, timeoutNs: number): void {
  const k = task.k;
  if (action) task.tkCallback = action;
  task.tkWaitqueue = q;
  task.tkTimeoutNs = timeoutNs;
  q.tasks.push(task);
  setBit(task, RPC_TASK_QUEUED);
  clearBit(task, RPC_TASK_RUNNING);
  if (k.tp.rpc_task_sleep.enabled) k.tp.rpc_task_sleep.emit(k.sched.ctxCpu, task.ioId, task, q.name, sleepTimeoutJiffies(task));
  if (timeoutNs > 0) {
    const timer = { active: true };
    task.timer = timer;
    k.env.after(timeoutNs, Priority.NORMAL, queueTimerFn, { task, q, timer });
  }
}

/** __rpc_queue_timer_fn: the sleep timed out. */
function queueTimerFn(a: { task: RpcTask; q: RpcWaitQueue; timer: { active: boolean } }): void {
  if (!a.timer.active || a.task.tkWaitqueue !== a.q) return;
  a.task.tkStatus = -ETIMEDOUT;
  rpcWakeUpQueuedTask(a.q, a.task);
}

/** rpc_wake_up_queued_task: take the task off `q` and make it runnable (any context). */
export function rpcWakeUpQueuedTask(q: RpcWaitQueue, task: RpcTask): void {
  if (task.tkWaitqueue !== q) return;
  const i = q.tasks.indexOf(task);
  if (i >= 0) q.tasks.splice(i, 1);
  task.tkWaitqueue = undefined;
  if (task.timer) {
    task.timer.active = false;
    task.timer = undefined;
  }
  const k = task.k;
  if (k.tp.rpc_task_wakeup.enabled) k.tp.rpc_task_wakeup.emit(k.sched.ctxCpu, task.ioId, task, q.name, sleepTimeoutJiffies(task));
  task.tkTimeoutNs = 0;
  rpcMakeRunnable(task);
}

/** rpc_wake_up_next: wake the first sleeper of `q`; returns it. */
export function rpcWakeUpNext(q: RpcWaitQueue): RpcTask | undefined {
  const t = q.tasks[0];
  if (t) rpcWakeUpQueuedTask(q, t);
  return t;
}

/**
 * rpc_make_runnable: clear QUEUED; an async task is queued on rpciod, a sync one's caller is woken
 * (it sleeps in __rpc_execute's out_of_line_wait_on_bit).
 */
function rpcMakeRunnable(task: RpcTask): void {
  clearBit(task, RPC_TASK_QUEUED);
  setBit(task, RPC_TASK_RUNNING);
  if (task.isAsync) {
    rpciodQueue(task);
    return;
  }
  const s = task.sleeper;
  if (s) {
    task.sleeper = undefined;
    s.wake();
  }
}

/** queue_work(rpciod_workqueue, &task->u.tk_work) */
function rpciodQueue(task: RpcTask): void {
  const k = task.k;
  const s = rpcState(k);
  s.work.push(task);
  if (!s.worker) {
    s.worker = k.mm.spawnKthread('kworker/u8:0-rpciod', (t) => rpciodWorker(k, s, t));
  } else if (s.workerIdle) {
    s.workerIdle = false;
    s.worker.wake();
  }
}

/** The rpciod kworker: runs queued async tasks until each sleeps or ends (rpc_async_schedule). */
function* rpciodWorker(k: Kernel, s: RpcState, self: Task): TaskBody {
  for (;;) {
    const task = s.work.shift();
    if (!task) {
      s.workerIdle = true;
      self.state = TaskState.INTERRUPTIBLE;
      yield* ioSchedule(k, self, false);
      continue;
    }
    const saved = self.ioId;
    self.ioId = task.ioId;
    yield* rpcExecuteSteps(k, self, task);
    self.ioId = saved;
  }
}

/** rpc_execute for a synchronous task: it runs here, in the caller's context, until it ends. */
export function* rpcExecute(k: Kernel, ctx: Task, task: RpcTask): Generator<number, void, void> {
  rpcTaskBegin(k, task);
  yield* rpcExecuteSteps(k, ctx, task);
}

/** rpc_execute for an async task (rpc_run_task): rpciod runs it; this returns at once. */
export function rpcExecuteAsync(task: RpcTask): void {
  rpcTaskBegin(task.k, task);
  rpciodQueue(task);
}

function rpcTaskBegin(k: Kernel, task: RpcTask): void {
  setBit(task, RPC_TASK_ACTIVE);
  setBit(task, RPC_TASK_RUNNING);
  if (k.tp.rpc_task_begin.enabled) k.tp.rpc_task_begin.emit(k.sched.ctxCpu, task.ioId, task, 0);
}

/** __rpc_execute: run tk_callback, then tk_action, until the task sleeps or has no action left. */
function* rpcExecuteSteps(k: Kernel, ctx: Task, task: RpcTask): Generator<number, void, void> {
  for (;;) {
    let action = task.tkAction;
    if (task.tkCallback) {
      action = task.tkCallback;
      task.tkCallback = undefined;
    }
    if (!action) break;
    if (k.tp.rpc_task_run_action.enabled) k.tp.rpc_task_run_action.emit(k.sched.cpu(ctx.cpu), task.ioId, task, action.addr);
    yield RPC_ACTION_NS;
    action.run(task);
    if (!task.queued) continue;
    // the task sleeps: an async one gives rpciod back (rpc_make_runnable requeues it)
    if (task.isAsync) return;
    while (task.queued) {
      ctx.state = TaskState.UNINTERRUPTIBLE;
      task.sleeper = ctx;
      yield* ioSchedule(k, ctx, false);
    }
  }
  rpcReleaseTask(k, ctx, task);
}

/** rpc_release_task: the task is done with (rpc_task_complete), after rpc_exit_task ran rpc_call_done. */
function rpcReleaseTask(k: Kernel, ctx: Task, task: RpcTask): void {
  if (k.tp.rpc_task_complete.enabled) k.tp.rpc_task_complete.emit(k.sched.cpu(ctx.cpu), task.ioId, task, 0);
  clearBit(task, RPC_TASK_ACTIVE);
  clearBit(task, RPC_TASK_RUNNING);
  task.tkClient.releaseResources(task);
  task.tkOps.rpcRelease?.(task);
}

/** rpc_exit: finish the task with `status` at its next step. */
export function rpcExit(task: RpcTask, status: number): void {
  task.tkStatus = status;
  task.tkAction = rpcExitTaskAction;
}

/** rpc_exit_task: the last action; tells the owner (rpc_call_done) and ends the state machine. */
export const rpcExitTaskAction = rpcAction('rpc_exit_task', (task) => {
  const k = task.k;
  task.tkAction = undefined;
  if (k.tp.rpc_task_end.enabled) k.tp.rpc_task_end.emit(k.sched.ctxCpu, task.ioId, task, rpcExitTaskAction.addr);
  task.tkOps.rpcCallDone?.(task);
});
