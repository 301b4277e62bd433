// Models: kernel/signal.c as far as a blocked writer needs it: send_signal marks the task's
// pending set (TIF_SIGPENDING: signal_pending() is true) and signal_wake_up wakes it from an
// interruptible sleep, so a driver waiting for its device gives up (lp_write returns what it has
// written, or -EINTR); uninterruptible sleepers (I/O in flight) are left asleep.
// SIMPLIFICATION: no handlers, masks or delivery at return to user mode: the process that looks at
// its pending signal clears it (flushSignals), as the handler it would have run.

import type { Kernel } from './kernel.js';
import { TaskState, type Task } from './sched/task.js';
import { syscallEnter, syscallExit } from './entry.js';

/** Signal numbers (x86-64). */
export const SIG = { INT: 2, KILL: 9, PIPE: 13, TERM: 15 } as const;

/** send_signal + signal_wake_up: `sig` becomes pending and an interruptible sleeper wakes. */
export function sendSignal(k: Kernel, task: Task, sig: number): void {
  task.sigPending |= 1 << sig;
  if (task.state === TaskState.INTERRUPTIBLE) k.sched.wakeFromContext(task);
}

/**
 * kill(2) from `task` to the process `target` (group_send_sig_info). Returns 0.
 * SIMPLIFICATION: the syscall takes no time (its caller, lprm, is not a generator); only its
 * tracepoints and the signal are kept.
 */
export function sysKill(k: Kernel, task: Task, target: Task, sig: number): number {
  syscallEnter(k, task, 'kill', target.tgid, sig);
  sendSignal(k, target, sig);
  return syscallExit(k, task, 'kill', 0);
}

/** signal_pending(current) */
export function signalPending(task: Task): boolean {
  return task.sigPending !== 0;
}

/** The process has dealt with its signals (its handler ran). */
export function flushSignals(task: Task): void {
  task.sigPending = 0;
}
