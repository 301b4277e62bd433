// poll(2)/ppoll(2) (fs/select.c): regular files are always ready, a pollable file's wakeup ends
// the wait (only for events asked for), the wait-queue entries go when poll returns, POLLNVAL,
// timeouts with their slack, the errors, an epoll fd polled, and the tracepoints' arguments.
import test from 'node:test';
import assert from 'node:assert/strict';
import { layoutJobFiles } from '../../../core/index.js';
import { EPOLL, O } from '../../../core/fs/types.js';
import { AT_FDCWD, sysOpenat } from '../../../core/fs/open.js';
import { POLLNVAL, sysPoll, sysPpoll, sysSelect, type PollFd } from '../../../core/fs/select.js';
import { EPOLL_CTL, sysEpollCreate1, sysEpollCtl } from '../../../core/fs/eventpoll.js';
import { flushSignals, sendSignal, SIG } from '../../../core/kernel/signal.js';
import { Priority } from '../../../core/sim/engine.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';
import { FakePollable, machine, spawn, userPage } from '../../helpers/pollable.js';

const MS = 1_000_000;
const { IN, OUT } = EPOLL;

test('poll: a regular file is ready at once; a pollable file wakes the poller when its events come, then its queue is left', () => {
  const m = machine();
  layoutJobFiles(m, [jobSpec({ name: 'f', filename: '/mnt/nvme/data', size: 1 << 20 })]);
  const a = new FakePollable(m);
  const got: unknown[] = [];
  spawn(m, 'poller', (t) =>
    (function* () {
      const va = yield* userPage(m, t);
      const reg = yield* sysOpenat(m.k, t, AT_FDCWD, '/mnt/nvme/data', O.RDONLY, 0);
      const fa = a.install(t);
      const fds: PollFd[] = [{ fd: reg, events: IN | OUT, revents: 0 }];
      got.push(yield* sysPoll(m.k, t, fds, 1, -1, va), fds[0]!.revents);
      // nothing ready, no timeout: one registration, then sleep until the file's wakeup
      a.fire(m, 2 * MS, IN);
      const pfd: PollFd[] = [{ fd: fa, events: IN, revents: 0 }];
      got.push(yield* sysPoll(m.k, t, pfd, 1, -1, va), pfd[0]!.revents, a.wq.length);
      got.push(m.k.env.nowNs > 2 * MS && m.k.env.nowNs < 2 * MS + 20_000);
      // a zero timeout registers nowhere
      a.mask = 0;
      got.push(yield* sysPoll(m.k, t, pfd, 1, 0, va), a.wq.length);
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(got, [1, IN | OUT, 1, IN, 0, true, 0, 0]);
});

test('poll: a wakeup for events not asked for does not end the wait (pollwake\'s key check); the timeout does, with its slack', () => {
  const m = machine();
  const a = new FakePollable(m);
  const got: unknown[] = [];
  spawn(m, 'poller', (t) =>
    (function* () {
      const va = yield* userPage(m, t);
      const pfd: PollFd[] = [{ fd: a.install(t), events: IN, revents: 0 }];
      a.fire(m, 1 * MS, OUT);
      const t0 = m.k.env.nowNs;
      got.push(yield* sysPoll(m.k, t, pfd, 1, 5, va), pfd[0]!.revents);
      const waited = m.k.env.nowNs - t0;
      got.push(waited >= 5 * MS + 50_000 && waited < 5 * MS + 70_000);
    })(),
  );
  m.run(20 * MS);
  assert.deepEqual(got, [0, 0, true]);
});

test('poll: every poller of a file wakes (poll entries are not exclusive); POLLNVAL for a closed fd, negative fds ignored', () => {
  const m = machine();
  const a = new FakePollable(m);
  const woke: string[] = [];
  for (const name of ['p0', 'p1']) {
    spawn(m, name, (t) =>
      (function* () {
        const va = yield* userPage(m, t);
        const pfd: PollFd[] = [{ fd: a.install(t), events: IN, revents: 0 }];
        const n = yield* sysPoll(m.k, t, pfd, 1, 50, va);
        woke.push(`${name}:${n}:${m.k.env.nowNs < 10 * MS}`);
      })(),
    );
  }
  a.fire(m, 1 * MS, IN);
  const nval: unknown[] = [];
  spawn(m, 'nval', (t) =>
    (function* () {
      const va = yield* userPage(m, t);
      const fds: PollFd[] = [
        { fd: -1, events: IN, revents: 7 },
        { fd: 99, events: IN, revents: 0 },
      ];
      nval.push(yield* sysPoll(m.k, t, fds, 2, 0, va), fds.map((f) => f.revents));
    })(),
  );
  m.run(100 * MS);
  assert.deepEqual(woke.sort(), ['p0:1:true', 'p1:1:true']);
  assert.deepEqual(nval, [1, [0, POLLNVAL]]);
});

test('poll on an epoll fd: readable once one of its items is', () => {
  const m = machine();
  const a = new FakePollable(m);
  const got: unknown[] = [];
  spawn(m, 'poller', (t) =>
    (function* () {
      const va = yield* userPage(m, t);
      const epfd = yield* sysEpollCreate1(m.k, t, 0);
      yield* sysEpollCtl(m.k, t, epfd, EPOLL_CTL.ADD, a.install(t), { events: IN, data: 1 }, va);
      a.fire(m, 3 * MS, IN);
      const pfd: PollFd[] = [{ fd: epfd, events: IN, revents: 0 }];
      got.push(yield* sysPoll(m.k, t, pfd, 1, -1, va), pfd[0]!.revents, m.k.env.nowNs > 3 * MS && m.k.env.nowNs < 3 * MS + 20_000);
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(got, [1, IN, true]);
});

test('poll/ppoll errors: too many fds, an unmapped array, a bad timespec or sigset size, a signal', () => {
  const m = machine();
  const a = new FakePollable(m);
  const out: Record<string, number> = {};
  spawn(m, 'errors', (t) =>
    (function* () {
      const k = m.k;
      const va = yield* userPage(m, t);
      const pfd: PollFd[] = [{ fd: a.install(t), events: IN, revents: 0 }];
      out['nfds'] = yield* sysPoll(k, t, pfd, 1025, 0, va);
      out['unmapped'] = yield* sysPoll(k, t, pfd, 1, 0, 0x1000);
      out['shortArray'] = yield* sysPoll(k, t, pfd, 2, 0, va);
      out['ppollBadTs'] = yield* sysPpoll(k, t, pfd, 1, -1, va, va);
      out['ppollSigset'] = yield* sysPpoll(k, t, pfd, 1, 0, va, va, va, 16);
      out['ppollZero'] = yield* sysPpoll(k, t, pfd, 1, 0, va, va, va, 8);
      m.k.env.after(1 * MS, Priority.NORMAL, () => sendSignal(m.k, t, SIG.INT), undefined);
      out['signal'] = yield* sysPpoll(k, t, pfd, 1, undefined, va);
      flushSignals(t);
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(out, { nfds: -22, unmapped: -14, shortArray: -14, ppollBadTs: -22, ppollSigset: -22, ppollZero: 0, signal: -4 });
});

test('syscalls:sys_enter_poll / sys_enter_ppoll carry Linux\'s argument names', () => {
  const m = machine();
  const a = new FakePollable(m);
  const hits: string[] = [];
  attach(m, 'tracepoint:syscalls:sys_*_poll,tracepoint:syscalls:sys_*_ppoll', (h) => hits.push(`${h.site.fullName.slice('tracepoint:syscalls:'.length)} ${JSON.stringify(h.fields)}`));
  let va = 0;
  spawn(m, 'tp', (t) =>
    (function* () {
      va = yield* userPage(m, t);
      const pfd: PollFd[] = [{ fd: a.install(t), events: IN, revents: 0 }];
      yield* sysPoll(m.k, t, pfd, 1, 2, va);
      yield* sysPpoll(m.k, t, pfd, 1, 1000, va, va + 64, 0, 8);
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(hits, [
    `sys_enter_poll {"__syscall_nr":7,"ufds":${va},"nfds":1,"timeout_msecs":2}`,
    'sys_exit_poll {"__syscall_nr":7,"ret":0}',
    `sys_enter_ppoll {"__syscall_nr":271,"ufds":${va},"nfds":1,"tsp":${va + 64},"sigmask":0,"sigsetsize":8}`,
    'sys_exit_ppoll {"__syscall_nr":271,"ret":0}',
  ]);
});

test('select: ready subsets come back in the sets; a wakeup ends the wait; closed fds are -EBADF; the tracepoint names its arguments', () => {
  const m = machine();
  layoutJobFiles(m, [jobSpec({ name: 'f', filename: '/mnt/nvme/data', size: 1 << 20 })]);
  const a = new FakePollable(m);
  const got: unknown[] = [];
  const hits: string[] = [];
  attach(m, 'tracepoint:syscalls:sys_enter_select', (h) => hits.push(JSON.stringify(h.fields)));
  let setsVa = 0;
  spawn(m, 'selector', (t) =>
    (function* () {
      const k = m.k;
      const va = (setsVa = yield* userPage(m, t));
      const vas = [va, va + 128, va + 256] as const;
      const reg = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDONLY, 0);
      const fa = a.install(t);
      // the regular file is readable and writable at once; the fake file is neither yet
      let rd = new Set([reg, fa]);
      let wr = new Set([reg, fa]);
      got.push(yield* sysSelect(k, t, fa + 1, rd, wr, undefined, undefined, vas), [...rd], [...wr]);
      // only the fake file, which becomes readable at 2 ms
      a.fire(m, 2 * MS, IN);
      rd = new Set([fa]);
      wr = new Set([fa]);
      got.push(yield* sysSelect(k, t, fa + 1, rd, wr, undefined, undefined, vas), [...rd], [...wr], a.wq.length);
      got.push(yield* sysSelect(k, t, fa + 1, undefined, undefined, new Set([fa]), 1 * MS, vas));
      got.push(yield* sysSelect(k, t, 99, new Set([42]), undefined, undefined, 0, vas));
      got.push(yield* sysSelect(k, t, -1, undefined, undefined, undefined, 0, vas));
      got.push(yield* sysSelect(k, t, fa + 1, new Set([fa]), undefined, undefined, 0, [0x1000, 0, 0]));
      got.push(yield* sysSelect(k, t, fa + 1, new Set([fa]), undefined, undefined, -5, vas));
    })(),
  );
  m.run(20 * MS);
  assert.deepEqual(got, [2, [3], [3], 1, [4], [], 0, 0, -9, -22, -14, -22]);
  assert.equal(hits[0], JSON.stringify({ __syscall_nr: 23, n: 5, inp: setsVa, outp: setsVa + 128, exp: setsVa + 256, tvp: 0 }));
});

test('poll: a wakeup that comes while the scan is still charging its CPU time is not lost (the triggered flag)', () => {
  const m = machine();
  const a = new FakePollable(m);
  const got: unknown[] = [];
  // the first scan registers, finds nothing, and an event comes 10 ns later, before the task sleeps
  a.onPoll = () => {
    a.onPoll = undefined;
    a.fire(m, m.k.env.nowNs + 10, IN);
  };
  spawn(m, 'poller', (t) =>
    (function* () {
      const va = yield* userPage(m, t);
      const pfd: PollFd[] = [{ fd: a.install(t), events: IN, revents: 0 }];
      const t0 = m.k.env.nowNs;
      got.push(yield* sysPoll(m.k, t, pfd, 1, -1, va), pfd[0]!.revents, a.polls, m.k.env.nowNs - t0 < 1000);
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(got, [1, IN, 2, true]);
});
