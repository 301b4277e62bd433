// Models: block/kyber-iosched.c: the Kyber I/O scheduler. Requests are sorted into four domains
// (read, write, discard, other); each domain may have only as many requests at the device as it
// holds tokens, and a timer resizes the token pools from latency histograms against per-domain
// targets, so reads keep their latency target by throttling whichever domain congests the device.

import { ReqOp } from './blk_types.js';
import type { Bio } from './blk_types.js';
import { ElvMerge } from './blkdev.js';
import type { ElevatorHost, ElevatorMqOps, Request } from './blkdev.js';
import { bioMergeable, bioMergeCandidateOk, tryMerge } from './blk-merge.js';
import { ELEVATOR_KYBER_NS } from '../hw/cpu.js';

/** enum kyber_domain */
export const KYBER_READ = 0;
export const KYBER_WRITE = 1;
export const KYBER_DISCARD = 2;
export const KYBER_OTHER = 3;
const KYBER_NUM_DOMAINS = 4;
/** kyber_domain_names: what the tracepoints print. */
export const KYBER_DOMAIN_NAMES: readonly string[] = ['READ', 'WRITE', 'DISCARD', 'OTHER'];

/** enum kyber_latency_type, and kyber_latency_type_names. */
const KYBER_TOTAL_LATENCY = 0;
const KYBER_IO_LATENCY = 1;
const KYBER_LATENCY_TYPE_NAMES: readonly string[] = ['total', 'I/O'];

/** kyber_depth[]: the most tokens a domain may hold (and its initial depth). */
export const KYBER_DEPTH: readonly number[] = [256, 128, 64, 16];
/** kyber_batch_size[]: requests dispatched from a domain before the next domain gets its turn. */
export const KYBER_BATCH_SIZE: readonly number[] = [16, 8, 1, 1];

/** Buckets are target / 4 wide: 4 "good" (at most the target), 4 "bad" (the last is open-ended). */
const KYBER_LATENCY_SHIFT = 2;
const KYBER_GOOD_BUCKETS = 1 << KYBER_LATENCY_SHIFT;
const KYBER_LATENCY_BUCKETS = 2 << KYBER_LATENCY_SHIFT;

/** HZ / 10: the timer runs at most this long after a completion. */
export const KYBER_TIMER_NS = 100_000_000;
/** A percentile is computed once a domain has 500 samples, or 1 s (HZ) after its first. */
const KYBER_MIN_SAMPLES = 500;
const KYBER_SAMPLE_TIMEOUT_NS = 1_000_000_000;
/** blk_bio_list_merge looks at the last 8 requests of a software queue. */
const BIO_LIST_MERGE_CHECKS = 8;

/** The sysfs knobs of /sys/block/<dev>/queue/iosched/ for kyber. */
export interface KyberTunables {
  /** read_lat_nsec: target read latency (2 ms). */
  readonly readLatNs: number;
  /** write_lat_nsec: target write latency (10 ms). */
  readonly writeLatNs: number;
}

export const KYBER_DEFAULTS: KyberTunables = Object.freeze({ readLatNs: 2_000_000, writeLatNs: 10_000_000 });
/** The discard target is fixed (5 s); other requests have none. */
const KYBER_DISCARD_LAT_NS = 5_000_000_000;

/** kyber_sched_domain: by the request's op. */
function schedDomain(op: ReqOp): number {
  if (op === ReqOp.READ) return KYBER_READ;
  if (op === ReqOp.WRITE) return KYBER_WRITE;
  return KYBER_OTHER; // the model has no REQ_OP_DISCARD
}

/** rq->elv.priv[0]: which domain's token a dispatched request holds, tied to one instance. */
class KyberToken {
  constructor(
    readonly owner: object,
    readonly domain: number,
  ) {}
}

/**
 * Creates one kyber instance for a request queue.
 *
 * SIMPLIFICATION: one software queue (kcq) per domain instead of one per CPU, so "flushing the
 * busy kcqs" moves a single arrival-ordered list; per-CPU latency histograms are one histogram.
 * SIMPLIFICATION: no async_depth (the 75 % shallow limit on tags for async requests is a tag
 * allocation rule; blk-mq here has none) and no hctx wait queue: a token freed at completion
 * re-runs the queue through blk-mq's completion path.
 * SIMPLIFICATION: jiffies are not modelled: the timer and the 1 s sample timeout are exact ns.
 */
export function createKyber(host: ElevatorHost, tunables?: Partial<KyberTunables>): ElevatorMqOps {
  const cfg: KyberTunables = { ...KYBER_DEFAULTS, ...tunables };
  for (const [name, v] of [
    ['readLatNs', cfg.readLatNs],
    ['writeLatNs', cfg.writeLatNs],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`kyber: ${name} must be a positive integer, got ${v}`);
  }
  const owner = {};
  /** One token marker per domain: what a dispatched request carries (no allocation per request). */
  const tokenOf = [0, 1, 2, 3].map((d) => new KyberToken(owner, d));
  /** kqd->latency_targets[] */
  const latencyTargetNs = [cfg.readLatNs, cfg.writeLatNs, KYBER_DISCARD_LAT_NS, 0];
  /** kqd->domain_tokens[]: the pool size (sbitmap depth) and the tokens held by dispatched requests. */
  const depth = KYBER_DEPTH.slice();
  const tokensInUse = [0, 0, 0, 0];
  /** kcq->rq_list[]: inserted, still mergeable; khd->rqs[]: flushed, waiting for a token. */
  const kcq: Request[][] = [[], [], [], []];
  const flushed: Request[][] = [[], [], [], []];
  let queued = 0;
  let curDomain = 0;
  let batching = 0;
  /** latency_buckets[domain][type][bucket], summed since the last percentile of that domain/type. */
  const buckets: number[][][] = latencyTargetNs.map(() => [new Array<number>(KYBER_LATENCY_BUCKETS).fill(0), new Array<number>(KYBER_LATENCY_BUCKETS).fill(0)]);
  /** kqd->latency_timeout[]: when a domain's percentile is due even with few samples (0: no samples yet). */
  const latencyTimeoutNs = [0, 0, 0, 0];
  /** kqd->domain_p99[]: the last p99 bucket seen, kept until congestion uses it (-1: none). */
  const domainP99 = [-1, -1, -1, -1];
  let timerPending = false;
  let exited = false;

  // ---- latency statistics (kyber_completed_request, kyber_timer_fn) ----

  /** add_latency_sample: bucket = (latency - 1) / (target / 4), capped at the last bucket. */
  function addLatencySample(domain: number, type: number, latencyNs: number): void {
    const target = latencyTargetNs[domain]!;
    const divisor = Math.max(Math.floor(target / KYBER_GOOD_BUCKETS), 1);
    const bucket = Math.min(Math.floor(Math.max(latencyNs - 1, 0) / divisor), KYBER_LATENCY_BUCKETS - 1);
    buckets[domain]![type]![bucket]!++;
  }

  /** calculate_percentile: the bucket holding the percentile, or -1 while samples are too few. */
  function calculatePercentile(domain: number, type: number, percentile: number): number {
    const b = buckets[domain]![type]!;
    let samples = 0;
    for (const n of b) samples += n;
    if (samples === 0) return -1;
    const now = host.nowNs();
    if (latencyTimeoutNs[domain] === 0) latencyTimeoutNs[domain] = now + KYBER_SAMPLE_TIMEOUT_NS;
    if (samples < KYBER_MIN_SAMPLES && now < latencyTimeoutNs[domain]!) return -1;
    latencyTimeoutNs[domain] = 0;
    let rank = Math.ceil((samples * percentile) / 100);
    let bucket = 0;
    for (; bucket < KYBER_LATENCY_BUCKETS - 1; bucket++) {
      if (b[bucket]! >= rank) break;
      rank -= b[bucket]!;
    }
    b.fill(0);
    host.elvTrace.kyberLatency(KYBER_DOMAIN_NAMES[domain]!, KYBER_LATENCY_TYPE_NAMES[type]!, percentile, bucket + 1, 1 << KYBER_LATENCY_SHIFT, samples);
    return bucket;
  }

  /** kyber_resize_domain: clamp to [1, kyber_depth] and resize the token pool. */
  function resizeDomain(domain: number, newDepth: number): void {
    const d = Math.min(Math.max(newDepth, 1), KYBER_DEPTH[domain]!);
    if (d === depth[domain]) return;
    depth[domain] = d;
    host.elvTrace.kyberAdjust(KYBER_DOMAIN_NAMES[domain]!, d);
  }

  /**
   * kyber_timer_fn: congestion if any domain's p90 I/O latency is in a bad bucket; then each domain
   * with a fresh (or remembered) p99 total latency is resized to depth * (p99 bucket + 1) / 4 when
   * the device is congested or that domain's own p99 is bad: good domains are throttled, bad ones
   * get more tokens.
   */
  function timerFn(): void {
    timerPending = false;
    if (exited) return;
    let bad = false;
    for (let d = 0; d < KYBER_OTHER; d++) {
      if (calculatePercentile(d, KYBER_IO_LATENCY, 90) >= KYBER_GOOD_BUCKETS) bad = true;
    }
    let grew = false;
    for (let d = 0; d < KYBER_OTHER; d++) {
      let p99 = calculatePercentile(d, KYBER_TOTAL_LATENCY, 99);
      // Domains fill their windows at different times: keep a p99 until congestion needs it.
      if (bad) {
        if (p99 < 0) p99 = domainP99[d]!;
        domainP99[d] = -1;
      } else if (p99 >= 0) {
        domainP99[d] = p99;
      }
      if (p99 < 0) continue;
      if (bad || p99 >= KYBER_GOOD_BUCKETS) {
        const before = depth[d]!;
        resizeDomain(d, (before * (p99 + 1)) >> KYBER_LATENCY_SHIFT);
        if (depth[d]! > before) grew = true;
      }
    }
    // sbitmap_queue_resize wakes token waiters when the pool grew
    if (grew && queued > 0) host.runQueues();
  }

  // ---- merging (kyber_bio_merge -> blk_bio_list_merge) ----

  function bioMerge(bio: Bio): boolean {
    if (!bioMergeable(bio)) return false;
    const list = kcq[schedDomain(bio.op)]!;
    let checked = 0;
    for (let i = list.length - 1; i >= 0; i--) {
      if (++checked > BIO_LIST_MERGE_CHECKS) break;
      const rq = list[i]!;
      if (!bioMergeCandidateOk(rq, bio)) continue;
      const where = tryMerge(rq, bio);
      if (where === ElvMerge.NO_MERGE) continue;
      // blk_attempt_bio_merge: BIO_MERGE_FAILED ends the search
      if (!host.bioMergeOk(rq, bio, where)) return false;
      host.mergeBio(rq, bio, where);
      return true;
    }
    return false;
  }

  // ---- dispatch (kyber_dispatch_request) ----

  /** kyber_get_domain_token */
  function getDomainToken(domain: number): boolean {
    if (tokensInUse[domain]! >= depth[domain]!) return false;
    tokensInUse[domain]!++;
    return true;
  }

  /** kyber_dispatch_cur_domain: take a token for the oldest request of the current domain. */
  function dispatchCurDomain(): Request | undefined {
    const domain = curDomain;
    const rqs = flushed[domain]!;
    if (rqs.length === 0 && kcq[domain]!.length === 0) return undefined;
    if (!getDomainToken(domain)) {
      host.elvTrace.kyberThrottled(KYBER_DOMAIN_NAMES[domain]!);
      return undefined;
    }
    // kyber_flush_busy_kcqs: only with a token in hand, so what waits stays mergeable
    if (rqs.length === 0) {
      const pending = kcq[domain]!;
      for (const rq of pending) rqs.push(rq);
      pending.length = 0;
    }
    const rq = rqs.shift()!;
    batching++;
    queued--;
    rq.elvPriv = tokenOf[domain];
    return rq;
  }

  function dispatchRequest(): Request | undefined {
    // Still entitled to batch: try the current domain first.
    if (batching < KYBER_BATCH_SIZE[curDomain]!) {
      const rq = dispatchCurDomain();
      if (rq !== undefined) return rq;
    }
    // A new batch from the next domain with requests and tokens (wrapping back to this one).
    batching = 0;
    for (let i = 0; i < KYBER_NUM_DOMAINS; i++) {
      curDomain = curDomain === KYBER_NUM_DOMAINS - 1 ? 0 : curDomain + 1;
      const rq = dispatchCurDomain();
      if (rq !== undefined) return rq;
    }
    return undefined;
  }

  return {
    name: 'kyber',
    costNs: ELEVATOR_KYBER_NS,
    bioMerge,
    insertRequests(rqs: readonly Request[], atHead: boolean): void {
      for (const rq of rqs) {
        rq.elvPriv = undefined;
        const list = kcq[schedDomain(rq.op)]!;
        if (atHead) list.unshift(rq);
        else list.push(rq);
        queued++;
      }
    },
    dispatchRequest,
    hasWork(): boolean {
      return queued > 0;
    },
    /** kyber_finish_request (give the token back) and kyber_completed_request (record latencies). */
    completedRequest(rq: Request, nowNs: number): void {
      const token = rq.elvPriv;
      if (!(token instanceof KyberToken) || token.owner !== owner) return; // dispatched by another elevator
      rq.elvPriv = undefined;
      const domain = token.domain;
      tokensInUse[domain]!--;
      if (domain === KYBER_OTHER) return;
      addLatencySample(domain, KYBER_TOTAL_LATENCY, nowNs - rq.startTimeNs);
      addLatencySample(domain, KYBER_IO_LATENCY, nowNs - rq.ioStartTimeNs);
      // timer_reduce(jiffies + HZ / 10): a pending timer is always the earlier one
      if (!timerPending && !exited) {
        timerPending = true;
        host.armTimer(nowNs + KYBER_TIMER_NS, timerFn);
      }
    },
    nextWakeNs(): number {
      return Infinity; // a throttled domain waits for a completion, not for a time
    },
    exit(): Request[] {
      exited = true;
      const out: Request[] = [];
      for (let d = 0; d < KYBER_NUM_DOMAINS; d++) out.push(...flushed[d]!.splice(0), ...kcq[d]!.splice(0));
      queued = 0;
      return out;
    },
  };
}
