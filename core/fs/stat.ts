// Models: fs/stat.c: the stat family (newstat, newlstat, newfstat, newfstatat, statx): a path walk
// through the dentry cache (or a file descriptor), then vfs_getattr: the filesystem's ->getattr
// (NFS revalidates its attribute cache there) or the inode's attributes (generic_fillattr).
// SIMPLIFICATION: the struct stat is not written to user memory; a program sees the call, its
// path and its result, and callers in kiotrace that want the attributes pass a Kstat to fill.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, userString, userStruct, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';
import { EBADF, ENOENT } from '../uapi/errno.js';
import { TASK_CWD } from './namei.js';
import { AT_FDCWD } from './open.js';
import type { Inode } from './types.js';

/** struct kstat, as far as kiotrace keeps it. */
export interface Kstat {
  ino: number;
  dev: number;
  mode: number;
  sizeBytes: number;
}

/** vfs_getattr -> ->getattr or generic_fillattr. */
export function* vfsGetattr(task: Task, ioId: number, inode: Inode, out: Kstat | undefined): Generator<number, number, void> {
  const getattr = inode.iop?.getattr;
  const err = getattr ? yield* getattr(task, ioId, inode) : 0;
  if (err === 0 && out) {
    out.ino = inode.ino;
    out.dev = inode.sDev;
    out.mode = inode.mode;
    out.sizeBytes = inode.sizeBytes;
  }
  return err;
}

/** vfs_statx: walks `path` (relative ones from the cwd), then vfs_getattr; a network filesystem's walk goes to its server. */
function* statPath(k: Kernel, task: Task, ioId: number, path: string, out: Kstat | undefined): Generator<number, number, void> {
  const abs = path.startsWith('/') ? path : `${TASK_CWD}/${path}`;
  const remote = k.vfs.remoteMounts.length > 0 ? k.vfs.remoteFor(abs) : undefined;
  let inode: Inode | undefined;
  if (remote) {
    const r = yield* remote.mount.walk(task, ioId, remote.name, 0);
    if (typeof r === 'number') return r;
    inode = r;
  } else {
    const { dentry } = k.vfs.pathWalk(k, task, ioId, abs);
    if (!dentry.positive) return -ENOENT;
    inode = k.vfs.lookup(abs);
  }
  if (!inode) return -ENOENT;
  return yield* vfsGetattr(task, ioId, inode, out);
}

/** newfstatat(dfd, path, statbuf, flag): what glibc's stat(), lstat() and fstatat() call on x86-64. */
export function* sysNewfstatat(k: Kernel, task: Task, dfd: number, path: string, flag: number, out?: Kstat): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'newfstatat', dfd, userString(task, path), userStruct(task, 'stat', {}), flag);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = dfd === AT_FDCWD || path.startsWith('/') ? yield* statPath(k, task, ioId, path, out) : -EBADF;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'newfstatat', ret);
}

/** statx(dfd, path, flags, mask, buffer). */
export function* sysStatx(k: Kernel, task: Task, dfd: number, path: string, flags: number, mask: number, out?: Kstat): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'statx', dfd, userString(task, path), flags, mask, userStruct(task, 'statx', {}));
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = dfd === AT_FDCWD || path.startsWith('/') ? yield* statPath(k, task, ioId, path, out) : -EBADF;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'statx', ret);
}

/** newfstat(fd, statbuf): the open file's inode, no walk. */
export function* sysNewfstat(k: Kernel, task: Task, fd: number, out?: Kstat): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'newfstat', fd, userStruct(task, 'stat', {}));
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const file = task.files?.get(fd);
  const ret = file ? yield* vfsGetattr(task, ioId, file.inode, out) : -EBADF;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'newfstat', ret);
}
