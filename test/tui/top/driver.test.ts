// The live view's driver against a fake wall clock: it runs at the speed asked for, says the
// speed it achieved when it cannot keep up, and never races to make up a stall.
import test from 'node:test';
import assert from 'node:assert/strict';
import { MAX_LAG_WALL_NS, SimDriver } from '../../../tui/top/driver.js';
import { buildView, INITIAL_UI, plainText } from '../../../tui/top/view-model.js';
import { prepareRun } from '../../../tui/run.js';
import { scenario } from '../../helpers/machine.js';

const MS = 1_000_000;

function driverAt(speed: number): { driver: SimDriver; simNs: () => number } {
  const s = scenario('default');
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  return { driver: new SimDriver(m, s.name, 1, s.durationNs, speed, 0), simNs: () => m.env.nowNs };
}

/** Steps until the driver has caught up with the wall clock at `wallNs`. */
function catchUp(driver: SimDriver, wallNs: number): void {
  while (driver.step(wallNs));
}

/** A machine that keeps up: caught up at every wall millisecond from `fromNs` to `toNs`. */
function keepUp(driver: SimDriver, fromNs: number, toNs: number): void {
  for (let wall = fromNs; wall <= toNs; wall += MS) catchUp(driver, wall);
}

test('a stall (a slow start, a busy machine) is forgiven, not made up by racing ahead', () => {
  const { driver, simNs } = driverAt(1);
  catchUp(driver, 10 * MS);
  assert.equal(simNs(), 10 * MS);
  // three wall seconds pass without a step: the driver owes the clock only MAX_LAG_WALL_NS
  catchUp(driver, 3010 * MS);
  assert.equal(simNs(), 10 * MS + MAX_LAG_WALL_NS);
  // and from there it keeps pace again
  catchUp(driver, 3020 * MS);
  assert.equal(simNs(), 20 * MS + MAX_LAG_WALL_NS);
});

test('keeping up: the header shows the speed asked for', () => {
  const { driver } = driverAt(1);
  keepUp(driver, 0, 100 * MS);
  const snap = driver.snapshot(100 * MS);
  assert.equal(snap.achievedSpeed, 1);
  assert.equal(snap.behind, false);
  keepUp(driver, 100 * MS, 200 * MS);
  const header = plainText(buildView([driver.snapshot(200 * MS)], INITIAL_UI, 120, 40).lines[0]!);
  assert.match(header, /^kiotrace top {2}default {2}seed 1 {2}sim 200 ms \/ 2\.00 s {2}speed 1x {2}[\d.]+[kM]? events\/s {2}● running$/);
});

test('falling behind: the header says the speed achieved, of the speed asked for', () => {
  const { driver, simNs } = driverAt(1);
  // a machine that manages one 2 ms chunk per 10 ms of wall time: 0.2x
  for (let wall = 10 * MS; wall <= 500 * MS; wall += 10 * MS) driver.step(wall);
  assert.equal(simNs(), 100 * MS);
  const snap = driver.snapshot(500 * MS);
  assert.equal(snap.achievedSpeed, 0.2);
  assert.equal(snap.behind, true);
  for (let wall = 510 * MS; wall <= 1000 * MS; wall += 10 * MS) driver.step(wall);
  const line = buildView([driver.snapshot(1000 * MS)], INITIAL_UI, 120, 40).lines[0]!;
  assert.match(plainText(line), /^kiotrace top {2}default {2}seed 1 {2}sim 200 ms \/ 2\.00 s {2}speed 0\.20x of 1x, behind {2}[\d.]+[kM]? events\/s {2}● running$/);
  assert.equal(line.find((s) => s.text.endsWith('behind'))?.tone, 'warn');
});

test('paused time is not running time: the interval around a pause still measures 1x', () => {
  const { driver } = driverAt(1);
  keepUp(driver, 0, 100 * MS);
  driver.snapshot(100 * MS);
  driver.togglePause(100 * MS);
  catchUp(driver, 900 * MS);
  driver.togglePause(1000 * MS);
  keepUp(driver, 1000 * MS, 1100 * MS);
  const snap = driver.snapshot(1100 * MS);
  assert.equal(snap.achievedSpeed, 1);
  assert.equal(snap.behind, false);
});

test('too short an interval to measure says nothing (the first snapshot comes at once)', () => {
  const { driver } = driverAt(1);
  driver.step(0);
  const first = driver.snapshot(0);
  assert.equal(first.achievedSpeed, undefined);
  assert.equal(first.behind, false);
});
