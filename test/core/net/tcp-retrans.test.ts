// Retransmission and resets: a SYN the full accept queue drops is retransmitted after the initial
// RTO (1 s, then 2 s: tcp:tcp_retransmit_skb, kprobe:tcp_retransmit_skb) and connects once the
// server accepts; a connect to a port nobody listens on is refused by a RST
// (tcp:tcp_send_reset, tcp:tcp_receive_reset, -ECONNREFUSED).
import test from 'node:test';
import assert from 'node:assert/strict';
import { attach } from '../../../probes/attach.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { sysClose } from '../../../core/fs/open.js';
import { sysRecvfrom, sysSendto, sysShutdown } from '../../../core/net/socket.js';
import { SHUT } from '../../../core/net/sock.js';
import { NETDEV_TX, type NetDeviceOps } from '../../../core/net/netdevice.js';
import { ethernetSizedLoopback, netMachine, recvAll, tcpAccept, tcpConnect, tcpListen, userBuffer } from '../../helpers/net.js';

const PORT = 8000;

test('listen backlog 0: the second SYN is dropped and retransmitted at 1 s and 3 s until accept makes room', () => {
  const m = netMachine(1);
  const r: Record<string, number> = {};
  m.spawn(
    'server',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT, 0);
        yield* nanosleep(m.k, t, 2_500_000_000);
        r['first'] = yield* tcpAccept(m, t, lfd);
        r['second'] = yield* tcpAccept(m, t, lfd);
        r['secondAtMs'] = Math.round(m.k.env.nowNs / 1e6);
      })(),
    m.init,
  );
  for (const name of ['c1', 'c2'])
    m.spawn(
      name,
      false,
      (t) =>
        (function* () {
          r[name] = yield* tcpConnect(m, t, PORT);
          r[`${name}AtMs`] = Math.round(m.k.env.nowNs / 1e6);
        })(),
      m.init,
    );
  const retrans: { ms: number; state: number; dport: number }[] = [];
  attach(m, 'tracepoint:tcp:tcp_retransmit_skb', (h) => {
    retrans.push({ ms: Math.round(h.timeNs / 1e6), state: h.fields['state'] as number, dport: h.fields['dport'] as number });
  });
  let kprobes = 0;
  attach(m, 'kprobe:tcp_retransmit_skb', () => kprobes++);
  m.run(5_000_000_000);
  assert.equal(r['c1'], 3);
  assert.equal(r['c1AtMs'], 0);
  // SYN_SENT (2) retransmissions at the initial RTO, then doubled; the 3 s one gets in
  assert.deepEqual(retrans, [
    { ms: 1000, state: 2, dport: PORT },
    { ms: 3000, state: 2, dport: PORT },
  ]);
  assert.equal(kprobes, 2);
  assert.equal(r['c2AtMs'], 3000);
  assert.ok(r['first']! > 0 && r['second']! > 0);
  assert.equal(r['secondAtMs'], 3000);
});

test('connect to a closed port: RST, ECONNREFUSED, both reset tracepoints', () => {
  const m = netMachine(1);
  let ret = 0;
  m.spawn(
    'client',
    false,
    (t) =>
      (function* () {
        ret = yield* tcpConnect(m, t, 9);
      })(),
    m.init,
  );
  const seen: string[] = [];
  attach(m, 'tracepoint:tcp:tcp_send_reset', (h) => seen.push(`send_reset reason=${h.fields['reason']}`));
  attach(m, 'tracepoint:tcp:tcp_receive_reset', (h) => seen.push(`receive_reset dport=${h.fields['dport']}`));
  attach(m, 'tracepoint:sock:inet_sock_set_state', (h) => seen.push(`${h.fields['oldstate']}>${h.fields['newstate']}`));
  m.run(100_000_000);
  assert.equal(ret, -111);
  assert.deepEqual(seen, ['7>2', 'send_reset reason=1', 'receive_reset dport=9', '2>7']);
});

test('close with unread data resets the connection: the peer reads ECONNRESET; shutdown(SHUT_WR) is EOF for the reader', () => {
  const m = netMachine(1);
  const r: Record<string, number> = {};
  const seen: string[] = [];
  m.spawn(
    'server',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT);
        const buf = yield* userBuffer(m, t, 4096);
        const a = yield* tcpAccept(m, t, lfd);
        r['eof'] = yield* sysRecvfrom(m.k, t, a, buf, 4096); // the peer's shutdown(SHUT_WR)
        r['replied'] = yield* sysSendto(m.k, t, a, buf, 100); // still open for writing
        const b = yield* tcpAccept(m, t, lfd);
        yield* nanosleep(m.k, t, 1_000_000);
        yield* sysClose(m.k, t, b); // 100 unread bytes in b's receive queue
      })(),
    m.init,
  );
  m.spawn(
    'client',
    false,
    (t) =>
      (function* () {
        const buf = yield* userBuffer(m, t, 4096);
        const a = yield* tcpConnect(m, t, PORT);
        r['shutdown'] = yield* sysShutdown(m.k, t, a, SHUT.WR);
        r['reply'] = yield* sysRecvfrom(m.k, t, a, buf, 4096);
        const b = yield* tcpConnect(m, t, PORT);
        r['sent'] = yield* sysSendto(m.k, t, b, buf, 100);
        yield* nanosleep(m.k, t, 2_000_000);
        r['afterReset'] = yield* sysRecvfrom(m.k, t, b, buf, 4096);
      })(),
    m.init,
  );
  attach(m, 'tracepoint:tcp:tcp_send_reset', (h) => seen.push(`send_reset reason=${h.fields['reason']} state=${h.fields['state']}`));
  attach(m, 'tracepoint:tcp:tcp_receive_reset', () => seen.push('receive_reset'));
  m.run(100_000_000);
  assert.deepEqual(r, { shutdown: 0, eof: 0, replied: 100, reply: 100, sent: 100, afterReset: -104 });
  assert.deepEqual(seen, ['send_reset reason=11 state=7', 'receive_reset']);
});

test('a data segment lost on the wire: one RTO, then go-back-N in slow start, every byte delivered once', () => {
  const m = netMachine(1);
  const lo = ethernetSizedLoopback(m);
  // the wire loses the 30th data segment (a test-only wrapper around loopback_xmit)
  const xmit = lo.ops.startXmit;
  let dataSegs = 0;
  (lo as { ops: NetDeviceOps }).ops = {
    startXmit(skb, dev, cpu) {
      if (skb.lenBytes > skb.headerBytes && ++dataSegs === 30) return { status: NETDEV_TX.OK, costNs: 0 };
      return xmit(skb, dev, cpu);
    },
  };
  const total = 256 << 10;
  const out = { received: 0, doneMs: 0 };
  m.spawn(
    'reader',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT);
        const buf = yield* userBuffer(m, t, 1 << 20);
        const fd = yield* tcpAccept(m, t, lfd);
        out.received = yield* recvAll(m, t, fd, buf);
        out.doneMs = m.k.env.nowNs / 1e6;
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
  const retrans: number[] = [];
  const cwndAtRetrans: number[] = [];
  attach(m, 'kprobe:tcp_retransmit_skb', (h) => {
    retrans.push(h.timeNs);
    cwndAtRetrans.push((h.args[0] as { sndCwnd: number }).sndCwnd);
  });
  m.run(2_000_000_000);
  assert.equal(out.received, total);
  assert.equal(m.k.net.copies.skbToUserBytes, total);
  // the first retransmission waits one RTO (200 ms + srtt) with cwnd 1; the rest follow as ACKs
  // open cwnd again (go-back-N: the receiver kept nothing past the hole)
  assert.ok(retrans.length > 1, `${retrans.length} retransmissions`);
  assert.ok(retrans[0]! > 200_000_000 && retrans[0]! < 210_000_000, `first at ${retrans[0]}`);
  assert.equal(cwndAtRetrans[0], 1);
  assert.ok(retrans[retrans.length - 1]! - retrans[0]! < 5_000_000, 'the rest within a few RTTs');
  assert.ok(out.doneMs > 200 && out.doneMs < 215, `done at ${out.doneMs} ms`);
});
