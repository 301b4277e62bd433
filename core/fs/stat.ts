// Models: fs/stat.c: the stat family (newstat, newlstat, newfstat, newfstatat, statx): a path walk
// through the dentry cache (or a file descriptor) and the inode's attributes copied out.
// SIMPLIFICATION: the struct stat is not written to user memory; a program sees the call, its
// path and its result.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, userString, userStruct, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';
import { EBADF, ENOENT } from '../uapi/errno.js';
import { TASK_CWD } from './namei.js';
import { AT_FDCWD } from './open.js';

/** vfs_statx: walks `path` (relative ones from the cwd) and answers 0 when it names something. */
function statPath(k: Kernel, task: Task, ioId: number, path: string): number {
  const abs = path.startsWith('/') ? path : `${TASK_CWD}/${path}`;
  const { dentry } = k.vfs.pathWalk(k, task, ioId, abs);
  return dentry.positive ? 0 : -ENOENT;
}

/** newfstatat(dfd, path, statbuf, flag): what glibc's stat(), lstat() and fstatat() call on x86-64. */
export function* sysNewfstatat(k: Kernel, task: Task, dfd: number, path: string, flag: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'newfstatat', dfd, userString(task, path), userStruct(task, 'stat', {}), flag);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = dfd === AT_FDCWD || path.startsWith('/') ? statPath(k, task, ioId, path) : -EBADF;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'newfstatat', ret);
}

/** statx(dfd, path, flags, mask, buffer). */
export function* sysStatx(k: Kernel, task: Task, dfd: number, path: string, flags: number, mask: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'statx', dfd, userString(task, path), flags, mask, userStruct(task, 'statx', {}));
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = dfd === AT_FDCWD || path.startsWith('/') ? statPath(k, task, ioId, path) : -EBADF;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'statx', ret);
}

/** newfstat(fd, statbuf): the open file's inode, no walk. */
export function* sysNewfstat(k: Kernel, task: Task, fd: number): Generator<number, number, void> {
  syscallEnter(k, task, 'newfstat', fd, userStruct(task, 'stat', {}));
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = task.files?.get(fd) ? 0 : -EBADF;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'newfstat', ret);
}
