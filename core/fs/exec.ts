// Models: fs/exec.c (the execve(2) syscall: do_execveat_common -> bprm_execve -> exec_binprm): a
// process replaces its image. Only the syscall, the tracepoint and the cost matter here; the new
// image is the workload's own code.
// SIMPLIFICATION: the binary is not read through the page cache and its pages are not faulted in;
// EXECVE_NS stands for that work.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, userString, userStruct, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';

/** The cost of an execve: mapping the binary, setting up the stack (page faults not modelled). */
export const EXECVE_NS = 150_000;

/**
 * execve(filename, argv, envp) from user space: sys_enter_execve with the path and the argv
 * array in the caller's memory, sched_process_exec once the new image is in, sys_exit_execve 0.
 */
export function* sysExecve(k: Kernel, task: Task, filename: string, argv: readonly string[]): Generator<number, number, void> {
  const filenameVa = userString(task, filename);
  const argvVa = userStruct(task, 'argv', argv);
  syscallEnter(k, task, 'execve', filenameVa, argvVa, 0);
  yield SYSCALL_ENTRY_NS;
  yield EXECVE_NS;
  if (task.mm) task.mm.exePath = filename;
  if (k.tp.sched_process_exec.enabled) k.tp.sched_process_exec.emit(k.sched.cpu(task.cpu), 0, task, task.pid, filename);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'execve', 0);
}
