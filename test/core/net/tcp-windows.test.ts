// The receive window as flow control: a reader that stops drives the window to zero, the sender's
// persist timer probes it with backoff, the reader's tcp_cleanup_rbuf reopens it; and the
// congestion window's slow start on a 1500-byte MTU; Nagle with Minshall's rule.
import test from 'node:test';
import assert from 'node:assert/strict';
import { attach } from '../../../probes/attach.js';
import { sysClose } from '../../../core/fs/open.js';
import { sysSendto } from '../../../core/net/socket.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { ethernetSizedLoopback, netMachine, recvAll, tcpAccept, tcpConnect, tcpListen, userBuffer } from '../../helpers/net.js';

const PORT = 6000;

test('a reader asleep for 1.5 s: zero window, probes backing off, the window reopens when it reads', () => {
  const m = netMachine(1);
  const total = 2 << 20;
  const out = { received: 0, sent: 0, sendDoneNs: 0, readStartNs: 0 };
  m.spawn(
    'reader',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT);
        const buf = yield* userBuffer(m, t, 1 << 20);
        const fd = yield* tcpAccept(m, t, lfd);
        yield* nanosleep(m.k, t, 1_500_000_000);
        out.readStartNs = m.k.env.nowNs;
        out.received = yield* recvAll(m, t, fd, buf);
      })(),
    m.init,
  );
  m.spawn(
    'writer',
    false,
    (t) =>
      (function* () {
        const buf = yield* userBuffer(m, t, total);
        const fd = yield* tcpConnect(m, t, PORT);
        out.sent = yield* sysSendto(m.k, t, fd, buf, total);
        out.sendDoneNs = m.k.env.nowNs;
        yield* sysClose(m.k, t, fd);
      })(),
    m.init,
  );
  const probesNs: number[] = [];
  attach(m, 'kprobe:tcp_send_probe0', (h) => probesNs.push(h.timeNs));
  // the receiver's view of each segment (tcp_probe fires on the receiving socket)
  const zeroLen: number[] = [];
  const senderWnd: number[] = [];
  attach(m, 'tracepoint:tcp:tcp_probe', (h) => {
    const f = h.fields;
    if (f['sport'] === PORT && f['data_len'] === 0 && (f['rcv_wnd'] as number) === 0) zeroLen.push(h.timeNs);
    if (f['dport'] === PORT) senderWnd.push(f['snd_wnd'] as number);
  });
  m.run(3_000_000_000);
  assert.equal(out.sent, total);
  assert.equal(out.received, total);
  // the writer blocked in sk_stream_wait_memory until the reader woke
  assert.ok(out.sendDoneNs > out.readStartNs, `send returned at ${out.sendDoneNs}, reading began at ${out.readStartNs}`);
  // persist timer: zero-length probes one RTO (200 ms + srtt) after the window closed, then at
  // twice and four times that (backoff); each reaches the reader while its window is 0, and the
  // reader's tcp_cleanup_rbuf reopens the window at once when it reads
  assert.equal(probesNs.length, 3, `probes at ${probesNs.join(', ')}`);
  assert.ok(probesNs[0]! > 200_000_000 && probesNs[0]! < 210_000_000, `first probe at ${probesNs[0]}`);
  const gaps = [probesNs[1]! - probesNs[0]!, probesNs[2]! - probesNs[1]!];
  assert.ok(gaps[0]! > 400_000_000 && gaps[0]! < 420_000_000 && gaps[1]! > 800_000_000 && gaps[1]! < 840_000_000, `backoff gaps ${gaps.join(', ')}`);
  assert.equal(zeroLen.length, 3, `zero-window probes reached the reader at ${zeroLen.join(', ')}`);
  assert.ok(out.sendDoneNs - out.readStartNs < 5_000_000);
  assert.ok(senderWnd.includes(0));
});

test('slow start on a 1500-byte MTU without TSO: cwnd 10 grows by one per acked segment', () => {
  const m = netMachine(1);
  ethernetSizedLoopback(m);
  const total = 1 << 20;
  let received = 0;
  m.spawn(
    'reader',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT);
        const buf = yield* userBuffer(m, t, 1 << 20);
        const fd = yield* tcpAccept(m, t, lfd);
        received = yield* recvAll(m, t, fd, buf);
      })(),
    m.init,
  );
  m.spawn(
    'writer',
    false,
    (t) =>
      (function* () {
        const buf = yield* userBuffer(m, t, total);
        const fd = yield* tcpConnect(m, t, PORT);
        yield* sysSendto(m.k, t, fd, buf, total);
        yield* sysClose(m.k, t, fd);
      })(),
    m.init,
  );
  const cwnds: number[] = [];
  const segLens = new Set<number>();
  attach(m, 'tracepoint:tcp:tcp_probe', (h) => {
    const f = h.fields;
    if (f['dport'] === PORT) cwnds.push(f['snd_cwnd'] as number);
    else if ((f['data_len'] as number) > 0) segLens.add(f['data_len'] as number);
  });
  m.run(1_000_000_000);
  assert.equal(received, total);
  // segments of one MSS (1500 - 20 - 32) at most
  assert.equal(Math.max(...segLens), 1448);
  assert.equal(cwnds[0], 10);
  for (let i = 1; i < cwnds.length; i++) assert.ok(cwnds[i]! >= cwnds[i - 1]!, 'cwnd never shrinks without loss');
  const last = cwnds[cwnds.length - 1]!;
  assert.ok(last >= 40, `cwnd reached ${last}`);
});

test("Nagle with Minshall's rule: a small tail goes at once behind full segments in flight", () => {
  const m = netMachine(1);
  ethernetSizedLoopback(m);
  const write = 2 * 1448 + 100;
  m.spawn(
    'reader',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT);
        const buf = yield* userBuffer(m, t, 1 << 20);
        const fd = yield* tcpAccept(m, t, lfd);
        yield* recvAll(m, t, fd, buf);
      })(),
    m.init,
  );
  m.spawn(
    'writer',
    false,
    (t) =>
      (function* () {
        const buf = yield* userBuffer(m, t, write);
        const fd = yield* tcpConnect(m, t, PORT);
        // two writes back to back, each two full segments and a 100-byte tail
        yield* sysSendto(m.k, t, fd, buf, write);
        yield* sysSendto(m.k, t, fd, buf, write);
        yield* sysClose(m.k, t, fd);
      })(),
    m.init,
  );
  // the data segments as they leave, and the ACKs the writer gets (tcp_probe on its socket)
  const sent: { atNs: number; len: number }[] = [];
  let firstAckNs = 0;
  attach(m, 'tracepoint:tcp:tcp_probe', (h) => {
    const f = h.fields;
    if (f['sport'] === PORT && (f['data_len'] as number) > 0) sent.push({ atNs: h.timeNs, len: f['data_len'] as number });
    if (f['dport'] === PORT && firstAckNs === 0 && sent.length > 0) firstAckNs = h.timeNs;
  });
  m.run(100_000_000);
  assert.deepEqual(sent.map((s) => s.len), [1448, 1448, 100, 1448, 1448, 100]);
  // the first tail is not held: nothing small is in flight, so it follows the two full segments
  // before any ACK comes back (classic Nagle would hold it until the first ACK)
  assert.ok(sent[2]!.atNs < firstAckNs, `first tail at ${sent[2]!.atNs}, first ACK at ${firstAckNs}`);
});
