// Models: block/blk-throttle.c (cgroup v2 io.max, Linux 6.x): a bio whose group has limits on its
// device is checked at submit, before the elevator (blk_throtl_bio from submit_bio_noacct). Within
// the group's budget it is charged and goes on; over it, or behind bios already queued in its
// direction (the queue is FIFO), it waits on the group's service queue. Budgets are accounted per
// direction over slices of throtl_slice (100 ms): the bytes (iops) allowed are the rate times the
// slice time rounded up to whole slices; a slice is extended while bios wait and trimmed (its start
// moved forward, its usage reduced by what the trimmed time allowed) as bios are dispatched. A
// pending timer fires at the earliest group's disptime and dispatches up to throtl_grp_quantum (8)
// bios per group (3/4 of them reads) and throtl_quantum (32) per round; the dispatched bios are
// submitted by kthrotld's work. A bio split to the queue limits is charged once for its bytes, and
// its remainder again for one I/O each time it re-enters submit_bio (BIO_BPS_THROTTLED), so a bio
// larger than max_sectors counts as several I/Os against riops/wiops, as in Linux.
// SIMPLIFICATION: groups are children of the root (no hierarchical limits, so a group's bios go
// straight to the top-level service queue); no carryover of budget when limits change (they are set
// at boot); one kthread per throttled queue stands for the kthrotld workqueue's kworker; the pending
// timer runs its callback on CPU 0.

import type { Bio } from './blk_types.js';
import { ReqOp } from './blk_types.js';
import type { RequestQueue } from './blk-mq.js';
import type { MemCgroup } from '../cgroup/memcontrol.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { TaskState } from '../kernel/sched/task.js';
import { Priority } from '../sim/engine.js';
import { blkFinishPlug, blkStartPlug, ioSchedule, submitBioNocheck } from './blk-core.js';
import { HZ, NS_PER_JIFFY } from '../mm/page-writeback-throttle.js';

/** DFL_THROTL_SLICE: budgets are accounted over 100 ms slices (HZ / 10). */
export const THROTL_SLICE_JIFFIES = HZ / 10;
/** THROTL_GRP_QUANTUM: the most bios one group dispatches per round. */
export const THROTL_GRP_QUANTUM = 8;
/** THROTL_QUANTUM: the most bios dispatched per round over all groups. */
export const THROTL_QUANTUM = 32;
/** "max": no limit. */
export const THROTL_UNLIMITED = Infinity;

const READ = 0;
const WRITE = 1;

/** One group's io.max line for one device: bytes and I/Os per second per direction. */
export interface IoMaxLimits {
  readonly rbps: number;
  readonly wbps: number;
  readonly riops: number;
  readonly wiops: number;
}

/** A bio waiting on a group's service queue. */
interface ThrotlQueued {
  readonly bio: Bio;
  /** Its bytes were charged already (BIO_BPS_THROTTLED: a split remainder): only its I/O counts. */
  readonly bpsCharged: boolean;
  readonly queuedNs: number;
}

/** Per direction counters (io.stat's rbytes/wbytes/rios/wios and the throttling on top). */
export interface ThrotlDirStats {
  /** Bytes and bios charged to the group (after splitting, each piece counts one I/O). */
  bytes: number;
  ios: number;
  /** Bios that had to wait on the service queue, and their summed wait. */
  throttledBios: number;
  throttledNs: number;
}

/** struct throtl_grp: one cgroup's limits and slice state on one queue. */
export class ThrotlGrp {
  readonly bps: [number, number];
  readonly iops: [number, number];
  readonly bytesDisp = [0, 0];
  readonly ioDisp = [0, 0];
  readonly sliceStart = [0, 0];
  readonly sliceEnd = [0, 0];
  /** service_queue.queued[READ/WRITE]: FIFO per direction (head index for O(1) pops). */
  readonly queued: [ThrotlQueued[], ThrotlQueued[]] = [[], []];
  readonly queuedHead = [0, 0];
  /** When the group can next dispatch (jiffies); its key on the parent's pending tree. */
  disptime = 0;
  /** THROTL_TG_PENDING: on the parent's pending tree. */
  pending = false;
  readonly stats: [ThrotlDirStats, ThrotlDirStats] = [
    { bytes: 0, ios: 0, throttledBios: 0, throttledNs: 0 },
    { bytes: 0, ios: 0, throttledBios: 0, throttledNs: 0 },
  ];

  constructor(
    readonly memcg: MemCgroup,
    readonly limits: IoMaxLimits,
  ) {
    this.bps = [limits.rbps, limits.wbps];
    this.iops = [limits.riops, limits.wiops];
  }

  nrQueued(rw: number): number {
    return this.queued[rw]!.length - this.queuedHead[rw]!;
  }

  peek(rw: number): ThrotlQueued | undefined {
    return this.queued[rw]![this.queuedHead[rw]!];
  }

  pop(rw: number): ThrotlQueued {
    const list = this.queued[rw]!;
    const item = list[this.queuedHead[rw]!]!;
    if (++this.queuedHead[rw]! === list.length) {
      list.length = 0;
      this.queuedHead[rw] = 0;
    }
    return item;
  }
}

/** struct throtl_data: a queue's throttling state (q->td). */
export class ThrotlData {
  /** Groups with io.max on this queue, by memory cgroup id (the cgroup's css id). */
  readonly groups: (ThrotlGrp | undefined)[] = [];
  /** td->service_queue's pending tree: groups with queued bios, by disptime. */
  readonly pendingTree: ThrotlGrp[] = [];
  /** The pending timer's expiry (jiffies), or -1 when not armed. */
  timerExpires = -1;
  /** Bumped on every (re)arm, so an older timer event is a no-op (mod_timer). */
  timerGen = 0;
  /** Bios dispatched to the top level, waiting for kthrotld's work to submit them. */
  readonly dispatchList: ThrotlQueued[] = [];
  worker: Task | undefined;
  workerAsleep = false;
  workPending = false;

  constructor(
    readonly k: Kernel,
    readonly q: RequestQueue,
  ) {}

  jiffies(): number {
    return Math.floor(this.k.env.nowNs / NS_PER_JIFFY);
  }
}

/** tg_set_limit: a group's io.max on a queue (the queue gets its throtl_data on first use). */
export function throtlSetLimits(k: Kernel, q: RequestQueue, memcg: MemCgroup, limits: IoMaxLimits): ThrotlGrp {
  let td = q.throtl;
  if (td === undefined) {
    td = new ThrotlData(k, q);
    q.throtl = td;
  }
  const tg = new ThrotlGrp(memcg, limits);
  td.groups[memcg.id] = tg;
  return tg;
}

/** Starts the queue's dispatch worker (the kthrotld work's kworker). */
export function throtlStartWorker(td: ThrotlData, spawn: (comm: string, body: (t: Task) => Generator<number, void, void>) => Task): void {
  td.worker = spawn('kthrotld', (t) => throtlDispatchWork(td, t));
}

/** throtl_bio_data_size */
function bioBytes(bio: Bio): number {
  return bio.nrSectors * 512;
}

/** throtl_start_new_slice */
function startNewSlice(tg: ThrotlGrp, rw: number, now: number): void {
  tg.bytesDisp[rw] = 0;
  tg.ioDisp[rw] = 0;
  tg.sliceStart[rw] = now;
  tg.sliceEnd[rw] = now + THROTL_SLICE_JIFFIES;
}

/** throtl_set_slice_end / throtl_extend_slice: slices end on a slice boundary. */
function setSliceEnd(tg: ThrotlGrp, rw: number, end: number): void {
  tg.sliceEnd[rw] = Math.ceil(end / THROTL_SLICE_JIFFIES) * THROTL_SLICE_JIFFIES;
}

/** throtl_slice_used: now is outside [slice_start, slice_end]. */
function sliceUsed(tg: ThrotlGrp, rw: number, now: number): boolean {
  return now < tg.sliceStart[rw]! || now > tg.sliceEnd[rw]!;
}

function roundUp(x: number, step: number): number {
  return Math.ceil(x / step) * step;
}

/** tg_within_bps_limit: 0, or the jiffies until the bytes fit. */
function bpsWait(tg: ThrotlGrp, rw: number, bytes: number, now: number): number {
  const bps = tg.bps[rw]!;
  if (bps === THROTL_UNLIMITED || bytes === 0) return 0;
  const elapsed = now - tg.sliceStart[rw]!;
  // a slice that has just started counts as one whole slice
  const elapsedRnd = roundUp(elapsed === 0 ? THROTL_SLICE_JIFFIES : elapsed, THROTL_SLICE_JIFFIES);
  const allowed = Math.floor((bps * elapsedRnd) / HZ);
  if (tg.bytesDisp[rw]! + bytes <= allowed) return 0;
  const extra = tg.bytesDisp[rw]! + bytes - allowed;
  const wait = Math.max(1, Math.floor((extra * HZ) / bps));
  return wait + (elapsedRnd - elapsed);
}

/** tg_within_iops_limit: 0, or the jiffies until the rounded-up slice ends. */
function iopsWait(tg: ThrotlGrp, rw: number, now: number): number {
  const iops = tg.iops[rw]!;
  if (iops === THROTL_UNLIMITED) return 0;
  const elapsed = now - tg.sliceStart[rw]!;
  const elapsedRnd = roundUp(elapsed + 1, THROTL_SLICE_JIFFIES);
  const allowed = Math.floor((iops * elapsedRnd) / HZ);
  if (tg.ioDisp[rw]! + 1 <= allowed) return 0;
  return elapsedRnd - elapsed;
}

/**
 * tg_may_dispatch: whether `item` (the bio at the head of its direction, or a new one when nothing
 * waits) fits the budget now; else the jiffies to wait, with the slice extended to cover them.
 */
function mayDispatch(tg: ThrotlGrp, rw: number, bytes: number, now: number): number {
  if (tg.bps[rw] === THROTL_UNLIMITED && tg.iops[rw] === THROTL_UNLIMITED) return 0;
  // a used-up slice with nothing waiting starts afresh; else make it last at least one more slice
  if (sliceUsed(tg, rw, now) && tg.nrQueued(rw) === 0) startNewSlice(tg, rw, now);
  else if (tg.sliceEnd[rw]! < now + THROTL_SLICE_JIFFIES) setSliceEnd(tg, rw, now + THROTL_SLICE_JIFFIES);
  const wait = Math.max(bpsWait(tg, rw, bytes, now), iopsWait(tg, rw, now));
  if (wait === 0) return 0;
  if (tg.sliceEnd[rw]! < now + wait) setSliceEnd(tg, rw, now + wait);
  return wait;
}

/** throtl_charge_bio */
function chargeBio(tg: ThrotlGrp, rw: number, bytes: number): void {
  tg.bytesDisp[rw]! += bytes;
  tg.ioDisp[rw]!++;
  const s = tg.stats[rw]!;
  s.bytes += bytes;
  s.ios++;
}

/**
 * throtl_trim_slice: once two whole slices have passed, move the slice start forward by all but
 * one of them and take what that time allowed off the usage, so an idle past does not bank budget.
 */
function trimSlice(tg: ThrotlGrp, rw: number, now: number): void {
  if (sliceUsed(tg, rw, now)) return;
  setSliceEnd(tg, rw, now + THROTL_SLICE_JIFFIES);
  let elapsed = Math.floor((now - tg.sliceStart[rw]!) / THROTL_SLICE_JIFFIES) * THROTL_SLICE_JIFFIES;
  if (elapsed < 2 * THROTL_SLICE_JIFFIES) return;
  elapsed -= THROTL_SLICE_JIFFIES;
  const bps = tg.bps[rw]!;
  const iops = tg.iops[rw]!;
  const bytesTrim = bps === THROTL_UNLIMITED ? 0 : Math.floor((bps * elapsed) / HZ);
  const ioTrim = iops === THROTL_UNLIMITED ? 0 : Math.floor((iops * elapsed) / HZ);
  if (bytesTrim <= 0 && ioTrim <= 0) return;
  tg.bytesDisp[rw] = Math.max(0, tg.bytesDisp[rw]! - bytesTrim);
  tg.ioDisp[rw] = Math.max(0, tg.ioDisp[rw]! - ioTrim);
  tg.sliceStart[rw]! += elapsed;
}

/**
 * blk_throtl_bio: true when the bio was queued (the caller stops; kthrotld submits it later), false
 * when it may go on now (charged). `bpsCharged`: a split remainder whose bytes were charged already.
 */
export function blkThrotlBio(td: ThrotlData, bio: Bio, bpsCharged: boolean): boolean {
  const memcg = bio.blkcg;
  if (memcg === undefined) return false;
  const tg = td.groups[memcg.id];
  if (tg === undefined || bio.op === ReqOp.FLUSH || bio.nrSectors === 0) return false;
  const rw = bio.op === ReqOp.WRITE ? WRITE : READ;
  const now = td.jiffies();
  const bytes = bpsCharged ? 0 : bioBytes(bio);
  // throtl is FIFO: behind queued bios a new one queues too
  if (tg.nrQueued(rw) === 0 && mayDispatch(tg, rw, bytes, now) === 0) {
    chargeBio(tg, rw, bytes);
    trimSlice(tg, rw, now);
    return false;
  }
  // THROTL_TG_WAS_EMPTY: a first bio in its direction can move the group's dispatch time earlier
  const wasEmpty = tg.nrQueued(rw) === 0;
  const item: ThrotlQueued = { bio, bpsCharged, queuedNs: td.k.env.nowNs };
  tg.queued[rw]!.push(item);
  tg.stats[rw]!.throttledBios++;
  const k = td.k;
  if (k.tp.throtl_bio_queue.enabled) k.tp.throtl_bio_queue.emit(k.sched.ctxCpu, bio.ioId, bio, tg.memcg.name, tg.bytesDisp[rw]!, tg.ioDisp[rw]!, tg.nrQueued(rw));
  // the group (re)joins the pending tree at its new disptime and the timer is armed for the first
  if (wasEmpty) {
    updateDisptime(td, tg, now);
    scheduleNextDispatch(td, true, now);
  }
  return true;
}

/** tg_update_disptime: the group's earliest dispatch time over both directions; re-sorts the tree. */
function updateDisptime(td: ThrotlData, tg: ThrotlGrp, now: number): void {
  let wait = Infinity;
  for (let rw = READ; rw <= WRITE; rw++) {
    const head = tg.peek(rw);
    if (head) wait = Math.min(wait, mayDispatch(tg, rw, head.bpsCharged ? 0 : bioBytes(head.bio), now));
  }
  tg.disptime = now + wait;
  const tree = td.pendingTree;
  if (tg.pending) tree.splice(tree.indexOf(tg), 1);
  tg.pending = true;
  let i = tree.length;
  while (i > 0 && tree[i - 1]!.disptime > tg.disptime) i--;
  tree.splice(i, 0, tg);
}

function dequeueTg(td: ThrotlData, tg: ThrotlGrp): void {
  if (!tg.pending) return;
  td.pendingTree.splice(td.pendingTree.indexOf(tg), 1);
  tg.pending = false;
}

/**
 * throtl_schedule_next_dispatch: arm the pending timer for the first group's disptime. Returns
 * false when that time has come already (the caller dispatches again now).
 */
function scheduleNextDispatch(td: ThrotlData, force: boolean, now: number): boolean {
  const first = td.pendingTree[0];
  if (first === undefined) return true;
  if (force || first.disptime > now) {
    const expires = Math.max(first.disptime, now + 1);
    if (td.timerExpires !== expires) {
      td.timerExpires = expires;
      const gen = ++td.timerGen;
      td.k.env.at(expires * NS_PER_JIFFY, Priority.NORMAL, pendingTimerFn, { td, gen });
    }
    return true;
  }
  return false;
}

/** throtl_dispatch_tg: up to 6 reads and 2 writes while they fit. */
function dispatchTg(td: ThrotlData, tg: ThrotlGrp, now: number): number {
  const maxReads = (THROTL_GRP_QUANTUM * 3) / 4;
  const maxWrites = THROTL_GRP_QUANTUM - maxReads;
  let n = 0;
  for (let rw = READ; rw <= WRITE; rw++) {
    const max = rw === READ ? maxReads : maxWrites;
    let done = 0;
    for (let head = tg.peek(rw); head !== undefined && done < max; head = tg.peek(rw)) {
      const bytes = head.bpsCharged ? 0 : bioBytes(head.bio);
      if (mayDispatch(tg, rw, bytes, now) !== 0) break;
      // tg_dispatch_one_bio: charge, hand to the top level, trim
      tg.pop(rw);
      chargeBio(tg, rw, bytes);
      const waitedNs = td.k.env.nowNs - head.queuedNs;
      tg.stats[rw]!.throttledNs += waitedNs;
      const k = td.k;
      if (k.tp.throtl_bio_dispatch.enabled) k.tp.throtl_bio_dispatch.emit(k.sched.ctxCpu, head.bio.ioId, head.bio, tg.memcg.name, waitedNs);
      td.dispatchList.push(head);
      trimSlice(tg, rw, now);
      done++;
    }
    n += done;
  }
  return n;
}

/** throtl_select_dispatch: groups whose disptime has come, THROTL_QUANTUM bios at most. */
function selectDispatch(td: ThrotlData, now: number): number {
  let nr = 0;
  for (;;) {
    const tg = td.pendingTree[0];
    if (tg === undefined || tg.disptime > now) break;
    nr += dispatchTg(td, tg, now);
    if (tg.nrQueued(READ) + tg.nrQueued(WRITE) > 0) updateDisptime(td, tg, now);
    else dequeueTg(td, tg);
    if (nr >= THROTL_QUANTUM) break;
  }
  return nr;
}

/** throtl_pending_timer_fn: dispatch while the window is open, then queue kthrotld's work. */
function pendingTimerFn(arg: { td: ThrotlData; gen: number }): void {
  const td = arg.td;
  if (arg.gen !== td.timerGen) return;
  td.timerExpires = -1;
  const now = td.jiffies();
  let dispatched = 0;
  for (;;) {
    dispatched += selectDispatch(td, now);
    if (scheduleNextDispatch(td, false, now)) break;
  }
  if (dispatched > 0) queueDispatchWork(td);
}

/** queue_work(kthrotld_workqueue, &td->dispatch_work) */
function queueDispatchWork(td: ThrotlData): void {
  td.workPending = true;
  const w = td.worker;
  if (w !== undefined && td.workerAsleep) {
    td.workerAsleep = false;
    td.k.sched.tryToWakeUp(w, td.k.sched.cpu(w.cpu), 0);
  }
}

/**
 * blk_throtl_dispatch_work_fn: submit the dispatched bios under one plug, past the throttle
 * (submit_bio_noacct_nocheck); a remainder split off one re-enters the throttle for its I/O.
 */
function* throtlDispatchWork(td: ThrotlData, t: Task): Generator<number, void, void> {
  const k = td.k;
  for (;;) {
    while (!td.workPending) {
      td.workerAsleep = true;
      t.state = TaskState.INTERRUPTIBLE;
      yield* ioSchedule(k, t);
    }
    td.workPending = false;
    td.workerAsleep = false;
    if (td.dispatchList.length === 0) continue;
    blkStartPlug(t);
    const list = td.dispatchList.splice(0);
    for (const item of list) yield* submitBioNocheck(k, t, td.q, item.bio);
    const ns = blkFinishPlug(k, t);
    if (ns > 0) yield ns;
  }
}
