// Payload content through TCP and the copy semantics of send(): a copying send snapshots the user
// buffer at the call, so a store after it returns changes nothing the receiver gets; MSG_ZEROCOPY
// sends the pages themselves and its completion arrives on the error queue (recvmsg(MSG_ERRQUEUE),
// EPOLLERR), marked COPIED over lo where the receive path copies the pages (skb_orphan_frags_rx).
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { sysClose } from '../../../core/fs/open.js';
import { sysWrite } from '../../../core/fs/read_write.js';
import { cmsgSockExtendedErr, putMsghdr, putMsghdrControl, sysGetsockopt, sysRecvfrom, sysRecvmsg, sysSendto, sysSetsockopt } from '../../../core/net/socket.js';
import { MSG, SO, SO_EE_CODE_ZEROCOPY_COPIED, SO_EE_ORIGIN_ZEROCOPY, SOL_SOCKET, type SockExtendedErr } from '../../../core/net/sock.js';
import { EPOLL } from '../../../core/fs/types.js';
import { EAGAIN } from '../../../core/uapi/errno.js';
import { netMachine, tcpAccept, tcpConnect, tcpListen, userBuffer } from '../../helpers/net.js';

const PORT = 5100;

/** A receiver that keeps every byte it reads (the content of its buffer after each recv). */
function receiver(m: Machine, got: number[]): void {
  m.spawn(
    'receiver',
    false,
    (t) =>
      (function* () {
        const lfd = yield* tcpListen(m, t, PORT);
        const buf = yield* userBuffer(m, t, 1 << 16);
        const fd = yield* tcpAccept(m, t, lfd);
        for (;;) {
          const n = yield* sysRecvfrom(m.k, t, fd, buf, 1 << 16);
          if (n <= 0) break;
          const b = t.mm!.userBytes.get(buf)!;
          for (let i = 0; i < n; i++) got.push(b[i]!);
        }
        yield* sysClose(m.k, t, fd);
      })(),
    m.init,
  );
}

function sender(m: Machine, body: (t: Task, fd: number, buf: number) => Generator<number, void, void>, bufBytes: number): void {
  m.spawn(
    'sender',
    false,
    (t) =>
      (function* () {
        const buf = yield* userBuffer(m, t, bufBytes);
        const fd = yield* tcpConnect(m, t, PORT);
        yield* body(t, fd, buf);
        yield* sysClose(m.k, t, fd);
      })(),
    m.init,
  );
}

function histogram(bytes: readonly number[]): Record<number, number> {
  const h: Record<number, number> = {};
  for (const b of bytes) h[b] = (h[b] ?? 0) + 1;
  return h;
}

test("write()'s copy semantics: the buffer overwritten as soon as write() returns, the receiver still gets what it held at the call", () => {
  const m = netMachine();
  const got: number[] = [];
  receiver(m, got);
  const LEN = 256 << 10;
  sender(
    m,
    function* (t, fd, buf) {
      const data = new Uint8Array(LEN).fill(0x41);
      t.mm!.userBytes.set(buf, data);
      for (let sent = 0; sent < LEN; ) {
        const n = yield* sysWrite(m.k, t, fd, buf + sent, LEN - sent);
        assert.ok(n > 0);
        // the program reuses the buffer at once: every byte it sent is overwritten
        data.fill(0x42, sent, sent + n);
        sent += n;
      }
    },
    LEN,
  );
  m.run(50_000_000);
  assert.equal(got.length, LEN);
  assert.deepEqual(histogram(got), { 0x41: LEN });
});

test('MSG_ZEROCOPY needs SO_ZEROCOPY; its completions arrive on the error queue (EPOLLERR), one range per contiguous run of calls, COPIED over lo', () => {
  const m = netMachine();
  const got: number[] = [];
  receiver(m, got);
  const LEN = 64 << 10;
  const serrs: SockExtendedErr[] = [];
  const polls: number[] = [];
  const out = { optBefore: -1, optAfter: -1, emptyErrq: 0 };
  sender(
    m,
    function* (t, fd, buf) {
      t.mm!.userBytes.set(buf, new Uint8Array(LEN).fill(7));
      out.optBefore = yield* sysGetsockopt(m.k, t, fd, SOL_SOCKET, SO.ZEROCOPY);
      assert.equal(yield* sysSetsockopt(m.k, t, fd, SOL_SOCKET, SO.ZEROCOPY, 1), 0);
      out.optAfter = yield* sysGetsockopt(m.k, t, fd, SOL_SOCKET, SO.ZEROCOPY);
      const msgVa = buf + LEN - 4096;
      putMsghdr(t, msgVa, msgVa + 64, []);
      putMsghdrControl(t, msgVa, msgVa + 256, 128);
      out.emptyErrq = yield* sysRecvmsg(m.k, t, fd, msgVa, MSG.ERRQUEUE);
      for (let i = 0; i < 4; i++) assert.equal(yield* sysSendto(m.k, t, fd, buf, 16384, MSG.ZEROCOPY), 16384);
      // wait for the completions: the ACKs free the skbs
      for (let tries = 0; tries < 100 && serrs.length === 0; tries++) {
        polls.push(t.files!.get(fd)!.inode.fops.poll!(t.files!.get(fd)!, undefined));
        for (;;) {
          const r = yield* sysRecvmsg(m.k, t, fd, msgVa, MSG.ERRQUEUE);
          if (r < 0) break;
          serrs.push(cmsgSockExtendedErr(t, msgVa + 256)!);
        }
        yield 100_000;
      }
    },
    LEN,
  );
  m.run(50_000_000);
  assert.equal(out.optBefore, 0);
  assert.equal(out.optAfter, 1);
  assert.equal(out.emptyErrq, -EAGAIN, 'nothing on the error queue yet');
  assert.equal(got.length, 4 * 16384);
  assert.deepEqual(histogram(got), { 7: 4 * 16384 });
  assert.ok(polls.some((p) => (p & EPOLL.ERR) !== 0), 'poll reports EPOLLERR while a completion waits');
  const ids = serrs.flatMap((s) => { const r: number[] = []; for (let i = s.eeInfo; i <= s.eeData; i++) r.push(i); return r; });
  assert.deepEqual(ids, [0, 1, 2, 3], 'every call id completes once, in order');
  for (const s of serrs) {
    assert.equal(s.eeOrigin, SO_EE_ORIGIN_ZEROCOPY);
    assert.equal(s.eeErrno, 0);
    assert.equal(s.eeCode, SO_EE_CODE_ZEROCOPY_COPIED, 'lo copies the pages on receive');
  }
  assert.equal(m.k.net.copies.zerocopyBytes, 4 * 16384);
});
