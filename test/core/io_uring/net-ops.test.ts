// io_uring on sockets: a RECV with nothing to read arms an internal poll and completes when data
// arrives (no io-wq worker); a SEND with MSG_WAITALL into a full send buffer keeps its progress and
// re-arms until all is queued; SEND_ZC posts its result with F_MORE, then the notification, whose
// IORING_NOTIF_USAGE_ZC_COPIED bit says lo copied the pages (skb_orphan_frags_rx).
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { attach } from '../../../probes/attach.js';
import { sysClose } from '../../../core/fs/open.js';
import { sysRecvfrom, sysSendto, sysSetsockopt } from '../../../core/net/socket.js';
import { MSG, SO, SOL_SOCKET } from '../../../core/net/sock.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import {
  IORING_CQE_F,
  IORING_ENTER,
  IORING_NOTIF_USAGE_ZC_COPIED,
  IORING_OP,
  IORING_RECVSEND,
  ioUringParams,
  sysIoUringEnter,
  sysIoUringSetup,
  type IoRings,
} from '../../../core/io_uring/io_uring.js';
import { netMachine, tcpAccept, tcpConnect, tcpListen, userBuffer } from '../../helpers/net.js';

const PORT = 5200;

interface Cqe {
  readonly atNs: number;
  readonly userData: number;
  readonly res: number;
  readonly flags: number;
}

/** A ring on `t`, one SQE submitted per call, CQEs collected as they are reaped. */
function* ring(m: Machine, t: Task) {
  const params = ioUringParams();
  const fd = yield* sysIoUringSetup(m.k, t, 8, params);
  const rings: IoRings = params.rings!;
  const cqes: Cqe[] = [];
  return {
    cqes,
    *submit(sqe: { opcode: number; fd: number; addr: number; len: number; opFlags?: number; ioprio?: number; userData: number }): Generator<number, number, void> {
      const s = rings.sqes[rings.sqTail & (rings.sqEntries - 1)]!;
      Object.assign(s, { flags: 0, off: 0, opFlags: 0, ioprio: 0, bufIndex: 0, ioId: 0 }, sqe);
      rings.sqTail++;
      return yield* sysIoUringEnter(m.k, t, fd, 1, 0, 0);
    },
    /** Waits until `n` CQEs in all have been reaped. */
    *wait(n: number): Generator<number, void, void> {
      while (cqes.length < n) {
        if (rings.cqReady === 0) yield* sysIoUringEnter(m.k, t, fd, 0, 1, IORING_ENTER.GETEVENTS);
        while (rings.cqReady > 0) {
          const c = rings.cqes[rings.cqHead & (rings.cqEntries - 1)]!;
          rings.cqHead++;
          cqes.push({ atNs: m.k.env.nowNs, userData: c.userData, res: c.res, flags: c.flags });
        }
      }
    },
  };
}

function counting(m: Machine, name: string): { n: number } {
  const c = { n: 0 };
  attach(m, name, () => void c.n++);
  return c;
}

test('RECV on an empty socket arms a poll and completes when the data comes, 1 ms later; no io-wq worker', () => {
  const m = netMachine();
  const arms = counting(m, 'tracepoint:io_uring:io_uring_poll_arm');
  const punts = counting(m, 'tracepoint:io_uring:io_uring_queue_async_work');
  const out = { cqes: [] as Cqe[], got: '' };
  m.spawn('server', false, (t) =>
    (function* () {
      const lfd = yield* tcpListen(m, t, PORT);
      const buf = yield* userBuffer(m, t, 4096);
      const fd = yield* tcpAccept(m, t, lfd);
      const r = yield* ring(m, t);
      yield* r.submit({ opcode: IORING_OP.RECV, fd, addr: buf, len: 4096, userData: 7 });
      yield* r.wait(1);
      out.cqes = r.cqes;
      out.got = new TextDecoder().decode(t.mm!.userBytes.get(buf)!.subarray(0, r.cqes[0]!.res));
      yield* sysClose(m.k, t, fd);
    })(), m.init);
  m.spawn('client', false, (t) =>
    (function* () {
      const buf = yield* userBuffer(m, t, 4096);
      const fd = yield* tcpConnect(m, t, PORT);
      yield* nanosleep(m.k, t, 1_000_000);
      const msg = new TextEncoder().encode('hello through the ring');
      t.mm!.userBytes.set(buf, msg);
      yield* sysSendto(m.k, t, fd, buf, msg.length);
      yield* sysClose(m.k, t, fd);
    })(), m.init);
  m.run(5_000_000);
  assert.equal(out.cqes.length, 1);
  assert.equal(out.cqes[0]!.userData, 7);
  assert.equal(out.cqes[0]!.res, 22);
  assert.ok(out.cqes[0]!.atNs > 1_000_000, `completed at ${out.cqes[0]!.atNs} ns`);
  assert.equal(out.got, 'hello through the ring');
  assert.equal(arms.n, 1);
  assert.equal(punts.n, 0);
});

test('SEND of 1 MiB with MSG_WAITALL to a reader that starts late: one CQE for all of it, polls re-armed, no io-wq worker', () => {
  const m = netMachine();
  const arms = counting(m, 'tracepoint:io_uring:io_uring_poll_arm');
  const punts = counting(m, 'tracepoint:io_uring:io_uring_queue_async_work');
  const taskAdds = counting(m, 'tracepoint:io_uring:io_uring_task_add');
  const out = { cqes: [] as Cqe[], received: 0 };
  const LEN = 1 << 20;
  m.spawn('server', false, (t) =>
    (function* () {
      const lfd = yield* tcpListen(m, t, PORT);
      const buf = yield* userBuffer(m, t, 1 << 16);
      const fd = yield* tcpAccept(m, t, lfd);
      yield* nanosleep(m.k, t, 2_000_000);
      for (;;) {
        const n = yield* sysRecvfrom(m.k, t, fd, buf, 1 << 16);
        if (n <= 0) break;
        out.received += n;
      }
    })(), m.init);
  m.spawn('client', false, (t) =>
    (function* () {
      const buf = yield* userBuffer(m, t, LEN);
      const fd = yield* tcpConnect(m, t, PORT);
      // a fixed 128 KiB send buffer: 1 MiB does not fit before the reader starts
      yield* sysSetsockopt(m.k, t, fd, SOL_SOCKET, SO.SNDBUF, 64 << 10);
      const r = yield* ring(m, t);
      yield* r.submit({ opcode: IORING_OP.SEND, fd, addr: buf, len: LEN, opFlags: MSG.WAITALL, userData: 1 });
      yield* r.wait(1);
      out.cqes = r.cqes;
      yield* sysClose(m.k, t, fd);
    })(), m.init);
  m.run(20_000_000);
  assert.deepEqual(out.cqes.map((c) => [c.userData, c.res, c.flags]), [[1, LEN, 0]]);
  assert.ok(out.cqes[0]!.atNs > 2_000_000, 'the last bytes were queued once the reader made room');
  assert.equal(out.received, LEN);
  assert.ok(arms.n >= 1 && taskAdds.n >= 2, `${arms.n} polls armed, ${taskAdds.n} wakeups`);
  assert.equal(punts.n, 0);
});

test('SEND_ZC over lo: the result with F_MORE, then the notification with F_NOTIF, ZC_COPIED (lo copied the pages)', () => {
  const m = netMachine();
  const out = { cqes: [] as Cqe[], received: [] as number[] };
  m.spawn('server', false, (t) =>
    (function* () {
      const lfd = yield* tcpListen(m, t, PORT);
      const buf = yield* userBuffer(m, t, 1 << 16);
      const fd = yield* tcpAccept(m, t, lfd);
      for (;;) {
        const n = yield* sysRecvfrom(m.k, t, fd, buf, 1 << 16);
        if (n <= 0) break;
        out.received.push(...t.mm!.userBytes.get(buf)!.subarray(0, n));
      }
    })(), m.init);
  m.spawn('client', false, (t) =>
    (function* () {
      const buf = yield* userBuffer(m, t, 8192);
      t.mm!.userBytes.set(buf, new Uint8Array(8192).fill(3));
      const fd = yield* tcpConnect(m, t, PORT);
      const r = yield* ring(m, t);
      yield* r.submit({ opcode: IORING_OP.SEND_ZC, fd, addr: buf, len: 8192, ioprio: IORING_RECVSEND.SEND_ZC_REPORT_USAGE, userData: 9 });
      yield* r.wait(2);
      out.cqes = r.cqes;
      yield* sysClose(m.k, t, fd);
    })(), m.init);
  m.run(5_000_000);
  assert.deepEqual(out.cqes.map((c) => [c.userData, c.res, c.flags]), [
    [9, 8192, IORING_CQE_F.MORE],
    [9, IORING_NOTIF_USAGE_ZC_COPIED, IORING_CQE_F.NOTIF],
  ]);
  assert.equal(out.received.length, 8192);
  assert.ok(out.received.every((b) => b === 3));
});
