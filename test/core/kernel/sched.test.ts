// The scheduler: tasks consume CPU time in segments, share a CPU by time slices, pay for context
// switches, and are preempted by hardirqs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, Priority, type MachineSpec, type ProbeHit } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { baseSliceNs } from '../../../core/kernel/sched/core.js';
import { CONTEXT_SWITCH_NS, IDLE_EXIT_NS } from '../../../core/hw/cpu.js';
import { SCHED, TaskState, type Task } from '../../../core/kernel/sched/task.js';

const ONE_CPU: MachineSpec = { ...DEFAULT_MACHINE, cpus: 1 };

test('two CPU-bound tasks on one CPU share it by time slices, preempting each other (R+)', () => {
  const m = bootMachine(ONE_CPU, 1);
  const switches: ProbeHit[] = [];
  attach(m, 'tracepoint:sched:sched_switch', (h) => switches.push(h));
  const burn = function* (): Generator<number, void, void> {
    for (let i = 0; i < 100; i++) yield 1_000_000; // 100 ms of CPU in 1 ms pieces
  };
  const a = m.spawn('hog-a', false, burn, m.init);
  const b = m.spawn('hog-b', false, burn, m.init);
  m.run(100_000_000);
  // at 100 ms both have run about half the time (minus switch costs and the kworkers' few µs)
  for (const t of [a, b]) {
    assert.ok(t.sumExecRuntimeNs > 45_000_000 && t.sumExecRuntimeNs < 50_500_000, `${t.comm} ran ${t.sumExecRuntimeNs} ns`);
    assert.ok(t.nivcsw > 10, `${t.comm} was preempted ${t.nivcsw} times`);
  }
  const preempted = switches.filter((h) => h.fields['prev_state'] === 0x100);
  assert.ok(preempted.length > 20);
  // slices are at least the base slice: no switch between the hogs comes sooner than that
  const hogSwitches = switches.filter((h) => String(h.fields['prev_comm']).startsWith('hog') && String(h.fields['next_comm']).startsWith('hog'));
  for (let i = 1; i < hogSwitches.length; i++) {
    assert.ok(hogSwitches[i]!.timeNs - hogSwitches[i - 1]!.timeNs >= baseSliceNs(1), 'a slice ran for at least the base slice');
  }
});

test('a hardirq preempts a running segment: the task finishes later by exactly the handler time', () => {
  const finishTimes: number[] = [];
  for (const withIrq of [false, true]) {
    const m = bootMachine(ONE_CPU, 1);
    m.spawn(
      'burner',
      false,
      function* () {
        yield 1_000_000;
        finishTimes.push(m.env.nowNs);
      },
      m.init,
    );
    if (withIrq) {
      m.env.at(500_000, Priority.URGENT, () => {
        m.k.sched.raiseIrq(m.k.sched.cpu(0), { irq: 99, name: 'test', ioId: 0, costNs: 10_000, handler: () => 0 });
      }, 0);
    }
    m.run(5_000_000);
  }
  assert.equal(finishTimes.length, 2);
  assert.equal(finishTimes[1]! - finishTimes[0]!, 10_000);
});

test('a task woken on an idle CPU runs after the idle exit and a context switch', () => {
  const m = bootMachine(ONE_CPU, 1);
  const marks: number[] = [];
  let sleeper: Task | undefined;
  sleeper = m.spawn(
    'sleeper',
    false,
    function* () {
      // sleep until woken from "interrupt context" at t = 1 ms
      sleeper!.state = TaskState.UNINTERRUPTIBLE;
      yield SCHED;
      marks.push(m.env.nowNs);
    },
    m.init,
  );
  m.env.at(1_000_000, Priority.URGENT, () => m.k.sched.tryToWakeUp(sleeper!, m.k.sched.cpu(0), 0), 0);
  m.run(2_000_000);
  // woken at 1 ms; the idle CPU leaves C1, switches to the task and pays the switch cost
  assert.deepEqual(marks, [1_000_000 + IDLE_EXIT_NS + CONTEXT_SWITCH_NS]);
});
