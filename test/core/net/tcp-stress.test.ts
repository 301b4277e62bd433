// Many connections at once over lo with seeded random sizes: write and read sizes, slow readers,
// small SO_SNDBUF/SO_RCVBUF, MTUs with and without TSO, and a wire that loses packets. Every byte
// arrives, every connection closes, nothing is left hashed but timewait.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../../../core/index.js';
import { sysClose } from '../../../core/fs/open.js';
import { sysRecvfrom, sysSendto, sysSetsockopt } from '../../../core/net/socket.js';
import { SO, SOL_SOCKET } from '../../../core/net/sock.js';
import { NETDEV_TX, NETIF_F, type NetDeviceOps } from '../../../core/net/netdevice.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { tcpHashinfo } from '../../../core/net/ipv4/tcp_ipv4.js';
import { netMachine, tcpAccept, tcpConnect, tcpListen, userBuffer } from '../../helpers/net.js';

interface Flow {
  readonly total: number;
  sent: number;
  got: number;
}

function run(seed: number, lossPerMille = 0): { m: Machine; flows: Flow[] } {
  let x = (seed * 2654435761) >>> 0;
  const rnd = (n: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return x % n;
  };
  const m = netMachine(seed);
  if (rnd(2) === 1) {
    const lo = m.k.net.deviceByName('lo')!;
    lo.mtu = 1500 + rnd(9000);
    if (rnd(2) === 1) lo.features &= ~(NETIF_F.TSO | NETIF_F.GSO);
  }
  if (lossPerMille > 0) {
    // a lossy wire: the test wraps loopback_xmit and drops packets (SYNs, data, ACKs, FINs alike)
    const lo = m.k.net.deviceByName('lo')!;
    const xmit = lo.ops.startXmit;
    (lo as { ops: NetDeviceOps }).ops = {
      startXmit: (skb, dev, cpu) => (rnd(1000) < lossPerMille ? { status: NETDEV_TX.OK, costNs: 0 } : xmit(skb, dev, cpu)),
    };
  }
  const flows: Flow[] = [];
  for (let i = 0; i < 6; i++) {
    const port = 9000 + i;
    const f: Flow = { total: 1 + rnd(1 << 20), sent: -1, got: -1 };
    flows.push(f);
    const [wsz, rsz, sleepNs, sndbuf, rcvbuf] = [1 + rnd(200_000), 1 + rnd(300_000), rnd(3) === 0 ? rnd(30) * 1_000_000 : 0, rnd(3) === 0 ? 4096 + rnd(100_000) : 0, rnd(3) === 0 ? 4096 + rnd(100_000) : 0];
    const delayNs = rnd(1000) * 1000;
    m.spawn(
      `s${i}`,
      false,
      (t) =>
        (function* () {
          const lfd = yield* tcpListen(m, t, port);
          if (rcvbuf > 0) yield* sysSetsockopt(m.k, t, lfd, SOL_SOCKET, SO.RCVBUF, rcvbuf);
          const buf = yield* userBuffer(m, t, 1 << 20);
          const fd = yield* tcpAccept(m, t, lfd);
          let got = 0;
          for (;;) {
            if (sleepNs > 0) yield* nanosleep(m.k, t, sleepNs);
            const n = yield* sysRecvfrom(m.k, t, fd, buf, rsz);
            if (n <= 0) break;
            got += n;
          }
          f.got = got;
          yield* sysClose(m.k, t, fd);
          yield* sysClose(m.k, t, lfd);
        })(),
      m.init,
    );
    m.spawn(
      `c${i}`,
      false,
      (t) =>
        (function* () {
          const buf = yield* userBuffer(m, t, 1 << 20);
          yield* nanosleep(m.k, t, delayNs);
          const fd = yield* tcpConnect(m, t, port);
          if (sndbuf > 0) yield* sysSetsockopt(m.k, t, fd, SOL_SOCKET, SO.SNDBUF, sndbuf);
          let sent = 0;
          while (sent < f.total) {
            const n = yield* sysSendto(m.k, t, fd, buf, Math.min(wsz, f.total - sent));
            if (n <= 0) break;
            sent += n;
          }
          f.sent = sent;
          yield* sysClose(m.k, t, fd);
        })(),
      m.init,
    );
  }
  m.run(600_000_000_000);
  return { m, flows };
}

for (const seed of [1, 3, 5, 11]) {
  test(`seed ${seed}: six connections with random sizes all complete and close`, () => {
    const { m, flows } = run(seed);
    for (const f of flows) assert.deepEqual([f.sent, f.got], [f.total, f.total]);
    const total = flows.reduce((a, f) => a + f.total, 0);
    assert.equal(m.k.net.copies.userToSkbBytes, total);
    assert.equal(m.k.net.copies.skbToUserBytes, total);
    const live = [...tcpHashinfo(m.k).established.values()].filter((t) => !t.timeWait);
    assert.deepEqual(live, []);
  });
}

for (const seed of [2, 4]) {
  test(`seed ${seed} on a wire losing 5% of packets: retransmission delivers every byte and every connection closes`, () => {
    const { m, flows } = run(seed, 50);
    for (const f of flows) assert.deepEqual([f.sent, f.got], [f.total, f.total]);
    const live = [...tcpHashinfo(m.k).established.values()].filter((t) => !t.timeWait);
    assert.deepEqual(live, []);
  });
}
