// The line printer: one opener at a time (lp_open's LP_BUSY), write() held to the serial line's
// speed, a bad user pointer refused with EFAULT, and the bytes written coming out on paper.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, type Machine } from '../../../../core/index.js';
import type { Task } from '../../../../core/kernel/sched/task.js';
import { sysClose, sysMmap, sysOpenat, AT_FDCWD } from '../../../../core/fs/open.js';
import { sysRead, sysWrite } from '../../../../core/fs/read_write.js';
import { O } from '../../../../core/fs/types.js';
import { MAP, PROT } from '../../../../core/mm/mmap.js';

const BAUD = 115200;

function machine(): Machine {
  return bootMachine({ ...DEFAULT_MACHINE, printers: [{ name: 'lp0', baud: BAUD }] }, 1);
}

function* buffer(m: Machine, t: Task, bytes: Uint8Array): Generator<number, number, void> {
  const va = yield* sysMmap(m.k, t, 0, 8192, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, -1, 0);
  t.mm!.userBytes.set(va, bytes);
  return va;
}

test('lp lets one opener in: a second open gets EBUSY until the first closes', () => {
  const m = machine();
  const out: Record<string, number> = {};
  m.spawn('first', false, function* (t) {
    out['first'] = yield* sysOpenat(m.k, t, AT_FDCWD, '/dev/lp0', O.WRONLY, 0);
    yield 1_000_000; // hold it a while
    out['close'] = yield* sysClose(m.k, t, out['first']!);
  }, m.init);
  m.spawn('second', false, function* (t) {
    yield 100_000;
    out['busy'] = yield* sysOpenat(m.k, t, AT_FDCWD, '/dev/lp0', O.WRONLY, 0);
    yield 2_000_000;
    out['after'] = yield* sysOpenat(m.k, t, AT_FDCWD, '/dev/lp0', O.WRONLY, 0);
  }, m.init);
  m.run(10_000_000);
  assert.deepEqual(out, { first: 3, busy: -16, close: 0, after: 3 });
  assert.equal(m.printers[0]!.busyRefusals, 1);
});

test('write() to lp returns when the bytes are in the printer, at the line speed, and they print whole', () => {
  const m = machine();
  const text = new TextEncoder().encode('x'.repeat(999) + '\n');
  const out: Record<string, number> = {};
  m.spawn('writer', false, function* (t) {
    const va = yield* buffer(m, t, text);
    const fd = yield* sysOpenat(m.k, t, AT_FDCWD, '/dev/lp0', O.RDWR, 0);
    const t0 = m.env.nowNs;
    out['written'] = yield* sysWrite(m.k, t, fd, va, text.length);
    out['writeNs'] = m.env.nowNs - t0;
    out['read'] = yield* sysRead(m.k, t, fd, va, 16);
    out['fault'] = yield* sysWrite(m.k, t, fd, 0x1000, 16);
    yield* sysClose(m.k, t, fd);
  }, m.init);
  m.run(200_000_000);
  const charNs = Math.round(1e10 / BAUD); // 10 bits a byte (8N1)
  assert.equal(out['written'], 1000);
  // the writer sleeps until all but the last FIFO fill (16 bytes) has crossed the line
  assert.ok(out['writeNs']! >= (1000 - 16) * charNs && out['writeNs']! < 1000 * charNs, `write took ${out['writeNs']} ns`);
  assert.equal(out['read'], -22); // EINVAL: no reverse channel
  assert.equal(out['fault'], -14); // EFAULT: the pointer is not mapped
  assert.deepEqual(m.printers[0]!.printer.paper(), text);
});
