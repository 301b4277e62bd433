// Models: the multi-gen LRU (CONFIG_LRU_GEN; Documentation/mm/multigen_lru.rst) as mm/vmscan.c,
// include/linux/mm_inline.h, mm/swap.c and mm/workingset.c implement it since Linux 6.14 (the
// reworked tiers): each lruvec keeps generations min_seq..max_seq (MIN_NR_GENS 2 to MAX_NR_GENS 4),
// one list each; a folio's generation is in the folio (folio_lru_gen). New page-cache folios join
// the oldest generation there is room for (lru_gen_folio_seq: max_seq - 3, or min_seq). Accesses
// (folio_mark_accessed, from read() and here from faults too) only count, in the flags
// (lru_gen_inc_refs: PG_referenced, then the LRU_REFS counter, then PG_workingset): a folio accessed
// N times is in tier order_base_2(N) of its generation, the last tier when PG_workingset is set. Eviction (evict_folios) takes the oldest generation from its
// tail: sort_folio keeps folios of tiers the PID controller protects (and saturated working-set
// folios) by moving them one generation up (folio_inc_gen), sends dirty and writeback folios on
// (PG_reclaim), and isolates the rest for shrink_folio_list; an empty oldest generation is retired
// (try_to_inc_min_seq). Aging (inc_max_seq) makes a new youngest generation when only
// MIN_NR_GENS are left, or MIN_NR_GENS + 1 below DEF_PRIORITY. The PID controller (get_tier_idx)
// compares each tier's refaulted / (evicted + protected) with tier 0's, gains 3:2, over the
// generation being evicted plus a moving average of the earlier ones (reset_ctrl_pos halves it per
// retired generation). An evicted folio's shadow holds min_seq and its refs (lru_gen_eviction); a
// refault within MAX_NR_GENS generations of max_seq counts against its tier and gives the folio back
// its refs, or PG_workingset (lru_gen_refault).
// SIMPLIFICATION: file folios only (no anon generations: these machines have no swap, and
// get_type_to_scan picks file with swappiness 0 anyway); aging does not walk page tables
// (no accessed bits, Bloom filters or lru_gen_look_around), so a mapped folio is taken as referenced
// on every eviction scan, as in the two-list LRU; no lru_gen_in_fault: folios faulted in through a
// mapping start where read() ones do, and refaults never count WORKINGSET_ACTIVATE_FILE.
// Each memory cgroup's lruvec has its own generations (lru_gen_init_lruvec from the Lruvec's
// constructor); reclaim scans a group's share less its memory.min/low protection as the two-list
// LRU does (get_nr_to_scan's apply_proportional_protection), and reclaim for one group (memory.high,
// memory.max) is not cut short once it has its folios (should_abort_scan's fairness).
// SIMPLIFICATION: no min_ttl_ms (lru_gen_age_node's OOM kill) and no memcg LRU (shrink_many's
// generations of groups, lru_gen_rotate_memcg): shrink_node visits the groups' lruvecs in turn, root
// first, as shrink_node_memcgs does without MGLRU, passing over protected ones the same way; the
// flushers are not woken when all the oldest generation offers is dirty (try_to_shrink_lruvec's
// wakeup_flusher_threads).

import type { Kernel } from '../kernel/kernel.js';
import { LRU_REFS_MASK, LRU_REFS_PGOFF, LRU_REFS_WIDTH, PG, type Folio } from './mm_types.js';
import { packShadow, unpackShadow, EVICTION_SPAN, type Shadow } from './workingset.js';
import {
  countScan,
  countSteal,
  DEF_PRIORITY,
  evictFolio,
  FolioList,
  ISOLATE_MODE,
  LRU,
  LRU_POLICIES,
  RECLAIM_FREE_FOLIO_NS,
  RECLAIM_SCAN_FOLIO_NS,
  RECLAIM_WB_FILE_ASYNC,
  scanCount,
  ZONE_NORMAL,
  type LruOps,
  type Lruvec,
  type ScanControl,
} from './vmscan.js';

/** Generations per lruvec: the two youngest are "active", so at least two are never evicted. */
export const MIN_NR_GENS = 2;
export const MAX_NR_GENS = 4;
/** Tiers per generation: order_base_2 of fd accesses 0-1, 2, 3-4, and PG_workingset. */
export const MAX_NR_TIERS = 4;
/** MIN_LRU_BATCH (BITS_PER_LONG): folios isolated per eviction batch, and the refaults a tier needs before the PID controller trusts its rate. */
export const MIN_LRU_BATCH = 64;
/** MAX_LRU_BATCH: folios one scan_folios call looks at, at most. */
const MAX_LRU_BATCH = MIN_LRU_BATCH * 64;
/** LRU_REFS_FLAGS: what folio_inc_gen clears when it protects a folio (the refs counter and PG_referenced). */
const LRU_REFS_FLAGS = LRU_REFS_MASK | PG.referenced;
/** refs + workingset of a folio whose refs counter saturated again after it was in the working set. */
const LAZILY_PROMOTED = (1 << LRU_REFS_WIDTH) + 1;
/** The shadow's eviction field holds (min_seq << LRU_REFS_WIDTH | refs - 1); seqs compare within its span. */
const SHADOW_SEQ_SPAN = EVICTION_SPAN / (1 << LRU_REFS_WIDTH);

/** order_base_2: ceil(log2(n)), 0 for 0 and 1. */
function orderBase2(n: number): number {
  return n <= 1 ? 0 : 32 - Math.clz32(n - 1);
}

/** fls_long: the 1-based index of the highest set bit, 0 for 0. */
function fls(n: number): number {
  return n <= 0 ? 0 : Math.floor(Math.log2(n)) + 1;
}

/** folio_lru_refs: fd accesses so far (0 without PG_referenced; then 1 + the LRU_REFS counter). */
export function folioLruRefs(f: Folio): number {
  if (!(f.flags & PG.referenced)) return 0;
  return ((f.flags & LRU_REFS_MASK) >>> LRU_REFS_PGOFF) + 1;
}

/** lru_tier_from_refs: the last tier for the working set, else order_base_2(refs). */
export function lruTierFromRefs(refs: number, workingset: boolean): number {
  return workingset ? MAX_NR_TIERS - 1 : orderBase2(refs);
}

/** The tier `f` is in now. */
export function folioTier(f: Folio): number {
  return lruTierFromRefs(folioLruRefs(f), (f.flags & PG.workingset) !== 0);
}

/** lru_gen_from_seq */
function genFromSeq(seq: number): number {
  return seq % MAX_NR_GENS;
}

/**
 * struct lru_gen_folio: the generations of one lruvec (file type only) and the PID controller's
 * counters per tier (NR_HIST_GENS is 1 without CONFIG_LRU_GEN_STATS: one set, for the generation
 * being evicted).
 */
export class LruGenFolio {
  /** The youngest generation's sequence number; the oldest's is minSeq. lru_gen_init_lruvec starts with four. */
  maxSeq = MIN_NR_GENS + 1;
  minSeq = 0;
  /** folios[gen]: head youngest, the tail is evicted first. */
  readonly folios: readonly FolioList[] = Array.from({ length: MAX_NR_GENS }, () => new FolioList());
  /** Refaults and evictions (and protections) of each tier since min_seq last moved. */
  readonly refaulted = new Array<number>(MAX_NR_TIERS).fill(0);
  readonly evicted = new Array<number>(MAX_NR_TIERS).fill(0);
  readonly protectedPages = new Array<number>(MAX_NR_TIERS).fill(0);
  /** The PID controller's I term: the moving averages of the retired generations' counts. */
  readonly avgRefaulted = new Array<number>(MAX_NR_TIERS).fill(0);
  readonly avgTotal = new Array<number>(MAX_NR_TIERS).fill(0);

  /** get_nr_gens */
  get nrGens(): number {
    return this.maxSeq - this.minSeq + 1;
  }

  /** Folios in generation `seq`. */
  size(seq: number): number {
    return this.folios[genFromSeq(seq)]!.size;
  }

  get nrPages(): number {
    let n = 0;
    for (const list of this.folios) n += list.size;
    return n;
  }

  /** lru_gen_is_active: the two youngest generations count as NR_ACTIVE_FILE. */
  get nrActive(): number {
    return this.size(this.maxSeq) + this.size(this.maxSeq - 1);
  }

  get nrInactive(): number {
    return this.nrPages - this.nrActive;
  }
}

/** One more folio in a per-tier counter. */
function count(perTier: number[], tier: number): void {
  perTier[tier] = perTier[tier]! + 1;
}

function lrugenOf(lruvec: Lruvec): LruGenFolio {
  return lruvec.lrugen!;
}

/**
 * lru_gen_folio_seq: where a folio goes on the LRU. Promoted folios (PG_active, set while
 * isolated) to the youngest or next generation; reclaim's rotations to the oldest; dirty folios
 * reclaim is waiting on to max_seq - 1; everything else (new page cache) three generations below
 * max_seq, one higher if it was part of the working set, and never below min_seq.
 */
export function lruGenFolioSeq(lrugen: LruGenFolio, f: Folio, reclaiming: boolean): number {
  const workingset = f.flags & PG.workingset ? 1 : 0;
  let gen: number;
  if (f.flags & PG.active) gen = MIN_NR_GENS - workingset;
  else if (reclaiming) gen = MAX_NR_GENS;
  else if (f.flags & PG.reclaim && f.flags & (PG.dirty | PG.writeback)) gen = MIN_NR_GENS;
  else gen = MAX_NR_GENS - workingset;
  return Math.max(lrugen.maxSeq - gen + 1, lrugen.minSeq);
}

/** lru_gen_add_folio: at the head of its generation, or the tail when reclaim rotates it. PG_active is consumed. */
function lruGenAddFolio(lrugen: LruGenFolio, f: Folio, reclaiming: boolean): void {
  const gen = genFromSeq(lruGenFolioSeq(lrugen, f, reclaiming));
  f.lruGen = gen;
  f.flags = (f.flags & ~PG.active) | PG.lru;
  if (reclaiming) lrugen.folios[gen]!.addTail(f);
  else lrugen.folios[gen]!.addHead(f);
}

/** lru_gen_del_folio */
function lruGenDelFolio(lrugen: LruGenFolio, f: Folio): void {
  lrugen.folios[f.lruGen]!.remove(f);
  f.lruGen = -1;
}

/**
 * folio_inc_gen: a folio of the oldest generation moves to the next one (its head, or its tail to
 * keep an order), its fd references spent (PG_workingset stays); PG_reclaim when reclaim waits on its
 * writeback.
 */
function folioIncGen(lrugen: LruGenFolio, f: Folio, reclaiming: boolean, toTail: boolean): void {
  const oldGen = genFromSeq(lrugen.minSeq);
  const newGen = (oldGen + 1) % MAX_NR_GENS;
  f.flags &= ~LRU_REFS_FLAGS;
  if (reclaiming) f.flags |= PG.reclaim;
  lrugen.folios[f.lruGen]!.remove(f);
  f.lruGen = newGen;
  if (toTail) lrugen.folios[newGen]!.addTail(f);
  else lrugen.folios[newGen]!.addHead(f);
}

/** struct ctrl_pos: one side of the PID controller (reused: reclaim runs to completion). */
interface CtrlPos {
  refaulted: number;
  total: number;
  gain: number;
}
const sp: CtrlPos = { refaulted: 0, total: 0, gain: 0 };
const pv: CtrlPos = { refaulted: 0, total: 0, gain: 0 };

/** read_ctrl_pos: tier `tier`'s refaults and total (evicted + protected), averages included; MAX_NR_TIERS sums all tiers. */
function readCtrlPos(lrugen: LruGenFolio, tier: number, gain: number, pos: CtrlPos): void {
  pos.gain = gain;
  pos.refaulted = 0;
  pos.total = 0;
  for (let i = tier % MAX_NR_TIERS; i <= Math.min(tier, MAX_NR_TIERS - 1); i++) {
    pos.refaulted += lrugen.avgRefaulted[i]! + lrugen.refaulted[i]!;
    pos.total += lrugen.avgTotal[i]! + lrugen.protectedPages[i]! + lrugen.evicted[i]!;
  }
}

/** reset_ctrl_pos(carryover): min_seq moved on; the counts fold into the moving averages (halved) and restart. */
function resetCtrlPos(lrugen: LruGenFolio): void {
  for (let tier = 0; tier < MAX_NR_TIERS; tier++) {
    lrugen.avgRefaulted[tier] = Math.floor((lrugen.avgRefaulted[tier]! + lrugen.refaulted[tier]!) / 2);
    lrugen.avgTotal[tier] = Math.floor((lrugen.avgTotal[tier]! + lrugen.protectedPages[tier]! + lrugen.evicted[tier]!) / 2);
    lrugen.refaulted[tier] = 0;
    lrugen.evicted[tier] = 0;
    lrugen.protectedPages[tier] = 0;
  }
}

/**
 * positive_ctrl_err: the process variable (a tier) refaults no more than the setpoint (tier 0)
 * relative to their gains, or has too few refaults to tell.
 */
function positiveCtrlErr(setpoint: CtrlPos, variable: CtrlPos): boolean {
  return (
    variable.refaulted < MIN_LRU_BATCH ||
    variable.refaulted * (setpoint.total + MIN_LRU_BATCH) * setpoint.gain <= (setpoint.refaulted + 1) * variable.total * variable.gain
  );
}

/**
 * get_tier_idx: the highest tier eviction may take. Tiers above the first whose refault rate
 * exceeds tier 0's (tier 0 weighted 2, the other 3: a margin for fluctuations) are protected.
 */
export function getTierIdx(lrugen: LruGenFolio): number {
  readCtrlPos(lrugen, 0, 2, sp);
  let tier = 1;
  for (; tier < MAX_NR_TIERS; tier++) {
    readCtrlPos(lrugen, tier, 3, pv);
    if (!positiveCtrlErr(sp, pv)) break;
  }
  return tier - 1;
}

/** inc_min_seq: the oldest generation's folios move up a generation (protected) and min_seq moves on. Returns the folios moved. */
function incMinSeq(lrugen: LruGenFolio): number {
  const old = lrugen.folios[genFromSeq(lrugen.minSeq)]!;
  let moved = 0;
  while (old.tail) {
    const f = old.tail;
    const refs = folioLruRefs(f);
    const workingset = (f.flags & PG.workingset) !== 0;
    // older than anything there: to the tail of the next generation
    folioIncGen(lrugen, f, false, true);
    // the working set being lazily promoted is not counted
    if (refs + (workingset ? 1 : 0) !== LAZILY_PROMOTED) count(lrugen.protectedPages, lruTierFromRefs(refs, workingset));
    moved++;
  }
  resetCtrlPos(lrugen);
  lrugen.minSeq++;
  return moved;
}

/** try_to_inc_min_seq: retire empty oldest generations (never below MIN_NR_GENS). */
function tryToIncMinSeq(lrugen: LruGenFolio): boolean {
  let seq = lrugen.minSeq;
  while (seq + MIN_NR_GENS <= lrugen.maxSeq && lrugen.size(seq) === 0) seq++;
  if (seq === lrugen.minSeq) return false;
  resetCtrlPos(lrugen);
  lrugen.minSeq = seq;
  return true;
}

/**
 * inc_max_seq (what try_to_inc_max_seq does once the page tables are walked): a new, empty youngest
 * generation; with MAX_NR_GENS already, the oldest is folded into the next first. Returns the
 * folios that had to move.
 */
export function incMaxSeq(lrugen: LruGenFolio): number {
  const moved = lrugen.nrGens === MAX_NR_GENS ? incMinSeq(lrugen) : 0;
  lrugen.maxSeq++;
  return moved;
}

/** struct reclaim_stat of one shrink_folio_list (reused). */
const stat = { nrDirty: 0, nrWriteback: 0, nrImmediate: 0, nrActivate: 0, nrRefKeep: 0, nrUnmapFail: 0 };

/** The batch isolated by scan_folios (reused: evictions run one at a time, to completion). */
const isolated: Folio[] = [];

/**
 * sort_folio: decides about a folio at the oldest end without isolating it. Returns true when it
 * stays on the LRU: protected by its tier (or as working set whose refs saturated again), or dirty
 * or under writeback (on to the next generation with PG_reclaim: the flushers write it).
 */
function sortFolio(lrugen: LruGenFolio, f: Folio, tierIdx: number): boolean {
  const refs = folioLruRefs(f);
  const workingset = (f.flags & PG.workingset) !== 0;
  const tier = lruTierFromRefs(refs, workingset);
  const lazilyPromoted = refs + (workingset ? 1 : 0) === LAZILY_PROMOTED;
  if (tier > tierIdx || lazilyPromoted) {
    folioIncGen(lrugen, f, false, false);
    if (!lazilyPromoted) count(lrugen.protectedPages, tier);
    return true;
  }
  if (f.flags & (PG.writeback | PG.dirty)) {
    folioIncGen(lrugen, f, true, false);
    return true;
  }
  return false;
}

/** isolate_folio: off the LRU for shrink_folio_list; an unreferenced folio's refs counter is dropped. */
function isolateFolio(lrugen: LruGenFolio, f: Folio): void {
  if (!(f.flags & PG.referenced)) f.flags &= ~LRU_REFS_MASK;
  f.flags &= ~(PG.reclaim | PG.lru);
  lruGenDelFolio(lrugen, f);
}

/**
 * scan_folios: walk the oldest generation from its tail, sorting and isolating, until MIN_LRU_BATCH
 * folios are isolated or `nrToScan` (at most MAX_LRU_BATCH) were looked at. Returns the folios
 * looked at, or 0 if none could be isolated and the generation ran out (no progress).
 */
function scanFolios(k: Kernel, lruvec: Lruvec, sc: ScanControl, nrToScan: number, tierIdx: number): number {
  const lrugen = lrugenOf(lruvec);
  isolated.length = 0;
  if (lrugen.nrGens === MIN_NR_GENS) return 0;
  const list = lrugen.folios[genFromSeq(lrugen.minSeq)]!;
  const scanBatch = Math.min(nrToScan, MAX_LRU_BATCH);
  let remaining = scanBatch;
  let scanned = 0;
  let sorted = 0;
  for (let f = list.tail; f !== undefined; f = list.tail) {
    scanned++;
    if (sortFolio(lrugen, f, tierIdx)) sorted++;
    else {
      isolateFolio(lrugen, f);
      isolated.push(f);
    }
    if (--remaining === 0 || isolated.length >= MIN_LRU_BATCH) break;
  }
  countScan(k, sc, isolated.length);
  // protected folios moved between generations count as PGREFILL, as folios deactivated do
  k.stat.pgrefill += sorted;
  sc.costNs += scanned * RECLAIM_SCAN_FOLIO_NS;
  if (k.tp.mm_vmscan_lru_isolate.enabled) k.tp.mm_vmscan_lru_isolate.emit(sc.ctx, sc.ioId, ZONE_NORMAL, 0, scanBatch, scanned, 0, isolated.length, ISOLATE_MODE, LRU.INACTIVE_FILE);
  return isolated.length > 0 || remaining === 0 ? scanned : 0;
}

/** lru_gen_eviction: the shadow of an evicted folio (min_seq and its refs), counted against its tier. */
export function lruGenEviction(lruvec: Lruvec, f: Folio): Shadow {
  const lrugen = lrugenOf(lruvec);
  const refs = folioLruRefs(f);
  const workingset = (f.flags & PG.workingset) !== 0;
  count(lrugen.evicted, lruTierFromRefs(refs, workingset));
  const token = lrugen.minSeq * (1 << LRU_REFS_WIDTH) + Math.max(refs - 1, 0);
  return packShadow(token, lruvec.memcgId, lruvec.pgdat.nodeId, workingset);
}

/**
 * lru_gen_set_refs for a mapped folio seen young (always, here): the first time PG_referenced
 * (keep it), after that the working set (activate: back to the youngest generation).
 */
function lruGenSetRefs(f: Folio): boolean {
  if (!(f.flags & (PG.referenced | PG.workingset))) {
    f.flags = (f.flags & ~LRU_REFS_MASK) | PG.referenced;
    return false;
  }
  f.flags = (f.flags & ~LRU_REFS_FLAGS) | PG.workingset;
  return true;
}

/**
 * evict_folios: isolate a batch from the oldest generation, retire it if that emptied it, and
 * reclaim the batch (shrink_folio_list); folios that could not go back on the LRU, never to the
 * oldest generation. Returns the folios scanned (0: no progress possible).
 */
function evictFolios(k: Kernel, lruvec: Lruvec, sc: ScanControl, nrToScan: number): number {
  const lrugen = lrugenOf(lruvec);
  let scanned = scanFolios(k, lruvec, sc, nrToScan, getTierIdx(lrugen));
  if (tryToIncMinSeq(lrugen)) scanned++;
  if (lrugen.minSeq + MIN_NR_GENS > lrugen.maxSeq) scanned = 0;
  const taken = isolated.length;
  if (taken === 0) return scanned;
  stat.nrDirty = stat.nrWriteback = stat.nrImmediate = stat.nrActivate = stat.nrRefKeep = stat.nrUnmapFail = 0;
  let reclaimed = 0;
  let kept = 0;
  for (let i = 0; i < taken; i++) {
    const f = isolated[i]!;
    if (f.flags & PG.locked) {
      // folio_trylock failed (a read is filling it)
      isolated[kept++] = f;
      continue;
    }
    if (f.mapcount > 0) {
      // lru_gen_folio_check_references
      if (lruGenSetRefs(f)) {
        f.flags |= PG.active;
        stat.nrActivate++;
        k.stat.pgactivate++;
      } else stat.nrRefKeep++;
      isolated[kept++] = f;
      continue;
    }
    if (f.refs > 0 || f.flags & (PG.dirty | PG.writeback)) {
      // __remove_mapping's refcount freeze (or the dirty test) fails
      isolated[kept++] = f;
      continue;
    }
    evictFolio(k, lruvec, f, sc, lruGenEviction(lruvec, f));
    reclaimed++;
  }
  sc.nrScanned += taken;
  sc.nrReclaimed += reclaimed;
  sc.costNs += reclaimed * RECLAIM_FREE_FOLIO_NS;
  countSteal(k, sc, reclaimed);
  if (k.tp.mm_vmscan_lru_shrink_inactive.enabled) {
    k.tp.mm_vmscan_lru_shrink_inactive.emit(sc.ctx, sc.ioId, lruvec.pgdat.nodeId, scanned, reclaimed, stat.nrDirty, stat.nrWriteback, stat.nrImmediate, stat.nrActivate, stat.nrRefKeep, stat.nrUnmapFail, sc.priority, RECLAIM_WB_FILE_ASYNC);
  }
  // move_folios_to_lru (no retry of clean rejects: nothing can race with reclaim here)
  for (let i = 0; i < kept; i++) {
    const f = isolated[i]!;
    // don't add rejected folios to the oldest generation
    if (lruGenFolioSeq(lrugen, f, false) === lrugen.minSeq) f.flags = (f.flags & ~LRU_REFS_FLAGS) | PG.active;
    lruGenAddFolio(lrugen, f, false);
  }
  isolated.length = 0;
  return scanned;
}

/**
 * should_run_aging and get_nr_to_scan: how much of the lruvec to scan at this priority. With only
 * MIN_NR_GENS generations eviction is impossible; with one more, aging is due. Below DEF_PRIORITY
 * due aging runs instead of eviction (-1: this lruvec is done for the pass).
 */
function getNrToScan(lruvec: Lruvec, sc: ScanControl): number {
  const lrugen = lrugenOf(lruvec);
  let nrToScan = 0;
  let aging = true;
  if (lrugen.minSeq + MIN_NR_GENS <= lrugen.maxSeq) {
    nrToScan = lrugen.nrPages;
    aging = lrugen.minSeq + MIN_NR_GENS === lrugen.maxSeq;
  }
  if (!aging || sc.priority === DEF_PRIORITY) return nrToScan === 0 ? 0 : scanCount(nrToScan, sc);
  // try_to_inc_max_seq: no page tables to walk, the new generation is made at once
  sc.costNs += incMaxSeq(lrugen) * RECLAIM_SCAN_FOLIO_NS;
  return -1;
}

/**
 * should_abort_scan: root reclaim stops once it has its folios; kswapd once free memory is well
 * above high. Reclaim for one group goes on (not to favour the first of its lruvecs).
 */
function shouldAbortScan(k: Kernel, lruvec: Lruvec, sc: ScanControl): boolean {
  if (sc.targetMemcg !== undefined) return false;
  if (sc.nrReclaimed >= Math.max(sc.nrToReclaim, 2)) return true;
  if (!sc.isKswapd) return false;
  return k.mm.freePages > lruvec.pgdat.wmarkHigh + MIN_LRU_BATCH;
}

/**
 * set_initial_priority: a root reclaim starting at DEF_PRIORITY for a large target starts where
 * (the node's inactive >> priority) covers the target, at DEF_PRIORITY / 2 at least. Called for
 * each group's lruvec; once the first has lowered the priority the rest leave it.
 */
function setInitialPriority(lruvec: Lruvec, sc: ScanControl): void {
  if (sc.priority !== DEF_PRIORITY || sc.nrToReclaim < MIN_LRU_BATCH || sc.targetMemcg !== undefined) return;
  // node_page_state(pgdat, NR_INACTIVE_FILE): every group's lruvec on the node
  let reclaimable = 0;
  for (const lv of lruvec.pgdat.lruvecs) reclaimable += lv.nrInactiveFile;
  const priority = fls(reclaimable) - 1 - fls(sc.nrToReclaim - 1);
  sc.priority = Math.min(DEF_PRIORITY, Math.max(DEF_PRIORITY / 2, priority));
}

/** lru_gen_shrink_node's set_initial_priority, then try_to_shrink_lruvec: evict until the pass's share is scanned (less the group's protection). */
function shrinkLruvec(k: Kernel, lruvec: Lruvec, sc: ScanControl): void {
  setInitialPriority(lruvec, sc);
  let scanned = 0;
  for (;;) {
    const nrToScan = getNrToScan(lruvec, sc);
    if (nrToScan <= 0) break;
    const delta = evictFolios(k, lruvec, sc, nrToScan);
    if (delta === 0) break;
    scanned += delta;
    if (scanned >= nrToScan || shouldAbortScan(k, lruvec, sc)) break;
  }
}

/**
 * lru_gen_refault: a folio read again over an MGLRU shadow. Only a folio charged to the group (and
 * node) that evicted it counts (the shadow's generations are that lruvec's, so another group's
 * refault tells nothing: evictionLruvec is not consulted); a recent one (its eviction's min_seq
 * within MAX_NR_GENS of max_seq) counts against the tier it was evicted from and gets its refs
 * back, or PG_workingset (a restore).
 */
function lruGenRefault(k: Kernel, lruvec: Lruvec, f: Folio, shadow: Shadow): void {
  const { eviction: token, memcgId, nid, workingset } = unpackShadow(shadow);
  if (memcgId !== lruvec.memcgId || nid !== lruvec.pgdat.nodeId) return;
  const lrugen = lrugenOf(lruvec);
  const evictedSeq = Math.floor(token / (1 << LRU_REFS_WIDTH));
  if (Math.abs((lrugen.maxSeq % SHADOW_SEQ_SPAN) - evictedSeq) >= MAX_NR_GENS) return;
  const refs = (token % (1 << LRU_REFS_WIDTH)) + 1;
  count(lrugen.refaulted, lruTierFromRefs(refs, workingset));
  if (workingset) {
    f.flags |= PG.workingset;
    k.stat.workingsetRestoreFile++;
  } else {
    f.flags = (f.flags & ~LRU_REFS_MASK) | ((refs - 1) << LRU_REFS_PGOFF);
  }
}

/** The multi-gen LRU as a policy (machine.vm.lru "mglru", or machine.vm.lru_gen true). */
export const mglruLru: LruOps = {
  name: 'mglru',

  initLruvec(lruvec) {
    lruvec.lrugen = new LruGenFolio();
  },

  addFolio(lruvec, f) {
    lruGenAddFolio(lrugenOf(lruvec), f, false);
  },

  delFolio(lruvec, f) {
    lruGenDelFolio(lrugenOf(lruvec), f);
    f.flags &= ~(PG.lru | PG.active);
  },

  // folio_mark_accessed -> lru_gen_inc_refs: flag arithmetic only, the folio stays where it is
  markAccessed(_k, _lruvec, f) {
    const flags = f.flags;
    if (!(flags & PG.referenced)) {
      f.flags = (flags & ~LRU_REFS_MASK) | PG.referenced;
      return;
    }
    if ((flags & LRU_REFS_MASK) === LRU_REFS_MASK) {
      if (!(flags & PG.workingset)) f.flags = flags | PG.workingset;
      return;
    }
    f.flags = flags + (1 << LRU_REFS_PGOFF);
  },

  // lru_move_tail: written back for reclaim, it goes to the oldest generation's tail
  rotateReclaimable(lruvec, f) {
    if (!(f.flags & PG.lru) || f.flags & (PG.locked | PG.dirty)) return;
    const lrugen = lrugenOf(lruvec);
    lruGenDelFolio(lrugen, f);
    f.flags &= ~PG.active;
    lruGenAddFolio(lrugen, f, true);
  },

  shrinkLruvec,

  refault: lruGenRefault,
};

LRU_POLICIES.set(mglruLru.name, mglruLru);
