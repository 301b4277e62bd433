// Buffered writes dirty folios; the flusher writes them back when they are older than
// dirty_expire (30 s) at one of its dirty_writeback_interval (5 s) wakeups.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec, type ProbeHit } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';

const job: JobSpec = jobSpec({ name: 'dirtier', filename: '/mnt/nvme/dirty.dat', rw: 'write', size: 64 * 4096 });

test('kupdate writeback: 64 dirty pages stay dirty until they are 30 s old, then the flusher writes them at its next 5 s tick', () => {
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [job]);
  const dirtied: ProbeHit[] = [];
  const started: ProbeHit[] = [];
  const written: ProbeHit[] = [];
  const issued: ProbeHit[] = [];
  attach(m, 'tracepoint:writeback:writeback_dirty_folio', (h) => dirtied.push(h));
  attach(m, 'tracepoint:writeback:writeback_start', (h) => started.push(h));
  attach(m, 'tracepoint:writeback:writeback_written', (h) => written.push(h));
  attach(m, 'tracepoint:block:block_rq_issue', (h) => issued.push(h));
  m.startJobs([job], 40_000_000_000);
  m.run(29_000_000_000);
  assert.equal(dirtied.length, 64);
  assert.equal(m.k.mm.nrDirty, 64);
  assert.equal(started.length, 0, 'nothing is old enough before 30 s');
  m.run(40_000_000_000);
  assert.equal(m.k.mm.nrDirty, 0);
  assert.equal(started.length, 1);
  const s = started[0]!;
  // the flusher sleeps in 5 s steps from boot; the first tick after the pages turn 30 s is 35 s
  assert.ok(s.timeNs >= 35_000_000_000 && s.timeNs < 35_001_000_000, `writeback started at ${s.timeNs}`);
  assert.equal(s.fields['reason'], 3); // WB_REASON_PERIODIC
  assert.equal(s.fields['for_kupdate'], 1);
  assert.equal(s.fields['nr_pages'], 64);
  assert.equal(s.fields['name'], '259:0');
  assert.ok(String(s.comm).startsWith('kworker/'), `written by ${s.comm}`);
  assert.equal(written[0]!.fields['nr_pages'], 64);
  // one flush I/O: 64 contiguous pages leave as one 256 KiB write request under the flusher's ioId
  const writes = issued.filter((h) => String(h.fields['rwbs']).startsWith('W'));
  assert.deepEqual(writes.map((h) => h.fields['bytes']), [262144]);
  assert.equal(writes[0]!.ioId, s.ioId);
  assert.notEqual(s.ioId, dirtied[0]!.ioId);
});
