// Models: arch/x86/entry/syscall_64.c and kernel/entry/common.c: the one place every syscall
// enters and leaves the kernel. It assigns the ioId (each syscall is an I/O origin), fires
// raw_syscalls:sys_enter/sys_exit and syscalls:sys_enter_*/sys_exit_*, and charges entry/exit.

import type { Kernel } from './kernel.js';
import type { Task } from './sched/task.js';
import { SYSCALL_NR, type SyscallName } from '../trace/events.js';
import { SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../hw/cpu.js';

export type SyscallImpl = (ioId: number) => Generator<number, number, void>;

/** do_syscall_64: run `impl` as syscall `name` with raw register arguments `args`. */
export function* doSyscall(k: Kernel, task: Task, name: SyscallName, args: readonly number[], impl: SyscallImpl): Generator<number, number, void> {
  const ioId = k.newIoId();
  task.ioId = ioId;
  k.stat.syscalls++;
  const nr = SYSCALL_NR[name];
  let cpu = k.sched.cpu(task.cpu);
  if (k.tp.sys_enter.enabled) k.tp.sys_enter.emit(cpu, ioId, nr, args);
  const enter = k.sites.sysEnter[name];
  if (enter.enabled) enter.emit(cpu, ioId, args);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* impl(ioId);
  yield SYSCALL_EXIT_NS;
  cpu = k.sched.cpu(task.cpu);
  const exit = k.sites.sysExit[name];
  if (exit.enabled) exit.emit(cpu, ioId, ret);
  if (k.tp.sys_exit.enabled) k.tp.sys_exit.emit(cpu, ioId, nr, ret);
  task.ioId = 0;
  return ret;
}
