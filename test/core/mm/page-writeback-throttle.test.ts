// The dirty-throttling control law of mm/page-writeback.c, function by function, on numbers
// worked out by hand from Linux's integer arithmetic (pages, pages/s, jiffies of HZ=1000).
import test from 'node:test';
import assert from 'node:assert/strict';
import {
  DIRTY_POLL_THRESH,
  INIT_BW,
  MAX_PAUSE,
  WbDirtyState,
  WbDomain,
  dirtyFreerunCeiling,
  dirtyPollInterval,
  domainDirtyLimits,
  newDirtyThrottleControl,
  posRatioPolynom,
  wbMaxPause,
  wbMinPause,
  wbPositionRatio,
  wbUpdateDirtyRatelimit,
  wbUpdateWriteBandwidth,
  wbWriteoutAdd,
  wbCalcThresh,
  type MinPause,
} from '../../../core/mm/page-writeback-throttle.js';
import { DEFAULT_VM } from '../../../core/userspace/job.js';

const ONE = 1024; // pos_ratio 1.0

test('limits: 20% and 10% of dirtyable memory in per-PAGE_SIZE ratios; the bytes variants; freerun and setpoint between them', () => {
  const dtc = newDirtyThrottleControl();
  dtc.avail = 100_000;
  domainDirtyLimits(dtc, DEFAULT_VM);
  // (20 * 4096 / 100) * avail / 4096 = 819 * avail / 4096
  assert.deepEqual([dtc.thresh, dtc.bgThresh], [19_995, 9_985]);
  const freerun = dirtyFreerunCeiling(dtc.thresh, dtc.bgThresh);
  assert.equal(freerun, 14_990);
  domainDirtyLimits(dtc, { ...DEFAULT_VM, dirtyRatio: 0, dirtyBytes: 64 * 2 ** 20, dirtyBackgroundRatio: 0, dirtyBackgroundBytes: 100 * 2 ** 20 });
  assert.deepEqual([dtc.thresh, dtc.bgThresh], [16_384, 8_192], 'a background threshold not below the limit becomes half of it');
});

test('pos_ratio: 2 at freerun, 1 at the setpoint, 0 at the limit, a cubic in between', () => {
  const freerun = 15_000;
  const limit = 20_000;
  const setpoint = (freerun + limit) / 2;
  // (limit - setpoint) | 1 in the divisor: 2045/1024 rather than exactly 2 at freerun, 2/1024 at the limit
  assert.equal(posRatioPolynom(setpoint, freerun, limit), 2045);
  assert.equal(posRatioPolynom(setpoint, setpoint, limit), ONE);
  assert.equal(posRatioPolynom(setpoint, limit, limit), 2);
  assert.equal(posRatioPolynom(setpoint, 14_000, limit), 2 * ONE, 'clamped below freerun');
  assert.equal(posRatioPolynom(setpoint, 21_000, limit), 0, 'clamped above the limit');
  // halfway from the setpoint to the limit: 1 - (1/2)^3 = 0.875
  assert.equal(posRatioPolynom(setpoint, 18_750, limit), 896);
  // flat near the setpoint, steep near the ends
  assert.ok(posRatioPolynom(setpoint, 17_600, limit) > 1020);
});

test('wb_position_ratio: a lone wb with its whole share follows the global cubic; the wb reserve boosts a nearly empty wb', () => {
  const dom = new WbDomain();
  const wb = new WbDirtyState();
  wbWriteoutAdd(dom, wb, 0, 10_000); // the only wb: its share is the whole domain
  const dtc = newDirtyThrottleControl();
  dtc.avail = 100_000;
  domainDirtyLimits(dtc, DEFAULT_VM);
  dom.dirtyLimit = dtc.thresh;
  dtc.wbThresh = wbCalcThresh(dom, wb, dtc.thresh, 0);
  assert.ok(dtc.wbThresh >= dtc.thresh - 2, `wb_thresh ${dtc.wbThresh} of ${dtc.thresh}`);
  const setpoint = Math.floor((dirtyFreerunCeiling(dtc.thresh, dtc.bgThresh) + dtc.thresh) / 2);
  dtc.dirty = dtc.wbDirty = setpoint;
  wbPositionRatio(dtc, dom, wb);
  assert.ok(Math.abs(dtc.posRatio - ONE) <= 2, `pos_ratio at the setpoint: ${dtc.posRatio}`);
  dtc.dirty = dtc.wbDirty = dtc.thresh;
  wbPositionRatio(dtc, dom, wb);
  assert.equal(dtc.posRatio, 0, 'at the limit');
  // a wb holding under 1/16 of its share gets 8x (its disk would otherwise idle)
  dtc.dirty = setpoint;
  dtc.wbDirty = 100;
  wbPositionRatio(dtc, dom, wb);
  assert.ok(dtc.posRatio > 7 * ONE, `reserve boost: ${dtc.posRatio}`);
});

test('pause bounds: 10 ms target for one dirtier (min_pause 6), longer for a slow wb, never over MAX_PAUSE', () => {
  const out: MinPause = { minPause: 0, nrDirtiedPause: 0 };
  const fast = new WbDirtyState(); // 100 MB/s = 25600 pages/s
  const maxPause = wbMaxPause(fast, 50_000);
  assert.equal(maxPause, MAX_PAUSE, '200 ms with plenty of dirty pages');
  wbMinPause(out, fast, maxPause, INIT_BW, INIT_BW);
  // 10 ms at dirty_ratelimit: 25600 * 10 / 1024 pages; the shortest pause worth sleeping is half + 1
  assert.deepEqual(out, { minPause: 6, nrDirtiedPause: 250 });
  // a 1 MB/s wb: 32 pages (DIRTY_POLL_THRESH) take 125 ms; sleeping is worth it from half that
  const slow = new WbDirtyState();
  slow.avgWriteBandwidth = slow.dirtyRatelimit = 256;
  wbMinPause(out, slow, MAX_PAUSE, 256, 256);
  assert.deepEqual(out, { minPause: 63, nrDirtiedPause: DIRTY_POLL_THRESH });
  // a small dirty pool: max_pause is short enough not to let it run dry
  assert.equal(wbMaxPause(fast, 1_000), Math.floor(1_000 / (1 + Math.floor(INIT_BW / 128))) + 1);
  // a free-running dirtier checks again after about sqrt(pages left to the threshold)
  assert.equal(dirtyPollInterval(10_000, 20_000), 64);
  assert.equal(dirtyPollInterval(20_000, 20_000), 1);
});

test('rate estimation: write bandwidth is a moving average; with N dirtiers the balanced rate is write_bw / N', () => {
  const wb = new WbDirtyState();
  // 200 ms at 50000 pages/s on top of INIT_BW: one step of the ~4 s average
  wbUpdateWriteBandwidth(wb, 200, 10_000);
  assert.equal(wb.writeBandwidth, Math.floor((10_000 * 1000 + INIT_BW * (4096 - 200)) / 4096));
  assert.equal(wb.avgWriteBandwidth, INIT_BW, 'the second filter waits for write_bandwidth to move');
  const old = wb.writeBandwidth;
  wbUpdateWriteBandwidth(wb, 200, 20_000);
  assert.ok(wb.writeBandwidth > old);
  assert.equal(wb.avgWriteBandwidth, INIT_BW + Math.floor((old - INIT_BW) / 8), 'then follows it 1/8 of the way per step');

  const dom = new WbDomain();
  const two = new WbDirtyState();
  two.avgWriteBandwidth = 40_000;
  two.dirtyRatelimit = two.balancedDirtyRatelimit = 20_000;
  const dtc = newDirtyThrottleControl();
  dtc.thresh = 20_000;
  dtc.bgThresh = 10_000;
  dtc.dirty = 17_500; // at the setpoint
  dtc.posRatio = ONE;
  dom.dirtyLimit = 20_000;
  // two dirtiers, each at task_ratelimit (20001 pages/s): 8000 pages in 200 ms
  wbUpdateDirtyRatelimit(dtc, dom, two, 8_000, 200);
  assert.equal(two.lastDirtyRate, 40_000);
  assert.equal(two.balancedDirtyRatelimit, 20_000, 'write_bw / 2');
  assert.equal(two.dirtyRatelimit, 20_000, 'already balanced: no step');
});
