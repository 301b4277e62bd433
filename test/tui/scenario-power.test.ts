// machine.power and the devices' power knobs: defaults as Linux, every mistake located.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenarioText, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';

function scenario(machine: string, jobs = '[{"name": "r", "filename": "/dev/sda", "size": "1m"}]'): string {
  return `{"name": "p", "duration": "1s", "machine": ${machine}, "jobs": ${jobs}}`;
}

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

test('power fields parse into the machine spec; left out, Linux defaults (APST on, disks never autosuspend)', () => {
  const r = parseScenarioText(
    scenario('{"power": {"autosleep": "freeze", "cpuidle": "menu", "wake_lock": ["r"]}, "devices": [{"name": "sda", "type": "hdd", "autosuspend_delay_ms": 2000, "power_control": "auto"}, {"name": "nvme0n1", "type": "nvme", "pm_qos_latency_tolerance_us": 5000}]}'),
    'p.json',
  );
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n'));
  assert.deepEqual(r.scenario.machine.power, { autosleep: 'freeze', cpuidle: 'menu', defaultPsMaxLatencyUs: 100_000, wakeLockJobs: ['r'] });
  assert.equal(r.scenario.machine.devices[0]!.autosuspendDelayMs, 2000);
  assert.equal(r.scenario.machine.devices[1]!.psMaxLatencyUs, 5000);
  const plain = parseScenarioText(scenario('{"devices": [{"name": "sda", "type": "hdd"}]}'), 'p.json');
  assert.ok(plain.ok);
  assert.equal(plain.scenario.machine.power, undefined);
  assert.equal(plain.scenario.machine.devices[0]!.autosuspendDelayMs, undefined);
});

test('power mistakes: located, with what to write instead', () => {
  const text = scenario('{"power": {"autosleep": "mem", "wake_lock": ["nobody"]}, "devices": [{"name": "sda", "type": "hdd", "pm_qos_latency_tolerance_us": 5}, {"name": "nvme0n1", "type": "nvme", "autosuspend_delay_ms": 100}]}');
  const out = errors(parseScenarioText(text, 'p.json'));
  assert.match(out, /machine\.power\.autosleep: must be "off" or "freeze".*got "mem"/);
  assert.match(out, /machine\.devices\[0\]\.pm_qos_latency_tolerance_us: applies to NVMe SSDs/);
  assert.match(out, /machine\.devices\[1\]\.autosuspend_delay_ms: applies to SATA disks/);
  assert.match(out, /p\.json:1:\d+/);
  const unknownJob = errors(parseScenarioText(scenario('{"power": {"wake_lock": ["nobody"]}, "devices": [{"name": "sda", "type": "hdd"}]}'), 'p.json'));
  assert.match(unknownJob, /machine\.power\.wake_lock: names "nobody", which is no job of this scenario \(jobs: r\)/);
  const badDelay = errors(parseScenarioText(scenario('{"devices": [{"name": "sda", "type": "hdd", "autosuspend_delay_ms": -5}]}'), 'p.json'));
  assert.match(badDelay, /autosuspend_delay_ms: must be an integer from -1 to 3600000/);
});
