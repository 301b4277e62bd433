// The cache-pollution experiment (traces/experiments/cache-pollution*.json): a hot set re-read next
// to a one-pass scan of twice the machine's memory. The two-list LRU keeps the hot set resident
// (used-once scan pages are reclaimed from the inactive list); so does MGLRU (scan pages stay in
// tier 0 of the oldest generation, the hot set's saturated refs move it up); the FIFO baseline
// evicts it as the scan passes; memory.low on the reader's cgroup protects it even under FIFO.
// Refaults are counted from probes (pages of the hot file added to the page cache
// again) and from the workingset counter.
import test from 'node:test';
import assert from 'node:assert/strict';
import type { JobReport, RunReport } from '../../core/index.js';
import { attach } from '../../probes/attach.js';
import { bootExperiment, oncePerFile } from '../helpers/experiment.js';

const HOT_PAGES = (8 * 1024 * 1024) / 4096;


interface PollutionRun {
  readonly report: RunReport;
  /** Hot-file pages added to the page cache again after their first read (refaults). */
  readonly hotRefaults: number;
  /** Distinct hot pages that refaulted at least once. */
  readonly hotPagesRefaulted: number;
  readonly hot: JobReport;
  /** /proc/vmstat's pgrefill (not in the report): folios reclaim moved off the active list, or up a generation. */
  readonly pgrefill: number;
}

/** Each variant runs once per test file (runs are deterministic). */
const run = oncePerFile(runVariant);

function runVariant(file: string): PollutionRun {
  const { m, durationNs, name } = bootExperiment(file);
  const added = new Map<number, number>();
  attach(m, 'tracepoint:filemap:mm_filemap_add_to_page_cache', (h) => {
    if (h.comm !== 'hot') return;
    const index = Number(h.fields.index);
    added.set(index, (added.get(index) ?? 0) + 1);
  });
  m.run(durationNs);
  assert.ok(m.allJobsDone, `${file}: every job ended`);
  const report = m.report(name, 1);
  const hot = report.jobs.find((j) => j.name === 'hot');
  assert.ok(hot);
  assert.equal(added.size, HOT_PAGES, 'the hot set was read whole');
  let hotRefaults = 0;
  let hotPagesRefaulted = 0;
  for (const n of added.values()) {
    hotRefaults += n - 1;
    if (n > 1) hotPagesRefaulted++;
  }
  return { report, hotRefaults, hotPagesRefaulted, hot, pgrefill: m.k.stat.pgrefill };
}

test('cache pollution: the two-list LRU keeps the hot set resident through a scan of twice the memory; FIFO does not', () => {
  const lru = run('cache-pollution.json');
  const fifo = run('cache-pollution-fifo.json');
  const k = lru.report.counters;
  // the scan really went through the machine's memory twice: reclaim evicted more than all of it
  assert.ok(k.pgstealKswapd + k.pgstealDirect > (128 * 1024 * 1024) / 4096, `reclaimed ${k.pgstealKswapd + k.pgstealDirect}`);
  // two-list LRU: the hot pages are active (promoted on their second read); nothing of them refaults
  assert.equal(lru.hotRefaults, 0, 'no hot-set refaults with the two-list LRU');
  assert.ok(k.pgactivate >= HOT_PAGES, `the hot set was activated: pgactivate=${k.pgactivate}`);
  assert.equal(k.workingsetRefaultFile, 0);
  // FIFO: most of the hot set is evicted as the scan passes, and read again from the device
  assert.ok(fifo.hotPagesRefaulted > HOT_PAGES / 2, `FIFO: ${fifo.hotPagesRefaulted} of ${HOT_PAGES} hot pages refaulted`);
  assert.equal(fifo.report.counters.workingsetRefaultFile, fifo.hotRefaults, 'every refault is a hot page (the scan reads once)');
  // the hot reader pays for it: more reads wait for the device, so it does fewer of them
  assert.ok(lru.hot.read.iops > 1.2 * fifo.hot.read.iops, `hot IOPS ${Math.round(lru.hot.read.iops)} (LRU) vs ${Math.round(fifo.hot.read.iops)} (FIFO)`);
});

test('cache pollution: MGLRU keeps the hot set resident too, as well as the two-list LRU and unlike FIFO', (t) => {
  const mglru = run('cache-pollution-mglru.json');
  const lru = run('cache-pollution.json');
  const fifo = run('cache-pollution-fifo.json');
  const k = mglru.report.counters;
  assert.ok(k.pgstealKswapd + k.pgstealDirect > (128 * 1024 * 1024) / 4096, `reclaimed ${k.pgstealKswapd + k.pgstealDirect}`);
  assert.equal(mglru.hotRefaults, 0, 'no hot-set refaults with MGLRU');
  assert.equal(k.workingsetRefaultFile, 0);
  // no activation through fd accesses: the hot set is protected by moving it up a generation
  // (sort_folio, counted as PGREFILL) whenever reclaim finds it in the oldest one with its refs saturated
  assert.equal(k.pgactivate, 0);
  assert.ok(mglru.pgrefill >= HOT_PAGES, `the hot set moved up generations: pgrefill=${mglru.pgrefill}`);
  assert.ok(mglru.hot.read.iops > 1.2 * fifo.hot.read.iops, `hot IOPS ${Math.round(mglru.hot.read.iops)} (MGLRU) vs ${Math.round(fifo.hot.read.iops)} (FIFO)`);
  assert.ok(Math.abs(mglru.hot.read.iops - lru.hot.read.iops) < 0.02 * lru.hot.read.iops, `hot IOPS ${Math.round(mglru.hot.read.iops)} (MGLRU) vs ${Math.round(lru.hot.read.iops)} (two-list)`);
  // the reader's group has an lruvec of its own with its own generations: its hot set stays charged to it
  const group = mglru.report.cgroups?.find((g) => g.name === 'hot');
  assert.ok(group);
  assert.ok(group.memoryCurrentBytes >= HOT_PAGES * 4096, `hot group's memory.current ${group.memoryCurrentBytes}`);
  for (const [name, r] of [['two-list', lru], ['mglru', mglru], ['fifo', fifo]] as const) {
    t.diagnostic(`${name}: hot refaults ${r.hotRefaults} (${r.hotPagesRefaulted} pages), hot ${Math.round(r.hot.read.iops / 1000)}k IOPS`);
  }
});

test('cache pollution: memory.low on the reader\'s cgroup keeps its hot set under the FIFO baseline', () => {
  const low = run('cache-pollution-fifo-low.json');
  assert.equal(low.hotRefaults, 0, 'the protected group is passed over by reclaim');
  assert.equal(low.report.counters.workingsetRefaultFile, 0);
  assert.equal(low.report.counters.pgactivate, 0, 'FIFO promotes nothing: the protection did it');
  // the group's memory.* at the end: its 8 MiB set within its 16 MiB memory.low, never reclaimed
  const group = low.report.cgroups?.find((g) => g.name === 'hot');
  assert.ok(group);
  assert.equal(group.memoryLowBytes, 16 * 1024 * 1024);
  assert.ok(group.memoryCurrentBytes >= HOT_PAGES * 4096 && group.memoryCurrentBytes <= group.memoryLowBytes);
  assert.equal(group.events.low, 0);
});

test('cache pollution ranks the seed\'s remedies: a smaller readahead window helps a little, the LRU policy or memory.low protect fully', () => {
  const fifo = run('cache-pollution-fifo.json');
  const smallRa = run('cache-pollution-fifo-small-ra.json');
  const scan = (r: PollutionRun): JobReport => {
    const j = r.report.jobs.find((x) => x.name === 'scan');
    assert.ok(j);
    return j;
  };
  // read_ahead_kb 8 constrains the polluter: the scan waits on the device more, so it passes slower...
  const mibPerSec = (r: PollutionRun): number => Math.round(scan(r).read.bandwidthBytesPerSec / 2 ** 20);
  assert.ok(mibPerSec(fifo) > 1.2 * mibPerSec(smallRa), `scan ${mibPerSec(smallRa)} MiB/s (8 KiB readahead) vs ${mibPerSec(fifo)} MiB/s`);
  // ...and the hot set refaults less, but a FIFO still evicts it: the knob slows the flood, it does not stop it
  assert.ok(smallRa.hotRefaults < fifo.hotRefaults, `hot refaults ${smallRa.hotRefaults} (8 KiB readahead) vs ${fifo.hotRefaults}`);
  assert.ok(smallRa.hotPagesRefaulted > HOT_PAGES / 2, `still ${smallRa.hotPagesRefaulted} of ${HOT_PAGES} hot pages refaulted`);
  // the protections: none of the hot set refaults under the two-list LRU, MGLRU or memory.low
  for (const file of ['cache-pollution.json', 'cache-pollution-mglru.json', 'cache-pollution-fifo-low.json']) assert.equal(run(file).hotRefaults, 0, file);
});
