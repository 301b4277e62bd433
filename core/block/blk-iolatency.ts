// Models: block/blk-iolatency.c (cgroup v2 io.latency, Linux 6.x) on the rq_qos hooks of
// block/blk-rq-qos.c: at submission (rq_qos_throttle, before a request is allocated) a bio waits on
// its group's rq_wait until the group has fewer than max_depth bios in flight; at completion
// (rq_qos_done_bio) the group's in-flight count drops, a waiter is woken, and a group with a target
// records the bio's latency (issue to completion). Once per window (the target x16, clamped to
// 100 ms..1 s) a group with a target sums its latencies: on a non-rotational device the share of
// bios at or over the target (the 90th percentile: fewer than 10% may miss), on a rotational one
// the mean, folded into a load-average style lat_avg. A miss moves the parent's scale_cookie down
// (by nr_requests/4), at most every 500 ms; every sibling with a looser or no target sees the
// cookie move on its next submission and halves its max_depth (from nr_requests down to 1; at 1
// it counts use_delay instead). When the group that missed meets its target again (with 5 samples
// at least) the cookie moves back up by nr_requests/16 per adjustment and the siblings' depth
// grows by as much; back at the default cookie they are unthrottled (max_depth UINT_MAX). A timer
// every second scales up when no group holds the scale-down, and forgets a group idle for 5 s.
// SIMPLIFICATION: groups are children of the root (flat hierarchy, so the root's child_lat is the
// only one); the per-CPU latency stats are one stat; the induced delay is kept as the use_delay
// count only: delay_nsec accrues from issue-as-root bios (REQ_META, REQ_SWAP) a group causes, and
// the model issues none from a group (jbd2's REQ_META runs in the root, there is no swap), so
// blkcg_maybe_throttle_current would never sleep and is not modeled; the enable/disable work
// (enable_cnt) runs at boot, where io.latency is set.

import type { Bio } from './blk_types.js';
import { ReqFlag } from './blk_types.js';
import type { RequestQueue } from './blk-mq.js';
import type { MemCgroup } from '../cgroup/memcontrol.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { TaskState } from '../kernel/sched/task.js';
import { Priority } from '../sim/engine.js';
import { ioSchedule } from './blk-core.js';

/** DEFAULT_SCALE_COOKIE: the parent's cookie when nobody is scaled. */
export const DEFAULT_SCALE_COOKIE = 1_000_000;
/** BLKIOLATENCY_MIN_WIN_SIZE / MAX_WIN_SIZE: the window is the target x16, within these. */
export const BLKIOLATENCY_MIN_WIN_SIZE_NS = 100_000_000;
export const BLKIOLATENCY_MAX_WIN_SIZE_NS = 1_000_000_000;
/** BLKIOLATENCY_MIN_ADJUST_TIME: scale events are at least this far apart. */
export const BLKIOLATENCY_MIN_ADJUST_TIME_NS = 500_000_000;
/** BLKIOLATENCY_MIN_GOOD_SAMPLES: a scale-up needs this many samples that met the target. */
export const BLKIOLATENCY_MIN_GOOD_SAMPLES = 5;
/** max_depth of a group nobody throttles (UINT_MAX). */
export const IOLAT_DEPTH_MAX = 0xffff_ffff;
const SCALE_DOWN_FACTOR = 2;
const SCALE_UP_FACTOR = 4;
/** iolatency_exp_factors: calc_load decays for windows of 0, 250, 500, 750 ms and 1 s and over. */
const IOLATENCY_EXP_FACTORS = [2045, 2039, 2031, 2023, 2014] as const;
const BLKIOLATENCY_EXP_BUCKET_SIZE_NS = BLKIOLATENCY_MAX_WIN_SIZE_NS / (IOLATENCY_EXP_FACTORS.length - 1);
/** FIXED_1 of calc_load (include/linux/sched/loadavg.h). */
const FIXED_1 = 2048;
/** The timer's period (jiffies + HZ) and when it forgets an idle scale_grp (5 s). */
const IOLAT_TIMER_NS = 1_000_000_000;
const SCALE_GRP_FORGET_NS = 5_000_000_000;

/**
 * struct latency_stat: a union in Linux, percentile_stats (missed, total) on SSDs, blk_rq_stat
 * (mean of the samples) on rotational disks; here both, one used.
 */
export class LatencyStat {
  total = 0;
  missed = 0;
  sumNs = 0;

  init(): void {
    this.total = 0;
    this.missed = 0;
    this.sumNs = 0;
  }

  add(other: LatencyStat): void {
    this.total += other.total;
    this.missed += other.missed;
    this.sumNs += other.sumNs;
  }

  /** blk_rq_stat's mean (0 with no samples). */
  get meanNs(): number {
    return this.total === 0 ? 0 : Math.floor(this.sumNs / this.total);
  }
}

/** struct child_latency_info: the parent's view of its children's latency. */
export class ChildLatencyInfo {
  lastScaleEventNs = 0;
  /** The target that was missed (0: none). */
  scaleLatNs = 0;
  /** The children's samples in the last summation. */
  nrSamples = 0;
  /** The group whose miss scaled the others down. */
  scaleGrp: IolatencyGrp | undefined = undefined;
  scaleCookie = DEFAULT_SCALE_COOKIE;
  /** kiotrace: the mean latency of the window that last moved the cookie (ns), for the probe. */
  lastLatNs = 0;
}

/** A task waiting in rq_qos_wait, and whether the waker gave it an in-flight slot. */
interface RqWaiter {
  readonly task: Task;
  gotToken: boolean;
}

/** struct iolatency_grp: one cgroup's io.latency state on one queue. */
export class IolatencyGrp {
  /** io.latency's target (min_lat_nsec); 0: none. */
  minLatNs = 0;
  curWinNs = BLKIOLATENCY_MIN_WIN_SIZE_NS;
  /** The running average of the window means (rotational only), ns. */
  latAvgNs = 0;
  /** Samples of cur_stat (the summation since the last scale event). */
  nrSamples = 0;
  /** rq_depth.max_depth */
  maxDepth = IOLAT_DEPTH_MAX;
  /** rq_wait: bios in flight, and the tasks waiting for one to finish. */
  inflight = 0;
  readonly waiters: RqWaiter[] = [];
  windowStartNs = 0;
  scaleCookie = DEFAULT_SCALE_COOKIE;
  /** The window's samples (the per-CPU stats), and those since the last scale event. */
  readonly stat = new LatencyStat();
  readonly curStat = new LatencyStat();
  /** blkg->use_delay: scale-downs asked for while at depth 1. */
  useDelay = 0;
  /** kiotrace's counts for the run report: depth changes, and the smallest depth reached. */
  scaleEvents = 0;
  minDepth = IOLAT_DEPTH_MAX;

  constructor(
    readonly bl: BlkIolatency,
    readonly memcg: MemCgroup,
    readonly ssd: boolean,
  ) {}
}

/** struct blk_iolatency: a queue's io.latency state (its rq_qos). */
export class BlkIolatency {
  /** Groups on this queue by memory cgroup id (pd allocated as a blkg is created). */
  readonly groups: (IolatencyGrp | undefined)[] = [];
  /** The root's iolatency_grp holds its children's child_lat. */
  readonly childLat = new ChildLatencyInfo();
  /** Groups with a target (enable_cnt); throttling runs while any has one. */
  enableCnt = 0;
  timerPending = false;
  readonly ssd: boolean;

  constructor(
    readonly k: Kernel,
    readonly q: RequestQueue,
  ) {
    this.ssd = !q.rotational;
  }

  get enabled(): boolean {
    return this.enableCnt > 0;
  }

  /** q->nr_requests: the tags a hardware context has. */
  get nrRequests(): number {
    return this.q.hctxs[0]!.pool.length;
  }

  /** blkg_to_lat, with iolatency_pd_init when the group first does I/O on the queue. */
  grpOf(memcg: MemCgroup): IolatencyGrp {
    let g = this.groups[memcg.id];
    if (g === undefined) {
      g = new IolatencyGrp(this, memcg, this.ssd);
      g.windowStartNs = this.k.env.nowNs;
      g.scaleCookie = this.childLat.scaleCookie;
      this.groups[memcg.id] = g;
    }
    return g;
  }
}

/** iolatency_set_limit: a group's io.latency target on a queue (its blk_iolatency on first use). */
export function iolatencySetLimit(k: Kernel, q: RequestQueue, memcg: MemCgroup, targetNs: number): IolatencyGrp {
  let bl = q.iolat;
  if (bl === undefined) {
    bl = new BlkIolatency(k, q);
    q.iolat = bl;
  }
  const g = bl.grpOf(memcg);
  // iolatency_set_min_lat_nsec: the window scales with the target
  if (g.minLatNs === 0 && targetNs > 0) bl.enableCnt++;
  g.minLatNs = targetNs;
  g.curWinNs = Math.min(Math.max(targetNs * 16, BLKIOLATENCY_MIN_WIN_SIZE_NS), BLKIOLATENCY_MAX_WIN_SIZE_NS);
  return g;
}

/** scale_amount */
function scaleAmount(qd: number, up: boolean): number {
  return Math.max(Math.floor(qd / 2 ** (up ? SCALE_UP_FACTOR : SCALE_DOWN_FACTOR)), 1);
}

/** scale_cookie_change: down fast (qd/4), up slowly (qd/16), never deeper than 2*qd below default. */
function scaleCookieChange(bl: BlkIolatency, info: ChildLatencyInfo, up: boolean): void {
  const qd = bl.nrRequests;
  const scale = scaleAmount(qd, up);
  const old = info.scaleCookie;
  const diff = old < DEFAULT_SCALE_COOKIE ? DEFAULT_SCALE_COOKIE - old : 0;
  if (up) {
    if (scale + old > DEFAULT_SCALE_COOKIE) info.scaleCookie = DEFAULT_SCALE_COOKIE;
    else if (diff > qd) info.scaleCookie++;
    else info.scaleCookie += scale;
  } else if (diff > qd) {
    if (diff < qd * 2) info.scaleCookie--;
  } else {
    info.scaleCookie -= scale;
  }
}

/** Sets a group's depth, with the probe hit and the report's counts. */
function setDepth(g: IolatencyGrp, depth: number): void {
  const old = g.maxDepth;
  g.maxDepth = depth;
  if (depth !== old) {
    g.scaleEvents++;
    if (depth < g.minDepth) g.minDepth = depth;
  }
  emitScale(g, old);
}

function emitScale(g: IolatencyGrp, oldDepth: number): void {
  const k = g.bl.k;
  const t = k.tp.iolatency_scale;
  if (t.enabled) {
    const info = g.bl.childLat;
    t.emit(k.sched.ctxCpu, 0, g.bl.q.dev, g.memcg.name, oldDepth, g.maxDepth, g.useDelay, info.scaleCookie, info.scaleLatNs, info.lastLatNs);
  }
}

/** wake_up / wake_up_all on rq_wait: waiters take free slots in order (rq_qos_wake_function). */
function wakeWaiters(g: IolatencyGrp, all: boolean): void {
  while (g.waiters.length > 0 && g.inflight < g.maxDepth) {
    const w = g.waiters.shift()!;
    g.inflight++;
    w.gotToken = true;
    g.bl.k.sched.wakeFromContext(w.task);
    if (!all) break;
  }
}

/** scale_change: one step of a sibling's depth, halving down or adding qd/16 up. */
function scaleChange(g: IolatencyGrp, up: boolean): void {
  const qd = g.bl.nrRequests;
  let old = Math.min(g.maxDepth, qd);
  if (up) {
    // blkcg_unuse_delay: a group at depth 1 first pays back its use_delay
    if (old === 1 && g.useDelay > 0) {
      g.useDelay--;
      emitScale(g, g.maxDepth);
      return;
    }
    if (old < qd) {
      old = Math.min(old + scaleAmount(qd, true), qd);
      setDepth(g, old);
      wakeWaiters(g, true);
    }
  } else {
    setDepth(g, Math.max(old >> 1, 1));
  }
}

/** check_scale_change: follow the parent's cookie one step, if this group is one to scale. */
function checkScaleChange(g: IolatencyGrp): void {
  const info = g.bl.childLat;
  const cur = info.scaleCookie;
  const ours = g.scaleCookie;
  if (cur === ours) return;
  const down = cur < ours;
  g.scaleCookie = cur;
  if (down && g.minLatNs > 0) {
    // a group with a target as tight as the one missed is not scaled, nor one that did 5% or less
    // of the children's I/O in the last summation (it is not the one hurting)
    if (info.scaleLatNs === 0 || g.minLatNs <= info.scaleLatNs) return;
    const samplesThresh = Math.max(1, Math.floor((info.nrSamples * 5) / 100));
    if (g.nrSamples <= samplesThresh) return;
  }
  if (g.maxDepth === 1 && down) {
    // blkcg_use_delay: as low as the depth goes
    g.useDelay++;
    emitScale(g, 1);
    return;
  }
  if (cur === DEFAULT_SCALE_COOKIE) {
    // back at the default: unthrottle (blkcg_clear_delay)
    g.useDelay = 0;
    setDepth(g, IOLAT_DEPTH_MAX);
    wakeWaiters(g, true);
    return;
  }
  scaleChange(g, !down);
}

/**
 * blkcg_iolatency_throttle (rq_qos_throttle): before the bio gets a request, its group follows the
 * parent's cookie and the task waits for an in-flight slot under the group's max_depth. The bio is
 * stamped (bi_issue, BIO_QOS_THROTTLED) so its completion is counted.
 */
export function* blkcgIolatencyThrottle(bl: BlkIolatency, task: Task, bio: Bio): Generator<number, void, void> {
  const memcg = bio.blkcg;
  if (!bl.enabled || memcg === undefined || memcg.id === 0) return;
  const g = bl.grpOf(memcg);
  checkScaleChange(g);
  const k = bl.k;
  bio.qosIssueNs = k.env.nowNs;
  // issue-as-root bios (REQ_META, REQ_SWAP) take a slot without waiting, against priority inversion
  if (bio.flags & ReqFlag.META || (g.waiters.length === 0 && g.inflight < g.maxDepth)) {
    g.inflight++;
  } else {
    // rq_qos_wait: exclusive FIFO wait; the completing bio hands its slot over
    const w: RqWaiter = { task, gotToken: false };
    g.waiters.push(w);
    while (!w.gotToken) {
      task.state = TaskState.UNINTERRUPTIBLE;
      yield* ioSchedule(k, task);
    }
  }
  if (!bl.timerPending) {
    bl.timerPending = true;
    k.env.at(k.env.nowNs + IOLAT_TIMER_NS, Priority.NORMAL, blkiolatencyTimerFn, bl);
  }
}

/** blkcg_iolatency_done_bio (rq_qos_done_bio) for the bios of a completing request. */
export function blkcgIolatencyDoneBios(bl: BlkIolatency, bios: readonly Bio[]): void {
  for (const bio of bios) {
    const issueNs = bio.qosIssueNs;
    if (issueNs === undefined) continue;
    bio.qosIssueNs = undefined;
    const g = bl.groups[bio.blkcg!.id]!;
    g.inflight--;
    const now = bl.k.env.nowNs;
    if (g.minLatNs > 0) {
      recordTime(g, bio, now - issueNs);
      if (now > g.windowStartNs && now - g.windowStartNs >= g.curWinNs) {
        g.windowStartNs = now;
        checkLatencies(g, now);
      }
    }
    wakeWaiters(g, false);
  }
}

/** iolatency_record_time + latency_stat_record_time */
function recordTime(g: IolatencyGrp, bio: Bio, reqNs: number): void {
  if (reqNs <= 0) return;
  // issue-as-root bios stay out of the stats (they would skew them down); they would add delay
  if (bio.flags & ReqFlag.META) return;
  const s = g.stat;
  if (g.ssd && reqNs >= g.minLatNs) s.missed++;
  s.total++;
  s.sumNs += reqNs;
}

/** latency_sum_ok: SSDs fewer than 10% at or over the target, disks the mean within it. */
function latencySumOk(g: IolatencyGrp, s: LatencyStat): boolean {
  if (g.ssd) return s.missed < Math.max(Math.floor(s.total / 10), 1);
  return s.meanNs <= g.minLatNs;
}

/** calc_load (kernel/sched/loadavg.c) */
function calcLoad(load: number, exp: number, active: number): number {
  let newload = load * exp + active * (FIXED_1 - exp);
  if (active >= load) newload += FIXED_1 - 1;
  return Math.floor(newload / FIXED_1);
}

/** iolatency_check_latencies: a window has passed for a group with a target. */
function checkLatencies(g: IolatencyGrp, now: number): void {
  const bl = g.bl;
  const info = bl.childLat;
  const stat = new LatencyStat();
  stat.add(g.stat);
  g.stat.init();
  // iolat_update_total_lat_avg (rotational only)
  if (!g.ssd) {
    const expIdx = Math.min(IOLATENCY_EXP_FACTORS.length - 1, Math.floor(g.curWinNs / BLKIOLATENCY_EXP_BUCKET_SIZE_NS));
    g.latAvgNs = calcLoad(g.latAvgNs, IOLATENCY_EXP_FACTORS[expIdx]!, stat.meanNs);
  }
  const ok = latencySumOk(g, stat);
  const k = bl.k;
  if (k.tp.iolatency_check.enabled) {
    k.tp.iolatency_check.emit(k.sched.ctxCpu, 0, bl.q.dev, g.memcg.name, g.minLatNs, g.curWinNs, stat.total, stat.missed, stat.meanNs, ok ? 1 : 0, info.scaleCookie);
  }
  if (ok && info.scaleCookie === DEFAULT_SCALE_COOKIE) return;
  g.curStat.add(stat);
  info.nrSamples += g.curStat.total - g.nrSamples;
  g.nrSamples = g.curStat.total;
  if (info.lastScaleEventNs >= now || now - info.lastScaleEventNs < BLKIOLATENCY_MIN_ADJUST_TIME_NS) return;
  if (latencySumOk(g, g.curStat) && ok) {
    if (g.curStat.total < BLKIOLATENCY_MIN_GOOD_SAMPLES) return;
    if (info.scaleGrp === g) {
      info.lastScaleEventNs = now;
      info.lastLatNs = stat.meanNs;
      scaleCookieChange(bl, info, true);
    }
  } else if (info.scaleLatNs === 0 || info.scaleLatNs >= g.minLatNs) {
    info.lastScaleEventNs = now;
    if (info.scaleGrp === undefined || info.scaleLatNs > g.minLatNs) {
      info.scaleLatNs = g.minLatNs;
      info.scaleGrp = g;
    }
    info.lastLatNs = stat.meanNs;
    scaleCookieChange(bl, info, false);
  }
  g.curStat.init();
}

/** blkiolatency_timer_fn: scale up when nobody holds the scale-down; forget an idle scale_grp. */
function blkiolatencyTimerFn(bl: BlkIolatency): void {
  bl.timerPending = false;
  const info = bl.childLat;
  const now = bl.k.env.nowNs;
  if (info.scaleCookie < DEFAULT_SCALE_COOKIE && info.lastScaleEventNs < now) {
    if (info.scaleGrp === undefined) scaleCookieChange(bl, info, true);
    else if (now - info.lastScaleEventNs >= SCALE_GRP_FORGET_NS) info.scaleGrp = undefined;
  }
  // the throttle re-arms it while bios flow (mod_timer when not pending)
}
