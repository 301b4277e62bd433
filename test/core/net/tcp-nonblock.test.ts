// Non-blocking sockets (SOCK_NONBLOCK, fcntl O_NONBLOCK): -EINPROGRESS, -EAGAIN on an empty
// receive queue, a full send buffer and an empty accept queue; ->poll's mask and the wakeups a
// poll table registered on sk_sleep receives; read/write on a socket fd; SO_SNDBUF / TCP_NODELAY.
import test from 'node:test';
import assert from 'node:assert/strict';
import { sysRead, sysWrite } from '../../../core/fs/read_write.js';
import { F_GETFL, F_SETFL, sysFcntl } from '../../../core/fs/fcntl.js';
import { EPOLL, O, type File } from '../../../core/fs/types.js';
import { sysGetsockopt, sysRecvfrom, sysSendto, sysSetsockopt } from '../../../core/net/socket.js';
import { SO, SOCK_NONBLOCK, SOCK_STREAM, SOL_SOCKET, SOL_TCP, TCP_NODELAY } from '../../../core/net/sock.js';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import { netMachine, tcpAccept, tcpConnect, tcpListen, userBuffer } from '../../helpers/net.js';
import type { WaitQueue } from '../../../core/sim/process.js';

const PORT = 7000;
const EAGAIN = -11;

test('nonblocking: EINPROGRESS, EAGAIN on empty queues and a full send buffer, POLLIN/POLLOUT and their wakeups', () => {
  const m = netMachine(1);
  const r: Record<string, number | number[]> = {};
  let wakes = 0;
  const pollFile = (t: Parameters<Parameters<typeof m.spawn>[2]>[0], fd: number, register: boolean): number => {
    const file = t.files!.get(fd)! as File;
    const pt = register ? { wait: (_f: File, wq: WaitQueue) => wq.add({ wake: () => void wakes++ }) } : undefined;
    return file.inode.fops.poll!(file, pt);
  };
  m.spawn(
    'server',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT, 16, SOCK_STREAM | SOCK_NONBLOCK);
        const buf = yield* userBuffer(m, t, 1 << 20);
        r['acceptEmpty'] = yield* tcpAccept(m, t, lfd);
        r['listenPollEmpty'] = pollFile(t, lfd, false);
        yield* nanosleep(m.k, t, 1_000_000);
        r['listenPollReady'] = pollFile(t, lfd, false);
        const fd = yield* tcpAccept(m, t, lfd, SOCK_NONBLOCK);
        r['recvEmpty'] = yield* sysRecvfrom(m.k, t, fd, buf, 4096);
        r['pollEmpty'] = pollFile(t, fd, true);
        yield* nanosleep(m.k, t, 1_000_000);
        r['wakesAfterData'] = wakes;
        r['pollData'] = pollFile(t, fd, false);
        r['read'] = yield* sysRead(m.k, t, fd, buf, 1 << 20);
        // stop reading for 100 ms: the client's send buffer fills
        yield* nanosleep(m.k, t, 100_000_000);
        let total = 0;
        for (;;) {
          const n = yield* sysRecvfrom(m.k, t, fd, buf, 1 << 20);
          if (n === EAGAIN) {
            yield* nanosleep(m.k, t, 1_000_000);
            continue;
          }
          if (n <= 0) break;
          total += n;
        }
        r['drained'] = total;
      })(),
    m.init,
  );
  m.spawn(
    'client',
    false,
    (t) =>
      (function* () {
        const buf = yield* userBuffer(m, t, 1 << 20);
        const fd = yield* tcpConnect(m, t, PORT, SOCK_STREAM | SOCK_NONBLOCK);
        r['connectFd'] = fd;
        r['pollConnecting'] = pollFile(t, fd, false);
        yield* nanosleep(m.k, t, 500_000);
        r['sndbufSet'] = yield* sysSetsockopt(m.k, t, fd, SOL_SOCKET, SO.SNDBUF, 65536);
        r['sndbuf'] = yield* sysGetsockopt(m.k, t, fd, SOL_SOCKET, SO.SNDBUF);
        r['nodelay'] = yield* sysSetsockopt(m.k, t, fd, SOL_TCP, TCP_NODELAY, 1);
        r['nodelayGet'] = yield* sysGetsockopt(m.k, t, fd, SOL_TCP, TCP_NODELAY);
        yield* nanosleep(m.k, t, 1_000_000);
        r['write'] = yield* sysWrite(m.k, t, fd, buf, 1000);
        yield* nanosleep(m.k, t, 2_000_000);
        // the server sleeps: fill its receive buffer, then our send buffer
        const sends: number[] = [];
        for (;;) {
          const n = yield* sysSendto(m.k, t, fd, buf, 1 << 20);
          sends.push(n);
          if (n === EAGAIN) break;
        }
        r['sends'] = sends;
        r['pollFull'] = pollFile(t, fd, false);
        r['flags'] = yield* sysFcntl(m.k, t, fd, F_GETFL, 0);
        // back to blocking: the next send sleeps until the reader makes room
        yield* sysFcntl(m.k, t, fd, F_SETFL, 0);
        r['blockingSend'] = yield* sysSendto(m.k, t, fd, buf, 65536);
        r['blockingSendAtMs'] = Math.floor(m.k.env.nowNs / 1e6);
      })(),
    m.init,
  );
  m.run(1_000_000_000);
  assert.equal(r['acceptEmpty'], EAGAIN);
  assert.equal(r['listenPollEmpty'], 0);
  assert.equal(r['listenPollReady'], EPOLL.IN | EPOLL.RDNORM);
  assert.equal(r['recvEmpty'], EAGAIN);
  assert.equal(r['pollEmpty'], EPOLL.OUT | EPOLL.WRNORM);
  assert.ok((r['wakesAfterData'] as number) >= 1, 'the poll table entry on sk_sleep was woken by sk_data_ready');
  assert.equal(r['pollData'], EPOLL.IN | EPOLL.RDNORM | EPOLL.OUT | EPOLL.WRNORM);
  assert.equal(r['read'], 1000);
  // connect() said -EINPROGRESS, but over lo the handshake ran in its softirqs: already writable
  assert.equal(r['pollConnecting'], EPOLL.OUT | EPOLL.WRNORM);
  assert.equal(r['sndbufSet'], 0);
  assert.equal(r['sndbuf'], 131072); // doubled, as sock_setsockopt does
  assert.equal(r['nodelay'], 0);
  assert.equal(r['nodelayGet'], 1);
  assert.equal(r['write'], 1000);
  const sends = r['sends'] as number[];
  assert.equal(sends[sends.length - 1], EAGAIN);
  assert.ok(sends.slice(0, -1).every((n) => n > 0));
  assert.equal(r['pollFull'], 0);
  assert.equal(r['flags'], O.RDWR | O.NONBLOCK);
  assert.equal(r['blockingSend'], 65536);
  assert.ok((r['blockingSendAtMs'] as number) >= 100, `blocking send returned at ${r['blockingSendAtMs']} ms`);
  const sent = sends.slice(0, -1).reduce((a, b) => a + b, 0) + 1000 + 65536;
  // the nonblocking sends took the peer's receive buffer plus our 128 KiB send buffer
  assert.ok(sent > 131072 + 65536, `sent ${sent}`);
});
