// Models: arch/x86/entry/syscall_64.c and kernel/entry/common.c: the one place every syscall
// enters and leaves the kernel. Entry assigns the ioId (each syscall that can do I/O is an I/O origin) and fires
// raw_syscalls:sys_enter and syscalls:sys_enter_*; exit fires the sys_exit pair. Each syscall is
// written as `enter; yield SYSCALL_ENTRY_NS; body; yield SYSCALL_EXIT_NS; return exit` so the
// entry code adds no generator frame to every resume of the body.

import type { Kernel } from './kernel.js';
import type { Task } from './sched/task.js';
import { SYSCALL_NR, type SyscallName } from '../trace/events.js';

export { SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../hw/cpu.js';

/**
 * Syscalls that start no I/O: sleeping, process life, and the stat family (a path walk through
 * the dentry cache, which reads no directory block here). They run with ioId 0, so traces and
 * `ioid` follow the data I/Os only.
 */
const NOT_IO_ORIGIN: Readonly<Partial<Record<SyscallName, true>>> = {
  nanosleep: true,
  clock_nanosleep: true,
  execve: true,
  execveat: true,
  clone: true,
  fork: true,
  vfork: true,
  exit_group: true,
  newstat: true,
  newlstat: true,
  newfstat: true,
  newfstatat: true,
  statx: true,
  statfs: true,
  kill: true,
  tkill: true,
  tgkill: true,
};

/** syscall_enter_from_user_mode: returns the new ioId (0 for a syscall that starts no I/O). Arguments are the raw registers. */
export function syscallEnter(k: Kernel, task: Task, name: SyscallName, a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0): number {
  const ioId = NOT_IO_ORIGIN[name] === true ? 0 : k.newIoId();
  task.ioId = ioId;
  task.inKernel = true;
  task.syscall = name;
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
  task.syscall = undefined;
  return ret;
}

/** Keeps a string (a path, an argument) in the task's user memory, so tracepoints carry a pointer to it. */
export function userString(task: Task, s: string): number {
  const mm = task.mm;
  if (!mm) return 0;
  for (const [va, str] of mm.userStrings) if (str === s) return va;
  const va = mm.stringsVa;
  mm.userStrings.set(va, s);
  mm.stringsVa += Math.ceil((s.length + 1) / 16) * 16;
  return va;
}

/**
 * Puts `value` at the task's address for structs of `kind` (the caller's local variable, the
 * same address call after call) and returns the address: a syscall's pointer argument.
 */
export function userStruct(task: Task, kind: string, value: object): number {
  const mm = task.mm;
  if (!mm) return 0;
  let va = mm.userStructVa.get(kind);
  if (va === undefined) {
    va = mm.stringsVa;
    mm.stringsVa += 64;
    mm.userStructVa.set(kind, va);
  }
  mm.userStructs.set(va, value);
  return va;
}
