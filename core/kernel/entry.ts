// Models: arch/x86/entry/syscall_64.c and kernel/entry/common.c: the one place every syscall
// enters and leaves the kernel. Entry assigns the ioId (each syscall is an I/O origin) and fires
// raw_syscalls:sys_enter and syscalls:sys_enter_*; exit fires the sys_exit pair. Each syscall is
// written as `enter; yield SYSCALL_ENTRY_NS; body; yield SYSCALL_EXIT_NS; return exit` so the
// entry code adds no generator frame to every resume of the body.

import type { Kernel } from './kernel.js';
import type { Task } from './sched/task.js';
import { SYSCALL_NR, type SyscallName } from '../trace/events.js';

export { SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../hw/cpu.js';

/** syscall_enter_from_user_mode: returns the new ioId. Arguments are the raw registers. */
export function syscallEnter(k: Kernel, task: Task, name: SyscallName, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  const ioId = k.newIoId();
  task.ioId = ioId;
  task.inKernel = true;
  k.stat.syscalls++;
  const raw = k.tp.sys_enter;
  const enter = k.sites.sysEnter[name];
  if (raw.enabled || enter.enabled) {
    const args = [a0, a1, a2, a3, a4, a5];
    const cpu = k.sched.cpu(task.cpu);
    if (raw.enabled) raw.emit(cpu, ioId, SYSCALL_NR[name], args);
    if (enter.enabled) enter.emit(cpu, ioId, args);
  }
  return ioId;
}

/** syscall_exit_to_user_mode: fires the exit tracepoints and returns `ret`. */
export function syscallExit(k: Kernel, task: Task, name: SyscallName, ret: number): number {
  const exit = k.sites.sysExit[name];
  const raw = k.tp.sys_exit;
  if (exit.enabled || raw.enabled) {
    const cpu = k.sched.cpu(task.cpu);
    if (exit.enabled) exit.emit(cpu, task.ioId, ret);
    if (raw.enabled) raw.emit(cpu, task.ioId, SYSCALL_NR[name], ret);
  }
  task.ioId = 0;
  task.inKernel = false;
  return ret;
}
