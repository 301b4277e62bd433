// Models: fs/read_write.c: read/write/pread64/pwrite64/lseek (ksys_read, vfs_read, vfs_write,
// vfs_llseek) and their argument checks, dispatching through the file's file_operations.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { doSyscall } from '../kernel/entry.js';
import { O, type File, type Kiocb } from './types.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';

const EBADF = 9;
const EINVAL = 22;
const ESPIPE = 29;
/** MAX_RW_COUNT: a single read/write moves at most INT_MAX rounded down to a page. */
const MAX_RW_COUNT = 0x7ffff000;

export const SEEK = { SET: 0, CUR: 1, END: 2 } as const;

function readable(f: File): boolean {
  return (f.flags & O.ACCMODE) !== O.WRONLY;
}
function writable(f: File): boolean {
  return (f.flags & O.ACCMODE) !== O.RDONLY;
}

/** vfs_read / vfs_write: checks, then ->read_iter / ->write_iter through a kiocb. */
function* vfsRw(k: Kernel, task: Task, ioId: number, file: File, va: number, count: number, posBytes: number, write: boolean): Generator<number, number, void> {
  const fn = write ? k.fn.vfs_write : k.fn.vfs_read;
  const cpu = k.sched.cpu(task.cpu);
  if (fn.entry.enabled) fn.enter(cpu, ioId, file, va, count, posBytes);
  let ret: number;
  if (write ? !writable(file) : !readable(file)) ret = -EBADF;
  else if (count < 0 || posBytes < 0) ret = -EINVAL;
  else if (count === 0) ret = 0;
  else {
    yield VFS_DISPATCH_NS;
    const n = Math.min(count, MAX_RW_COUNT);
    const iocb: Kiocb = { kaddr: k.kaddr(), file, posBytes: file.flags & O.APPEND && write ? file.inode.sizeBytes : posBytes, ioId, direct: (file.flags & O.DIRECT) !== 0, task };
    const fops = file.inode.fops;
    ret = write ? yield* fops.writeIter(iocb, { va, lenBytes: n }) : yield* fops.readIter(iocb, { va, lenBytes: n });
  }
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, ret);
  return ret;
}

export function* sysRead(k: Kernel, task: Task, fd: number, va: number, count: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'read', [fd, va, count], function* (ioId) {
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
    return ret;
  });
}

export function* sysWrite(k: Kernel, task: Task, fd: number, va: number, count: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'write', [fd, va, count], function* (ioId) {
    const file = task.files?.get(fd);
    if (!file) return -EBADF;
    const ret = yield* vfsRw(k, task, ioId, file, va, count, file.posBytes, true);
    if (ret > 0) file.posBytes = (file.flags & O.APPEND ? file.inode.sizeBytes - ret : file.posBytes) + ret;
    return ret;
  });
}

export function* sysPread64(k: Kernel, task: Task, fd: number, va: number, count: number, pos: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'pread64', [fd, va, count, pos], function* (ioId) {
    const file = task.files?.get(fd);
    if (!file) return -EBADF;
    if (pos < 0) return -EINVAL;
    return yield* vfsRw(k, task, ioId, file, va, count, pos, false);
  });
}

export function* sysPwrite64(k: Kernel, task: Task, fd: number, va: number, count: number, pos: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'pwrite64', [fd, va, count, pos], function* (ioId) {
    const file = task.files?.get(fd);
    if (!file) return -EBADF;
    if (pos < 0) return -EINVAL;
    return yield* vfsRw(k, task, ioId, file, va, count, pos, true);
  });
}

export function* sysLseek(k: Kernel, task: Task, fd: number, offset: number, whence: number): Generator<number, number, void> {
  return yield* doSyscall(k, task, 'lseek', [fd, offset, whence], function* (ioId) {
    const file = task.files?.get(fd);
    if (!file) return -EBADF;
    const fn = k.fn.vfs_llseek;
    if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, file, offset, whence);
    let pos: number;
    if (whence === SEEK.SET) pos = offset;
    else if (whence === SEEK.CUR) pos = file.posBytes + offset;
    else if (whence === SEEK.END) pos = file.inode.sizeBytes + offset;
    else pos = -1;
    let ret: number;
    if (whence !== SEEK.SET && whence !== SEEK.CUR && whence !== SEEK.END) ret = -EINVAL;
    else if (pos < 0) ret = -EINVAL;
    else {
      file.posBytes = pos;
      ret = pos;
    }
    if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, ret);
    yield 0;
    return ret;
  });
}

export { ESPIPE };
