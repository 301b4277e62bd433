// Runs a scenario against the wall clock for the live view: `speed` simulated ns per wall ns
// (0 = as fast as it goes), pausable, in bounded chunks so commands and snapshots get a turn.
// When the simulation cannot keep up it runs flat out, owes the clock at most MAX_LAG_WALL_NS
// (never racing to catch up after a slow start or a stall), and says what speed it achieved.

import type { Machine } from '../../core/index.js';
import { IoInspector } from './inspector.js';
import { Sampler, type Snapshot } from './snapshot.js';

/** A program attached next to the view: its maps and output now, and whether it called exit(). */
export interface ScriptView {
  readonly maps: () => string;
  readonly output: () => readonly string[];
  readonly exited: () => boolean;
}

/** Simulated time one chunk may cover, so a chunk stays short even at full speed. */
const MAX_CHUNK_NS = 2_000_000;
/** Wall time the simulation may fall behind the clock; beyond it the lag is forgiven, not made up. */
export const MAX_LAG_WALL_NS = 100_000_000;
/** Behind: an interval's achieved speed under this share of the speed asked for. */
const BEHIND_SHARE = 0.9;
/** Running wall time an achieved speed is measured over, at least (shorter says only noise). */
const MIN_MEASURED_WALL_NS = 20_000_000;

export class SimDriver {
  private anchorWallNs: number;
  private anchorSimNs: number;
  private speedNow: number;
  private pausedNow = false;
  private readonly sampler: Sampler;
  private inspector: IoInspector | undefined;
  /** Wall time the machine was meant to run (not paused, not done), and when that was last counted. */
  private runningWallNs = 0;
  private countedToWallNs: number;
  /** Where the last snapshot's interval ended: its achieved speed is measured from there. */
  private intervalFrom: { simNs: number; runningWallNs: number };

  constructor(
    private readonly m: Machine,
    scenario: string,
    private readonly seed: number,
    readonly endNs: number,
    speed: number,
    wallNs: number,
    private readonly script?: ScriptView,
  ) {
    this.sampler = new Sampler(m, scenario, seed, endNs, wallNs);
    this.speedNow = speed;
    this.anchorWallNs = wallNs;
    this.anchorSimNs = m.env.nowNs;
    this.countedToWallNs = wallNs;
    this.intervalFrom = { simNs: m.env.nowNs, runningWallNs: 0 };
  }

  get speed(): number {
    return this.speedNow;
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  /** The end of the scenario, or the program called exit(). */
  get done(): boolean {
    return this.m.env.nowNs >= this.endNs || this.m.ended || this.script?.exited() === true;
  }

  setSpeed(speed: number, wallNs: number): void {
    this.countWall(wallNs);
    this.speedNow = speed;
    this.reanchor(wallNs);
  }

  togglePause(wallNs: number): void {
    this.countWall(wallNs);
    this.pausedNow = !this.pausedNow;
    this.reanchor(wallNs);
  }

  /** Adds the wall time since the last count to the running time, unless paused or done. */
  private countWall(wallNs: number): void {
    if (!this.pausedNow && !this.done) this.runningWallNs += Math.max(0, wallNs - this.countedToWallNs);
    this.countedToWallNs = wallNs;
  }

  private reanchor(wallNs: number): void {
    this.anchorWallNs = wallNs;
    this.anchorSimNs = this.m.env.nowNs;
  }

  /**
   * Runs one chunk toward where the clock says the simulation should be. Returns true when it
   * is behind (call again at once), false when caught up, paused or done (wait a little).
   */
  step(wallNs: number): boolean {
    this.countWall(wallNs);
    if (this.pausedNow || this.done) return false;
    const now = this.m.env.nowNs;
    if (this.speedNow !== 0 && (wallNs - this.anchorWallNs) * this.speedNow - (now - this.anchorSimNs) > MAX_LAG_WALL_NS * this.speedNow) {
      // too far behind the clock: owe it only MAX_LAG_WALL_NS from here on
      this.anchorWallNs = wallNs - MAX_LAG_WALL_NS;
      this.anchorSimNs = now;
    }
    const target = this.speedNow === 0 ? this.endNs : Math.min(this.endNs, Math.floor(this.anchorSimNs + (wallNs - this.anchorWallNs) * this.speedNow));
    if (target <= now) return false;
    this.m.run(Math.min(target, now + MAX_CHUNK_NS));
    return this.m.env.nowNs < target;
  }

  /** Starts or stops counting every probe site's hits (the probes panel). */
  countProbes(on: boolean): void {
    this.sampler.countProbes(on);
  }

  /** Opens or closes the I/O inspector: it records only while open (it costs simulation speed). */
  inspect(on: boolean): void {
    if (on && !this.inspector) this.inspector = new IoInspector(this.m, this.seed);
    else if (!on && this.inspector) {
      this.inspector.stop();
      this.inspector = undefined;
    }
  }

  /**
   * Simulated ns per running wall ns since the last snapshot (undefined when the machine did not
   * run), and whether that fell short of the speed asked for.
   */
  private achieved(wallNs: number): { achievedSpeed: number | undefined; behind: boolean } {
    this.countWall(wallNs);
    const simNs = this.m.env.nowNs - this.intervalFrom.simNs;
    const ranNs = this.runningWallNs - this.intervalFrom.runningWallNs;
    // too short to measure: the next snapshot measures from the same point
    if (ranNs < MIN_MEASURED_WALL_NS) return { achievedSpeed: undefined, behind: false };
    this.intervalFrom = { simNs: this.m.env.nowNs, runningWallNs: this.runningWallNs };
    const achievedSpeed = simNs / ranNs;
    return { achievedSpeed, behind: this.speedNow !== 0 && !this.done && achievedSpeed < this.speedNow * BEHIND_SHARE };
  }

  snapshot(wallNs: number): Snapshot {
    const { achievedSpeed, behind } = this.achieved(wallNs);
    const snap = { ...this.sampler.take(wallNs, this.speedNow, this.pausedNow, this.inspector?.recent() ?? []), achievedSpeed, behind };
    return this.script ? { ...snap, script: { maps: this.script.maps(), output: this.script.output(), exited: this.script.exited() } } : snap;
  }
}
