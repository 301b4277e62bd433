// The load average as /proc/loadavg (and loads.bt) read it: nothing before the first fold at
// LOAD_FREQ (5 s and a jiffy), then each fold moves avenrun towards the active task count, the
// 1-minute figure fastest; two CPU-bound tasks give 0.16, 0.31 ... after 5 s, 10 s.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE } from '../../../core/index.js';
import { calcLoad, EXP_1, EXP_15, EXP_5, FIXED_1, LOAD_FREQ_NS } from '../../../core/kernel/sched/loadavg.js';

test('two CPU-bound tasks: avenrun folds towards 2 every LOAD_FREQ, 1 min fastest', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  for (const name of ['spin-a', 'spin-b']) {
    m.spawn(
      name,
      false,
      () =>
        (function* () {
          for (;;) yield 1_000_000;
        })(),
      m.init,
    );
  }
  const la = m.k.loadavg;
  m.run(LOAD_FREQ_NS - 1);
  assert.deepEqual(la.avenrun, [0, 0, 0]);
  m.run(LOAD_FREQ_NS + 1);
  const active = 2 * FIXED_1;
  const first = [calcLoad(0, EXP_1, active), calcLoad(0, EXP_5, active), calcLoad(0, EXP_15, active)];
  assert.deepEqual(la.avenrun, first);
  // 328/2048 = 0.160, as loads.bt prints it
  assert.equal(first[0], 328);
  m.run(2 * LOAD_FREQ_NS + 1);
  assert.deepEqual(la.avenrun, [calcLoad(first[0]!, EXP_1, active), calcLoad(first[1]!, EXP_5, active), calcLoad(first[2]!, EXP_15, active)]);
  assert.ok(la.avenrun[0] > la.avenrun[1] && la.avenrun[1] > la.avenrun[2]);
});

test('an idle machine stays at 0.00', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  m.run(2 * LOAD_FREQ_NS + 1);
  assert.deepEqual(m.k.loadavg.avenrun, [0, 0, 0]);
});
