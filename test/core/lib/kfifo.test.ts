import test from 'node:test';
import assert from 'node:assert/strict';
import { Kfifo } from '../../../core/lib/kfifo.js';

test('Kfifo: FIFO order across wrap-around and growth, matching an array reference', () => {
  const q = new Kfifo<number>(4);
  const ref: number[] = [];
  let next = 0;
  let x = 12345;
  for (let step = 0; step < 10_000; step++) {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    if (x % 3 !== 0) {
      q.push(next);
      ref.push(next++);
    } else {
      assert.equal(q.shift(), ref.shift());
    }
    assert.equal(q.length, ref.length);
    assert.equal(q.peek(), ref[0]);
  }
  while (ref.length > 0) assert.equal(q.shift(), ref.shift());
  assert.equal(q.shift(), undefined);
  assert.equal(q.peek(), undefined);
});
