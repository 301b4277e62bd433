// Buffered writes dirty folios; the flusher writes them back when they are older than
// dirty_expire (30 s) at one of its dirty_writeback_interval (5 s) wakeups.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_MACHINE, layoutJobFiles, type JobSpec, type ProbeHit } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { jobSpec } from '../../helpers/jobs.js';
import { wbWriteoutAdd } from '../../../core/mm/page-writeback-throttle.js';

const job: JobSpec = jobSpec({ name: 'dirtier', filename: '/mnt/nvme/dirty.dat', rw: 'write', size: 64 * 4096 });

test('kupdate writeback: 64 dirty pages stay dirty until they are 30 s old, then the flusher writes them at its next 5 s tick', () => {
  // wb_check_old_data_flush runs a traced kupdate pass at every 5 s tick while anything is
  // dirty; before the pages expire those passes write nothing
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [job]);
  // a device that has written before owns its share of the dirty limits (its writeout fraction);
  // a fresh one owns none, and wb_over_bg_thresh would write any dirty page at the first tick
  const wb = m.k.wb.bdiFor(m.k.vfs.lookup('/mnt/nvme/dirty.dat')!);
  wbWriteoutAdd(m.k.wb.domain, wb, 0, 1024);
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
  assert.deepEqual(
    started.map((h) => [Math.floor(h.timeNs / 1e9), h.fields['reason'], h.fields['nr_pages']]),
    [5, 10, 15, 20, 25].map((sec) => [sec, 3, 64]),
    'a periodic pass at each tick, asking for all 64 dirty pages',
  );
  assert.deepEqual(written.map((h) => h.fields['nr_pages']), [0, 0, 0, 0, 0], 'nothing is old enough before 30 s');
  // (the journal does write: jbd2 commits the writes' timestamp update 5 s after it, WSM + WFSM)
  const dataWrite = (h: ProbeHit): boolean => String(h.fields['rwbs']).startsWith('W') && !String(h.fields['rwbs']).includes('M');
  assert.equal(issued.filter(dataWrite).length, 0);
  m.run(40_000_000_000);
  assert.equal(m.k.mm.nrDirty, 0);
  assert.equal(started.length, 7, 'the 30 s tick still finds nothing expired; the 35 s one writes');
  const s = started[6]!;
  // the flusher sleeps in 5 s steps from boot; the first tick after the pages turn 30 s is 35 s
  assert.ok(s.timeNs >= 35_000_000_000 && s.timeNs < 35_001_000_000, `writeback started at ${s.timeNs}`);
  assert.equal(s.fields['reason'], 3); // WB_REASON_PERIODIC
  assert.equal(s.fields['for_kupdate'], 1);
  assert.equal(s.fields['nr_pages'], 64);
  assert.equal(s.fields['name'], '259:0');
  assert.ok(String(s.comm).startsWith('kworker/'), `written by ${s.comm}`);
  assert.equal(written[6]!.fields['nr_pages'], 64);
  // one flush I/O: 64 contiguous pages leave as one 256 KiB write request under the flusher's ioId
  const writes = issued.filter(dataWrite);
  assert.deepEqual(writes.map((h) => h.fields['bytes']), [262144]);
  assert.equal(writes[0]!.ioId, s.ioId);
  assert.notEqual(s.ioId, dirtied[0]!.ioId);
});

test('a device that never wrote owns no share of the background threshold: its first dirty pages go out at the next flusher tick', () => {
  // wb_over_bg_thresh: WB_RECLAIMABLE > the wb's share of bg_thresh, and a share is the wb's
  // fraction of recent writeout completions (none yet)
  const m = bootMachine(DEFAULT_MACHINE, 1);
  layoutJobFiles(m, [job]);
  const started: ProbeHit[] = [];
  attach(m, 'tracepoint:writeback:writeback_start', (h) => started.push(h));
  m.startJobs([job], 6_000_000_000);
  m.run(6_000_000_000);
  assert.equal(m.k.mm.nrDirty, 0);
  assert.deepEqual(started.map((h) => [Math.floor(h.timeNs / 1e9), h.fields['reason'], h.fields['for_background']]), [[5, 0, 1]]);
});
