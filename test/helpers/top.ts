// Test helpers for the live view: snapshots of a real run at fixed points, with a fake wall clock.
import { SimDriver } from '../../tui/top/driver.js';
import type { Snapshot } from '../../tui/top/snapshot.js';
import { prepareRun } from '../../tui/run.js';
import { scenario } from './machine.js';

/** Snapshots of `name` at each of `atNs`, with the wall clock equal to simulated time. */
export function snapshotsAt(name: string, atNs: readonly number[], opts: { countProbes?: boolean } = {}): Snapshot[] {
  const s = scenario(name);
  const m = prepareRun(s, { seed: 1, durationNs: s.durationNs });
  const driver = new SimDriver(m, s.name, 1, s.durationNs, 1, 0);
  if (opts.countProbes) driver.countProbes(true);
  return atNs.map((t) => {
    m.run(t);
    return driver.snapshot(t);
  });
}

