// Models: kernel/fork.c: kernel_clone for a new process (fork(): the clone syscall, copy_process,
// sched_process_fork, wake_up_new_task) and copy_process for a thread (clone with CLONE_VM | CLONE_FILES |
// CLONE_THREAD, as pthread_create and create_io_thread make them): a new task in the parent's
// thread group, sharing its mm and open files, in its cgroup (cgroup_can_fork: a thread joins its
// process's cgroup), made runnable at once (wake_up_new_task).

import type { Kernel } from './kernel.js';
import { DEFAULT_PRIO, Task, type TaskBody } from './sched/task.js';
import { Priority } from '../sim/engine.js';
import { SYSCALL_NR } from '../trace/events.js';
import type { HitContext } from '../trace/probe.js';

/** The clone flags glibc's fork() passes: CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID | SIGCHLD. */
const FORK_CLONE_FLAGS = 0x0120_0011;

interface Clone {
  readonly k: Kernel;
  readonly parent: Task;
  readonly child: Task;
  readonly body: TaskBody;
}

/**
 * kernel_clone as `parent`'s fork() runs it, for `child` (made by the caller, as copy_process
 * makes it): sys_enter_clone, sched_process_fork, wake_up_new_task, sys_exit_clone with the
 * child's pid, all in the parent's name.
 * SIMPLIFICATION: the fork takes no time and happens at the next event of the current instant,
 * wherever the parent is (init forks the workload before the run starts; a program attached by
 * then sees every fork before the child's exec).
 */
export function kernelClone(k: Kernel, parent: Task, child: Task, body: TaskBody): void {
  k.env.at(k.env.nowNs, Priority.NORMAL, doClone, { k, parent, child, body });
}

function doClone(c: Clone): void {
  const { k, parent, child } = c;
  const cpu = k.sched.cpu(parent.cpu);
  const ctx: HitContext = { cpuId: cpu.cpuId, nowNs: k.env.nowNs, pid: parent.tgid, tid: parent.pid, comm: parent.comm };
  const enter = k.sites.sysEnter.clone;
  const exit = k.sites.sysExit.clone;
  const rawEnter = k.tp.sys_enter;
  const rawExit = k.tp.sys_exit;
  if (enter.enabled || rawEnter.enabled) {
    const args = [FORK_CLONE_FLAGS, 0, 0, 0, 0, 0];
    if (rawEnter.enabled) rawEnter.emit(ctx, 0, SYSCALL_NR.clone, args);
    if (enter.enabled) enter.emit(ctx, 0, args);
  }
  if (k.tp.sched_process_fork.enabled) k.tp.sched_process_fork.emit(ctx, 0, parent, child);
  k.sched.wakeUpNewTask(child, c.body, cpu);
  if (exit.enabled) exit.emit(ctx, 0, child.pid);
  if (rawExit.enabled) rawExit.emit(ctx, 0, SYSCALL_NR.clone, child.pid);
}

/**
 * A thread of `parent`'s process running `makeBody`'s body. An io thread (create_io_thread: io-wq
 * workers, SQPOLL) runs kernel code only, so outside PREEMPT_FULL it is preempted only at
 * preemption points.
 */
export function copyThread(k: Kernel, parent: Task, comm: string, makeBody: (t: Task) => TaskBody, ioThread = false): Task {
  const pid = k.nextPid++;
  const t = new Task(k.kaddr(), pid, parent.tgid, comm.slice(0, 15), DEFAULT_PRIO, false, parent.mm, parent.files, parent.cpu, (task) => k.sched.wakeFromContext(task));
  t.realParent = parent;
  t.memcg = parent.memcg;
  t.inKernel = ioThread;
  k.tasks.push(t);
  const cpu = k.sched.ctxCpu;
  if (k.tp.sched_process_fork.enabled) k.tp.sched_process_fork.emit(cpu, 0, parent, t);
  k.sched.wakeUpNewTask(t, makeBody(t), cpu);
  return t;
}
