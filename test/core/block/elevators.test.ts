// bfq and kyber behind the elevator ops table, and the run-time switch of
// /sys/block/<dev>/queue/scheduler (elevator_switch): each behaviour through a booted machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, layoutJobFiles, type CgroupSpec, type DeviceSpec, type JobSpec, type Machine } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { elevatorSwitch, elvIoschedShow, elvIoschedStore } from '../../../core/block/elevator.js';
import { jobSpec } from '../../helpers/jobs.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function disk(scheduler: DeviceSpec['scheduler'], queueDepth?: number): DeviceSpec {
  return { name: 'sda', kind: 'hdd', capacityBytes: 1024 * GiB, scheduler, mount: '', ...(queueDepth !== undefined ? { queueDepth } : {}) };
}

function boot(devices: DeviceSpec[], jobs: JobSpec[], cgroups?: CgroupSpec[]): Machine {
  const m = bootMachine({ cpus: 2, memoryBytes: 512 * MiB, devices, ...(cgroups ? { cgroups } : {}) }, 1);
  layoutJobFiles(m, jobs);
  return m;
}

function ios(m: Machine, name: string): number {
  return m.report('x', 1).jobs.filter((j) => j.name === name).reduce((a, j) => a + j.read.ios + j.write.ios, 0);
}

test('kyber on a disk under a read + write mix: reads miss their 2 ms target while cached writes meet theirs, so the write domain goes from 128 tokens to 32 (depth x (p99 bucket + 1) / 4)', () => {
  const reader = jobSpec({ name: 'reader', filename: '/dev/sda', size: 64 * GiB, rw: 'randread', direct: true, norandommap: true, timeBased: true, runtimeNs: 1_500_000_000 });
  const writer = jobSpec({ name: 'writer', filename: '/dev/sda', offsetBytes: 512 * GiB, size: 64 * GiB, rw: 'randwrite', rateBytesPerSec: { read: 0, write: 4 * MiB }, direct: true, ioengine: 'libaio', iodepth: 8, norandommap: true, timeBased: true, runtimeNs: 1_500_000_000 });
  const m = boot([disk('kyber')], [reader, writer]);
  const adjusts: string[] = [];
  const latencies: string[] = [];
  attach(m, 'tracepoint:kyber:kyber_adjust', (h) => adjusts.push(`${String(h.fields['domain'])}=${Number(h.fields['depth'])}`));
  attach(m, 'tracepoint:kyber:kyber_latency', (h) => latencies.push(`${String(h.fields['domain'])} ${String(h.fields['type'])} p${Number(h.fields['percentile'])} ${Number(h.fields['numerator'])}/${Number(h.fields['denominator'])}`));
  m.startJobs([reader, writer], 1_500_000_000);
  m.run(1_500_000_000);
  assert.ok(latencies.some((l) => l.startsWith('READ I/O p90') && Number(l.split(' ')[3]!.split('/')[0]) > 4), `reads in a bad bucket: ${latencies.slice(0, 6).join(', ')}`);
  assert.deepEqual(adjusts, ['WRITE=32']);
  assert.equal(m.devices[0]!.scheduler, 'kyber');
});

test('bfq gives two cgroups disk time in proportion to io.weight (300 vs 100), and raises new queues\' weight (low_latency)', () => {
  const mk = (name: string, offsetBytes: number): JobSpec =>
    jobSpec({ name, filename: '/dev/sda', offsetBytes, size: 4 * GiB, bs: 64 * 1024, rw: 'read', direct: true, timeBased: true, runtimeNs: 4_000_000_000, cgroup: name });
  const heavy = mk('heavy', 0);
  const light = mk('light', 600 * GiB);
  const m = boot([disk('bfq')], [heavy, light], [{ name: 'heavy', ioWeight: 300 }, { name: 'light' }]);
  const raised: string[] = [];
  attach(m, 'tracepoint:kiotrace:bfq_weight_raise', (h) => raised.push(`${Number(h.fields['pid'])}:${String(h.fields['kind'])}`));
  m.startJobs([heavy, light], 4_000_000_000);
  m.run(4_000_000_000);
  const ratio = ios(m, 'heavy') / ios(m, 'light');
  assert.ok(ratio > 2 && ratio < 4.5, `heavy/light reads ${ios(m, 'heavy')}/${ios(m, 'light')} = ${ratio}`);
  assert.ok(raised.filter((r) => r.endsWith(':interactive')).length === 2, raised.join(', '));
  assert.ok(raised.filter((r) => r.endsWith(':end')).length === 2, raised.join(', '));
});

test('the same two readers under mq-deadline share the disk evenly: the weights are bfq\'s', () => {
  const mk = (name: string, offsetBytes: number): JobSpec =>
    jobSpec({ name, filename: '/dev/sda', offsetBytes, size: 256 * MiB, rw: 'read', direct: true, timeBased: true, runtimeNs: 1_000_000_000, cgroup: name });
  const heavy = mk('heavy', 0);
  const light = mk('light', 600 * GiB);
  const m = boot([disk('mq-deadline')], [heavy, light], [{ name: 'heavy', ioWeight: 300 }, { name: 'light' }]);
  m.startJobs([heavy, light], 1_000_000_000);
  m.run(1_000_000_000);
  const ratio = ios(m, 'heavy') / ios(m, 'light');
  assert.ok(ratio > 0.9 && ratio < 1.1, `heavy/light ${ratio}`);
});

test('writing /sys/block/sda/queue/scheduler switches a busy queue: queued requests move to the new elevator, none is lost', () => {
  const readers = jobSpec({ name: 'r', filename: '/dev/sda', size: 64 * GiB, rw: 'randread', direct: true, numjobs: 8, norandommap: true, timeBased: true, runtimeNs: 800_000_000 });
  const m = boot([disk('mq-deadline', 1)], [readers]);
  const q = m.devices[0]!.q;
  assert.equal(elvIoschedShow(q), 'none [mq-deadline] bfq kyber');
  m.startJobs([readers], 800_000_000);
  const seen: string[] = [];
  for (const [atNs, name] of [[200_000_000, 'bfq'], [400_000_000, 'kyber'], [600_000_000, 'none']] as const) {
    m.run(atNs);
    seen.push(`${name}:${q.inFlight}`);
    assert.equal(elvIoschedStore(q, `${name}\n`), 0);
    assert.equal(m.devices[0]!.scheduler, name);
  }
  assert.equal(elvIoschedStore(q, 'cfq'), -22); // -EINVAL, as Linux since 5.0
  elevatorSwitch(q, 'none'); // the same one: nothing happens
  m.run(800_000_000);
  const r = m.report('x', 1);
  assert.equal(r.devices[0]!.scheduler, 'none');
  assert.ok(r.jobs.every((j) => j.errors === 0));
  // every reader went on reading after each switch (8 readers, ~60 reads/s at NCQ depth 1)
  assert.ok(r.jobs.every((j) => j.read.ios > 3), r.jobs.map((j) => j.read.ios).join(' '));
  assert.equal(q.inFlight, 1, seen.join(' '));
});
