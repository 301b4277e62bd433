// A device's "read_ahead_kb" in a scenario's machine: read, checked with a clear message, and
// "fadvise_hint" as a JSON job option, fio's values only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

const withDevice = (device: Record<string, unknown>, job: Record<string, unknown> = {}): unknown => ({
  name: 'ra',
  duration: '1ms',
  machine: { devices: [{ name: 'nvme0n1', type: 'nvme', mount: '/mnt/nvme', ...device }] },
  jobs: [{ name: 'r', filename: '/mnt/nvme/f', size: '4k', ...job }],
});

test('read_ahead_kb is read per device; absent, Linux\'s 128 applies at boot', () => {
  const r = parseScenario(withDevice({ read_ahead_kb: 512 }), 'ra.json');
  assert.ok(r.ok);
  assert.equal(r.scenario.machine.devices[0]!.readAheadKb, 512);
  const s = parseScenario(withDevice({ read_ahead_kb: '0' }), 'ra.json');
  assert.ok(s.ok);
  assert.equal(s.scenario.machine.devices[0]!.readAheadKb, 0);
  const d = parseScenario(withDevice({}), 'ra.json');
  assert.ok(d.ok);
  assert.equal(d.scenario.machine.devices[0]!.readAheadKb, undefined);
});

test('a bad read_ahead_kb says what is wrong', () => {
  assert.equal(errors(parseScenario(withDevice({ read_ahead_kb: 6 }), 'ra.json')), 'ra.json: machine.devices[0].read_ahead_kb: must be a whole number of 4 KiB pages, e.g. 4 or 8 (got 6)');
  assert.equal(errors(parseScenario(withDevice({ read_ahead_kb: -4 }), 'ra.json')), 'ra.json: machine.devices[0].read_ahead_kb: must be a number of KiB like 128 (0 turns readahead off) (got -4)');
  assert.equal(errors(parseScenario(withDevice({ read_ahead_kb: '128k' }), 'ra.json')), 'ra.json: machine.devices[0].read_ahead_kb: must be a number of KiB like 128 (0 turns readahead off) (got "128k")');
  assert.equal(errors(parseScenario(withDevice({ read_ahead_kb: 131072 }), 'ra.json')), 'ra.json: machine.devices[0].read_ahead_kb: must be at most 65536 (64 MiB) (got 131072)');
  assert.equal(errors(parseScenario(withDevice({ readahead: 64 }), 'ra.json')), 'ra.json: machine.devices[0].readahead: unknown key; did you mean "read_ahead_kb"?');
});

test('fadvise_hint takes fio\'s values: 0, 1, random, sequential, noreuse', () => {
  const hint = (v: unknown) => {
    const r = parseScenario(withDevice({}, { fadvise_hint: v }), 'ra.json');
    return r.ok ? r.scenario.jobs[0]!.fadviseHint : errors(r);
  };
  assert.deepEqual([0, 1, 'random', 'sequential', 'noreuse'].map(hint), ['none', 'type', 'random', 'sequential', 'noreuse']);
  const defaults = parseScenario(withDevice({}), 'ra.json');
  assert.ok(defaults.ok);
  assert.equal(defaults.scenario.jobs[0]!.fadviseHint, 'type');
  assert.match(String(hint('normal')), /fadvise_hint/);
});
