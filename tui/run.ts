// The composition root of a run: boot the scenario's machine, lay out its files and start its
// jobs; callers attach what they need (probes, outputs, the live view) and run it.

import { bootMachine, bootNetwork, layoutJobFiles, type Machine, type Scenario } from '../core/index.js';

export interface RunOptions {
  readonly seed: number;
  readonly durationNs: number;
  /** A simulated crash then (--crash-at; else the scenario's crash_at). */
  readonly crashAtNs?: number;
}

/** Boots the machine and starts the jobs (without running), for callers that attach probes first. */
export function prepareRun(scenario: Scenario, options: RunOptions): Machine {
  // a scenario without a network boots exactly as before (no switch, no extra random streams)
  const networked = scenario.hosts !== undefined || scenario.network !== undefined || (scenario.machine.nics?.length ?? 0) > 0;
  const m = networked ? bootNetwork(scenario.machine, options.seed, scenario.hosts ?? [], scenario.network) : bootMachine(scenario.machine, options.seed);
  layoutJobFiles(m, scenario.jobs);
  m.startJobs(scenario.jobs, options.durationNs);
  const crashAtNs = options.crashAtNs ?? scenario.crashAtNs;
  if (crashAtNs !== undefined) m.crashAt(crashAtNs);
  m.scheduleEvents(scenario.events ?? []);
  // a job file's run is over when its jobs are (fio exits then); the clock stops there
  if (scenario.endsWithJobs === true) {
    m.onAllJobsDone(() => {
      m.ended = true;
      m.env.stop();
    });
  }
  return m;
}
