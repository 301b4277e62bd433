// Tags and queue depth: the HDD takes 32 NCQ commands at once; mq-deadline's queue has 64
// requests (2 x depth); more submitters than that sleep for a tag and still all make progress.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';

test('80 O_DIRECT readers on the HDD: at most 32 in the drive, at most 64 requests allocated, everyone progresses', () => {
  const job: JobSpec = jobSpec({ name: 'rr', filename: '/mnt/hdd/tags.dat', rw: 'randread', size: 256 * 1024 * 1024, direct: true, numjobs: 80, timeBased: true });
  const m = bootMachine(DEFAULT_MACHINE, 3);
  layoutJobFiles(m, [job]);
  let inDrive = 0;
  let maxInDrive = 0;
  let allocated = 0;
  let maxAllocated = 0;
  attach(m, 'tracepoint:block:block_getrq', (h) => {
    if (h.fields['dev'] !== m.devices[1]!.q.dev) return;
    maxAllocated = Math.max(maxAllocated, ++allocated);
  });
  attach(m, 'tracepoint:block:block_rq_issue', (h) => {
    if (h.fields['dev'] !== m.devices[1]!.q.dev) return;
    maxInDrive = Math.max(maxInDrive, ++inDrive);
  });
  attach(m, 'tracepoint:block:block_rq_complete', (h) => {
    if (h.fields['dev'] !== m.devices[1]!.q.dev) return;
    inDrive--;
    allocated--;
  });
  // a request merged into another (block_rq_merge) gives its tag back without completing
  attach(m, 'tracepoint:block:block_rq_merge', (h) => {
    if (h.fields['dev'] === m.devices[1]!.q.dev) allocated--;
  });
  m.startJobs([job], 3_000_000_000);
  m.run(3_000_000_000);
  assert.equal(maxInDrive, 32, 'NCQ depth');
  assert.equal(maxAllocated, 64, 'nr_requests = 2 * min(32, 128)');
  const r = m.report('tags', 3);
  const ios = r.jobs.map((j) => j.read.ios);
  assert.equal(ios.length, 80);
  // tags go to sleepers in order, so nobody starves: the least served reader gets most of a fair share
  const fair = ios.reduce((a, b) => a + b, 0) / ios.length;
  assert.ok(Math.min(...ios) > fair * 0.7, `min ${Math.min(...ios)} vs fair share ${fair.toFixed(1)}`);
  // deep queues let the drive reorder: far more than the ~86 IOPS of one random reader
  const total = ios.reduce((a, b) => a + b, 0);
  assert.ok(total / 3 > 150, `${(total / 3).toFixed(0)} IOPS at depth 32`);
});
