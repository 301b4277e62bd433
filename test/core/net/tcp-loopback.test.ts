// TCP over loopback: the handshake, a bulk transfer with exact byte and copy counts, the state
// sequence of close, and determinism.
import test from 'node:test';
import assert from 'node:assert/strict';
import { attach } from '../../../probes/attach.js';
import { sysClose } from '../../../core/fs/open.js';
import { sysRecvfrom, sysSendto } from '../../../core/net/socket.js';
import { netMachine, tcpAccept, tcpConnect, tcpListen, userBuffer } from '../../helpers/net.js';

const PORT = 5000;

function bulk(totalBytes: number, chunkBytes: number, seed = 1) {
  const m = netMachine(seed);
  const out = { received: 0, sent: 0, acceptFd: 0, connectFd: 0, eof: -1, doneNs: 0 };
  m.spawn(
    'server',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT);
        const buf = yield* userBuffer(m, t, 1 << 20);
        const fd = yield* tcpAccept(m, t, lfd);
        out.acceptFd = fd;
        for (;;) {
          const n = yield* sysRecvfrom(m.k, t, fd, buf, 1 << 20);
          if (n <= 0) {
            out.eof = n;
            break;
          }
          out.received += n;
        }
        out.doneNs = m.k.env.nowNs;
        yield* sysClose(m.k, t, fd);
        yield* sysClose(m.k, t, lfd);
      })(),
    m.init,
  );
  m.spawn(
    'client',
    false,
    (t) =>
      (function* () {
        const buf = yield* userBuffer(m, t, chunkBytes);
        const fd = yield* tcpConnect(m, t, PORT);
        out.connectFd = fd;
        while (out.sent < totalBytes) {
          const n = yield* sysSendto(m.k, t, fd, buf, Math.min(chunkBytes, totalBytes - out.sent));
          if (n <= 0) break;
          out.sent += n;
        }
        yield* sysClose(m.k, t, fd);
      })(),
    m.init,
  );
  return { m, out };
}

test('connect/accept and a 4 MiB transfer over lo: every byte arrives, one copy each way', () => {
  const { m, out } = bulk(4 << 20, 64 << 10);
  const states: string[] = [];
  attach(m, 'tracepoint:sock:inet_sock_set_state', (h) => {
    const f = h.fields!;
    states.push(`${f['sport']}->${f['dport']} ${f['oldstate']}>${f['newstate']}`);
  });
  let spaceAdjust = 0;
  attach(m, 'tracepoint:tcp:tcp_rcv_space_adjust', () => spaceAdjust++);
  const rcvbufs: number[] = [];
  attach(m, 'kprobe:tcp_cleanup_rbuf', (h) => rcvbufs.push((h.args[0] as { rcvbuf: number }).rcvbuf));
  m.run(2_000_000_000);
  assert.equal(out.sent, 4 << 20);
  // receive autotuning: the reader keeps up, so rcvbuf grows past tcp_rmem[1] (128 KiB), within tcp_rmem[2]
  assert.ok(spaceAdjust > 0);
  const maxRcvbuf = Math.max(...rcvbufs);
  assert.ok(maxRcvbuf > 131072 && maxRcvbuf <= 6291456, `rcvbuf grew to ${maxRcvbuf}`);
  assert.equal(out.received, 4 << 20);
  assert.equal(out.eof, 0);
  assert.equal(m.k.net.copies.userToSkbBytes, 4 << 20);
  assert.equal(m.k.net.copies.skbToUserBytes, 4 << 20);
  // the handshake, the client's active close (an orphan in FIN_WAIT2 goes to timewait: CLOSE), the
  // server's passive close; the listener goes when the server closes it
  const client = /^(\d+)->5000 2>1$/.exec(states[2] ?? '')?.[1];
  assert.ok(client !== undefined && Number(client) >= 32768, states.join(', '));
  assert.deepEqual(states, [
    '5000->0 7>10',
    '0->5000 7>2', // tcp_v4_connect sets SYN_SENT before inet_hash_connect picks the port
    `${client}->5000 2>1`,
    `5000->${client} 3>1`,
    `${client}->5000 1>4`,
    `5000->${client} 1>8`,
    `${client}->5000 4>5`,
    `${client}->5000 5>7`,
    `5000->${client} 8>9`,
    `5000->${client} 9>7`,
    '5000->0 10>7',
  ]);
  // 4 MiB in well under a millisecond: loopback moves 64 KiB skbs at memcpy speed
  assert.ok(out.doneNs > 400_000 && out.doneNs < 2_000_000, `done at ${out.doneNs} ns`);
});

test('the same seed gives the same transfer, to the nanosecond', () => {
  const a = bulk(1 << 20, 16 << 10, 7);
  const b = bulk(1 << 20, 16 << 10, 7);
  a.m.run(1_000_000_000);
  b.m.run(1_000_000_000);
  assert.equal(a.out.received, 1 << 20);
  assert.deepEqual(a.out, b.out);
  assert.equal(a.m.k.env.eventsRun, b.m.k.env.eventsRun);
});
