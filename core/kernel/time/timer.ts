// Models: kernel/time/timer.c and kernel/time/hrtimer.c as sleepers use them: schedule_timeout()
// and nanosleep put the task to sleep with a timer that wakes it.
// SIMPLIFICATION: timer expiry wakes the task directly at the expiry time; the timer interrupt
// that would run it is not modelled as an IRQ.

import { Priority } from '../../sim/engine.js';
import type { Kernel } from '../kernel.js';
import { TaskState, type Task } from '../sched/task.js';
import { ioSchedule } from '../../block/blk-core.js';
import { syscallEnter, syscallExit, userStruct, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../entry.js';

interface TimerToken {
  readonly k: Kernel;
  readonly task: Task;
  active: boolean;
}

function timerExpired(t: TimerToken): void {
  if (!t.active) return;
  t.active = false;
  const cpu = t.k.sched.cpu(t.task.cpu);
  t.k.sched.tryToWakeUp(t.task, cpu, t.task.ioId);
}

/**
 * schedule_timeout: sleep in `state` for up to `timeoutNs` (a wait queue the caller joined may wake
 * it earlier). The block plug is flushed first, as schedule() does. `iowait`: io_schedule_timeout.
 */
export function* scheduleTimeout(k: Kernel, task: Task, timeoutNs: number, state: TaskState, iowait = false): Generator<number, void, void> {
  task.state = state;
  const token: TimerToken = { k, task, active: true };
  k.env.after(Math.max(1, timeoutNs), Priority.NORMAL, timerExpired, token);
  yield* ioSchedule(k, task, iowait);
  token.active = false;
}

/** hrtimer_nanosleep: an interruptible sleep of exactly `ns`. */
export function* nanosleep(k: Kernel, task: Task, ns: number): Generator<number, void, void> {
  const fn = k.fn.do_nanosleep;
  // SIMPLIFICATION: the hrtimer_sleeper is not an object here; arg0 reads as NULL
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), 0, 0, HRTIMER_MODE_REL);
  yield* scheduleTimeout(k, task, ns, TaskState.INTERRUPTIBLE);
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), 0, 0);
}

/** enum hrtimer_mode: a relative expiry, as nanosleep(2) asks for. */
const HRTIMER_MODE_REL = 1;

/** CLOCK_REALTIME: the clock glibc's nanosleep() and usleep() pass to clock_nanosleep. */
const CLOCK_REALTIME = 0;

/**
 * clock_nanosleep(2) as a process calls it (glibc's nanosleep(), usleep() and sleep() all do, with
 * CLOCK_REALTIME and a relative struct timespec): the syscall around hrtimer_nanosleep.
 */
export function* sysClockNanosleep(k: Kernel, task: Task, ns: number): Generator<number, number, void> {
  const rqtp = userStruct(task, 'timespec', { tv_sec: Math.floor(ns / 1e9), tv_nsec: ns % 1e9 });
  syscallEnter(k, task, 'clock_nanosleep', CLOCK_REALTIME, 0, rqtp, 0);
  yield SYSCALL_ENTRY_NS;
  yield* nanosleep(k, task, ns);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'clock_nanosleep', 0);
}
