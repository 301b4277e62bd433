// The composition root of a headless run: boot the scenario's machine, lay out its files, start
// its jobs, run the simulation for the requested time, and collect the report.

import { bootMachine, layoutJobFiles, type Machine, type RunReport, type Scenario } from '../core/index.js';

export interface RunOptions {
  readonly seed: number;
  readonly durationNs: number;
}

/** Boots the machine and starts the jobs (without running), for callers that attach probes first. */
export function prepareRun(scenario: Scenario, options: RunOptions): Machine {
  const m = bootMachine(scenario.machine, options.seed);
  layoutJobFiles(m, scenario.jobs);
  m.startJobs(scenario.jobs, options.durationNs);
  return m;
}

export function runScenario(scenario: Scenario, options: RunOptions): RunReport {
  const m = prepareRun(scenario, options);
  m.run(options.durationNs);
  return m.report(scenario.name, options.seed);
}
