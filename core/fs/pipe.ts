// Models: fs/pipe.c: pipe2(2) and the pipe's ring of pipe_buffers (struct pipe_inode_info,
// include/linux/pipe_fs_i.h). A write copies user bytes into anonymous pages, merging into the
// last page while it has room (PIPE_BUF_FLAG_CAN_MERGE); a read copies out and releases emptied
// buffers. splice (core/fs/splice.ts) puts page-cache pages into the ring by reference instead
// (page_cache_pipe_buf_ops), which is how sendfile moves file data without copying it. The ring
// holds PIPE_DEF_BUFFERS (16) buffers; a full pipe blocks writers (or -EAGAIN with O_NONBLOCK), an
// empty one blocks readers; no readers left means SIGPIPE and -EPIPE, no writers means EOF.
// SIMPLIFICATION: anonymous pipe pages are not taken from the page allocator (a pipe holds at most
// 64 KiB); F_SETPIPE_SZ and packet mode (O_DIRECT) are not modelled.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { TaskState } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { signalPending, sendSignal, SIG } from '../kernel/signal.js';
import { ioSchedule } from '../block/blk-core.js';
import { WaitQueue } from '../sim/process.js';
import { copyNs, VFS_DISPATCH_NS } from '../hw/cpu.js';
import { fileRaStateInit, PAGE_SIZE, type Folio } from '../mm/mm_types.js';
import { userRangeMapped } from '../mm/memory.js';
import { EAGAIN, EFAULT, EINTR, EINVAL, EMFILE, EPIPE } from '../uapi/errno.js';
import { anonInode } from './anon_inodes.js';
import { EPOLL, O, type File, type FileOperations, type Inode, type Kiocb, type UserBuffer } from './types.js';
import { immediate } from './read_write.js';

/** PIPE_DEF_BUFFERS: a pipe's ring, 16 pages (64 KiB). */
export const PIPE_DEF_BUFFERS = 16;
/** PIPE_BUF: writes up to this size are atomic. */
export const PIPE_BUF = PAGE_SIZE;

/**
 * struct pipe_buffer. `folio` set: a page-cache page the pipe only references (splice from a
 * file); otherwise an anonymous page the pipe owns, filled by write() (or by a splice that had to
 * copy).
 */
export interface PipeBuffer {
  readonly folio: Folio | undefined;
  /** The page's frame (an anonymous page gets a stable pseudo frame for scripts and DMA mapping). */
  readonly pfn: number;
  offsetBytes: number;
  lenBytes: number;
  /** PIPE_BUF_FLAG_CAN_MERGE: a later write may append to this page. */
  canMerge: boolean;
}

/** struct pipe_inode_info */
export class PipeInodeInfo {
  /** The ring, oldest (tail) first. */
  readonly bufs: PipeBuffer[] = [];
  readonly maxUsage = PIPE_DEF_BUFFERS;
  readers = 0;
  writers = 0;
  /** Readers wait here for data, writers for room (rd_wait, wr_wait). */
  readonly rdWait = new WaitQueue();
  readonly wrWait = new WaitQueue();
  /** Bytes that went through, by how: copied in by write(), or referenced by splice. */
  copiedInBytes = 0;
  splicedInBytes = 0;
  inode!: Inode;

  get full(): boolean {
    return this.bufs.length >= this.maxUsage;
  }

  get empty(): boolean {
    return this.bufs.length === 0;
  }

  /** Bytes waiting in the pipe (FIONREAD). */
  get bytesQueued(): number {
    let n = 0;
    for (const b of this.bufs) n += b.lenBytes;
    return n;
  }
}

/** A pipe's two ends: files on the same pipe_inode_info, O_RDONLY and O_WRONLY. */
export class PipeFile implements File {
  readonly kaddr: number;
  readonly inode: Inode;
  posBytes = 0;
  readonly ra = fileRaStateInit();
  fMode = 0;
  refcount = 1;
  fWbErr = 0;

  constructor(
    k: Kernel,
    readonly pipe: PipeInodeInfo,
    readonly flags: number,
  ) {
    this.kaddr = k.kaddr();
    this.inode = pipe.inode;
  }
}

/** get_pipe_info: the pipe behind a file, if it is one. */
export function getPipeInfo(file: File): PipeInodeInfo | undefined {
  return file instanceof PipeFile ? file.pipe : undefined;
}

/** Pseudo frames for anonymous pipe pages, far above any RAM frame. */
const ANON_PIPE_PFN_BASE = 0x40_0000_0000;
let nextAnonPipePfn = ANON_PIPE_PFN_BASE;

/** Drops a buffer's page: a referenced page-cache folio gets its reference back. */
export function pipeBufRelease(buf: PipeBuffer): void {
  if (buf.folio !== undefined) buf.folio.refs--;
}

/**
 * Adds a buffer at the head, waking a reader as pipe_write / splice do when the pipe was empty.
 * The caller has checked the pipe is not full.
 */
export function pipePush(pipe: PipeInodeInfo, buf: PipeBuffer): void {
  const wasEmpty = pipe.empty;
  pipe.bufs.push(buf);
  if (wasEmpty) pipe.rdWait.wakeAll(EPOLL.IN | EPOLL.RDNORM);
}

/** Takes `n` bytes from the tail buffers (after a reader consumed them), waking a writer if it was full. */
export function pipeConsume(pipe: PipeInodeInfo, n: number): void {
  const wasFull = pipe.full;
  let left = n;
  while (left > 0 && pipe.bufs.length > 0) {
    const buf = pipe.bufs[0]!;
    const take = Math.min(left, buf.lenBytes);
    buf.offsetBytes += take;
    buf.lenBytes -= take;
    left -= take;
    if (buf.lenBytes === 0) {
      pipeBufRelease(buf);
      pipe.bufs.shift();
    }
  }
  if (wasFull && !pipe.full) pipe.wrWait.wakeAll(EPOLL.OUT | EPOLL.WRNORM);
}

/** pipe_wait_readable / pipe_wait_writable: sleep on `wq` until woken; false when a signal came. */
export function* pipeWait(k: Kernel, task: Task, wq: WaitQueue): Generator<number, boolean, void> {
  task.state = TaskState.INTERRUPTIBLE;
  wq.add(task);
  yield* ioSchedule(k, task, false);
  wq.remove(task);
  return !signalPending(task);
}

function nonblocking(file: File): boolean {
  return (file.flags & O.NONBLOCK) !== 0;
}

function pipeFops(k: Kernel): FileOperations {
  /** pipe_read */
  function* pipeRead(iocb: Kiocb, buf: UserBuffer): Generator<number, number, void> {
    const task = iocb.task;
    const file = iocb.file;
    const pipe = getPipeInfo(file)!;
    if (!userRangeMapped(task, buf.va, buf.lenBytes)) return -EFAULT;
    let ret = 0;
    for (;;) {
      if (!pipe.empty) {
        const n = Math.min(buf.lenBytes - ret, pipe.bytesQueued);
        // copy_page_to_iter from each buffer in turn
        yield copyNs(n);
        k.stat.userCopyBytes += n;
        pipeConsume(pipe, n);
        ret += n;
        if (ret === buf.lenBytes) break;
        continue;
      }
      if (pipe.writers === 0 || ret > 0) break;
      if (nonblocking(file)) return -EAGAIN;
      if (!(yield* pipeWait(k, task, pipe.rdWait))) return -EINTR;
    }
    return ret;
  }

  /** pipe_write */
  function* pipeWrite(iocb: Kiocb, buf: UserBuffer): Generator<number, number, void> {
    const task = iocb.task;
    const file = iocb.file;
    const pipe = getPipeInfo(file)!;
    if (!userRangeMapped(task, buf.va, buf.lenBytes)) return -EFAULT;
    let left = buf.lenBytes;
    let ret = 0;
    if (pipe.readers === 0) {
      sendSignal(k, task, SIG.PIPE);
      return -EPIPE;
    }
    // a write that is not whole pages first tops up the last page (the merge)
    const chars = left % PAGE_SIZE;
    const last = pipe.bufs[pipe.bufs.length - 1];
    if (chars > 0 && last !== undefined && last.canMerge && last.offsetBytes + last.lenBytes + chars <= PAGE_SIZE) {
      yield copyNs(chars);
      k.stat.userCopyBytes += chars;
      pipe.copiedInBytes += chars;
      last.lenBytes += chars;
      left -= chars;
      ret += chars;
      pipe.rdWait.wakeAll(EPOLL.IN | EPOLL.RDNORM);
    }
    while (left > 0) {
      if (pipe.readers === 0) {
        sendSignal(k, task, SIG.PIPE);
        return ret > 0 ? ret : -EPIPE;
      }
      if (!pipe.full) {
        const n = Math.min(PAGE_SIZE, left);
        yield copyNs(n);
        k.stat.userCopyBytes += n;
        pipe.copiedInBytes += n;
        pipePush(pipe, { folio: undefined, pfn: nextAnonPipePfn++, offsetBytes: 0, lenBytes: n, canMerge: true });
        left -= n;
        ret += n;
        continue;
      }
      if (nonblocking(file)) return ret > 0 ? ret : -EAGAIN;
      if (!(yield* pipeWait(k, task, pipe.wrWait))) return ret > 0 ? ret : -EINTR;
    }
    return ret;
  }

  return {
    name: 'pipefifo_fops',
    readIter: pipeRead,
    writeIter: pipeWrite,
    fsync() {
      return immediate(-EINVAL);
    },
    mmap() {
      return -EINVAL;
    },
    /** pipe_poll */
    poll(file, pt) {
      const pipe = getPipeInfo(file)!;
      const readEnd = (file.flags & O.ACCMODE) === O.RDONLY;
      pt?.wait(file, readEnd ? pipe.rdWait : pipe.wrWait);
      let mask = 0;
      if (readEnd) {
        if (!pipe.empty) mask |= EPOLL.IN | EPOLL.RDNORM;
        if (pipe.writers === 0) mask |= EPOLL.HUP;
      } else {
        if (!pipe.full) mask |= EPOLL.OUT | EPOLL.WRNORM;
        if (pipe.readers === 0) mask |= EPOLL.ERR;
      }
      return mask;
    },
    /** pipe_release: the end goes away; the other side learns it (EOF, EPIPE). */
    release(_inode, file) {
      const pipe = getPipeInfo(file)!;
      if ((file.flags & O.ACCMODE) === O.RDONLY) pipe.readers--;
      else pipe.writers--;
      pipe.rdWait.wakeAll(EPOLL.IN | EPOLL.RDNORM | EPOLL.HUP);
      pipe.wrWait.wakeAll(EPOLL.OUT | EPOLL.WRNORM | EPOLL.ERR);
      if (pipe.readers === 0 && pipe.writers === 0) {
        for (const b of pipe.bufs) pipeBufRelease(b);
        pipe.bufs.length = 0;
      }
    },
  };
}

/** create_pipe_files: a new pipe and its two ends (read end first). */
export function createPipeFiles(k: Kernel, flags: number): [PipeFile, PipeFile] {
  const pipe = new PipeInodeInfo();
  pipe.inode = anonInode(k, '[pipe]', pipeFops(k));
  pipe.readers = 1;
  pipe.writers = 1;
  const keep = flags & O.NONBLOCK;
  return [new PipeFile(k, pipe, O.RDONLY | keep), new PipeFile(k, pipe, O.WRONLY | keep)];
}

/** pipe2 flags (O_CLOEXEC, O_NONBLOCK; O_DIRECT's packet mode is not modelled). */
const O_CLOEXEC = 0o2000000;

/**
 * pipe2(fildes, flags): on success `fds` receives [read fd, write fd] (the int[2] at `fildesVa`
 * in user memory). 0 or -errno.
 */
export function* sysPipe2(k: Kernel, task: Task, fildesVa: number, flags: number, fds: number[]): Generator<number, number, void> {
  syscallEnter(k, task, 'pipe2', fildesVa, flags);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  let ret = 0;
  if (flags & ~(O_CLOEXEC | O.NONBLOCK)) ret = -EINVAL;
  else if (!userRangeMapped(task, fildesVa, 8)) ret = -EFAULT;
  else if (task.files === undefined) ret = -EMFILE;
  else {
    const [r, w] = createPipeFiles(k, flags);
    fds.length = 0;
    fds.push(task.files.install(r), task.files.install(w));
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'pipe2', ret);
}
