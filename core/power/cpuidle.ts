// Models: drivers/cpuidle/cpuidle.c (cpuidle_enter_state, the per-state usage and residency
// counters, power:cpu_idle and power:cpu_idle_miss) with the menu governor of
// drivers/cpuidle/governors/menu.c (a predicted idle length from the recent idle intervals, then
// the deepest state whose target residency fits it and whose exit latency fits the latency
// limit), and the C-state table of drivers/idle/intel_idle.c for Skylake-SP (C1 2/2 µs, C1E
// 10/20 µs, C6 133/600 µs exit latency / target residency).
// SIMPLIFICATION: the governor does not know the next timer (tick_nohz_get_sleep_length): with no
// repeating pattern in the last 8 intervals it predicts a long sleep (the deepest state); no
// correction factors by load; the per-state power figures are assumptions (a Skylake-SP core:
// about 4 W in C0/POLL, 1.5 W in C1, 1 W in C1E, 0.1 W in C6), not measurements.

import type { Kernel } from '../kernel/kernel.js';
import type { Cpu } from '../kernel/sched/core.js';
import { PWR_EVENT_EXIT } from '../trace/events.js';

/** struct cpuidle_state: what the governor chooses among. */
export interface CState {
  readonly name: string;
  readonly exitLatencyNs: number;
  readonly targetResidencyNs: number;
  readonly powerW: number;
}

export const INTEL_SKX_CSTATES: readonly CState[] = [
  { name: 'POLL', exitLatencyNs: 0, targetResidencyNs: 0, powerW: 4 },
  { name: 'C1', exitLatencyNs: 2_000, targetResidencyNs: 2_000, powerW: 1.5 },
  { name: 'C1E', exitLatencyNs: 10_000, targetResidencyNs: 20_000, powerW: 1 },
  { name: 'C6', exitLatencyNs: 133_000, targetResidencyNs: 600_000, powerW: 0.1 },
];

/** A core running (C0). Assumption, like the states' figures. */
export const C0_POWER_W = 4;

/** No governor: one shallow state whose exit is the model's plain idle exit (C1). */
export const C1_ONLY_CSTATES: readonly CState[] = [{ name: 'C1', exitLatencyNs: 2_000, targetResidencyNs: 2_000, powerW: 1.5 }];

/** menu.c INTERVALS: the idle intervals the governor looks for a pattern in. */
const INTERVALS = 8;

/** One CPU's cpuidle device (struct cpuidle_device) with the menu governor's history. */
export class CpuIdleDevice {
  /** The state the CPU sits in, -1 when it is not idle. */
  state = -1;
  enteredNs = 0;
  readonly intervalsNs: number[] = [];
  private intervalIdx = 0;
  /** Per state: entries, time resident, and entries that were too deep (above) or too shallow (below). */
  readonly usage: number[];
  readonly timeNs: number[];
  readonly above: number[];
  readonly below: number[];

  constructor(nStates: number) {
    this.usage = new Array<number>(nStates).fill(0);
    this.timeNs = new Array<number>(nStates).fill(0);
    this.above = new Array<number>(nStates).fill(0);
    this.below = new Array<number>(nStates).fill(0);
  }

  record(intervalNs: number): void {
    if (this.intervalsNs.length < INTERVALS) this.intervalsNs.push(intervalNs);
    else this.intervalsNs[this.intervalIdx] = intervalNs;
    this.intervalIdx = (this.intervalIdx + 1) % INTERVALS;
  }
}

/**
 * get_typical_interval: the mean of the recent intervals when they agree (small spread), dropping
 * the largest outliers up to a quarter of them; Infinity when no pattern shows.
 */
export function typicalIntervalNs(intervals: readonly number[]): number {
  if (intervals.length < INTERVALS) return Infinity;
  let threshold = Infinity;
  for (let round = 0; round <= INTERVALS / 4; round++) {
    let n = 0;
    let sum = 0;
    let max = 0;
    for (const v of intervals) {
      if (v > threshold) continue;
      n++;
      sum += v;
      if (v > max) max = v;
    }
    const avg = sum / n;
    let variance = 0;
    for (const v of intervals) if (v <= threshold) variance += (v - avg) ** 2;
    variance /= n;
    // menu.c accepts the mean when the standard deviation is at most 20 µs or a sixth of the mean
    if (variance <= 400e6 || avg * avg > 36 * variance) return avg;
    threshold = max - 1;
  }
  return Infinity;
}

/** cpuidle for the machine's CPUs: one device per CPU, one driver (state table). */
export class CpuIdle {
  readonly devices: CpuIdleDevice[];
  /** PM QoS cpu_dma_latency (no limit by default). */
  latencyLimitNs = Infinity;

  constructor(
    private readonly k: Kernel,
    readonly states: readonly CState[],
    nrCpus: number,
  ) {
    this.devices = [];
    for (let i = 0; i < nrCpus; i++) this.devices.push(new CpuIdleDevice(states.length));
  }

  /** menu_select: the deepest state worth entering for the predicted idle length. */
  select(dev: CpuIdleDevice): number {
    const predictedNs = typicalIntervalNs(dev.intervalsNs);
    let chosen = 0;
    for (let i = 1; i < this.states.length; i++) {
      const s = this.states[i]!;
      if (s.targetResidencyNs > predictedNs || s.exitLatencyNs > this.latencyLimitNs) break;
      chosen = i;
    }
    return chosen;
  }

  /** cpuidle_idle_call: the CPU has nothing to run; it enters the governor's state. */
  enter(cpu: Cpu): void {
    const dev = this.devices[cpu.id]!;
    if (dev.state >= 0) return;
    const state = this.select(dev);
    dev.state = state;
    dev.enteredNs = this.k.env.nowNs;
    dev.usage[state]!++;
    const tp = this.k.tp.cpu_idle;
    if (tp.enabled) tp.emit(cpu, 0, state, cpu.id);
  }

  /** The CPU wakes (an interrupt or a kick): the exit latency it pays (0 if it was not idle). */
  exit(cpu: Cpu): number {
    const dev = this.devices[cpu.id]!;
    const state = dev.state;
    if (state < 0) return 0;
    dev.state = -1;
    const residencyNs = this.k.env.nowNs - dev.enteredNs;
    dev.timeNs[state]! += residencyNs;
    dev.record(residencyNs);
    const tp = this.k.tp.cpu_idle;
    if (tp.enabled) tp.emit(cpu, 0, PWR_EVENT_EXIT, cpu.id);
    // cpuidle_reflect's bookkeeping: too deep (woke before the target residency), or too shallow
    // (slept long enough for the next deeper state)
    const s = this.states[state]!;
    const deeper = this.states[state + 1];
    let miss: boolean | undefined;
    if (residencyNs < s.targetResidencyNs) {
      dev.above[state]!++;
      miss = false;
    } else if (deeper !== undefined && residencyNs >= deeper.targetResidencyNs) {
      dev.below[state]!++;
      miss = true;
    }
    const missTp = this.k.tp.cpu_idle_miss;
    if (miss !== undefined && missTp.enabled) missTp.emit(cpu, 0, cpu.id, state, miss);
    return s.exitLatencyNs;
  }

  /** Time CPU `cpuId` spent in `state`, including a stretch in progress. */
  timeInNs(cpuId: number, state: number): number {
    const dev = this.devices[cpuId]!;
    return dev.timeNs[state]! + (dev.state === state ? this.k.env.nowNs - dev.enteredNs : 0);
  }
}
