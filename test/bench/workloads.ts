// The workloads `npm run bench` times: the raw engine in a "hold" model, 4 KiB O_DIRECT random
// reads on the default machine's NVMe (with nothing, one no-op probe, or every site attached),
// and the `default` scenario run in slices while its memory is sampled.

import { join } from 'node:path';
import { bootMachine, completeJob, DEFAULT_MACHINE, Environment, layoutJobFiles, Priority, type JobSpec, type Machine } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { loadScenario, renderDiagnostic } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from '../helpers/repo.js';

export { repoRoot };

/** Wall nanoseconds as a number (differences of hrtime.bigint()). */
export function nowNs(): bigint {
  return process.hrtime.bigint();
}

export function forceGc(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc) gc();
}

// ---------------------------------------------------------------------------------------------
// 1. The engine alone: the classic "hold" model (a fixed population of pending events; each one,
// when it runs, schedules one more at a random future time).

export interface EngineResult {
  readonly events: number;
  readonly wallNs: number;
}

/**
 * `pending` events in flight; runs `events` callbacks in total. Delays are uniform in
 * [1, 2 * meanDelayNs] from an inline xorshift32 (cheap, so the engine dominates the cost).
 */
export function engineHold(pending: number, events: number, seed: number, meanDelayNs = 1000): EngineResult {
  const env = new Environment();
  let state = (seed >>> 0) || 1;
  let remaining = events;
  const span = 2 * meanDelayNs;
  const hold = (_arg: number): void => {
    if (--remaining <= 0) {
      env.stop();
      return;
    }
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    env.at(env.nowNs + 1 + ((state >>> 0) % span), Priority.NORMAL, hold, 0);
  };
  for (let i = 0; i < pending; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    env.at(1 + ((state >>> 0) % span), Priority.NORMAL, hold, i);
  }
  const t0 = nowNs();
  const ran = env.run(Number.MAX_SAFE_INTEGER);
  const wallNs = Number(nowNs() - t0);
  return { events: ran, wallNs };
}

// ---------------------------------------------------------------------------------------------
// 2-4. 4 KiB O_DIRECT random reads, psync, iodepth 1, four jobs on the default machine's NVMe.

export const RANDREAD_JOB: JobSpec = completeJob({
  name: 'randread',
  filename: '/mnt/nvme/bench.dat',
  rw: 'randread',
  bs: 4096,
  size: 1024 ** 3,
  ioengine: 'psync',
  direct: true,
  numjobs: 4,
  timeBased: true,
});

/** The same reads through io_uring, 32 in flight per job, submitted and reaped 16 at a time (issue 10's figure). */
export const RANDREAD_URING_JOB: JobSpec = completeJob({ ...RANDREAD_JOB, ioengine: 'io_uring', iodepth: 32, iodepthBatchSubmit: 16, iodepthBatchCompleteMin: 16 });
/** The same without batching: one io_uring_enter per I/O or so, for comparison. */
export const RANDREAD_URING_UNBATCHED_JOB: JobSpec = completeJob({ ...RANDREAD_JOB, ioengine: 'io_uring', iodepth: 32 });

export type ProbeMode = 'none' | 'block_rq_issue' | 'all';

export interface RandreadResult {
  /** Reads completed in the simulation (jobs[i].read.ios summed). */
  readonly ios: number;
  /** Wall time of m.run only (boot, layout and attach are not timed). */
  readonly wallNs: number;
  /** Process CPU time (user + system, all threads: GC helpers included) during m.run. */
  readonly cpuNs: number;
  readonly eventsRun: number;
  /** Handler calls made (0 with nothing attached). */
  readonly hits: number;
  readonly sitesAttached: number;
}

/** Boots, lays out, starts the jobs and attaches; not timed. */
export function prepareRandread(seed: number, simNs: number, mode: ProbeMode, job: JobSpec = RANDREAD_JOB): { m: Machine; hitCounter: { n: number }; sites: number } {
  const jobs = [job];
  const m = bootMachine(DEFAULT_MACHINE, seed);
  layoutJobFiles(m, jobs);
  m.startJobs(jobs, simNs);
  // The handlers count their calls in a shared box: as close to a no-op as a handler can be while
  // still proving it ran.
  const hitCounter = { n: 0 };
  const noop = (): void => {
    hitCounter.n++;
  };
  let sites = 0;
  if (mode === 'block_rq_issue') {
    attach(m, 'tracepoint:block:block_rq_issue', noop);
    sites = 1;
  } else if (mode === 'all') {
    for (const site of m.k.registry.all()) {
      site.attach(noop);
      sites++;
    }
  }
  return { m, hitCounter, sites };
}

export function runRandread(seed: number, simNs: number, mode: ProbeMode, job: JobSpec = RANDREAD_JOB): RandreadResult {
  const { m, hitCounter, sites } = prepareRandread(seed, simNs, mode, job);
  forceGc();
  const c0 = process.cpuUsage();
  const t0 = nowNs();
  m.run(simNs);
  const wallNs = Number(nowNs() - t0);
  const cpu = process.cpuUsage(c0);
  const cpuNs = (cpu.user + cpu.system) * 1000;
  const report = m.report('bench', seed);
  let ios = 0;
  for (const j of report.jobs) ios += j.read.ios;
  return { ios, wallNs, cpuNs, eventsRun: report.eventsRun, hits: hitCounter.n, sitesAttached: sites };
}

// ---------------------------------------------------------------------------------------------
// 5. Memory of the `default` scenario (run in a child process, one scenario per process).

export interface MemoryResult {
  readonly durationNs: number;
  /** process.resourceUsage().maxRSS, in bytes. */
  readonly maxRssBytes: number;
  /** Highest heapUsed seen at the slice boundaries (garbage included), in bytes. */
  readonly peakHeapUsedBytes: number;
  /** heapUsed after a full GC at the end of the run: what the simulation retains, in bytes. */
  readonly retainedHeapBytes: number;
  /** heapUsed after a full GC right after prepareRun (before any simulated time), in bytes. */
  readonly bootHeapBytes: number;
  /** RSS right before prepareRun (Node plus the loaded modules), in bytes. */
  readonly baseRssBytes: number;
  readonly eventsRun: number;
  readonly wallNs: number;
}

/**
 * `withTrace`, when given, attaches an output to the machine before it runs and returns what
 * finishes it: the memory figures then include that output's cost.
 */
export function runDefaultForMemory(durationNs: number, seed: number, sliceNs = 100_000_000, withTrace?: (m: Machine) => (endNs: number) => void): MemoryResult {
  const loaded = loadScenario('default', join(repoRoot(), 'traces', 'scenarios'));
  if (!loaded.ok) throw new Error(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  const scenario = loaded.scenario;
  forceGc();
  const baseRssBytes = process.memoryUsage().rss;
  const t0 = nowNs();
  const m = prepareRun(scenario, { seed, durationNs });
  forceGc();
  const bootHeapBytes = process.memoryUsage().heapUsed;
  const finishTrace = withTrace?.(m);
  let peak = bootHeapBytes;
  for (let t = sliceNs; ; t += sliceNs) {
    const until = Math.min(t, durationNs);
    m.run(until);
    const h = process.memoryUsage().heapUsed;
    if (h > peak) peak = h;
    if (until >= durationNs) break;
  }
  finishTrace?.(m.env.nowNs);
  const wallNs = Number(nowNs() - t0);
  const eventsRun = m.env.eventsRun;
  forceGc();
  const retainedHeapBytes = process.memoryUsage().heapUsed;
  // Keep the machine alive through the last measurement.
  if (m.env.nowNs !== durationNs) throw new Error(`run stopped at ${m.env.nowNs} ns, not ${durationNs} ns`);
  return {
    durationNs,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    peakHeapUsedBytes: peak,
    retainedHeapBytes,
    bootHeapBytes,
    baseRssBytes,
    eventsRun,
    wallNs,
  };
}
