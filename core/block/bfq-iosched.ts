// Models: block/bfq-iosched.c, block/bfq-wf2q.c and block/bfq-cgroup.c (Documentation/block/bfq-iosched.rst):
// the Budget Fair Queueing scheduler. Each process gets a queue; the device is granted to one queue
// at a time for a budget of sectors, chosen among the queues by B-WF2Q+ in the service domain with
// the queues' weights; a sync queue that empties keeps the device for slice_idle waiting for its
// next request; budgets follow the queue's behaviour (budget feedback); low_latency raises the
// weight of interactive and soft real-time queues. cgroups are one level of groups (io.weight).

import { ReqFlag, ReqOp } from './blk_types.js';
import type { Bio } from './blk_types.js';
import { ElvMerge } from './blkdev.js';
import type { BfqExpireReason, ElevatorHost, ElevatorMqOps, IoContext, Request } from './blkdev.js';
import { bioMergeable, bioMergeCandidateOk, rqMergeable, tryMerge } from './blk-merge.js';
import { ELEVATOR_BFQ_NS } from '../hw/cpu.js';

/** The sysfs knobs of /sys/block/<dev>/queue/iosched/ for bfq (times in ns). */
export interface BfqTunables {
  /** fifo_expire_sync / fifo_expire_async: a request's deadline in its queue's FIFO (125 / 250 ms). */
  readonly fifoExpireSyncNs: number;
  readonly fifoExpireAsyncNs: number;
  /** back_seek_max (KiB): the farthest backward seek bfq_choose_req considers (16384). */
  readonly backSeekMaxKb: number;
  /** back_seek_penalty: a backward seek counts this many times its distance (2). */
  readonly backSeekPenalty: number;
  /** slice_idle: how long an emptied sync queue keeps the device for its next request (8 ms). */
  readonly sliceIdleNs: number;
  /** max_budget (sectors): 0 autotunes in Linux; here the compile-time default 16384 is used. */
  readonly maxBudget: number;
  /** timeout_sync: the longest a queue keeps the device per budget (HZ / 8 = 125 ms). */
  readonly timeoutSyncNs: number;
  /** low_latency: weight raising for interactive and soft real-time queues (1). */
  readonly lowLatency: boolean;
  /** strict_guarantees: idle always, for exact service guarantees (0). */
  readonly strictGuarantees: boolean;
}

export const BFQ_DEFAULTS: BfqTunables = Object.freeze({
  fifoExpireSyncNs: 125_000_000,
  fifoExpireAsyncNs: 250_000_000,
  backSeekMaxKb: 16 * 1024,
  backSeekPenalty: 2,
  sliceIdleNs: 8_000_000,
  maxBudget: 0,
  timeoutSyncNs: 125_000_000,
  lowLatency: true,
  strictGuarantees: false,
});

/** bfq_default_max_budget: 16K sectors. */
export const BFQ_DEFAULT_MAX_BUDGET = 16 * 1024;
/** IOPRIO_NR_LEVELS and BFQ_WEIGHT_CONVERSION_COEFF: weight = (8 - ioprio) * 10. */
const IOPRIO_NR_LEVELS = 8;
const BFQ_WEIGHT_CONVERSION_COEFF = 10;
/** BFQ_DEFAULT_GRP_WEIGHT: a cgroup's io.weight when not set. */
export const BFQ_DEFAULT_GRP_WEIGHT = 100;
/** bfq_async_charge_factor: async service counts 3x when no queue is favoured. */
const BFQ_ASYNC_CHARGE_FACTOR = 3;
/** bfq_wr_coeff and the soft real-time / interactive parameters (low_latency). */
export const BFQ_WR_COEFF = 30;
const BFQ_WR_RT_MAX_TIME_NS = 300_000_000;
const BFQ_WR_MIN_IDLE_TIME_NS = 2_000_000_000;
const BFQ_WR_MAX_SOFTRT_RATE = 7000; // sectors per second
/**
 * bfq_wr_duration clamps ref_rate * ref_wr_duration / peak_rate to [3 s, 25 s].
 * SIMPLIFICATION: no peak-rate estimator, so an interactive queue is raised for the 3 s floor.
 */
const BFQ_WR_INTERACTIVE_NS = 3_000_000_000;
/** Burst detection: bfq_burst_interval (180 ms) and bfq_large_burst_thresh (8 queues). */
const BFQ_BURST_INTERVAL_NS = 180_000_000;
const BFQ_LARGE_BURST_THRESH = 8;
/** BFQQ_SEEK_THR: a request farther than 800 sectors from the last is seeky; a queue with more than 4 of its last 32 seeky is. */
const BFQQ_SEEK_THR = 8 * 100;
/** bfq_requests_within_timer: requests arriving within 3 slice_idles before a queue counts as I/O-bound again. */
const BFQ_REQUESTS_WITHIN_TIMER = 120;
/** Think-time samples before the mean is trusted (bfq_sample_valid: > 80). */
const BFQ_TTIME_VALID_SAMPLES = 80;

/** A B-WF2Q+ scheduling entity: a queue, or a group of queues (a cgroup). */
class BfqEntity {
  /** Weight in use (orig_weight times wr_coeff for a raised queue). */
  weight: number;
  /** Virtual start and finish times (service / weight units). */
  start = 0;
  finish = 0;
  /** Sectors this entity may get in its current slot, and those it got. */
  budget = 0;
  service = 0;
  /** On its parent's active list (busy), or kept on the idle list until vtime passes its finish. */
  active = false;
  idle = false;

  constructor(
    weight: number,
    /** The sched data it is scheduled in (its parent group's). */
    readonly sd: BfqSchedData,
    /** The group it belongs to (undefined: the root group). */
    readonly parent: BfqGroup | undefined,
  ) {
    this.weight = weight;
  }
}

/** struct bfq_sched_data + its service tree (one class, BE). */
class BfqSchedData {
  vtime = 0;
  /** Sum of the weights of active and idle-but-not-yet-forgotten entities. */
  wsum = 0;
  readonly activeList: BfqEntity[] = [];
  readonly idleList: BfqEntity[] = [];
  inService: BfqEntity | undefined;
}

/** struct bfq_group: a cgroup's entity in the root, and the sched data its queues compete in. */
class BfqGroup extends BfqEntity {
  readonly own = new BfqSchedData();
  /** Busy queues in the group (num_groups_with_pending_reqs counts groups with any). */
  busyQueues = 0;

  constructor(
    readonly path: string,
    weight: number,
    root: BfqSchedData,
  ) {
    super(weight, root, undefined);
  }
}

/** struct bfq_queue: a process's sync queue, or the shared async queue of a group. */
class BfqQueue extends BfqEntity {
  /** Requests sorted by sector (sort_list) and in arrival order (fifo). */
  readonly sorted: Request[] = [];
  readonly fifo: Request[] = [];
  nextRq: Request | undefined;
  /** Requests dispatched and not completed. */
  dispatched = 0;
  maxBudget: number;
  readonly origWeight: number;
  /** Budget timeout of the current slot (jiffies in Linux); far in the past for a new queue. */
  budgetTimeoutNs = -Infinity;
  /** When the slot began (for the time charge of slow queues). */
  slotStartNs = 0;
  fifoExpireChecked = false;
  /** Idling: the slice timer deadline while the queue waits for its next request (0: not waiting). */
  waitRequestUntilNs = 0;
  seekHistory = 0;
  lastRequestPos = 0;
  ttimeSamples = 0;
  ttimeTotal = 0;
  ttimeMeanNs = 0;
  lastEndRequestNs = 0;
  hasShortTtime: boolean;
  ioBound = true;
  requestsWithinTimer = 0;
  wrCoeff = 1;
  wrCurMaxTimeNs = 0;
  lastWrStartFinishNs = 0;
  softRtNextStartNs = 0;
  lastIdleBackloggedNs = 0;
  serviceFromBacklogged = 0;
  softRtUpdate = false;
  justCreated = true;
  inLargeBurst = false;

  constructor(
    /** The bfq instance it belongs to (rq->elv.priv points at the queue). */
    readonly owner: object,
    readonly pid: number,
    readonly sync: boolean,
    ioprio: number,
    sd: BfqSchedData,
    parent: BfqGroup | undefined,
    maxBudget: number,
  ) {
    super((IOPRIO_NR_LEVELS - ioprio) * BFQ_WEIGHT_CONVERSION_COEFF, sd, parent);
    this.origWeight = this.weight;
    this.maxBudget = maxBudget;
    this.hasShortTtime = sync;
  }

  get busy(): boolean {
    return this.sorted.length > 0;
  }
}

/** bfq_sample_valid */
function sampleValid(samples: number): boolean {
  return samples > BFQ_TTIME_VALID_SAMPLES;
}

/** hweight32 */
function popcount32(x: number): number {
  let v = x >>> 0;
  let n = 0;
  while (v !== 0) {
    v &= v - 1;
    n++;
  }
  return n;
}

/**
 * Creates one bfq instance for a request queue.
 *
 * SIMPLIFICATION: one I/O priority class (BE), every task at level 4 (weight 40) as the model has
 * no ioprio_set; no idle class, no RT class. A cgroup is one group level under the root
 * (io.weight, default 100); nested cgroups are not.
 * SIMPLIFICATION: no queue merging (cooperating queues, stable merge), no injection of other
 * queues' I/O while idling, no preemption of the queue in service by a newly raised one, and no
 * peak-rate estimate: max_budget stays 16384 sectors unless set, wr durations use their floors.
 * SIMPLIFICATION: hw_tag (device queueing) is taken as present, as for NCQ and NVMe.
 * SIMPLIFICATION: a queue is "slow" (charged by time, not sectors) when it is seeky.
 */
export function createBfq(host: ElevatorHost, tunables?: Partial<BfqTunables>): ElevatorMqOps {
  const cfg: BfqTunables = { ...BFQ_DEFAULTS, ...tunables };
  for (const [name, v] of [
    ['fifoExpireSyncNs', cfg.fifoExpireSyncNs],
    ['fifoExpireAsyncNs', cfg.fifoExpireAsyncNs],
    ['backSeekMaxKb', cfg.backSeekMaxKb],
    ['backSeekPenalty', cfg.backSeekPenalty],
    ['sliceIdleNs', cfg.sliceIdleNs],
    ['maxBudget', cfg.maxBudget],
    ['timeoutSyncNs', cfg.timeoutSyncNs],
  ] as const) {
    if (!Number.isFinite(v) || v < 0) throw new RangeError(`bfq: ${name} must be >= 0, got ${v}`);
  }
  const maxBudget = cfg.maxBudget > 0 ? cfg.maxBudget : BFQ_DEFAULT_MAX_BUDGET;
  /** bfq_min_budget */
  const minBudget = Math.floor(maxBudget / 32);
  const backSeekMaxSectors = cfg.backSeekMaxKb * 2;
  const owner = {};
  const root = new BfqSchedData();
  const groups = new Map<string, BfqGroup>();
  /** bic->bfqq[sync]: sync queues per pid; async queues per group (bfqg->async_bfqq). */
  const syncQueues = new Map<number, BfqQueue>();
  const asyncQueues = new Map<string, BfqQueue>();
  let inService: BfqQueue | undefined;
  let queued = 0;
  /** bfqd->last_position: where the head is after the last dispatched request. */
  let lastPosition = 0;
  let busyQueues = 0;
  let wrBusyQueues = 0;
  /** Burst detection state. */
  let lastInsInBurstNs = -Infinity;
  let burstSize = 0;
  let largeBurst = false;
  let burstList: BfqQueue[] = [];
  /** When an idle wait ends, dispatch must look again (the slice timer). */
  let sliceTimerArmedFor = 0;
  let exited = false;
  let dispatchedTotal = 0;

  const now = (): number => host.nowNs();

  // ---- B-WF2Q+ (bfq-wf2q.c) ----

  /** bfq_forget_idle: idle entities whose finish vtime has passed stop counting in wsum. */
  function forgetIdle(sd: BfqSchedData): void {
    for (let i = sd.idleList.length - 1; i >= 0; i--) {
      const e = sd.idleList[i]!;
      if (e.finish <= sd.vtime) {
        sd.idleList.splice(i, 1);
        e.idle = false;
        sd.wsum -= e.weight;
      }
    }
  }

  /** bfq_calc_finish */
  function calcFinish(e: BfqEntity, service: number): void {
    e.finish = e.start + service / e.weight;
  }

  /** __bfq_activate_entity: an idle entity starts at max(vtime, its old finish); a requeued one where it stopped. */
  function activateEntity(e: BfqEntity, requeue: boolean): void {
    const sd = e.sd;
    if (requeue) {
      calcFinish(e, e.service);
      e.start = e.finish;
    } else if (!e.active) {
      if (e.idle) {
        sd.idleList.splice(sd.idleList.indexOf(e), 1);
        e.idle = false;
      } else {
        sd.wsum += e.weight;
      }
      e.start = Math.max(sd.vtime, e.finish);
    }
    e.service = 0;
    calcFinish(e, e.budget);
    if (!e.active) {
      e.active = true;
      sd.activeList.push(e);
    }
  }

  /** __bfq_deactivate_entity: off the active list; kept idle while its finish is ahead of vtime. */
  function deactivateEntity(e: BfqEntity): void {
    const sd = e.sd;
    if (!e.active) return;
    e.active = false;
    sd.activeList.splice(sd.activeList.indexOf(e), 1);
    if (sd.inService === e) sd.inService = undefined;
    calcFinish(e, e.service);
    if (e.finish > sd.vtime) {
      e.idle = true;
      sd.idleList.push(e);
    } else {
      sd.wsum -= e.weight;
    }
  }

  /** bfq_lookup_next_entity: advance vtime to the first start if none is eligible, then the eligible entity with the least finish. */
  function lookupNext(sd: BfqSchedData): BfqEntity | undefined {
    const list = sd.activeList;
    if (list.length === 0) return undefined;
    let minStart = Infinity;
    for (const e of list) if (e.start < minStart) minStart = e.start;
    if (minStart > sd.vtime) {
      sd.vtime = minStart;
      forgetIdle(sd);
    }
    let best: BfqEntity | undefined;
    for (const e of list) {
      if (e.start > sd.vtime) continue;
      if (best === undefined || e.finish < best.finish) best = e;
    }
    return best;
  }

  /** bfq_bfqq_served: charge `served` sectors to the queue and its group, advancing each level's vtime. */
  function served(bfqq: BfqQueue, sectors: number): void {
    for (let e: BfqEntity | undefined = bfqq; e !== undefined; e = e.parent) {
      e.service += sectors;
      const sd = e.sd;
      if (sd.wsum > 0) sd.vtime += sectors / sd.wsum;
      forgetIdle(sd);
    }
  }

  // ---- queues and groups ----

  function groupOf(ctx: IoContext): BfqGroup | undefined {
    if (ctx.cgroup === '') return undefined;
    let g = groups.get(ctx.cgroup);
    if (g === undefined) {
      g = new BfqGroup(ctx.cgroup, ctx.cgroupWeight, root);
      groups.set(ctx.cgroup, g);
    }
    return g;
  }

  /** bfq_get_queue (bic_to_bfqq / bfq_async_queue_prio). */
  function queueFor(rq: Request): BfqQueue {
    const sync = isSync(rq);
    if (sync) {
      const q = syncQueues.get(rq.submitterPid);
      if (q !== undefined) return q;
    }
    const ctx = host.ioContext(rq);
    const g = groupOf(ctx);
    const key = g?.path ?? '';
    if (!sync) {
      const q = asyncQueues.get(key);
      if (q !== undefined) return q;
    }
    // bfq_init_bfqq: a tentative first budget of 2/3 of the maximum
    const q = new BfqQueue(owner, ctx.pid, sync, ctx.ioprio, g?.own ?? root, g, Math.floor((2 * maxBudget) / 3));
    if (sync) syncQueues.set(rq.submitterPid, q);
    else asyncQueues.set(key, q);
    return q;
  }

  /** rq_is_sync: reads and REQ_SYNC writes. */
  function isSync(rq: Request): boolean {
    return rq.op === ReqOp.READ || (rq.cmdFlags & ReqFlag.SYNC) !== 0;
  }

  function privOf(rq: Request): BfqQueue | undefined {
    const p = rq.elvPriv;
    return p instanceof BfqQueue && p.owner === owner ? p : undefined;
  }

  /**
   * bfq_asymmetric_scenario: more than one cgroup with pending requests (the root group is not
   * counted), or busy queues of different weights unless `bfqq` has the smallest.
   */
  function asymmetricScenario(bfqq?: BfqQueue): boolean {
    let groupsBusy = 0;
    for (const g of groups.values()) if (g.busyQueues > 0) groupsBusy++;
    if (groupsBusy > 1) return true;
    let minW = Infinity;
    let maxW = 0;
    for (const q of [...syncQueues.values(), ...asyncQueues.values()]) {
      if (!q.active) continue;
      if (q.weight < minW) minW = q.weight;
      if (q.weight > maxW) maxW = q.weight;
    }
    return maxW > minW && (bfqq === undefined || bfqq.weight !== minW);
  }

  /** bfq_serv_to_charge: async requests count 3x unless some queue is favoured. */
  function servToCharge(rq: Request, bfqq: BfqQueue): number {
    if (bfqq.sync || bfqq.wrCoeff > 1 || asymmetricScenario(bfqq)) return rq.nrSectors;
    return rq.nrSectors * BFQ_ASYNC_CHARGE_FACTOR;
  }

  function budgetLeft(bfqq: BfqQueue): number {
    return bfqq.budget - bfqq.service;
  }

  // ---- request selection within a queue (bfq_choose_req, bfq_find_next_rq) ----

  /** bfq_choose_req: the nearer of two requests to `last`, a backward seek counting back_seek_penalty times. */
  function chooseReq(r1: Request | undefined, r2: Request | undefined, last: number): Request | undefined {
    if (r1 === undefined || r1 === r2) return r2;
    if (r2 === undefined) return r1;
    const s1 = r1.sector;
    const s2 = r2.sector;
    let d1 = 0;
    let d2 = 0;
    let wrap1 = false;
    let wrap2 = false;
    if (s1 >= last) d1 = s1 - last;
    else if (s1 + backSeekMaxSectors >= last) d1 = (last - s1) * cfg.backSeekPenalty;
    else wrap1 = true;
    if (s2 >= last) d2 = s2 - last;
    else if (s2 + backSeekMaxSectors >= last) d2 = (last - s2) * cfg.backSeekPenalty;
    else wrap2 = true;
    if (!wrap1 && !wrap2) {
      if (d1 < d2) return r1;
      if (d2 < d1) return r2;
      return s1 >= s2 ? r1 : r2;
    }
    if (wrap1 && wrap2) return s1 <= s2 ? r1 : r2; // both behind: start with the farther back
    return wrap1 ? r2 : r1;
  }

  /** Index of rq in bfqq.sorted (binary search on sector, then scan equals). */
  function sortedIndex(bfqq: BfqQueue, rq: Request): number {
    const a = bfqq.sorted;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]!.sector < rq.sector) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < a.length && a[i]!.sector === rq.sector; i++) if (a[i] === rq) return i;
    return -1;
  }

  function sortedInsert(bfqq: BfqQueue, rq: Request): void {
    const a = bfqq.sorted;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (a[mid]!.sector <= rq.sector) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, rq);
  }

  /** bfq_check_fifo: once per slot, an expired FIFO head goes first. */
  function checkFifo(bfqq: BfqQueue, last: Request): Request | undefined {
    if (bfqq.fifoExpireChecked) return undefined;
    bfqq.fifoExpireChecked = true;
    const rq = bfqq.fifo[0];
    if (rq === undefined || rq === last || now() < rq.fifoTimeNs) return undefined;
    return rq;
  }

  /** bfq_find_next_rq: after `last` leaves, the FIFO head if expired, else the nearer of its neighbours. */
  function findNextRq(bfqq: BfqQueue, last: Request, index: number): Request | undefined {
    const fifo = checkFifo(bfqq, last);
    if (fifo !== undefined) return fifo;
    const a = bfqq.sorted;
    const prev = index > 0 ? a[index - 1] : undefined;
    let next = index + 1 < a.length ? a[index + 1] : undefined;
    if (next === undefined && a.length > 0 && a[0] !== last) next = a[0];
    return chooseReq(next, prev, last.sector + last.nrSectors);
  }

  /** bfq_remove_request: off the sort list and the FIFO, fixing next_rq. */
  function removeRequest(bfqq: BfqQueue, rq: Request): void {
    const i = sortedIndex(bfqq, rq);
    if (bfqq.nextRq === rq) bfqq.nextRq = findNextRq(bfqq, rq, i);
    if (i >= 0) bfqq.sorted.splice(i, 1);
    const f = bfqq.fifo.indexOf(rq);
    if (f >= 0) bfqq.fifo.splice(f, 1);
    if (bfqq.nextRq === rq) bfqq.nextRq = undefined;
    if (bfqq.sorted.length === 0) bfqq.nextRq = undefined;
    queued--;
    if (!bfqq.busy && bfqq !== inService && bfqq.active) delBusy(bfqq);
  }

  // ---- busy/idle switches (bfq_add_bfqq_busy, bfq_del_bfqq_busy) ----

  function addBusy(bfqq: BfqQueue): void {
    busyQueues++;
    if (bfqq.wrCoeff > 1) wrBusyQueues++;
    if (bfqq.parent) {
      if (bfqq.parent.busyQueues++ === 0) {
        bfqq.parent.budget = bfqq.budget;
        activateEntity(bfqq.parent, false);
      }
    }
    activateEntity(bfqq, false);
  }

  function delBusy(bfqq: BfqQueue): void {
    busyQueues--;
    if (bfqq.wrCoeff > 1) wrBusyQueues--;
    deactivateEntity(bfqq);
    if (bfqq.parent && --bfqq.parent.busyQueues === 0) deactivateEntity(bfqq.parent);
  }

  // ---- low_latency: weight raising ----

  function setWeight(bfqq: BfqQueue, w: number): void {
    if (bfqq.weight === w) return;
    const sd = bfqq.sd;
    if (bfqq.active || bfqq.idle) sd.wsum += w - bfqq.weight;
    bfqq.weight = w;
  }

  function startWr(bfqq: BfqQueue, durationNs: number, kind: 'interactive' | 'soft_rt'): void {
    if (bfqq.wrCoeff === 1 && bfqq.active) wrBusyQueues++;
    bfqq.wrCoeff = BFQ_WR_COEFF;
    bfqq.wrCurMaxTimeNs = durationNs;
    bfqq.lastWrStartFinishNs = now();
    setWeight(bfqq, bfqq.origWeight * BFQ_WR_COEFF);
    host.elvTrace.bfqWeightRaise(bfqq.pid, BFQ_WR_COEFF, durationNs, kind);
  }

  /** bfq_bfqq_end_wr */
  function endWr(bfqq: BfqQueue): void {
    if (bfqq.wrCoeff === 1) return;
    if (bfqq.active) wrBusyQueues--;
    bfqq.wrCoeff = 1;
    bfqq.lastWrStartFinishNs = now();
    setWeight(bfqq, bfqq.origWeight);
    host.elvTrace.bfqWeightRaise(bfqq.pid, 1, 0, 'end');
  }

  /** bfq_update_wr_data: a raised queue past its period goes back to its weight. */
  function updateWrData(bfqq: BfqQueue): void {
    if (bfqq.wrCoeff > 1 && (bfqq.inLargeBurst || now() - bfqq.lastWrStartFinishNs > bfqq.wrCurMaxTimeNs)) endWr(bfqq);
  }

  /** bfq_handle_burst: queues created within 180 ms of each other form a burst; 8 make it large. */
  function handleBurst(bfqq: BfqQueue): void {
    if (bfqq.inLargeBurst) return;
    const t = now();
    if (t > lastInsInBurstNs + BFQ_BURST_INTERVAL_NS) {
      largeBurst = false;
      burstList = [bfqq];
      burstSize = 1;
    } else if (largeBurst) {
      bfqq.inLargeBurst = true;
    } else {
      burstList.push(bfqq);
      if (++burstSize === BFQ_LARGE_BURST_THRESH) {
        largeBurst = true;
        for (const q of burstList) q.inLargeBurst = true;
        burstList = [];
      }
    }
    lastInsInBurstNs = t;
  }

  /** bfq_bfqq_handle_idle_busy_switch: an empty queue gets a request. */
  function idleBusySwitch(bfqq: BfqQueue, rq: Request): void {
    const t = now();
    if (bfqq.sync && bfqq.justCreated) handleBurst(bfqq);
    bfqq.justCreated = false;
    const idleForLongTime = bfqq.dispatched === 0 && t > bfqq.budgetTimeoutNs + BFQ_WR_MIN_IDLE_TIME_NS;
    const inBurst = bfqq.inLargeBurst;
    const softRt = BFQ_WR_MAX_SOFTRT_RATE > 0 && !inBurst && t > bfqq.softRtNextStartNs;
    const interactive = !inBurst && idleForLongTime;
    const arrivedInTime = t <= bfqq.lastEndRequestNs + cfg.sliceIdleNs * 3;
    if (cfg.lowLatency && bfqq.sync) {
      if (bfqq.wrCoeff === 1 && (interactive || softRt)) {
        startWr(bfqq, interactive ? BFQ_WR_INTERACTIVE_NS : BFQ_WR_RT_MAX_TIME_NS, interactive ? 'interactive' : 'soft_rt');
      } else if (bfqq.wrCoeff > 1 && interactive) {
        bfqq.wrCurMaxTimeNs = BFQ_WR_INTERACTIVE_NS;
        bfqq.lastWrStartFinishNs = t;
      }
    }
    if (!bfqq.ioBound) {
      if (arrivedInTime) {
        if (++bfqq.requestsWithinTimer >= BFQ_REQUESTS_WITHIN_TIMER) bfqq.ioBound = true;
      } else {
        bfqq.requestsWithinTimer = 0;
      }
    }
    bfqq.lastIdleBackloggedNs = t;
    bfqq.serviceFromBacklogged = 0;
    bfqq.softRtUpdate = false;
    bfqq.budget = Math.max(bfqq.maxBudget, servToCharge(rq, bfqq));
    addBusy(bfqq);
  }

  /** bfq_update_io_thinktime and bfq_update_io_seektime, on each request's arrival. */
  function updateStats(bfqq: BfqQueue, rq: Request): void {
    if (bfqq.sync && bfqq.lastEndRequestNs > 0 && bfqq.dispatched === 0 && !bfqq.busy) {
      const elapsed = Math.min(now() - bfqq.lastEndRequestNs, 2 * cfg.sliceIdleNs);
      bfqq.ttimeSamples = (7 * bfqq.ttimeSamples + 256) / 8;
      bfqq.ttimeTotal = (7 * bfqq.ttimeTotal + 256 * elapsed) / 8;
      bfqq.ttimeMeanNs = bfqq.ttimeTotal / bfqq.ttimeSamples;
    }
    const dist = Math.abs(rq.sector - bfqq.lastRequestPos);
    const seeky = dist > BFQQ_SEEK_THR;
    bfqq.seekHistory = ((bfqq.seekHistory << 1) | (seeky ? 1 : 0)) >>> 0;
    bfqq.lastRequestPos = rq.sector + rq.nrSectors;
    // bfq_update_has_short_ttime
    bfqq.hasShortTtime = bfqq.sync && cfg.sliceIdleNs > 0 && !(sampleValid(bfqq.ttimeSamples) && bfqq.ttimeMeanNs > cfg.sliceIdleNs / 2);
  }

  function seekyQueue(bfqq: BfqQueue): boolean {
    return popcount32(bfqq.seekHistory) > 32 / 8;
  }

  /** bfq_add_request + bfq_insert_request */
  function addRequest(rq: Request, atHead: boolean): void {
    const bfqq = queueFor(rq);
    rq.elvPriv = bfqq;
    updateStats(bfqq, rq);
    const wasBusy = bfqq.busy;
    sortedInsert(bfqq, rq);
    rq.fifoTimeNs = now() + (bfqq.sync ? cfg.fifoExpireSyncNs : cfg.fifoExpireAsyncNs);
    if (atHead) bfqq.fifo.unshift(rq);
    else bfqq.fifo.push(rq);
    queued++;
    bfqq.nextRq = chooseReq(bfqq.nextRq, rq, lastPosition);
    if (!wasBusy && bfqq !== inService && !bfqq.active) idleBusySwitch(bfqq, rq);
    else if (bfqq === inService && bfqq.waitRequestUntilNs > 0) bfqq.waitRequestUntilNs = 0; // bfq_rq_enqueued: stop idling
  }

  // ---- budgets and expiration ----

  /** __bfq_bfqq_recalc_budget: the budget feedback. */
  function recalcBudget(bfqq: BfqQueue, reason: BfqExpireReason): void {
    let budget = bfqq.maxBudget;
    if (bfqq.sync && bfqq.wrCoeff === 1) {
      switch (reason) {
        case 'too_idle':
          // the process issued no more I/O: cut its budget, unless requests are still out
          if (bfqq.dispatched > 0) budget = Math.min(budget * 2, maxBudget);
          else budget = budget > 5 * minBudget ? budget - 4 * minBudget : minBudget;
          break;
        case 'budget_timeout':
          budget = Math.min(budget * 2, maxBudget);
          break;
        case 'budget_exhausted':
          budget = Math.min(budget * 4, maxBudget);
          break;
        case 'no_more_requests':
          budget = Math.max(bfqq.service, minBudget);
          break;
        case 'preempted':
          break;
      }
    } else {
      // async and raised queues always get the maximum
      budget = maxBudget;
    }
    bfqq.maxBudget = budget;
    const next = bfqq.nextRq;
    bfqq.budget = next !== undefined ? Math.max(bfqq.maxBudget, servToCharge(next, bfqq)) : bfqq.maxBudget;
  }

  /** bfq_bfqq_softrt_next_start */
  function softRtNextStart(bfqq: BfqQueue): number {
    return Math.max(
      bfqq.softRtNextStartNs,
      bfqq.lastIdleBackloggedNs + (1e9 * bfqq.serviceFromBacklogged) / BFQ_WR_MAX_SOFTRT_RATE,
      now() + cfg.sliceIdleNs + 4_000_000,
    );
  }

  /** bfq_bfqq_expire: the queue gives up the device; its service is charged (by time when slow) and its next budget set. */
  function expire(bfqq: BfqQueue, reason: BfqExpireReason): void {
    const t = now();
    const slow = bfqq.sync && seekyQueue(bfqq);
    const serviceSectors = bfqq.service;
    const budgetSectors = bfqq.budget;
    if (cfg.strictGuarantees || slow || (reason === 'budget_timeout' && budgetLeft(bfqq) >= bfqq.budget / 3)) {
      // bfq_bfqq_charge_time: a slow queue pays for the device time it held
      const bounded = Math.min(t - bfqq.slotStartNs, cfg.timeoutSyncNs);
      const total = Math.max(Math.floor((maxBudget * bounded) / cfg.timeoutSyncNs), bfqq.service);
      if (total > bfqq.budget) bfqq.budget = total;
      if (total > bfqq.service) served(bfqq, total - bfqq.service);
    }
    if (reason === 'too_idle' && bfqq.service <= (2 * bfqq.budget) / 10) bfqq.ioBound = false;
    if (cfg.lowLatency && bfqq.wrCoeff === 1) bfqq.lastWrStartFinishNs = t;
    if (cfg.lowLatency && !bfqq.busy) {
      if (bfqq.dispatched === 0) bfqq.softRtNextStartNs = softRtNextStart(bfqq);
      else bfqq.softRtUpdate = true;
    }
    recalcBudget(bfqq, reason);
    host.elvTrace.bfqExpire(bfqq.pid, reason, serviceSectors, budgetSectors, bfqq.budget, bfqq.weight);
    // __bfq_bfqq_expire: requeue with the new budget, or leave the busy set
    inService = undefined;
    bfqq.waitRequestUntilNs = 0;
    bfqq.sd.inService = undefined;
    if (bfqq.parent) bfqq.parent.sd.inService = undefined;
    if (bfqq.busy) activateEntity(bfqq, true);
    else delBusy(bfqq);
    // the group that held the device is requeued behind the service it got
    const g = bfqq.parent;
    if (g !== undefined && g.active) {
      g.budget = bfqq.budget;
      activateEntity(g, true);
    }
  }

  /** bfq_get_next_queue + __bfq_set_in_service_queue */
  function setNextInService(): BfqQueue | undefined {
    let e = lookupNext(root);
    while (e instanceof BfqGroup) {
      root.inService = e;
      e = lookupNext(e.own);
    }
    if (!(e instanceof BfqQueue)) return undefined;
    e.sd.inService = e;
    const t = now();
    e.slotStartNs = t;
    e.fifoExpireChecked = false;
    e.waitRequestUntilNs = 0;
    // bfq_set_budget_timeout: a raised queue gets a longer slot
    e.budgetTimeoutNs = t + cfg.timeoutSyncNs * (e.weight / e.origWeight);
    updateWrData(e);
    inService = e;
    return e;
  }

  /** bfq_may_expire_for_budg_timeout */
  function mayExpireForBudgetTimeout(bfqq: BfqQueue): boolean {
    return now() >= bfqq.budgetTimeoutNs && (bfqq.waitRequestUntilNs === 0 || budgetLeft(bfqq) >= bfqq.budget / 3);
  }

  /** bfq_better_to_idle: keep the device for an emptied sync queue? */
  function betterToIdle(bfqq: BfqQueue): boolean {
    if (cfg.strictGuarantees) return true;
    if (cfg.sliceIdleNs === 0 || !bfqq.sync) return false;
    // idling_boosts_thr_without_issues: hw_tag set, so only for a sequential, I/O-bound queue on a disk
    const sequentialIoBound = !seekyQueue(bfqq) && bfqq.ioBound && bfqq.hasShortTtime;
    const boostsThr = host.rotational && sequentialIoBound && wrBusyQueues === 0;
    if (boostsThr) return true;
    // idling_needed_for_service_guarantees
    if (!bfqq.hasShortTtime) return false;
    return (bfqq.wrCoeff > 1 && wrBusyQueues < busyQueues) || asymmetricScenario(bfqq) || busyQueues === 1;
  }

  /** bfq_select_queue: keep the queue in service, idle for it, or expire it and pick the next. */
  function selectQueue(): BfqQueue | undefined {
    for (let guard = 0; guard < 1000; guard++) {
      const bfqq = inService;
      if (bfqq === undefined) return setNextInService();
      const t = now();
      if (mayExpireForBudgetTimeout(bfqq)) {
        expire(bfqq, 'budget_timeout');
        continue;
      }
      const next = bfqq.nextRq;
      if (next !== undefined) {
        if (servToCharge(next, bfqq) > budgetLeft(bfqq)) {
          expire(bfqq, 'budget_exhausted');
          continue;
        }
        bfqq.waitRequestUntilNs = 0;
        return bfqq;
      }
      // Empty: still waiting for the slice timer, or for in-flight requests before idling.
      if (bfqq.waitRequestUntilNs > 0) {
        if (t < bfqq.waitRequestUntilNs) return undefined;
        expire(bfqq, 'too_idle'); // bfq_idle_slice_timer
        continue;
      }
      if (bfqq.dispatched > 0 && betterToIdle(bfqq)) return undefined;
      expire(bfqq, 'no_more_requests');
    }
    return undefined;
  }

  /** __bfq_dispatch_request */
  function dispatchRequest(): Request | undefined {
    const bfqq = selectQueue();
    if (bfqq === undefined) return undefined;
    const rq = bfqq.nextRq!;
    const charge = servToCharge(rq, bfqq);
    removeRequest(bfqq, rq);
    served(bfqq, charge);
    bfqq.serviceFromBacklogged += rq.nrSectors;
    bfqq.dispatched++;
    dispatchedTotal++;
    lastPosition = rq.sector + rq.nrSectors;
    updateWrData(bfqq);
    return rq;
  }

  /** bfq_completed_request: think time, and idling or expiring an emptied queue in service. */
  function completedRequest(rq: Request, nowNs: number): void {
    const bfqq = privOf(rq);
    if (bfqq === undefined) return;
    rq.elvPriv = undefined;
    bfqq.dispatched--;
    dispatchedTotal--;
    bfqq.lastEndRequestNs = nowNs;
    if (bfqq.softRtUpdate && bfqq.dispatched === 0 && !bfqq.busy) bfqq.softRtNextStartNs = softRtNextStart(bfqq);
    if (exited || bfqq !== inService || bfqq.busy || bfqq.dispatched > 0) return;
    if (betterToIdle(bfqq)) {
      // bfq_arm_slice_timer
      bfqq.waitRequestUntilNs = nowNs + cfg.sliceIdleNs;
      armSliceTimer(bfqq.waitRequestUntilNs);
    } else {
      expire(bfqq, 'no_more_requests');
    }
  }

  function armSliceTimer(atNs: number): void {
    if (sliceTimerArmedFor === atNs) return;
    sliceTimerArmedFor = atNs;
    host.armTimer(atNs, sliceTimerFn);
  }

  /** bfq_idle_slice_timer: the wait is over; dispatch decides (too_idle) and picks the next queue. */
  function sliceTimerFn(): void {
    if (exited) return;
    const bfqq = inService;
    if (bfqq === undefined || bfqq.waitRequestUntilNs === 0 || now() < bfqq.waitRequestUntilNs) return;
    expire(bfqq, 'too_idle');
    host.runQueues();
  }

  // ---- merging (bfq_bio_merge, bfq_request_merge, bfq_requests_merged) ----

  function bioMerge(bio: Bio): boolean {
    if (!bioMergeable(bio)) return false;
    // bfq_bio_merge looks in the submitter's own queue (bic) only
    const bfqq = bio.op === ReqOp.READ || (bio.flags & ReqFlag.SYNC) !== 0 ? syncQueues.get(bio.submitterPid) : undefined;
    if (bfqq === undefined) return false;
    for (const rq of bfqq.sorted) {
      if (!bioMergeCandidateOk(rq, bio)) continue;
      const where = tryMerge(rq, bio);
      if (where === ElvMerge.NO_MERGE) continue;
      if (!host.bioMergeOk(rq, bio, where)) return false;
      host.mergeBio(rq, bio, where);
      if (where === ElvMerge.FRONT_MERGE) {
        // bfq_request_merged: the start moved; re-sort and recompute next_rq
        const i = sortedIndex(bfqq, rq);
        if (i >= 0) bfqq.sorted.splice(i, 1);
        sortedInsert(bfqq, rq);
        bfqq.nextRq = chooseReq(bfqq.nextRq, rq, lastPosition);
      }
      return true;
    }
    return false;
  }

  /** blk_mq_sched_try_insert_merge: a request adjacent to the end of a queued one of the same queue joins it. */
  function attemptInsertMerge(rq: Request): boolean {
    if (!rqMergeable(rq)) return false;
    const bfqq = isSync(rq) ? syncQueues.get(rq.submitterPid) : undefined;
    if (bfqq === undefined) return false;
    for (const prev of bfqq.sorted) {
      if (!rqMergeable(prev) || prev.op !== rq.op || prev.sector + prev.nrSectors !== rq.sector) continue;
      if (!host.requestMergeOk(prev, rq)) return false;
      host.mergeRequests(prev, rq);
      return true;
    }
    return false;
  }

  return {
    name: 'bfq',
    costNs: ELEVATOR_BFQ_NS,
    bioMerge,
    insertRequests(rqs: readonly Request[], atHead: boolean): void {
      for (const rq of rqs) {
        rq.elvPriv = undefined;
        if (attemptInsertMerge(rq)) continue;
        addRequest(rq, atHead);
      }
    },
    dispatchRequest,
    hasWork(): boolean {
      return queued > 0;
    },
    completedRequest,
    nextWakeNs(): number {
      return Infinity; // idling ends through the slice timer, which re-runs the queue
    },
    exit(): Request[] {
      exited = true;
      const out: Request[] = [];
      for (const q of [...syncQueues.values(), ...asyncQueues.values()]) out.push(...q.fifo);
      out.sort((a, b) => a.startTimeNs - b.startTimeNs);
      for (const rq of out) rq.elvPriv = undefined;
      queued = 0;
      return out;
    },
  };
}
