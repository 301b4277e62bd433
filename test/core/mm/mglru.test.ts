// The multi-gen LRU (core/mm/mglru.ts): generations made by aging and retired by eviction, the
// oldest generation evicted first, tiers counted from fd accesses, the PID controller protecting a
// tier that refaults more than tier 0, lru_gen_refault, a scan next to a hot set, memory cgroups'
// lruvecs each with generations of their own (memory.min, memory.max), and the machine knob
// (machine.vm.lru_gen, next to machine.cgroups).
import test from 'node:test';
import assert from 'node:assert/strict';
import { bootMachine, DEFAULT_VM, layoutJobFiles, type Machine, type MachineSpec } from '../../../core/index.js';
import { attach } from '../../../probes/attach.js';
import { AddressSpace, PG, type Folio } from '../../../core/mm/mm_types.js';
import { ScanControl, shrinkNode, tryToFreePages } from '../../../core/mm/vmscan.js';
import { filemapAddFolio, folioEndRead } from '../../../core/mm/filemap.js';
import { folioLruRefs, folioTier, getTierIdx, incMaxSeq, MAX_NR_GENS, MIN_NR_GENS, type LruGenFolio } from '../../../core/mm/mglru.js';
import type { Inode } from '../../../core/fs/types.js';
import { jobSpec } from '../../helpers/jobs.js';
import { parseScenario, renderDiagnostic } from '../../../tui/scenario.js';

const MiB = 1024 * 1024;

function mglruMachine(memoryBytes: number): MachineSpec {
  return {
    cpus: 2,
    memoryBytes,
    devices: [{ name: 'nvme0n1', kind: 'nvme', capacityBytes: 2 * 1024 * MiB, scheduler: 'none', mount: '/mnt/nvme' }],
    vm: { ...DEFAULT_VM, lru: 'mglru' },
  };
}

function lrugen(m: Machine): LruGenFolio {
  const g = m.k.mm.node(0).lruvec.lrugen;
  assert.ok(g, 'the lruvec runs MGLRU');
  return g;
}

/** Synthetic page-cache folios on a mapping of their own, for driving the LRU directly. */
class Pages {
  readonly mapping: AddressSpace;

  constructor(private readonly m: Machine) {
    this.mapping = new AddressSpace(m.k.kaddr(), { ino: 99, sDev: 0 } as unknown as Inode);
  }

  /** filemap_add_folio at `index` (a refault if reclaim left a shadow there), filled, then read `reads` times. */
  add(index: number, reads = 0): Folio {
    const f = filemapAddFolio(this.m.k, this.m.k.sched.cpu(0), 0, this.mapping, index);
    assert.ok(f);
    folioEndRead(f, true);
    this.read(f, reads);
    return f;
  }

  read(f: Folio, times: number): void {
    for (let i = 0; i < times; i++) this.m.k.mm.markAccessed(f);
  }

  /** Adds folios at `from`.. (each read `reads` times); returns their indices. */
  range(from: number, count: number, reads: number): number[] {
    return Array.from({ length: count }, (_, i) => this.add(from + i, reads).index);
  }

  /** How many of these indices are cached (by index: evicted folios are reused for new ones). */
  resident(indices: readonly number[]): number {
    return indices.filter((i) => this.mapping.pages.has(i)).length;
  }

  folio(index: number): Folio {
    const f = this.mapping.pages.get(index);
    assert.ok(f, `index ${index} cached`);
    return f;
  }
}

/** One reclaim pass at `priority` toward `nrToReclaim` folios (shrink_node), as direct reclaim runs it. */
function reclaim(m: Machine, nrToReclaim: number, priority = 0): ScanControl {
  const sc = new ScanControl();
  sc.reset(m.k.sched.cpu(0), 0, false, nrToReclaim);
  sc.priority = priority;
  shrinkNode(m.k, m.k.mm.node(0), sc);
  return sc;
}

/** Reclaim passes at priority 0 (evicting, or aging when due) until `nrToReclaim` folios went, as do_try_to_free_pages retries. */
function reclaimAll(m: Machine, nrToReclaim: number): number {
  let total = 0;
  for (let pass = 0; pass < 8 && total < nrToReclaim; pass++) total += reclaim(m, nrToReclaim - total).nrReclaimed;
  return total;
}

test('fd accesses climb the tiers without moving the folio: order_base_2(refs), the last tier for PG_workingset', () => {
  const m = bootMachine(mglruMachine(256 * MiB), 1);
  const p = new Pages(m);
  const f = p.add(0);
  const g = lrugen(m);
  assert.equal(f.lruGen, g.minSeq % MAX_NR_GENS, 'new page cache joins the oldest generation');
  const seen: [refs: number, tier: number][] = [];
  for (let reads = 0; reads <= 6; reads++) {
    if (reads > 0) p.read(f, 1);
    seen.push([folioLruRefs(f), folioTier(f)]);
  }
  // 0 and 1 access: tier 0; 2: tier 1; 3 and 4: tier 2; a 5th saturates the counter: PG_workingset, tier 3
  assert.deepEqual(seen, [
    [0, 0],
    [1, 0],
    [2, 1],
    [3, 2],
    [4, 2],
    [4, 3],
    [4, 3],
  ]);
  assert.ok(f.flags & PG.workingset);
  assert.equal(f.lruGen, g.minSeq % MAX_NR_GENS, 'accesses never move a folio between generations');
  assert.equal(m.k.stat.pgactivate, 0);
});

test('aging makes a new generation when only MIN_NR_GENS (+1 below DEF_PRIORITY) are left; eviction retires empty ones', () => {
  const m = bootMachine(mglruMachine(256 * MiB), 1);
  const g = lrugen(m);
  const p = new Pages(m);
  // lru_gen_init_lruvec: four generations, max_seq 3
  assert.deepEqual([g.minSeq, g.maxSeq], [0, 3]);
  const cold = p.range(0, 200, 1);
  // one pass scans what its priority allows: 192 in three batches, then 8 left to scan is done
  assert.equal(reclaim(m, 200).nrReclaimed, 192);
  assert.equal(reclaim(m, 8).nrReclaimed, 8);
  assert.equal(p.resident(cold), 0);
  // the emptied generations are retired, down to MIN_NR_GENS: eviction stops there
  assert.deepEqual([g.minSeq, g.maxSeq, g.nrGens], [2, 3, MIN_NR_GENS]);
  const more = p.range(1000, 10, 1);
  assert.equal(reclaim(m, 10).nrReclaimed, 0, 'two generations: nothing evictable, aging first');
  assert.deepEqual([g.minSeq, g.maxSeq], [2, 4]);
  assert.equal(reclaim(m, 10).nrReclaimed, 0, 'three generations (below DEF_PRIORITY): aging is due');
  assert.deepEqual([g.minSeq, g.maxSeq], [2, 5]);
  assert.equal(reclaim(m, 10).nrReclaimed, 10, 'four generations: the oldest is evicted');
  assert.equal(p.resident(more), 0);
  assert.deepEqual([g.minSeq, g.maxSeq], [4, 5], 'and the empty ones after it retired');
  // at MAX_NR_GENS aging folds the oldest generation into the next one (inc_min_seq)
  const kept = p.range(2000, 5, 1);
  incMaxSeq(g);
  incMaxSeq(g);
  assert.equal(g.nrGens, MAX_NR_GENS);
  incMaxSeq(g);
  assert.deepEqual([g.minSeq, g.maxSeq, g.nrGens], [5, 8, MAX_NR_GENS]);
  for (const i of kept) assert.equal(p.folio(i).lruGen, g.minSeq % MAX_NR_GENS);
  assert.equal(g.size(g.minSeq), 5);
});

test('eviction takes the oldest generation first; a hot set with saturated refs moves up a generation', () => {
  const m = bootMachine(mglruMachine(256 * MiB), 1);
  const g = lrugen(m);
  const p = new Pages(m);
  const hot = p.range(0, 64, 5); // read 5 times: refs saturated, PG_workingset
  const cold1 = p.range(100, 200, 1);
  // the hot folios are the oldest of generation 0, but sort_folio protects them
  const isolates: number[] = [];
  attach(m, 'tracepoint:vmscan:mm_vmscan_lru_isolate', (h) => isolates.push(Number(h.fields.nr_taken)));
  assert.equal(reclaim(m, 64).nrReclaimed, 64);
  assert.equal(p.resident(hot), 64);
  for (const i of hot) assert.equal(p.folio(i).lruGen, 1, 'moved to min_seq + 1');
  assert.equal(m.k.stat.pgrefill, 64, 'moving them counts as PGREFILL');
  assert.deepEqual(isolates, [64]);
  assert.equal(p.resident(cold1), 136, 'the oldest 64 cold folios went');
  for (let i = 0; i < 64; i++) assert.ok(p.mapping.shadows.has(100 + i), `index ${100 + i} evicted`);
  // newer folios join generation 0 behind the rest of the cold ones; generation 1 waits
  const cold2 = p.range(1000, 64, 1);
  assert.equal(reclaim(m, 128).nrReclaimed, 128);
  assert.deepEqual([p.resident(cold1), p.resident(cold2)], [8, 64]);
  assert.equal(reclaim(m, 64).nrReclaimed, 64);
  assert.deepEqual([p.resident(cold1), p.resident(cold2)], [0, 8]);
  assert.equal(p.resident(hot), 64, 'generation 1 untouched while generation 0 had folios');
  // generation 0 drains and is retired (aging follows: three generations left); the hot folios,
  // not read since they were protected, are the oldest now and go in their turn
  assert.equal(reclaim(m, 72).nrReclaimed, 8);
  assert.deepEqual([g.minSeq, g.maxSeq], [1, 4]);
  assert.equal(reclaim(m, 64).nrReclaimed, 64);
  assert.deepEqual([p.resident(cold2), p.resident(hot)], [0, 0]);
});

test('the PID controller protects tier 1 once folios read twice refault more than folios read once', () => {
  const run = (refault: boolean): { twiceResident: number; protectedTier1: number; tierIdx: number } => {
    const m = bootMachine(mglruMachine(256 * MiB), 1);
    const g = lrugen(m);
    const p = new Pages(m);
    // round 1: 128 folios read twice (tier 1) and 128 read once (tier 0), all evicted: no tier is protected yet
    p.range(0, 128, 2);
    p.range(1000, 128, 1);
    assert.equal(getTierIdx(g), MAX_NR_GENS - 1);
    assert.equal(reclaimAll(m, 256), 256);
    // retiring generation 0 halved its counts into the averages; its last batch was reclaimed after
    // (try_to_inc_min_seq runs before shrink_folio_list) and counts in the new window
    assert.deepEqual([g.avgTotal[0], g.evicted[0], g.avgTotal[1], g.evicted[1]], [32, 64, 64, 0]);
    // the twice-read folios are read again soon: recent refaults of tier 1
    if (refault) for (let i = 0; i < 128; i++) p.add(i);
    assert.deepEqual(g.refaulted, refault ? [0, 128, 0, 0] : [0, 0, 0, 0]);
    // round 2: the same pattern on folios in the cache now; age to four generations, then evict
    // (without refaults: new folios, at indices with no shadows)
    const twice = refault ? [...p.mapping.pages.keys()] : p.range(5000, 128, 0);
    for (const i of twice) p.read(p.folio(i), 2);
    p.range(2000, 128, 1);
    reclaim(m, 1);
    reclaim(m, 1);
    assert.equal(g.nrGens, MAX_NR_GENS);
    const tierIdx = getTierIdx(g);
    reclaimAll(m, 128);
    // folios protected by their tier move up a generation (PGREFILL)
    return { twiceResident: p.resident(twice), protectedTier1: m.k.stat.pgrefill, tierIdx };
  };
  const protectedRun = run(true);
  // tier 1: 128 refaults over 64 (averaged) evictions, tier 0: none: tier 1 is protected
  assert.equal(protectedRun.tierIdx, 0);
  assert.equal(protectedRun.twiceResident, 128, 'read twice and refaulting: kept');
  assert.equal(protectedRun.protectedTier1, 128);
  const plainRun = run(false);
  assert.equal(plainRun.tierIdx, MAX_NR_GENS - 1, 'no refaults: every tier may be evicted');
  assert.equal(plainRun.protectedTier1, 0);
  assert.equal(plainRun.twiceResident, 0, 'read twice but never refaulting: evicted in order like the rest');
});

test('lru_gen_refault: a refault within MAX_NR_GENS generations counts against its tier and restores PG_workingset; an older one only counts', () => {
  const m = bootMachine(mglruMachine(256 * MiB), 1);
  const g = lrugen(m);
  const p = new Pages(m);
  p.range(0, 64, 5); // working set
  p.range(100, 64, 2); // tier 1
  // sort_folio would protect the saturated working set: clear its refs so it is evicted as tier 3
  for (let i = 0; i < 64; i++) p.mapping.pages.get(i)!.flags &= ~PG.referenced;
  assert.equal(reclaimAll(m, 128), 128);
  assert.deepEqual(g.evicted.map((n, tier) => n + g.avgTotal[tier]! * 2), [0, 64, 0, 64], 'evicted per tier (tier 1 and the working set)');
  const ws = p.add(0);
  assert.ok(ws.flags & PG.workingset, 'a working-set refault is a restore');
  const twice = p.add(100);
  assert.equal(twice.flags & PG.workingset, 0);
  p.read(twice, 1);
  assert.equal(folioLruRefs(twice), 1, 'its refs were given back, counted from its next access');
  assert.deepEqual(g.refaulted, [0, 1, 0, 1]);
  assert.deepEqual([m.k.stat.workingsetRefaultFile, m.k.stat.workingsetRestoreFile, m.k.stat.workingsetActivateFile], [2, 1, 0]);
  // four generations later the shadows are too old to count against a tier or restore anything
  for (let i = 0; i < MAX_NR_GENS; i++) incMaxSeq(g);
  const refaulted = [...g.refaulted];
  assert.equal(p.add(1).flags & PG.workingset, 0);
  p.add(101);
  assert.deepEqual(g.refaulted, refaulted);
  assert.deepEqual([m.k.stat.workingsetRefaultFile, m.k.stat.workingsetRestoreFile], [4, 1]);
});

test('a one-pass scan of twice the memory does not evict a hot set that is read again and again', () => {
  const m = bootMachine(mglruMachine(16 * MiB), 1);
  const hot = jobSpec({ name: 'hot', filename: '/mnt/nvme/hot', rw: 'randread', bs: 4096, size: 1 * MiB, timeBased: true, runtimeNs: 60_000_000 });
  const scan = jobSpec({ name: 'scan', filename: '/mnt/nvme/scan', rw: 'read', bs: 128 * 1024, size: 32 * MiB, startdelayNs: 20_000_000 });
  layoutJobFiles(m, [hot, scan]);
  const hotAdds = new Map<number, number>();
  attach(m, 'tracepoint:filemap:mm_filemap_add_to_page_cache', (h) => {
    if (h.comm === 'hot') hotAdds.set(Number(h.fields.index), (hotAdds.get(Number(h.fields.index)) ?? 0) + 1);
  });
  m.startJobs([hot, scan], 100_000_000);
  m.run(100_000_000);
  assert.ok(m.allJobsDone);
  const k = m.k.stat;
  assert.ok(k.pgstealKswapd + k.pgstealDirect > (16 * MiB) / 4096, `the scan went through memory: ${k.pgstealKswapd + k.pgstealDirect} reclaimed`);
  assert.equal(hotAdds.size, MiB / 4096, 'the hot set was read whole');
  assert.equal([...hotAdds.values()].filter((n) => n > 1).length, 0, 'no hot page refaulted');
  assert.equal(k.workingsetRefaultFile, 0);
  assert.ok(k.pgrefill >= MiB / 4096, `the hot set was moved up generations: pgrefill=${k.pgrefill}`);
});

test('each memory cgroup has generations of its own: memory.min keeps a group whole, memory.max reclaims only from its own', () => {
  const m = bootMachine(mglruMachine(256 * MiB), 1);
  const node = m.k.mm.node(0);
  const unlimited = Number.MAX_SAFE_INTEGER;
  const kept = m.k.mm.createMemcg('kept', { minPages: 100, lowPages: 0, highPages: unlimited, maxPages: unlimited });
  const capped = m.k.mm.createMemcg('capped', { minPages: 0, lowPages: 0, highPages: unlimited, maxPages: 40 });
  const keptGen = kept.lruvecs[0]!.lrugen;
  assert.ok(keptGen && capped.lruvecs[0]!.lrugen, 'lru_gen_init_lruvec ran for each group');
  assert.notEqual(keptGen, lrugen(m));
  const idle = m.k.sched.cpu(0).current;
  const p = new Pages(m);
  idle.memcg = kept; // folios allocated now are charged to the group
  const keptPages = p.range(0, 50, 0);
  idle.memcg = undefined;
  const rootPages = p.range(1000, 128, 0);
  assert.equal(keptGen.nrPages, 50);
  assert.equal(lrugen(m).nrPages, 128);
  // reclaim ages and evicts the root's generations and passes the group within memory.min over, even
  // when nothing else is left
  let rounds = 0;
  while (lrugen(m).nrPages > 0 && rounds++ < 20) tryToFreePages(m.k, node, m.k.sched.cpu(0), 0);
  assert.equal(p.resident(rootPages), 0);
  assert.equal(tryToFreePages(m.k, node, m.k.sched.cpu(0), 0), 0);
  assert.equal(p.resident(keptPages), 50);
  assert.equal(kept.usagePages, 50);
  // a group at memory.max evicts its own oldest generation to charge a new folio; the others keep theirs
  const more = p.range(2000, 16, 0);
  idle.memcg = capped;
  const cappedPages = p.range(3000, 200, 0);
  idle.memcg = undefined;
  assert.ok(capped.usagePages <= 40, `usage ${capped.usagePages} <= max 40`);
  assert.equal(capped.eventsMax, 0, 'reclaim always freed room: no failed charge');
  assert.ok(p.resident(cappedPages.slice(-8)) === 8 && p.resident(cappedPages.slice(0, 8)) === 0, 'the oldest went first');
  assert.equal(p.resident(more), 16);
  assert.equal(p.resident(keptPages), 50);
});

test('machine.vm.lru_gen turns MGLRU on (the same as "lru": "mglru"); contradictions and non-booleans are clear errors', () => {
  const scenario = (vm: unknown): unknown => ({
    name: 'v',
    duration: '1ms',
    machine: { memory: '256m', devices: [{ name: 'nvme0n1', type: 'nvme', mount: '/mnt/nvme' }], vm },
    jobs: [{ name: 'r', filename: '/mnt/nvme/f', size: '4k' }],
  });
  for (const vm of [{ lru_gen: true }, { lru: 'mglru' }, { lru: 'mglru', lru_gen: true }]) {
    const ok = parseScenario(scenario(vm), 'v.json');
    assert.ok(ok.ok, JSON.stringify(vm));
    assert.deepEqual(ok.scenario.machine.vm, { ...DEFAULT_VM, lru: 'mglru' });
    assert.equal(bootMachine(ok.scenario.machine, 1).k.mm.node(0).lruvec.ops.name, 'mglru');
  }
  // next to memory cgroups: each group's lruvec runs MGLRU
  const withGroups = parseScenario({ ...(scenario({ lru_gen: true }) as object), machine: { memory: '256m', vm: { lru_gen: true }, cgroups: { g: { 'memory.low': '16m' } } } }, 'v.json');
  assert.ok(withGroups.ok, withGroups.ok ? '' : withGroups.diagnostics.map(renderDiagnostic).join('\n'));
  assert.deepEqual(withGroups.scenario.machine.vm, { ...DEFAULT_VM, lru: 'mglru' });
  assert.ok(bootMachine(withGroups.scenario.machine, 1).k.mm.memcgByName('g')?.lruvecs[0]!.lrugen, "the group's lruvec has generations");
  const off = parseScenario(scenario({ lru_gen: false }), 'v.json');
  assert.ok(off.ok);
  assert.deepEqual(off.scenario.machine.vm, DEFAULT_VM);
  const messages = (vm: unknown): string => {
    const r = parseScenario(scenario(vm), 'v.json');
    assert.equal(r.ok, false);
    return r.ok ? '' : r.diagnostics.map(renderDiagnostic).join('\n');
  };
  assert.equal(
    messages({ lru: 'two-list', lru_gen: true }),
    'v.json: machine.vm.lru_gen: is true but machine.vm.lru is "two-list": "lru_gen": true means "lru": "mglru"; keep one of the two',
  );
  assert.equal(messages({ lru: 'mglru', lru_gen: false }), 'v.json: machine.vm.lru_gen: is false but machine.vm.lru is "mglru": "lru_gen": true means "lru": "mglru"; keep one of the two');
  assert.equal(messages({ lru_gen: 'yes' }), 'v.json: machine.vm.lru_gen: must be true (MGLRU) or false (got "yes")');
});
