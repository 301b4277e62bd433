// Models: fio's engines/libaio.c: io_setup(iodepth) at init; queue() preps an iocb
// (io_prep_pread/io_prep_pwrite) for the io_u, commit() hands every staged iocb to one io_submit,
// getevents() reaps with io_getevents(min, max). An fsync waits until nothing is staged and runs
// as a plain fsync(2), as fio does (libaio has no usable fsync command).

import type { EngineContext, IoEngineOps, IoU, QueueResult } from './engine.js';
import { FIO_Q, payUserTime } from './engine.js';
import { IOCB_CMD, sysIoDestroy, sysIoGetevents, sysIoSetup, sysIoSubmit, type Iocb, type IoEvent } from '../../fs/aio.js';
import { sysFdatasync, sysFsync } from '../../fs/open.js';
import { EAGAIN, EINTR } from '../../uapi/errno.js';

/** User-space CPU time of io_prep_pread/pwrite (filling one struct iocb). */
const IOCB_PREP_NS = 20;
/** User-space CPU time to turn one io_event back into its io_u. */
const EVENT_REAP_NS = 15;

interface LibaioData {
  ctxId: number;
  /** io_us queued and not yet submitted (ld->queued), in order. */
  readonly staged: IoU[];
  /** Submitted and not yet reaped. */
  inflight: number;
}

const state = new WeakMap<EngineContext, LibaioData>();

function data(ctx: EngineContext): LibaioData {
  const d = state.get(ctx);
  if (!d) throw new Error('libaio: engine used before init');
  return d;
}

/** fio's libaio runs fsync/fdatasync synchronously, once nothing is staged. */
function* syncNow(ctx: EngineContext, io: IoU): Generator<number, QueueResult, void> {
  const fd = ctx.fds[io.fileIndex]!;
  yield* payUserTime(ctx);
  io.result = io.ddir === 'fsync' ? yield* sysFsync(ctx.k, ctx.task, fd) : yield* sysFdatasync(ctx.k, ctx.task, fd);
  io.issueNs = ctx.k.env.nowNs;
  return FIO_Q.COMPLETED;
}

export const libaioEngine: IoEngineOps = {
  name: 'libaio',
  sync: false,

  *init(ctx: EngineContext) {
    const out = { ctxId: 0 };
    const r = yield* sysIoSetup(ctx.k, ctx.task, Math.max(1, ctx.job.iodepth), out);
    if (r < 0) return r;
    state.set(ctx, { ctxId: out.ctxId, staged: [], inflight: 0 });
    return 0;
  },

  queue(ctx: EngineContext, io: IoU): QueueResult | Generator<number, QueueResult, void> {
    const d = data(ctx);
    if (io.ddir === 'fsync' || io.ddir === 'fdatasync') {
      if (d.staged.length > 0) return FIO_Q.BUSY;
      return syncNow(ctx, io);
    }
    if (d.staged.length + d.inflight >= ctx.job.iodepth) return FIO_Q.BUSY;
    ctx.pendingUserNs += IOCB_PREP_NS;
    d.staged.push(io);
    return FIO_Q.QUEUED;
  },

  *commit(ctx: EngineContext) {
    const d = data(ctx);
    if (d.staged.length === 0) return 0;
    const iocbs: Iocb[] = d.staged.map((io) => ({
      data: io.index,
      opcode: io.ddir === 'write' ? IOCB_CMD.PWRITE : IOCB_CMD.PREAD,
      fd: ctx.fds[io.fileIndex]!,
      buf: io.bufVa,
      nbytes: io.lenBytes,
      offset: io.offsetBytes,
    }));
    const ioIds: number[] = [];
    yield* payUserTime(ctx);
    const r = yield* sysIoSubmit(ctx.k, ctx.task, d.ctxId, iocbs, ioIds);
    // -EAGAIN: no room in the ring now; the runner reaps and commits again
    if (r === -EAGAIN) return 0;
    if (r < 0) return r;
    const now = ctx.k.env.nowNs;
    for (let i = 0; i < r; i++) {
      const io = d.staged[i]!;
      io.issueNs = now;
      io.ioId = ioIds[i] ?? 0;
    }
    d.staged.splice(0, r);
    d.inflight += r;
    return r;
  },

  *getevents(ctx: EngineContext, min: number, max: number, timeoutNs?: number) {
    const d = data(ctx);
    yield* payUserTime(ctx);
    const want = Math.min(min, d.inflight);
    const events: IoEvent[] = [];
    for (;;) {
      const r = yield* sysIoGetevents(ctx.k, ctx.task, d.ctxId, Math.max(0, want - events.length), Math.max(0, max - events.length), events, timeoutNs);
      // io_getevents' timeout ran out: the job's next issue time came (a rate-limited job)
      if (r === 0 && timeoutNs !== undefined) break;
      if (r === -EINTR || r === -EAGAIN) continue;
      if (r < 0 || events.length >= want) break;
    }
    const out: IoU[] = [];
    for (const ev of events) {
      const io = ctx.ious[ev.data]!;
      io.result = ev.res;
      io.ioId = ev.ioId;
      out.push(io);
    }
    d.inflight -= out.length;
    if (out.length > 0) yield EVENT_REAP_NS * out.length;
    return out;
  },

  *cleanup(ctx: EngineContext) {
    const d = state.get(ctx);
    if (!d) return;
    yield* sysIoDestroy(ctx.k, ctx.task, d.ctxId);
    state.delete(ctx);
  },
};
