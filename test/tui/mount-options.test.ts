// machine.devices[].mount_options: ext4's mount options as `mount -o` takes them, each mistake
// pointed at inside the string.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenarioText, renderDiagnostic } from '../../tui/scenario.js';

function scenario(device: string): string {
  return `{"name": "s", "duration": "1s", "machine": {"devices": [${device}]}, "jobs": [{"name": "w", "filename": "/mnt/d/x", "rw": "write", "size": "1m"}]}`;
}

test('mount_options: data=, commit=, barrier; ext4 defaults when absent', () => {
  const ok = (opts: string | undefined) => {
    const r = parseScenarioText(scenario(`{"name": "sda", "type": "hdd", "mount": "/mnt/d"${opts !== undefined ? `, "mount_options": ${JSON.stringify(opts)}` : ''}}`), 's.json');
    assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n'));
    return r.scenario.machine.devices[0]!.mountOptions;
  };
  assert.equal(ok(undefined), undefined);
  assert.deepEqual(ok('data=journal,commit=5'), { data: 'journal', commitSec: 5, barrier: true });
  assert.deepEqual(ok('data=writeback, nobarrier'), { data: 'writeback', commitSec: 5, barrier: false });
  assert.deepEqual(ok('defaults,commit=0,barrier=0'), { data: 'ordered', commitSec: 5, barrier: false }, 'commit=0 is the default');
  assert.deepEqual(ok('commit=30,barrier'), { data: 'ordered', commitSec: 30, barrier: true });
});

test('mount_options: every bad option is its own located error, with a fix', () => {
  const text = scenario('{"name": "sda", "type": "hdd", "mount": "/mnt/d", "mount_options": "data=jornal,commit=x,noatime,,barrier=2"}');
  const r = parseScenarioText(text, 's.json');
  assert.equal(r.ok, false);
  const shown = r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n');
  assert.match(shown, /machine\.devices\[0\]\.mount_options: data= must be ordered, writeback or journal \(got "data=jornal"\); did you mean "data=journal"\?/);
  assert.match(shown, /commit= must be a whole number of seconds from 0 to 3600/);
  assert.match(shown, /unknown mount option "noatime" \(kiotrace models data=, commit=, barrier and nobarrier\)/);
  assert.match(shown, /has an empty option/);
  assert.match(shown, /barrier takes 0 or 1, or no value \(got "barrier=2"\)/);
  // the caret sits under the option itself
  const first = r.ok ? undefined : r.diagnostics[0]!;
  const col = text.indexOf('data=jornal') + 1;
  assert.equal(first?.location?.column, col);
  assert.equal(first?.location?.length, 'data=jornal'.length);
});

test('mount_options needs a mount and a string', () => {
  const noMount = parseScenarioText(scenario('{"name": "sdb", "type": "hdd"}, {"name": "sda", "type": "hdd", "mount": "/mnt/d", "mount_options": 5}').replace('{"name": "sdb", "type": "hdd"}', '{"name": "sdb", "type": "hdd", "mount_options": "data=journal"}'), 's.json');
  const shown = noMount.ok ? '' : noMount.diagnostics.map(renderDiagnostic).join('\n');
  assert.match(shown, /machine\.devices\[0\]\.mount_options: needs a filesystem: give the device a "mount" too/);
  assert.match(shown, /machine\.devices\[1\]\.mount_options: must be a string of ext4 mount options like "data=journal,commit=5" \(got 5\)/);
});
