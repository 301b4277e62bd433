// Models: fs/open.c (do_sys_openat2, vfs_open, close_fd) and fs/sync.c (fsync, fdatasync ->
// vfs_fsync_range), plus the mmap/munmap syscalls of mm/mmap.c.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { doSyscall } from '../kernel/entry.js';
import { O, type File } from './types.js';
import { DEFAULT_RA_PAGES } from '../mm/readahead.js';
import { doMmap, doMunmap, MAP } from '../mm/mmap.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';

const ENOENT = 2;
const EBADF = 9;
const EINVAL = 22;
const EISDIR = 21;
/** AT_FDCWD */
export const AT_FDCWD = -100;

/** Keeps path strings in user memory so tracepoints can carry a pointer to them. */
function userString(task: Task, s: string): number {
  const mm = task.mm;
  if (!mm) return 0;
  for (const [va, str] of mm.userStrings) if (str === s) return va;
  const va = mm.stringsVa;
  mm.userStrings.set(va, s);
  mm.stringsVa += Math.ceil((s.length + 1) / 16) * 16;
  return va;
}

function* openImpl(k: Kernel, task: Task, ioId: number, path: string, flags: number): Generator<number, number, void> {
  yield VFS_DISPATCH_NS;
  if (!task.files) return -EBADF;
  if (!path.startsWith('/')) return -ENOENT;
  let inode = k.vfs.lookup(path);
  if (!inode && flags & O.CREAT) inode = k.vfs.create(path);
  if (!inode) return -ENOENT;
  if (k.vfs.fsFor(path)?.mountPoint === path) return -EISDIR;
  const file: File = {
    kaddr: k.kaddr(),
    inode,
    flags,
    posBytes: 0,
    ra: { start: 0, size: 0, asyncSize: 0, raPages: DEFAULT_RA_PAGES, mmapMiss: 0, prevPos: -1 },
    refcount: 1,
  };
  const fn = k.fn.vfs_open;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, path, file);
  if (flags & O.TRUNC && (flags & O.ACCMODE) !== O.RDONLY && inode.sizeBytes > 0) {
    // SIMPLIFICATION: O_TRUNC drops the size but keeps the allocated blocks for reuse.
    inode.sizeBytes = 0;
    inode.metadataDirty = true;
  }
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, 0);
  return task.files.install(file);
}

export function* sysOpenat(k: Kernel, task: Task, dfd: number, path: string, flags: number, mode: number): Generator<number, number, void> {
  const va = userString(task, path);
  return yield* doSyscall(k, task, 'openat', [dfd, va, flags, mode], (ioId) => openImpl(k, task, ioId, path, flags));
}

export function* sysOpen(k: Kernel, task: Task, path: string, flags: number, mode: number): Generator<number, number, void> {
  const va = userString(task, path);
  return yield* doSyscall(k, task, 'open', [va, flags, mode], (ioId) => openImpl(k, task, ioId, path, flags));
}

export function* sysClose(k: Kernel, task: Task, fd: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'close', [fd], function* () {
    const f = task.files?.remove(fd);
    if (!f) return -EBADF;
    f.refcount--;
    yield 0;
    return 0;
  });
}

function* fsyncImpl(k: Kernel, task: Task, ioId: number, fd: number, datasync: boolean): Generator<number, number, void> {
  const file = task.files?.get(fd);
  if (!file) return -EBADF;
  const fn = k.fn.vfs_fsync_range;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, file, 0, Number.MAX_SAFE_INTEGER, datasync ? 1 : 0);
  yield VFS_DISPATCH_NS;
  const ret = yield* file.inode.fops.fsync(file, task, ioId, 0, Infinity, datasync);
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, ret);
  return ret;
}

export function* sysFsync(k: Kernel, task: Task, fd: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'fsync', [fd], (ioId) => fsyncImpl(k, task, ioId, fd, false));
}

export function* sysFdatasync(k: Kernel, task: Task, fd: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'fdatasync', [fd], (ioId) => fsyncImpl(k, task, ioId, fd, true));
}

export function* sysMmap(k: Kernel, task: Task, addr: number, len: number, prot: number, flags: number, fd: number, off: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'mmap', [addr, len, prot, flags, fd, off], function* () {
    yield VFS_DISPATCH_NS;
    if (!task.mm) return -EINVAL;
    let file: File | undefined;
    if (!(flags & MAP.ANONYMOUS)) {
      file = task.files?.get(fd);
      if (!file) return -EBADF;
    }
    return doMmap(k, k.sched.cpu(task.cpu), task.mm, file, len, prot, flags, off);
  });
}

export function* sysMunmap(k: Kernel, task: Task, addr: number, len: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'munmap', [addr, len], function* () {
    yield VFS_DISPATCH_NS;
    if (!task.mm) return -EINVAL;
    return doMunmap(k, task.mm, addr, len);
  });
}
