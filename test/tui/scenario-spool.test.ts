// Scenario fields of spooling and device reservation: machine.printers with located errors, and
// fio's allow_mounted_write (a job writing to a mounted raw device aborts unless it is set).
import test from 'node:test';
import assert from 'node:assert/strict';
import { parseScenarioText, renderDiagnostic } from '../../tui/scenario.js';

function messages(text: string): string[] {
  const r = parseScenarioText(text, 's.json');
  return r.ok ? [] : r.diagnostics.map((d) => renderDiagnostic(d).split('\n')[0]!);
}

const job = (extra: string) => `"jobs": [{"name": "j", "filename": "/mnt/nvme/f", "size": "1m"${extra}}]`;

test('machine.printers: a name lp0..lp9 and a serial line speed, 9600 by default', () => {
  const ok = parseScenarioText(`{"name": "p", "duration": "1s", "machine": {"printers": [{"name": "lp0"}, {"name": "lp1", "baud": 115200}]}, ${job('')}}`, 's.json');
  assert.ok(ok.ok);
  assert.deepEqual(ok.scenario.machine.printers, [
    { name: 'lp0', baud: 9600 },
    { name: 'lp1', baud: 115200 },
  ]);
  assert.deepEqual(messages(`{"name": "p", "duration": "1s", "machine": {"printers": [{"name": "lp0", "baud": 1000}, {"name": "printer"}, {"name": "lp0"}]}, ${job('')}}`), [
    's.json:1:82: machine.printers[0].baud: must be a serial line speed: one of 300, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600 (got 1000)',
    's.json:1:98: machine.printers[1].name: must be a line printer name lp0 to lp9 (got "printer")',
    's.json:1:119: machine.printers[2].name: duplicate printer name "lp0"; give each printer its own',
  ]);
});

test("fio's allow_mounted_write: writing to a mounted raw device aborts unless it is set; reading is fine", () => {
  const raw = (rw: string, extra = '') => `{"name": "w", "duration": "1ms", "jobs": [{"name": "w", "filename": "/dev/sda", "rw": "${rw}", "size": "1m"${extra}}]}`;
  assert.deepEqual(messages(raw('randwrite')), [
    "s.json:1:69: jobs[0].filename: /dev/sda appears mounted (at /mnt/hdd), and 'allow_mounted_write' isn't set. Aborting (set allow_mounted_write=1 to write anyway)",
  ]);
  assert.deepEqual(messages(raw('randread')), []);
  assert.deepEqual(messages(raw('write', ', "allow_mounted_write": 1')), []);
});
