// Models: fs/read_write.c: read/write/pread64/pwrite64/lseek (ksys_read, vfs_read, vfs_write,
// vfs_llseek) and their argument checks, dispatching through the file's file_operations; and the
// call_read_iter/call_write_iter path aio and io_uring take with their own kiocbs.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { O, type File, type Kiocb, type UserBuffer } from './types.js';
import type { FuncProbes } from '../trace/events.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';
import { EBADF, EINVAL } from '../uapi/errno.js';

/** MAX_RW_COUNT: a single read/write moves at most INT_MAX rounded down to a page. */
const MAX_RW_COUNT = 0x7ffff000;

export const SEEK = { SET: 0, CUR: 1, END: 2 } as const;

function readable(f: File): boolean {
  return (f.flags & O.ACCMODE) !== O.WRONLY;
}
function writable(f: File): boolean {
  return (f.flags & O.ACCMODE) !== O.RDONLY;
}

/** A generator that only returns a value (argument errors). */
export function* immediate(ret: number): Generator<number, number, void> {
  return ret;
}

/**
 * vfs_read / vfs_write: checks, then ->read_iter / ->write_iter through a kiocb. Its CPU time
 * (VFS_DISPATCH_NS) is charged with the syscall entry, so without its kprobes attached it adds no
 * generator frame: it returns the filesystem's generator itself.
 */
function vfsRw(k: Kernel, task: Task, ioId: number, file: File, va: number, count: number, posBytes: number, write: boolean): Generator<number, number, void> {
  const fn = write ? k.fn.vfs_write : k.fn.vfs_read;
  let inner: Generator<number, number, void>;
  if (write ? !writable(file) : !readable(file)) inner = immediate(-EBADF);
  else if (count < 0 || posBytes < 0) inner = immediate(-EINVAL);
  else if (count === 0) inner = immediate(0);
  else {
    const n = Math.min(count, MAX_RW_COUNT);
    const iocb: Kiocb = { kaddr: k.kaddr(), file, posBytes: file.flags & O.APPEND && write ? file.inode.sizeBytes : posBytes, ioId, direct: (file.flags & O.DIRECT) !== 0, task };
    const fops = file.inode.fops;
    inner = write ? fops.writeIter(iocb, { va, lenBytes: n }) : fops.readIter(iocb, { va, lenBytes: n });
  }
  if (!fn.entry.enabled && !fn.ret.enabled) return inner;
  return vfsRwTraced(k, task, ioId, fn, file, va, count, posBytes, inner);
}

function* vfsRwTraced(
  k: Kernel,
  task: Task,
  ioId: number,
  fn: FuncProbes['vfs_read'],
  file: File,
  va: number,
  count: number,
  posBytes: number,
  inner: Generator<number, number, void>,
): Generator<number, number, void> {
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, file, va, count, posBytes);
  const ret = yield* inner;
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, ret);
  return ret;
}

/**
 * The mode and rw_verify_area checks, then ->read_iter / ->write_iter with a kiocb its submitter
 * set up (aio_prep_rw, io_prep_rw: the kiocb lives inside their own request, which its ki_complete
 * finds again). Returns bytes, -errno or -EIOCBQUEUED.
 */
export function kiocbRw(iocb: Kiocb, buf: UserBuffer, write: boolean): Generator<number, number, void> {
  const file = iocb.file;
  if (write ? !writable(file) : !readable(file)) return immediate(-EBADF);
  if (buf.lenBytes < 0 || iocb.posBytes < 0) return immediate(-EINVAL);
  if (buf.lenBytes === 0) return immediate(0);
  if (file.flags & O.APPEND && write) iocb.posBytes = file.inode.sizeBytes;
  const n = Math.min(buf.lenBytes, MAX_RW_COUNT);
  const b: UserBuffer = n === buf.lenBytes ? buf : { va: buf.va, lenBytes: n, pinned: buf.pinned };
  return write ? file.inode.fops.writeIter(iocb, b) : file.inode.fops.readIter(iocb, b);
}

export function* sysRead(k: Kernel, task: Task, fd: number, va: number, count: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'read', fd, va, count);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const fn = k.fn.ksys_read;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, fd, va, count);
  const file = task.files?.get(fd);
  let ret: number;
  if (!file) ret = -EBADF;
  else {
    ret = yield* vfsRw(k, task, ioId, file, va, count, file.posBytes, false);
    if (ret > 0) file.posBytes += ret;
  }
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, ret);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'read', ret);
}

export function* sysWrite(k: Kernel, task: Task, fd: number, va: number, count: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'write', fd, va, count);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const file = task.files?.get(fd);
  let ret: number;
  if (!file) ret = -EBADF;
  else {
    ret = yield* vfsRw(k, task, ioId, file, va, count, file.posBytes, true);
    if (ret > 0) file.posBytes = (file.flags & O.APPEND ? file.inode.sizeBytes - ret : file.posBytes) + ret;
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'write', ret);
}

export function* sysPread64(k: Kernel, task: Task, fd: number, va: number, count: number, pos: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'pread64', fd, va, count, pos);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const file = task.files?.get(fd);
  const ret = !file ? -EBADF : pos < 0 ? -EINVAL : yield* vfsRw(k, task, ioId, file, va, count, pos, false);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'pread64', ret);
}

export function* sysPwrite64(k: Kernel, task: Task, fd: number, va: number, count: number, pos: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'pwrite64', fd, va, count, pos);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const file = task.files?.get(fd);
  const ret = !file ? -EBADF : pos < 0 ? -EINVAL : yield* vfsRw(k, task, ioId, file, va, count, pos, true);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'pwrite64', ret);
}

/** vfs_llseek's arithmetic: the new position, or -EINVAL. */
function llseek(file: File, offset: number, whence: number): number {
  let pos: number;
  if (whence === SEEK.SET) pos = offset;
  else if (whence === SEEK.CUR) pos = file.posBytes + offset;
  else if (whence === SEEK.END) pos = file.inode.sizeBytes + offset;
  else return -EINVAL;
  if (pos < 0) return -EINVAL;
  file.posBytes = pos;
  return pos;
}

export function* sysLseek(k: Kernel, task: Task, fd: number, offset: number, whence: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'lseek', fd, offset, whence);
  yield SYSCALL_ENTRY_NS;
  const file = task.files?.get(fd);
  let ret: number;
  if (!file) ret = -EBADF;
  else {
    const fn = k.fn.vfs_llseek;
    if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, file, offset, whence);
    ret = llseek(file, offset, whence);
    if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, ret);
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'lseek', ret);
}

