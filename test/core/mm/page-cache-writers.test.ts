// Several tasks on one file's page cache, and background writeback keeping dirty memory in check.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, layoutJobFiles, type JobSpec, type MachineSpec, type ProbeHit } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { PG } from '../../../core/mm/mm_types.js';
import { jobSpec } from '../../helpers/jobs.js';

const MiB = 1024 * 1024;
const small: MachineSpec = {
  cpus: 4,
  memoryBytes: 256 * MiB,
  devices: [{ name: 'nvme0n1', kind: 'nvme', capacityBytes: 512 * 1024 ** 3, scheduler: 'none', mount: '/mnt/nvme' }],
};

function writer(name: string, over: Partial<JobSpec>): JobSpec {
  return jobSpec({ name, filename: '/mnt/nvme/shared.dat', rw: 'write', size: 16 * MiB, timeBased: true, ...over });
}

test('two writers and a reader on one file keep one folio per index and exact dirty/writeback counts', () => {
  const jobs = [writer('w1', { fsync: 16 }), writer('w2', {}), writer('r1', { rw: 'read' })];
  const m = bootMachine(small, 7);
  layoutJobFiles(m, jobs);
  m.startJobs(jobs, 500_000_000);
  for (let t = 50_000_000; t <= 500_000_000; t += 50_000_000) {
    m.run(t);
    const inode = m.k.vfs.lookup('/mnt/nvme/shared.dat')!;
    const pages = [...inode.mapping.pages.values()];
    let dirty = 0;
    let wb = 0;
    for (const f of pages) {
      assert.equal(f.mapping, inode.mapping);
      if (f.flags & PG.dirty) dirty++;
      if (f.flags & PG.writeback) wb++;
    }
    assert.ok(pages.length <= (16 * MiB) / 4096, 'never more cached pages than the file has');
    assert.equal(m.k.mm.nrFilePages, pages.length, 'every page-cache folio is in a mapping');
    assert.equal(m.k.mm.nrDirty, dirty);
    assert.equal(inode.mapping.nrDirty, dirty);
    assert.equal(m.k.mm.nrWriteback, wb);
    assert.equal(inode.mapping.nrWriteback, wb);
  }
  const r = m.report('x', 7);
  for (const j of r.jobs) assert.equal(j.errors, 0, `${j.name} had errors`);
  assert.ok(r.jobs[0]!.fsyncs > 10);
});

test('background writeback drains dirty pages below dirty_background_ratio without waiting for expiry', () => {
  const job = writer('dirtier', { filename: '/mnt/nvme/big.dat', size: 96 * MiB, timeBased: false });
  const m = bootMachine(small, 1);
  layoutJobFiles(m, [job]);
  const starts: ProbeHit[] = [];
  attach(m, 'tracepoint:writeback:writeback_start', (h) => starts.push(h));
  m.startJobs([job], 20_000_000_000);
  m.run(5_000_000_000);
  const { backgroundPages } = m.k.wb.thresholds;
  assert.ok(m.k.stat.pgdirtied === (96 * MiB) / 4096, 'the writer finished');
  // the writer dirtied far more than the background threshold; the flusher, woken by
  // balance_dirty_pages, kept writing until dirty memory fell to the threshold
  assert.ok(m.k.mm.nrDirty <= backgroundPages, `dirty ${m.k.mm.nrDirty} <= background ${backgroundPages}`);
  assert.ok(m.k.stat.pgwriteback >= (96 * MiB) / 4096 - backgroundPages);
  assert.ok(starts.length > 0 && starts.every((h) => h.fields['reason'] === 0 && h.fields['for_background'] === 1));
  assert.ok(starts[0]!.timeNs < 1_000_000_000, 'background writeback started within the first second');
});
