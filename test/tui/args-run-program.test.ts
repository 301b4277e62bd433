// `kiotrace run NAME -e PROGRAM` traces the scenario NAME (as -c NAME does), not the default one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommand, UsageError } from '../../tui/args.js';

test('run NAME -e PROGRAM takes NAME as the scenario; naming it twice is a usage error', () => {
  const cmd = parseCommand(['run', 'preemption', '-e', 'BEGIN { exit(); }']);
  assert.ok(!(cmd instanceof UsageError) && cmd.kind === 'script');
  assert.equal(cmd.scenario, 'preemption');
  assert.deepEqual(cmd.positional, []);
  const flag = parseCommand(['-e', 'BEGIN { exit(); }', '-c', 'preemption']);
  assert.ok(!(flag instanceof UsageError) && flag.kind === 'script');
  assert.equal(flag.scenario, 'preemption');
  const twice = parseCommand(['run', 'preemption', '-c', 'default', '-e', 'BEGIN { exit(); }']);
  assert.ok(twice instanceof UsageError);
  assert.match(twice.message, /the scenario is named twice \(run preemption and -c default\); give one/);
});
