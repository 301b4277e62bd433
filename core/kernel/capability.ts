// Models: kernel/capability.c and include/uapi/linux/capability.h: a task's effective capability
// set, and capable() as drivers ask it before letting a task near hardware (CAP_SYS_RAWIO for
// /dev/mem and ioperm/iopl). Root (sudo) has the full set; an ordinary user has none.

import type { Task } from './sched/task.js';

/** Capability numbers (include/uapi/linux/capability.h). */
export const CAP = {
  DAC_OVERRIDE: 1,
  SYS_RAWIO: 17,
  SYS_ADMIN: 21,
} as const;

/** CAP_FULL_SET: every capability up to CAP_LAST_CAP (40), as root's processes have. */
export const CAP_FULL_SET = 2 ** 41 - 1;

/** capable(cap): whether the task's effective set holds `cap`. */
export function capable(task: Task, cap: number): boolean {
  return Math.floor(task.capEffective / 2 ** cap) % 2 === 1;
}
