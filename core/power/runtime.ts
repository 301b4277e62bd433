// Models: drivers/base/power/runtime.c (runtime PM: rpm_idle, rpm_suspend, rpm_resume, the
// autosuspend timer, usage and child counts, parents resumed before their children and idled after
// them) and block/blk-pm.c (a disk's queue refuses to suspend with requests pending; the first
// request after a suspend waits for rpm_resume; every completion marks the device last busy).
// SIMPLIFICATION: callbacks are modelled by their duration only (a disk's runtime_suspend is the
// cache flush and spin-down, runtime_resume the spin-up); rpm_resume of a parent runs before the
// child's, never in parallel; no irq_safe devices; a resume requested while a suspend runs waits
// for the suspend to finish (rpm_resume does the same, then resumes).

import { Priority } from '../sim/engine.js';
import type { Kernel } from '../kernel/kernel.js';
import { DeviceState, type KDevice } from '../drivers/base/core.js';

/** enum rpm_status */
export const RpmStatus = { ACTIVE: 0, RESUMING: 1, SUSPENDED: 2, SUSPENDING: 3 } as const;
export type RpmStatus = (typeof RpmStatus)[keyof typeof RpmStatus];
export const RPM_STATUS_NAMES: readonly string[] = ['active', 'resuming', 'suspended', 'suspending'];

/** rpm flags as the rpm_* tracepoints print them (include/linux/pm_runtime.h). */
export const RPM_ASYNC = 0x01;
export const RPM_AUTO = 0x08;

/** What a driver's dev_pm_ops runtime callbacks cost, and what the device draws in each status. */
export interface DevPmOps {
  /** ->runtime_suspend and ->runtime_resume durations (a disk: flush + spin down, spin up). */
  readonly suspendNs: number;
  readonly resumeNs: number;
  /** Watts drawn while active and idle, active and busy, and suspended (0 when not modelled). */
  readonly idleW: number;
  readonly busyW: number;
  readonly suspendedW: number;
  /** ->runtime_suspend's -EBUSY: the device still has work (blk_pre_runtime_suspend). */
  readonly busy?: () => boolean;
}

/** struct dev_pm_info, the runtime half. */
export class DevPmInfo {
  runtimeStatus: RpmStatus = RpmStatus.ACTIVE;
  usageCount = 0;
  /** Children that are not suspended (child_count). */
  childCount = 0;
  disableDepth = 0;
  /** power/control: "auto" (true) or "on". */
  runtimeAuto: boolean;
  ignoreChildren = false;
  useAutosuspend = true;
  /** power/autosuspend_delay_ms; negative: never autosuspend. */
  autosuspendDelayMs: number;
  lastBusyNs = 0;
  timerArmed = false;
  /** A resume asked for while the suspend runs: resume as soon as it ends. */
  deferredResume = false;
  /** Called once the device is active again (those waiting in rpm_resume). */
  readonly resumeWaiters: (() => void)[] = [];
  suspendCount = 0;
  resumeCount = 0;
  /** Time spent suspending and resuming (the callbacks' run time). */
  transitionNs = 0;

  constructor(
    readonly ops: DevPmOps,
    control: 'auto' | 'on',
    autosuspendDelayMs: number,
  ) {
    this.runtimeAuto = control === 'auto';
    this.autosuspendDelayMs = autosuspendDelayMs;
  }
}

/** The runtime PM core of one machine. */
export class RuntimePm {
  constructor(private readonly k: Kernel) {}

  /** pm_runtime_enable + pm_runtime_set_active: `d` takes part, active, counted by its parent. */
  enable(d: KDevice, ops: DevPmOps, control: 'auto' | 'on', autosuspendDelayMs: number): DevPmInfo {
    const p = new DevPmInfo(ops, control, autosuspendDelayMs);
    p.lastBusyNs = this.k.env.nowNs;
    d.power = p;
    if (d.parent?.power) d.parent.power.childCount++;
    return p;
  }

  /** pm_runtime_mark_last_busy */
  markLastBusy(d: KDevice): void {
    if (d.power) d.power.lastBusyNs = this.k.env.nowNs;
  }

  /** rpm_idle: suspend if nothing keeps the device up (usage, active children, control "on"). */
  idle(d: KDevice, rpmflags: number): void {
    const p = d.power;
    if (!p) return;
    this.trace(this.k.tp.rpm_idle, this.k.fn.__pm_runtime_idle, d, rpmflags);
    if (p.usageCount > 0 || p.disableDepth > 0 || !p.runtimeAuto || p.runtimeStatus !== RpmStatus.ACTIVE) return;
    if (!p.ignoreChildren && p.childCount > 0) return;
    this.suspend(d, rpmflags | RPM_AUTO);
  }

  /**
   * rpm_suspend: with RPM_AUTO the autosuspend delay must have passed since the last busy time
   * (else the timer is set for then); a negative delay never suspends.
   */
  suspend(d: KDevice, rpmflags: number): void {
    const p = d.power;
    if (!p) return;
    this.trace(this.k.tp.rpm_suspend, this.k.fn.__pm_runtime_suspend, d, rpmflags);
    if (p.runtimeStatus !== RpmStatus.ACTIVE || p.usageCount > 0 || !p.runtimeAuto || p.disableDepth > 0) return;
    if (!p.ignoreChildren && p.childCount > 0) return;
    const now = this.k.env.nowNs;
    if ((rpmflags & RPM_AUTO) !== 0 && p.useAutosuspend) {
      if (p.autosuspendDelayMs < 0) return; // -EAGAIN: autosuspend off
      const expiresNs = p.lastBusyNs + p.autosuspendDelayMs * 1_000_000;
      if (now < expiresNs) {
        if (!p.timerArmed) {
          p.timerArmed = true;
          this.k.env.at(expiresNs, Priority.NORMAL, autosuspendTimer, { pm: this, d });
        }
        return;
      }
    }
    if (p.ops.busy?.()) return; // -EBUSY from ->runtime_suspend: requests still pending
    this.setStatus(d, RpmStatus.SUSPENDING);
    this.k.env.after(p.ops.suspendNs, Priority.NORMAL, suspendDone, { pm: this, d });
  }

  /** @internal the autosuspend timer (pm_suspend_timer_fn): try again. */
  autosuspendTimerFired(d: KDevice): void {
    d.power!.timerArmed = false;
    this.suspend(d, RPM_ASYNC | RPM_AUTO);
  }

  /** @internal ->runtime_suspend returned: suspended; the parent may idle now. */
  suspendDone(d: KDevice): void {
    const p = d.power!;
    p.transitionNs += p.ops.suspendNs;
    p.suspendCount++;
    this.setStatus(d, RpmStatus.SUSPENDED);
    this.k.devices.setState(d, DeviceState.SUSPENDED, undefined);
    const parent = d.parent;
    if (parent?.power) {
      parent.power.childCount--;
      this.idle(parent, RPM_ASYNC);
    }
    if (p.deferredResume) {
      p.deferredResume = false;
      this.resume(d, RPM_ASYNC, undefined);
    }
  }

  /**
   * rpm_resume: the parent first (it must be active for the child to resume), then the device's
   * ->runtime_resume; `onActive` runs when the device is active (at once if it is).
   */
  resume(d: KDevice, rpmflags: number, onActive: (() => void) | undefined): void {
    const p = d.power;
    if (!p) {
      onActive?.();
      return;
    }
    this.trace(this.k.tp.rpm_resume, this.k.fn.__pm_runtime_resume, d, rpmflags);
    if (p.runtimeStatus === RpmStatus.ACTIVE) {
      onActive?.();
      return;
    }
    if (onActive && !p.resumeWaiters.includes(onActive)) p.resumeWaiters.push(onActive);
    if (p.runtimeStatus === RpmStatus.RESUMING) return;
    if (p.runtimeStatus === RpmStatus.SUSPENDING) {
      p.deferredResume = true;
      return;
    }
    this.setStatus(d, RpmStatus.RESUMING);
    const parent = d.parent;
    const start = (): void => {
      if (parent?.power) parent.power.childCount++;
      this.k.env.after(p.ops.resumeNs, Priority.NORMAL, resumeDone, { pm: this, d });
    };
    if (parent?.power && parent.power.runtimeStatus !== RpmStatus.ACTIVE) this.resume(parent, rpmflags, start);
    else start();
  }

  /** @internal ->runtime_resume returned: active; whoever waited goes on. */
  resumeDone(d: KDevice): void {
    const p = d.power!;
    p.transitionNs += p.ops.resumeNs;
    p.resumeCount++;
    p.lastBusyNs = this.k.env.nowNs;
    this.setStatus(d, RpmStatus.ACTIVE);
    this.k.devices.setState(d, DeviceState.IDLE, undefined);
    for (const w of p.resumeWaiters.splice(0)) w();
    // nothing came after all: idle again (the autosuspend timer decides when)
    this.idle(d, RPM_ASYNC | RPM_AUTO);
  }

  private setStatus(d: KDevice, s: RpmStatus): void {
    d.power!.runtimeStatus = s;
  }

  /** The kprobe on the __pm_runtime_* entry point, and the rpm_* tracepoint. */
  private trace(tp: Kernel['tp']['rpm_idle'], fn: Kernel['fn']['__pm_runtime_idle'], d: KDevice, flags: number): void {
    const ctx = this.k.sched.ctxCpu;
    if (fn.entry.enabled) fn.enter(ctx, 0, d, flags);
    if (tp.enabled) tp.emit(ctx, 0, d, flags);
    if (fn.ret.enabled) fn.exit(ctx, 0, 0);
  }
}

function autosuspendTimer(a: { pm: RuntimePm; d: KDevice }): void {
  a.pm.autosuspendTimerFired(a.d);
}

function suspendDone(a: { pm: RuntimePm; d: KDevice }): void {
  a.pm.suspendDone(a.d);
}

function resumeDone(a: { pm: RuntimePm; d: KDevice }): void {
  a.pm.resumeDone(a.d);
}
