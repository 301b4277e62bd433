// Models: no Linux file; the simulation environment (SimPy's Environment): a clock in integer
// nanoseconds and a queue of callbacks ordered by (timeNs, priority, seq).

import { EventQueue, type EventFn } from './event-queue.js';
import { SimBug } from './errors.js';

/** Same-time events run URGENT before NORMAL, then in the order they were scheduled. */
export const Priority = {
  /** Hardware: a device raising an interrupt or finishing a transfer. */
  URGENT: 0,
  NORMAL: 1,
} as const;
export type Priority = (typeof Priority)[keyof typeof Priority];

export class Environment {
  /** Simulated time in integer nanoseconds. */
  nowNs = 0;
  /** Number of callbacks run so far (the engine's unit of work). */
  eventsRun = 0;
  private readonly queue = new EventQueue();
  private stopRequested = false;

  /** Run `fn(arg)` at absolute time `atNs` (never in the past). */
  at<T>(atNs: number, priority: Priority, fn: EventFn<T>, arg: T): void {
    if (atNs < this.nowNs || !Number.isFinite(atNs)) {
      throw new SimBug(`event scheduled at ${atNs} ns, before now (${this.nowNs} ns)`);
    }
    this.queue.push(atNs, priority, fn, arg);
  }

  /** Run `fn(arg)` after `delayNs` (rounded to whole nanoseconds). */
  after<T>(delayNs: number, priority: Priority, fn: EventFn<T>, arg: T): void {
    const atNs = this.nowNs + Math.round(delayNs);
    this.at(atNs, priority, fn, arg);
  }

  get pending(): number {
    return this.queue.size;
  }

  peekTimeNs(): number {
    return this.queue.peekTimeNs();
  }

  /** The bound of the run() in progress (-1 outside one): nothing may happen after it. */
  private runUntilNs = -1;

  /**
   * Moves the clock to `toNs` inside the current callback when nothing else can happen before:
   * no event is due at or before it, it is within the run's bound and no stop was asked. The
   * caller then does at once what an event at `toNs` would have done, without the event (a CPU
   * burning through a segment nobody interrupts). Same order, same times; fewer events.
   */
  tryAdvanceTo(toNs: number): boolean {
    if (this.stopRequested || toNs > this.runUntilNs) return false;
    const q = this.queue;
    if (q.size > 0 && q.peekTimeNs() <= toNs) return false;
    this.nowNs = toNs;
    return true;
  }

  /** Ask `run` to return after the current callback. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Runs events with time <= untilNs, then sets the clock to untilNs (if the run was not stopped).
   * `maxEvents` bounds the slice: a caller that must stay responsive (signals, a progress line,
   * network exports) runs the machine in slices; a slice cut by the bound leaves the clock at its
   * last event, so slicing never changes what runs or when. Returns the number of callbacks run.
   */
  run(untilNs: number, maxEvents = Infinity): number {
    const q = this.queue;
    const start = this.eventsRun;
    this.stopRequested = false;
    this.runUntilNs = untilNs;
    let n = 0;
    let reachedUntil = true;
    while (q.size > 0 && q.peekTimeNs() <= untilNs) {
      q.pop();
      this.nowNs = q.poppedTimeNs;
      const fn = q.poppedFn!;
      const arg = q.poppedArg;
      q.poppedFn = undefined;
      q.poppedArg = undefined;
      n++;
      fn(arg);
      if (this.stopRequested || n >= maxEvents) {
        reachedUntil = false;
        break;
      }
    }
    this.eventsRun = start + n;
    this.runUntilNs = -1;
    if (reachedUntil && untilNs > this.nowNs && Number.isFinite(untilNs)) this.nowNs = untilNs;
    return n;
  }

  /** The last run() returned because a callback called stop() (not because it reached its end or bound). */
  get stopped(): boolean {
    return this.stopRequested;
  }

  /** Runs exactly one event if there is one. */
  step(): boolean {
    const q = this.queue;
    if (!q.pop()) return false;
    this.nowNs = q.poppedTimeNs;
    const fn = q.poppedFn!;
    const arg = q.poppedArg;
    q.poppedFn = undefined;
    q.poppedArg = undefined;
    this.eventsRun++;
    fn(arg);
    return true;
  }
}
