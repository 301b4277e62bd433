// Test helper: boot one of traces/experiments' scenarios the way `kiotrace run NAME` does (seed 1,
// the scenario's own duration), failing the test with the loader's diagnostics if it does not load.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Machine } from '../../core/index.js';
import { loadScenario, renderDiagnostic, type LoadOptions } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import { repoRoot } from './repo.js';

export const EXPERIMENTS_DIR = join(repoRoot(), 'traces', 'experiments');

export function bootExperiment(file: string, opts: LoadOptions = {}): { m: Machine; durationNs: number; name: string } {
  const loaded = loadScenario(join(EXPERIMENTS_DIR, file), join(repoRoot(), 'traces', 'scenarios'), opts);
  if (!loaded.ok) assert.fail(loaded.diagnostics.map(renderDiagnostic).join('\n'));
  const m = prepareRun(loaded.scenario, { seed: 1, durationNs: loaded.scenario.durationNs });
  return { m, durationNs: loaded.scenario.durationNs, name: loaded.scenario.name };
}
