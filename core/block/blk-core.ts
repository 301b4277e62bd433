// Models: block/blk-core.c (submit_bio, blk_start_plug/blk_finish_plug) and the bio half of
// block/blk-mq.c's blk_mq_submit_bio: a bio passes the cgroup throttle (blk-throttle.ts), is split
// to the queue limits, merged into a plugged or queued request when it can be, or gets a request
// of its own (sleeping for a tag if none is free).

import type { Bio, BioVec } from './blk_types.js';
import { BlkStatus, ReqFlag, ReqOp } from './blk_types.js';
import { ElvMerge, type QueueLimits } from './blkdev.js';
import { bioMergeOk, MAX_SEGMENT_BYTES } from './blk-merge.js';
import type { CpuCost, MqRequest, RequestQueue, TagWaiter } from './blk-mq.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { SCHED, TaskState } from '../kernel/sched/task.js';
import { BIO_SUBMIT_NS, BLK_MQ_GET_REQUEST_NS } from '../hw/cpu.js';
import { SimBug } from '../sim/errors.js';
import type { HitContext } from '../trace/probe.js';
import { blkThrotlBio } from './blk-throttle.js';
import { blkcgIolatencyThrottle } from './blk-iolatency.js';

/** BLK_MAX_REQUEST_COUNT: a plug is flushed once it holds this many requests. */
export const BLK_MAX_REQUEST_COUNT = 32;
/** BLK_PLUG_FLUSH_SIZE: ...or when a plugged request reaches 128 KiB. */
export const BLK_PLUG_FLUSH_SIZE_BYTES = 128 * 1024;

/** blk_attempt_plug_merge tries a back merge, then a front merge. */
const PLUG_MERGE_ORDER = [ElvMerge.BACK_MERGE, ElvMerge.FRONT_MERGE] as const;

/** struct blk_plug: requests a task batches before handing them to the queue. */
export class BlkPlug {
  readonly rqs: MqRequest[] = [];
  /** Nesting depth: only the outermost blk_finish_plug flushes. */
  depth = 1;
}

export function bioAlloc(
  k: Kernel,
  task: Task,
  ioId: number,
  q: RequestQueue,
  op: ReqOp,
  flags: number,
  sector: number,
  vecs: BioVec[],
  endIo: ((bio: Bio) => void) | undefined,
  private_: unknown,
): Bio {
  let bytes = 0;
  for (const v of vecs) bytes += v.lenBytes;
  return {
    kaddr: k.kaddr(),
    ioId,
    op,
    flags,
    dev: q.dev,
    sector,
    nrSectors: bytes >> 9,
    vecs,
    status: BlkStatus.OK,
    submitterPid: task.pid,
    submitterComm: task.comm,
    blkcg: task.memcg,
    writeHint: 0,
    endIo,
    private_,
  };
}

/** blk_start_plug (nests: an inner plug joins the outer one). */
export function blkStartPlug(task: Task): void {
  if (task.plug) task.plug.depth++;
  else task.plug = new BlkPlug();
}

/** blk_finish_plug: the outermost call flushes. Returns the CPU cost of the flush. */
export function blkFinishPlug(k: Kernel, task: Task): number {
  const plug = task.plug;
  if (!plug) return 0;
  if (--plug.depth > 0) return 0;
  task.plug = undefined;
  return flushPlugList(k, task, plug, false);
}

/**
 * blk_mq_flush_plug_list: hand every plugged request to its queue. From schedule() the requests
 * are inserted (block_rq_insert) before the queue runs; otherwise issued directly when the queue
 * has no elevator. Returns the CPU time spent.
 * SIMPLIFICATION: a flush from schedule() runs the hardware queue right away in the sleeping
 * task's context; Linux hands that run to kblockd.
 */
export function flushPlugList(k: Kernel, task: Task, plug: BlkPlug, fromSchedule: boolean): number {
  if (plug.rqs.length === 0) return 0;
  const cpu = k.sched.cpu(task.cpu);
  const cost: CpuCost = { ns: 0 };
  const rqs = plug.rqs.splice(0);
  if (k.tp.block_unplug.enabled) k.tp.block_unplug.emit(cpu, rqs[0]!.ioId, rqs.length);
  // group by queue, preserving order (almost always a single queue)
  const q0 = rqs[0]!.q;
  if (rqs.every((rq) => rq.q === q0)) {
    dispatchPlugged(cpu, q0, rqs, fromSchedule, cost);
  } else {
    const byQueue = new Map<RequestQueue, MqRequest[]>();
    for (const rq of rqs) {
      const list = byQueue.get(rq.q);
      if (list) list.push(rq);
      else byQueue.set(rq.q, [rq]);
    }
    for (const [q, list] of byQueue) dispatchPlugged(cpu, q, list, fromSchedule, cost);
  }
  return cost.ns;
}

/** blk_mq_dispatch_plug_list for one queue. */
function dispatchPlugged(cpu: HitContext, q: RequestQueue, list: MqRequest[], fromSchedule: boolean, cost: CpuCost): void {
  if (q.elevator || fromSchedule) {
    q.insertRequests(cpu, list, cost);
    let last: MqRequest['hctx'] | undefined;
    for (const rq of list) {
      if (rq.hctx === last) continue;
      last = rq.hctx;
      q.runHwQueue(rq.hctx, cpu, cost);
    }
  } else {
    for (const rq of list) q.issueDirectly(rq, cpu, cost);
  }
}

/**
 * schedule() for I/O waits (io_schedule): flush the task's plug (sched_submit_work), then sleep.
 * The caller has already set the task's state and queued it on a wait queue. `iowait` false: a
 * plain schedule() (a timer, an idle kthread, a wait for another task), not counted as iowait.
 */
export function* ioSchedule(k: Kernel, task: Task, iowait = true): Generator<number, void, void> {
  const plug = task.plug;
  if (plug && plug.rqs.length > 0) {
    const ns = flushPlugList(k, task, plug, true);
    if (ns > 0) yield ns;
  }
  task.inIowait = iowait;
  yield SCHED;
  task.inIowait = false;
}

/**
 * submit_bio: split to the queue limits, then blk_mq_submit_bio. Process context; yields the CPU
 * time spent and may sleep waiting for a tag.
 */
export function submitBio(k: Kernel, task: Task, q: RequestQueue, bio: Bio): Generator<number, void, void> {
  // blk_throtl_bio (io.max): a bio over its group's budget waits; kthrotld submits it later
  const td = q.throtl;
  if (td !== undefined && blkThrotlBio(td, bio, false)) return throttledSubmit(k, task, bio);
  return submitBioNocheck(k, task, q, bio);
}

/** submit_bio for a bio blk-throttle queued: submit_bio's own CPU time, and the kprobe's hit. */
function* throttledSubmit(k: Kernel, task: Task, bio: Bio): Generator<number, void, void> {
  const fnSubmit = k.fn.submit_bio;
  if (fnSubmit.entry.enabled) fnSubmit.enter(k.sched.cpu(task.cpu), bio.ioId, bio);
  yield BIO_SUBMIT_NS;
  if (fnSubmit.ret.enabled) fnSubmit.exit(k.sched.cpu(task.cpu), bio.ioId, 0);
}

/**
 * submit_bio_noacct_nocheck: submit_bio past the throttle (a bio it charged, or one kthrotld
 * dispatches); a remainder split off it re-enters the throttle for one more I/O.
 */
export function submitBioNocheck(k: Kernel, task: Task, q: RequestQueue, bio: Bio): Generator<number, void, void> {
  const fnSubmit = k.fn.submit_bio;
  // the common case (no split, no kprobe on submit_bio) adds no generator frame of its own
  if (splitSectors(bio, q.limits) === 0 && !fnSubmit.entry.enabled && !fnSubmit.ret.enabled) {
    return blkMqSubmitBio(k, task, q, bio, BIO_SUBMIT_NS);
  }
  return submitBioSplitting(k, task, q, bio);
}

function* submitBioSplitting(k: Kernel, task: Task, q: RequestQueue, bio: Bio): Generator<number, void, void> {
  const cpu = k.sched.cpu(task.cpu);
  const fnSubmit = k.fn.submit_bio;
  if (fnSubmit.entry.enabled) fnSubmit.enter(cpu, bio.ioId, bio);
  yield BIO_SUBMIT_NS;
  let rest: Bio | undefined = bio;
  while (rest) {
    let piece = rest;
    rest = undefined;
    const headSectors = splitSectors(piece, q.limits);
    if (headSectors > 0) {
      const [head, tail] = splitBio(k, piece, headSectors);
      if (k.tp.block_split.enabled) k.tp.block_split.emit(k.sched.cpu(task.cpu), head.ioId, head, tail.sector);
      piece = head;
      rest = tail;
    }
    yield* blkMqSubmitBio(k, task, q, piece, 0);
    // the remainder goes through submit_bio_noacct again: io.max counts it as one more I/O
    if (rest && q.throtl !== undefined && blkThrotlBio(q.throtl, rest, true)) rest = undefined;
  }
  if (fnSubmit.ret.enabled) fnSubmit.exit(k.sched.cpu(task.cpu), bio.ioId, 0);
}

/**
 * bio_split_rw's limit check: 0 when the bio fits max_sectors and max_segments, else how many
 * sectors the first piece keeps.
 */
function splitSectors(bio: Bio, limits: QueueLimits): number {
  let segs = 0;
  let segAddr = -1;
  let segBytes = 0;
  let bytes = 0;
  for (const v of bio.vecs) {
    const addr = v.pfn * 4096 + v.offsetBytes;
    if (!(segAddr >= 0 && addr === segAddr + segBytes && segBytes + v.lenBytes <= MAX_SEGMENT_BYTES)) {
      if (++segs > limits.maxSegments) return bytes >> 9;
      segAddr = addr;
      segBytes = 0;
    }
    segBytes += v.lenBytes;
    bytes += v.lenBytes;
    if (bytes >> 9 > limits.maxSectors) return limits.maxSectors;
  }
  return 0;
}

/** bio_split: the first `sectors` stay in `head`; both halves complete through a shared parent. */
function splitBio(k: Kernel, bio: Bio, sectors: number): [Bio, Bio] {
  const headVecs: BioVec[] = [];
  const tailVecs: BioVec[] = [];
  let bytesLeft = sectors * 512;
  for (const v of bio.vecs) {
    if (bytesLeft >= v.lenBytes) {
      headVecs.push(v);
      bytesLeft -= v.lenBytes;
    } else if (bytesLeft > 0) {
      headVecs.push({ pfn: v.pfn, offsetBytes: v.offsetBytes, lenBytes: bytesLeft });
      tailVecs.push({ pfn: v.pfn, offsetBytes: v.offsetBytes + bytesLeft, lenBytes: v.lenBytes - bytesLeft });
      bytesLeft = 0;
    } else {
      tailVecs.push(v);
    }
  }
  // both halves must end before the original bio's bi_end_io runs (bio_chain)
  let remaining = 2;
  const parentEnd = bio.endIo;
  const chainEnd = (piece: Bio): void => {
    if (piece.status !== BlkStatus.OK) bio.status = piece.status;
    if (--remaining === 0 && parentEnd) parentEnd(bio);
  };
  const mk = (sector: number, vecs: BioVec[]): Bio => {
    let bytes = 0;
    for (const v of vecs) bytes += v.lenBytes;
    return { ...bio, kaddr: k.kaddr(), sector, nrSectors: bytes >> 9, vecs, endIo: chainEnd };
  };
  return [mk(bio.sector, headVecs), mk(bio.sector + sectors, tailVecs)];
}

/** blk_mq_submit_bio; `submitCostNs` is submit_bio's own CPU time, charged first. */
function* blkMqSubmitBio(k: Kernel, task: Task, q: RequestQueue, bio: Bio, submitCostNs: number): Generator<number, void, void> {
  if (submitCostNs > 0 && !k.sched.burnInline(task, submitCostNs)) yield submitCostNs;
  const fn = k.fn.blk_mq_submit_bio;
  let cpu = k.sched.cpu(task.cpu);
  if (fn.entry.enabled) fn.enter(cpu, bio.ioId, bio);
  if (k.tp.block_bio_queue.enabled) k.tp.block_bio_queue.emit(cpu, bio.ioId, bio);
  if (bio.nrSectors === 0 && !(bio.flags & ReqFlag.PREFLUSH)) throw new SimBug('empty bio');

  // blk_attempt_plug_merge: only the most recently plugged request of this queue
  const plug = task.plug;
  if (plug && plug.rqs.length > 0) {
    const last = plug.rqs[plug.rqs.length - 1]!;
    if (last.q === q) {
      for (const where of PLUG_MERGE_ORDER) {
        if (bioMergeOk(q.limits, last, bio, where)) {
          q.mergeCtx = cpu;
          q.mergeBio(last, bio, where);
          q.mergeCtx = undefined;
          if (fn.ret.enabled) fn.exit(cpu, bio.ioId, 0);
          return;
        }
      }
    }
  }
  // blk_mq_sched_bio_merge: the elevator's queued requests
  if (q.elevator) {
    q.mergeCtx = cpu;
    const merged = q.elevator.bioMerge(bio);
    q.mergeCtx = undefined;
    if (merged) {
      yield q.elevatorCostNs();
      if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), bio.ioId, 0);
      return;
    }
  }

  // blk_mq_get_new_requests: rq_qos_throttle (io.latency's depth), then a tag, sleeping on the tag
  // wait queue when none is free
  const iolat = q.iolat;
  if (iolat !== undefined) {
    yield* blkcgIolatencyThrottle(iolat, task, bio);
    cpu = k.sched.cpu(task.cpu);
  }
  let rq = q.tryGetRequest(q.mapQueue(cpu.id));
  if (!rq) {
    const waiter: TagWaiter = { task, granted: undefined };
    q.mapQueue(cpu.id).tagWaiters.push(waiter);
    while (!waiter.granted) {
      task.state = TaskState.UNINTERRUPTIBLE;
      yield* ioSchedule(k, task);
    }
    rq = waiter.granted;
  }
  if (!k.sched.burnInline(task, BLK_MQ_GET_REQUEST_NS)) yield BLK_MQ_GET_REQUEST_NS;
  cpu = k.sched.cpu(task.cpu);
  q.initRequest(rq, bio);
  if (k.tp.block_getrq.enabled) k.tp.block_getrq.emit(cpu, bio.ioId, bio);
  q.accountIoStart(rq, cpu);

  const cost: CpuCost = { ns: 0 };
  if (bio.op === ReqOp.FLUSH || bio.flags & (ReqFlag.PREFLUSH | ReqFlag.FUA)) {
    // op_is_flush: the flush machinery takes it, past the plug and the elevator
    q.insertFlush(rq, cpu, cost);
  } else if (task.plug) {
    // blk_add_rq_to_plug: a full plug, or one whose last request is already large, is flushed
    // before the new request joins it
    const p = task.plug;
    const last = p.rqs[p.rqs.length - 1];
    if (!last) {
      if (k.tp.block_plug.enabled) k.tp.block_plug.emit(cpu, bio.ioId);
    } else if (p.rqs.length >= BLK_MAX_REQUEST_COUNT || last.nrSectors * 512 >= BLK_PLUG_FLUSH_SIZE_BYTES) {
      cost.ns += flushPlugList(k, task, p, false);
      if (k.tp.block_plug.enabled) k.tp.block_plug.emit(cpu, bio.ioId);
    }
    p.rqs.push(rq);
  } else if (q.elevator) {
    q.insertRequests(cpu, [rq], cost);
    q.runHwQueue(rq.hctx, cpu, cost);
  } else {
    q.issueDirectly(rq, cpu, cost);
  }
  if (cost.ns > 0 && !k.sched.burnInline(task, cost.ns)) yield cost.ns;
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), bio.ioId, 0);
}

/** submit_bio_wait: submit and sleep until the bio completes. Returns its status. */
export function* submitBioWait(k: Kernel, task: Task, q: RequestQueue, bio: Bio): Generator<number, BlkStatus, void> {
  let done = false;
  const prevEnd = bio.endIo;
  bio.endIo = (b) => {
    prevEnd?.(b);
    done = true;
    k.sched.wakeFromContext(task);
  };
  yield* submitBio(k, task, q, bio);
  while (!done) {
    task.state = TaskState.UNINTERRUPTIBLE;
    yield* ioSchedule(k, task);
  }
  return bio.status;
}
