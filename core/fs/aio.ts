// Models: fs/aio.c (Linux native AIO, what libaio wraps): io_setup makes a kioctx with its
// completion ring mapped into the process, io_submit turns each iocb into an async kiocb
// (io_submit_one -> aio_read/aio_write), aio_complete puts an io_event in the ring and wakes
// io_getevents sleepers, io_destroy waits for what is in flight. Each iocb is an I/O origin with
// its own ioId, from io_submit to the io_event that reports it.
// O_DIRECT reads and writes return -EIOCBQUEUED from ->read_iter/->write_iter, so the submitter
// goes on at once; buffered ones run synchronously inside io_submit (the submitter sleeps in
// filemap_read / generic_perform_write like read(2) would) and complete before io_submit returns,
// exactly as Linux does: only O_DIRECT is really asynchronous with libaio.
// SIMPLIFICATION: IOCB_CMD_FSYNC/FDSYNC run inside io_submit; Linux queues aio_fsync_work on a
// workqueue so the submitter does not wait.
// SIMPLIFICATION: io_getevents reaps from the kernel's copy of the ring; fio's userspace_reap
// (reading the mapped ring without a syscall) is not modelled.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { TaskState } from '../kernel/sched/task.js';
import type { MmStruct } from '../mm/mm_types.js';
import { PAGE_SIZE } from '../mm/mm_types.js';
import { WaitQueue } from '../sim/process.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { blkFinishPlug, blkStartPlug, ioSchedule } from '../block/blk-core.js';
import { scheduleTimeout } from '../kernel/time/timer.js';
import { doMmap, doMunmap, MAP, PROT } from '../mm/mmap.js';
import { kiocbRw } from './read_write.js';
import { EIOCBQUEUED, O, type File, type Kiocb } from './types.js';
import { EAGAIN, EBADF, EINVAL } from '../uapi/errno.js';

/** aio_lio_opcode values (include/uapi/linux/aio_abi.h). */
export const IOCB_CMD = { PREAD: 0, PWRITE: 1, FSYNC: 2, FDSYNC: 3, NOOP: 6 } as const;

/** /proc/sys/fs/aio-max-nr default: io_setup past it fails with -EAGAIN. */
export const AIO_MAX_NR = 0x10000;
/** io_submit plugs the block layer when it submits more than this many iocbs (AIO_PLUG_THRESHOLD). */
const AIO_PLUG_THRESHOLD = 2;
/** sizeof(struct io_event) and of the ring header (struct aio_ring). */
const IO_EVENT_BYTES = 32;
const AIO_RING_HEADER_BYTES = 32;

/** CPU cost of io_setup beyond the syscall: kioctx allocation, percpu counters, ring set-up. */
const AIO_SETUP_NS = 3_000;
/** io_submit_one: copy_from_user of the iocb, aio_get_req, fget, kiocb set-up. */
const AIO_SUBMIT_ONE_NS = 250;
/** aio_read_events_ring: copy_to_user of one io_event. */
const AIO_EVENT_COPY_NS = 30;
/** io_destroy: percpu_ref kill, ring unmap. */
const AIO_DESTROY_NS = 2_000;

/** struct iocb as user space fills it. */
export interface Iocb {
  /** aio_data: returned in the io_event (fio keeps its io_u pointer there). */
  readonly data: number;
  readonly opcode: number;
  readonly fd: number;
  /** aio_buf: user VA of the buffer. */
  readonly buf: number;
  readonly nbytes: number;
  readonly offset: number;
}

/** struct io_event, plus the ioId the kernel gave the iocb (kiotrace's annotation). */
export interface IoEvent {
  readonly data: number;
  readonly obj: Iocb;
  readonly res: number;
  readonly res2: number;
  readonly ioId: number;
}

/** struct kioctx */
export class Kioctx {
  /** Completed events not yet reaped (the ring between head and tail). */
  readonly ring: IoEvent[] = [];
  /** io_getevents sleepers. */
  readonly wait = new WaitQueue();
  /** io_destroy waits here for the last in-flight request. */
  readonly drain = new WaitQueue();
  /** Requests submitted and not yet completed. */
  inflight = 0;
  /** Slots left for new requests (reqs_available): taken at submit, given back at reap. */
  reqsAvailable: number;
  dead = false;

  constructor(
    readonly kaddr: number,
    /** The aio_context_t user space sees: the user address of the mapped ring. */
    readonly id: number,
    readonly mm: MmStruct,
    readonly maxReqs: number,
    readonly ringBytes: number,
  ) {
    this.reqsAvailable = maxReqs;
  }
}

/**
 * Every process's aio contexts (mm->ioctx_table), keyed by the user-visible id: the ring's user
 * address, which is only unique within one address space.
 */
export interface AioState {
  readonly tables: WeakMap<object, Map<number, Kioctx>>;
}

function ioctxTable(k: Kernel, mm: object): Map<number, Kioctx> {
  let s = k.asyncIo.aio;
  if (!s) {
    s = { tables: new WeakMap() };
    k.asyncIo.aio = s;
  }
  let table = s.tables.get(mm);
  if (!table) {
    table = new Map();
    s.tables.set(mm, table);
  }
  return table;
}

/** lookup_ioctx: a context of the caller's own mm. */
function lookupIoctx(k: Kernel, task: Task, id: number): Kioctx | undefined {
  if (!task.mm) return undefined;
  const ctx = ioctxTable(k, task.mm).get(id);
  return ctx && !ctx.dead ? ctx : undefined;
}

/**
 * io_setup(nr_events, ctxp): on success *ctxp (out.ctxId) is the new context and the result is 0.
 * *ctxp must be 0 on entry, as Linux demands.
 */
export function* sysIoSetup(k: Kernel, task: Task, nrEvents: number, out: { ctxId: number }, ctxpVa = 0): Generator<number, number, void> {
  syscallEnter(k, task, 'io_setup', nrEvents, ctxpVa);
  yield SYSCALL_ENTRY_NS;
  let ret = 0;
  if (out.ctxId !== 0 || !Number.isInteger(nrEvents) || nrEvents <= 0) ret = -EINVAL;
  else if (nrEvents > AIO_MAX_NR || !task.mm) ret = -EAGAIN;
  else {
    // ioctx_alloc: room for percpu batching, then the ring is mapped into the process
    const ringEvents = Math.max(nrEvents, 4 * k.sched.cpus.length) * 2;
    const ringBytes = Math.ceil((AIO_RING_HEADER_BYTES + ringEvents * IO_EVENT_BYTES) / PAGE_SIZE) * PAGE_SIZE;
    const va = doMmap(k, k.sched.cpu(task.cpu), task.mm, undefined, ringBytes, PROT.READ | PROT.WRITE, MAP.SHARED | MAP.ANONYMOUS, 0);
    if (va < 0) ret = va;
    else {
      yield AIO_SETUP_NS;
      ioctxTable(k, task.mm).set(va, new Kioctx(k.kaddr(), va, task.mm, nrEvents, ringBytes));
      out.ctxId = va;
    }
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'io_setup', ret);
}

/**
 * io_submit(ctx_id, nr, iocbpp): submits iocbs in order and returns how many were taken, or the
 * first one's error when none was. `iocbppVa` is where user space keeps the pointer array (for the
 * tracepoint). Each iocb's ioId is written to `ioIds` at the same index.
 */
export function* sysIoSubmit(k: Kernel, task: Task, ctxId: number, iocbs: readonly Iocb[], ioIds: number[], iocbppVa = 0): Generator<number, number, void> {
  const sysIoId = syscallEnter(k, task, 'io_submit', ctxId, iocbs.length, iocbppVa);
  yield SYSCALL_ENTRY_NS;
  const ctx = lookupIoctx(k, task, ctxId);
  let ret: number;
  if (!ctx) ret = -EINVAL;
  else {
    const nr = Math.min(iocbs.length, ctx.maxReqs);
    const plugged = nr > AIO_PLUG_THRESHOLD;
    if (plugged) blkStartPlug(task);
    let i = 0;
    let err = 0;
    for (; i < nr; i++) {
      err = yield* ioSubmitOne(k, task, ctx, iocbs[i]!, ioIds, i);
      if (err !== 0) break;
    }
    if (plugged) {
      const ns = blkFinishPlug(k, task);
      if (ns > 0) yield ns;
    }
    task.ioId = sysIoId;
    ret = i > 0 ? i : err;
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'io_submit', ret);
}

/** io_submit_one: 0 when the iocb was taken (its result comes as an event), else -errno. */
function* ioSubmitOne(k: Kernel, task: Task, ctx: Kioctx, iocb: Iocb, ioIds: number[], index: number): Generator<number, number, void> {
  // every iocb is an I/O of its own: the block layer's bios and requests carry this id
  const ioId = k.newIoId();
  task.ioId = ioId;
  const fn = k.fn.io_submit_one;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, ctx, iocb.buf, 0);
  const ret = yield* ioSubmitOneBody(k, task, ctx, iocb, ioId);
  if (ret === 0) ioIds[index] = ioId;
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, ret);
  return ret;
}

function* ioSubmitOneBody(k: Kernel, task: Task, ctx: Kioctx, iocb: Iocb, ioId: number): Generator<number, number, void> {
  if (ctx.reqsAvailable === 0) return -EAGAIN;
  yield AIO_SUBMIT_ONE_NS;
  const file = task.files?.get(iocb.fd);
  if (!file) return -EBADF;
  const write = iocb.opcode === IOCB_CMD.PWRITE;
  const sync = iocb.opcode === IOCB_CMD.FSYNC || iocb.opcode === IOCB_CMD.FDSYNC;
  if (!write && !sync && iocb.opcode !== IOCB_CMD.PREAD) return -EINVAL;
  ctx.reqsAvailable--;
  ctx.inflight++;
  const req = new AioKiocb(k, ctx, iocb, file, task, ioId);
  if (sync) {
    const ret = yield* file.inode.fops.fsync(file, task, ioId, 0, Number.MAX_SAFE_INTEGER, iocb.opcode === IOCB_CMD.FDSYNC);
    aioCompleteRw(req, ret);
    return 0;
  }
  const ret = yield* kiocbRw(req, { va: iocb.buf, lenBytes: iocb.nbytes }, write);
  // aio_rw_done: anything but -EIOCBQUEUED completed (or failed) synchronously
  if (ret !== -EIOCBQUEUED) aioCompleteRw(req, ret);
  return 0;
}

/** struct aio_kiocb: the kiocb of one submitted iocb, with the kioctx it completes into. */
class AioKiocb implements Kiocb {
  readonly kaddr: number;
  posBytes: number;
  readonly direct: boolean;
  readonly kiComplete = aioCompleteRw;

  constructor(
    readonly k: Kernel,
    readonly ctx: Kioctx,
    readonly iocb: Iocb,
    readonly file: File,
    readonly task: Task,
    readonly ioId: number,
  ) {
    this.kaddr = k.kaddr();
    this.posBytes = iocb.offset;
    this.direct = (file.flags & O.DIRECT) !== 0;
  }
}

/** aio_complete_rw: the kiocb's ki_complete (container_of gives the aio_kiocb). Any context. */
function aioCompleteRw(kiocb: Kiocb, res: number): void {
  const req = kiocb as AioKiocb;
  const k = req.k;
  const fn = k.fn.aio_complete_rw;
  if (fn.entry.enabled) fn.enter(k.sched.ctxCpu, req.ioId, req, res);
  aioComplete(req.ctx, req.iocb, req.ioId, res);
  if (fn.ret.enabled) fn.exit(k.sched.ctxCpu, req.ioId, 0);
}

/** aio_complete: the event goes into the ring and io_getevents sleepers re-check. Any context. */
function aioComplete(ctx: Kioctx, iocb: Iocb, ioId: number, res: number): void {
  ctx.ring.push({ data: iocb.data, obj: iocb, res, res2: 0, ioId });
  ctx.inflight--;
  ctx.wait.wakeAll();
  if (ctx.inflight === 0) ctx.drain.wakeAll();
}

/**
 * io_getevents(ctx_id, min_nr, nr, events, timeout): waits until min_nr events are there (or the
 * timeout passes; undefined = no timeout, 0 = do not wait) and moves up to nr of them to `events`.
 * Returns how many, or -errno.
 */
export function* sysIoGetevents(
  k: Kernel,
  task: Task,
  ctxId: number,
  minNr: number,
  nr: number,
  events: IoEvent[],
  timeoutNs?: number,
  eventsVa = 0,
  timeoutVa = 0,
): Generator<number, number, void> {
  syscallEnter(k, task, 'io_getevents', ctxId, minNr, nr, eventsVa, timeoutVa);
  yield SYSCALL_ENTRY_NS;
  const ctx = lookupIoctx(k, task, ctxId);
  let ret: number;
  if (!ctx || minNr < 0 || nr < 0 || minNr > nr) ret = -EINVAL;
  else ret = yield* readEvents(k, task, ctx, minNr, nr, events, timeoutNs);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'io_getevents', ret);
}

/** read_events: wait_event_interruptible_hrtimeout(ctx->wait, aio_read_events(...)). */
function* readEvents(k: Kernel, task: Task, ctx: Kioctx, minNr: number, nr: number, events: IoEvent[], timeoutNs: number | undefined): Generator<number, number, void> {
  const deadlineNs = timeoutNs === undefined ? Infinity : k.env.nowNs + Math.max(0, timeoutNs);
  let got = 0;
  for (;;) {
    const take = Math.min(nr - got, ctx.ring.length);
    if (take > 0) {
      for (const ev of ctx.ring.splice(0, take)) events.push(ev);
      ctx.reqsAvailable += take;
      got += take;
      yield AIO_EVENT_COPY_NS * take;
    }
    if (got >= minNr || got >= nr || ctx.dead || k.env.nowNs >= deadlineNs) return got;
    if (ctx.ring.length > 0) continue; // more arrived while copying
    ctx.wait.add(task);
    if (deadlineNs === Infinity) {
      task.state = TaskState.INTERRUPTIBLE;
      yield* ioSchedule(k, task, false);
    } else {
      yield* scheduleTimeout(k, task, deadlineNs - k.env.nowNs, TaskState.INTERRUPTIBLE);
    }
    ctx.wait.remove(task);
  }
}

/** io_destroy(ctx): the context dies, in-flight requests are waited for, the ring is unmapped. */
export function* sysIoDestroy(k: Kernel, task: Task, ctxId: number): Generator<number, number, void> {
  syscallEnter(k, task, 'io_destroy', ctxId);
  yield SYSCALL_ENTRY_NS;
  const ctx = lookupIoctx(k, task, ctxId);
  let ret = 0;
  if (!ctx) ret = -EINVAL;
  else {
    ctx.dead = true;
    ctx.wait.wakeAll();
    yield AIO_DESTROY_NS;
    while (ctx.inflight > 0) {
      ctx.drain.add(task);
      task.state = TaskState.UNINTERRUPTIBLE;
      yield* ioSchedule(k, task);
      ctx.drain.remove(task);
    }
    ioctxTable(k, ctx.mm).delete(ctx.id);
    doMunmap(k, ctx.mm, ctx.id, ctx.ringBytes);
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'io_destroy', ret);
}
