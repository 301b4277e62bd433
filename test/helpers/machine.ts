// Test helpers: boot a shipped scenario with every probe hit recorded.
import { join } from 'node:path';
import { loadScenario } from '../../tui/scenario.js';
import { prepareRun } from '../../tui/run.js';
import type { Machine, ProbeHit, Scenario } from '../../core/index.js';
import { repoRoot } from './repo.js';

export function scenario(name: string): Scenario {
  const r = loadScenario(name, join(repoRoot(), 'traces', 'scenarios'));
  if (!r.ok) throw new Error(`scenario ${name} did not load`);
  return r.scenario;
}

export interface Recorded {
  readonly m: Machine;
  readonly hits: ProbeHit[];
}

/** Runs a scenario with a recording handler on every site. */
export function runRecorded(name: string, seed: number, durationNs?: number): Recorded {
  const s = scenario(name);
  const d = durationNs ?? s.durationNs;
  const m = prepareRun(s, { seed, durationNs: d });
  const hits: ProbeHit[] = [];
  for (const site of m.k.registry.all()) site.attach((h) => hits.push(h));
  m.run(d);
  return { m, hits };
}

/** One line per hit: everything a script could read from it. */
export function hitLine(h: ProbeHit): string {
  const f = h.site.provider === 'tracepoint' ? JSON.stringify(h.fields) : JSON.stringify(h.args.map((_, i) => h.argValue(i)));
  return `${h.timeNs} ${h.cpu} ${h.pid} ${h.tid} ${h.comm} ${h.ioId} ${h.site.fullName} ${f} ${h.retval ?? ''}`;
}
