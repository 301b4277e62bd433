// Models: kernel/fork.c's copy_process for a thread (clone with CLONE_VM | CLONE_FILES |
// CLONE_THREAD, as pthread_create and create_io_thread make them): a new task in the parent's
// thread group, sharing its mm and open files, in its cgroup (cgroup_can_fork: a thread joins its
// process's cgroup), made runnable at once (wake_up_new_task).

import type { Kernel } from './kernel.js';
import { DEFAULT_PRIO, Task, type TaskBody } from './sched/task.js';

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
