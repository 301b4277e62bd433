// `kiotrace run NAME`: a bare name is a shipped scenario (traces/scenarios/NAME.json) or experiment
// (traces/experiments/NAME.fio or NAME.json); two of them is an error naming both, none lists what
// there is, and a machine file says how to use it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listExperimentNames, loadScenario, renderDiagnostic, scenarioFile, type ScenarioResult } from '../../tui/scenario.js';
import { repoRoot } from '../helpers/repo.js';

const SCENARIOS = join(repoRoot(), 'traces', 'scenarios');
const EXPERIMENTS = join(repoRoot(), 'traces', 'experiments');

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the name to be refused');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

test('a bare name runs a shipped experiment job file, the same as its path', () => {
  const byName = loadScenario('queue-depth-nvme', SCENARIOS);
  const byPath = loadScenario(join(EXPERIMENTS, 'queue-depth-nvme.fio'), SCENARIOS);
  assert.ok(byName.ok && byPath.ok);
  assert.deepEqual(byName.scenario.jobs, byPath.scenario.jobs);
  assert.equal(byName.scenario.jobs[0]!.name, 'qd1');
  assert.equal(scenarioFile('queue-depth-nvme', SCENARIOS).file, join(EXPERIMENTS, 'queue-depth-nvme.fio'));
  // an experiment with a scenario beside its job file runs as the scenario (its machine and the job file)
  assert.equal(scenarioFile('cache-pollution', SCENARIOS).file, join(EXPERIMENTS, 'cache-pollution.json'));
  // scenarios keep their names
  assert.equal(scenarioFile('default', SCENARIOS).file, join(SCENARIOS, 'default.json'));
});

test('the shipped experiments list their runnable names, machine files apart', () => {
  const names = listExperimentNames(EXPERIMENTS);
  for (const n of ['queue-depth-nvme', 'hdd-queue-depth', 'open-loop', 'io-uring-vs-psync']) assert.ok(names.includes(n), n);
  assert.ok(!names.includes('hdd-none'), 'hdd-none.json is a --machine file');
  for (const n of names) {
    const r = loadScenario(n, SCENARIOS);
    assert.ok(r.ok, `${n}: ${r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n')}`);
  }
  assert.match(errors(loadScenario('hdd-none', SCENARIOS)), /hdd-none\.json is a machine file, not a workload: run a job file on it, e.g\. kiotrace run JOB\.fio --machine .*hdd-none\.json$/);
});

test('a name that is both a scenario and an experiment is refused, naming both files', () => {
  const root = mkdtempSync(join(tmpdir(), 'kiotrace-names-'));
  try {
    const scenarios = join(root, 'scenarios');
    const experiments = join(root, 'experiments');
    mkdirSync(scenarios);
    mkdirSync(experiments);
    writeFileSync(join(scenarios, 'twice.json'), '{"name": "twice", "duration": "1ms", "jobs": [{"name": "r", "filename": "/mnt/nvme/f", "size": "4k"}]}');
    writeFileSync(join(experiments, 'twice.fio'), '[r]\nfilename=/mnt/nvme/f\nsize=4k\n');
    writeFileSync(join(experiments, 'once.fio'), '[r]\nfilename=/mnt/nvme/f\nsize=4k\n');
    assert.equal(
      errors(loadScenario('twice', scenarios)),
      `kiotrace: "twice" names more than one shipped file (${join(scenarios, 'twice.json')}, ${join(experiments, 'twice.fio')}); give the path of the one to run`,
    );
    const once = loadScenario('once', scenarios);
    assert.ok(once.ok);
    assert.equal(
      errors(loadScenario('thrice', scenarios)),
      'kiotrace: unknown scenario or experiment "thrice" (scenarios: twice; experiments: once, twice; or give the path of a .json scenario or an fio job file)',
    );
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
