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
import { parseScenario } from '../../../tui/scenario.js';
import { prepareRun } from '../../../tui/run.js';

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

test('a NIC that takes fewer buffers per packet than a zero-copy skb has frags linearizes it: every notification says COPIED', () => {
  const sc = parseScenario(
    {
      name: 'zc-lin',
      duration: '10ms',
      machine: { cpus: 2, memory: '256m', nics: [{ name: 'eth0', address: '10.0.0.1/24', max_frags: 4 }] },
      hosts: [{ name: 'server', address: '10.0.0.2/24' }],
      network: { bandwidth: '10g', latency: '50us' },
      events: [
        { at: '0', host: 'server', run: 'zc-check 9001' },
        { at: '0', host: 'server', run: 'zc-check 9002' },
        { at: '1ms', run: 'zc-send 10.0.0.2:9001 --mode send-zc --count 4' },
        { at: '5ms', run: 'zc-send 10.0.0.2:9002 --mode msg-zerocopy --count 4' },
      ],
    },
    'zc-lin.json',
  );
  if (!sc.ok) throw new Error(sc.diagnostics.map((d) => d.message).join('\n'));
  const m = prepareRun(sc.scenario, { seed: 1, durationNs: sc.scenario.durationNs });
  m.run(sc.scenario.durationNs);
  const outs = m.report('zc-lin', 1).events!.map((e) => e.output).join('');
  assert.match(outs, /by send-zc, reuse notif, .*; 4 notifications \(4 copied\)/);
  assert.match(outs, /by msg-zerocopy, reuse notif, .*; 4 notifications \(4 copied\)/);
  assert.match(outs, /9001[\s\S]*4 of 4 messages intact/);
  // most of the 8 x 64 KiB: only skbs of at most 4 pages (a message's short tail) go as they are
  assert.ok(m.k.net.copies.linearizeBytes > 4 * 65536 && m.k.net.copies.linearizeBytes <= 8 * 65536, `${m.k.net.copies.linearizeBytes} bytes linearized`);
});
