// A device's "faults" in a scenario's machine: read into FaultSpecs, every mistake a located error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';

function errors(result: ScenarioResult): string {
  assert.equal(result.ok, false, 'expected the scenario to be rejected');
  return result.ok ? '' : result.diagnostics.map(renderDiagnostic).join('\n');
}

const withFaults = (type: 'hdd' | 'nvme', faults: unknown): unknown => ({
  name: 'f',
  duration: '1ms',
  machine: { devices: [{ name: type === 'hdd' ? 'sda' : 'nvme0n1', type, capacity: '1g', faults }] },
  jobs: [{ name: 'r', filename: type === 'hdd' ? '/dev/sda' : '/dev/nvme0n1', size: '4k' }],
});

test('faults are read per device: ranges, probabilities, sense data for a disk, status and DNR for NVMe', () => {
  const r = parseScenario(
    withFaults('hdd', [
      { sectors: '1000-1999', op: 'read', kind: 'transient', count: 2, sense: 'ABORTED_COMMAND/0x47/0x00' },
      { sectors: 5, kind: 'permanent' },
      { probability: 0.001, kind: 'permanent', sense: '3/17/4' },
      { kind: 'timeout' },
    ]),
    'f.json',
  );
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n'));
  assert.deepEqual(r.scenario.machine.devices[0]!.faults, [
    { op: 'read', kind: 'transient', count: 2, firstSector: 1000, lastSector: 1999, probability: 0, sense: { key: 0xb, asc: 0x47, ascq: 0 } },
    { op: 'any', kind: 'permanent', count: 0, firstSector: 5, lastSector: 5, probability: 0 },
    { op: 'any', kind: 'permanent', count: 0, firstSector: -1, lastSector: -1, probability: 0.001, sense: { key: 3, asc: 17, ascq: 4 } },
    { op: 'any', kind: 'timeout', count: 0, firstSector: -1, lastSector: -1, probability: 0 },
  ]);
  const n = parseScenario(withFaults('nvme', [{ sectors: '0-7', kind: 'permanent', status: '0x281', dnr: true }]), 'f.json');
  assert.ok(n.ok);
  assert.equal(n.scenario.machine.devices[0]!.faults![0]!.nvmeStatus, 0x4281);
});

test('a bad fault says what is wrong and where', () => {
  const one = (type: 'hdd' | 'nvme', fault: unknown) => errors(parseScenario(withFaults(type, [fault]), 'f.json'));
  assert.equal(one('hdd', { sectors: '10-1', kind: 'permanent' }), 'f.json: machine.devices[0].faults[0].sectors: ends before it starts; write the lower sector first, e.g. "1-10"');
  assert.equal(one('hdd', { sectors: '0-2097152', kind: 'permanent' }), "f.json: machine.devices[0].faults[0].sectors: reaches sector 2097152, past the device's last sector 2097151");
  assert.equal(one('hdd', { kind: 'flaky' }), 'f.json: machine.devices[0].faults[0].kind: unknown fault kind "flaky" (expected transient, permanent or timeout)');
  assert.equal(one('hdd', { sectors: 1 }), 'f.json: machine.devices[0].faults[0].kind: required but missing (e.g. "kind": "transient")');
  assert.equal(one('hdd', { kind: 'permanent', count: 3 }), 'f.json: machine.devices[0].faults[0].count: a permanent fault fails every time; give "kind": "transient" to fail a number of times');
  assert.equal(one('hdd', { kind: 'permanent', probability: 2 }), 'f.json: machine.devices[0].faults[0].probability: must be a number above 0 and at most 1: the chance that a command meets a new defect (got 2)');
  assert.equal(one('hdd', { kind: 'permanent', sense: 'MEDIUM/0x11/0x00' }), 'f.json: machine.devices[0].faults[0].sense: must be sense key/ASC/ASCQ like "MEDIUM_ERROR/0x11/0x00" (key one of NO_SENSE, RECOVERED_ERROR, NOT_READY, MEDIUM_ERROR, HARDWARE_ERROR, ILLEGAL_REQUEST, UNIT_ATTENTION, DATA_PROTECT, BLANK_CHECK, COPY_ABORTED, ABORTED_COMMAND, VOLUME_OVERFLOW, MISCOMPARE); did you mean "MEDIUM_ERROR"? (got "MEDIUM/0x11/0x00")');
  assert.equal(one('hdd', { kind: 'permanent', status: '0x281' }), 'f.json: machine.devices[0].faults[0].status: an NVMe status is what an NVMe drive reports; a disk (hdd) reports "sense" like "MEDIUM_ERROR/0x11/0x00"');
  assert.equal(one('nvme', { kind: 'permanent', sense: 'MEDIUM_ERROR/0x11/0x00' }), 'f.json: machine.devices[0].faults[0].sense: SCSI sense data is what a disk (hdd) reports; an NVMe drive reports a "status" like "0x281"');
  assert.equal(one('nvme', { kind: 'permanent', status: 'bad' }), 'f.json: machine.devices[0].faults[0].status: must be an NVMe status (SCT << 8 | SC) from 0x001 to 0x7ff, like "0x281" (Unrecovered Read Error) (got "bad")');
  assert.equal(one('nvme', { kind: 'permanent', range: '0-7' }), 'f.json: machine.devices[0].faults[0].range: unknown key; did you mean "sectors"?');
  assert.equal(errors(parseScenario(withFaults('hdd', { kind: 'permanent' }), 'f.json')), 'f.json: machine.devices[0].faults: must be an array of faults like [{"sectors": "1000-1999", "kind": "permanent"}] (got an object)');
});
