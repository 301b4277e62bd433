// Models: kernel/sched/loadavg.c: the global load average. Every LOAD_FREQ (5 s and one jiffy)
// calc_global_load folds the number of active tasks (running, runnable, or in uninterruptible
// sleep) into avenrun[0..2], the 1-, 5- and 15-minute exponentially decaying averages in FSHIFT
// fixed point, as /proc/loadavg and loads.bt (kaddr("avenrun")) read them.
// SIMPLIFICATION: the active count is taken at the fold itself (Linux folds each CPU's count at
// its tick before, calc_load_fold_active, with NO_HZ idle corrections).

import { Priority } from '../../sim/engine.js';
import type { Kernel } from '../kernel.js';
import { TaskState } from './task.js';
import { HZ, NS_PER_JIFFY } from '../../mm/page-writeback-throttle.js';

/** Bits of fraction in avenrun (include/linux/sched/loadavg.h). */
export const FSHIFT = 11;
export const FIXED_1 = 1 << FSHIFT;
/** 1/exp(5s/1min), 1/exp(5s/5min), 1/exp(5s/15min) in fixed point. */
export const EXP_1 = 1884;
export const EXP_5 = 2014;
export const EXP_15 = 2037;
/** LOAD_FREQ: 5 s and one jiffy, so the fold does not beat with 5 s periodic work. */
export const LOAD_FREQ_NS = (5 * HZ + 1) * NS_PER_JIFFY;

/** calc_load: one decay step of `load` towards `active` (both fixed point), rounding up when rising. */
export function calcLoad(load: number, exp: number, active: number): number {
  let newload = load * exp + active * (FIXED_1 - exp);
  if (active >= load) newload += FIXED_1 - 1;
  return Math.floor(newload / FIXED_1);
}

/** The global load average: avenrun and its address (the kernel symbol `avenrun`). */
export class LoadAvg {
  /** avenrun[3]: 1, 5 and 15 minutes, FSHIFT fixed point. */
  readonly avenrun: [number, number, number] = [0, 0, 0];
  /** &avenrun: three unsigned longs. */
  readonly kaddr: number;

  constructor(private readonly k: Kernel) {
    this.kaddr = k.kaddr();
  }

  /** Arms the first fold, LOAD_FREQ after boot. */
  start(): void {
    this.k.env.after(LOAD_FREQ_NS, Priority.NORMAL, fold, this);
  }

  /** calc_load_fold_active: tasks on a CPU or its run queue, and those in uninterruptible sleep. */
  activeTasks(): number {
    let n = 0;
    for (const t of this.k.tasks) {
      if (t.pid === 0 || t.state === TaskState.DEAD) continue;
      if (t.onCpu || t.onRq || (t.state & TaskState.UNINTERRUPTIBLE) !== 0) n++;
    }
    return n;
  }
}

function fold(l: LoadAvg): void {
  const active = l.activeTasks() * FIXED_1;
  l.avenrun[0] = calcLoad(l.avenrun[0], EXP_1, active);
  l.avenrun[1] = calcLoad(l.avenrun[1], EXP_5, active);
  l.avenrun[2] = calcLoad(l.avenrun[2], EXP_15, active);
  l.start();
}
