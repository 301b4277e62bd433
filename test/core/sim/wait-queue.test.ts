// WaitQueue with func entries (wait_queue_entry with a custom func): they stay queued across
// wakeups, get the key, and exclusive ones count against wake_up's nr_exclusive of 1.
import test from 'node:test';
import assert from 'node:assert/strict';
import { WaitQueue, type WaitQueueEntry } from '../../../core/sim/process.js';

function entry(name: string, exclusive: boolean, log: string[], wokeSomeone = true): WaitQueueEntry {
  return {
    exclusive,
    wakeFunc(key: number): boolean {
      log.push(`${name}:${key}`);
      return wokeSomeone;
    },
  };
}

test('wakeAll calls every entry with the key and keeps them; sleepers are removed', () => {
  const log: string[] = [];
  const wq = new WaitQueue();
  const e1 = entry('e1', false, log);
  const x1 = entry('x1', true, log);
  wq.addEntry(x1);
  wq.addEntry(e1);
  wq.add({ wake: () => log.push('sleeper') });
  assert.equal(wq.length, 3);
  assert.equal(wq.wakeAll(5), 1);
  assert.deepEqual(log, ['e1:5', 'x1:5', 'sleeper']);
  assert.equal(wq.length, 2);
  wq.removeEntry(e1);
  wq.removeEntry(x1);
  assert.equal(wq.length, 0);
});

test('wakeOne: all non-exclusive entries, then a sleeper, else exclusive entries until one says it woke someone', () => {
  const log: string[] = [];
  const wq = new WaitQueue();
  wq.addEntry(entry('x-idle', true, log, false));
  wq.addEntry(entry('x-busy', true, log, true));
  wq.addEntry(entry('x-late', true, log, true));
  wq.addEntry(entry('n', false, log));
  assert.equal(wq.wakeOne(1), true);
  assert.deepEqual(log, ['n:1', 'x-idle:1', 'x-busy:1']);
  log.length = 0;
  wq.add({ wake: () => log.push('sleeper') });
  assert.equal(wq.wakeOne(2), true);
  assert.deepEqual(log, ['n:2', 'sleeper']);
});
