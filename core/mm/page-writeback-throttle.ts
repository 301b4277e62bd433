// Models: mm/page-writeback.c's IO-less dirty throttling (balance_dirty_pages' control law, Linux
// 3.2+ as in 6.x) and lib/flex_proportions.c: the global domain's dirty limits
// (domain_dirty_limits, hard_dirty_limit, update_dirty_limit), each wb's share of them from its
// writeout completions (__wb_calc_thresh), the position control (pos_ratio_polynom,
// wb_position_ratio), the write bandwidth estimate and the base dirty rate every BANDWIDTH_INTERVAL
// (wb_update_write_bandwidth, wb_update_dirty_ratelimit), and the pause a dirtier takes
// (wb_max_pause, wb_min_pause, dirty_poll_interval). Units and integer arithmetic are the kernel's:
// pages, pages per second, jiffies of a CONFIG_HZ=1000 kernel, pos_ratio in 1/1024ths.
// SIMPLIFICATION: no cgroup writeback (one wb per device, no memcg wb_domain), no bdi
// min_ratio/max_ratio/strictlimit knobs, and no real-time dirtiers (the +1/4 limit boost).
// SIMPLIFICATION: flex_proportions periods are aged when the domain is next used, not by a
// deferrable 3 s timer; the fractions it reads are the same.

import type { VmSpec } from '../userspace/job.js';

/** CONFIG_HZ: one jiffy is 1 ms. */
export const HZ = 1000;
export const NS_PER_JIFFY = 1_000_000_000 / HZ;
const PAGE_SHIFT = 12;
const PAGE_SIZE = 1 << PAGE_SHIFT;
/** MAX_PAUSE: sleep at most 200 ms at a time. */
export const MAX_PAUSE = Math.max(HZ / 5, 1);
/** BANDWIDTH_INTERVAL: estimate write bandwidth and update the dirty rate limit every 200 ms. */
export const BANDWIDTH_INTERVAL = Math.max(HZ / 5, 1);
/** DIRTY_POLL_THRESH: keep balance_dirty_pages() calls at least this many pages apart (128 KiB). */
export const DIRTY_POLL_THRESH = 128 >> (PAGE_SHIFT - 10);
export const RATELIMIT_CALC_SHIFT = 10;
/** INIT_BW: a wb's bandwidth and rate limits start at 100 MB/s (in pages/s). */
export const INIT_BW = 100 << (20 - PAGE_SHIFT);
/** A new task's nr_dirtied_pause (copy_process: 128 KiB). */
export const INIT_NR_DIRTIED_PAUSE = 128 >> (PAGE_SHIFT - 10);
/** The per-CPU ratelimit a wb over its limit falls back to (32 KiB). */
export const DIRTY_EXCEEDED_RATELIMIT = 32 >> (PAGE_SHIFT - 10);
/** VM_COMPLETIONS_PERIOD_LEN: writeout fractions age by half every 3 s. */
const VM_COMPLETIONS_PERIOD_LEN = 3 * HZ;
/** WB_BANDWIDTH_IDLE_JIF: after 1 s idle a wb restarts its bandwidth estimate. */
const WB_BANDWIDTH_IDLE_JIF = HZ;
const BITS_PER_LONG = 64;

/** ilog2 of a positive integer (fls - 1); -1 for 0, as fls_long(0) - 1. */
export function ilog2(n: number): number {
  if (n < 1) return -1;
  if (n < 2 ** 32) return 31 - Math.clz32(n);
  return 32 + ilog2(Math.floor(n / 2 ** 32));
}

export function roundupPowOfTwo(n: number): number {
  return n <= 1 ? 1 : 2 ** (ilog2(n - 1) + 1);
}

/** `x | 1` of the kernel's unsigned divisions, for numbers beyond 32 bits too. */
function or1(n: number): number {
  return n % 2 === 0 ? n + 1 : n;
}

/** lib/flex_proportions.c's struct fprop_global: events of all wbs, halved each period. */
export class FpropGlobal {
  /** fprop_global_init starts at 1 to avoid periods with no events. */
  events = 1;
  period = 0;
}

/** struct fprop_local_percpu: one wb's events, aged to the global period when read. */
export class FpropLocal {
  events = 0;
  period = 0;
}

function fpropReflectPeriod(p: FpropGlobal, pl: FpropLocal): void {
  if (pl.period === p.period) return;
  const behind = p.period - pl.period;
  pl.events = behind < BITS_PER_LONG ? Math.floor(pl.events / 2 ** behind) : 0;
  pl.period = p.period;
}

/** struct wb_domain: the global dirty domain (global_wb_domain). */
export class WbDomain {
  /** dirty_limit: follows thresh at once upwards, by 1/32 per 200 ms downwards. */
  dirtyLimit = 0;
  dirtyLimitTstamp = 0;
  readonly completions = new FpropGlobal();
  /** When the next completion period starts (jiffies); 0 while aging is off. */
  periodTime = 0;
}

/** writeout_period, run for every period boundary passed since the domain was last used. */
export function wbDomainAge(dom: WbDomain, nowJiffies: number): void {
  while (dom.periodTime !== 0 && nowJiffies >= dom.periodTime) {
    const p = dom.completions;
    // fprop_new_period: nothing to age once the events are gone; then aging stops
    if (p.events <= 1) {
      dom.periodTime = 0;
      break;
    }
    p.events = Math.floor(p.events / 2);
    p.period++;
    dom.periodTime += VM_COMPLETIONS_PERIOD_LEN;
  }
}

/**
 * The dirty-throttling half of struct bdi_writeback: its page counts (wb->stat[]), writeout
 * completions, bandwidth estimate and rate limits.
 */
export class WbDirtyState {
  /** WB_RECLAIMABLE: dirty pages of this wb. */
  nrReclaimable = 0;
  /** WB_WRITEBACK: pages of this wb under writeback. */
  nrWriteback = 0;
  /** WB_DIRTIED, WB_WRITTEN: pages ever dirtied / written back (completed). */
  nrDirtied = 0;
  nrWritten = 0;
  readonly completions = new FpropLocal();
  bwTimeStamp = 0;
  dirtiedStamp = 0;
  writtenStamp = 0;
  /** write_bandwidth, avg_write_bandwidth: pages/s. */
  writeBandwidth = INIT_BW;
  avgWriteBandwidth = INIT_BW;
  /** dirty_ratelimit: the base rate a dirtier is let through at (pages/s). */
  dirtyRatelimit = INIT_BW;
  balancedDirtyRatelimit = INIT_BW;
  dirtyExceeded = false;
  /** The last wb_update_dirty_ratelimit's dirty_rate and task_ratelimit (pages/s), for its tracepoint. */
  lastDirtyRate = 0;
  lastTaskRatelimit = 0;
}

/** __wb_writeout_add: one completed writeback page, counted for the wb and its domain. */
export function wbWriteoutAdd(dom: WbDomain, wb: WbDirtyState, nowJiffies: number, nr: number): void {
  wb.nrWritten += nr;
  wbDomainAge(dom, nowJiffies);
  fpropReflectPeriod(dom.completions, wb.completions);
  wb.completions.events += nr;
  dom.completions.events += nr;
  // the first event after aging stopped starts the period clock again
  if (dom.periodTime === 0) dom.periodTime = Math.max(1, nowJiffies + VM_COMPLETIONS_PERIOD_LEN);
}

/** struct dirty_throttle_control, for the global domain and one wb. */
export interface DirtyThrottleControl {
  /** Dirtyable memory (pages). */
  avail: number;
  /** NR_FILE_DIRTY + NR_WRITEBACK (or NR_FILE_DIRTY alone for the background check). */
  dirty: number;
  thresh: number;
  bgThresh: number;
  /** The hard limit wb_position_ratio throttled against (trace's limit). */
  limit: number;
  wbDirty: number;
  wbThresh: number;
  wbBgThresh: number;
  /** pos_ratio in 1/1024ths (RATELIMIT_CALC_SHIFT). */
  posRatio: number;
  freerun: boolean;
  dirtyExceeded: boolean;
}

export function newDirtyThrottleControl(): DirtyThrottleControl {
  return { avail: 0, dirty: 0, thresh: 0, bgThresh: 0, limit: 0, wbDirty: 0, wbThresh: 0, wbBgThresh: 0, posRatio: 0, freerun: false, dirtyExceeded: false };
}

/** domain_dirty_limits: thresh and bg_thresh from the ratios (per PAGE_SIZE, as Linux) or bytes. */
export function domainDirtyLimits(dtc: DirtyThrottleControl, vm: VmSpec): void {
  const ratio = Math.floor((vm.dirtyRatio * PAGE_SIZE) / 100);
  const bgRatio = Math.floor((vm.dirtyBackgroundRatio * PAGE_SIZE) / 100);
  let thresh = vm.dirtyBytes > 0 ? Math.ceil(vm.dirtyBytes / PAGE_SIZE) : Math.floor((ratio * dtc.avail) / PAGE_SIZE);
  let bgThresh = vm.dirtyBackgroundBytes > 0 ? Math.ceil(vm.dirtyBackgroundBytes / PAGE_SIZE) : Math.floor((bgRatio * dtc.avail) / PAGE_SIZE);
  // the control law's arithmetic assumes page counts fit 32 bits
  if (thresh > 0xffff_ffff) thresh = 0xffff_ffff;
  if (bgThresh >= thresh) bgThresh = Math.floor(thresh / 2);
  dtc.thresh = thresh;
  dtc.bgThresh = bgThresh;
}

/** dirty_freerun_ceiling: below (thresh + bg_thresh) / 2 nobody is throttled. */
export function dirtyFreerunCeiling(thresh: number, bgThresh: number): number {
  return Math.floor((thresh + bgThresh) / 2);
}

export function hardDirtyLimit(dom: WbDomain, thresh: number): number {
  return Math.max(thresh, dom.dirtyLimit);
}

/** __wb_calc_thresh: the wb's share of `thresh`, by its fraction of recent writeout completions. */
export function wbCalcThresh(dom: WbDomain, wb: WbDirtyState, thresh: number, nowJiffies: number): number {
  wbDomainAge(dom, nowJiffies);
  fpropReflectPeriod(dom.completions, wb.completions);
  const num = Math.max(0, wb.completions.events);
  let den = Math.max(0, dom.completions.events);
  if (den <= num) den = num > 0 ? num : 1;
  return Math.floor((thresh * num) / den);
}

/** wb_dirty_limits: wb_thresh, wb_bg_thresh and wb_dirty (its dirty + writeback pages). */
export function wbDirtyLimits(dtc: DirtyThrottleControl, dom: WbDomain, wb: WbDirtyState, nowJiffies: number): void {
  dtc.wbThresh = wbCalcThresh(dom, wb, dtc.thresh, nowJiffies);
  dtc.wbBgThresh = dtc.thresh > 0 ? Math.floor((dtc.wbThresh * dtc.bgThresh) / dtc.thresh) : 0;
  dtc.wbDirty = wb.nrReclaimable + wb.nrWriteback;
}

/**
 * pos_ratio_polynom: 1 + ((setpoint - dirty) / (limit - setpoint))^3 in 1/1024ths, clamped to
 * [0, 2]: 2 at freerun, 1 at the setpoint, 0 at the limit.
 */
export function posRatioPolynom(setpoint: number, dirty: number, limit: number): number {
  const x = Math.trunc(((setpoint - dirty) * (1 << RATELIMIT_CALC_SHIFT)) / or1(limit - setpoint));
  let posRatio = x;
  posRatio = Math.floor((posRatio * x) / (1 << RATELIMIT_CALC_SHIFT));
  posRatio = Math.floor((posRatio * x) / (1 << RATELIMIT_CALC_SHIFT));
  posRatio += 1 << RATELIMIT_CALC_SHIFT;
  return Math.min(Math.max(posRatio, 0), 2 << RATELIMIT_CALC_SHIFT);
}

/**
 * wb_position_ratio: the global control line (the cubic around the setpoint) scaled by the wb's
 * linear line through (wb_setpoint, 1) that falls to 0 over 8 x its write bandwidth, never below
 * 1/4, and boosted when the wb holds under half its share (so the disk never runs dry).
 */
export function wbPositionRatio(dtc: DirtyThrottleControl, dom: WbDomain, wb: WbDirtyState): void {
  const writeBw = wb.avgWriteBandwidth;
  const freerun = dirtyFreerunCeiling(dtc.thresh, dtc.bgThresh);
  const limit = hardDirtyLimit(dom, dtc.thresh);
  dtc.limit = limit;
  dtc.posRatio = 0;
  if (dtc.dirty >= limit) return;
  const setpoint = Math.floor((freerun + limit) / 2);
  let posRatio = posRatioPolynom(setpoint, dtc.dirty, limit);

  let wbThresh = dtc.wbThresh;
  if (wbThresh > dtc.thresh) wbThresh = dtc.thresh;
  // a wb idle for long has a share near 0: give it enough to start writing
  wbThresh = Math.max(wbThresh, Math.floor((limit - dtc.dirty) / 8));
  // wb_setpoint = setpoint * wb_thresh / thresh, in 1/65536ths
  const x = Math.floor((wbThresh * 65536) / or1(dtc.thresh));
  const wbSetpoint = Math.floor((setpoint * x) / 65536);
  // span: 8 x write_bw for a lone wb, moving towards wb_thresh as it shares the domain
  const span = Math.floor(((dtc.thresh - wbThresh + 8 * writeBw) * x) / 65536);
  let xIntercept = wbSetpoint + span;
  if (dtc.wbDirty < xIntercept - Math.floor(span / 4)) {
    posRatio = Math.floor((posRatio * (xIntercept - dtc.wbDirty)) / or1(xIntercept - wbSetpoint));
  } else {
    posRatio = Math.floor(posRatio / 4);
  }
  // wb reserve area: under half its share, the wb is let to fill up (disk idle otherwise)
  xIntercept = Math.floor(wbThresh / 2);
  if (dtc.wbDirty < xIntercept) {
    if (dtc.wbDirty > Math.floor(xIntercept / 8)) posRatio = Math.floor((posRatio * xIntercept) / dtc.wbDirty);
    else posRatio *= 8;
  }
  dtc.posRatio = posRatio;
}

/**
 * wb_update_write_bandwidth: pages written over `elapsed` jiffies, folded into a ~4 s moving
 * average (write_bandwidth) and a second filter that ignores spikes (avg_write_bandwidth).
 */
export function wbUpdateWriteBandwidth(wb: WbDirtyState, elapsed: number, written: number): void {
  const period = roundupPowOfTwo(3 * HZ);
  let avg = wb.avgWriteBandwidth;
  const old = wb.writeBandwidth;
  let bw = (written - Math.min(written, wb.writtenStamp)) * HZ;
  if (elapsed > period) {
    bw = Math.floor(bw / elapsed);
    avg = bw;
  } else {
    bw += old * (period - elapsed);
    bw = Math.floor(bw / period);
    if (avg > old && old >= bw) avg -= Math.floor((avg - old) / 8);
    if (avg < old && old <= bw) avg += Math.floor((old - avg) / 8);
  }
  wb.writeBandwidth = bw;
  wb.avgWriteBandwidth = Math.max(avg, 1);
}

/** update_dirty_limit via domain_update_dirty_limit, at most once per BANDWIDTH_INTERVAL. */
export function domainUpdateDirtyLimit(dtc: DirtyThrottleControl, dom: WbDomain, nowJiffies: number): void {
  if (nowJiffies < dom.dirtyLimitTstamp + BANDWIDTH_INTERVAL) return;
  let limit = dom.dirtyLimit;
  if (limit < dtc.thresh) {
    limit = dtc.thresh;
  } else {
    // follow down slowly, never below the dirty pages there are
    const target = Math.max(dtc.thresh, dtc.dirty);
    if (limit > target) limit -= Math.floor((limit - target) / 32);
  }
  dom.dirtyLimit = limit;
  dom.dirtyLimitTstamp = nowJiffies;
}

/**
 * wb_update_dirty_ratelimit: the balanced rate (task_ratelimit x write_bw / dirty_rate, which is
 * write_bw / N for N dirtiers), followed by dirty_ratelimit in steps that shrink near the target
 * and only when the position error points the same way.
 */
export function wbUpdateDirtyRatelimit(dtc: DirtyThrottleControl, dom: WbDomain, wb: WbDirtyState, dirtied: number, elapsed: number): void {
  const dirty = dtc.dirty;
  const freerun = dirtyFreerunCeiling(dtc.thresh, dtc.bgThresh);
  const limit = hardDirtyLimit(dom, dtc.thresh);
  const setpoint = Math.floor((freerun + limit) / 2);
  const writeBw = wb.avgWriteBandwidth;
  let dirtyRatelimit = wb.dirtyRatelimit;
  const dirtyRate = Math.floor(((dirtied - wb.dirtiedStamp) * HZ) / elapsed);
  // each dirtier's rate over the last 200 ms; +1 lets a tiny rate ramp up
  const taskRatelimit = Math.floor((dirtyRatelimit * dtc.posRatio) / (1 << RATELIMIT_CALC_SHIFT)) + 1;
  let balanced = Math.floor((taskRatelimit * writeBw) / or1(dirtyRate));
  if (balanced > writeBw) balanced = writeBw;
  let step = 0;
  if (dirty < setpoint) {
    const x = Math.min(wb.balancedDirtyRatelimit, balanced, taskRatelimit);
    if (dirtyRatelimit < x) step = x - dirtyRatelimit;
  } else {
    const x = Math.max(wb.balancedDirtyRatelimit, balanced, taskRatelimit);
    if (dirtyRatelimit > x) step = dirtyRatelimit - x;
  }
  // don't chase the target exactly: the closer, the smaller the step
  const shift = Math.floor(dirtyRatelimit / (2 * step + 1));
  step = shift < BITS_PER_LONG ? Math.ceil(Math.floor(step / 2 ** shift) / 8) : 0;
  if (dirtyRatelimit < balanced) dirtyRatelimit += step;
  else dirtyRatelimit -= step;
  wb.dirtyRatelimit = Math.max(dirtyRatelimit, 1);
  wb.balancedDirtyRatelimit = balanced;
  wb.lastDirtyRate = dirtyRate;
  wb.lastTaskRatelimit = taskRatelimit;
}

/**
 * __wb_update_bandwidth: the write bandwidth estimate, and with `dtc` (balance_dirty_pages' call)
 * also the domain's dirty limit and the wb's dirty rate limit. Returns whether the rate limit was
 * updated.
 */
export function wbUpdateBandwidth(dtc: DirtyThrottleControl | undefined, dom: WbDomain, wb: WbDirtyState, nowJiffies: number): boolean {
  const elapsed = Math.max(nowJiffies - wb.bwTimeStamp, 1);
  const dirtied = wb.nrDirtied;
  const written = wb.nrWritten;
  if (dtc !== undefined) {
    domainUpdateDirtyLimit(dtc, dom, nowJiffies);
    wbUpdateDirtyRatelimit(dtc, dom, wb, dirtied, elapsed);
  }
  wbUpdateWriteBandwidth(wb, elapsed, written);
  wb.dirtiedStamp = dirtied;
  wb.writtenStamp = written;
  wb.bwTimeStamp = nowJiffies;
  return dtc !== undefined;
}

/** wb_bandwidth_estimate_start: a wb idle for over a second starts its estimate afresh. */
export function wbBandwidthEstimateStart(wb: WbDirtyState, nowJiffies: number): void {
  if (nowJiffies - wb.bwTimeStamp > WB_BANDWIDTH_IDLE_JIF && wb.nrWriteback === 0) {
    wb.dirtiedStamp = wb.nrDirtied;
    wb.writtenStamp = wb.nrWritten;
    wb.bwTimeStamp = nowJiffies;
  }
}

/** dirty_poll_interval: a free-running dirtier checks again after ~sqrt(pages left to thresh). */
export function dirtyPollInterval(dirty: number, thresh: number): number {
  if (thresh > dirty) return 2 ** (ilog2(thresh - dirty) >> 1);
  return 1;
}

/** wb_max_pause: at most 200 ms, and short enough that the wb's dirty pages never run out. */
export function wbMaxPause(wb: WbDirtyState, wbDirty: number): number {
  const bw = wb.avgWriteBandwidth;
  const t = Math.floor(wbDirty / (1 + Math.floor(bw / roundupPowOfTwo(1 + Math.floor(HZ / 8))))) + 1;
  return Math.min(t, MAX_PAUSE);
}

/** The pages a dirtier may dirty before its next balance_dirty_pages() (wb_min_pause's out value). */
export interface MinPause {
  minPause: number;
  nrDirtiedPause: number;
}

/**
 * wb_min_pause: aim at 10 ms pauses for one dirtier (+10 ms per doubling of dirtiers), sizing
 * nr_dirtied_pause from the stable dirty_ratelimit; the shortest pause worth sleeping is half that.
 */
export function wbMinPause(out: MinPause, wb: WbDirtyState, maxPause: number, taskRatelimit: number, dirtyRatelimit: number): void {
  const hi = ilog2(wb.avgWriteBandwidth);
  const lo = ilog2(wb.dirtyRatelimit);
  const pow2Hz = roundupPowOfTwo(HZ);
  let t = Math.max(1, Math.floor(HZ / 100));
  if (hi > lo) t += Math.floor(((hi - lo) * (10 * HZ)) / 1024);
  t = Math.min(t, 1 + Math.floor(maxPause / 2));
  let pages = Math.floor((dirtyRatelimit * t) / pow2Hz);
  // tiny nr_dirtied_pause hurts I/O: prefer longer pauses up to DIRTY_POLL_THRESH pages
  if (pages < DIRTY_POLL_THRESH) {
    t = maxPause;
    pages = Math.floor((dirtyRatelimit * t) / pow2Hz);
    if (pages > DIRTY_POLL_THRESH) {
      pages = DIRTY_POLL_THRESH;
      t = Math.floor((HZ * DIRTY_POLL_THRESH) / dirtyRatelimit);
    }
  }
  const pause = Math.floor((HZ * pages) / (taskRatelimit + 1));
  if (pause > maxPause) {
    t = maxPause;
    pages = Math.floor((taskRatelimit * t) / pow2Hz);
  }
  out.nrDirtiedPause = pages;
  out.minPause = pages >= DIRTY_POLL_THRESH ? 1 + Math.floor(t / 2) : t;
}

/** writeback_set_ratelimit: ratelimit_pages keeps all CPUs together within 1/32 of thresh. */
export function ratelimitPages(dirtyThresh: number, nrCpus: number): number {
  return Math.max(16, Math.floor(dirtyThresh / (nrCpus * 32)));
}

/** wb_stat_error: how far the per-CPU wb counters may be off (nr_cpu_ids * WB_STAT_BATCH). */
export function wbStatError(nrCpus: number): number {
  return nrCpus * 8 * (1 + ilog2(nrCpus));
}

/** KBps: pages/s as the tracepoints print rates. */
export function kbps(pagesPerSec: number): number {
  return pagesPerSec * (PAGE_SIZE / 1024);
}
