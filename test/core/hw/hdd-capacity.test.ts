// A disk reports exactly the capacity asked for, from 1 MiB to 64 TiB (the geometry is scaled, the LBA
// count clipped), and its LBAs span the whole stroke, so QD1 random 4 KiB reads over the device pay the
// family's average seek and half a revolution: the published 80-86 IOPS of a 7200 rpm disk (§23 A3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, deviceCapacityBytes, layoutJobFiles, type DeviceSpec } from '../../../core/index.js';
import { HddGeometry, hddConfigForCapacity } from '../../../core/hw/hdd.js';
import { jobSpec } from '../../helpers/jobs.js';

const KiB = 2 ** 10;
const MiB = 2 ** 20;
const GiB = 2 ** 30;
const TiB = 2 ** 40;

const SIZES = [MiB, 3 * MiB + 512, 64 * MiB, 100 * MiB, GiB, 10 * GiB + 4 * KiB, 500 * 1e9, TiB, 3 * TiB, 4 * TiB, 16 * TiB, 64 * TiB];

function hdd(capacityBytes: number, scheduler: DeviceSpec['scheduler'] = 'none', mount = ''): DeviceSpec {
  return { name: 'sda', kind: 'hdd', capacityBytes, scheduler, mount };
}

test('every disk size from 1m to 64t reports exactly its capacity, and its LBAs reach the innermost cylinder used', () => {
  for (const bytes of SIZES) {
    assert.equal(deviceCapacityBytes(hdd(bytes)), bytes, `${bytes}`);
    const g = new HddGeometry(hddConfigForCapacity(bytes));
    assert.equal(g.capacitySectors * 512, bytes);
    assert.equal(g.locate(g.capacitySectors - 1).cyl, g.cylinders - 1, `${bytes}: the stroke ends at the last LBA`);
    assert.ok(g.cylinders >= 166, `${bytes}: ${g.cylinders} cylinders`);
  }
  // the same family: full-size tracks from 1 GiB up, 1-8 heads
  assert.equal(hddConfigForCapacity(GiB).outerSectorsPerTrack, 4224);
  assert.equal(hddConfigForCapacity(TiB).heads, 3);
  assert.equal(hddConfigForCapacity(64 * TiB).heads, 8);
});

test('every size boots and /dev/sda is exactly as large as asked; the last sector can be read', () => {
  for (const bytes of SIZES) {
    const m = bootMachine({ cpus: 1, memoryBytes: 256 * MiB, devices: [hdd(bytes)] }, 1);
    assert.equal(m.devices[0]!.hw.capacitySectors * 512, bytes);
    const job = jobSpec({ name: 'tail', filename: '/dev/sda', offsetBytes: bytes - 4 * KiB, size: 4 * KiB, rw: 'read', direct: true });
    layoutJobFiles(m, [job]);
    m.startJobs([job], 200_000_000);
    m.run(200_000_000);
    const r = m.report('x', 1).jobs[0]!;
    assert.equal(r.errors, 0, `${bytes}`);
    assert.equal(r.read.ios, 1, `${bytes}`);
  }
});

test('A3 through the stack: QD1 random 4 KiB O_DIRECT reads over the whole disk (none) are 80-86 IOPS at every usual size', () => {
  for (const bytes of [64 * MiB, GiB, TiB, 4 * TiB, 64 * TiB]) {
    const m = bootMachine({ cpus: 1, memoryBytes: 256 * MiB, devices: [hdd(bytes)] }, 1);
    const job = jobSpec({ name: 'rr', filename: '/dev/sda', size: bytes, rw: 'randread', direct: true, norandommap: true, timeBased: true, runtimeNs: 6_000_000_000 });
    layoutJobFiles(m, [job]);
    m.startJobs([job], 6_000_000_000);
    m.run(6_000_000_000);
    const iops = m.report('x', 1).jobs[0]!.read.ios / 6;
    assert.ok(iops >= 80 && iops <= 86, `${bytes}: ${iops} IOPS`);
  }
});
