// `kiotrace top [SCENARIO]`: the simulation in a worker thread, and either the Ink dashboard
// (a terminal) or, when stdout is not a terminal, the same panels as plain text once a second
// until the scenario ends. Never an escape code into a pipe.
//
// On a terminal the first frame is written at once, before Ink, React and the simulator load
// (they take seconds on a busy machine); the worker starts loading next to Ink. q, Ctrl-C,
// SIGINT, SIGTERM and SIGHUP all end it the same way: the screen restored, an attached program's
// maps printed. A second Ctrl-C (or signal) while that runs exits at once.

import { Worker } from 'node:worker_threads';
import { lineText } from './ansi.js';
import type { ExportResult, SimLink } from './app.js';
import type { IoRecord } from './inspector.js';
import { KeyDecoder } from './key-decoder.js';
import type { KeyName, SimCommand } from './keys.js';
import type { Snapshot } from './snapshot.js';
import type { FromWorker, ProgramEnd, ToWorker, WorkerScript, WorkerStart } from './sim-worker.js';
import { buildView, INITIAL_UI, PLAIN_UI, plainText, type StartInfo } from './view-model.js';
import { printable } from '../units.js';
import { Interruption } from '../run-loop.js';
import type { LoadOptions } from '../scenario.js';

export interface TopOptions {
  /** A checked bpftrace program to run next to the view. */
  readonly script?: WorkerScript;
  readonly scenario: string;
  readonly scenariosDir: string;
  readonly seed: number;
  readonly durationNs: number | undefined;
  /** Simulated ns per wall ns; 0 = as fast as it goes. */
  readonly speed: number;
  /** --machine, --directory and the environment, as the scenario was checked with. */
  readonly load?: LoadOptions;
}

/** The first line of a message (a worker's error may carry a stack or a multi-line text). */
function firstLine(text: string): string {
  return text.split('\n', 1)[0]!.trim();
}

/** A bug in the dashboard (not the simulation) as the one line shown for it. */
export function dashboardFailure(error: unknown): string {
  const message = error instanceof Error ? firstLine(error.message) || error.name : firstLine(String(error));
  return `internal error in the dashboard: ${printable(message)}`;
}

/** Snapshots kept for a listener still to come: as many as the sparklines show. */
const SNAPSHOTS_KEPT = 120;

/** Wall time a stop may take before the user is told that a second Ctrl-C quits at once. */
const SLOW_STOP_MS = 1000;
const WAITING_HINT = 'kiotrace top: waiting for the simulation to stop (Ctrl-C again quits at once)\n';

/** What the link tells its owner of, besides snapshots. */
export interface LinkEvents {
  /** The worker failed; `message` is one line. */
  readonly onFailure: (message: string) => void;
  /** The program ended by itself, unasked (only BEGIN and END probes, or exit() in BEGIN): its end is ready. */
  readonly onProgramEnd?: () => void;
}

/** No program, or a failed worker: nothing to print at the end. */
const NOTHING_PRINTED: ProgramEnd = { stdout: '', stderr: '', exitCode: 0 };

/** The simulation's worker as the app sees it: snapshots in, commands out, a failure as one line. */
export class WorkerLink implements SimLink {
  private readonly snapshotListeners = new Set<(s: Snapshot) => void>();
  /** The latest snapshots: a listener that comes later (Ink, after the first frames) gets them first, for its sparklines. */
  private readonly recent: Snapshot[] = [];

  /** The latest snapshots, oldest first (what the sparklines show). */
  get history(): readonly Snapshot[] {
    return this.recent;
  }
  private readonly statusListeners = new Set<(paused: boolean, speed: number) => void>();
  private readonly worker: Worker;
  private readonly programEnd: Promise<ProgramEnd>;
  private resolveEnd: (end: ProgramEnd) => void = () => undefined;
  private closing = false;
  /** The worker sent the program's end: its thread ending after that is expected. */
  private ended = false;
  /** What went wrong in the worker, as one line; undefined while all is well. */
  failure: string | undefined;
  /** A quit was asked for (q, a signal, the end of a plain run). */
  stopRequested = false;
  /** Files the `e` export wrote, to name them again at exit. */
  readonly written: string[] = [];

  constructor(
    start: WorkerStart,
    private readonly events: LinkEvents,
    workerUrl: URL = new URL('./sim-worker.js', import.meta.url),
  ) {
    this.programEnd = new Promise((resolve) => (this.resolveEnd = resolve));
    if (!start.script) this.resolveEnd(NOTHING_PRINTED);
    this.worker = new Worker(workerUrl, { workerData: start });
    this.worker.on('message', (msg: FromWorker) => {
      if (msg.type === 'snapshot') this.deliver(msg.snapshot);
      else if (msg.type === 'status') for (const l of this.statusListeners) l(msg.paused, msg.speed);
      else if (msg.type === 'final') {
        this.ended = true;
        this.resolveEnd(msg.end);
        if (!this.stopRequested) this.events.onProgramEnd?.();
      } else this.fail(msg.message);
    });
    // an exception the worker did not catch, or the worker gone without being asked to stop
    this.worker.on('error', (e) => this.fail(`the simulation failed: ${e.message}`));
    this.worker.on('exit', (code) => {
      if (!this.closing && !this.ended) this.fail(`the simulation's thread ended unexpectedly (exit code ${code})`);
      this.resolveEnd(NOTHING_PRINTED);
    });
  }

  private fail(message: string): void {
    if (this.failure !== undefined) return;
    this.failure = printable(firstLine(message));
    // the program's maps cannot come from a failed worker
    this.resolveEnd(NOTHING_PRINTED);
    this.events.onFailure(this.failure);
  }

  private deliver(snapshot: Snapshot): void {
    this.recent.push(snapshot);
    if (this.recent.length > SNAPSHOTS_KEPT) this.recent.shift();
    for (const l of this.snapshotListeners) l(snapshot);
  }

  onSnapshot(listener: (s: Snapshot) => void): () => void {
    this.snapshotListeners.add(listener);
    for (const s of this.recent) listener(s);
    return () => this.snapshotListeners.delete(listener);
  }

  onStatus(listener: (paused: boolean, speed: number) => void): () => void {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  send(command: SimCommand): void {
    let msg: ToWorker;
    if (command.kind === 'quit') {
      this.stopRequested = true;
      msg = { type: 'stop' };
    } else if (command.kind === 'pause') msg = { type: 'pause' };
    else if (command.kind === 'speed') msg = { type: 'speed', speed: command.speed };
    else if (command.kind === 'inspect') msg = { type: 'inspect', on: command.on };
    else if (command.kind === 'probes') msg = { type: 'probes', on: command.on };
    else return;
    this.worker.postMessage(msg);
  }

  async exportIo(io: IoRecord, path: string): Promise<ExportResult> {
    // the Perfetto writer (and protobufjs) load on the first export, not at start-up
    const { writeIoFile } = await import('./export-io.js');
    const r = writeIoFile(io, path);
    if (r.ok) this.written.push(r.path);
    return r;
  }

  /**
   * Stops the simulation; resolves with what the program printed at exit (nothing without one,
   * or when the worker failed). `onSlow` runs if that takes more than SLOW_STOP_MS.
   */
  async close(onSlow?: () => void): Promise<ProgramEnd> {
    this.stopRequested = true;
    if (!this.closing) {
      this.closing = true;
      this.worker.postMessage({ type: 'stop' } satisfies ToWorker);
    }
    const slow = onSlow ? setTimeout(onSlow, SLOW_STOP_MS) : undefined;
    try {
      const end = await this.programEnd;
      await this.worker.terminate();
      return end;
    } finally {
      clearTimeout(slow);
    }
  }
}

/**
 * SIGINT, SIGTERM and SIGHUP quit as q does; once quitting, another one exits at once with
 * 128 + the signal's number. Returns the function that removes the handlers.
 */
function onQuitSignals(quit: () => void, quitting: () => boolean, exitNow: (code: number) => void): () => void {
  const interruption = new Interruption(process, exitNow, quit, quitting);
  return () => interruption.dispose();
}

/** Without a terminal: the dashboard's lines as text, once a second, until the scenario ends. */
async function runPlain(opts: TopOptions, write: (text: string) => void, writeError: (text: string) => void): Promise<number> {
  return new Promise((resolve) => {
    let finishing = false;
    /** `userStop`: a signal asked for it; only then may a slow stop be explained (nothing else waits). */
    const finish = (userStop: boolean): void => {
      if (finishing) return;
      finishing = true;
      void link.close(userStop ? () => writeError(WAITING_HINT) : undefined).then((end) => {
        offSignals();
        write(end.stdout);
        writeError(end.stderr);
        resolve(link.failure === undefined ? end.exitCode : 1);
      });
    };
    const link = new WorkerLink(
      { ...opts, sampleIntervalMs: 1000 },
      {
        onFailure: (message) => {
          writeError(`kiotrace top: ${message}\n`);
          finish(false);
        },
        onProgramEnd: () => finish(false),
      },
    );
    const offSignals = onQuitSignals(() => finish(true), () => finishing, (code) => process.exit(code));
    link.onSnapshot((s) => {
      const view = buildView(link.history, PLAIN_UI, 120, 1000);
      write(view.lines.slice(0, -1).map(plainText).join('\n') + '\n\n');
      if (s.simNs >= s.endNs || s.script?.exited === true) finish(false);
    });
  });
}

/**
 * The terminal from the first frame to the end: keys read raw before Ink takes over (q and
 * Ctrl-C already work; other keys are handed to the app), and its modes restored however the
 * process ends.
 */
class Terminal {
  private typed = '';
  private reading: (() => void) | undefined;
  private rawSet = false;

  constructor(
    private readonly stdin: NodeJS.ReadStream,
    private readonly stdout: NodeJS.WriteStream,
  ) {}

  /** Raw keys until `handOver`; `onKeys` sees the keys of each chunk. */
  begin(onKeys: (keys: readonly KeyName[]) => void): void {
    process.on('exit', this.restore);
    // the cursor would blink over the frame
    this.stdout.write('\u001b[?25l');
    if (this.stdin.isTTY !== true) return;
    this.stdin.setRawMode(true);
    this.rawSet = true;
    this.stdin.setEncoding('utf8');
    const decoder = new KeyDecoder();
    this.reading = () => {
      let chunk: string | null;
      while ((chunk = this.stdin.read() as string | null) !== null) {
        this.typed += chunk;
        onKeys(decoder.push(chunk));
      }
    };
    this.stdin.on('readable', this.reading);
  }

  /** The app reads stdin from now on; the keys typed so far go back for it to read first. */
  handOver(): void {
    if (this.reading) this.stdin.off('readable', this.reading);
    this.reading = undefined;
    if (this.typed !== '') this.stdin.unshift(this.typed);
    this.typed = '';
  }

  /** Cooked mode and the cursor back; safe to call more than once, and from an exit handler. */
  readonly restore = (): void => {
    if (this.reading) this.stdin.off('readable', this.reading);
    this.reading = undefined;
    try {
      if (this.rawSet && this.stdin.isTTY === true) this.stdin.setRawMode(false);
      // a hung-up terminal cannot be written to: nothing to restore there
      this.stdout.write('\u001b[?25h');
    } catch {
      // EIO after SIGHUP
    }
    this.rawSet = false;
    if (this.stdin.isTTY === true) this.stdin.unref();
  };
}

/**
 * The frames before Ink is loaded: the view-model's lines written straight to the terminal, each
 * frame over the last, as Ink itself does (the frame stays below the terminal's height).
 */
class EarlyFrames {
  private rowsWritten = 0;
  private history: readonly Snapshot[] = [];

  constructor(
    private readonly stdout: NodeJS.WriteStream,
    private readonly color: boolean,
    private readonly start: StartInfo,
  ) {
    stdout.on('resize', this.onResize);
  }

  /** The terminal rewrapped the last frame: clear the screen and paint again at the new size. */
  private readonly onResize = (): void => {
    this.stdout.write('\u001b[2J\u001b[3J\u001b[H');
    this.rowsWritten = 0;
    this.paint(this.history);
  };

  paint(history: readonly Snapshot[]): void {
    this.history = history;
    const lines = buildView(history, INITIAL_UI, this.stdout.columns || 120, this.stdout.rows || 40, this.start).lines.map((l) => lineText(l, this.color));
    this.stdout.write(this.eraseText() + lines.join('\n') + '\n');
    this.rowsWritten = lines.length;
  }

  /** No more frames: the last one goes (Ink paints from here) or stays (quitting before Ink). */
  end(erase: boolean): void {
    this.stdout.off('resize', this.onResize);
    if (erase) this.stdout.write(this.eraseText());
    this.rowsWritten = 0;
  }

  /** Back to the first row of the last frame, and clear from there down. */
  private eraseText(): string {
    return this.rowsWritten > 0 ? `\u001b[${this.rowsWritten}F\u001b[J` : '';
  }
}

async function runInk(opts: TopOptions): Promise<number> {
  const stdout = process.stdout;
  const writeError = (text: string): boolean => process.stderr.write(text);
  // chalk reads the environment when it is first imported: NO_COLOR must become FORCE_COLOR=0 first
  const color = process.env['NO_COLOR'] === undefined || process.env['NO_COLOR'] === '';
  if (!color) process.env['FORCE_COLOR'] = '0';
  // React's production build: its development build checks every render (a third more CPU)
  process.env['NODE_ENV'] ??= 'production';

  const start: StartInfo = { scenario: opts.scenario, seed: opts.seed, speed: opts.speed };
  const terminal = new Terminal(process.stdin, stdout);
  let quitting = false;
  /** The program ended by itself at start: its output is the whole run, no dashboard stays on the screen. */
  let programEnded = false;
  /** The dashboard itself failed (an exception in Ink's render or in reading the keys): the line to show. */
  let failure: string | undefined;
  let unmount: (() => void) | undefined;
  let quitBeforeInk: () => void = () => undefined;
  const inkNotNeeded = new Promise<undefined>((resolve) => (quitBeforeInk = () => resolve(undefined)));
  const quit = (): void => {
    quitting = true;
    if (unmount) unmount();
    else quitBeforeInk();
  };
  const exitNow = (code: number): void => {
    terminal.restore();
    stdout.write('\n');
    process.exit(code);
  };
  /** The app's own failures: caught by it (render, effects, keys), the run ends as a worker failure does. */
  const onInternalError = (error: unknown): void => {
    if (failure !== undefined) return;
    failure = dashboardFailure(error);
    // not from inside React's commit, where the error was caught
    setImmediate(quit);
  };
  // anything else thrown while the screen is Ink's (its own code, a listener): the terminal restored
  // and one line, never a stack on a raw-mode screen
  const onUncaught = (error: unknown): void => {
    try {
      unmount?.();
    } catch {
      // Ink itself may be what failed
    }
    terminal.restore();
    writeError(`\nkiotrace top: ${failure ?? dashboardFailure(error)}\n`);
    process.exit(1);
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);

  // the first frame, straight away, and the dashboard as plain frames while Ink loads
  terminal.begin((keys) => {
    const interrupt = keys.includes('interrupt');
    if (interrupt && quitting) exitNow(130);
    else if (interrupt || keys.some((k) => typeof k === 'object' && 'char' in k && k.char === 'q')) quit();
  });
  const early = new EarlyFrames(stdout, color, start);
  early.paint([]);
  const link = new WorkerLink(
    { ...opts, sampleIntervalMs: 100 },
    {
      onFailure: quit,
      onProgramEnd: () => {
        programEnded = true;
        quit();
      },
    },
  );
  const offSignals = onQuitSignals(quit, () => quitting || link.stopRequested, exitNow);
  const offEarly = link.onSnapshot(() => {
    if (!quitting) early.paint(link.history);
  });

  const loaded = await Promise.race([Promise.all([import('ink'), import('react'), import('./app.js')]), inkNotNeeded]);
  offEarly();
  early.end(programEnded || (loaded !== undefined && !quitting));
  if (loaded && !quitting) {
    const [{ render }, { createElement }, { Dashboard }] = loaded;
    // Ink draws the frames from here, starting with the snapshots so far
    terminal.handOver();
    const instance = render(createElement(Dashboard, { link, color, start, onInternalError }), { exitOnCtrlC: false, patchConsole: false, maxFps: 20 });
    unmount = () => {
      if (programEnded) instance.clear();
      instance.unmount();
    };
    await instance.waitUntilExit();
  }
  quitting = true;
  terminal.restore();
  // like bpftrace at exit: the program's maps after the screen is gone (a program that ended by
  // itself has nothing left to wait for: no hint about stopping it)
  const end = await link.close(programEnded || failure !== undefined ? undefined : () => writeError(WAITING_HINT));
  offSignals();
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
  if (end.stdout !== '') stdout.write(end.stdout);
  if (end.stderr !== '') writeError(end.stderr);
  if (link.written.length > 0) writeError(`kiotrace top: I/O traces written: ${link.written.map(printable).join(', ')} (open them at https://ui.perfetto.dev)\n`);
  failure ??= link.failure;
  const code = failure === undefined ? end.exitCode : 1;
  if (failure !== undefined) writeError(`kiotrace top: ${failure}\n`);
  // quit before the UI was up: Ink is still loading and cannot be called off, so do not wait for it
  if (!loaded) process.exit(code);
  return code;
}

export function runTop(opts: TopOptions): Promise<number> {
  return process.stdout.isTTY === true ? runInk(opts) : runPlain(opts, (t) => process.stdout.write(t), (t) => process.stderr.write(t));
}
