// Models: fs/stat.c: newfstatat (vfs_fstatat: walk the path, then vfs_getattr) and newfstat
// (vfs_fstat), where vfs_getattr calls the filesystem's ->getattr (NFS revalidates its attribute
// cache there) or fills the attributes from the inode (generic_fillattr).
// SIMPLIFICATION: the struct stat is not written to user memory; callers in kiotrace that want
// it pass a Kstat to fill.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';
import { EBADF, ENOENT } from '../uapi/errno.js';
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

function* fstatatImpl(k: Kernel, task: Task, ioId: number, path: string, out: Kstat | undefined): Generator<number, number, void> {
  yield VFS_DISPATCH_NS;
  if (!path.startsWith('/')) return -ENOENT;
  const remote = k.vfs.remoteMounts.length > 0 ? k.vfs.remoteFor(path) : undefined;
  let inode: Inode | undefined;
  if (remote) {
    const r = yield* remote.mount.walk(task, ioId, remote.name, 0);
    if (typeof r === 'number') return r;
    inode = r;
  } else inode = k.vfs.lookup(path);
  if (!inode) return -ENOENT;
  return yield* vfsGetattr(task, ioId, inode, out);
}

/** newfstatat(dfd, path, statbuf, flag): absolute paths only. */
export function* sysNewfstatat(k: Kernel, task: Task, dfd: number, path: string, statbufVa: number, flag: number, out?: Kstat): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'newfstatat', dfd, 0, statbufVa, flag);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* fstatatImpl(k, task, ioId, path, out);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'newfstatat', ret);
}

/** newfstat(fd, statbuf) */
export function* sysNewfstat(k: Kernel, task: Task, fd: number, statbufVa: number, out?: Kstat): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'newfstat', fd, statbufVa);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const file = task.files?.get(fd);
  const ret = file ? yield* vfsGetattr(task, ioId, file.inode, out) : -EBADF;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'newfstat', ret);
}
