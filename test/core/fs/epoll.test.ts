// epoll (fs/eventpoll.c): level- vs edge-triggered reporting, ONESHOT, maxevents, timeouts with
// their slack, EPOLLEXCLUSIVE, nesting and its depth limit, close, every epoll_ctl/epoll_wait
// error, determinism and the syscall tracepoints. Readiness comes from a fake pollable file
// (test/helpers/pollable.ts) the test drives from timers, as a socket would from its softirq.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Machine } from '../../../core/index.js';
import { layoutJobFiles } from '../../../core/index.js';
import type { Task } from '../../../core/kernel/sched/task.js';
import { SCHED_FIFO } from '../../../core/kernel/sched/task.js';
import { EPOLL } from '../../../core/fs/types.js';
import { AT_FDCWD, sysClose, sysOpenat } from '../../../core/fs/open.js';
import { O } from '../../../core/fs/types.js';
import {
  EP_MAX_EVENTS,
  EPOLL_CLOEXEC,
  EPOLL_CTL,
  sysEpollCreate,
  sysEpollCreate1,
  sysEpollCtl,
  sysEpollPwait,
  sysEpollWait,
  type EpollEvent,
} from '../../../core/fs/eventpoll.js';
import { sendSignal, SIG, flushSignals } from '../../../core/kernel/signal.js';
import { Priority } from '../../../core/sim/engine.js';
import { SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../../../core/hw/cpu.js';
import { attach } from '../../../probes/attach.js';
import { runScript } from '../../../probes/script.js';
import { scriptOptions } from '../../helpers/script.js';
import { jobSpec } from '../../helpers/jobs.js';
import { FakePollable, machine, sleepUntil, spawn, userPage } from '../../helpers/pollable.js';

const MS = 1_000_000;
const IN = EPOLL.IN;

/** The test's view of one epoll fd: ctl and wait with a mapped event buffer. */
class Ep {
  constructor(
    readonly m: Machine,
    readonly t: Task,
    readonly fd: number,
    readonly va: number,
  ) {}

  static *create(m: Machine, t: Task, va: number): Generator<number, Ep, void> {
    const fd = yield* sysEpollCreate1(m.k, t, 0);
    assert.ok(fd >= 3, `epoll_create1 gave ${fd}`);
    return new Ep(m, t, fd, va);
  }

  *ctl(op: number, fd: number, events: number, data = fd): Generator<number, number, void> {
    return yield* sysEpollCtl(this.m.k, this.t, this.fd, op, fd, { events, data }, this.va);
  }

  /** epoll_wait; returns the data of each event (or the errno as a number). */
  *wait(maxevents: number, timeoutMs: number, out: EpollEvent[] = []): Generator<number, number[] | number, void> {
    const n = yield* sysEpollWait(this.m.k, this.t, this.fd, out, maxevents, timeoutMs, this.va);
    return n < 0 ? n : out.map((e) => e.data);
  }
}

test('level-triggered items report on every epoll_wait while ready; edge-triggered ones once per wakeup', () => {
  const m = machine();
  const a = new FakePollable(m);
  const b = new FakePollable(m);
  const got: (number[] | number)[] = [];
  let wokeAtNs = 0;
  spawn(m, 'lt-et', (t) =>
    (function* () {
      const ep = yield* Ep.create(m, t, yield* userPage(m, t));
      const fa = a.install(t);
      const fb = b.install(t);
      assert.equal(yield* ep.ctl(EPOLL_CTL.ADD, fa, IN), 0);
      assert.equal(yield* ep.ctl(EPOLL_CTL.ADD, fb, IN | EPOLL.ET), 0);
      a.fire(m, 1 * MS, IN);
      b.fire(m, 1 * MS, IN);
      got.push(yield* ep.wait(8, -1));
      wokeAtNs = m.k.env.nowNs;
      for (let i = 0; i < 4; i++) got.push(yield* ep.wait(8, 0));
      // a new wakeup of b (more data): reported once more
      b.fire(m, 5 * MS, IN);
      yield* sleepUntil(m, t, 6 * MS);
      got.push(yield* ep.wait(8, 0));
      got.push(yield* ep.wait(8, 0));
      // a drained without a wakeup: the next scan drops it
      a.mask = 0;
      got.push(yield* ep.wait(8, 0));
    })(),
  );
  m.run(20 * MS);
  assert.deepEqual(got, [[4, 5], [4], [4], [4], [4], [4, 5], [4], []]);
  assert.ok(wokeAtNs > 1 * MS && wokeAtNs < 1 * MS + 20_000, `woke at ${wokeAtNs}`);
});

test('EPOLLONESHOT reports once, then the item stays disabled until EPOLL_CTL_MOD re-arms it', () => {
  const m = machine();
  const a = new FakePollable(m);
  const got: (number[] | number)[] = [];
  const at: number[] = [];
  spawn(m, 'oneshot', (t) =>
    (function* () {
      const ep = yield* Ep.create(m, t, yield* userPage(m, t));
      const fa = a.install(t);
      yield* ep.ctl(EPOLL_CTL.ADD, fa, IN | EPOLL.ONESHOT);
      a.fire(m, 1 * MS, IN);
      got.push(yield* ep.wait(4, -1));
      a.fire(m, 2 * MS, IN); // ignored: the item is disabled
      const t0 = m.k.env.nowNs;
      got.push(yield* ep.wait(4, 5));
      at.push(m.k.env.nowNs - t0);
      // re-arm: the file is still readable, so it is queued at once
      assert.equal(yield* ep.ctl(EPOLL_CTL.MOD, fa, IN | EPOLL.ONESHOT, 77), 0);
      got.push(yield* ep.wait(4, 0));
      got.push(yield* ep.wait(4, 0));
    })(),
  );
  m.run(20 * MS);
  assert.deepEqual(got, [[4], [], [77], []]);
  assert.ok(at[0]! >= 5 * MS + 50_000, `waited ${at[0]} ns`);
});

test('maxevents bounds each epoll_wait; level-triggered leftovers keep their turn (round robin)', () => {
  const m = machine();
  const files = [0, 1, 2, 3, 4].map(() => new FakePollable(m));
  const got: (number[] | number)[] = [];
  spawn(m, 'maxevents', (t) =>
    (function* () {
      const ep = yield* Ep.create(m, t, yield* userPage(m, t));
      for (const [i, f] of files.entries()) {
        f.mask = IN;
        yield* ep.ctl(EPOLL_CTL.ADD, f.install(t), IN, i);
      }
      for (let i = 0; i < 4; i++) got.push(yield* ep.wait(2, 0));
      got.push(yield* ep.wait(5, 0));
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(got, [[0, 1], [2, 3], [4, 0], [1, 2], [3, 4, 0, 1, 2]]);
});

test('a timeout wakes the task at the timeout plus its timer slack, exactly; 0 returns at once', () => {
  const m = machine();
  const wakes: number[] = [];
  const enters: number[] = [];
  const rets: number[] = [];
  let rtTask: Task | undefined;
  attach(m, 'tracepoint:syscalls:sys_enter_epoll_wait', (h) => enters.push(h.timeNs));
  attach(m, 'tracepoint:sched:sched_waking', (h) => {
    const comm = h.fields['comm'];
    if (comm === 'timeouts' || comm === 'rt') wakes.push(h.timeNs);
  });
  spawn(m, 'timeouts', (t) =>
    (function* () {
      const ep = yield* Ep.create(m, t, yield* userPage(m, t));
      const before = m.k.env.nowNs;
      rets.push(((yield* ep.wait(1, 0)) as number[]).length);
      rets.push(m.k.env.nowNs - before);
      yield* ep.wait(1, 10); // slack: max(10 ms / 1000, 50 µs) = 50 µs
      yield* ep.wait(1, 1000); // slack: 1 s / 1000 = 1 ms
    })(),
  );
  rtTask = spawn(m, 'rt', (t) =>
    (function* () {
      yield* sleepUntil(m, t, 2000 * MS);
      const ep = yield* Ep.create(m, t, yield* userPage(m, t));
      yield* ep.wait(1, 10); // real-time: no slack
    })(),
  );
  m.k.sched.setScheduler(rtTask, SCHED_FIFO, 10);
  m.run(3000 * MS);
  // the non-blocking wait on an empty set: no events, entry + exit only
  assert.deepEqual(rets, [0, SYSCALL_ENTRY_NS + SYSCALL_EXIT_NS]);
  // enters[1]: the 10 ms wait, enters[2]: the 1 s one, enters[3]: the RT task's
  assert.equal(enters.length, 4);
  const timerWakes = wakes.filter((w) => w > enters[1]!);
  assert.deepEqual(
    [timerWakes[0]! - enters[1]!, timerWakes[1]! - enters[2]!],
    [SYSCALL_ENTRY_NS + 10 * MS + 50_000, SYSCALL_ENTRY_NS + 1000 * MS + 1 * MS],
  );
  const rtWake = wakes.find((w) => w > enters[3]!)!;
  assert.equal(rtWake - enters[3]!, SYSCALL_ENTRY_NS + 10 * MS);
});

test('EPOLLEXCLUSIVE: one wakeup wakes one of the epoll sets watching the file; without it, all of them', () => {
  for (const exclusive of [true, false]) {
    const m = machine();
    const f = new FakePollable(m);
    const returned: string[] = [];
    for (const name of ['w0', 'w1', 'w2']) {
      spawn(m, name, (t) =>
        (function* () {
          const ep = yield* Ep.create(m, t, yield* userPage(m, t));
          yield* ep.ctl(EPOLL_CTL.ADD, f.install(t), IN | (exclusive ? EPOLL.EXCLUSIVE : 0));
          const r = yield* ep.wait(4, 50);
          returned.push(`${name}:${JSON.stringify(r)}@${m.k.env.nowNs < 10 * MS ? 'event' : 'timeout'}`);
        })(),
      );
    }
    f.fire(m, 1 * MS, IN);
    m.run(100 * MS);
    returned.sort();
    if (exclusive) assert.deepEqual(returned, ['w0:[4]@event', 'w1:[]@timeout', 'w2:[]@timeout']);
    else assert.deepEqual(returned, ['w0:[4]@event', 'w1:[4]@event', 'w2:[4]@event']);
  }
});

test('epoll sets nest: the outer one sees the inner one readable; loops and chains deeper than EP_MAX_NESTS are -ELOOP', () => {
  const m = machine();
  const a = new FakePollable(m);
  const got: unknown[] = [];
  spawn(m, 'nested', (t) =>
    (function* () {
      const va = yield* userPage(m, t);
      const inner = yield* Ep.create(m, t, va);
      const outer = yield* Ep.create(m, t, va);
      yield* inner.ctl(EPOLL_CTL.ADD, a.install(t), IN, 100);
      yield* outer.ctl(EPOLL_CTL.ADD, inner.fd, IN, 200);
      a.fire(m, 1 * MS, IN);
      const out: EpollEvent[] = [];
      got.push(yield* outer.wait(4, -1, out));
      got.push(out[0]!.events);
      got.push(yield* inner.wait(4, 0));
      // the loop inner -> outer would close
      got.push(yield* inner.ctl(EPOLL_CTL.ADD, outer.fd, IN));
      // itself
      got.push(yield* inner.ctl(EPOLL_CTL.ADD, inner.fd, IN));
      // a chain e1 > e2 > e3 > e4 > e5 has 4 links: fine; a 6th set is one too many, at either end
      const e: Ep[] = [];
      for (let i = 0; i < 7; i++) e.push(yield* Ep.create(m, t, va));
      for (let i = 0; i < 4; i++) got.push(yield* e[i]!.ctl(EPOLL_CTL.ADD, e[i + 1]!.fd, IN));
      got.push(yield* e[4]!.ctl(EPOLL_CTL.ADD, e[5]!.fd, IN));
      got.push(yield* e[6]!.ctl(EPOLL_CTL.ADD, e[0]!.fd, IN));
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(got, [[200], IN, [100], -40, -22, 0, 0, 0, 0, -40, -40]);
});

test('closing a watched file takes it out of the set; closing the epoll fd leaves the file\'s queue', () => {
  const m = machine();
  const a = new FakePollable(m);
  const b = new FakePollable(m);
  const got: unknown[] = [];
  spawn(m, 'close', (t) =>
    (function* () {
      const ep = yield* Ep.create(m, t, yield* userPage(m, t));
      const fa = a.install(t);
      yield* ep.ctl(EPOLL_CTL.ADD, fa, IN);
      yield* ep.ctl(EPOLL_CTL.ADD, b.install(t), IN);
      got.push(a.wq.length, b.wq.length);
      a.mask = IN;
      a.wq.wakeOne(IN);
      yield* sysClose(m.k, t, fa);
      got.push(a.wq.length, yield* ep.wait(4, 0));
      yield* sysClose(m.k, t, ep.fd);
      got.push(b.wq.length);
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(got, [1, 1, 0, [], 0]);
});

test('epoll_create1, epoll_ctl and epoll_wait return the errors their man pages list', () => {
  const m = machine();
  layoutJobFiles(m, [jobSpec({ name: 'f', filename: '/mnt/nvme/data', size: 1 << 20 })]);
  const f = new FakePollable(m);
  const out: Record<string, number> = {};
  spawn(m, 'errors', (t) =>
    (function* () {
      const k = m.k;
      const va = yield* userPage(m, t);
      out['create1Flags'] = yield* sysEpollCreate1(k, t, 1);
      out['createSize0'] = yield* sysEpollCreate(k, t, 0);
      out['createOk'] = (yield* sysEpollCreate(k, t, 1)) > 0 ? 0 : -1;
      const epfd = yield* sysEpollCreate1(k, t, EPOLL_CLOEXEC);
      const ep = new Ep(m, t, epfd, va);
      const ep2 = yield* Ep.create(m, t, va);
      const ff = f.install(t);
      const reg = yield* sysOpenat(k, t, AT_FDCWD, '/mnt/nvme/data', O.RDONLY, 0);
      const unmapped = 0x1000;
      out['badEpfd'] = yield* sysEpollCtl(k, t, 99, EPOLL_CTL.ADD, ff, { events: IN, data: 0 }, va);
      out['badFd'] = yield* ep.ctl(EPOLL_CTL.ADD, 99, IN);
      out['notEpoll'] = yield* sysEpollCtl(k, t, reg, EPOLL_CTL.ADD, ff, { events: IN, data: 0 }, va);
      out['regular'] = yield* ep.ctl(EPOLL_CTL.ADD, reg, IN);
      out['self'] = yield* ep.ctl(EPOLL_CTL.ADD, epfd, IN);
      out['noEvent'] = yield* sysEpollCtl(k, t, epfd, EPOLL_CTL.ADD, ff, undefined, va);
      out['eventUnmapped'] = yield* sysEpollCtl(k, t, epfd, EPOLL_CTL.ADD, ff, { events: IN, data: 0 }, unmapped);
      out['badOp'] = yield* ep.ctl(9, ff, IN);
      out['modMissing'] = yield* ep.ctl(EPOLL_CTL.MOD, ff, IN);
      out['delMissing'] = yield* sysEpollCtl(k, t, epfd, EPOLL_CTL.DEL, ff, undefined);
      out['exclOneshot'] = yield* ep.ctl(EPOLL_CTL.ADD, ff, IN | EPOLL.EXCLUSIVE | EPOLL.ONESHOT);
      out['exclEpoll'] = yield* ep.ctl(EPOLL_CTL.ADD, ep2.fd, IN | EPOLL.EXCLUSIVE);
      out['add'] = yield* ep.ctl(EPOLL_CTL.ADD, ff, IN | EPOLL.EXCLUSIVE);
      out['addAgain'] = yield* ep.ctl(EPOLL_CTL.ADD, ff, IN);
      out['modExclusive'] = yield* ep.ctl(EPOLL_CTL.MOD, ff, IN);
      out['modWithExclusive'] = yield* ep.ctl(EPOLL_CTL.MOD, ff, IN | EPOLL.EXCLUSIVE);
      out['del'] = yield* sysEpollCtl(k, t, epfd, EPOLL_CTL.DEL, ff, undefined);
      const ev: EpollEvent[] = [];
      out['maxevents0'] = yield* sysEpollWait(k, t, epfd, ev, 0, 0, va);
      out['maxeventsHuge'] = yield* sysEpollWait(k, t, epfd, ev, EP_MAX_EVENTS + 1, 0, va);
      out['eventsUnmapped'] = yield* sysEpollWait(k, t, epfd, ev, 1, 0, unmapped);
      out['eventsPastPage'] = yield* sysEpollWait(k, t, epfd, ev, 342, 0, va);
      out['waitBadFd'] = yield* sysEpollWait(k, t, 99, ev, 1, 0, va);
      out['waitNotEpoll'] = yield* sysEpollWait(k, t, reg, ev, 1, 0, va);
      out['pwaitSigsetsize'] = yield* sysEpollPwait(k, t, epfd, ev, 1, 0, va, va, 4);
      out['pwaitOk'] = yield* sysEpollPwait(k, t, epfd, ev, 1, 0, va, va, 8);
      // a signal ends an infinite wait
      m.k.env.after(1 * MS, Priority.NORMAL, () => sendSignal(m.k, t, SIG.INT), undefined);
      out['signal'] = yield* sysEpollWait(k, t, epfd, ev, 1, -1, va);
      flushSignals(t);
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(out, {
    create1Flags: -22,
    createSize0: -22,
    createOk: 0,
    badEpfd: -9,
    badFd: -9,
    notEpoll: -22,
    regular: -1,
    self: -22,
    noEvent: -14,
    eventUnmapped: -14,
    badOp: -22,
    modMissing: -2,
    delMissing: -2,
    exclOneshot: -22,
    exclEpoll: -22,
    add: 0,
    addAgain: -17,
    modExclusive: -22,
    modWithExclusive: -22,
    del: 0,
    maxevents0: -22,
    maxeventsHuge: -22,
    eventsUnmapped: -14,
    eventsPastPage: -14,
    waitBadFd: -9,
    waitNotEpoll: -22,
    pwaitSigsetsize: -22,
    pwaitOk: 0,
    signal: -4,
  });
});

/** A run with a bit of everything, as the lines of every epoll syscall tracepoint hit. */
function tracedRun(): string[] {
  const m = machine();
  const a = new FakePollable(m);
  const b = new FakePollable(m);
  const lines: string[] = [];
  attach(m, 'tracepoint:syscalls:sys_*_epoll*', (h) => lines.push(`${h.timeNs} ${h.pid} ${h.site.fullName} ${JSON.stringify(h.fields)}`));
  for (const name of ['p0', 'p1']) {
    spawn(m, name, (t) =>
      (function* () {
        const ep = yield* Ep.create(m, t, yield* userPage(m, t));
        yield* ep.ctl(EPOLL_CTL.ADD, a.install(t), IN);
        yield* ep.ctl(EPOLL_CTL.ADD, b.install(t), IN | EPOLL.ET);
        for (let i = 0; i < 4; i++) yield* ep.wait(2, 3);
      })(),
    );
  }
  a.fire(m, 1 * MS, IN, true);
  b.fire(m, 2 * MS, IN, true);
  a.fire(m, 4 * MS, 0, true);
  m.run(30 * MS);
  return lines;
}

test('same seed, same run: the epoll syscalls hit at the same times with the same arguments', () => {
  const first = tracedRun();
  assert.ok(first.length > 20);
  assert.deepEqual(tracedRun(), first);
});

test('syscalls:sys_enter_/sys_exit_ epoll tracepoints carry Linux\'s argument names and values', () => {
  const m = machine();
  const a = new FakePollable(m);
  const hits: string[] = [];
  attach(m, 'tracepoint:syscalls:sys_*_epoll*', (h) => hits.push(`${h.site.fullName.slice('tracepoint:syscalls:'.length)} ${JSON.stringify(h.fields)}`));
  let va = 0;
  spawn(m, 'tp', (t) =>
    (function* () {
      va = yield* userPage(m, t);
      const ep = yield* Ep.create(m, t, va);
      const fa = a.install(t);
      yield* ep.ctl(EPOLL_CTL.ADD, fa, IN);
      a.fire(m, 1 * MS, IN);
      yield* ep.wait(16, -1);
      yield* sysEpollPwait(m.k, t, ep.fd, [], 2, 7, va, 0, 8);
    })(),
  );
  m.run(10 * MS);
  const v = `${va}`;
  assert.deepEqual(hits, [
    'sys_enter_epoll_create1 {"__syscall_nr":291,"flags":0}',
    'sys_exit_epoll_create1 {"__syscall_nr":291,"ret":3}',
    `sys_enter_epoll_ctl {"__syscall_nr":233,"epfd":3,"op":1,"fd":4,"event":${v}}`,
    'sys_exit_epoll_ctl {"__syscall_nr":233,"ret":0}',
    `sys_enter_epoll_wait {"__syscall_nr":232,"epfd":3,"events":${v},"maxevents":16,"timeout":4294967295}`,
    'sys_exit_epoll_wait {"__syscall_nr":232,"ret":1}',
    `sys_enter_epoll_pwait {"__syscall_nr":281,"epfd":3,"events":${v},"maxevents":2,"timeout":7,"sigmask":0,"sigsetsize":8}`,
    'sys_exit_epoll_pwait {"__syscall_nr":281,"ret":1}',
  ]);
});

test('a bpftrace script reads the epoll_wait arguments and results by their Linux names', () => {
  const m = machine();
  const a = new FakePollable(m);
  spawn(m, 'loop', (t) =>
    (function* () {
      const ep = yield* Ep.create(m, t, yield* userPage(m, t));
      yield* ep.ctl(EPOLL_CTL.ADD, a.install(t), IN | EPOLL.ET);
      for (let i = 1; i <= 3; i++) a.fire(m, i * MS, IN);
      for (let i = 0; i < 4; i++) yield* ep.wait(8, 2);
    })(),
  );
  let out = '';
  const program = `tracepoint:syscalls:sys_enter_epoll_wait { @calls[args.maxevents, args.timeout] = count(); }
tracepoint:syscalls:sys_exit_epoll_wait { @ret[args.ret] = count(); }`;
  const r = runScript(m, scriptOptions(program, 20 * MS, (text, stream) => { if (stream === 'stdout') out += text; }, { quiet: true }));
  assert.equal(r.exitCode, 0);
  // three wakeups 1 ms apart: three waits get one event each, the fourth times out
  assert.match(out, /@calls\[8, 2\]: 4/);
  assert.match(out, /@ret\[0\]: 1\n@ret\[1\]: 3/);
});

test('EPOLLERR and EPOLLHUP are always reported, EPOLLRDHUP only when asked for; a wakeup for unwatched events queues nothing', () => {
  const m = machine();
  const a = new FakePollable(m);
  const b = new FakePollable(m);
  const got: unknown[] = [];
  spawn(m, 'bits', (t) =>
    (function* () {
      const ep = yield* Ep.create(m, t, yield* userPage(m, t));
      yield* ep.ctl(EPOLL_CTL.ADD, a.install(t), IN);
      yield* ep.ctl(EPOLL_CTL.ADD, b.install(t), IN | EPOLL.RDHUP | EPOLL.ET);
      // the peer hangs up: readable (EOF), read side shut, hung up
      const hangup = IN | EPOLL.RDNORM | EPOLL.RDHUP | EPOLL.HUP | EPOLL.ERR;
      a.fire(m, 1 * MS, hangup);
      b.fire(m, 1 * MS, hangup);
      const ev: EpollEvent[] = [];
      got.push(yield* ep.wait(4, -1, ev));
      got.push(ev.map((e) => e.events));
      // a wakeup keyed EPOLLOUT of an IN|RDHUP|ET item: the callback ignores it, though the file is readable too
      b.fire(m, 3 * MS, IN | EPOLL.OUT, false, EPOLL.OUT);
      a.mask = 0;
      yield* sleepUntil(m, t, 4 * MS);
      got.push(yield* ep.wait(4, 0));
    })(),
  );
  m.run(10 * MS);
  assert.deepEqual(got, [[4, 5], [IN | EPOLL.HUP | EPOLL.ERR, IN | EPOLL.RDHUP | EPOLL.HUP | EPOLL.ERR], []]);
});

test('two threads waiting on one epoll set: a level-triggered event wakes the second too (ep_done_scan), an edge-triggered one only the first', () => {
  for (const et of [false, true]) {
    const m = machine();
    const a = new FakePollable(m);
    const woke: string[] = [];
    const waitOn = (name: string, ep: Ep) =>
      (function* () {
        woke.push(`${name}:${JSON.stringify(yield* ep.wait(4, 20))}`);
      })();
    let epfd = -1;
    const th1 = spawn(m, 'th1', (t) =>
      (function* () {
        const ep = yield* Ep.create(m, t, yield* userPage(m, t));
        yield* ep.ctl(EPOLL_CTL.ADD, a.install(t), IN | (et ? EPOLL.ET : 0));
        epfd = ep.fd;
        yield* waitOn('th1', ep);
      })(),
    );
    spawn(m, 'th2', (t) =>
      (function* () {
        const va = yield* userPage(m, t);
        yield* sleepUntil(m, t, MS / 2);
        // the same open epoll file in the second thread's fd table
        const file = th1.files!.get(epfd)!;
        file.refcount++;
        assert.equal(t.files!.install(file), epfd);
        yield* waitOn('th2', new Ep(m, t, epfd, va));
      })(),
    );
    a.fire(m, 1 * MS, IN);
    m.run(50 * MS);
    woke.sort();
    assert.deepEqual(woke, et ? ['th1:[4]', 'th2:[]'] : ['th1:[4]', 'th2:[4]']);
  }
});
