// An NVMe fault's "crd" (Command Retry Delay) and the drive's "crdt" (CRDT1-3): read into the
// status bits and the SSD spec, every mistake a located error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

const device = (type: 'hdd' | 'nvme', extra: Record<string, unknown>): unknown => ({
  name: 'f',
  duration: '1ms',
  machine: { devices: [{ name: type === 'hdd' ? 'sda' : 'nvme0n1', type, capacity: '1g', ...extra }] },
  jobs: [{ name: 'r', filename: type === 'hdd' ? '/dev/sda' : '/dev/nvme0n1', size: '4k' }],
});

test('"crd" sets the status CRD bits, "crdt" the controller delays (fewer than three: the rest 0)', () => {
  const r = parseScenario(device('nvme', { crdt: [1, 5], faults: [{ sectors: '0-7', kind: 'transient', count: 2, status: '0x281', crd: 2 }, { kind: 'permanent', crd: 1 }] }), 'f.json');
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n'));
  const d = r.scenario.machine.devices[0]!;
  assert.deepEqual(d.ssd?.crdt, [1, 5, 0]);
  assert.deepEqual(d.faults!.map((f) => f.nvmeStatus), [0x281 | (2 << 11), 0x281 | (1 << 11)]);
});

test('a bad crd or crdt says what is wrong and where', () => {
  const one = (type: 'hdd' | 'nvme', extra: Record<string, unknown>) => errors(parseScenario(device(type, extra), 'f.json'));
  assert.equal(one('nvme', { faults: [{ kind: 'permanent', crd: 1 }] }), 'f.json: machine.devices[0].faults[0].crd: the drive reports no Command Retry Delay Times (CRDT1-3 are 0, as on the 970 PRO), so Linux leaves ACRE off and the drive clears CRD; give the device "crdt": [1, 5, 10] (in 100 ms units)');
  assert.equal(one('nvme', { crdt: [1], faults: [{ kind: 'permanent', crd: 4 }] }), 'f.json: machine.devices[0].faults[0].crd: must be an integer from 1 to 3 (got 4)');
  assert.equal(one('nvme', { crdt: [1], faults: [{ kind: 'permanent', crd: 1, dnr: true }] }), 'f.json: machine.devices[0].faults[0].crd: a status with "dnr": true is never retried, so there is no retry to delay');
  assert.equal(one('nvme', { crdt: [1], faults: [{ kind: 'timeout', crd: 1 }] }), 'f.json: machine.devices[0].faults[0].kind: a timeout is a command the device never answers: it carries no sense data or status');
  assert.equal(one('hdd', { faults: [{ kind: 'permanent', crd: 1 }] }), "f.json: machine.devices[0].faults[0].crd: the Command Retry Delay is an NVMe status field; a disk's retries follow its sense data");
  assert.equal(one('nvme', { crdt: [1, 2, 3, 4] }), 'f.json: machine.devices[0].crdt: must be one to three Command Retry Delay Times in 100 ms units, CRDT1 first, like [1, 5, 10] (got an array)');
  assert.equal(one('nvme', { crdt: [1, 70000] }), 'f.json: machine.devices[0].crdt[1]: must be an integer from 0 to 65535 (got 70000)');
  assert.match(one('hdd', { crdt: [1] }), /machine\.devices\[0\]\.crdt: is an SSD setting/);
});
