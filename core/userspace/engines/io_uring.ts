// Models: fio's engines/io_uring.c: io_uring_setup(iodepth) with IORING_SETUP_SQPOLL
// (sqthread_poll) and IORING_SETUP_IOPOLL (hipri), buffers registered with IORING_REGISTER_BUFFERS
// (fixedbufs: READ_FIXED/WRITE_FIXED) and files with IORING_REGISTER_FILES (registerfiles).
// queue() fills an SQE at the SQ tail; commit() submits every queued SQE with one io_uring_enter
// (under SQPOLL only when the SQ thread asked for a wakeup); getevents() reaps the CQ ring in user
// space and enters the kernel with IORING_ENTER_GETEVENTS only when fewer than `min` are there.

import type { EngineContext, IoEngineOps, IoU, QueueResult } from './engine.js';
import { FIO_Q, payUserTime } from './engine.js';
import {
  IORING_ENTER,
  IORING_FSYNC_DATASYNC,
  IORING_OP,
  IORING_SETUP,
  IORING_SQ,
  IOSQE,
  ioUringParams,
  sysIoUringEnter,
  sysIoUringSetup,
  type IoRings,
} from '../../io_uring/io_uring.js';
import { IORING_REGISTER, sysIoUringRegister } from '../../io_uring/rsrc.js';
import { sysClose } from '../../fs/open.js';
import { EAGAIN, EINTR, EINVAL } from '../../uapi/errno.js';

/** User-space CPU time of filling one SQE and moving the tail. */
const SQE_PREP_NS = 20;
/** User-space CPU time of reading one CQE and finding its io_u. */
const CQE_REAP_NS = 10;

interface IoUringData {
  readonly fd: number;
  readonly rings: IoRings;
  /** SQEs written since the last commit (ld->queued), with the SQ index each sits at. */
  readonly queued: { io: IoU; sqIndex: number }[];
  inflight: number;
}

const state = new WeakMap<EngineContext, IoUringData>();

function data(ctx: EngineContext): IoUringData {
  const d = state.get(ctx);
  if (!d) throw new Error('io_uring: engine used before init');
  return d;
}

/** Moves the SQ tail past a written SQE (a store-release: the kernel may take it from here). */
function publishSqe(d: IoUringData, io: IoU, sqIndex: number): void {
  d.rings.sqTail++;
  d.queued.push({ io, sqIndex });
}

/** Under SQPOLL: the SQE is written in real time, then published. */
function* publishSqeNow(ctx: EngineContext, d: IoUringData, io: IoU, sqIndex: number): Generator<number, QueueResult, void> {
  yield* payUserTime(ctx);
  yield SQE_PREP_NS;
  publishSqe(d, io, sqIndex);
  return FIO_Q.QUEUED;
}

export const ioUringEngine: IoEngineOps = {
  name: 'io_uring',
  sync: false,

  *init(ctx: EngineContext) {
    const { k, task, job } = ctx;
    let flags = 0;
    if (job.hipri) flags |= IORING_SETUP.IOPOLL;
    if (job.sqthreadPoll) flags |= IORING_SETUP.SQPOLL;
    const params = ioUringParams({ flags });
    const fd = yield* sysIoUringSetup(k, task, Math.max(1, job.iodepth), params);
    if (fd < 0) return fd;
    if (!params.rings) return -EINVAL;
    state.set(ctx, { fd, rings: params.rings, queued: [], inflight: 0 });
    if (job.fixedbufs) {
      const iovecs = ctx.ious.map((io) => ({ va: io.bufVa, lenBytes: io.bufBytes }));
      const r = yield* sysIoUringRegister(k, task, fd, IORING_REGISTER.BUFFERS, { iovecs }, iovecs.length);
      if (r < 0) return r;
    }
    if (job.registerfiles) {
      const r = yield* sysIoUringRegister(k, task, fd, IORING_REGISTER.FILES, { fds: ctx.fds }, ctx.fds.length);
      if (r < 0) return r;
    }
    return 0;
  },

  queue(ctx: EngineContext, io: IoU): QueueResult | Generator<number, QueueResult, void> {
    const d = data(ctx);
    const rings = d.rings;
    if (d.queued.length + d.inflight >= Math.min(ctx.job.iodepth, rings.sqEntries) || rings.sqReady >= rings.sqEntries) return FIO_Q.BUSY;
    const sqIndex = rings.sqTail;
    const sqe = rings.sqes[sqIndex & (rings.sqEntries - 1)]!;
    const fixedFile = ctx.job.registerfiles;
    sqe.fd = fixedFile ? io.fileIndex : ctx.fds[io.fileIndex]!;
    sqe.flags = fixedFile ? IOSQE.FIXED_FILE : 0;
    sqe.userData = io.index;
    sqe.ioId = 0;
    sqe.bufIndex = 0;
    sqe.opFlags = 0;
    if (io.ddir === 'fsync' || io.ddir === 'fdatasync') {
      sqe.opcode = IORING_OP.FSYNC;
      sqe.opFlags = io.ddir === 'fdatasync' ? IORING_FSYNC_DATASYNC : 0;
      sqe.addr = 0;
      sqe.len = 0;
      sqe.off = 0;
    } else {
      const write = io.ddir === 'write';
      if (ctx.job.fixedbufs) {
        sqe.opcode = write ? IORING_OP.WRITE_FIXED : IORING_OP.READ_FIXED;
        sqe.bufIndex = io.index;
      } else {
        sqe.opcode = write ? IORING_OP.WRITE : IORING_OP.READ;
      }
      sqe.addr = io.bufVa;
      sqe.len = io.lenBytes;
      sqe.off = io.offsetBytes;
    }
    // the SQ thread may take this SQE as soon as the tail moves: write it in real time
    if (ctx.job.sqthreadPoll) return publishSqeNow(ctx, d, io, sqIndex);
    ctx.pendingUserNs += SQE_PREP_NS;
    publishSqe(d, io, sqIndex);
    return FIO_Q.QUEUED;
  },

  *commit(ctx: EngineContext) {
    const d = data(ctx);
    const n = d.queued.length;
    if (n === 0) return 0;
    const { k, task } = ctx;
    const rings = d.rings;
    yield* payUserTime(ctx);
    if (ctx.job.sqthreadPoll) {
      // the SQ thread submits; only a sleeping one needs a syscall
      if (rings.sqFlags & IORING_SQ.NEED_WAKEUP) yield* sysIoUringEnter(k, task, d.fd, n, 0, IORING_ENTER.SQ_WAKEUP);
      const now = k.env.nowNs;
      for (const q of d.queued) q.io.issueNs = now;
      d.queued.length = 0;
      d.inflight += n;
      return n;
    }
    const r = yield* sysIoUringEnter(k, task, d.fd, n, 0, IORING_ENTER.GETEVENTS);
    if (r === -EAGAIN || r === -EINTR) return 0;
    if (r < 0) return r;
    const now = k.env.nowNs;
    for (let i = 0; i < r; i++) {
      const q = d.queued[i]!;
      q.io.issueNs = now;
      q.io.ioId = rings.sqes[q.sqIndex & (rings.sqEntries - 1)]!.ioId;
    }
    d.queued.splice(0, r);
    d.inflight += r;
    return r;
  },

  *getevents(ctx: EngineContext, min: number, max: number) {
    const d = data(ctx);
    yield* payUserTime(ctx);
    const rings = d.rings;
    const want = Math.min(min, d.inflight);
    const out: IoU[] = [];
    // an IOPOLL ring posts CQEs only when polled: an empty CQ is worth one polling enter even for min 0
    let pollOnce = ctx.job.hipri && want === 0 && d.inflight > 0;
    for (;;) {
      let reaped = 0;
      while (rings.cqReady > 0 && out.length < max) {
        const cqe = rings.cqes[rings.cqHead & (rings.cqEntries - 1)]!;
        rings.cqHead++; // store-release of the head: the slot is free for the kernel again
        const io = ctx.ious[cqe.userData]!;
        io.result = cqe.res;
        io.ioId = cqe.ioId;
        out.push(io);
        reaped++;
      }
      if (reaped > 0) yield CQE_REAP_NS * reaped;
      if ((out.length >= want && !(pollOnce && out.length === 0)) || out.length >= max) break;
      pollOnce = false;
      const r = yield* sysIoUringEnter(ctx.k, ctx.task, d.fd, 0, Math.max(0, want - out.length), IORING_ENTER.GETEVENTS);
      if (r < 0 && r !== -EINTR && r !== -EAGAIN) break;
    }
    d.inflight -= out.length;
    return out;
  },

  *cleanup(ctx: EngineContext) {
    const d = state.get(ctx);
    if (!d) return;
    // the last close of the ring fd runs io_uring_release: buffers unpinned, SQ thread stopped
    yield* sysClose(ctx.k, ctx.task, d.fd);
    state.delete(ctx);
  },
};
