// An NVMe fault's "crd" (Command Retry Delay) and the drive's "crdt" (CRDT1-3): read into the
// status bits and the SSD spec; the drive's "irq_coalescing" (Set Features 08h) into the SSD spec
// and on to the controller's aggregation time (100 µs units) and 0's based threshold. Every mistake
// a located error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseScenario, renderDiagnostic, type ScenarioResult } from '../../tui/scenario.js';
import { nvmeConfigFor } from '../../core/init/main.js';
import { DEFAULT_NVME_CONFIG } from '../../core/hw/nvme/controller.js';

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

test('"irq_coalescing" sets Set Features 08h: TIME in 100 µs units, THR one less than the threshold', () => {
  const r = parseScenario(device('nvme', { irq_coalescing: { time_us: 200, threshold: 8 } }), 'f.json');
  assert.ok(r.ok, r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n'));
  const ssd = r.scenario.machine.devices[0]!.ssd;
  assert.deepEqual(ssd, { irqCoalescing: { timeUs: 200, threshold: 8 } });
  assert.deepEqual(nvmeConfigFor(2 ** 30, 2, ssd).interruptCoalescing, { aggregationTime100us: 2, aggregationThreshold: 7 });
  // left out: the reset value, off
  assert.deepEqual(nvmeConfigFor(2 ** 30, 2).interruptCoalescing, DEFAULT_NVME_CONFIG.interruptCoalescing);
  assert.deepEqual(DEFAULT_NVME_CONFIG.interruptCoalescing, { aggregationTime100us: 0, aggregationThreshold: 0 });
  // the largest fields: TIME 255, THR 255
  const max = parseScenario(device('nvme', { interrupt_coalescing: { time_us: 25500, threshold: 256 } }), 'f.json');
  assert.equal(max.ok, false, 'an alias is suggested, not guessed');
  const r2 = parseScenario(device('nvme', { irq_coalescing: { time_us: 25500, threshold: 256 } }), 'f.json');
  assert.ok(r2.ok);
  assert.deepEqual(nvmeConfigFor(2 ** 30, 2, r2.scenario.machine.devices[0]!.ssd).interruptCoalescing, { aggregationTime100us: 255, aggregationThreshold: 255 });
});

test('a bad irq_coalescing says what is wrong and where', () => {
  const one = (type: 'hdd' | 'nvme', extra: Record<string, unknown>) => errors(parseScenario(device(type, extra), 'f.json'));
  const P = 'f.json: machine.devices[0].irq_coalescing';
  assert.equal(one('nvme', { irq_coalescing: { time_us: 150, threshold: 8 } }), `${P}.time_us: must be a multiple of 100 µs from 0 to 25500 (the aggregation time counts 100 µs units; 0 turns coalescing off) (got 150)`);
  assert.equal(one('nvme', { irq_coalescing: { time_us: 25600, threshold: 8 } }), `${P}.time_us: must be a multiple of 100 µs from 0 to 25500 (the aggregation time counts 100 µs units; 0 turns coalescing off) (got 25600)`);
  assert.equal(one('nvme', { irq_coalescing: { time_us: 100, threshold: 0 } }), `${P}.threshold: must be an integer from 1 to 256 (got 0)`);
  assert.equal(one('nvme', { irq_coalescing: { time_us: 100, threshold: 257 } }), `${P}.threshold: must be an integer from 1 to 256 (got 257)`);
  assert.equal(one('nvme', { irq_coalescing: { time_us: 100 } }), `${P}.threshold: required but missing (e.g. "threshold": 8)`);
  assert.match(one('nvme', { irq_coalescing: { time_us: 100, threshold: 8, usecs: 5 } }), /irq_coalescing\.usecs: .*time_us/);
  assert.match(one('nvme', { irq_coalescing: 100 }), new RegExp(`${P.replace(/[.[\]]/g, '\\$&')}: must be an object like \\{"time_us": 100, "threshold": 8\\}`));
  assert.match(one('hdd', { irq_coalescing: { time_us: 100, threshold: 8 } }), /machine\.devices\[0\]\.irq_coalescing: is an SSD setting/);
});
