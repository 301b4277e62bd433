// Models: fs/splice.c and fs/read_write.c's do_sendfile: splice(2) moves data between a pipe and a
// file without passing through user memory. File -> pipe (splice_file_to_pipe -> ->splice_read,
// filemap_splice_read for page-cache files) puts page-cache pages into the pipe by reference;
// pipe -> file (->splice_write, iter_file_splice_write) copies the pipe's pages into the target's
// page cache; pipe -> pipe moves buffers. sendfile(2) is splice_direct_to_actor: the task's own
// internal pipe (current->splice_pipe) between the file's ->splice_read and the target's
// ->splice_write, a pipeful at a time, so a socket target (splice_to_socket) gets the page-cache
// pages themselves: zero copies.
// SIMPLIFICATION: an O_DIRECT source is spliced through the page cache (Linux's copy_splice_read
// reads it into fresh pages instead).

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { sendSignal, SIG } from '../kernel/signal.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';
import { filemapRead } from '../mm/filemap.js';
import { EAGAIN, EBADF, EINTR, EINVAL, EPIPE, ESPIPE } from '../uapi/errno.js';
import { getPipeInfo, PipeInodeInfo, pipeConsume, pipePush, pipeWait } from './pipe.js';
import { O, type File, type FileOperations, type Kiocb } from './types.js';

/** splice(2) flags. */
export const SPLICE_F = { MOVE: 0x01, NONBLOCK: 0x02, MORE: 0x04, GIFT: 0x08 } as const;
/** MAX_RW_COUNT, as for read and write. */
const MAX_RW_COUNT = 0x7ffff000;

function readable(f: File): boolean {
  return (f.flags & O.ACCMODE) !== O.WRONLY;
}
function writable(f: File): boolean {
  return (f.flags & O.ACCMODE) !== O.RDONLY;
}

/** ->splice_read of page-cache files (filemap_splice_read): filemap_read's lookup, pages into the pipe. */
export function filemapSpliceRead(k: Kernel): NonNullable<FileOperations['spliceRead']> {
  return (iocb, pipe, lenBytes) => filemapRead(k, iocb, { va: 0, lenBytes, pipe });
}

/** ->splice_write of page-cache files (iter_file_splice_write): ->write_iter from the pipe's pages, then consume them. */
export function iterFileSpliceWrite(k: Kernel): NonNullable<FileOperations['spliceWrite']> {
  return function* (pipe, file, posBytes, lenBytes, task, ioId) {
    const n = Math.min(lenBytes, pipe.bytesQueued);
    if (n === 0) return 0;
    const iocb: Kiocb = { kaddr: k.kaddr(), file, posBytes: file.flags & O.APPEND ? file.inode.sizeBytes : posBytes, ioId, direct: false, task };
    const ret = yield* file.inode.fops.writeIter(iocb, { va: 0, lenBytes: n, pipe });
    if (ret > 0) pipeConsume(pipe, ret);
    return ret;
  };
}

function nonblock(file: File, flags: number): boolean {
  return (flags & SPLICE_F.NONBLOCK) !== 0 || (file.flags & O.NONBLOCK) !== 0;
}

/** wait_for_space: room in the pipe, or -EAGAIN / -EPIPE / -EINTR. */
function* waitForSpace(k: Kernel, task: Task, pipe: PipeInodeInfo, file: File, flags: number): Generator<number, number, void> {
  for (;;) {
    if (pipe.readers === 0) {
      sendSignal(k, task, SIG.PIPE);
      return -EPIPE;
    }
    if (!pipe.full) return 0;
    if (nonblock(file, flags)) return -EAGAIN;
    if (!(yield* pipeWait(k, task, pipe.wrWait))) return -EINTR;
  }
}

/** splice_from_pipe_next's wait: data in the pipe (1), its writers gone (0), or -errno. */
function* waitForData(k: Kernel, task: Task, pipe: PipeInodeInfo, file: File, flags: number): Generator<number, number, void> {
  for (;;) {
    if (!pipe.empty) return 1;
    if (pipe.writers === 0) return 0;
    if (nonblock(file, flags)) return -EAGAIN;
    if (!(yield* pipeWait(k, task, pipe.rdWait))) return -EINTR;
  }
}

/** splice_file_to_pipe: file -> pipe through ->splice_read, at `posBytes`. */
function* spliceFileToPipe(k: Kernel, task: Task, ioId: number, inFile: File, pipe: PipeInodeInfo, posBytes: number, lenBytes: number): Generator<number, number, void> {
  const spliceRead = inFile.inode.fops.spliceRead;
  if (spliceRead === undefined) return -EINVAL;
  const iocb: Kiocb = { kaddr: k.kaddr(), file: inFile, posBytes, ioId, direct: false, task };
  return yield* spliceRead(iocb, pipe, lenBytes);
}

/** splice_pipe_to_pipe: buffers move from one ring to the other (a partial one is split). */
function splicePipeToPipe(ipipe: PipeInodeInfo, opipe: PipeInodeInfo, lenBytes: number): number {
  let moved = 0;
  while (moved < lenBytes && !ipipe.empty && !opipe.full) {
    const buf = ipipe.bufs[0]!;
    const take = Math.min(buf.lenBytes, lenBytes - moved);
    // the output gets its own reference to the page (pipe_buf_get), the input's is dropped by consume
    if (buf.folio !== undefined) buf.folio.refs++;
    pipePush(opipe, { folio: buf.folio, pfn: buf.pfn, offsetBytes: buf.offsetBytes, lenBytes: take, canMerge: false });
    pipeConsume(ipipe, take);
    moved += take;
  }
  return moved;
}

/**
 * do_splice: one side must be a pipe. `offIn` / `offOut`: the loff_t the caller passed (undefined
 * for NULL: use and advance the file position); a pipe side must pass NULL (-ESPIPE).
 */
function* doSplice(k: Kernel, task: Task, ioId: number, inFile: File, offIn: number | undefined, outFile: File, offOut: number | undefined, lenBytes: number, flags: number): Generator<number, number, void> {
  if (!readable(inFile) || !writable(outFile)) return -EBADF;
  const ipipe = getPipeInfo(inFile);
  const opipe = getPipeInfo(outFile);
  const len = Math.min(lenBytes, MAX_RW_COUNT);
  if (ipipe !== undefined && opipe !== undefined) {
    if (offIn !== undefined || offOut !== undefined) return -ESPIPE;
    if (ipipe === opipe) return -EINVAL;
    const have = yield* waitForData(k, task, ipipe, inFile, flags);
    if (have <= 0) return have;
    const room = yield* waitForSpace(k, task, opipe, outFile, flags);
    if (room < 0) return room;
    return splicePipeToPipe(ipipe, opipe, len);
  }
  if (ipipe !== undefined) {
    if (offIn !== undefined) return -ESPIPE;
    const spliceWrite = outFile.inode.fops.spliceWrite;
    if (spliceWrite === undefined) return -EINVAL;
    const have = yield* waitForData(k, task, ipipe, inFile, flags);
    if (have <= 0) return have;
    const pos = offOut ?? outFile.posBytes;
    const ret = yield* spliceWrite(ipipe, outFile, pos, len, task, ioId);
    if (ret > 0 && offOut === undefined) outFile.posBytes = pos + ret;
    return ret;
  }
  if (opipe !== undefined) {
    if (offOut !== undefined) return -ESPIPE;
    if (offIn !== undefined && offIn < 0) return -EINVAL;
    const room = yield* waitForSpace(k, task, opipe, outFile, flags);
    if (room < 0) return room;
    const pos = offIn ?? inFile.posBytes;
    const ret = yield* spliceFileToPipe(k, task, ioId, inFile, opipe, pos, len);
    if (ret > 0 && offIn === undefined) inFile.posBytes = pos + ret;
    return ret;
  }
  return -EINVAL;
}

/** splice(fd_in, off_in, fd_out, off_out, len, flags): bytes moved, 0 at the end, or -errno. */
export function* sysSplice(k: Kernel, task: Task, fdIn: number, offIn: number | undefined, fdOut: number, offOut: number | undefined, lenBytes: number, flags: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'splice', fdIn, offIn === undefined ? 0 : 1, fdOut, offOut === undefined ? 0 : 1, lenBytes, flags);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const inFile = task.files?.get(fdIn);
  const outFile = task.files?.get(fdOut);
  let ret: number;
  if (inFile === undefined || outFile === undefined) ret = -EBADF;
  else if (flags & ~(SPLICE_F.MOVE | SPLICE_F.NONBLOCK | SPLICE_F.MORE | SPLICE_F.GIFT)) ret = -EINVAL;
  else if (lenBytes === 0) ret = 0;
  else ret = yield* doSplice(k, task, ioId, inFile, offIn, outFile, offOut, lenBytes, flags);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'splice', ret);
}

/** current->splice_pipe: the internal pipe sendfile reuses, one per task, made on first use. */
const splicePipes = new WeakMap<Task, PipeInodeInfo>();

function taskSplicePipe(task: Task): PipeInodeInfo {
  let pipe = splicePipes.get(task);
  if (pipe === undefined) {
    pipe = new PipeInodeInfo();
    pipe.readers = 1;
    pipe.writers = 1;
    splicePipes.set(task, pipe);
  }
  return pipe;
}

/**
 * splice_direct_to_actor with direct_splice_actor: a pipeful from ->splice_read, then the target's
 * ->splice_write, until `lenBytes` moved or a side stops. Returns bytes moved or -errno; `pos`
 * (in and out) advance by what moved.
 */
function* spliceDirect(k: Kernel, task: Task, ioId: number, inFile: File, pos: { in: number; out: number }, outFile: File, lenBytes: number): Generator<number, number, void> {
  const spliceWrite = outFile.inode.fops.spliceWrite;
  if (spliceWrite === undefined || inFile.inode.fops.spliceRead === undefined) return -EINVAL;
  const pipe = taskSplicePipe(task);
  let moved = 0;
  while (moved < lenBytes) {
    const readLen = Math.min(lenBytes - moved, pipe.maxUsage * 4096);
    const got = yield* spliceFileToPipe(k, task, ioId, inFile, pipe, pos.in, readLen);
    if (got <= 0) return moved > 0 ? moved : got;
    pos.in += got;
    const wrote = yield* spliceWrite(pipe, outFile, pos.out, got, task, ioId);
    if (wrote <= 0) {
      // what the target did not take goes back: the input position is rewound
      pos.in -= got;
      pipeConsume(pipe, pipe.bytesQueued);
      return moved > 0 ? moved : wrote;
    }
    pos.out += wrote;
    moved += wrote;
    if (wrote < got) {
      pos.in -= got - wrote;
      pipeConsume(pipe, pipe.bytesQueued);
      break;
    }
  }
  return moved;
}

/**
 * sendfile(out_fd, in_fd, offset, count): `offset` undefined for NULL (the input's file position is
 * used and advanced). Bytes sent or -errno.
 */
export function* sysSendfile64(k: Kernel, task: Task, outFd: number, inFd: number, offset: { value: number } | undefined, count: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'sendfile64', outFd, inFd, offset === undefined ? 0 : 1, count);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const inFile = task.files?.get(inFd);
  const outFile = task.files?.get(outFd);
  let ret: number;
  if (inFile === undefined || outFile === undefined || !readable(inFile) || !writable(outFile)) ret = -EBADF;
  else if (offset !== undefined && offset.value < 0) ret = -EINVAL;
  else if (outFile.flags & O.APPEND) ret = -EINVAL;
  else {
    const len = Math.min(count, MAX_RW_COUNT);
    const start = offset?.value ?? inFile.posBytes;
    const opipe = getPipeInfo(outFile);
    if (len === 0) ret = 0;
    else if (opipe !== undefined) {
      const room = yield* waitForSpace(k, task, opipe, outFile, 0);
      ret = room < 0 ? room : yield* spliceFileToPipe(k, task, ioId, inFile, opipe, start, len);
      if (ret > 0) {
        if (offset !== undefined) offset.value = start + ret;
        else inFile.posBytes = start + ret;
      }
    } else {
      const pos = { in: start, out: outFile.posBytes };
      ret = yield* spliceDirect(k, task, ioId, inFile, pos, outFile, len);
      if (ret > 0) {
        outFile.posBytes = pos.out;
        if (offset !== undefined) offset.value = pos.in;
        else inFile.posBytes = pos.in;
      }
    }
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'sendfile64', ret);
}
