// Running a machine from the command line. The simulation is synchronous, so it runs in slices
// of a bounded number of events; between slices the event loop turns, which is when Node
// delivers signals, when network exports go out and when a progress line is redrawn. Slicing
// never changes the run (Environment.run with maxEvents), only when we look up from it.
//
// Signals: the first SIGINT, SIGTERM or SIGHUP asks the run to stop at the current simulated
// time; the caller then ends the run the way a normal end does (END probes, maps, summary,
// exports closed). A second one exits at once, as an impatient user expects.

import { constants as osConstants } from 'node:os';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import type { Machine } from '../core/index.js';
import { formatNs } from './units.js';

export type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

const STOP_SIGNALS: readonly StopSignal[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** The shell's code for a process ended by `signal`: 128 + its number (130 for Ctrl-C). */
export function signalExitCode(signal: StopSignal): number {
  return 128 + osConstants.signals[signal];
}

/** Events per slice: a few ms of wall time at the engine's millions of events per second. */
export const SLICE_EVENTS = 20_000;

/** What a process needs to hear signals: `process`, or a stand-in in tests. */
export interface SignalSource {
  on(signal: StopSignal, listener: () => void): unknown;
  off(signal: StopSignal, listener: () => void): unknown;
}

/**
 * The first stop signal of a run, if one came. A second one (or one after the run was asked to
 * stop some other way, e.g. `q` in kiotrace top) exits at once with 128+N; files being written
 * remove their temporary names on the way out (output-files.ts).
 */
export class Interruption {
  signal: StopSignal | undefined = undefined;
  /** The run was asked to stop without a signal (whoever read its output has gone). */
  stopRequested = false;
  private readonly listeners: [StopSignal, () => void][] = [];

  /**
   * Listens for SIGINT, SIGTERM and SIGHUP on `source`. `onFirst` runs once (e.g. to say the run
   * is stopping); `stopping` says whether the run is already ending without a signal.
   */
  constructor(
    private readonly source: SignalSource,
    private readonly exit: (code: number) => void,
    private readonly onFirst: (signal: StopSignal) => void = () => undefined,
    private readonly stopping: () => boolean = () => false,
  ) {
    for (const signal of STOP_SIGNALS) {
      const listener = (): void => this.received(signal);
      source.on(signal, listener);
      this.listeners.push([signal, listener]);
    }
  }

  private received(signal: StopSignal): void {
    if (this.signal === undefined && !this.stopping()) {
      this.signal = signal;
      this.onFirst(signal);
      return;
    }
    this.exit(signalExitCode(signal));
  }

  /** Ends the run at the current simulated time, as a normal end (not an interruption). */
  requestStop(): void {
    this.stopRequested = true;
  }

  /** Stops listening (the default action of each signal comes back). */
  dispose(): void {
    for (const [signal, listener] of this.listeners) this.source.off(signal, listener);
    this.listeners.length = 0;
  }
}

/** Where a progress line goes: a terminal's stderr (never a pipe or a file). */
export interface ProgressTerminal {
  write(text: string): unknown;
}

/** Wall time before the first progress line: short runs never show one. */
const PROGRESS_DELAY_MS = 1000;
const PROGRESS_PERIOD_MS = 250;

/** One line on stderr, redrawn in place: simulated time, % done, events/s. */
export class ProgressLine {
  private shown = false;
  private lastDrawMs: number;
  private lastEvents = 0;
  private lastDrawWallMs: number;

  constructor(
    private readonly terminal: ProgressTerminal,
    private readonly endNs: number,
    private readonly wallMs: () => number = () => performance.now(),
  ) {
    this.lastDrawWallMs = this.wallMs();
    this.lastDrawMs = this.lastDrawWallMs - PROGRESS_PERIOD_MS + PROGRESS_DELAY_MS;
  }

  /** Redraws the line if it is due. */
  update(nowNs: number, eventsRun: number): void {
    const now = this.wallMs();
    if (now - this.lastDrawMs < PROGRESS_PERIOD_MS) return;
    const rate = ((eventsRun - this.lastEvents) * 1000) / Math.max(1, now - this.lastDrawWallMs);
    this.lastDrawMs = now;
    this.lastDrawWallMs = now;
    this.lastEvents = eventsRun;
    this.terminal.write(`\r\x1b[K${progressText(nowNs, this.endNs, rate)}`);
    this.shown = true;
  }

  /** Erases the line (before other output to the terminal, and at the end). */
  clear(): void {
    if (!this.shown) return;
    this.terminal.write('\r\x1b[K');
    this.shown = false;
    // the next update may draw at once: whatever was written is already on screen
    this.lastDrawMs -= PROGRESS_PERIOD_MS;
  }
}

/** The text of a progress line. */
export function progressText(nowNs: number, endNs: number, eventsPerSec: number): string {
  const percent = endNs > 0 ? Math.min(100, Math.floor((nowNs * 100) / endNs)) : 100;
  const rate = eventsPerSec >= 1e6 ? `${(eventsPerSec / 1e6).toFixed(1)}M` : eventsPerSec >= 1e3 ? `${Math.round(eventsPerSec / 1e3)}k` : `${Math.round(eventsPerSec)}`;
  return `kiotrace: simulated ${formatNs(nowNs)} of ${formatNs(endNs)} (${percent}%), ${rate} events/s; Ctrl-C stops and keeps the results`;
}

export interface RunLoopOptions {
  readonly interruption?: Interruption;
  readonly progress?: ProgressLine;
  /** Runs between slices: network exports wait here while their endpoint is behind. */
  readonly afterSlice?: () => Promise<void>;
  readonly sliceEvents?: number;
}

export type RunEnd =
  | { readonly kind: 'completed' }
  /** A probe's exit() stopped the machine (Environment.stop), or requestStop() did. */
  | { readonly kind: 'stopped' }
  | { readonly kind: 'interrupted'; readonly signal: StopSignal };

/** Runs `m` to `untilNs` in slices, until the end, an exit() or a stop signal. */
export async function runMachine(m: Machine, untilNs: number, opts: RunLoopOptions = {}): Promise<RunEnd> {
  const sliceEvents = opts.sliceEvents ?? SLICE_EVENTS;
  try {
    for (;;) {
      const signal = opts.interruption?.signal;
      if (signal !== undefined) return { kind: 'interrupted', signal };
      if (opts.interruption?.stopRequested === true) return { kind: 'stopped' };
      const n = m.run(untilNs, sliceEvents);
      if (m.env.stopped) return { kind: 'stopped' };
      opts.progress?.update(m.env.nowNs, m.env.eventsRun);
      // a slice that ran fewer events than its bound reached untilNs
      if (n < sliceEvents) return { kind: 'completed' };
      await yieldToEventLoop();
      if (opts.afterSlice) await opts.afterSlice();
    }
  } finally {
    opts.progress?.clear();
  }
}
