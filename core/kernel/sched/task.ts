// Models: include/linux/sched.h: struct task_struct, reduced to what the I/O path and the
// scheduler need. A task's body is a generator: numbers are CPU time to consume, SCHED is schedule().

import type { SyscallName } from '../../trace/events.js';
import type { Waker } from '../../sim/process.js';
import type { BlkPlug } from '../../block/blk-core.js';
import type { MmStruct } from '../../mm/mm_types.js';
import type { FdTable } from '../../fs/types.js';
import { INIT_NR_DIRTIED_PAUSE } from '../../mm/page-writeback-throttle.js';
import type { MemCgroup } from '../../cgroup/memcontrol.js';

/** Task states (include/linux/sched.h values, as sched_switch's prev_state reports them). */
export const TaskState = {
  RUNNING: 0,
  INTERRUPTIBLE: 0x1,
  UNINTERRUPTIBLE: 0x2,
  DEAD: 0x80,
} as const;
export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** What schedule() reports for a preempted task (TASK_REPORT_MAX, printed as "R+"). */
export const TASK_REPORT_PREEMPTED = 0x100;

/** Yielded by a task body to call schedule(). Any number > 0 is CPU time to burn; 0 is a no-op. */
export const SCHED = -1;
/**
 * Yielded at a preemption point (cond_resched(), might_resched(), preempt_enable()) when
 * Scheduler.condResched/mightResched/preemptEnable said the task must give up the CPU: it is
 * preempted (__schedule(SM_PREEMPT), reported "R+") and runs on when it is picked again.
 */
export const PREEMPT = -2;

/** Scheduling policies (include/uapi/linux/sched.h). */
export const SCHED_NORMAL = 0;
export const SCHED_FIFO = 1;
/** MAX_RT_PRIO: an RT task's prio is MAX_RT_PRIO - 1 - rt_priority (rt_priority 1..99). */
export const MAX_RT_PRIO = 100;

export type TaskBody = Generator<number, void, void>;

/** Default priority of a nice-0 normal task (prio = 120). */
export const DEFAULT_PRIO = 120;

export class Task implements Waker {
  state: TaskState = TaskState.RUNNING;
  /** CPU it runs on, or last ran on. */
  cpu: number;
  onCpu = false;
  onRq = false;
  /** CPU work still to do before the body resumes (an interrupted segment, a context switch). */
  pendingBurnNs = 0;
  /** CFS virtual runtime (all tasks are nice 0, so it is plain runtime plus placement). */
  vruntimeNs = 0;
  sumExecRuntimeNs = 0;
  /** sumExecRuntimeNs when it was last switched in (for sched_stat_runtime at the switch out). */
  runtimeAtSwitchInNs = 0;
  /** The I/O this task is working on now (set at syscall entry and page-fault entry). */
  ioId = 0;
  plug: BlkPlug | undefined;
  /** Voluntary and involuntary context switches (nvcsw / nivcsw). */
  nvcsw = 0;
  nivcsw = 0;
  /** Page faults resolved without I/O and with I/O (task_struct min_flt / maj_flt). */
  minFlt = 0;
  majFlt = 0;
  exitCode = 0;
  /** The task that forked it (task_struct->real_parent); undefined for boot-time tasks. */
  realParent: Task | undefined;
  body: TaskBody | undefined;
  /** When it last became runnable (for run-queue latency). */
  lastWakeNs = 0;
  /** Dirty throttling (mm/page-writeback.c): pages dirtied since the last balance_dirty_pages(), how many to dirty before the next, and when it last paused (jiffies; 0 never). */
  nrDirtied = 0;
  nrDirtiedPause = INIT_NR_DIRTIED_PAUSE;
  dirtyPausedWhen = 0;
  /** Its memory cgroup (undefined: the root's). */
  memcg: MemCgroup | undefined;
  /** cred->cap_effective as a bit set (core/kernel/capability.ts); 0: an unprivileged user. */
  capEffective = 0;
  /** Pending signals, bit per number (core/kernel/signal.ts); 0: none. */
  sigPending = 0;
  /** sched_setscheduler: SCHED_NORMAL or SCHED_FIFO, and the RT priority (1..99) for FIFO. */
  policy = SCHED_NORMAL;
  rtPriority = 0;
  /**
   * Running kernel code (a syscall, a fault, a kernel thread): outside PREEMPT_FULL such code is
   * preempted only where it blocks or reaches a preemption point, never in between.
   */
  inKernel: boolean;
  /** The syscall it is in (what a user stack's innermost frame called); undefined outside one. */
  syscall: SyscallName | undefined = undefined;
  /** preempt_count's disable depth (spinlocks, preempt_disable): no preemption while > 0. */
  preemptCount = 0;
  /** task_struct in_iowait: sleeping in io_schedule() (its wakeup asks cpufreq for an iowait boost). */
  inIowait = false;

  constructor(
    readonly kaddr: number,
    readonly pid: number,
    /** Thread group id: equals pid for our single-threaded tasks. */
    readonly tgid: number,
    public comm: string,
    /** prio as sched_switch reports it: 120 for nice 0, MAX_RT_PRIO - 1 - rt_priority for RT. */
    public prio: number,
    readonly kthread: boolean,
    readonly mm: MmStruct | undefined,
    readonly files: FdTable | undefined,
    cpu: number,
    private readonly waker: (task: Task) => void,
  ) {
    this.cpu = cpu;
    this.inKernel = kthread;
  }

  /** try_to_wake_up(this): lets a WaitQueue wake the task. */
  wake(): void {
    this.waker(this);
  }
}
