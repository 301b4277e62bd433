// The simulation's thread for `kiotrace top`: drawing the screen never slows the simulated
// machine, and a busy simulation never stalls the keys. Commands come in as messages; a
// snapshot goes out every sampling interval.

import { parentPort, workerData } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadScenario, type LoadOptions } from '../scenario.js';
import { prepareRun } from '../run.js';
import type { Machine } from '../../core/index.js';
import { startScript } from '../../probes/script.js';
import { SimDriver, type ScriptView } from './driver.js';
import type { Snapshot } from './snapshot.js';
import { fmtNs } from './view-model.js';

/** A bpftrace program to run next to the live view (`kiotrace -e PROGRAM --tui`). */
export interface WorkerScript {
  readonly text: string;
  readonly sourceName: string;
  readonly positional: readonly string[];
}

export interface WorkerStart {
  readonly script?: WorkerScript;
  readonly scenario: string;
  readonly scenariosDir: string;
  readonly seed: number;
  readonly durationNs: number | undefined;
  readonly speed: number;
  readonly sampleIntervalMs: number;
  /** --machine, --directory and the environment, as the scenario was checked with. */
  readonly load?: LoadOptions;
}

export type ToWorker =
  | { readonly type: 'pause' }
  | { readonly type: 'speed'; readonly speed: number }
  | { readonly type: 'inspect'; readonly on: boolean }
  | { readonly type: 'probes'; readonly on: boolean }
  | { readonly type: 'stop' };
/** What a program printed at its end (END probes, maps, warnings) and its exit code. */
export interface ProgramEnd {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export type FromWorker =
  | { readonly type: 'snapshot'; readonly snapshot: Snapshot }
  /**
   * The program's end: sent when the worker is told to stop, or at once (and the worker ends)
   * when the program ended by itself at start, as one with only BEGIN and END probes does.
   */
  | { readonly type: 'final'; readonly end: ProgramEnd }
  | { readonly type: 'status'; readonly paused: boolean; readonly speed: number }
  | { readonly type: 'error'; readonly message: string };

const wallNs = (): number => Number(process.hrtime.bigint());

/** Lines of the program's own output kept for the view. */
const OUTPUT_LINES = 200;

/** A program attached next to the view, or one that ended at start (nothing left to attach). */
type AttachedScript = { readonly live: ScriptView; readonly finish: () => ProgramEnd } | { readonly endedAtStart: ProgramEnd };

/**
 * Attaches the program (already checked by the command line) to the machine; its printf output
 * and maps go to the view instead of stdout. A program that ends in its BEGIN probes (exit(), or
 * only BEGIN and END probes) has run completely here: what it printed is its end.
 */
function attachScript(m: Machine, s: WorkerScript, durationNs: number): AttachedScript {
  const output: string[] = [];
  const show = (text: string): void => {
    output.push(...text.replace(/\n$/, '').split('\n'));
    if (output.length > OUTPUT_LINES) output.splice(0, output.length - OUTPUT_LINES);
  };
  // until startScript returns it is not known whether BEGIN's output is the live view's or the end's
  let phase: 'start' | 'live' | 'end' = 'start';
  const atStart: { readonly text: string; readonly stream: 'stdout' | 'stderr' }[] = [];
  let end = { stdout: '', stderr: '' };
  const started = startScript(m, {
    sourceName: s.sourceName,
    text: s.text,
    format: 'text',
    positional: s.positional,
    unsafe: false,
    quiet: true,
    verbose: false,
    dryRun: false,
    durationNs,
    write: (text, stream) => {
      if (phase === 'start') atStart.push({ text, stream });
      else if (phase === 'end') end = { ...end, [stream]: end[stream] + text };
      else show(text);
    },
  });
  if (!('finish' in started)) {
    for (const { text, stream } of atStart) end = { ...end, [stream]: end[stream] + text };
    return { endedAtStart: { ...end, exitCode: started.exitCode } };
  }
  for (const { text } of atStart) show(text);
  phase = 'live';
  return {
    live: { maps: () => started.maps(), output: () => [...output], exited: () => started.exited() },
    finish: () => {
      phase = 'end';
      const { exitCode } = started.finish();
      return { ...end, exitCode };
    },
  };
}

/** A failure inside the simulation as one line: where in simulated time, and what (no stack). */
function failureLine(e: unknown, simNs: number | undefined): string {
  const message = e instanceof Error ? e.message.split('\n', 1)[0]!.trim() || e.name : String(e);
  return simNs === undefined ? `the simulation could not start: ${message}` : `the simulation failed at ${simNs > 0 ? fmtNs(simNs) : '0 ns'} of simulated time: ${message}`;
}

async function main(port: NonNullable<typeof parentPort>, start: WorkerStart): Promise<void> {
  const loaded = loadScenario(start.scenario, start.scenariosDir, start.load);
  if (!loaded.ok) {
    port.postMessage({ type: 'error', message: `scenario ${start.scenario} does not load` } satisfies FromWorker);
    return;
  }
  const endNs = start.durationNs ?? loaded.scenario.durationNs;
  const m = prepareRun(loaded.scenario, { seed: start.seed, durationNs: endNs });
  const attached = start.script ? attachScript(m, start.script, endNs) : undefined;
  if (attached && 'endedAtStart' in attached) {
    // nothing to run: the program's output is all there is, and the worker ends
    port.postMessage({ type: 'final', end: attached.endedAtStart } satisfies FromWorker);
    return;
  }
  const script = attached;
  const driver = new SimDriver(m, loaded.scenario.name, start.seed, endNs, start.speed, wallNs(), script?.live);
  let stopped = false;
  const intervalNs = start.sampleIntervalMs * 1e6;
  let nextSnapshotNs = wallNs();
  let sampledAtSimNs = -1;
  const postSnapshot = (now: number): void => {
    nextSnapshotNs = now + intervalNs;
    sampledAtSimNs = m.env.nowNs;
    port.postMessage({ type: 'snapshot', snapshot: driver.snapshot(now) } satisfies FromWorker);
  };
  const fail = (e: unknown): void => {
    stopped = true;
    port.postMessage({ type: 'error', message: failureLine(e, m.env.nowNs) } satisfies FromWorker);
  };
  port.on('message', (msg: ToWorker) => {
    if (stopped) return;
    try {
      if (msg.type === 'pause') {
        driver.togglePause(wallNs());
        // the time stepped since the last snapshot goes out before the badge: no later snapshot moves a paused clock
        if (driver.paused && m.env.nowNs !== sampledAtSimNs) postSnapshot(wallNs());
      }
      else if (msg.type === 'speed') driver.setSpeed(msg.speed, wallNs());
      else if (msg.type === 'inspect') driver.inspect(msg.on);
      else if (msg.type === 'probes') driver.countProbes(msg.on);
      else {
        stopped = true;
        if (script) port.postMessage({ type: 'final', end: script.finish() } satisfies FromWorker);
      }
      if (msg.type === 'pause' || msg.type === 'speed') port.postMessage({ type: 'status', paused: driver.paused, speed: driver.speed } satisfies FromWorker);
    } catch (e) {
      fail(e);
    }
  });
  while (!stopped) {
    let behind: boolean;
    try {
      behind = driver.step(wallNs());
      const now = wallNs();
      // a paused or finished machine keeps its last snapshot: rates over no time say nothing
      if (now >= nextSnapshotNs && m.env.nowNs !== sampledAtSimNs) postSnapshot(now);
    } catch (e) {
      fail(e);
      return;
    }
    // behind: let messages in and go on; caught up, paused or done: wait for the clock
    if (behind) await new Promise((resolve) => setImmediate(resolve));
    else await sleep(driver.done || driver.paused ? 20 : 1);
  }
}

if (parentPort) {
  const port = parentPort;
  // a failure while loading the scenario, booting the machine or attaching the program
  main(port, workerData as WorkerStart).catch((e: unknown) => {
    port.postMessage({ type: 'error', message: failureLine(e, undefined) } satisfies FromWorker);
  });
}
