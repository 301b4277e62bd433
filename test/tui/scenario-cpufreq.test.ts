// machine.power.cpufreq: the governor, the frequency range and schedutil's rate limit; defaults as
// Linux's (rate_limit_us 2000) and kiotrace's CPU (800-3500 MHz); every mistake located.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenarioText, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';

function scenario(power: string): string {
  return `{"name": "p", "duration": "1s", "machine": {"power": ${power}, "devices": [{"name": "nvme0n1", "type": "nvme"}]}, "jobs": [{"name": "r", "filename": "/dev/nvme0n1", "size": "1m"}]}`;
}

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

test('cpufreq parses into the power spec; left out, no cpufreq (performance, every CPU at f_max)', () => {
  const r = parseScenarioText(scenario('{"cpufreq": {"governor": "schedutil"}}'), 'p.json');
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n'));
  assert.deepEqual(r.scenario.machine.power?.cpufreq, { governor: 'schedutil', minMhz: 800, maxMhz: 3500, rateLimitUs: 2000 });
  const full = parseScenarioText(scenario('{"cpufreq": {"governor": "powersave", "min_mhz": 1200, "max_mhz": 3000, "rate_limit_us": 500}}'), 'p.json');
  assert.ok(full.ok);
  assert.deepEqual(full.scenario.machine.power?.cpufreq, { governor: 'powersave', minMhz: 1200, maxMhz: 3000, rateLimitUs: 500 });
  const plain = parseScenarioText(scenario('{"cpuidle": "menu"}'), 'p.json');
  assert.ok(plain.ok);
  assert.equal(plain.scenario.machine.power?.cpufreq, undefined);
});

test('cpufreq mistakes: located, with what to write instead', () => {
  const out = errors(parseScenarioText(scenario('{"cpufreq": {"governor": "ondemand", "min_mhz": 4000, "rate_limit_us": -1}}'), 'p.json'));
  assert.match(out, /p\.json:1:\d+: machine\.power\.cpufreq\.governor: must be "performance" .* "powersave" .* or "schedutil" .*\(got "ondemand"\)/);
  assert.match(out, /machine\.power\.cpufreq\.min_mhz: must not exceed max_mhz \(4000 > 3500\)/);
  assert.match(out, /machine\.power\.cpufreq\.rate_limit_us: must be an integer from 0 to 1000000/);
  const typo = errors(parseScenarioText(scenario('{"cpufreq": {"governer": "schedutil"}}'), 'p.json'));
  assert.match(typo, /machine\.power\.cpufreq\.governer: unknown key; did you mean "governor"\?/);
  const alias = errors(parseScenarioText(scenario('{"cpufreq": {"scaling_governor": "schedutil"}}'), 'p.json'));
  assert.match(alias, /machine\.power\.cpufreq\.scaling_governor: unknown key; did you mean "governor"\?/);
  const notObject = errors(parseScenarioText(scenario('{"cpufreq": "schedutil"}'), 'p.json'));
  assert.match(notObject, /machine\.power\.cpufreq: /);
});
