// The preemption models: where a task running kernel code gives up the CPU to a task that woke
// up (PREEMPT_NONE at cond_resched, VOLUNTARY also at might_resched, FULL at once), and SCHED_FIFO,
// which no fair task preempts.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, Priority, type Machine, type MachineSpec, type ProbeHit } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { PreemptModel } from '../../../core/kernel/sched/core.js';
import { PREEMPT, SCHED, SCHED_FIFO, TaskState, type Task } from '../../../core/kernel/sched/task.js';

const ONE_CPU: MachineSpec = { ...DEFAULT_MACHINE, cpus: 1 };
/** The kernel loop: 200 pieces of 10 µs, might_resched after each, cond_resched after every 10th. */
const PIECE_NS = 10_000;
/** After the loop's first slice is over (a fair task's slice protects it from wakeup preemption), 1 µs after a cond_resched point. */
const WAKE_AT_NS = 1_512_000;

interface Outcome {
  /** From the wakeup to the sched_switch onto the woken task. */
  latencyNs: number;
  /** prev_state of that switch (0x100 is "R+", preempted). */
  prevState: number;
  hogEndNs: number;
  /** How many pieces the loop had done when it yielded PREEMPT after the wakeup (-1: never). */
  piecesAtPreemption: number;
}

function run(model: PreemptModel, fifo: boolean): Outcome {
  const m = bootMachine(ONE_CPU, 1);
  m.k.sched.preemptModel = model;
  let hogEndNs = 0;
  let piecesAtPreemption = -1;
  const point = (i: number): number => {
    if (m.env.nowNs >= WAKE_AT_NS && piecesAtPreemption < 0) piecesAtPreemption = i + 1;
    return PREEMPT;
  };
  const hog = m.spawn(
    'kloop',
    true,
    (t) =>
      (function* (): Generator<number, void, void> {
        for (let i = 0; i < 200; i++) {
          yield PIECE_NS;
          if (i % 10 === 9 && m.k.sched.condResched(t)) yield point(i);
          if (m.k.sched.mightResched(t)) yield point(i);
        }
        hogEndNs = m.env.nowNs;
      })(),
    undefined,
  );
  if (fifo) m.k.sched.setScheduler(hog, SCHED_FIFO, 50);
  const sw = wakeInteractive(m);
  return { latencyNs: sw.timeNs - WAKE_AT_NS, prevState: Number(sw.fields['prev_state']), hogEndNs, piecesAtPreemption };
}

/** An interactive task that sleeps, is woken at WAKE_AT_NS and runs 5 µs: the switch onto it. */
function wakeInteractive(m: Machine): ProbeHit {
  let sleeper: Task | undefined;
  sleeper = m.spawn(
    'interactive',
    false,
    function* () {
      sleeper!.state = TaskState.INTERRUPTIBLE;
      yield SCHED;
      yield 5_000;
    },
    m.init,
  );
  const switches: ProbeHit[] = [];
  attach(m, 'tracepoint:sched:sched_switch', (h) => switches.push(h));
  m.env.at(WAKE_AT_NS, Priority.NORMAL, () => m.k.sched.tryToWakeUp(sleeper!, m.k.sched.cpu(0), 0), 0);
  m.run(5_000_000);
  const sw = switches.find((h) => h.timeNs >= WAKE_AT_NS && h.fields['next_comm'] === 'interactive');
  assert.ok(sw, 'the woken task ran');
  return sw;
}

test('a woken task waits for the kernel loop\'s next preemption point: cond_resched (none), might_resched (voluntary), none at all (full)', () => {
  const none = run(PreemptModel.NONE, false);
  const voluntary = run(PreemptModel.VOLUNTARY, false);
  const full = run(PreemptModel.FULL, false);
  // FULL: the resched happens at the wakeup itself
  assert.equal(full.latencyNs, 0);
  // VOLUNTARY: at the end of the 10 µs piece under way
  assert.ok(voluntary.latencyNs > 0 && voluntary.latencyNs <= PIECE_NS, `voluntary ${voluntary.latencyNs}`);
  assert.notEqual(voluntary.piecesAtPreemption % 10, 0);
  // NONE: at the next cond_resched (after every tenth piece), up to ten pieces later
  assert.equal(none.piecesAtPreemption % 10, 0);
  assert.ok(none.latencyNs > voluntary.latencyNs && none.latencyNs <= 10 * PIECE_NS, `none ${none.latencyNs}`);
  // FULL preempted between two pieces: no preemption point was needed
  assert.equal(full.piecesAtPreemption, -1);
  // in every model the loop was preempted (R+), not put to sleep
  for (const o of [none, voluntary, full]) assert.equal(o.prevState, 0x100);
});

test('a SCHED_FIFO kernel loop is not preempted by a fair task even under PREEMPT_FULL; the fair task runs when it ends', () => {
  const fifo = run(PreemptModel.FULL, true);
  assert.ok(fifo.hogEndNs > 2_000_000, `loop ended at ${fifo.hogEndNs}`);
  assert.ok(fifo.latencyNs >= fifo.hogEndNs - WAKE_AT_NS, `latency ${fifo.latencyNs}`);
});

test('a SCHED_FIFO task that wakes preempts a fair CPU hog at once under PREEMPT_FULL', () => {
  const m = bootMachine({ ...ONE_CPU, preempt: 'full', schedFifo: [{ comm: 'rt*', rtPriority: 10 }] }, 1);
  m.spawn(
    'hog',
    false,
    function* () {
      yield 3_000_000;
    },
    m.init,
  );
  let rt: Task | undefined;
  rt = m.spawn(
    'rtwaker',
    false,
    function* () {
      rt!.state = TaskState.INTERRUPTIBLE;
      yield SCHED;
      yield 1_000;
    },
    m.init,
  );
  assert.equal(rt.policy, SCHED_FIFO);
  assert.equal(rt.prio, 89);
  const switches: ProbeHit[] = [];
  attach(m, 'tracepoint:sched:sched_switch', (h) => switches.push(h));
  // woken before the hog's slice is over: only its RT class makes it preempt
  m.env.at(300_000, Priority.NORMAL, () => m.k.sched.tryToWakeUp(rt!, m.k.sched.cpu(0), 0), 0);
  m.run(4_000_000);
  const sw = switches.find((h) => h.fields['next_comm'] === 'rtwaker' && h.timeNs >= 300_000);
  assert.ok(sw);
  assert.equal(sw.timeNs, 300_000);
  assert.equal(sw.fields['next_prio'], 89);
  assert.equal(sw.fields['prev_state'], 0x100);
});

test('burnWithCondResched: a summed-up kernel loop (reclaim\'s) gives the CPU up within one piece under PREEMPT_NONE; one plain burn does not', () => {
  const latency = (pieces: boolean): number => {
    const m = bootMachine({ ...ONE_CPU, preempt: 'none' }, 1);
    m.spawn(
      'kswapd0',
      true,
      (t) =>
        (function* (): Generator<number, void, void> {
          if (pieces) yield* m.k.sched.burnWithCondResched(t, 3_000_000, 5_000);
          else yield 3_000_000;
        })(),
      undefined,
    );
    return wakeInteractive(m).timeNs - WAKE_AT_NS;
  };
  assert.ok(latency(true) <= 5_000, `in pieces: ${latency(true)}`);
  assert.ok(latency(false) > 1_000_000, `one burn: ${latency(false)}`);
});
