// Models: drivers/cpufreq/cpufreq.c (one policy per CPU with its frequency table,
// cpufreq_driver_resolve_freq's lowest table entry at or above the target (CPUFREQ_RELATION_L),
// power:cpu_frequency on each change), drivers/cpufreq/cpufreq_performance.c and
// cpufreq_powersave.c, and kernel/sched/cpufreq_schedutil.c: next_freq = 1.25 x f_max x util /
// capacity (map_util_perf, map_util_freq), the rate limit (rate_limit_us,
// sugov_should_update_freq) and iowait boost (sugov_iowait_boost / sugov_iowait_apply /
// sugov_iowait_reset). The scheduler stretches CPU work by f_max / f_cur (core/kernel/sched/core.ts).
// SIMPLIFICATION: util is a PELT-like exponential average (32 ms half-life) of the CPU's busy
// fraction, frequency invariant (busy time at f_cur counts f_cur / f_max), updated when the
// governor runs; it stands for PELT's per-entity sums (cfs, rt, irq and dl alike); no uclamp.
// SIMPLIFICATION: the governor runs where the scheduler calls cpufreq_update_util here (every CPU
// burn and every wakeup onto the CPU), not on a periodic tick; sugov_hold_freq (no decrease while
// the CPU stays busy) is left out, and the frequency switch is immediate (fast switch).

import type { Kernel } from '../kernel/kernel.js';
import { SCHED_CPUFREQ_IOWAIT, type Cpu, type FreqOps } from '../kernel/sched/core.js';
import { HZ } from '../mm/page-writeback-throttle.js';
import type { CpufreqSpec } from '../userspace/job.js';

/**
 * A desktop/server CPU's range: 800 MHz (the lowest P-state Intel parts since Sandy Bridge
 * expose, LFM) to 3.5 GHz (a typical all-core turbo of a recent Xeon or Core part), in steps of
 * the 100 MHz bus clock as intel_pstate's P-state ratios are.
 */
export const DEFAULT_CPUFREQ_MIN_MHZ = 800;
export const DEFAULT_CPUFREQ_MAX_MHZ = 3500;
export const CPUFREQ_STEP_MHZ = 100;

/**
 * schedutil's default rate_limit_us: cpufreq_policy_transition_delay_us for acpi-cpufreq, whose
 * _PSS transition latency (10 µs) x LATENCY_MULTIPLIER (1000) is capped at 2 ms (Linux 6.9+).
 */
export const DEFAULT_SUGOV_RATE_LIMIT_US = 2000;

/** SCHED_CAPACITY_SCALE: a CPU's full capacity in util units; IOWAIT_BOOST_MIN is an eighth. */
export const SCHED_CAPACITY_SCALE = 1024;
export const IOWAIT_BOOST_MIN = SCHED_CAPACITY_SCALE / 8;

/** PELT's half-life (y^32 = 0.5 with 1 ms periods). */
export const PELT_HALFLIFE_NS = 32_000_000;

/** TICK_NSEC: the iowait boost is dropped after a tick without an update. */
const TICK_NSEC = 1e9 / HZ;

/** One CPU's policy (struct cpufreq_policy) with schedutil's per-CPU state (struct sugov_cpu). */
export class CpufreqPolicy {
  curKhz: number;
  /** Frequency changes so far (cpufreq stats' total_trans), and time per frequency (time_in_state) up to the last change. */
  transitions = 0;
  readonly timeInStateNs = new Map<number, number>();
  curSinceNs = 0;
  // schedutil
  utilAvg = 0;
  private utilSinceNs = 0;
  private busyAtUtilNs = 0;
  lastFreqUpdateNs = -Infinity;
  lastUpdateNs = 0;
  iowaitBoost = 0;
  iowaitBoostPending = false;

  constructor(
    readonly cpu: Cpu,
    startKhz: number,
  ) {
    this.curKhz = startKhz;
  }

  /** Brings the PELT-like average up to now: the busy fraction since the last update, at the frequency it ran at. */
  updateUtil(nowNs: number, maxKhz: number): number {
    const dtNs = nowNs - this.utilSinceNs;
    if (dtNs <= 0) return this.utilAvg;
    const busyNs = this.cpu.busyTimeNs();
    const busyFraction = Math.min(1, (busyNs - this.busyAtUtilNs) / dtNs);
    const decay = Math.pow(0.5, dtNs / PELT_HALFLIFE_NS);
    this.utilAvg = this.utilAvg * decay + busyFraction * (this.curKhz / maxKhz) * SCHED_CAPACITY_SCALE * (1 - decay);
    this.utilSinceNs = nowNs;
    this.busyAtUtilNs = busyNs;
    return this.utilAvg;
  }
}

/** cpufreq for the machine's CPUs: a policy per CPU, one governor for all. */
export class CpuFreq implements FreqOps {
  readonly policies: CpufreqPolicy[] = [];
  /** The frequency table, ascending (kHz, as cpufreq counts). */
  readonly tableKhz: number[] = [];
  readonly minKhz: number;
  readonly maxKhz: number;
  private readonly rateLimitNs: number;

  constructor(
    private readonly k: Kernel,
    readonly spec: CpufreqSpec,
  ) {
    for (let mhz = spec.minMhz; mhz < spec.maxMhz; mhz += CPUFREQ_STEP_MHZ) this.tableKhz.push(mhz * 1000);
    this.tableKhz.push(spec.maxMhz * 1000);
    this.minKhz = spec.minMhz * 1000;
    this.maxKhz = spec.maxMhz * 1000;
    this.rateLimitNs = spec.rateLimitUs * 1000;
    const startKhz = spec.governor === 'performance' ? this.maxKhz : this.minKhz;
    for (const c of k.sched.cpus) {
      this.policies.push(new CpufreqPolicy(c, this.maxKhz));
      // the governor's start: performance stays at f_max, powersave and schedutil begin at f_min
      this.setFrequency(this.policies[c.id]!, startKhz);
    }
    if (spec.governor === 'schedutil') k.sched.freqOps = this;
  }

  /** cpufreq_driver_resolve_freq with CPUFREQ_RELATION_L: the lowest table frequency at or above the target. */
  resolveKhz(targetKhz: number): number {
    if (targetKhz <= this.minKhz) return this.minKhz;
    for (const f of this.tableKhz) if (f >= targetKhz) return f;
    return this.maxKhz;
  }

  /** The driver's target: the new frequency applies to the CPU's next burn; power:cpu_frequency reports it. */
  setFrequency(p: CpufreqPolicy, khz: number): void {
    if (khz === p.curKhz) return;
    const nowNs = this.k.env.nowNs;
    p.timeInStateNs.set(p.curKhz, (p.timeInStateNs.get(p.curKhz) ?? 0) + nowNs - p.curSinceNs);
    p.curSinceNs = nowNs;
    p.curKhz = khz;
    p.transitions++;
    p.cpu.freqSlowdown = this.maxKhz / khz;
    const tp = this.k.tp.cpu_frequency;
    if (tp.enabled) tp.emit(p.cpu, 0, khz, p.cpu.id);
  }

  /** cpufreq stats' time_in_state for one CPU: each frequency it ran at (ascending) and for how long, the current stretch included. */
  timeInState(p: CpufreqPolicy): { khz: number; timeNs: number }[] {
    const nowNs = this.k.env.nowNs;
    const out: { khz: number; timeNs: number }[] = [];
    for (const khz of this.tableKhz) {
      const ns = (p.timeInStateNs.get(khz) ?? 0) + (khz === p.curKhz ? nowNs - p.curSinceNs : 0);
      if (ns > 0) out.push({ khz, timeNs: ns });
    }
    return out;
  }

  /** sugov_update_single_freq: the scheduler's cpufreq_update_util for one CPU. */
  update(cpu: Cpu, flags: number): void {
    const p = this.policies[cpu.id]!;
    const nowNs = this.k.env.nowNs;
    this.iowaitBoostUpdate(p, nowNs, flags);
    p.lastUpdateNs = nowNs;
    // sugov_should_update_freq: at most one frequency decision per rate_limit_us
    if (nowNs - p.lastFreqUpdateNs < this.rateLimitNs) return;
    p.lastFreqUpdateNs = nowNs;
    const boost = this.iowaitBoostApply(p);
    const util = Math.max(p.updateUtil(nowNs, this.maxKhz), boost);
    // map_util_perf (util + util/4, the 25 % headroom), then map_util_freq
    const targetKhz = (this.maxKhz * (util * 1.25)) / SCHED_CAPACITY_SCALE;
    this.setFrequency(p, this.resolveKhz(targetKhz));
  }

  /** sugov_iowait_boost: a wakeup from I/O starts the boost at IOWAIT_BOOST_MIN or doubles it. */
  private iowaitBoostUpdate(p: CpufreqPolicy, nowNs: number, flags: number): void {
    const set = (flags & SCHED_CPUFREQ_IOWAIT) !== 0;
    // sugov_iowait_reset: a CPU that went a tick without an update starts over
    if (p.iowaitBoost > 0 && nowNs - p.lastUpdateNs > TICK_NSEC) {
      p.iowaitBoost = set ? IOWAIT_BOOST_MIN : 0;
      p.iowaitBoostPending = set;
      return;
    }
    if (!set || p.iowaitBoostPending) return;
    p.iowaitBoostPending = true;
    p.iowaitBoost = p.iowaitBoost > 0 ? Math.min(p.iowaitBoost * 2, SCHED_CAPACITY_SCALE) : IOWAIT_BOOST_MIN;
  }

  /** sugov_iowait_apply: the boost counts once per decision, and halves at each decision without a new I/O wakeup. */
  private iowaitBoostApply(p: CpufreqPolicy): number {
    if (p.iowaitBoost === 0) return 0;
    if (!p.iowaitBoostPending) {
      p.iowaitBoost /= 2;
      if (p.iowaitBoost < IOWAIT_BOOST_MIN) {
        p.iowaitBoost = 0;
        return 0;
      }
    }
    p.iowaitBoostPending = false;
    return p.iowaitBoost;
  }
}
