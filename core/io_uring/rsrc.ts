// Models: io_uring/register.c (io_uring_register) and io_uring/rsrc.c (io_sqe_buffers_register,
// io_sqe_files_register, io_account_mem): registered buffers are pinned once (pin_user_pages
// FOLL_LONGTERM) and charged to the user's locked_vm against RLIMIT_MEMLOCK, so READ_FIXED /
// WRITE_FIXED need no per-I/O pinning; registered files skip the per-I/O fget.
// SIMPLIFICATION: the simulated processes lack CAP_IPC_LOCK, so every registration is charged
// (Linux skips the charge for a capable caller), and they all run as one user.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import type { File } from '../fs/types.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { gupBioVecs } from '../mm/memory.js';
import { PAGE_SIZE } from '../mm/mm_types.js';
import { EBADF, EBUSY, EFAULT, EINVAL, ENOMEM, ENXIO, EOPNOTSUPP } from '../uapi/errno.js';
import { ioUringState, type IoRingCtx } from './io_uring.js';
import type { PinnedBuffer } from './rw.js';

export type RegisteredBuf = PinnedBuffer & { readonly accountedPages: number };

/** io_uring_register opcodes (the modelled subset). */
export const IORING_REGISTER = { BUFFERS: 0, UNREGISTER_BUFFERS: 1, FILES: 2, UNREGISTER_FILES: 3 } as const;
/** IORING_MAX_REG_BUFFERS and IORING_MAX_FIXED_FILES */
const IORING_MAX_REG_BUFFERS = 1 << 14;
const IORING_MAX_FIXED_FILES = 1 << 20;
/** io_sqe_buffer_register's per-buffer ceiling (SZ_1G). */
const MAX_REG_BUFFER_BYTES = 1 << 30;
/** pin_user_pages of one page plus the io_mapped_ubuf bookkeeping. */
const PIN_PAGE_NS = 60;
/** fget of one registered file. */
const FGET_NS = 30;

/** A struct iovec of the buffers to register. */
export interface Iovec {
  readonly va: number;
  readonly lenBytes: number;
}

/** What `arg` points at, by opcode: iovecs for BUFFERS, an fd array for FILES. */
export interface RegisterArg {
  readonly iovecs?: readonly Iovec[];
  readonly fds?: readonly number[];
}

/** io_uring_register(fd, opcode, arg, nr_args): 0 or -errno. */
export function* sysIoUringRegister(k: Kernel, task: Task, fd: number, opcode: number, arg: RegisterArg, nrArgs: number, argVa = 0): Generator<number, number, void> {
  syscallEnter(k, task, 'io_uring_register', fd, opcode, argVa, nrArgs);
  yield SYSCALL_ENTRY_NS;
  const file = task.files?.get(fd);
  const ctx = file ? ioUringState(k).ctxOfFile.get(file) : undefined;
  let ret: number;
  if (!file) ret = -EBADF;
  else if (!ctx) ret = -EOPNOTSUPP;
  else {
    switch (opcode) {
      case IORING_REGISTER.BUFFERS:
        ret = yield* ioSqeBuffersRegister(k, task, ctx, arg.iovecs ?? [], nrArgs);
        break;
      case IORING_REGISTER.UNREGISTER_BUFFERS:
        ret = ctx.bufs ? ioSqeBuffersUnregister(k, ctx) : -ENXIO;
        break;
      case IORING_REGISTER.FILES:
        ret = yield* ioSqeFilesRegister(task, ctx, arg.fds ?? [], nrArgs);
        break;
      case IORING_REGISTER.UNREGISTER_FILES:
        ret = ctx.files ? ((ctx.files = undefined), 0) : -ENXIO;
        break;
      default:
        ret = -EINVAL;
    }
    if (k.tp.io_uring_register.enabled) k.tp.io_uring_register.emit(k.sched.cpu(task.cpu), task.ioId, ctx.kaddr, opcode, ctx.files?.length ?? 0, ctx.bufs?.length ?? 0, ret);
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'io_uring_register', ret);
}

/** io_sqe_buffers_register: pin and account each buffer; any failure undoes them all. */
function* ioSqeBuffersRegister(k: Kernel, task: Task, ctx: IoRingCtx, iovecs: readonly Iovec[], nrArgs: number): Generator<number, number, void> {
  if (ctx.bufs) return -EBUSY;
  if (nrArgs <= 0 || nrArgs > IORING_MAX_REG_BUFFERS || nrArgs > iovecs.length) return -EINVAL;
  const st = ioUringState(k);
  const bufs: RegisteredBuf[] = [];
  let err = 0;
  for (let i = 0; i < nrArgs; i++) {
    const iov = iovecs[i]!;
    if (iov.lenBytes <= 0 || iov.lenBytes > MAX_REG_BUFFER_BYTES) {
      err = -EFAULT;
      break;
    }
    const vecs = task.mm ? gupBioVecs(task.mm, iov.va, iov.lenBytes) : undefined;
    if (!vecs) {
      err = -EFAULT;
      break;
    }
    yield PIN_PAGE_NS * vecs.length;
    // io_account_mem: locked_vm may not pass RLIMIT_MEMLOCK
    const pages = Math.ceil(((iov.va % PAGE_SIZE) + iov.lenBytes) / PAGE_SIZE);
    const limitPages = Math.floor(st.rlimitMemlockBytes / PAGE_SIZE);
    if (st.lockedVmBytes / PAGE_SIZE + pages > limitPages) {
      err = -ENOMEM;
      break;
    }
    st.lockedVmBytes += pages * PAGE_SIZE;
    bufs.push({ va: iov.va, lenBytes: iov.lenBytes, vecs, accountedPages: pages });
  }
  if (err !== 0) {
    for (const b of bufs) st.lockedVmBytes -= b.accountedPages * PAGE_SIZE;
    return err;
  }
  ctx.bufs = bufs;
  return 0;
}

/** io_sqe_buffers_unregister: unpin and give the locked_vm charge back. */
export function ioSqeBuffersUnregister(k: Kernel, ctx: IoRingCtx): number {
  const st = ioUringState(k);
  for (const b of ctx.bufs ?? []) st.lockedVmBytes -= b.accountedPages * PAGE_SIZE;
  ctx.bufs = undefined;
  return 0;
}

/** io_sqe_files_register: fget each fd (-1 leaves a sparse slot). */
function* ioSqeFilesRegister(task: Task, ctx: IoRingCtx, fds: readonly number[], nrArgs: number): Generator<number, number, void> {
  if (ctx.files) return -EBUSY;
  if (nrArgs <= 0 || nrArgs > IORING_MAX_FIXED_FILES || nrArgs > fds.length) return -EINVAL;
  const table: (File | undefined)[] = [];
  for (let i = 0; i < nrArgs; i++) {
    const fd = fds[i]!;
    if (fd === -1) {
      table.push(undefined);
      continue;
    }
    const f = task.files?.get(fd);
    if (!f) return -EBADF;
    // a ring cannot register itself (or another ring): Linux refuses io_uring fds here
    if (f.inode.path === 'anon_inode:[io_uring]') return -EBADF;
    table.push(f);
  }
  yield FGET_NS * nrArgs;
  ctx.files = table;
  return 0;
}
