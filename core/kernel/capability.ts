// Models: kernel/capability.c and include/uapi/linux/capability.h: a task's effective capability
// set, and capable() (security_capable -> cap_capable, a kprobe) as drivers ask it before letting a task near hardware (CAP_SYS_RAWIO for
// /dev/mem and ioperm/iopl). Root (sudo) has the full set; an ordinary user has none.

import type { Task } from './sched/task.js';
import type { Kernel } from './kernel.js';
import { EPERM } from '../uapi/errno.js';

/** CAP_OPT_NONE: an audited check (capable()), as opposed to CAP_OPT_NOAUDIT. */
const CAP_OPT_NONE = 0;


/** Capability numbers (include/uapi/linux/capability.h). */
export const CAP = {
  DAC_OVERRIDE: 1,
  SYS_RAWIO: 17,
  SYS_ADMIN: 21,
} as const;

/** CAP_FULL_SET: every capability up to CAP_LAST_CAP (40), as root's processes have. */
export const CAP_FULL_SET = 2 ** 41 - 1;

/**
 * capable(cap): whether the task's effective set holds `cap`, through security_capable's
 * cap_capable (whose kprobe fires when `k` is given: the task's cred, init_user_ns, cap, opts).
 */
export function capable(task: Task, cap: number, k?: Kernel): boolean {
  const has = Math.floor(task.capEffective / 2 ** cap) % 2 === 1;
  const fn = k?.fn.cap_capable;
  if (k && fn && (fn.entry.enabled || fn.ret.enabled)) {
    const cpu = k.sched.cpu(task.cpu);
    // SIMPLIFICATION: struct cred and the user namespace are not objects; cred reads as the task's address, targ_ns as NULL
    if (fn.entry.enabled) fn.enter(cpu, task.ioId, task.kaddr, 0, cap, CAP_OPT_NONE);
    if (fn.ret.enabled) fn.exit(cpu, task.ioId, has ? 0 : -EPERM);
  }
  return has;
}
