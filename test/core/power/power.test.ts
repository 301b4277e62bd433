// Device power management: the device-status table, NVMe APST, runtime PM of a disk and its parents,
// cpuidle's menu governor, and wake locks against power collapse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, type DeviceSpec, type JobSpec, type Machine, type PowerSpec } from '../../../core/index.js';
import { nvmeConfigureApst } from '../../../core/drivers/nvme/host/apst.js';
import { SAMSUNG_970_PRO_POWER_STATES } from '../../../core/hw/nvme-apst.js';
import { DeviceState } from '../../../core/drivers/base/core.js';
import { RpmStatus } from '../../../core/power/runtime.js';
import { typicalIntervalNs } from '../../../core/power/cpuidle.js';
import { HDD_SPIN_DOWN_NS, HDD_SPIN_UP_NS } from '../../../core/hw/hdd-power.js';
import { DEFAULT_POWER } from '../../../core/userspace/job.js';
import { jobSpec } from '../../helpers/jobs.js';
import { runScript } from '../../../probes/script.js';
import { scriptOptions } from '../../helpers/script.js';

const MiB = 2 ** 20;
const MS = 1_000_000;

function run(devices: readonly DeviceSpec[], jobs: readonly JobSpec[], durationNs: number, power?: PowerSpec): Machine {
  const m = bootMachine({ cpus: 2, memoryBytes: 512 * MiB, devices, ...(power ? { power } : {}) }, 1);
  m.startJobs(jobs, durationNs);
  m.run(durationNs);
  return m;
}

const nvme = (over: Partial<DeviceSpec> = {}): DeviceSpec => ({ name: 'nvme0n1', kind: 'nvme', capacityBytes: 256 * MiB, scheduler: 'none', mount: '', ...over });
const hdd = (over: Partial<DeviceSpec> = {}): DeviceSpec => ({ name: 'sda', kind: 'hdd', capacityBytes: 1024 * MiB, scheduler: 'mq-deadline', mount: '', ...over });
/** Three 4 KiB direct reads, `thinkNs` apart. */
const sparseReads = (filename: string, thinkNs: number): JobSpec =>
  jobSpec({ name: 'r', filename, size: 64 * MiB, rw: 'randread', direct: true, thinktimeNs: thinkNs, numberIos: 3 });

test('nvme_configure_apst on a 970 PRO: PS4 after 100 ms idle by default; PS3 when PS4 exits too slowly; none at 0', () => {
  const table = nvmeConfigureApst(SAMSUNG_970_PRO_POWER_STATES, 100_000)!;
  assert.deepEqual(table.slice(0, 4), Array(4).fill({ targetPs: 4, idleTimeMs: 100 }));
  assert.equal(table[4], undefined);
  // PS4 exits in 8 ms: over a 5 ms tolerance, PS3 (1.2 ms exit) is the target
  assert.deepEqual(nvmeConfigureApst(SAMSUNG_970_PRO_POWER_STATES, 5000)![0], { targetPs: 3, idleTimeMs: 100 });
  assert.equal(nvmeConfigureApst(SAMSUNG_970_PRO_POWER_STATES, 0), undefined);
});

test('APST: an NVMe idle past 100 ms goes to PS4 (suspended in the table); the first read after pays the 8 ms exit', () => {
  const m = run([nvme()], [sparseReads('/dev/nvme0n1', 150 * MS)], 400 * MS);
  const r = m.report('x', 1).jobs[0]!.read;
  assert.equal(r.ios, 3);
  assert.ok(r.clat.minNs < 200_000, `the first read finds PS0: ${r.clat.minNs}`);
  // 150 ms of thinking: PS4 entered at 100 ms, its 2 ms entry done, so the wait is the 8 ms exit
  assert.ok(r.clat.maxNs > 8 * MS && r.clat.maxNs < 8.3 * MS, `${r.clat.maxNs}`);
  const disk = m.k.devices.byName('nvme0n1')!;
  assert.equal(disk.busAddress, '0000:01:00.0');
  assert.equal(disk.parent!.type, 'nvme');
  // PS4 from 100 to 150 ms and from 258 to 308 ms (the second read took the 8 ms exit)
  const suspendedNs = disk.timeInStateNs(DeviceState.SUSPENDED, m.env.nowNs);
  assert.ok(suspendedNs > 99 * MS && suspendedNs < 101 * MS, `${suspendedNs}`);
  // with APST off (pm_qos_latency_tolerance_us 0) every read is fast
  const off = run([nvme({ psMaxLatencyUs: 0 })], [sparseReads('/dev/nvme0n1', 150 * MS)], 400 * MS).report('x', 1).jobs[0]!.read;
  assert.ok(off.clat.maxNs < 200_000, `${off.clat.maxNs}`);
  // thinking less than APST's 100 ms never leaves PS0
  const short = run([nvme()], [sparseReads('/dev/nvme0n1', 50 * MS)], 200 * MS).report('x', 1).jobs[0]!.read;
  assert.ok(short.clat.maxNs < 200_000, `${short.clat.maxNs}`);
});

test('the device-status table: busy with the request in progress, idle after; failed sticks', () => {
  const m = bootMachine({ cpus: 2, memoryBytes: 512 * MiB, devices: [nvme(), hdd()] }, 1);
  const disk = m.k.devices.byName('sda')!;
  assert.equal(disk.busAddress, 'ata1.00');
  assert.deepEqual([disk.major, disk.minor], [8, 0]);
  assert.deepEqual(
    m.k.devices.devices.map((d) => `${d.name}<${d.parent?.name ?? ''}`),
    ['pci0000:00<', '0000:00:11.0<pci0000:00', '0000:01:00.0<0000:00:11.0', 'nvme0n1<0000:01:00.0', '0000:00:17.0<pci0000:00', 'ata1<0000:00:17.0', 'sda<ata1'],
  );
  m.startJobs([jobSpec({ name: 'r', filename: '/dev/sda', size: 64 * MiB, rw: 'randread', direct: true, numberIos: 1 })], 100 * MS);
  m.run(1 * MS);
  assert.equal(disk.state, DeviceState.BUSY);
  assert.equal(disk.inProgress()?.nrSectors, 8);
  m.run(100 * MS);
  assert.equal(disk.state, DeviceState.IDLE);
  assert.equal(disk.inProgress(), undefined);
  m.k.devices.markFailed(disk);
  m.k.devices.setState(disk, DeviceState.IDLE, undefined);
  assert.equal(disk.state, DeviceState.FAILED);
});

test('runtime PM of a disk: autosuspend after the delay, parents after their child; the next read waits for spin-up', () => {
  const m = run([hdd({ autosuspendDelayMs: 500 })], [sparseReads('/dev/sda', 3000 * MS)], 25_000 * MS);
  const sda = m.k.devices.byName('sda')!;
  const ata = sda.parent!;
  const ahci = ata.parent!;
  const r = m.report('x', 1).jobs[0]!.read;
  assert.equal(r.ios, 3);
  // suspended 0.5 s after each read (+1 s spin-down), so the next two reads wait for the 8 s spin-up
  assert.ok(r.clat.maxNs > HDD_SPIN_UP_NS, `${r.clat.maxNs}`);
  assert.ok(r.clat.minNs < 100 * MS, `${r.clat.minNs}`);
  assert.equal(sda.power!.suspendCount, 3);
  assert.equal(sda.power!.resumeCount, 2);
  assert.equal(sda.power!.runtimeStatus, RpmStatus.SUSPENDED);
  // the port and controller suspended only once the disk had: they follow it down and up
  assert.equal(ata.power!.suspendCount, 3);
  assert.equal(ahci.power!.suspendCount, 3);
  assert.equal(ahci.power!.childCount, 0);
  assert.ok(HDD_SPIN_DOWN_NS > 0);
  // without a delay (-1, the default) the disk never suspends
  const never = run([hdd()], [sparseReads('/dev/sda', 3000 * MS)], 7000 * MS);
  assert.equal(never.k.devices.byName('sda')!.power!.suspendCount, 0);
});

test('menu governor: the mean of 8 agreeing intervals, none when they scatter', () => {
  assert.equal(typicalIntervalNs([80_000, 81_000, 79_000, 80_000, 80_000, 80_000, 80_000, 80_000]), 80_000);
  assert.equal(typicalIntervalNs([80_000, 80_000]), Infinity);
  // one outlier is dropped
  assert.equal(typicalIntervalNs([80_000, 80_000, 80_000, 80_000, 80_000, 80_000, 80_000, 50_000_000]), 80_000);
  assert.equal(typicalIntervalNs([1e3, 1e6, 5e4, 3e7, 2e5, 9e6, 4e3, 7e7]), Infinity);
});

test('power collapse: autosleep suspends an idle machine unless a job holds a wake lock', () => {
  // reads 150 ms apart for the whole run
  const jobs = [jobSpec({ name: 'r', filename: '/dev/nvme0n1', size: 64 * MiB, rw: 'randread', direct: true, thinktimeNs: 150 * MS })];
  const power: PowerSpec = { ...DEFAULT_POWER, autosleep: 'freeze' };
  const without = run([nvme()], jobs, 600 * MS, power);
  const rep = without.k.power.report();
  assert.ok(rep.collapseNs > 300 * MS, `${rep.collapseNs}`);
  assert.ok(rep.collapses >= 2);
  const withLock = run([nvme()], jobs, 600 * MS, { ...power, wakeLockJobs: ['r'] });
  const rep2 = withLock.k.power.report();
  assert.equal(rep2.collapseNs, 0);
  assert.equal(rep2.wakeupSources[0]!.name, 'r');
  assert.equal(rep2.wakeupSources[0]!.activeCount, 1);
});

test('scripts read the status table and runtime PM: kiotrace:device_state, and struct device behind __pm_runtime_resume', () => {
  const m = bootMachine({ cpus: 2, memoryBytes: 512 * MiB, devices: [hdd({ autosuspendDelayMs: 100 })] }, 1);
  const durationNs = 12_000 * MS;
  m.startJobs([sparseReads('/dev/sda', 2000 * MS)], durationNs);
  let out = '';
  const text = `tracepoint:kiotrace:device_state /str(args.name) == "sda"/ { printf("%s %d->%d\\n", str(args.name), args.old_state, args.new_state); }
kprobe:__pm_runtime_resume { $d = (struct device *)arg0; printf("resume %s %s %s status=%d delay=%d\\n", str($d->kobj.name), str($d->kiotrace_status.address), str($d->kiotrace_status.state_name), $d->power.runtime_status, $d->power.autosuspend_delay); }`;
  const result = runScript(m, scriptOptions(text, durationNs, (s, stream) => {
    if (stream === 'stdout') out += s;
  }));
  assert.equal(result.exitCode, 0, out);
  const lines = out.split('\n').filter((l) => l !== '' && !l.startsWith('Attached'));
  // busy, idle, suspended (100 ms later, after the spin-down), then the next read resumes it
  assert.deepEqual(lines.slice(0, 4), ['sda 0->1', 'sda 1->0', 'sda 0->2', 'resume sda ata1.00 suspended status=2 delay=100']);
  assert.ok(lines.includes('sda 2->0'), out);
});

test('a controller suspends only when every child has: one disk that never autosuspends keeps the AHCI controller up', () => {
  const m = run([hdd({ autosuspendDelayMs: 100 }), hdd({ name: 'sdb' })], [sparseReads('/dev/sda', 3000 * MS)], 2000 * MS);
  const sda = m.k.devices.byName('sda')!;
  const sdb = m.k.devices.byName('sdb')!;
  assert.equal(sda.power!.runtimeStatus, RpmStatus.SUSPENDED);
  assert.equal(sda.parent!.power!.runtimeStatus, RpmStatus.SUSPENDED, 'ata1 follows its only child');
  assert.equal(sdb.parent!.name, 'ata2');
  assert.equal(sdb.parent!.power!.runtimeStatus, RpmStatus.ACTIVE);
  const ahci = sda.parent!.parent!;
  assert.equal(ahci, sdb.parent!.parent);
  assert.equal(ahci.power!.childCount, 1);
  assert.equal(ahci.power!.suspendCount, 0);
});
