// The receive window as flow control: a reader that stops drives the window to zero, the sender's
// persist timer probes it with backoff, the reader's tcp_cleanup_rbuf reopens it; and the
// congestion window's slow start on a 1500-byte MTU.
import test from 'node:test';
import assert from 'node:assert/strict';
import { attach } from '../../../probes/attach.js';
import { sysClose } from '../../../core/fs/open.js';
import { sysSendto } from '../../../core/net/socket.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { NETIF_F } from '../../../core/net/netdevice.js';
import { netMachine, recvAll, tcpAccept, tcpConnect, tcpListen, userBuffer } from '../../helpers/net.js';

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
  // persist timer: after one RTO (200 ms + srtt) the first probe sends the window's last bytes
  // (tcp_write_wakeup cuts a segment to fit); once the window is 0, zero-length probes follow at
  // the RTO, then twice it (backoff); the reader's tcp_cleanup_rbuf reopens the window at once
  assert.equal(probesNs.length, 3, `probes at ${probesNs.join(', ')}`);
  assert.ok(probesNs[0]! > 200_000_000 && probesNs[0]! < 210_000_000, `first probe at ${probesNs[0]}`);
  const gap = probesNs[2]! - probesNs[1]!;
  assert.ok(gap > 400_000_000 && gap < 420_000_000, `backoff gap ${gap}`);
  assert.equal(zeroLen.length, 2, `zero-window probes reached the reader at ${zeroLen.join(', ')}`);
  assert.ok(out.sendDoneNs - out.readStartNs < 5_000_000);
  assert.ok(senderWnd.includes(0));
});

test('slow start on a 1500-byte MTU without TSO: cwnd 10 grows by one per acked segment', () => {
  const m = netMachine(1);
  const lo = m.k.net.deviceByName('lo')!;
  lo.mtu = 1500;
  lo.features &= ~(NETIF_F.TSO | NETIF_F.GSO);
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
