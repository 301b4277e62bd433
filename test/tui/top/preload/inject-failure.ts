// Preloaded with `node --import` by the tests: a failure inside kiotrace top's simulation worker,
// where no input could put one. Once the worker has sent its first snapshot, its driver throws a
// SimBug (KIOTRACE_TEST_INJECT=simbug) or blocks for good (=hang, a simulation that stops
// answering; it first creates the file KIOTRACE_TEST_HANG_MARK names, for the test to wait on).
// The main thread is left alone.
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { SimBug } from '../../../../core/index.js';
import { SimDriver } from '../../../../tui/top/driver.js';

const mode = process.env['KIOTRACE_TEST_INJECT'];

if (!isMainThread && (mode === 'simbug' || mode === 'hang')) {
  let sampled = false;
  const snapshot = SimDriver.prototype.snapshot;
  SimDriver.prototype.snapshot = function (this: SimDriver, wallNs: number) {
    sampled = true;
    return snapshot.call(this, wallNs);
  };
  const step = SimDriver.prototype.step;
  SimDriver.prototype.step = function (this: SimDriver, wallNs: number): boolean {
    if (sampled && mode === 'simbug') throw new SimBug('injected by the test');
    if (sampled) {
      const mark = process.env['KIOTRACE_TEST_HANG_MARK'];
      if (mark !== undefined) writeFileSync(mark, '');
      // blocks this thread without spinning: nothing will ever notify it
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
    }
    return step.call(this, wallNs);
  };
}
