// Models: block/blk-mq.c, block/blk-mq-tag.c and block/blk-mq-sched.c: request queues with
// hardware contexts, preallocated requests per tag, bio -> request, insertion into the elevator
// (or direct issue with "none"), dispatch to the driver's ->queue_rq, and completion, with the
// disk's /proc/diskstats accounting (ios, merges, ticks: block/blk-core.c, block/genhd.c).
// SIMPLIFICATION: one tag set per hardware context serves as both scheduler and driver tags;
// the driver's queue depth bounds dispatch instead. Queue re-runs after completion happen in the
// completing context (Linux defers them to kblockd).

import type { Bio } from './blk_types.js';
import { BlkStatus, ReqFlag, ReqOp, blkStatusToErrno } from './blk_types.js';
import { ElvMerge, type BfqExpireReason, type ElevatorHost, type ElevatorMqOps, type ElevatorTrace, type IoContext, type QueueLimits, type Request } from './blkdev.js';
import { applyBioMerge, applyRequestMerge, bioMergeOk, countPhysSegments, requestMergeOk } from './blk-merge.js';
import type { TracedRequest } from '../trace/events.js';
import type { HitContext } from '../trace/probe.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Cpu } from '../kernel/sched/core.js';
import type { Waker } from '../sim/process.js';
import { SimBug } from '../sim/errors.js';
import { Priority } from '../sim/engine.js';
import { ELEVATOR_NONE_NS } from '../hw/cpu.js';
import { DEFAULT_RA_PAGES } from '../mm/readahead.js';
import type { ThrotlData } from './blk-throttle.js';
import { blkcgIolatencyDoneBios, type BlkIolatency } from './blk-iolatency.js';
import type { KDevice } from '../drivers/base/core.js';
import { RPM_ASYNC, RPM_AUTO, RpmStatus } from '../power/runtime.js';

const runTimerFn = (fn: () => void): void => fn();

/** CPU time spent by a piece of block-layer work, charged by whoever called it. */
export interface CpuCost {
  ns: number;
}

export type RqState = 'idle' | 'allocated' | 'queued' | 'in_flight';

/** A request as blk-mq owns it. */
export interface MqRequest extends TracedRequest {
  readonly q: RequestQueue;
  readonly hctx: HwCtx;
  state: RqState;
  /** The ioId of the first bio: the I/O a request is filed under for probe hits. */
  ioId: number;
  /** Driver-private command state. */
  driverData: unknown;
  /** The queue's flush request (RQF_FLUSH_SEQ): borrows a waiting request's tag, not accounted. */
  readonly flushSeq: boolean;
  /** Times the driver has sent it again after an error (scmd->retries, nvme_req(rq)->retries). */
  retries: number;
  /** rq->deadline: when its timeout fires, if the driver armed one (0: none). */
  deadlineNs: number;
}

/**
 * Result of ->queue_rq: BLK_STS_OK, BLK_STS_RESOURCE when the device queue is full, or
 * BLK_STS_IOERR when the device cannot take I/O at all (offline, dead controller).
 */
export type QueueRqResult = 'ok' | 'busy' | 'ioerr';

/** struct blk_mq_ops: what a block driver provides. */
export interface BlkMqOps {
  readonly name: string;
  /** Hardware queue depth (commands the device accepts per queue). */
  readonly queueDepth: number;
  /** ->queue_rq: calls startRequest, builds the command, rings the doorbell. */
  queueRq(hctx: HwCtx, rq: MqRequest, ctx: HitContext, cost: CpuCost): QueueRqResult;
}

/** struct blk_mq_hw_ctx */
export class HwCtx {
  /** Kernel address (what nvme_queue_rq's arg0 reads). */
  kaddr = 0;
  readonly pool: MqRequest[] = [];
  readonly freeTags: number[] = [];
  /**
   * Tasks sleeping for a tag, oldest first. SIMPLIFICATION: a freed tag is handed straight to the
   * oldest sleeper (strict FIFO); sbitmap wakes sleepers in batches and a newcomer may steal.
   */
  readonly tagWaiters: TagWaiter[] = [];
  /** hctx->dispatch: requests the driver refused (busy), retried first. */
  readonly dispatchList: MqRequest[] = [];
  inFlight = 0;

  constructor(
    readonly queueNum: number,
    readonly q: RequestQueue,
  ) {}
}

/** A task waiting for a tag, and the request it is handed. */
export interface TagWaiter {
  readonly task: Waker;
  granted: MqRequest | undefined;
}

/** The disk's counters (struct disk_stats, what /proc/diskstats prints). */
export interface QueueStats {
  readIos: number;
  writeIos: number;
  readBytes: number;
  writeBytes: number;
  busyNs: number;
  /** Bios merged into a request and requests merged into another (blk_account_io_merge_bio/_request: merges[]). */
  readMerges: number;
  writeMerges: number;
  /** Allocation to completion of every finished request (blk_account_io_done: nsecs[]), in ns. */
  readTicksNs: number;
  writeTicksNs: number;
  /** The same for flush requests (nsecs[STAT_FLUSH]); time_in_queue sums all four. */
  flushTicksNs: number;
  /** Requests that completed with an error (what blk_print_req_error logs). */
  errors: number;
}

/** struct request_queue + struct gendisk: one block device's queue. */
export class RequestQueue implements ElevatorHost {
  readonly hctxs: HwCtx[] = [];
  elevator: ElevatorMqOps | undefined;
  readonly stats: QueueStats = { readIos: 0, writeIos: 0, readBytes: 0, writeBytes: 0, busyNs: 0, readMerges: 0, writeMerges: 0, readTicksNs: 0, writeTicksNs: 0, flushTicksNs: 0, errors: 0 };
  private inFlightTotal = 0;
  private busySinceNs = 0;
  driver!: BlkMqOps;
  /** The disk's bdi->ra_pages (queue/read_ahead_kb in pages): each file opened on it starts with this. */
  raPages = DEFAULT_RA_PAGES;
  /** q->td: cgroup io.max state, undefined while no group limits this queue. */
  throtl: ThrotlData | undefined = undefined;
  /** The io.latency rq_qos (blk_iolatency), undefined while no group has io.latency on this queue. */
  iolat: BlkIolatency | undefined = undefined;
  /** The disk's entry in the device-status table (set when the disk is added). */
  device!: KDevice;
  /** q->dev of block/blk-pm.c: the device whose runtime PM the queue follows (undefined: none). */
  pmDev: KDevice | undefined;
  private readonly pmResumedFn = (): void => this.pmResumed();

  constructor(
    readonly k: Kernel,
    /** dev_t (MAJOR << 20 | MINOR) */
    readonly dev: number,
    readonly diskName: string,
    readonly limits: QueueLimits,
    readonly rotational: boolean,
  ) {}

  /** blk_mq_init_queue: hardware contexts with `depth` preallocated requests each. */
  initHctxs(nrHwQueues: number, depth: number): void {
    for (let h = 0; h < nrHwQueues; h++) {
      const hctx = new HwCtx(h, this);
      hctx.kaddr = this.k.kaddr();
      for (let tag = 0; tag < depth; tag++) {
        hctx.pool.push({
          kaddr: this.k.kaddr(),
          tag,
          hwq: h,
          op: ReqOp.READ,
          cmdFlags: 0,
          sector: 0,
          nrSectors: 0,
          bios: [],
          startTimeNs: 0,
          ioStartTimeNs: 0,
          fifoTimeNs: 0,
          elvPriv: undefined,
          nrPhysSegments: 0,
          submitterPid: 0,
          submitterComm: '',
          dev: this.dev,
          q: this,
          hctx,
          state: 'idle',
          ioId: 0,
          driverData: undefined,
          flushSeq: false,
          retries: 0,
          deadlineNs: 0,
        });
        hctx.freeTags.push(depth - 1 - tag);
      }
      this.hctxs.push(hctx);
    }
  }

  /** blk_mq_map_queue: the hardware context for a submitting CPU. */
  mapQueue(cpuId: number): HwCtx {
    return this.hctxs[cpuId % this.hctxs.length]!;
  }

  elevatorCostNs(): number {
    return this.elevator ? this.elevator.costNs : ELEVATOR_NONE_NS;
  }

  // ---- ElevatorHost --------------------------------------------------------------------------

  readonly nowNs = (): number => this.k.env.nowNs;

  /** A cgroup's io.weight by path (blkcg): what bfq gives the group; set at boot from the machine's cgroups. */
  ioWeightOf: (cgroup: string) => number = () => 100;

  armTimer(atNs: number, fn: () => void): void {
    this.k.env.at(Math.max(atNs, this.k.env.nowNs), Priority.NORMAL, runTimerFn, fn);
  }

  runQueues(): void {
    this.elevatorWake();
  }

  /**
   * SIMPLIFICATION: every task is IOPRIO_CLASS_BE at task_nice_ioprio of nice 0 (level 4): the model
   * has no ioprio_set and no nice. A request of an exited task counts as the root cgroup's.
   */
  ioContext(rq: Request): IoContext {
    const pid = rq.submitterPid;
    let cgroup = '';
    for (const t of this.k.tasks) {
      if (t.pid === pid) {
        cgroup = t.memcg?.name ?? '';
        break;
      }
    }
    return { pid, ioprio: 4, cgroup, cgroupWeight: cgroup === '' ? 100 : this.ioWeightOf(cgroup) };
  }

  /** The context elevator probe hits are filed under: the dispatching CPU, or CPU 0 from a timer. */
  private elvCtx: HitContext | undefined;

  readonly elvTrace: ElevatorTrace = {
    kyberLatency: (domain: string, type: string, percentile: number, numerator: number, denominator: number, samples: number): void => {
      const t = this.k.tp.kyber_latency;
      if (t.enabled) t.emit(this.traceCtx(), 0, this.dev, domain, type, percentile, numerator, denominator, samples);
    },
    kyberAdjust: (domain: string, depth: number): void => {
      const t = this.k.tp.kyber_adjust;
      if (t.enabled) t.emit(this.traceCtx(), 0, this.dev, domain, depth);
    },
    kyberThrottled: (domain: string): void => {
      const t = this.k.tp.kyber_throttled;
      if (t.enabled) t.emit(this.traceCtx(), 0, this.dev, domain);
    },
    bfqExpire: (pid: number, reason: BfqExpireReason, service: number, budget: number, nextBudget: number, weight: number): void => {
      const t = this.k.tp.bfq_expire;
      if (t.enabled) t.emit(this.traceCtx(), 0, this.dev, pid, reason, service, budget, nextBudget, weight);
    },
    bfqWeightRaise: (pid: number, wrCoeff: number, durationNs: number, kind: string): void => {
      const t = this.k.tp.bfq_weight_raise;
      if (t.enabled) t.emit(this.traceCtx(), 0, this.dev, pid, wrCoeff, durationNs, kind);
    },
  };

  private traceCtx(): HitContext {
    return this.elvCtx ?? this.k.sched.cpu(0);
  }

  /** The hit context for merge tracepoints fired from inside the elevator. */
  mergeCtx: HitContext | undefined;

  bioMergeOk(rq: Request, bio: Bio, where: ElvMerge): boolean {
    return bioMergeOk(this.limits, rq, bio, where);
  }

  mergeBio(rq: Request, bio: Bio, where: ElvMerge): void {
    applyBioMerge(rq, bio, where);
    this.accountMerge(rq);
    const ctx = this.mergeCtx;
    if (where === ElvMerge.BACK_MERGE) {
      this.k.stat.bioBackMerges++;
      if (ctx && this.k.tp.block_bio_backmerge.enabled) this.k.tp.block_bio_backmerge.emit(ctx, bio.ioId, bio);
    } else {
      this.k.stat.bioFrontMerges++;
      if (ctx && this.k.tp.block_bio_frontmerge.enabled) this.k.tp.block_bio_frontmerge.emit(ctx, bio.ioId, bio);
    }
  }

  requestMergeOk(rq: Request, next: Request): boolean {
    return requestMergeOk(this.limits, rq, next);
  }

  mergeRequests(rq: Request, next: Request): void {
    const mrq = rq as MqRequest;
    const mnext = next as MqRequest;
    applyRequestMerge(mrq, mnext);
    this.accountMerge(mrq);
    this.k.stat.requestMerges++;
    const ctx = this.mergeCtx;
    if (ctx && this.k.tp.block_rq_merge.enabled) this.k.tp.block_rq_merge.emit(ctx, mnext.ioId, mnext);
    // the absorbed request's accounting ends here (blk_account_io_merge_request), its tag is freed
    mnext.bios = [];
    this.freeRequest(mnext);
  }

  /** part_stat_inc(merges[op]): one more bio or request absorbed by `rq`. */
  private accountMerge(rq: Request): void {
    if (rq.op === ReqOp.READ) this.stats.readMerges++;
    else if (rq.op === ReqOp.WRITE) this.stats.writeMerges++;
  }

  // ---- allocation ------------------------------------------------------------------------------

  /** Takes a free tag on `hctx`, or undefined when all are in use (the caller sleeps). */
  tryGetRequest(hctx: HwCtx): MqRequest | undefined {
    if (hctx.tagWaiters.length > 0) return undefined; // queue behind the sleepers
    const tag = hctx.freeTags.pop();
    if (tag === undefined) return undefined;
    const rq = hctx.pool[tag]!;
    if (rq.state !== 'idle') throw new SimBug(`tag ${tag} on ${this.diskName} reused while ${rq.state}`);
    rq.state = 'allocated';
    return rq;
  }

  /** blk_mq_bio_to_request + blk_mq_rq_ctx_init. */
  initRequest(rq: MqRequest, bio: Bio): void {
    rq.op = bio.op;
    rq.cmdFlags = bio.flags;
    rq.sector = bio.sector;
    rq.nrSectors = bio.nrSectors;
    rq.bios = [bio];
    rq.nrPhysSegments = countPhysSegments(rq.bios);
    rq.startTimeNs = this.k.env.nowNs;
    rq.ioStartTimeNs = 0;
    rq.fifoTimeNs = 0;
    rq.elvPriv = undefined;
    rq.submitterPid = bio.submitterPid;
    rq.submitterComm = bio.submitterComm;
    rq.ioId = bio.ioId;
    rq.driverData = undefined;
    rq.retries = 0;
  }

  private freeRequest(rq: MqRequest): void {
    rq.bios = [];
    const waiter = rq.hctx.tagWaiters.shift();
    if (waiter) {
      rq.state = 'allocated';
      waiter.granted = rq;
      waiter.task.wake();
      return;
    }
    rq.state = 'idle';
    rq.hctx.freeTags.push(rq.tag);
  }

  // ---- insertion and dispatch -----------------------------------------------------------------

  /**
   * blk_mq_insert_request(s) into the elevator. block_rq_insert fires for each request that was
   * not merged into a queued one on the way in (dd_insert_request returns before the tracepoint).
   */
  insertRequests(ctx: HitContext, rqs: readonly MqRequest[], cost: CpuCost): void {
    for (const rq of rqs) rq.state = 'queued';
    if (this.elevator) {
      this.mergeCtx = ctx;
      this.elevator.insertRequests(rqs, false);
      this.mergeCtx = undefined;
    } else {
      for (const rq of rqs) rq.hctx.dispatchList.push(rq);
    }
    if (this.k.tp.block_rq_insert.enabled) {
      for (const rq of rqs) if (rq.state === 'queued') this.k.tp.block_rq_insert.emit(ctx, rq.ioId, rq);
    }
    cost.ns += this.elevatorCostNs() * rqs.length;
  }

  // ---- the flush machinery (block/blk-flush.c) ------------------------------------------------

  /** Data requests waiting for the next preflush, and those covered by the one in flight. */
  private readonly flushPending: MqRequest[] = [];
  private flushRunning: MqRequest[] | undefined;
  /** fq->flush_rq's address: one flush request per queue. */
  private flushRqKaddr = 0;

  /**
   * blk_insert_flush: requests with REQ_PREFLUSH or REQ_FUA bypass the elevator. An empty flush
   * goes to the driver as is; a write with REQ_PREFLUSH waits for the queue's flush request (FF)
   * and then goes out without the flag (FUA kept: the devices support it natively).
   */
  insertFlush(rq: MqRequest, ctx: HitContext, cost: CpuCost): void {
    const preflush = (rq.cmdFlags & ReqFlag.PREFLUSH) !== 0 || rq.op === ReqOp.FLUSH;
    if (!preflush || rq.nrSectors === 0) {
      this.bypassInsert(rq, ctx, cost);
      return;
    }
    rq.cmdFlags &= ~ReqFlag.PREFLUSH;
    rq.state = 'queued';
    this.flushPending.push(rq);
    if (!this.flushRunning) this.kickFlush(ctx, cost);
  }

  /** blk_kick_flush: one flush request covers every data request waiting when it is issued. */
  private kickFlush(ctx: HitContext, cost: CpuCost): void {
    const first = this.flushPending[0];
    if (!first) return;
    this.flushRunning = this.flushPending.splice(0);
    if (this.flushRqKaddr === 0) this.flushRqKaddr = this.k.kaddr();
    const frq: MqRequest = {
      kaddr: this.flushRqKaddr,
      tag: first.tag,
      hwq: first.hwq,
      op: ReqOp.FLUSH,
      cmdFlags: ReqFlag.PREFLUSH,
      sector: 0,
      nrSectors: 0,
      bios: [],
      startTimeNs: this.k.env.nowNs,
      ioStartTimeNs: 0,
      fifoTimeNs: 0,
      elvPriv: undefined,
      nrPhysSegments: 0,
      submitterPid: first.submitterPid,
      submitterComm: first.submitterComm,
      dev: this.dev,
      q: this,
      hctx: first.hctx,
      state: 'allocated',
      ioId: first.ioId,
      driverData: undefined,
      flushSeq: true,
      retries: 0,
      deadlineNs: 0,
    };
    this.bypassInsert(frq, ctx, cost);
  }

  /** blk_mq_request_bypass_insert + run: straight to the hardware queue, past the elevator. */
  private bypassInsert(rq: MqRequest, ctx: HitContext, cost: CpuCost): void {
    const hctx = rq.hctx;
    rq.state = 'queued';
    if (hctx.dispatchList.length > 0 || hctx.inFlight >= this.driver.queueDepth || this.issue(hctx, rq, ctx, cost) === 'busy') {
      hctx.dispatchList.push(rq);
    }
  }

  /** flush_end_io: the preflush is done; its data requests go to the driver. */
  private flushDone(frq: MqRequest, cpu: Cpu, cost: CpuCost): void {
    const hctx = frq.hctx;
    this.stats.flushTicksNs += this.k.env.nowNs - frq.startTimeNs;
    hctx.inFlight--;
    if (--this.inFlightTotal === 0) {
      this.stats.busyNs += this.k.env.nowNs - this.busySinceNs;
      this.queueIdle(frq);
    }
    const covered = this.flushRunning ?? [];
    this.flushRunning = undefined;
    for (const rq of covered) this.bypassInsert(rq, cpu, cost);
    if (this.flushPending.length > 0) this.kickFlush(cpu, cost);
    // flush_end_io runs the hardware queue: requests the driver deferred behind the flush go now
    if (hctx.dispatchList.length > 0 || this.elevator?.hasWork()) this.runHwQueue(hctx, cpu, cost);
  }

  /**
   * blk_mq_run_hw_queue: dispatch while the driver has room. Busy requests stay at the head of
   * hctx->dispatch and are retried when a completion frees a slot.
   */
  runHwQueue(hctx: HwCtx, ctx: HitContext, cost: CpuCost): void {
    const depth = this.driver.queueDepth;
    while (hctx.inFlight < depth) {
      let rq = hctx.dispatchList.shift();
      if (!rq && this.elevator) {
        if (!this.elevator.hasWork()) break;
        this.elvCtx = ctx;
        rq = this.elevator.dispatchRequest() as MqRequest | undefined;
        this.elvCtx = undefined;
        if (!rq) {
          this.armElevatorWake();
          break;
        }
      }
      if (!rq) break;
      // a shared elevator may hand out a request of another hardware context
      const target = rq.hctx;
      if (target.inFlight >= depth || this.issue(target, rq, ctx, cost) === 'busy') {
        target.dispatchList.unshift(rq);
        if (target === hctx) break;
      }
    }
  }

  /** An elevator holding requests back (idling) asks to be run again later (blk_mq_delay_run_hw_queue). */
  private elevatorWakeArmed = false;
  private armElevatorWake(): void {
    const atNs = this.elevator?.nextWakeNs() ?? Infinity;
    if (!Number.isFinite(atNs) || this.elevatorWakeArmed) return;
    this.elevatorWakeArmed = true;
    this.k.env.at(Math.max(atNs, this.k.env.nowNs), Priority.NORMAL, (q: RequestQueue) => q.elevatorWake(), this);
  }

  /** @internal */
  elevatorWake(): void {
    this.elevatorWakeArmed = false;
    const cpu = this.k.sched.cpu(0);
    const cost: CpuCost = { ns: 0 };
    for (const h of this.hctxs) this.runHwQueue(h, cpu, cost);
  }

  /** blk_mq_try_issue_directly for queues without an elevator. */
  issueDirectly(rq: MqRequest, ctx: HitContext, cost: CpuCost): void {
    const hctx = rq.hctx;
    if (hctx.dispatchList.length > 0 || hctx.inFlight >= this.driver.queueDepth) {
      this.insertRequests(ctx, [rq], cost);
      return;
    }
    cost.ns += ELEVATOR_NONE_NS;
    if (this.issue(hctx, rq, ctx, cost) === 'busy') {
      this.insertRequests(ctx, [rq], cost);
    }
  }

  private issue(hctx: HwCtx, rq: MqRequest, ctx: HitContext, cost: CpuCost): QueueRqResult {
    const pmDev = this.pmDev;
    if (pmDev !== undefined && pmDev.power!.runtimeStatus !== RpmStatus.ACTIVE) {
      // blk_pm: the queue is suspended; the request waits for rpm_resume (on hctx->dispatch)
      this.k.power.rpm.resume(pmDev, 0, this.pmResumedFn);
      return 'busy';
    }
    const r = this.driver.queueRq(hctx, rq, ctx, cost);
    if (r === 'ok') {
      hctx.inFlight++;
      if (this.inFlightTotal++ === 0) {
        this.busySinceNs = this.k.env.nowNs;
        this.k.devices.blockBusy(this.device, rq);
      }
    } else if (r === 'ioerr') {
      // blk_mq_dispatch_rq_list: a hard error from ->queue_rq ends the request there
      hctx.inFlight++;
      if (this.inFlightTotal++ === 0) {
        this.busySinceNs = this.k.env.nowNs;
        this.k.devices.blockBusy(this.device, rq);
      }
      this.endRequest(rq, BlkStatus.IOERR, this.k.sched.cpu(ctx.cpuId), cost);
      return 'ok';
    }
    return r;
  }

  /** q->requeue_list: requests given back with a delay, waiting for the requeue work. */
  private readonly requeueList: MqRequest[] = [];
  /** When q->requeue_work is due (-1: not pending); a later kick moves it (mod_delayed_work). */
  private requeueWorkAtNs = -1;
  private readonly requeueWorkFn = (atNs: number): void => this.requeueWork(atNs);

  /**
   * blk_mq_requeue_request + blk_mq_delay_kick_requeue_list: the driver gives an issued request
   * back (to be retried after an error); it keeps its tag. Without a delay it goes straight to the
   * head of the dispatch list; with one (NVMe's Command Retry Delay) it waits on the requeue list
   * until the requeue work runs, which every kick re-arms: the last delay asked wins.
   * SIMPLIFICATION: an undelayed requeue kicks the queue in the caller's context, not from kblockd.
   */
  requeueRequest(rq: MqRequest, ctx: HitContext, cost: CpuCost, delayNs = 0): void {
    if (this.k.tp.block_rq_requeue.enabled) this.k.tp.block_rq_requeue.emit(ctx, rq.ioId, rq);
    const hctx = rq.hctx;
    hctx.inFlight--;
    if (--this.inFlightTotal === 0) this.stats.busyNs += this.k.env.nowNs - this.busySinceNs;
    rq.state = 'queued';
    rq.deadlineNs = 0;
    if (delayNs === 0 && this.requeueWorkAtNs < 0) {
      hctx.dispatchList.unshift(rq);
      this.runHwQueue(hctx, ctx, cost);
      return;
    }
    this.requeueList.push(rq);
    this.requeueWorkAtNs = this.k.env.nowNs + delayNs;
    this.k.env.at(this.requeueWorkAtNs, Priority.NORMAL, this.requeueWorkFn, this.requeueWorkAtNs);
  }

  /** blk_mq_requeue_work: the requeued requests go back on hctx->dispatch in order; the queues run. */
  private requeueWork(atNs: number): void {
    if (atNs !== this.requeueWorkAtNs) return; // re-armed since
    this.requeueWorkAtNs = -1;
    for (const rq of this.requeueList.splice(0)) rq.hctx.dispatchList.push(rq);
    const cpu = this.k.sched.cpu(0);
    const cost: CpuCost = { ns: 0 };
    for (const h of this.hctxs) this.runHwQueue(h, cpu, cost);
  }

  /**
   * blk_mq_handle_dev_resource -> __blk_mq_requeue_request: ->queue_rq started the request and then
   * refused it (BLK_STS_DEV_RESOURCE); it is traced as requeued and goes back to idle, and the
   * dispatch loop puts it back at the head of hctx->dispatch, to go again when a completion restarts
   * the queue.
   */
  handleDevResource(rq: MqRequest, ctx: HitContext): void {
    if (this.k.tp.block_rq_requeue.enabled) this.k.tp.block_rq_requeue.emit(ctx, rq.ioId, rq);
    rq.state = 'queued';
  }

  /** The disk went idle: the status table says so; blk_pm marks it last busy, runtime PM idles it. */
  private queueIdle(rq: MqRequest): void {
    this.k.devices.blockIdle(this.device, rq);
    const pmDev = this.pmDev;
    if (pmDev !== undefined) {
      this.k.power.rpm.markLastBusy(pmDev);
      this.k.power.rpm.idle(pmDev, RPM_ASYNC | RPM_AUTO);
    }
  }

  /** rpm_resume finished: run the queue (blk_mq_run_hw_queues), in the resuming context. */
  private pmResumed(): void {
    const cpu = this.k.sched.ctxCpu;
    const cost: CpuCost = { ns: 0 };
    for (const h of this.hctxs) this.runHwQueue(h, cpu, cost);
  }

  /** blk_mq_start_request: called by the driver's ->queue_rq. */
  startRequest(rq: MqRequest, ctx: HitContext): void {
    const fn = this.k.fn.blk_mq_start_request;
    if (fn.entry.enabled) fn.enter(ctx, rq.ioId, rq);
    rq.state = 'in_flight';
    rq.ioStartTimeNs = this.k.env.nowNs;
    if (this.k.tp.block_rq_issue.enabled) this.k.tp.block_rq_issue.emit(ctx, rq.ioId, rq);
    if (fn.ret.enabled) fn.exit(ctx, rq.ioId, 0);
  }

  /** blk_account_io_start: fired when a request is first set up from a bio. */
  accountIoStart(rq: MqRequest, ctx: HitContext): void {
    const fn = this.k.fn.blk_account_io_start;
    if (fn.entry.enabled) fn.enter(ctx, rq.ioId, rq);
    if (this.k.tp.block_io_start.enabled) this.k.tp.block_io_start.emit(ctx, rq.ioId, rq);
    if (fn.ret.enabled) fn.exit(ctx, rq.ioId, 0);
  }

  // ---- completion -----------------------------------------------------------------------------

  /**
   * blk_mq_end_request: completes every bio (their bi_end_io run here, in the caller's interrupt
   * context), accounts, frees the tag and re-runs the queue.
   */
  endRequest(rq: MqRequest, status: BlkStatus, cpu: Cpu, cost: CpuCost): void {
    const k = this.k;
    const fn = k.fn.blk_mq_end_request;
    if (fn.entry.enabled) fn.enter(cpu, rq.ioId, rq, status);
    const bytes = rq.nrSectors * 512;
    const error = blkStatusToErrno(status);
    if (k.tp.block_rq_complete.enabled) k.tp.block_rq_complete.emit(cpu, rq.ioId, rq, error, bytes);
    if (error !== 0) this.noteError(rq, error, bytes, cpu);
    if (rq.flushSeq) {
      // the flush request ends in flush_end_io: not accounted, its tag was only borrowed
      this.flushDone(rq, cpu, cost);
      if (fn.ret.enabled) fn.exit(cpu, rq.ioId, 0);
      return;
    }
    // blk_account_io_done: ticks run from allocation (rq->start_time_ns) to completion
    if (rq.op === ReqOp.READ) {
      this.stats.readIos++;
      this.stats.readBytes += bytes;
      this.stats.readTicksNs += k.env.nowNs - rq.startTimeNs;
    } else if (rq.op === ReqOp.WRITE) {
      this.stats.writeIos++;
      this.stats.writeBytes += bytes;
      this.stats.writeTicksNs += k.env.nowNs - rq.startTimeNs;
    }
    const bios = rq.bios;
    // bio_endio's rq_qos_done_bio comes before bi_end_io
    if (this.iolat !== undefined) blkcgIolatencyDoneBios(this.iolat, bios);
    for (const bio of bios) {
      bio.status = status;
      const endIo = bio.endIo;
      if (endIo) {
        cpu.irqIoId = bio.ioId;
        endIo(bio);
      }
    }
    const done = k.fn.blk_account_io_done;
    if (done.entry.enabled) done.enter(cpu, rq.ioId, rq, k.env.nowNs);
    if (k.tp.block_io_done.enabled) k.tp.block_io_done.emit(cpu, rq.ioId, rq);
    if (done.ret.enabled) done.exit(cpu, rq.ioId, 0);
    this.elevator?.completedRequest(rq, k.env.nowNs);
    const hctx = rq.hctx;
    hctx.inFlight--;
    if (--this.inFlightTotal === 0) {
      this.stats.busyNs += k.env.nowNs - this.busySinceNs;
      this.queueIdle(rq);
    }
    this.freeRequest(rq);
    if (fn.ret.enabled) fn.exit(cpu, rq.ioId, 0);
    if (hctx.dispatchList.length > 0 || this.elevator?.hasWork()) this.runHwQueue(hctx, cpu, cost);
  }

  /** blk_update_request's error branch: blk_print_req_error and block_rq_error. */
  private noteError(rq: MqRequest, error: number, bytes: number, cpu: Cpu): void {
    this.stats.errors++;
    if (this.k.tp.block_rq_error.enabled) this.k.tp.block_rq_error.emit(cpu, rq.ioId, rq, error, bytes);
  }

  /** Busy time so far, including a busy stretch in progress. */
  busyTimeNs(): number {
    return this.stats.busyNs + (this.inFlightTotal > 0 ? this.k.env.nowNs - this.busySinceNs : 0);
  }

  get inFlight(): number {
    return this.inFlightTotal;
  }
}
