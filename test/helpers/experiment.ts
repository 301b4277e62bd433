// Test helper: boot one of traces/experiments' scenarios the way `kiotrace run NAME` does (seed 1,
// the scenario's own duration), failing the test with the loader's diagnostics if it does not load.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Machine } from '../../core/index.js';
import { loadScenario, renderDiagnostic, type LoadOptions } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from './repo.js';
import { attach } from '../../probes/attach.js';

export const EXPERIMENTS_DIR = join(repoRoot(), 'traces', 'experiments');

export function bootExperiment(file: string, opts: LoadOptions = {}): { m: Machine; durationNs: number; name: string } {
  const loaded = loadScenario(join(EXPERIMENTS_DIR, file), join(repoRoot(), 'traces', 'scenarios'), opts);
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  const m = prepareRun(loaded.scenario, { seed: 1, durationNs: loaded.scenario.durationNs });
  return { m, durationNs: loaded.scenario.durationNs, name: loaded.scenario.name };
}

/**
 * Times `comm`'s pread64 calls (syscall entry to exit, per thread) and hands each one's start and
 * duration to `onDone`: what an experiment's test reads as the foreground latency.
 */
export function timePreads(m: Machine, comm: string, onDone: (startNs: number, durationNs: number) => void): void {
  const entered = new Map<number, number>();
  attach(m, 'tracepoint:syscalls:sys_enter_pread64', (h) => {
    if (h.comm === comm) entered.set(h.tid, h.timeNs);
  });
  attach(m, 'tracepoint:syscalls:sys_exit_pread64', (h) => {
    const t = entered.get(h.tid);
    if (t === undefined) return;
    entered.delete(h.tid);
    onDone(t, h.timeNs - t);
  });
}

/** `measure` once per file for the whole test file (runs are deterministic), then from memory. */
export function oncePerFile<T>(measure: (file: string) => T): (file: string) => T {
  const done = new Map<string, T>();
  return (file) => {
    let r = done.get(file);
    if (r === undefined) {
      r = measure(file);
      done.set(file, r);
    }
    return r;
  };
}
