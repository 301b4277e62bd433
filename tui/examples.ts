// The example traces shipped in traces/examples/: the runs that make them, shared by
// `npm run traces` (which rewrites them) and the test that fails when they are stale.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runWithExports } from './exports.js';
import { prepareRun } from './run.js';
import { loadScenario } from './scenario.js';

/** 2025-11-23T00:00:00Z: a fixed epoch, so the files are the same on every machine. */
export const EXAMPLE_EPOCH_NS = 1_763_856_000_000_000_000n;
export const EXAMPLE_SEED = 1;
export const EXAMPLE_SCENARIOS = ['blocking-read', 'page-fault'] as const;

export function exampleFiles(scenario: string): { perfetto: string; jaeger: string } {
  return { perfetto: `${scenario}.pftrace`, jaeger: `${scenario}.jaeger.json` };
}

/** Writes every example into `outDir`; returns what each run reported. */
export async function writeExamples(repoRoot: string, outDir: string): Promise<string[]> {
  mkdirSync(outDir, { recursive: true });
  const lines: string[] = [];
  for (const name of EXAMPLE_SCENARIOS) {
    const loaded = loadScenario(name, join(repoRoot, 'traces', 'scenarios'));
    if (!loaded.ok) throw new Error(`scenario ${name} does not load`);
    const durationNs = loaded.scenario.durationNs;
    const m = prepareRun(loaded.scenario, { seed: EXAMPLE_SEED, durationNs });
    const files = exampleFiles(name);
    const outcome = await runWithExports(m, durationNs, loaded.scenario, EXAMPLE_SEED, {
      perfetto: join(outDir, files.perfetto),
      jaeger: join(outDir, files.jaeger),
      sampleRatio: 1,
      epochNs: EXAMPLE_EPOCH_NS,
      ignoreEnvironment: true,
    });
    lines.push(...outcome.lines);
  }
  return lines;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // npm run traces: dist/tui/examples.js -> the repository's traces/examples/
  const root = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
  for (const line of await writeExamples(root, join(root, 'traces', 'examples'))) process.stdout.write(`${line}\n`);
}
