// The in-kernel socket API a sunrpc-like user calls (sock_create_kern, kernel_connect,
// kernel_sendmsg, kernel_recvmsg, an sk_data_ready callback) against a user-space server using
// sendmsg(2)/recvmsg(2) with iovecs; kernel buffers are not user<->skb copies.
import test from 'node:test';
import { nanosleep } from '../../../core/kernel/time/timer.js';
import assert from 'node:assert/strict';
import { putMsghdr, sockCreateKern, kernelConnect, kernelRecvmsg, kernelSendmsg, sockRelease, sysRecvmsg, sysSendmsg } from '../../../core/net/socket.js';
import { AF_INET, IPPROTO_TCP, MSG, SOCK_STREAM, type Sock } from '../../../core/net/sock.js';
import { TaskState } from '../../../core/kernel/sched/task.js';
import { ioSchedule } from '../../../core/block/blk-core.js';
import { LOCALHOST, netMachine, tcpAccept, tcpListen, userBuffer } from '../../helpers/net.js';

const PORT = 2049;

test('a kernel socket calls a user-space server: requests by kernel_sendmsg, replies through sk_data_ready and kernel_recvmsg', () => {
  const m = netMachine(1);
  const r: Record<string, number> = {};
  const events: string[] = [];
  m.spawn(
    'server',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT);
        const buf = yield* userBuffer(m, t, 1 << 16);
        const fd = yield* tcpAccept(m, t, lfd);
        // recvmsg into two iovecs (100 + 28 bytes)
        putMsghdr(t, 0x7e00_0000_0000, 0x7e00_0000_1000, [
          { va: buf, len: 100 },
          { va: buf + 100, len: 28 },
        ]);
        r['recvmsg'] = yield* sysRecvmsg(m.k, t, fd, 0x7e00_0000_0000, MSG.WAITALL);
        putMsghdr(t, 0x7e00_0000_2000, 0x7e00_0000_3000, [{ va: buf, len: 200 }]);
        r['sendmsg'] = yield* sysSendmsg(m.k, t, fd, 0x7e00_0000_2000);
      })(),
    m.init,
  );
  m.spawn(
    'rpciod',
    true,
    (t) =>
      (function* () {
        const sock = sockCreateKern(m.k, AF_INET, SOCK_STREAM, IPPROTO_TCP);
        assert.ok(typeof sock !== 'number');
        const sk = sock.sk!;
        // xs_tcp_data_ready: the transport is told, it does not poll
        sk.dataReady = (s: Sock) => {
          events.push(`data_ready rmem=${s.rmemAlloc}`);
          s.wq.wakeAll();
        };
        // the server process listens first (its fork and exec take a while)
        yield* nanosleep(m.k, t, 100_000);
        r['connect'] = yield* kernelConnect(m.k, sock, { addr: LOCALHOST, port: PORT }, t, 0);
        r['sent'] = yield* kernelSendmsg(m.k, sock, t, 128, 0);
        r['early'] = yield* kernelRecvmsg(m.k, sock, t, 4096, MSG.DONTWAIT);
        while (sk.rmemAlloc < 200) {
          t.state = TaskState.INTERRUPTIBLE;
          sk.wq.add(t);
          yield* ioSchedule(m.k, t, false);
        }
        r['reply'] = yield* kernelRecvmsg(m.k, sock, t, 4096, MSG.DONTWAIT);
        sockRelease(m.k, sock);
      })(),
    m.init,
  );
  m.run(100_000_000);
  assert.deepEqual(r, { connect: 0, sent: 128, early: -11, recvmsg: 128, sendmsg: 200, reply: 200 });
  assert.deepEqual(events, ['data_ready rmem=200']);
  // the user side's 128 + 200 bytes were copied to/from user memory; the kernel side's were not
  assert.equal(m.k.net.copies.skbToUserBytes, 128);
  assert.equal(m.k.net.copies.userToSkbBytes, 200);
});
