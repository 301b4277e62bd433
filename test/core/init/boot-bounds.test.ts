// Machines of every size a scenario may ask for boot and run: small NVMe drives (a few erase
// blocks per die) keep enough spare blocks for GC, small filesystems fit their journal, memory
// costs the host nothing until pages are used, and a huge mapping unmaps without a walk of every page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, deviceCapacityBytes, ext4FileCostBlocks, filesystemFreeBlocks, layoutJobFiles, type DeviceSpec, type JobSpec, type Machine } from '../../../core/index.js';
import { MemoryManager } from '../../../core/mm/page_alloc.js';
import type { Kernel } from '../../../core/kernel/kernel.js';
import type { HitContext } from '../../../core/trace/probe.js';
import { jobSpec } from '../../helpers/jobs.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function runJobs(devices: readonly DeviceSpec[], jobs: readonly JobSpec[], durationNs: number, memoryBytes = 4 * GiB): Machine {
  const m = bootMachine({ cpus: 2, memoryBytes, devices }, 1);
  layoutJobFiles(m, jobs);
  m.startJobs(jobs, durationNs);
  m.run(durationNs);
  return m;
}

test('NVMe drives from the 64m minimum up boot, hold what was asked and serve I/O', () => {
  for (const capacityBytes of [64 * MiB, 100 * MiB, 1 * GiB, 3 * GiB, 4 * GiB - 512, 5 * GiB, 64 * GiB]) {
    const dev: DeviceSpec = { name: 'nvme0n1', kind: 'nvme', capacityBytes, scheduler: 'none', mount: '/mnt/nvme' };
    assert.ok(deviceCapacityBytes(dev) >= capacityBytes, `${capacityBytes}: ${deviceCapacityBytes(dev)}`);
    const m = runJobs([dev], [jobSpec({ name: 'r', filename: '/mnt/nvme/f', size: 16 * MiB, rw: 'randread', direct: true })], 2_000_000);
    const report = m.report('x', 1);
    assert.ok(report.jobs[0]!.read.ios > 0, `${capacityBytes}: no reads`);
    assert.equal(report.jobs[0]!.errors, 0);
  }
});

test('a small NVMe drive overwritten more than once: GC keeps up, no I/O fails', () => {
  const dev: DeviceSpec = { name: 'nvme0n1', kind: 'nvme', capacityBytes: 64 * MiB, scheduler: 'none', mount: '' };
  const capacity = deviceCapacityBytes(dev);
  assert.equal(capacity, 64 * MiB); // exactly as asked: 16 dies of 64 host blocks of 64 KiB (two flash pages)
  const job = jobSpec({ name: 'w', filename: '/dev/nvme0n1', size: capacity, bs: MiB, rw: 'randwrite', direct: true, timeBased: true });
  const m = runJobs([dev], [job], 400_000_000);
  const report = m.report('x', 1);
  const w = report.jobs[0]!.write;
  assert.equal(report.jobs[0]!.errors, 0);
  // its small erase blocks make erases a large share of the work, and its 1 MiB write buffer
  // hides little: 1.3 drive writes in 400 ms
  assert.ok(w.bytes > capacity, `wrote ${w.bytes} bytes`);
  assert.ok((report.devices[0]!.hw['erases'] ?? 0) > 0, 'GC erased blocks');
});

test('a small filesystem keeps a journal its size (mke2fs) and the last flex group takes the tail of the disk', () => {
  const nvme = (capacityBytes: number): DeviceSpec => ({ name: 'nvme0n1', kind: 'nvme', capacityBytes, scheduler: 'none', mount: '/mnt/nvme' });
  // 64 MiB drive (exactly): 16384 blocks, 164 of metadata, a 4 MiB journal (1024 blocks)
  assert.equal(filesystemFreeBlocks(nvme(64 * MiB)), 16384 - 164 - 1024);
  // a 4 GiB file on a 4.25 GiB drive: the part past the last whole 2 GiB group is used
  const m = runJobs([nvme(4 * GiB + 256 * MiB)], [jobSpec({ name: 'r', filename: '/mnt/nvme/f', size: 4 * GiB, rw: 'randread' })], 1_000_000);
  assert.ok(m.report('x', 1).jobs[0]!.read.ios > 0);
  // the largest file the validator lets through (its blocks and allocation gaps fill the free space) is laid out
  // (on the 128 MiB filesystem a 64m drive used to be built as; on an exact 64 MiB one the layout
  // and the validator's cost disagree: ext4's, reported to the lead)
  const free = filesystemFreeBlocks(nvme(128 * MiB));
  let blocks = free;
  while (ext4FileCostBlocks(blocks * 4096) > free) blocks--;
  assert.equal(ext4FileCostBlocks(blocks * 4096), free);
  const full = runJobs([nvme(128 * MiB)], [jobSpec({ name: 'r', filename: '/mnt/nvme/f', size: blocks * 4096, rw: 'read' })], 1_000_000);
  assert.ok(full.report('x', 1).jobs[0]!.read.ios > 0);
});

test('memory is handed out page by page, not listed at boot: 64 GiB costs no host memory up front', () => {
  const before = process.memoryUsage().arrayBuffers;
  const mm = new MemoryManager({ kaddr: () => 0 } as unknown as Kernel, 64 * GiB);
  const grownBytes = process.memoryUsage().arrayBuffers - before;
  assert.ok(grownBytes < MiB, `boot took ${grownBytes} bytes`);
  const reserved = Math.floor(mm.totalPages * 0.04);
  assert.equal(mm.freePages, mm.totalPages - reserved);
  // low PFNs first, then the most recently freed page (as the free stack always did)
  const ctx = {} as HitContext;
  const a = mm.allocFolio(ctx)!;
  const b = mm.allocFolio(ctx)!;
  const c = mm.allocFolio(ctx)!;
  assert.deepEqual([a.pfn, b.pfn, c.pfn], [reserved, reserved + 1, reserved + 2]);
  mm.freeFolio(a);
  mm.freeFolio(c);
  assert.equal(mm.allocFolio(ctx)!.pfn, c.pfn);
  assert.equal(mm.allocFolio(ctx)!.pfn, a.pfn);
  assert.equal(mm.allocFolio(ctx)!.pfn, reserved + 3);
  assert.equal(mm.freePages, mm.totalPages - reserved - 4);
  assert.equal(mm.folioByPfn(b.pfn), b);
  assert.equal(mm.folioByPfn(0), undefined);
});

test('munmap of an 8 TiB file mapping touched in a few pages walks its PTEs, not 2^31 pages', { timeout: 60_000 }, () => {
  const hdd: DeviceSpec = { name: 'sda', kind: 'hdd', capacityBytes: 16 * 2 ** 40, scheduler: 'mq-deadline', mount: '/mnt/hdd' };
  const job = jobSpec({ name: 'm', filename: '/mnt/hdd/f', size: 8 * 2 ** 40, ioengine: 'mmap', rw: 'randread', runtimeNs: 20_000_000 });
  const m = runJobs([hdd], [job], 100_000_000);
  const report = m.report('x', 1);
  assert.ok(report.jobs[0]!.read.ios > 0);
  assert.ok(report.jobs[0]!.runtimeNs <= 40_000_000, 'the job ended, so it unmapped');
});

test('a 256-CPU machine gets 64 NVMe queue pairs, CPUs sharing them, and its jobs do I/O', () => {
  const dev: DeviceSpec = { name: 'nvme0n1', kind: 'nvme', capacityBytes: GiB, scheduler: 'none', mount: '/mnt/nvme' };
  const job = jobSpec({ name: 'r', filename: '/mnt/nvme/f', size: 64 * MiB, rw: 'randread', direct: true, numjobs: 256, timeBased: true });
  const m = bootMachine({ cpus: 256, memoryBytes: 4 * GiB, devices: [dev] }, 1);
  assert.equal(m.devices[0]!.hw.queueCount, 64);
  assert.equal(m.devices[0]!.q.hctxs.length, 64);
  layoutJobFiles(m, [job]);
  m.startJobs([job], 20_000_000);
  m.run(20_000_000);
  const report = m.report('x', 1);
  assert.equal(report.jobs.length, 256);
  assert.ok(report.jobs.every((j) => j.read.ios > 0 && j.errors === 0));
});
