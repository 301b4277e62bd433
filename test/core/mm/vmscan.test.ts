// Reclaim (mm/vmscan.c) and workingset detection (mm/workingset.c): the inactive_ratio rule, lists
// that only reclaim rebalances, kswapd between the low and high watermarks, and refault activation
// by distance.
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_VM, layoutJobFiles, type MachineSpec, type Machine } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { AddressSpace, PG, type Folio } from '../../../core/mm/mm_types.js';
import { computeWatermarks } from '../../../core/mm/page_alloc.js';
import { highDelayNs, inactiveIsLow, inactiveRatio, ScanControl, shrinkNode, tryToFreePages } from '../../../core/mm/vmscan.js';
import type { Inode } from '../../../core/fs/types.js';
import { jobSpec } from '../../helpers/jobs.js';
import { parseScenario, renderDiagnostic } from '../../../tui/scenario.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const PAGES_PER_GIB = GiB / 4096;

function machine(memoryBytes: number, lru?: string): MachineSpec {
  return {
    cpus: 2,
    memoryBytes,
    devices: [{ name: 'nvme0n1', kind: 'nvme', capacityBytes: 8 * GiB, scheduler: 'none', mount: '/mnt/nvme' }],
    ...(lru === undefined ? {} : { vm: { ...DEFAULT_VM, lru } }),
  };
}

test('inactive_ratio is int_sqrt(10 x GiB) of the file LRU, 1 below 1 GiB (the vmscan.c table)', () => {
  const table: [pages: number, ratio: number][] = [
    [0, 1],
    [PAGES_PER_GIB - 1, 1],
    [PAGES_PER_GIB, 3],
    [10 * PAGES_PER_GIB, 10],
    [100 * PAGES_PER_GIB, 31],
    [1024 * PAGES_PER_GIB, 101],
  ];
  for (const [pages, ratio] of table) assert.equal(inactiveRatio(pages), ratio, `${pages} pages`);
});

test('watermarks follow min_free_kbytes = int_sqrt(16 x lowmem KiB) and watermark_scale_factor', () => {
  // page_alloc.c's table: 1 GiB -> 4096k, 4 GiB -> 8192k, 16 GiB -> 16384k
  assert.equal(computeWatermarks(PAGES_PER_GIB).minFreeKbytes, 4096);
  assert.equal(computeWatermarks(4 * PAGES_PER_GIB).minFreeKbytes, 8192);
  assert.equal(computeWatermarks(16 * PAGES_PER_GIB).minFreeKbytes, 16384);
  // 4 GiB: min 2048 pages; the gap is max(min / 4, 0.1% of the zone) = 1048 pages
  assert.deepEqual(computeWatermarks(4 * PAGES_PER_GIB), { minFreeKbytes: 8192, minPages: 2048, lowPages: 3096, highPages: 4144 });
  // a small machine: the gap is min / 4
  assert.deepEqual(computeWatermarks(16_384), { minFreeKbytes: 1024, minPages: 256, lowPages: 320, highPages: 384 });
  // the knobs: min_free_kbytes given, watermark_scale_factor 1% (100)
  assert.deepEqual(computeWatermarks(4 * PAGES_PER_GIB, { minFreeKbytes: 4096, watermarkScaleFactor: 100 }), {
    minFreeKbytes: 4096,
    minPages: 1024,
    lowPages: 1024 + 10485,
    highPages: 1024 + 2 * 10485,
  });
  // a machine's vm section reaches its node
  const m = bootMachine({ ...machine(256 * MiB), vm: { ...DEFAULT_VM, minFreeKbytes: 8192 } }, 1);
  assert.equal(m.k.mm.node(0).wmarkMin, 2048);
});

/** Synthetic page-cache folios on a mapping of their own, for driving the LRU directly. */
class Pages {
  readonly mapping: AddressSpace;

  constructor(private readonly m: Machine) {
    this.mapping = new AddressSpace(m.k.kaddr(), { ino: 99, sDev: 0 } as unknown as Inode);
  }

  /** filemap_add_folio + folio_add_lru at `index` (a refault if reclaim left a shadow there). */
  add(index: number): Folio {
    const k = this.m.k;
    const f = k.mm.allocFolio(k.sched.cpu(0))!;
    f.flags = PG.uptodate;
    f.mapping = this.mapping;
    f.index = index;
    this.mapping.pages.set(index, f);
    k.mm.nrFilePages++;
    k.mm.lruAdd(f);
    return f;
  }

  /** Added and read twice: on the active list. */
  addActive(index: number): Folio {
    const f = this.add(index);
    this.m.k.mm.markAccessed(f);
    this.m.k.mm.markAccessed(f);
    return f;
  }
}

/** One reclaim pass at `priority` toward `nrToReclaim` folios (shrink_node), as direct reclaim runs it. */
function reclaim(m: Machine, nrToReclaim: number, priority = 0): ScanControl {
  const node = m.k.mm.node(0);
  // a new reclaim cycle: refaults so far are known (snapshot_refaults), deactivation only if inactive is low
  node.refaultsSnapshot = node.lruvec.workingsetActivateFile;
  const sc = new ScanControl();
  sc.reset(m.k.sched.cpu(0), 0, false, nrToReclaim);
  sc.priority = priority;
  shrinkNode(m.k, m.k.mm.node(0), sc);
  return sc;
}

test('a second access activates; activation never demotes, only reclaim rebalances when inactive is low', () => {
  const m = bootMachine(machine(256 * MiB), 1);
  const lruvec = m.k.mm.node(0).lruvec;
  const p = new Pages(m);
  const once = p.add(0);
  m.k.mm.markAccessed(once);
  assert.equal(once.flags & (PG.referenced | PG.active), PG.referenced, 'first access: PG_referenced only');
  for (let i = 1; i <= 100; i++) p.addActive(i);
  assert.equal(lruvec.nrActiveFile, 100);
  assert.equal(lruvec.nrInactiveFile, 1);
  assert.ok(inactiveIsLow(lruvec), 'inactive x 1 < active');
  assert.equal(m.k.stat.pgactivate, 100);
  assert.equal(m.k.stat.pgdeactivate, 0, 'no demotion on activation, however low inactive is');
  // reclaim at priority 0 scans everything: shrink_active_list moves active folios to inactive
  const deactivated: number[] = [];
  attach(m, 'tracepoint:vmscan:mm_vmscan_lru_shrink_active', (h) => deactivated.push(Number(h.fields.nr_deactivated)));
  reclaim(m, 1);
  assert.ok(m.k.stat.pgdeactivate > 0, 'reclaim deactivated');
  assert.equal(deactivated.reduce((a, b) => a + b, 0), m.k.stat.pgdeactivate);
  // deactivated folios are marked as having been part of the working set
  const inactiveWorkingset = [...p.mapping.pages.values()].filter((f) => !(f.flags & PG.active) && f.flags & PG.workingset);
  assert.equal(inactiveWorkingset.length, m.k.stat.pgdeactivate);
});

test('with enough inactive folios reclaim leaves the active list alone and evicts used-once folios', () => {
  const m = bootMachine(machine(256 * MiB), 1);
  const lruvec = m.k.mm.node(0).lruvec;
  const p = new Pages(m);
  for (let i = 0; i < 50; i++) p.addActive(i);
  for (let i = 100; i < 300; i++) m.k.mm.markAccessed(p.add(i)); // read once
  const sc = reclaim(m, 96); // three SWAP_CLUSTER_MAX batches
  assert.equal(sc.nrReclaimed, 96);
  assert.equal(lruvec.nrActiveFile, 50, 'active untouched');
  assert.equal(m.k.stat.pgdeactivate, 0);
  // the oldest used-once folios went, each leaving a shadow
  for (let i = 100; i < 196; i++) assert.ok(!p.mapping.pages.has(i) && p.mapping.shadows.has(i), `index ${i} evicted`);
  assert.ok(p.mapping.pages.has(196));
  assert.equal(m.k.stat.pgstealDirect, 96);
});

test('a refault within the active list size starts active; a distant one starts inactive; a working-set one is a restore', () => {
  const m = bootMachine(machine(256 * MiB), 1);
  const lruvec = m.k.mm.node(0).lruvec;
  const p = new Pages(m);
  for (let i = 0; i < 40; i++) p.addActive(i);
  for (let i = 100; i < 400; i++) p.add(i);
  reclaim(m, 1); // one SWAP_CLUSTER_MAX batch: evicts 100..131
  assert.ok(!p.mapping.pages.has(131) && p.mapping.pages.has(132));
  // refault of 100: distance = 31 later evictions <= 40 active folios
  const near = p.add(100);
  assert.ok(near.flags & PG.active, 'recent refault activated');
  assert.equal(lruvec.nrActiveFile, 41);
  assert.deepEqual([m.k.stat.workingsetRefaultFile, m.k.stat.workingsetActivateFile, m.k.stat.workingsetRestoreFile], [1, 1, 0]);
  reclaim(m, 64); // evicts 132..195: 101's distance (30 + 1 activation + 64) exceeds the active list
  const far = p.add(101);
  assert.equal(far.flags & PG.active, 0, 'distant refault starts inactive');
  assert.deepEqual([m.k.stat.workingsetRefaultFile, m.k.stat.workingsetActivateFile], [2, 1]);
  // a folio that had been on the active list (PG_workingset), evicted and read again soon: a restore
  p.mapping.pages.get(196)!.flags |= PG.workingset;
  reclaim(m, 1); // evicts 196..227
  const restored = p.add(196);
  assert.ok(restored.flags & PG.active && restored.flags & PG.workingset);
  assert.deepEqual([m.k.stat.workingsetRefaultFile, m.k.stat.workingsetActivateFile, m.k.stat.workingsetRestoreFile], [3, 2, 1]);
});

test('kswapd wakes below the low watermark, reclaims to the high one and sleeps', () => {
  const m = bootMachine(machine(64 * MiB), 1);
  const node = m.k.mm.node(0);
  const job = jobSpec({ name: 'scan', filename: '/mnt/nvme/big', rw: 'read', bs: 128 * 1024, size: 96 * MiB });
  layoutJobFiles(m, [job]);
  const wakeups: number[] = [];
  const sleeps: number[] = [];
  attach(m, 'tracepoint:vmscan:mm_vmscan_wakeup_kswapd', () => wakeups.push(m.k.mm.freePages));
  attach(m, 'tracepoint:vmscan:mm_vmscan_kswapd_sleep', (h) => {
    assert.equal(h.comm, 'kswapd0');
    sleeps.push(m.k.mm.freePages);
  });
  m.startJobs([job], 2_000_000_000);
  m.run(2_000_000_000);
  assert.ok(m.allJobsDone, 'the scan ended');
  assert.ok(wakeups.length > 1, `kswapd woken more than once: ${wakeups.length}`);
  for (const free of wakeups) assert.ok(free <= node.wmarkLow, `woken at ${free} free <= low ${node.wmarkLow}`);
  assert.ok(sleeps.length >= wakeups.length - 1, `${sleeps.length} sleeps, ${wakeups.length} wakeups`);
  for (const free of sleeps) assert.ok(free > node.wmarkHigh, `sleeps at ${free} free > high ${node.wmarkHigh}`);
  assert.ok(m.k.stat.pgstealKswapd > 0);
  assert.equal(m.k.stat.pgscanKswapd + m.k.stat.pgscanDirect >= m.k.stat.pgstealKswapd + m.k.stat.pgstealDirect, true);
});

test('the FIFO baseline ignores references: a folio read many times goes in insertion order', () => {
  const m = bootMachine(machine(256 * MiB, 'fifo'), 1);
  const lruvec = m.k.mm.node(0).lruvec;
  assert.equal(lruvec.ops.name, 'fifo');
  const p = new Pages(m);
  const hot = p.addActive(0);
  for (let i = 1; i < 10; i++) p.add(i);
  assert.equal(hot.flags & PG.active, 0);
  reclaim(m, 1);
  assert.ok(!p.mapping.pages.has(0), 'the oldest went, however hot');
});

test('a scenario picks the LRU policy and watermark knobs in machine.vm; bad values are clear errors', () => {
  const scenario = (vm: unknown): unknown => ({
    name: 'v',
    duration: '1ms',
    machine: { memory: '256m', devices: [{ name: 'nvme0n1', type: 'nvme', mount: '/mnt/nvme' }], vm },
    jobs: [{ name: 'r', filename: '/mnt/nvme/f', size: '4k' }],
  });
  const ok = parseScenario(scenario({ lru: 'fifo', min_free_kbytes: 2048, watermark_scale_factor: 100 }), 'v.json');
  assert.ok(ok.ok);
  assert.deepEqual(ok.scenario.machine.vm, { ...DEFAULT_VM, minFreeKbytes: 2048, watermarkScaleFactor: 100, lru: 'fifo' });
  const bad = parseScenario(scenario({ lru: 'lfu', min_free_kbytes: 0, watermark_scale_factor: 5000, swappiness: 60 }), 'v.json');
  assert.equal(bad.ok, false);
  assert.equal(
    bad.ok ? '' : bad.diagnostics.map(renderDiagnostic).join('\n'),
    [
      'v.json: machine.vm.lru: unknown LRU policy "lfu" (expected two-list, fifo or mglru)',
      'v.json: machine.vm.min_free_kbytes: must be an integer from 4 to 4194304 (got 0)',
      'v.json: machine.vm.watermark_scale_factor: must be an integer from 1 to 3000 (got 5000)',
      'v.json: machine.vm.swappiness: unknown key (expected one of: dirty_ratio, dirty_background_ratio, dirty_bytes, dirty_background_bytes, dirty_expire_centisecs, dirty_writeback_centisecs, min_free_kbytes, watermark_scale_factor, lru, lru_gen)',
    ].join('\n'),
  );
});

test('small sequential reads mark a folio accessed once (pos_same_folio), so a scan with bs < 4k promotes nothing', () => {
  const run = (bs: number, loops: number): number => {
    const m = bootMachine(machine(256 * MiB), 1);
    const job = jobSpec({ name: 'r', filename: '/mnt/nvme/f', rw: 'read', bs, size: MiB, loops });
    layoutJobFiles(m, [job]);
    m.startJobs([job], 1_000_000_000);
    m.run(1_000_000_000);
    assert.ok(m.allJobsDone);
    return m.k.stat.pgactivate;
  };
  assert.equal(run(1024, 1), 0, '1 KiB reads: four reads per folio, one mark');
  // read twice: the second pass's first visit of each folio promotes it
  assert.equal(run(4096, 2), MiB / 4096);
});

test('memory.low: reclaim passes a protected group over while others have pages, and takes from it only when nothing else is left', () => {
  const m = bootMachine(machine(256 * MiB), 1);
  const node = m.k.mm.node(0);
  const protectedGroup = m.k.mm.createMemcg('p', { minPages: 0, lowPages: 100, highPages: Number.MAX_SAFE_INTEGER, maxPages: Number.MAX_SAFE_INTEGER });
  const idle = m.k.sched.cpu(0).current;
  const p = new Pages(m);
  idle.memcg = protectedGroup; // folios allocated now are charged to the group
  for (let i = 0; i < 50; i++) p.add(i);
  idle.memcg = undefined;
  for (let i = 100; i < 164; i++) p.add(i);
  assert.equal(protectedGroup.usagePages, 50);
  assert.equal(protectedGroup.lruvecs[0]!.nrInactiveFile, 50);
  // direct reclaims take the 64 unprotected folios; the group keeps all 50
  let rounds = 0;
  while (node.lruvec.nrInactiveFile > 0 && rounds++ < 10) assert.ok(tryToFreePages(m.k, node, m.k.sched.cpu(0), 0) > 0);
  assert.equal(node.lruvec.nrInactiveFile, 0);
  assert.equal(protectedGroup.usagePages, 50);
  assert.equal(protectedGroup.eventsLow, 0);
  // nothing unprotected left: the retry reclaims from below memory.low (memory.events low)
  assert.ok(tryToFreePages(m.k, node, m.k.sched.cpu(0), 0) > 0);
  assert.ok(protectedGroup.usagePages < 50);
  assert.ok(protectedGroup.eventsLow > 0);
});

test('memory.max: a group at its limit reclaims its own folios to allocate, others untouched', () => {
  const m = bootMachine(machine(256 * MiB), 1);
  const capped = m.k.mm.createMemcg('q', { minPages: 0, lowPages: 0, highPages: Number.MAX_SAFE_INTEGER, maxPages: 40 });
  const idle = m.k.sched.cpu(0).current;
  const p = new Pages(m);
  for (let i = 1000; i < 1100; i++) p.add(i); // the root's
  idle.memcg = capped;
  for (let i = 0; i < 200; i++) p.add(i);
  idle.memcg = undefined;
  assert.ok(capped.usagePages <= 40, `usage ${capped.usagePages} <= max 40`);
  assert.equal(m.k.mm.node(0).lruvec.nrInactiveFile, 100, "the root's folios stayed");
  assert.equal(capped.eventsMax, 0, 'reclaim always freed room: no failed charge');
  assert.ok(p.mapping.pages.has(199) && !p.mapping.pages.has(0));
});

test('memory.high: calculate_high_delay grows with the square of the overage, from HZ/100 up to 2 s', () => {
  assert.equal(highDelayNs(100, 100), 0);
  assert.equal(highDelayNs(101, 100), 0, '1% over: under HZ/100, not worth a sleep');
  assert.equal(highDelayNs(104, 100), 102_000_000);
  assert.equal(highDelayNs(110, 100), 639_000_000);
  assert.equal(highDelayNs(200, 100), 2_000_000_000, 'capped at MEMCG_MAX_HIGH_DELAY_JIFFIES');
});

test('memory.high: a writer whose dirty pages cannot be reclaimed is put to sleep over its high limit', () => {
  const m = bootMachine({ ...machine(256 * MiB), cgroups: [{ name: 'w', memoryHighBytes: 4 * MiB }] }, 1);
  const job = jobSpec({ name: 'writer', filename: '/mnt/nvme/out', rw: 'write', size: 16 * MiB, cgroup: 'w' });
  layoutJobFiles(m, [job]);
  const sleeps: number[] = [];
  attach(m, 'tracepoint:vmscan:mm_vmscan_memcg_reclaim_end', (h) => sleeps.push(Number(h.fields.nr_reclaimed)));
  m.startJobs([job], 1_000_000_000);
  m.run(1_000_000_000);
  const group = m.k.mm.memcgByName('w')!;
  assert.ok(group.eventsHigh > 0, 'went over memory.high');
  assert.ok(sleeps.length > 0 && sleeps.every((n) => n === 0), 'nothing reclaimable: every dirty page waits for writeback');
  // throttled: in 1 s it dirtied only a little past its 4 MiB high (1024 pages), not its 16 MiB
  assert.ok(m.k.stat.pgdirtied < 1100, `dirtied ${m.k.stat.pgdirtied} pages`);
  assert.ok(!m.allJobsDone);
});
