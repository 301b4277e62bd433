// machine.preempt and machine.sched_fifo: the preemption model and chrt -f rules a scenario sets,
// with located errors for bad values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenarioText, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

const scenario = (machine: string): string => `{"name": "p", "duration": "10ms",\n "machine": ${machine},\n "jobs": [{"name": "a", "filename": "/mnt/nvme/a", "size": "1m"}]}`;

test('machine.preempt takes preempt= names and the Kconfig names; sched_fifo takes comms and prefixes', () => {
  const r = parseScenarioText(scenario('{"cpus": 1, "preempt": "PREEMPT_NONE", "sched_fifo": {"commit": 50, "jbd2/*": 99}}'), 'p.json');
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n'));
  assert.equal(r.scenario.machine.preempt, 'none');
  assert.deepEqual(r.scenario.machine.schedFifo, [
    { comm: 'commit', rtPriority: 50 },
    { comm: 'jbd2/*', rtPriority: 99 },
  ]);
  const plain = parseScenarioText(scenario('{"cpus": 1}'), 'p.json');
  assert.ok(plain.ok);
  assert.equal(plain.scenario.machine.preempt, undefined);
});

test('a bad preemption model or RT priority is a located error', () => {
  assert.equal(
    errors(parseScenarioText(scenario('{"preempt": "voluntry"}'), 'p.json')),
    ['p.json:2:25: machine.preempt: unknown preemption model "voluntry" (expected "none", "voluntary" or "full", as preempt= takes them); did you mean "voluntary"?', ' "machine": {"preempt": "voluntry"},', '                        ^~~~~~~~~~'].join('\n'),
  );
  assert.match(errors(parseScenarioText(scenario('{"sched_fifo": {"commit": 100}}'), 'p.json')), /machine\.sched_fifo\.commit: must be an integer from 1 to 99 \(got 100\)/);
  assert.match(errors(parseScenarioText(scenario('{"sched_fifo": {"a*b": 10}}'), 'p.json')), /machine\.sched_fifo\.a\*b: a task name is a comm of at most 15 characters, or a prefix ending in "\*"/);
  assert.match(errors(parseScenarioText(scenario('{"sched_fifo": [1]}'), 'p.json')), /machine\.sched_fifo: must be an object of task names and RT priorities/);
});
