// Models: include/linux/blkdev.h and include/linux/blk-mq.h: struct request, the elevator's ops
// table (struct elevator_mq_ops) and queue limits.

import type { Bio, ReqOp } from './blk_types.js';

/** struct request: a unit of work for a driver, one or more merged bios. */
export interface Request {
  /** Kernel address (preallocated per tag, so the same tag reuses the same address, as in Linux). */
  readonly kaddr: number;
  /** Driver tag index within its hardware queue. */
  readonly tag: number;
  /** Hardware queue index (hctx->queue_num). */
  readonly hwq: number;
  op: ReqOp;
  /** ReqFlag bits (rq->cmd_flags without the op). */
  cmdFlags: number;
  sector: number;
  nrSectors: number;
  /** Bios in sector order; a merged request keeps every bio and so every ioId. */
  bios: Bio[];
  /** When the request was allocated (blk_mq_rq_ctx_init: rq->start_time_ns). */
  startTimeNs: number;
  /** When it was issued to the driver (blk_mq_start_request: rq->io_start_time_ns), 0 before. */
  ioStartTimeNs: number;
  /** Elevator bookkeeping: FIFO deadline (mq-deadline: rq->fifo_time). */
  fifoTimeNs: number;
  /** Elevator-private data slot (rq->elv.priv). */
  elvPriv: unknown;
  /** Number of physical segments after merging adjacent memory. */
  nrPhysSegments: number;
  /** pid and comm of the task that allocated it. */
  submitterPid: number;
  submitterComm: string;
}

export function requestBytes(rq: Request): number {
  return rq.nrSectors * 512;
}

/** What a bio merge attempt found (enum elv_merge). */
export const ElvMerge = {
  NO_MERGE: 0,
  FRONT_MERGE: 1,
  BACK_MERGE: 2,
} as const;
export type ElvMerge = (typeof ElvMerge)[keyof typeof ElvMerge];

/** Queue limits relevant to merging and splitting (struct queue_limits). */
export interface QueueLimits {
  /** max_sectors_kb in 512-byte sectors. */
  readonly maxSectors: number;
  readonly maxSegments: number;
  readonly logicalBlockSizeBytes: number;
}

/**
 * The services the block core lends an elevator: merge checks and notifications that fire
 * tracepoints. Keeps elevators free of tracing and of the queue's internals.
 */
export interface ElevatorHost {
  readonly nowNs: () => number;
  readonly limits: QueueLimits;
  /** Can `bio` be appended to (BACK) or prepended to (FRONT) `rq` within the limits? */
  bioMergeOk(rq: Request, bio: Bio, where: ElvMerge): boolean;
  /** Performs the bio merge into rq (updates sector/nrSectors/bios, fires block_bio_*merge). */
  mergeBio(rq: Request, bio: Bio, where: ElvMerge): void;
  /** Can `next` be merged onto the end of `rq` (adjacent, same op, within limits)? */
  requestMergeOk(rq: Request, next: Request): boolean;
  /** Merges `next` into `rq` and frees `next` (fires block_rq_merge). */
  mergeRequests(rq: Request, next: Request): void;
  /** The disk's dev_t (what the elevator's tracepoints report). */
  readonly dev: number;
  /** queue/rotational: a disk with a moving head. */
  readonly rotational: boolean;
  /** Runs `fn` at `atNs` (a kernel timer: kyber's latency window, bfq's idle slice). */
  armTimer(atNs: number, fn: () => void): void;
  /** blk_mq_run_hw_queues: dispatch again (after a timer made room or ended an idle wait). */
  runQueues(): void;
  /** Who issued `rq` as the elevator's io context sees it (the task's ioprio and blkcg). */
  ioContext(rq: Request): IoContext;
  /** The elevator's probe sites (the host fires them, guarded: free when nobody listens). */
  readonly elvTrace: ElevatorTrace;
}

/** The issuing task as bfq's bfq_io_cq knows it. */
export interface IoContext {
  readonly pid: number;
  /** IOPRIO_CLASS_BE level 0 (highest) .. 7; task_nice_ioprio gives 4 for nice 0. */
  readonly ioprio: number;
  /** Its cgroup's path under /sys/fs/cgroup ("" for the root) and that cgroup's io.weight (1..10000). */
  readonly cgroup: string;
  readonly cgroupWeight: number;
}

/** Why bfq took the device from a queue (enum bfqq_expiration). */
export type BfqExpireReason = 'too_idle' | 'budget_timeout' | 'budget_exhausted' | 'no_more_requests' | 'preempted';

/**
 * Elevator tracepoints: kyber's are Linux's (include/trace/events/kyber.h); bfq has none upstream
 * (it logs through blktrace messages), so its are kiotrace: sites.
 */
export interface ElevatorTrace {
  kyberLatency(domain: string, type: string, percentile: number, numerator: number, denominator: number, samples: number): void;
  kyberAdjust(domain: string, depth: number): void;
  kyberThrottled(domain: string): void;
  bfqExpire(pid: number, reason: BfqExpireReason, serviceSectors: number, budgetSectors: number, nextBudgetSectors: number, weight: number): void;
  bfqWeightRaise(pid: number, wrCoeff: number, durationNs: number, kind: 'interactive' | 'soft_rt' | 'end'): void;
}

/**
 * struct elevator_mq_ops, reduced to what blk-mq calls. One instance per request queue.
 * Requests enter through insertRequests and leave through dispatchRequest.
 */
export interface ElevatorMqOps {
  readonly name: string;
  /** CPU time of insert + dispatch of one request (charged by blk-mq). */
  readonly costNs: number;
  /** Try to merge a bio into a queued request. Returns true if it was merged (and the host told). */
  bioMerge(bio: Bio): boolean;
  insertRequests(rqs: readonly Request[], atHead: boolean): void;
  /** Next request to hand to the driver, or undefined. */
  dispatchRequest(): Request | undefined;
  hasWork(): boolean;
  /** The request finished (for elevators that track in-flight I/O). */
  completedRequest(rq: Request, nowNs: number): void;
  /**
   * Earliest time at which dispatchRequest could return something it refuses to return now (for
   * elevators that idle or hold requests back); Infinity when there is nothing to wait for.
   */
  nextWakeNs(): number;
  /**
   * elevator_exit: the queue is switching away. Every request still queued is handed back, oldest
   * first, for the host to re-insert into the next elevator (or issue directly); timers go quiet.
   */
  exit(): Request[];
}
