// Models: an NVMe controller's power states and Autonomous Power State Transitions (NVMe base
// spec 1.4 §5.21.1.12 and §8.4): the power state descriptors of Identify Controller (max power,
// entry and exit latency, non-operational flag), and the APST table Set Features writes: for each
// state, the state to move to (ITPS) after so much idle time in it (ITPT). A command arriving in a
// non-operational state waits for the controller to get back to PS0: the rest of an entry still
// under way, then the exit latency.
// Source for the table: a Samsung 970 PRO's `nvme id-ctrl` power states (PS0 6.2 W, PS1 4.3 W,
// PS2 2.1 W operational; PS3 40 mW enlat 210 µs exlat 1200 µs, PS4 5 mW enlat 2000 µs exlat
// 8000 µs non-operational) [mem; the values smartctl and nvme-cli print for the 970 EVO/PRO].
// SIMPLIFICATION: the controller runs in PS0 whenever it works (the host never selects PS1/PS2);
// a state draws its descriptor's max power the whole time it is in it (busy or idle); exit from a
// non-operational state goes straight to PS0.

import { Priority, type Environment } from '../sim/engine.js';

/** One power state descriptor (struct nvme_id_power_state, in the units the host reads). */
export interface NvmePowerState {
  readonly maxPowerW: number;
  readonly entryLatUs: number;
  readonly exitLatUs: number;
  readonly nonOperational: boolean;
}

export const SAMSUNG_970_PRO_POWER_STATES: readonly NvmePowerState[] = [
  { maxPowerW: 6.2, entryLatUs: 0, exitLatUs: 0, nonOperational: false },
  { maxPowerW: 4.3, entryLatUs: 0, exitLatUs: 0, nonOperational: false },
  { maxPowerW: 2.1, entryLatUs: 0, exitLatUs: 0, nonOperational: false },
  { maxPowerW: 0.04, entryLatUs: 210, exitLatUs: 1200, nonOperational: true },
  { maxPowerW: 0.005, entryLatUs: 2000, exitLatUs: 8000, nonOperational: true },
];

/** One APST table entry: after `idleTimeMs` idle in this state, go to `targetPs` (none: stay). */
export interface ApstEntry {
  readonly targetPs: number;
  readonly idleTimeMs: number;
}

/** Told when the controller changes power state (the host's view of the device-status table). */
export interface PowerStateListener {
  onPowerState(ps: number, nonOperational: boolean): void;
}

/**
 * The controller's power-state machine. The driver's submit and completion paths call
 * commandArrived/commandDone (a counter and a compare when nothing changes); a single idle timer,
 * re-armed from the last completion when it fires early, makes the transitions.
 */
export class NvmeApst {
  ps = 0;
  private outstanding = 0;
  private idleSinceNs = 0;
  /** A transition into a non-operational state completes at this time. */
  private entryEndNs = 0;
  private timerArmed = false;
  private psSinceNs = 0;
  /** Time in each power state so far; transitions taken; exit latency paid by commands. */
  readonly psNs: number[];
  transitions = 0;
  wakeups = 0;
  exitWaitNs = 0;

  constructor(
    private readonly env: Environment,
    readonly states: readonly NvmePowerState[],
    /** Set Features APST (FID 0Ch): undefined entries stay put. */
    readonly table: readonly (ApstEntry | undefined)[],
    private readonly listener: PowerStateListener,
  ) {
    this.psNs = states.map(() => 0);
    this.idleSinceNs = env.nowNs;
    this.armIdleTimer();
  }

  /** A command reached the controller: the extra time before it is processed (0 in PS0). */
  commandArrived(): number {
    this.outstanding++;
    if (this.ps === 0) return 0;
    const now = this.env.nowNs;
    const exitNs = Math.max(0, this.entryEndNs - now) + this.states[this.ps]!.exitLatUs * 1000;
    this.wakeups++;
    this.exitWaitNs += exitNs;
    this.enter(0, now);
    this.listener.onPowerState(0, false);
    return exitNs;
  }

  /** A command completed: the controller is idle from now when it was the last one. */
  commandDone(): void {
    if (--this.outstanding > 0) return;
    this.idleSinceNs = this.env.nowNs;
    if (!this.timerArmed) this.armIdleTimer();
  }

  /** Time in `ps` so far, including a stretch in progress. */
  timeInNs(ps: number): number {
    return this.psNs[ps]! + (this.ps === ps ? this.env.nowNs - this.psSinceNs : 0);
  }

  private armIdleTimer(): void {
    const e = this.table[this.ps];
    if (e === undefined) return;
    this.timerArmed = true;
    this.env.at(Math.max(this.env.nowNs, this.idleSinceNs + e.idleTimeMs * 1_000_000), Priority.URGENT, apstTimer, this);
  }

  /** @internal the idle timer: transition if the controller has been idle long enough. */
  timerFired(): void {
    this.timerArmed = false;
    if (this.outstanding > 0) return; // the next idle stretch re-arms it
    const e = this.table[this.ps];
    if (e === undefined) return;
    const now = this.env.nowNs;
    const dueNs = this.idleSinceNs + e.idleTimeMs * 1_000_000;
    if (now < dueNs) {
      this.armIdleTimer();
      return;
    }
    const target = this.states[e.targetPs]!;
    this.enter(e.targetPs, now);
    this.entryEndNs = now + target.entryLatUs * 1000;
    this.transitions++;
    this.listener.onPowerState(e.targetPs, target.nonOperational);
    // idle time in the new state counts from its entry
    this.idleSinceNs = now;
    this.armIdleTimer();
  }

  private enter(ps: number, now: number): void {
    this.psNs[this.ps]! += now - this.psSinceNs;
    this.psSinceNs = now;
    this.ps = ps;
  }
}

function apstTimer(a: NvmeApst): void {
  a.timerFired();
}
