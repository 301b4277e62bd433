// Runs a scenario against the wall clock for the live view: `speed` simulated ns per wall ns
// (0 = as fast as it goes), pausable, in bounded chunks so commands and snapshots get a turn.

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

export class SimDriver {
  private anchorWallNs: number;
  private anchorSimNs: number;
  private speedNow: number;
  private pausedNow = false;
  private readonly sampler: Sampler;
  private inspector: IoInspector | undefined;

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
  }

  get speed(): number {
    return this.speedNow;
  }

  get paused(): boolean {
    return this.pausedNow;
  }

  /** The end of the scenario, or the program called exit(). */
  get done(): boolean {
    return this.m.env.nowNs >= this.endNs || this.script?.exited() === true;
  }

  setSpeed(speed: number, wallNs: number): void {
    this.speedNow = speed;
    this.reanchor(wallNs);
  }

  togglePause(wallNs: number): void {
    this.pausedNow = !this.pausedNow;
    this.reanchor(wallNs);
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
    if (this.pausedNow || this.done) return false;
    const now = this.m.env.nowNs;
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

  snapshot(wallNs: number): Snapshot {
    const snap = this.sampler.take(wallNs, this.speedNow, this.pausedNow, this.inspector?.recent() ?? []);
    return this.script ? { ...snap, script: { maps: this.script.maps(), output: this.script.output(), exited: this.script.exited() } } : snap;
  }
}
