// Models: io_uring/io_uring.c (io_uring_setup -> io_uring_create, io_uring_enter, io_submit_sqes,
// io_issue_sqe, io_queue_iowq, io_cqring_wait, io_iopoll_check) and the uapi of
// include/uapi/linux/io_uring.h: SQ and CQ rings in memory shared with user space, a batch of
// SQEs submitted by one io_uring_enter, each tried inline with IOCB_NOWAIT and punted to io-wq on
// -EAGAIN, and CQEs posted when the I/O ends. Each SQE is an I/O origin: its ioId runs from
// submission through the bios and requests to its CQE.
// SIMPLIFICATION: a CQE is posted from the completing context (the end_io's interrupt, or the
// io-wq worker); Linux queues task_work on the submitter (io_req_task_work_add) that posts it when
// that task next runs kernel code, as kernels before 5.x posted from the interrupt itself.
// SIMPLIFICATION: the SQ ring has no index array (as IORING_SETUP_NO_SQARRAY): SQE i sits at
// sqes[i & mask]; links, drains, timeouts and the other opcodes are not modelled.
// Requests on pollable files (sockets) that would block arm an internal poll (apoll, poll.ts)
// instead of taking an io-wq worker; its wakeup queues task_work that the submitter runs.
// SIMPLIFICATION: IORING_SETUP_IOPOLL completions still arrive through the driver's interrupt
// (Linux uses interrupt-less poll queues); the CQE is posted only when the waiter polls
// (io_do_iopoll), and the waiter spins on the CPU instead of sleeping.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { TaskState } from '../kernel/sched/task.js';
import type { HitContext } from '../trace/probe.js';
import type { TracedIoReq } from '../trace/events.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { blkFinishPlug, blkStartPlug, ioSchedule } from '../block/blk-core.js';
import { PAGE_SIZE, fileRaStateInit } from '../mm/mm_types.js';
import { doMmap, MAP, PROT } from '../mm/mmap.js';
import { O, EIOCBQUEUED, S_IFBLK, S_IFREG, type File, type FileOperations, type Inode } from '../fs/types.js';
import { anonInode } from '../fs/anon_inodes.js';
import { EAGAIN, EBADF, EFAULT, EINVAL, EOPNOTSUPP } from '../uapi/errno.js';
import { ioIssue, ioIssueDone, type IoRwKiocb } from './rw.js';
import { ioWqEnqueue, ioWqOf, type IoWq } from './io-wq.js';
import { ioSqOffloadCreate, ioSqWake, type SqData } from './sqpoll.js';
import { ioSqeBuffersUnregister, type RegisteredBuf } from './rsrc.js';
import { ioArmPollHandler, ioRunTaskWork } from './poll.js';
import type { IoNotif } from './notif.js';
import { ioSendZcPrep } from './net.js';

// ---- uapi -------------------------------------------------------------------------------------

/** enum io_uring_op (the modelled subset). */
export const IORING_OP = { NOP: 0, FSYNC: 3, READ_FIXED: 4, WRITE_FIXED: 5, READ: 22, WRITE: 23, SEND: 26, RECV: 27, SEND_ZC: 47 } as const;
/** io_uring_get_opcode's names, as the tracepoints' op_str shows them. */
export const IORING_OP_NAMES: Readonly<Record<number, string>> = { 0: 'NOP', 3: 'FSYNC', 4: 'READ_FIXED', 5: 'WRITE_FIXED', 22: 'READ', 23: 'WRITE', 26: 'SEND', 27: 'RECV', 47: 'SEND_ZC' };
/** cqe->flags: more CQEs follow for this request (F_MORE); this one is a zero-copy notification (F_NOTIF). */
export const IORING_CQE_F = { BUFFER: 1 << 0, MORE: 1 << 1, SOCK_NONEMPTY: 1 << 2, NOTIF: 1 << 3 } as const;
/** sqe->ioprio of send/recv ops: poll before the first try; SEND_ZC's notification reports a copy. */
export const IORING_RECVSEND = { POLL_FIRST: 1 << 0, SEND_ZC_REPORT_USAGE: 1 << 3 } as const;
/** A SEND_ZC notification's res bit: the kernel copied (some of) the data after all. */
export const IORING_NOTIF_USAGE_ZC_COPIED = 1 << 31;
export const IORING_SETUP = { IOPOLL: 1 << 0, SQPOLL: 1 << 1, SQ_AFF: 1 << 2, CQSIZE: 1 << 3, CLAMP: 1 << 4 } as const;
export const IORING_ENTER = { GETEVENTS: 1 << 0, SQ_WAKEUP: 1 << 1, SQ_WAIT: 1 << 2 } as const;
/** sq_ring->flags */
export const IORING_SQ = { NEED_WAKEUP: 1 << 0, CQ_OVERFLOW: 1 << 1 } as const;
/** sqe->flags */
export const IOSQE = { FIXED_FILE: 1 << 0 } as const;
/** sqe->fsync_flags */
export const IORING_FSYNC_DATASYNC = 1 << 0;
/** io_uring_params.features the model offers. */
export const IORING_FEAT = { SINGLE_MMAP: 1 << 0, NODROP: 1 << 1, SUBMIT_STABLE: 1 << 2 } as const;
export const IORING_MAX_ENTRIES = 32768;
const S_IFMT = 0o170000;
export const IORING_MAX_CQ_ENTRIES = 2 * IORING_MAX_ENTRIES;

/** req->flags bits the tracepoints show (REQ_F_*). */
export const REQ_F = { FIXED_FILE: 1 << 0, ISREG: 1 << 20, FORCE_ASYNC: 1 << 4 } as const;

/** struct io_uring_sqe (the fields the modelled opcodes use). */
export interface IoUringSqe {
  opcode: number;
  flags: number;
  fd: number;
  off: number;
  addr: number;
  len: number;
  /** rw_flags / fsync_flags / msg_flags */
  opFlags: number;
  /** ioprio; for send/recv ops the IORING_RECVSEND_* flags. */
  ioprio: number;
  userData: number;
  bufIndex: number;
  /** kiotrace's annotation: the ioId the kernel gave this SQE when it consumed it (0 before). */
  ioId: number;
}

/**
 * struct io_uring_cqe, plus the ioId of the SQE it completes (kiotrace's annotation). The CQ
 * ring's slots are written in place, as the kernel writes the shared ring memory.
 */
export interface IoUringCqe {
  userData: number;
  res: number;
  flags: number;
  ioId: number;
}

/** The rings as both sides see them: user space writes SQEs and the SQ tail, reads CQEs and moves the CQ head. */
export class IoRings {
  sqHead = 0;
  sqTail = 0;
  sqFlags = 0;
  cqHead = 0;
  cqTail = 0;
  /** CQEs that did not fit (cq_overflow). */
  cqOverflow = 0;
  readonly sqes: IoUringSqe[];
  readonly cqes: IoUringCqe[];

  constructor(
    readonly sqEntries: number,
    readonly cqEntries: number,
    /** User VA of the mapped rings. */
    readonly va: number,
  ) {
    this.sqes = [];
    for (let i = 0; i < sqEntries; i++) this.sqes.push({ opcode: 0, flags: 0, fd: -1, off: 0, addr: 0, len: 0, opFlags: 0, ioprio: 0, userData: 0, bufIndex: 0, ioId: 0 });
    this.cqes = [];
    for (let i = 0; i < cqEntries; i++) this.cqes.push({ userData: 0, res: 0, flags: 0, ioId: 0 });
  }

  /** SQEs written and not yet consumed by the kernel. */
  get sqReady(): number {
    return this.sqTail - this.sqHead;
  }

  /** CQEs posted and not yet reaped. */
  get cqReady(): number {
    return this.cqTail - this.cqHead;
  }
}

/** struct io_uring_params: in (flags, sq_thread_idle, cq_entries) and out (entries, features, the mapped rings). */
export interface IoUringParams {
  flags: number;
  /** ms; 0 means the default (1 s). */
  sqThreadIdleMs: number;
  cqEntries: number;
  sqEntries: number;
  features: number;
  /** What liburing's mmap of IORING_OFF_SQ_RING / IORING_OFF_SQES gives user space; set by setup. */
  rings: IoRings | undefined;
}

export function ioUringParams(over: Partial<IoUringParams> = {}): IoUringParams {
  return { flags: 0, sqThreadIdleMs: 0, cqEntries: 0, sqEntries: 0, features: 0, rings: undefined, ...over };
}

// ---- kernel side --------------------------------------------------------------------------------

/** CPU cost of io_uring_create beyond the syscall (ctx and ring allocation). */
const IO_URING_CREATE_NS = 5_000;
/** Per SQE: io_alloc_req, io_init_req, io_issue_sqe's dispatch (the file system path is extra). */
const IO_SUBMIT_SQE_NS = 120;
/** Posting one CQE (io_fill_cqe_req). */
export const IO_POST_CQE_NS = 40;
/** One pass of io_do_iopoll over the device's completion queue. */
const IOPOLL_SPIN_NS = 1_000;

/**
 * struct io_kiocb: one SQE in flight. io_init_req / io_prep_rw copy what the request needs out
 * of the SQE, which user space may reuse as soon as it is consumed (IORING_FEAT_SUBMIT_STABLE).
 * Requests come from, and go back to, their ring's cache (io_alloc_req / io_req_add_to_cache), so
 * one keeps its address across uses, as a slab object does.
 */
export class IoKiocb implements TracedIoReq {
  ioId = 0;
  /** Bytes already done by an inline attempt, when the rest was punted (a short buffered read). */
  doneBytes = 0;
  reqFlags = 0;
  file: File | undefined;
  buf: RegisteredBuf | undefined;
  opcode = 0;
  userData = 0;
  /** sqe->flags (IOSQE_*). */
  sqeFlags = 0;
  fd = 0;
  off = 0;
  addr = 0;
  len = 0;
  /** rw_flags / fsync_flags / msg_flags */
  opFlags = 0;
  ioprio = 0;
  bufIndex = 0;
  /** REQ_F_POLLED: an internal poll (apoll) was armed for it once. */
  polled = false;
  /** SEND_ZC: the notification whose CQE says the buffer may be reused (io_send_zc's zc->notif). */
  notif: IoNotif | undefined;
  /** struct io_rw's kiocb, inside the request (set up by io_read / io_write at each issue). */
  rw: IoRwKiocb | undefined;

  constructor(
    readonly kaddr: number,
    readonly ctx: IoRingCtx,
  ) {}

  /** io_init_req's copy of the SQE. */
  init(ioId: number, sqe: Readonly<IoUringSqe>): void {
    this.ioId = ioId;
    this.doneBytes = 0;
    this.reqFlags = 0;
    this.file = undefined;
    this.buf = undefined;
    this.opcode = sqe.opcode;
    this.userData = sqe.userData;
    this.sqeFlags = sqe.flags;
    this.fd = sqe.fd;
    this.off = sqe.off;
    this.addr = sqe.addr;
    this.len = sqe.len;
    this.opFlags = sqe.opFlags;
    this.ioprio = sqe.ioprio;
    this.bufIndex = sqe.bufIndex;
    this.polled = false;
    this.notif = undefined;
  }

  get ctxKaddr(): number {
    return this.ctx.kaddr;
  }

  get opStr(): string {
    return IORING_OP_NAMES[this.opcode] ?? 'INVALID';
  }
}

interface CqWaiter {
  readonly task: Task;
  /** Wake when the CQ tail reaches this (io_wait_queue->cq_tail). */
  readonly targetTail: number;
}

/** struct io_ring_ctx */
export class IoRingCtx {
  readonly cqWait: CqWaiter[] = [];
  /** CQEs that did not fit in the CQ ring (ctx->cq_overflow_list). */
  readonly overflow: IoUringCqe[] = [];
  /** IOPOLL: completed requests waiting for io_do_iopoll to post their CQEs. */
  readonly iopollDone: { req: IoKiocb; res: number }[] = [];
  /** Requests submitted and not yet completed. */
  inflight = 0;
  /** Completed requests, ready for reuse (submit_state.free_list). */
  readonly reqCache: IoKiocb[] = [];
  /** Requests whose armed poll fired, to be re-issued by the submitter (task_work). */
  readonly taskWork: IoKiocb[] = [];
  bufs: RegisteredBuf[] | undefined;
  files: (File | undefined)[] | undefined;
  sq: SqData | undefined;
  closed = false;

  constructor(
    readonly kaddr: number,
    readonly flags: number,
    readonly rings: IoRings,
    readonly owner: Task,
    readonly file: File,
  ) {}

  get iopoll(): boolean {
    return (this.flags & IORING_SETUP.IOPOLL) !== 0;
  }
}

/** The machine's io_uring state (ctx lookup from a file, per-task contexts, the user's locked_vm). */
export interface IoUringState {
  readonly ctxOfFile: WeakMap<File, IoRingCtx>;
  /** tctx->io_wq of each task that submitted. */
  readonly wqOfTask: Map<Task, IoWq>;
  /** user->locked_vm in bytes (every simulated process runs as one user). */
  lockedVmBytes: number;
  /** RLIMIT_MEMLOCK: default MLOCK_LIMIT, 8 MiB since 5.16. */
  rlimitMemlockBytes: number;
  /** RLIMIT_NPROC: init's default is max_threads / 2. */
  rlimitNproc: number;
  /** Most io-wq workers alive at once in any one io-wq (for reports and tests). */
  maxWorkersSeen: number;
}

export const MLOCK_LIMIT_BYTES = 8 * 1024 * 1024;

export function ioUringState(k: Kernel): IoUringState {
  let s = k.asyncIo.ioUring;
  if (!s) {
    // set_max_threads: memory / (8 * THREAD_SIZE of 16 KiB); init_task's RLIMIT_NPROC is half of it
    const maxThreads = Math.floor((k.mm.totalPages * PAGE_SIZE) / (8 * 16384));
    s = { ctxOfFile: new WeakMap(), wqOfTask: new Map(), lockedVmBytes: 0, rlimitMemlockBytes: MLOCK_LIMIT_BYTES, rlimitNproc: Math.max(1, Math.floor(maxThreads / 2)), maxWorkersSeen: 0 };
    k.asyncIo.ioUring = s;
  }
  return s;
}

function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/**
 * anon_inode_getfile("[io_uring]"): the ring's file; it does no read/write of its own. Its last
 * reference going away (close -> fput) runs io_uring_release.
 */
class RingFile implements File {
  readonly kaddr: number;
  readonly inode: Inode;
  readonly flags = O.RDWR;
  posBytes = 0;
  readonly ra = fileRaStateInit();
  fMode = 0;
  fWbErr = 0;
  private refs = 1;
  onRelease: (() => void) | undefined;

  constructor(k: Kernel) {
    this.kaddr = k.kaddr();
    const fops: FileOperations = {
      name: 'io_uring_fops',
      *readIter() {
        return -EINVAL;
      },
      *writeIter() {
        return -EINVAL;
      },
      *fsync() {
        return -EINVAL;
      },
      mmap() {
        return 0;
      },
    };
    this.inode = anonInode(k, '[io_uring]', fops);
  }

  get refcount(): number {
    return this.refs;
  }

  set refcount(v: number) {
    const was = this.refs;
    this.refs = v;
    if (was > 0 && v <= 0) this.onRelease?.();
  }
}

/** The ring behind an fd of `task`, or undefined. */
export function ioRingCtxOf(k: Kernel, task: Task, fd: number): IoRingCtx | undefined {
  const file = task.files?.get(fd);
  return file ? ioUringState(k).ctxOfFile.get(file) : undefined;
}

/**
 * io_uring_setup(entries, params): a ring fd, or -errno. On success params.sqEntries/cqEntries
 * say the sizes and params.rings is the mapped rings.
 */
export function* sysIoUringSetup(k: Kernel, task: Task, entries: number, params: IoUringParams, paramsVa = 0): Generator<number, number, void> {
  syscallEnter(k, task, 'io_uring_setup', entries, paramsVa);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* ioUringCreate(k, task, entries, params);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'io_uring_setup', ret);
}

const KNOWN_SETUP_FLAGS = IORING_SETUP.IOPOLL | IORING_SETUP.SQPOLL | IORING_SETUP.SQ_AFF | IORING_SETUP.CQSIZE | IORING_SETUP.CLAMP;

function* ioUringCreate(k: Kernel, task: Task, entries: number, p: IoUringParams): Generator<number, number, void> {
  if (!task.mm || !task.files) return -EINVAL;
  if (p.flags & ~KNOWN_SETUP_FLAGS) return -EINVAL;
  if (!Number.isInteger(entries) || entries <= 0) return -EINVAL;
  if (entries > IORING_MAX_ENTRIES) {
    if (!(p.flags & IORING_SETUP.CLAMP)) return -EINVAL;
    entries = IORING_MAX_ENTRIES;
  }
  const sqEntries = roundupPow2(entries);
  let cqEntries: number;
  if (p.flags & IORING_SETUP.CQSIZE) {
    if (!Number.isInteger(p.cqEntries) || p.cqEntries <= 0) return -EINVAL;
    let cq = p.cqEntries;
    if (cq > IORING_MAX_CQ_ENTRIES) {
      if (!(p.flags & IORING_SETUP.CLAMP)) return -EINVAL;
      cq = IORING_MAX_CQ_ENTRIES;
    }
    cqEntries = roundupPow2(cq);
    if (cqEntries < sqEntries) return -EINVAL;
  } else {
    cqEntries = 2 * sqEntries;
  }
  // the rings (header, CQEs of 16 bytes, SQEs of 64 bytes), mapped into the process
  const ringBytes = Math.ceil((64 + cqEntries * 16 + sqEntries * 64) / PAGE_SIZE) * PAGE_SIZE;
  const va = doMmap(k, k.sched.cpu(task.cpu), task.mm, undefined, ringBytes, PROT.READ | PROT.WRITE, MAP.SHARED | MAP.ANONYMOUS, 0);
  if (va < 0) return va;
  yield IO_URING_CREATE_NS;
  const st = ioUringState(k);
  const file = new RingFile(k);
  const rings = new IoRings(sqEntries, cqEntries, va);
  const ctx = new IoRingCtx(k.kaddr(), p.flags, rings, task, file);
  file.onRelease = () => ioRingRelease(k, ctx);
  st.ctxOfFile.set(file, ctx);
  const fd = task.files.install(file);
  if (p.flags & IORING_SETUP.SQPOLL) {
    // io_sq_offload_create: the SQ thread submits, so its io-wq takes the punted work
    const idleNs = (p.sqThreadIdleMs > 0 ? p.sqThreadIdleMs : 1000) * 1_000_000;
    ctx.sq = ioSqOffloadCreate(k, ctx, task, idleNs);
  } else {
    ioWqOf(k, task, sqEntries); // io_uring_add_tctx_node: the submitter's io-wq
  }
  if (k.tp.io_uring_create.enabled) k.tp.io_uring_create.emit(k.sched.cpu(task.cpu), task.ioId, fd, ctx.kaddr, sqEntries, cqEntries, p.flags);
  p.sqEntries = sqEntries;
  p.cqEntries = cqEntries;
  p.features = IORING_FEAT.SINGLE_MMAP | IORING_FEAT.NODROP | IORING_FEAT.SUBMIT_STABLE;
  p.rings = rings;
  return fd;
}

/**
 * io_uring_enter(fd, to_submit, min_complete, flags): submits up to to_submit SQEs (the SQ thread
 * does it under SQPOLL) and, with IORING_ENTER_GETEVENTS, waits until min_complete CQEs are
 * there. Returns how many SQEs were submitted, or -errno.
 */
export function* sysIoUringEnter(k: Kernel, task: Task, fd: number, toSubmit: number, minComplete: number, flags: number, argpVa = 0, argsz = 0): Generator<number, number, void> {
  const sysIoId = syscallEnter(k, task, 'io_uring_enter', fd, toSubmit, minComplete, flags, argpVa, argsz);
  yield SYSCALL_ENTRY_NS;
  const file = task.files?.get(fd);
  const ctx = file ? ioUringState(k).ctxOfFile.get(file) : undefined;
  let ret = 0;
  if (!file) ret = -EBADF;
  else if (!ctx) ret = -EOPNOTSUPP;
  else if (flags & ~(IORING_ENTER.GETEVENTS | IORING_ENTER.SQ_WAKEUP | IORING_ENTER.SQ_WAIT)) ret = -EINVAL;
  else {
    // io_run_task_work: re-issue requests whose poll fired
    if (ctx.taskWork.length > 0) yield* ioRunTaskWork(k, ctx, task);
    flushOverflow(k, ctx);
    if (ctx.sq) {
      if (flags & IORING_ENTER.SQ_WAKEUP) ioSqWake(k, ctx.sq);
      ret = toSubmit;
    } else if (toSubmit > 0) {
      ret = yield* ioSubmitSqes(k, ctx, task, toSubmit, false);
      task.ioId = sysIoId;
    }
    if (flags & IORING_ENTER.GETEVENTS) {
      const min = Math.min(minComplete, ctx.rings.cqEntries);
      if (ctx.iopoll) yield* ioIopollCheck(k, ctx, task, min);
      else if (min > 0) yield* ioCqringWait(k, ctx, task, min);
    }
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'io_uring_enter', ret);
}

/**
 * io_submit_sqes: consumes up to `nr` SQEs from the SQ ring and issues each. Runs in the
 * submitter's context (io_uring_enter) or the SQ thread's. Returns how many were consumed.
 */
export function* ioSubmitSqes(k: Kernel, ctx: IoRingCtx, task: Task, nr: number, sqThread: boolean): Generator<number, number, void> {
  const rings = ctx.rings;
  const n = Math.min(nr, rings.sqReady);
  if (n <= 0) return 0;
  const savedIoId = task.ioId;
  // io_submit_state_start: plug when submitting more than two
  const plugged = n > 2;
  if (plugged) blkStartPlug(task);
  const mask = rings.sqEntries - 1;
  for (let i = 0; i < n; i++) {
    const sqe = rings.sqes[rings.sqHead & mask]!;
    rings.sqHead++;
    const ioId = k.newIoId();
    sqe.ioId = ioId;
    task.ioId = ioId;
    // io_alloc_req: from the ring's cache of freed requests when it has one
    const req = ctx.reqCache.pop() ?? new IoKiocb(k.kaddr(), ctx);
    req.init(ioId, sqe);
    ctx.inflight++;
    if (!k.sched.burnInline(task, IO_SUBMIT_SQE_NS)) yield IO_SUBMIT_SQE_NS;
    const err = ioInitReq(k, ctx, task, req);
    if (err !== 0) {
      ioReqComplete(k, k.sched.cpu(task.cpu), req, err);
      continue;
    }
    if (k.tp.io_uring_submit_req.enabled) k.tp.io_uring_submit_req.emit(k.sched.cpu(task.cpu), ioId, req, sqThread);
    // io_queue_sqe: the inline, non-blocking attempt
    ioQueueSqeDone(k, task, req, ioIssueDone(req, yield* ioIssue(k, req, task, true), true));
  }
  if (plugged) {
    const ns = blkFinishPlug(k, task);
    if (ns > 0 && !k.sched.burnInline(task, ns)) yield ns;
  }
  task.ioId = savedIoId;
  return n;
}

/** io_init_req: opcode, fixed buffer and file checks. 0 or -errno (the CQE's result). */
function ioInitReq(k: Kernel, ctx: IoRingCtx, task: Task, req: IoKiocb): number {
  if (!(req.opcode in IORING_OP_NAMES)) return -EINVAL;
  if (req.sqeFlags & ~IOSQE.FIXED_FILE) return -EINVAL;
  if (req.opcode === IORING_OP.READ_FIXED || req.opcode === IORING_OP.WRITE_FIXED) {
    const buf = ctx.bufs?.[req.bufIndex];
    if (!buf) return -EFAULT;
    if (req.addr < buf.va || req.addr + req.len > buf.va + buf.lenBytes) return -EFAULT;
    req.buf = buf;
  }
  if (req.opcode === IORING_OP.NOP) return 0;
  if (req.sqeFlags & IOSQE.FIXED_FILE) {
    // io_file_get_fixed
    const f = ctx.files?.[req.fd];
    if (!f) return -EBADF;
    req.file = f;
    req.reqFlags |= REQ_F.FIXED_FILE;
  } else {
    // io_file_get_normal
    if (k.tp.io_uring_file_get.enabled) k.tp.io_uring_file_get.emit(k.sched.cpu(task.cpu), req.ioId, req, req.fd);
    const f = task.files?.get(req.fd);
    if (!f) return -EBADF;
    req.file = f;
  }
  if ((req.file.inode.mode & S_IFMT) === S_IFREG) req.reqFlags |= REQ_F.ISREG;
  if (req.opcode === IORING_OP.SEND_ZC) return ioSendZcPrep(k, req);
  return 0;
}

/**
 * io_queue_sqe's handling of the inline attempt's result: queued, waiting on an armed poll
 * (io_queue_async -> io_arm_poll_handler), punted to io-wq, or done.
 */
export function ioQueueSqeDone(k: Kernel, task: Task, req: IoKiocb, ret: number): void {
  if (ret === -EIOCBQUEUED) return;
  if (ret === -EAGAIN) {
    if (ioArmPollHandler(k, task, req)) return;
    ioQueueIowq(k, task, req);
    return;
  }
  ioReqComplete(k, k.sched.cpu(task.cpu), req, ret);
}

/** io_queue_iowq: hand the request to the submitter's io-wq (io_prep_async_work decides hashing). */
function ioQueueIowq(k: Kernel, task: Task, req: IoKiocb): void {
  const file = req.file;
  const write = req.opcode === IORING_OP.WRITE || req.opcode === IORING_OP.WRITE_FIXED;
  const isReg = (req.reqFlags & REQ_F.ISREG) !== 0;
  const isBlk = file !== undefined && (file.inode.mode & S_IFMT) === S_IFBLK;
  // buffered writes to one regular file are serialized on its inode (hash_reg_file); ext4's
  // O_DIRECT writes may run in parallel (FOP_DIO_PARALLEL_WRITE); IOPOLL hashes every file I/O
  const hashed = isReg && ((write && (file!.flags & O.DIRECT) === 0) || req.ctx.iopoll);
  // regular files and block devices are bounded work; anything else (sockets, pipes) unbounded
  const unbound = file !== undefined && !isReg && !isBlk;
  const wq = ioWqOf(k, task, req.ctx.rings.sqEntries);
  const workKaddr = k.kaddr();
  if (k.tp.io_uring_queue_async_work.enabled) k.tp.io_uring_queue_async_work.emit(k.sched.cpu(task.cpu), req.ioId, req, workKaddr, hashed);
  ioWqEnqueue(k, wq, { kaddr: workKaddr, req, hash: hashed ? file!.inode : undefined }, unbound);
}

/** ki_complete of an io_uring read/write (io_complete_rw / io_complete_rw_iopoll). Any context. */
export function ioCompleteRw(k: Kernel, req: IoKiocb, res: number): void {
  const total = res >= 0 ? req.doneBytes + res : req.doneBytes > 0 ? req.doneBytes : res;
  if (req.ctx.iopoll) {
    req.ctx.iopollDone.push({ req, res: total });
    return;
  }
  ioReqComplete(k, k.sched.ctxCpu, req, total);
}

/**
 * io_req_complete_post: the CQE goes into the CQ ring (or the overflow list) and waiters re-check.
 * A SEND_ZC's result says IORING_CQE_F_MORE, and its notification loses the request's reference
 * after it (io_notif_flush): the NOTIF CQE always comes second.
 */
export function ioReqComplete(k: Kernel, cpu: HitContext, req: IoKiocb, res: number, cflags = 0): void {
  const ctx = req.ctx;
  const rings = ctx.rings;
  const notif = req.notif;
  if (notif !== undefined) {
    req.notif = undefined;
    cflags |= IORING_CQE_F.MORE;
  }
  ctx.inflight--;
  if (k.tp.io_uring_complete.enabled) k.tp.io_uring_complete.emit(cpu, req.ioId, req, res, cflags);
  if (rings.cqReady >= rings.cqEntries || ctx.overflow.length > 0) {
    // io_cqring_event_overflow: kept in the kernel until the CQ has room (IORING_FEAT_NODROP)
    ctx.overflow.push({ userData: req.userData, res, flags: cflags, ioId: req.ioId });
    rings.sqFlags |= IORING_SQ.CQ_OVERFLOW;
    rings.cqOverflow++;
    if (k.tp.io_uring_cqe_overflow.enabled) k.tp.io_uring_cqe_overflow.emit(cpu, req.ioId, req, res, cflags, k.kaddr());
  } else {
    writeCqe(rings, req.userData, res, cflags, req.ioId);
    wakeCqWaiters(ctx);
  }
  // io_free_req: the request goes back to the ring's cache
  req.file = undefined;
  req.buf = undefined;
  ctx.reqCache.push(req);
  notif?.flush();
}

/** A request of the ring that is not an SQE's (a SEND_ZC notification: io_alloc_notif's io_alloc_req). */
export function ioAllocReq(k: Kernel, ctx: IoRingCtx): IoKiocb {
  const req = ctx.reqCache.pop() ?? new IoKiocb(k.kaddr(), ctx);
  ctx.inflight++;
  return req;
}

/** task_work was queued: a submitter waiting for CQEs (or the SQ thread) wakes to run it. */
export function ioTaskWorkWake(k: Kernel, ctx: IoRingCtx): void {
  for (const w of ctx.cqWait.splice(0)) w.task.wake();
  if (ctx.sq) ioSqWake(k, ctx.sq);
}

/** io_fill_cqe: the next CQ ring slot gets the completion, then the tail moves. */
function writeCqe(rings: IoRings, userData: number, res: number, flags: number, ioId: number): void {
  const cqe = rings.cqes[rings.cqTail & (rings.cqEntries - 1)]!;
  cqe.userData = userData;
  cqe.res = res;
  cqe.flags = flags;
  cqe.ioId = ioId;
  rings.cqTail++;
}

function wakeCqWaiters(ctx: IoRingCtx): void {
  const tail = ctx.rings.cqTail;
  for (let i = 0; i < ctx.cqWait.length; ) {
    const w = ctx.cqWait[i]!;
    if (tail - w.targetTail >= 0) {
      ctx.cqWait.splice(i, 1);
      w.task.wake();
    } else {
      i++;
    }
  }
}

/** io_cqring_overflow_flush: move overflowed CQEs into the ring as room allows. */
function flushOverflow(k: Kernel, ctx: IoRingCtx): void {
  const rings = ctx.rings;
  if (ctx.overflow.length === 0) return;
  while (ctx.overflow.length > 0 && rings.cqReady < rings.cqEntries) {
    const o = ctx.overflow.shift()!;
    writeCqe(rings, o.userData, o.res, o.flags, o.ioId);
  }
  if (ctx.overflow.length === 0) rings.sqFlags &= ~IORING_SQ.CQ_OVERFLOW;
  void k;
}

/** io_cqring_wait: sleep (TASK_INTERRUPTIBLE) until min_events CQEs are in the ring. */
function* ioCqringWait(k: Kernel, ctx: IoRingCtx, task: Task, minEvents: number): Generator<number, void, void> {
  const rings = ctx.rings;
  if (rings.cqReady >= minEvents) return;
  if (k.tp.io_uring_cqring_wait.enabled) k.tp.io_uring_cqring_wait.emit(k.sched.cpu(task.cpu), task.ioId, ctx.kaddr, minEvents);
  const targetTail = rings.cqHead + minEvents;
  while (rings.cqTail - targetTail < 0 && !ioRingClosed(ctx)) {
    if (ctx.taskWork.length > 0) {
      yield* ioRunTaskWork(k, ctx, task);
      continue;
    }
    const w: CqWaiter = { task, targetTail };
    ctx.cqWait.push(w);
    task.state = TaskState.INTERRUPTIBLE;
    yield* ioSchedule(k, task);
    const i = ctx.cqWait.indexOf(w);
    if (i >= 0) ctx.cqWait.splice(i, 1);
    flushOverflow(k, ctx);
  }
}

/** io_iopoll_check: poll for completions until min are in the CQ (once when min is 0). */
function* ioIopollCheck(k: Kernel, ctx: IoRingCtx, task: Task, min: number): Generator<number, void, void> {
  for (;;) {
    // io_do_iopoll: post the CQEs of requests the device has completed
    while (ctx.iopollDone.length > 0) {
      const d = ctx.iopollDone.shift()!;
      ioReqComplete(k, k.sched.cpu(task.cpu), d.req, d.res);
      yield IO_POST_CQE_NS;
    }
    if (ctx.rings.cqReady >= min || ctx.inflight === 0 || min === 0) return;
    yield IOPOLL_SPIN_NS;
  }
}

/** io_uring_release -> io_ring_ctx_wait_and_kill: registrations go, the SQ thread and waiters leave. */
function ioRingRelease(k: Kernel, ctx: IoRingCtx): void {
  ctx.closed = true;
  if (ctx.bufs) ioSqeBuffersUnregister(k, ctx);
  ctx.files = undefined;
  if (ctx.sq) ioSqWake(k, ctx.sq);
  for (const w of ctx.cqWait.splice(0)) w.task.wake();
}

/** The ring's file was closed for the last time (io_uring_release): pollers and waiters leave. */
export function ioRingClosed(ctx: IoRingCtx): boolean {
  return ctx.closed || ctx.file.refcount <= 0;
}
