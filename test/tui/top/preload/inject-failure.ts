// Preloaded with `node --import` by the tests: a failure where no input could put one.
// In kiotrace top's simulation worker: once the worker has sent its first snapshot, its driver
// throws a SimBug (KIOTRACE_TEST_INJECT=simbug) or blocks for good (=hang, a simulation that stops
// answering; it first creates the file KIOTRACE_TEST_HANG_MARK names, for the test to wait on).
// In the dashboard (the main thread): every snapshot the Ink app gets throws when its devices are
// read, so painting it throws (=render); or decoding a read of stdin that holds a `!` throws
// (=keys); or the listener for the simulation's status (pause, speed) throws, outside Ink and
// React altogether (=status).
import { writeFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { SimBug } from '../../../../core/index.js';
import { SimDriver } from '../../../../tui/top/driver.js';
import { KeyDecoder } from '../../../../tui/top/key-decoder.js';
import { WorkerLink } from '../../../../tui/top/run-top.js';
import type { Snapshot } from '../../../../tui/top/snapshot.js';

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

if (isMainThread && mode === 'render') {
  const onSnapshot = WorkerLink.prototype.onSnapshot;
  WorkerLink.prototype.onSnapshot = function (this: WorkerLink, listener: (s: Snapshot) => void): () => void {
    // the frames painted before Ink read the link's history, not the snapshot given: only the app gets the broken one
    const broken = (s: Snapshot): Snapshot =>
      new Proxy(s, {
        get: (target, key) => {
          if (key === 'devices') throw new Error('injected by the test');
          return Reflect.get(target, key) as unknown;
        },
      });
    return onSnapshot.call(this, (s) => listener(broken(s)));
  };
}

if (isMainThread && mode === 'keys') {
  const push = KeyDecoder.prototype.push;
  KeyDecoder.prototype.push = function (this: KeyDecoder, chunk: string | Uint8Array) {
    if ((typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString()).includes('!')) throw new Error('injected by the test');
    return push.call(this, chunk);
  };
}

if (isMainThread && mode === 'status') {
  const onStatus = WorkerLink.prototype.onStatus;
  WorkerLink.prototype.onStatus = function (this: WorkerLink, listener: (paused: boolean, speed: number) => void): () => void {
    return onStatus.call(this, () => {
      throw new Error('injected by the test');
    });
  };
}
