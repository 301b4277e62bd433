// Tests for core/sim/: the event queue's (timeNs, priority, seq) order, the Environment's clock
// (at/after/run/step/stop), generator processes and wait queues, and the seeded PRNG.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Environment, Priority } from '../../../core/sim/engine.js';
import { EventQueue } from '../../../core/sim/event-queue.js';
import { Process, SLEEP, WaitQueue, type ProcessBody, type Waker } from '../../../core/sim/process.js';
import { Random } from '../../../core/sim/random.js';
import { SimBug } from '../../../core/sim/errors.js';

const U = Priority.URGENT;
const N = Priority.NORMAL;

/** Schedules labelled events and returns the labels in the order they ran. */
function runOrder(events: readonly [atNs: number, prio: Priority, label: string][]): string[] {
  const env = new Environment();
  const log: string[] = [];
  for (const [at, prio, label] of events) env.at(at, prio, (l: string) => log.push(`${env.nowNs}:${l}`), label);
  env.run(Infinity);
  return log;
}

// ---- ordering ------------------------------------------------------------------------------------

const ORDER_CASES: { name: string; events: [number, Priority, string][]; want: string[] }[] = [
  {
    name: 'by time, whatever the scheduling order',
    events: [
      [30, N, 'c'],
      [10, N, 'a'],
      [20, N, 'b'],
      [0, N, 'z'],
    ],
    want: ['0:z', '10:a', '20:b', '30:c'],
  },
  {
    name: 'same time: URGENT before NORMAL even when scheduled later',
    events: [
      [5, N, 'n1'],
      [5, N, 'n2'],
      [5, U, 'u1'],
      [5, U, 'u2'],
    ],
    want: ['5:u1', '5:u2', '5:n1', '5:n2'],
  },
  {
    name: 'same time and priority: scheduling order (seq)',
    events: [
      [7, N, 'first'],
      [7, N, 'second'],
      [7, N, 'third'],
      [7, N, 'fourth'],
    ],
    want: ['7:first', '7:second', '7:third', '7:fourth'],
  },
  {
    name: 'time dominates priority',
    events: [
      [2, U, 'u@2'],
      [1, N, 'n@1'],
      [2, N, 'n@2'],
      [1, U, 'u@1'],
    ],
    want: ['1:u@1', '1:n@1', '2:u@2', '2:n@2'],
  },
];

for (const c of ORDER_CASES) {
  test(`Environment order: ${c.name}`, () => {
    assert.deepEqual(runOrder(c.events), c.want);
  });
}

test('Environment order: same-time ties scheduled from inside a callback', () => {
  const env = new Environment();
  const log: string[] = [];
  const rec = (l: string) => log.push(`${env.nowNs}:${l}`);
  // 'a' runs at 10 and schedules more work at 10; 'd' was already waiting at 10
  env.at(
    10,
    N,
    () => {
      rec('a');
      env.at(10, N, rec, 'b'); // NORMAL, seq after 'd'
      env.after(0, U, rec, 'c'); // URGENT: jumps ahead of 'd'
      env.after(0, N, (l: string) => {
        rec(l);
        env.after(0, N, rec, 'f'); // scheduled last of all at 10
      }, 'e');
      env.at(11, U, rec, 'g');
    },
    undefined,
  );
  env.at(10, N, rec, 'd');
  env.at(10, U, rec, 'u0'); // URGENT scheduled before any of it: runs before 'a'
  env.run(100);
  assert.deepEqual(log, ['10:u0', '10:a', '10:c', '10:d', '10:b', '10:e', '10:f', '11:g']);
});

// ---- the heap against a reference sort --------------------------------------------------------------

interface Ev {
  timeNs: number;
  prio: number;
  seq: number;
}

function refCompare(a: Ev, b: Ev): number {
  return a.timeNs - b.timeNs || a.prio - b.prio || a.seq - b.seq;
}

test('EventQueue: 5000 random pushes pop in (time, priority, seq) order', () => {
  const rng = new Random(2024);
  const q = new EventQueue(4); // start tiny: the heap must grow many times
  const pushed: Ev[] = [];
  for (let seq = 0; seq < 5000; seq++) {
    // a small time range so that ties at the same time are common
    const e = { timeNs: rng.int(200), prio: rng.int(2), seq };
    pushed.push(e);
    q.push(e.timeNs, e.prio, () => undefined, e);
  }
  assert.equal(q.size, 5000);
  const popped: Ev[] = [];
  while (q.pop()) {
    const e = q.poppedArg as Ev;
    assert.equal(q.poppedTimeNs, e.timeNs);
    popped.push(e);
  }
  assert.equal(q.size, 0);
  assert.equal(q.peekTimeNs(), Infinity);
  const want = [...pushed].sort(refCompare);
  assert.deepEqual(
    popped.map((e) => e.seq),
    want.map((e) => e.seq),
  );
});

test('EventQueue: interleaved pushes and pops always pop the reference minimum', () => {
  const rng = new Random(7);
  const q = new EventQueue(2);
  const ref: Ev[] = [];
  let seq = 0;
  let clock = 0;
  let pops = 0;
  for (let i = 0; i < 6000; i++) {
    if (ref.length === 0 || rng.int(3) !== 0) {
      // never in the past of the last pop, as the Environment guarantees
      const e = { timeNs: clock + rng.int(50), prio: rng.int(2), seq: seq++ };
      ref.push(e);
      q.push(e.timeNs, e.prio, () => undefined, e);
    } else {
      ref.sort(refCompare);
      const want = ref.shift()!;
      assert.equal(q.peekTimeNs(), want.timeNs);
      assert.equal(q.pop(), true);
      assert.equal((q.poppedArg as Ev).seq, want.seq, `pop #${pops}`);
      clock = want.timeNs;
      pops++;
    }
    assert.equal(q.size, ref.length);
  }
  assert.ok(pops > 1000, `the table exercised pops (${pops})`);
  assert.equal(new EventQueue().pop(), false);
});

test('EventQueue: pop hands back the callback and argument it was given', () => {
  const q = new EventQueue();
  const f = (x: number) => x + 1;
  q.push(3, N, f, 41);
  assert.equal(q.pop(), true);
  assert.equal(q.poppedFn, f);
  assert.equal(q.poppedArg, 41);
  assert.equal(q.poppedTimeNs, 3);
});

// ---- the clock ---------------------------------------------------------------------------------

test('Environment.at/after refuse the past and non-finite times with SimBug', () => {
  const env = new Environment();
  env.at(10, N, () => undefined, undefined);
  env.run(10);
  assert.equal(env.nowNs, 10);
  const cases: [string, () => void][] = [
    ['at(9)', () => env.at(9, N, () => undefined, undefined)],
    ['at(-1)', () => env.at(-1, N, () => undefined, undefined)],
    ['at(NaN)', () => env.at(NaN, N, () => undefined, undefined)],
    ['at(Infinity)', () => env.at(Infinity, N, () => undefined, undefined)],
    ['after(-1)', () => env.after(-1, N, () => undefined, undefined)],
    ['after(NaN)', () => env.after(NaN, N, () => undefined, undefined)],
  ];
  for (const [name, fn] of cases) {
    assert.throws(fn, (e: unknown) => e instanceof SimBug && /SimBug/.test(e.message), name);
  }
  assert.equal(env.pending, 0, 'nothing refused was queued');
  // the present itself is allowed
  env.at(10, N, () => undefined, undefined);
  env.after(0, N, () => undefined, undefined);
  assert.equal(env.pending, 2);
});

test('Environment.after rounds the delay to whole nanoseconds', () => {
  const env = new Environment();
  const times: number[] = [];
  for (const d of [2.4, 2.5, 2.6, 0.4]) env.after(d, N, () => times.push(env.nowNs), undefined);
  env.run(Infinity);
  assert.deepEqual(times, [0, 2, 3, 3]);
});

test('Environment.run(until) runs events at or before until, then sets the clock to until', () => {
  const env = new Environment();
  const ran: number[] = [];
  for (const t of [5, 10, 15]) env.at(t, N, (x: number) => ran.push(x), t);
  // an event at exactly `until`, scheduled from a callback at `until`, still runs in this call
  env.at(10, N, () => env.at(10, N, (x: number) => ran.push(x), 1010), undefined);

  assert.equal(env.run(10), 4);
  assert.deepEqual(ran, [5, 10, 1010]);
  assert.equal(env.nowNs, 10);
  assert.equal(env.pending, 1);
  assert.equal(env.peekTimeNs(), 15);

  assert.equal(env.run(12), 0);
  assert.equal(env.nowNs, 12, 'an idle stretch still advances the clock');

  assert.equal(env.run(100), 1);
  assert.deepEqual(ran, [5, 10, 1010, 15]);
  assert.equal(env.nowNs, 100);
  assert.equal(env.eventsRun, 5);

  // run(Infinity) leaves the clock at the last event
  env.at(250, N, () => undefined, undefined);
  assert.equal(env.run(Infinity), 1);
  assert.equal(env.nowNs, 250);
  assert.equal(env.pending, 0);
  assert.equal(env.peekTimeNs(), Infinity);
});

test('Environment.stop() returns from run after the current callback and keeps the clock there', () => {
  const env = new Environment();
  const ran: string[] = [];
  env.at(10, N, () => {
    ran.push('stopper');
    env.stop();
  }, undefined);
  env.at(10, N, () => ran.push('same-time-after'), undefined);
  env.at(20, N, () => ran.push('later'), undefined);

  assert.equal(env.run(1000), 1);
  assert.deepEqual(ran, ['stopper']);
  assert.equal(env.nowNs, 10, 'a stopped run does not jump to until');
  assert.equal(env.pending, 2);

  // the stop request does not stick: the next run carries on
  assert.equal(env.run(1000), 2);
  assert.deepEqual(ran, ['stopper', 'same-time-after', 'later']);
  assert.equal(env.nowNs, 1000);
});

test('Environment.run(until, maxEvents) runs a bounded slice: the clock stays at its last event, and slices add up to one run', () => {
  const schedule = (env: Environment, ran: number[]): void => {
    for (const t of [5, 10, 10, 15, 40]) env.at(t, N, (x: number) => ran.push(x * 1000 + env.nowNs), t);
    // a callback that schedules more, so slicing cuts through work in flight
    env.at(12, N, () => env.after(3, N, (x: number) => ran.push(x), 99), undefined);
  };
  const whole = new Environment();
  const wholeRan: number[] = [];
  schedule(whole, wholeRan);
  assert.equal(whole.run(30), 6);

  const sliced = new Environment();
  const slicedRan: number[] = [];
  schedule(sliced, slicedRan);
  assert.equal(sliced.run(30, 2), 2);
  assert.equal(sliced.nowNs, 10, 'a slice cut by its bound does not jump to until');
  assert.equal(sliced.stopped, false);
  assert.equal(sliced.run(30, 2), 2);
  assert.equal(sliced.nowNs, 12);
  assert.equal(sliced.run(30, 2), 2);
  assert.equal(sliced.nowNs, 15, 'the bound fell on the last event before until: the clock stays there');
  assert.equal(sliced.run(30, 2), 0);
  assert.equal(sliced.nowNs, 30);
  assert.deepEqual(slicedRan, wholeRan);
  assert.equal(sliced.eventsRun, whole.eventsRun);
});

test('Environment.step() runs exactly one event', () => {
  const env = new Environment();
  const ran: number[] = [];
  env.at(3, N, (x: number) => ran.push(x), 3);
  env.at(1, N, (x: number) => ran.push(x), 1);
  assert.equal(env.step(), true);
  assert.deepEqual(ran, [1]);
  assert.equal(env.nowNs, 1);
  assert.equal(env.step(), true);
  assert.deepEqual(ran, [1, 3]);
  assert.equal(env.nowNs, 3);
  assert.equal(env.step(), false);
  assert.equal(env.nowNs, 3);
  assert.equal(env.eventsRun, 2);
});

// ---- processes ---------------------------------------------------------------------------------

test('Process: generator processes with timeouts interleave in the exact order', () => {
  const env = new Environment();
  const log: string[] = [];
  const proc = (name: string, delays: number[]): ProcessBody =>
    (function* () {
      log.push(`${env.nowNs}:${name}:start`);
      for (const d of delays) {
        yield d;
        log.push(`${env.nowNs}:${name}`);
      }
    })();
  const p1 = new Process(env, proc('p1', [10, 10, 10]), 'p1');
  const p2 = new Process(env, proc('p2', [15, 15]), 'p2');
  const p3 = new Process(env, proc('p3', [0, 30]), 'p3');
  env.run(Infinity);
  assert.deepEqual(log, [
    '0:p1:start',
    '0:p2:start',
    '0:p3:start',
    '0:p3', // yield 0 re-queues behind everything already queued at 0
    '10:p1',
    '15:p2',
    '20:p1',
    // three wake-ups at 30: queued at 0 (p3), at 15 (p2) and at 20 (p1): seq order
    '30:p3',
    '30:p2',
    '30:p1',
  ]);
  assert.equal(env.nowNs, 30);
  assert.ok(p1.done && p2.done && p3.done);
});

test('Process: a process does not start before the engine runs', () => {
  const env = new Environment();
  let started = false;
  const p = new Process(
    env,
    (function* () {
      started = true;
    })(),
    'lazy',
  );
  assert.equal(started, false);
  assert.equal(p.done, false);
  assert.equal(env.pending, 1);
  env.run(0);
  assert.equal(started, true);
  assert.equal(p.done, true);
});

test('Process: yielding a negative number other than SLEEP is a SimBug', () => {
  for (const bad of [-2, NaN]) {
    const env = new Environment();
    new Process(
      env,
      (function* () {
        yield bad;
      })(),
      'bad',
    );
    assert.throws(() => env.run(10), (e: unknown) => e instanceof SimBug && e.message.includes('process bad yielded'));
  }
});

/** A process that parks on `wq` `times` times, logging each wake-up. */
function sleeper(env: Environment, wq: WaitQueue, name: string, log: string[], times = 1): Process {
  const self: { p?: Process } = {};
  const body = (function* (): ProcessBody {
    for (let i = 0; i < times; i++) {
      wq.add(self.p!);
      yield SLEEP;
      log.push(`${env.nowNs}:${name}`);
    }
  })();
  self.p = new Process(env, body, name);
  return self.p;
}

test('WaitQueue: a sleeper is woken by an interrupt-context callback and resumes at that time', () => {
  const env = new Environment();
  const wq = new WaitQueue();
  const log: string[] = [];
  const p = sleeper(env, wq, 'reader', log);
  env.run(10);
  assert.equal(wq.length, 1, 'the process parked itself');
  assert.equal(log.length, 0);
  // a device "interrupt" at 50
  env.at(50, U, () => {
    log.push(`${env.nowNs}:irq`);
    assert.equal(wq.wakeOne(), true);
  }, undefined);
  env.run(49);
  assert.equal(log.length, 0, 'still asleep before the interrupt');
  env.run(1000);
  assert.deepEqual(log, ['50:irq', '50:reader']);
  assert.equal(wq.length, 0, 'waking removes the entry (autoremove)');
  assert.equal(p.done, true);
});

test('WaitQueue: wakeOne wakes the oldest sleeper only; wakeAll wakes the rest in FIFO order', () => {
  const env = new Environment();
  const wq = new WaitQueue();
  const log: string[] = [];
  sleeper(env, wq, 'a', log);
  sleeper(env, wq, 'b', log);
  sleeper(env, wq, 'c', log);
  env.run(0);
  assert.equal(wq.length, 3);

  env.at(10, U, () => assert.equal(wq.wakeOne(), true), undefined);
  env.run(20);
  assert.deepEqual(log, ['10:a']);
  assert.equal(wq.length, 2);

  env.at(30, U, () => assert.equal(wq.wakeAll(), 2), undefined);
  env.run(40);
  assert.deepEqual(log, ['10:a', '30:b', '30:c']);
  assert.equal(wq.length, 0);
  assert.equal(wq.wakeOne(), false);
  assert.equal(wq.wakeAll(), 0);
});

test('WaitQueue: remove() takes a waiter off without waking it', () => {
  const wq = new WaitQueue();
  const woken: string[] = [];
  const w = (name: string): Waker => ({ wake: () => woken.push(name) });
  const a = w('a');
  const b = w('b');
  const c = w('c');
  wq.add(a);
  wq.add(b);
  wq.add(c);
  wq.remove(b);
  wq.remove(w('stranger')); // not queued: no effect
  assert.equal(wq.length, 2);
  assert.equal(wq.wakeAll(), 2);
  assert.deepEqual(woken, ['a', 'c']);
});

test('WaitQueue: a waker that re-queues itself during wakeAll is not woken twice in that call', () => {
  const wq = new WaitQueue();
  let calls = 0;
  const w: Waker = {
    wake: () => {
      calls++;
      wq.add(w);
    },
  };
  wq.add(w);
  assert.equal(wq.wakeAll(), 1);
  assert.equal(calls, 1);
  assert.equal(wq.length, 1);
});

test('Process: a wake that arrives before the process sleeps is not lost (wakePending)', () => {
  const env = new Environment();
  const log: string[] = [];
  const p = new Process(
    env,
    (function* (): ProcessBody {
      yield 100; // busy until 100; the wake comes at 50
      log.push(`${env.nowNs}:before-sleep`);
      yield SLEEP; // must not block: the wake is pending
      log.push(`${env.nowNs}:after-first-sleep`);
      yield SLEEP; // the pending wake was consumed: this one blocks until the next wake
      log.push(`${env.nowNs}:after-second-sleep`);
    })(),
    'early',
  );
  env.at(50, U, () => p.wake(), undefined);
  env.at(300, U, () => p.wake(), undefined);
  env.run(200);
  assert.deepEqual(log, ['100:before-sleep', '100:after-first-sleep']);
  assert.equal(p.done, false);
  env.run(1000);
  assert.deepEqual(log, ['100:before-sleep', '100:after-first-sleep', '300:after-second-sleep']);
  assert.equal(p.done, true);
  // waking a finished process is a no-op (nothing scheduled)
  p.wake();
  assert.equal(env.pending, 0);
});

// ---- random ------------------------------------------------------------------------------------

function take(r: Random, n: number): number[] {
  return Array.from({ length: n }, () => r.nextU32());
}

test('Random: the generator step is xoshiro128** (reference outputs from state {1,2,3,4})', () => {
  const r = new Random(0);
  // set the state directly: the published vector starts from s = {1, 2, 3, 4}
  Object.assign(r as unknown as { s0: number; s1: number; s2: number; s3: number }, { s0: 1, s1: 2, s2: 3, s3: 4 });
  assert.deepEqual(take(r, 10), [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804]);
});

test('Random: the same seed gives the same sequence', () => {
  for (const seed of [0, 1, 42, 0xffffffff, 2 ** 40 + 3]) {
    const a = new Random(seed);
    const b = new Random(seed);
    assert.deepEqual(take(a, 1000), take(b, 1000), `seed ${seed}`);
    assert.deepEqual(
      Array.from({ length: 100 }, () => a.next()),
      Array.from({ length: 100 }, () => b.next()),
    );
  }
});

test('Random: different seeds give different sequences', () => {
  const seen = new Map<string, number>();
  for (let seed = 0; seed < 200; seed++) {
    const key = take(new Random(seed), 4).join(',');
    assert.equal(seen.get(key), undefined, `seeds ${seen.get(key)} and ${seed} collide`);
    seen.set(key, seed);
  }
  // seeds above 2^32 are not folded onto small ones
  assert.notDeepEqual(take(new Random(2 ** 32 + 5), 4), take(new Random(5), 4));
});

test('Random: next() is in [0, 1) and int(n) is an integer in [0, n) covering the range', () => {
  const r = new Random(99);
  for (let i = 0; i < 2000; i++) {
    const x = r.next();
    assert.ok(x >= 0 && x < 1, `next() = ${x}`);
  }
  for (const n of [1, 2, 3, 7, 10, 1000, 2 ** 32, 2 ** 40]) {
    let lo = Infinity;
    let hi = -Infinity;
    const hits = new Set<number>();
    for (let i = 0; i < 3000; i++) {
      const v = r.int(n);
      assert.ok(Number.isInteger(v) && v >= 0 && v < n, `int(${n}) = ${v}`);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
      hits.add(v);
    }
    if (n <= 10) assert.equal(hits.size, n, `int(${n}) reaches every value`);
    else assert.ok(hi - lo > n * 0.9, `int(${n}) spans its range (${lo}..${hi})`);
  }
});

test('Random: fork() is deterministic and gives a stream distinct from its parent', () => {
  const a = new Random(5);
  const b = new Random(5);
  const fa = a.fork();
  const fb = b.fork();
  const sa = take(fa, 50);
  assert.deepEqual(sa, take(fb, 50), 'same parent state -> same child');
  // the parent moved on by the same amount
  assert.deepEqual(take(a, 20), take(b, 20));
  // the child is not a copy of the parent
  const parent = new Random(5);
  parent.fork();
  assert.notDeepEqual(sa.slice(0, 20), take(parent, 20));
  // two consecutive forks differ
  const p = new Random(5);
  assert.notDeepEqual(take(p.fork(), 8), take(p.fork(), 8));
  // fork consumes exactly two outputs of the parent
  const q1 = new Random(5);
  q1.fork();
  const q2 = new Random(5);
  take(q2, 2);
  assert.deepEqual(take(q1, 10), take(q2, 10));
});

test('Random: exponential has the given mean (deterministic sample)', () => {
  const r = new Random(3);
  let sum = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const x = r.exponential(250);
    assert.ok(x >= 0 && Number.isFinite(x));
    sum += x;
  }
  const mean = sum / n;
  assert.ok(Math.abs(mean - 250) < 10, `mean ${mean}`);
});
