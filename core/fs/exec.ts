// Models: fs/exec.c (bprm_execve -> exec_binprm): a process replaces its image. Only the
// tracepoint and the cost matter here; the new image is the workload's own code.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';

/** The cost of an execve: mapping the binary, setting up the stack (page faults not modelled). */
export const EXECVE_NS = 150_000;

export function execve(k: Kernel, task: Task, filename: string): number {
  if (k.tp.sched_process_exec.enabled) k.tp.sched_process_exec.emit(k.sched.cpu(task.cpu), 0, task, task.pid, filename);
  return EXECVE_NS;
}
