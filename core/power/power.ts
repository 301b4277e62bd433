// Models: drivers/base/power/wakeup.c (wakeup sources: __pm_stay_awake / __pm_relax, their
// /sys/class/wakeup statistics and the power:wakeup_source_* tracepoints), kernel/power/
// wakelock.c (user-space wake locks, /sys/power/wake_lock), kernel/power/autosleep.c (with
// /sys/power/autosleep set, the system suspends whenever no wakeup source is active) and
// kernel/power/suspend.c's suspend-to-idle (s2idle): the machine's power collapse. It also holds
// the machine's power management together: runtime PM, cpuidle, and the per-state time and energy
// the run report prints.
// SIMPLIFICATION: suspend is attempted when every CPU is idle, no block device has a request in
// flight and no wakeup source is active, and takes a fixed time (freezing tasks, suspending
// devices) during which any wakeup aborts it; in s2idle every timer is a wakeup (as a wake alarm
// would be) and resuming costs a fixed time charged to the wakeup that ends it. Both times are
// assumptions (a few ms, as phones' suspend/resume), not measurements.

import { Priority } from '../sim/engine.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Cpu, IdleOps } from '../kernel/sched/core.js';
import { DeviceState, type KDevice } from '../drivers/base/core.js';
import { RuntimePm } from './runtime.js';
import { C0_POWER_W, CpuIdle, type CState } from './cpuidle.js';
import { CpuFreq } from './cpufreq.js';
import type { CpufreqSpec } from '../userspace/job.js';

/** enum suspend_state: PM_SUSPEND_TO_IDLE. */
const PM_SUSPEND_TO_IDLE = 1;

/** Freezing tasks and suspending devices before s2idle, and the way back. Assumptions. */
export const S2IDLE_ENTRY_NS = 5_000_000;
export const S2IDLE_RESUME_NS = 5_000_000;

/** struct wakeup_source with its /sys/class/wakeup statistics. */
export class WakeupSource {
  active = false;
  activeCount = 0;
  eventCount = 0;
  relaxCount = 0;
  totalTimeNs = 0;
  maxTimeNs = 0;
  activeSinceNs = 0;

  constructor(readonly name: string) {}
}

/** Time and energy in one power state of a device or CPU, for the run report. */
export interface PowerStateTime {
  readonly state: string;
  readonly timeNs: number;
  readonly energyJ: number;
}

export interface PowerReport {
  readonly autosleep: string;
  readonly cpuidle: string;
  /** Time in power collapse (s2idle), how often entered, and resumes paid by wakeups. */
  readonly collapseNs: number;
  readonly collapses: number;
  readonly devices: readonly { readonly name: string; readonly states: readonly PowerStateTime[]; readonly suspends: number; readonly resumes: number }[];
  readonly cpus: readonly { readonly cpu: number; readonly states: readonly PowerStateTime[] }[];
  readonly wakeupSources: readonly { readonly name: string; readonly activeCount: number; readonly totalTimeNs: number; readonly maxTimeNs: number }[];
  /** With cpufreq on: the governor and, per CPU, its time per frequency and its number of changes. */
  readonly cpufreq?: { readonly governor: string; readonly cpus: readonly { readonly cpu: number; readonly timeInState: readonly { readonly khz: number; readonly timeNs: number }[]; readonly transitions: number }[] };
}

/** A device's power states as the report lists them (set at registration by the driver side). */
export type DevicePowerStates = () => readonly PowerStateTime[];

export class PowerManagement implements IdleOps {
  readonly rpm: RuntimePm;
  readonly wakeupSources: WakeupSource[] = [];
  private activeSources = 0;
  private combinedEventCount = 0;
  /** cpuidle, when the machine models idle states (machine.power.cpuidle or autosleep). */
  cpuidle: CpuIdle | undefined;
  /** cpufreq, when a governor other than performance is chosen (machine.power.cpufreq). */
  cpufreq: CpuFreq | undefined;
  autosleep = false;
  cpuidleGovernor = 'off';
  collapsed = false;
  private collapseSinceNs = 0;
  collapseNs = 0;
  collapses = 0;
  private idleCpus = 0;
  /** Bumped by every wakeup: a suspend attempt started before one is aborted. */
  private activityGen = 0;
  private suspendAttempt = false;
  readonly devicePowerStates = new Map<KDevice, DevicePowerStates>();

  constructor(private readonly k: Kernel) {
    this.rpm = new RuntimePm(k);
  }

  /** Turns on idle-state modelling: the scheduler's idle loop calls enter/exit from now on. */
  enableIdle(states: readonly CState[], governor: string, autosleep: boolean): void {
    this.cpuidle = new CpuIdle(this.k, states, this.k.sched.cpus.length);
    this.cpuidleGovernor = governor;
    this.autosleep = autosleep;
    this.k.sched.idleOps = this;
    // every CPU starts idle
    for (const c of this.k.sched.cpus) if (c.current === c.idle) this.enter(c);
  }

  /** Turns on frequency scaling: the governor sets each CPU's frequency from now on. */
  enableCpufreq(spec: CpufreqSpec): void {
    this.cpufreq = new CpuFreq(this.k, spec);
  }

  // ---- IdleOps: the scheduler's idle loop -----------------------------------------------------

  enter(cpu: Cpu): void {
    const ci = this.cpuidle!;
    if (ci.devices[cpu.id]!.state >= 0) return;
    ci.enter(cpu);
    this.idleCpus++;
    if (this.autosleep && this.idleCpus === ci.devices.length) this.trySuspend();
  }

  exit(cpu: Cpu): number {
    const ci = this.cpuidle!;
    if (ci.devices[cpu.id]!.state < 0) return 0;
    this.idleCpus--;
    this.activityGen++;
    let latencyNs = ci.exit(cpu);
    if (this.collapsed) latencyNs += this.resumeFromCollapse();
    return latencyNs;
  }

  // ---- wakeup sources ------------------------------------------------------------------------

  wakeupSource(name: string): WakeupSource {
    let ws = this.wakeupSources.find((w) => w.name === name);
    if (!ws) {
      ws = new WakeupSource(name);
      this.wakeupSources.push(ws);
    }
    return ws;
  }

  /** __pm_stay_awake (a wake_lock write): the system must not suspend while `ws` is active. */
  stayAwake(ws: WakeupSource): void {
    ws.eventCount++;
    this.combinedEventCount++;
    if (ws.active) return;
    ws.active = true;
    ws.activeCount++;
    ws.activeSinceNs = this.k.env.nowNs;
    this.activeSources++;
    this.activityGen++;
    const tp = this.k.tp.wakeup_source_activate;
    if (tp.enabled) tp.emit(this.k.sched.ctxCpu, 0, ws.name, this.combinedEventCount);
  }

  /** __pm_relax (wake_unlock). */
  relax(ws: WakeupSource): void {
    if (!ws.active) return;
    ws.active = false;
    ws.relaxCount++;
    const heldNs = this.k.env.nowNs - ws.activeSinceNs;
    ws.totalTimeNs += heldNs;
    if (heldNs > ws.maxTimeNs) ws.maxTimeNs = heldNs;
    this.activeSources--;
    const tp = this.k.tp.wakeup_source_deactivate;
    if (tp.enabled) tp.emit(this.k.sched.ctxCpu, 0, ws.name, this.combinedEventCount);
    if (this.autosleep && this.cpuidle && this.idleCpus === this.cpuidle.devices.length) this.trySuspend();
  }

  // ---- autosleep and s2idle -------------------------------------------------------------------

  private blockDevicesIdle(): boolean {
    for (const d of this.k.devices.devices) if (d.state === DeviceState.BUSY) return false;
    return true;
  }

  /** try_to_suspend: start a suspend when nothing holds the system awake. */
  private trySuspend(): void {
    if (this.collapsed || this.suspendAttempt || this.activeSources > 0 || !this.blockDevicesIdle()) return;
    this.suspendAttempt = true;
    this.k.env.after(S2IDLE_ENTRY_NS, Priority.NORMAL, suspendEntered, { pm: this, gen: this.activityGen });
  }

  /** @internal the suspend finished its preparation: enter s2idle unless a wakeup came meanwhile. */
  suspendEntered(gen: number): void {
    this.suspendAttempt = false;
    const ci = this.cpuidle!;
    if (gen !== this.activityGen || this.activeSources > 0 || this.idleCpus !== ci.devices.length || !this.blockDevicesIdle()) {
      // aborted; the next time the machine is idle tries again
      if (this.idleCpus === ci.devices.length) this.trySuspend();
      return;
    }
    this.collapsed = true;
    this.collapses++;
    this.collapseSinceNs = this.k.env.nowNs;
    this.traceSuspend(true);
  }

  private resumeFromCollapse(): number {
    this.collapsed = false;
    this.collapseNs += this.k.env.nowNs - this.collapseSinceNs;
    this.traceSuspend(false);
    return S2IDLE_RESUME_NS;
  }

  /** suspend_enter's trace_suspend_resume(TPS("machine_suspend"), PM_SUSPEND_TO_IDLE, start). */
  private traceSuspend(start: boolean): void {
    const tp = this.k.tp.suspend_resume;
    if (tp.enabled) tp.emit(this.k.sched.ctxCpu, 0, 'machine_suspend', PM_SUSPEND_TO_IDLE, start);
  }

  /** Time in power collapse so far, including a stretch in progress. */
  collapseTimeNs(): number {
    return this.collapseNs + (this.collapsed ? this.k.env.nowNs - this.collapseSinceNs : 0);
  }

  // ---- the report -------------------------------------------------------------------------------

  report(): PowerReport {
    const k = this.k;
    const ci = this.cpuidle;
    const cpus = ci
      ? k.sched.cpus.map((c) => ({
          cpu: c.id,
          states: [
            { state: 'C0', timeNs: c.busyTimeNs(), energyJ: (c.busyTimeNs() * C0_POWER_W) / 1e9 },
            ...ci.states.map((s, i) => ({ state: s.name, timeNs: ci.timeInNs(c.id, i), energyJ: (ci.timeInNs(c.id, i) * s.powerW) / 1e9 })),
          ],
        }))
      : [];
    const cf = this.cpufreq;
    const devices = [...this.devicePowerStates].map(([d, states]) => ({ name: d.name, states: states(), suspends: d.power?.suspendCount ?? 0, resumes: d.power?.resumeCount ?? 0 }));
    const now = k.env.nowNs;
    return {
      autosleep: this.autosleep ? 'freeze' : 'off',
      cpuidle: this.cpuidleGovernor,
      collapseNs: this.collapseTimeNs(),
      collapses: this.collapses,
      devices,
      cpus,
      wakeupSources: this.wakeupSources.map((w) => ({ name: w.name, activeCount: w.activeCount, totalTimeNs: w.totalTimeNs + (w.active ? now - w.activeSinceNs : 0), maxTimeNs: Math.max(w.maxTimeNs, w.active ? now - w.activeSinceNs : 0) })),
      ...(cf === undefined ? {} : { cpufreq: { governor: cf.spec.governor, cpus: cf.policies.map((p) => ({ cpu: p.cpu.id, timeInState: cf.timeInState(p), transitions: p.transitions })) } }),
    };
  }
}

function suspendEntered(a: { pm: PowerManagement; gen: number }): void {
  a.pm.suspendEntered(a.gen);
}
