// Models: mm/vmscan.c and the LRU half of mm/swap.c: per-node lruvecs with an inactive and an
// active file list; folio_add_lru, folio_mark_accessed (PG_referenced, then PG_active on the second
// access), folio_rotate_reclaimable; reclaim as shrink_node -> shrink_lruvec (get_scan_count's
// size >> priority per list, SWAP_CLUSTER_MAX batches) -> shrink_inactive_list (folio_check_references,
// __remove_mapping leaving a workingset shadow) and shrink_active_list (only when inactive_is_low or
// refaults were seen: the lists are rebalanced by reclaim, never on activation); kswapd per node
// (woken below the low watermark, balance_pgdat to the high one) and direct reclaim in the
// allocating task below min (do_try_to_free_pages), each charged the CPU time its scanning takes.
// With memory cgroups each group has its own lruvec on the node; shrink_node_memcgs visits each,
// honouring memory.min and memory.low (core/cgroup/memcontrol.ts).
// The replacement policy sits behind an ops table (LruOps): the two-list LRU is one implementation,
// a FIFO baseline another, and MGLRU plugs in the same way, chosen per machine.
// SIMPLIFICATION: no anon LRU lists (no swap, so Linux would not scan anon either); reclaim never
// writes dirty folios itself (pageout): it marks them PG_reclaim and leaves them to the flushers;
// a mapped folio's PTEs are taken as young on every scan (no accessed bits), so mapped folios are
// never unmapped by reclaim; no per-CPU LRU batches (folios move at once); one zone per node.

import type { Kernel } from '../kernel/kernel.js';
import { TaskState, type Task } from '../kernel/sched/task.js';
import type { HitContext } from '../trace/probe.js';
import { SimBug } from '../sim/errors.js';
import { ioSchedule } from '../block/blk-core.js';
import { scheduleTimeout } from '../kernel/time/timer.js';
import { PG, type Folio } from './mm_types.js';
import { workingsetActivation, workingsetEviction, workingsetRefault, type Shadow } from './workingset.js';
import type { LruGenFolio } from './mglru.js';
import type { MemCgroup } from '../cgroup/memcontrol.js';

/** SWAP_CLUSTER_MAX: folios isolated and reclaimed per batch. */
export const SWAP_CLUSTER_MAX = 32;
/** DEF_PRIORITY: reclaim starts scanning size >> 12 of each list and doubles down to 0. */
export const DEF_PRIORITY = 12;
/** MAX_RECLAIM_RETRIES: kswapd gives up on a node after this many balance runs that freed nothing. */
const MAX_RECLAIM_RETRIES = 16;
/** How long a kswapd that freed nothing waits before trying again (HZ/10, reclaim_throttle's timeout). */
const KSWAPD_RETRY_NS = 100_000_000;
/** enum zone_type: the tracepoints' zid (one zone per node here, ZONE_NORMAL). */
export const ZONE_NORMAL = 2;
/** GFP_HIGHUSER_MOVABLE, the page cache's allocation mask (mapping_gfp_mask). */
export const GFP_HIGHUSER_MOVABLE = 0x100cca;
/** trace_reclaim_flags(file): RECLAIM_WB_FILE | RECLAIM_WB_ASYNC. */
export const RECLAIM_WB_FILE_ASYNC = 0x0002 | 0x0008;
/** ISOLATE_* mode of isolate_lru_folios (0: any folio may be taken). */
export const ISOLATE_MODE = 0;

/**
 * CPU cost of reclaim, charged to kswapd or the direct reclaimer. Isolating and checking a folio
 * (folio_check_references, locking) and putting it back; freeing one clean page-cache folio
 * (__remove_mapping: xarray store of the shadow, uncharge, free to the buddy allocator). Together
 * about 0.5 us per reclaimed page, kswapd's order of a few GB/s of clean cache per core.
 */
export const RECLAIM_SCAN_FOLIO_NS = 150;
export const RECLAIM_FREE_FOLIO_NS = 350;
/**
 * shrink_lruvec reschedules between its SWAP_CLUSTER_MAX batches (shrink_folio_list also per folio).
 * SIMPLIFICATION: a reclaim pass's CPU time is spent after its bookkeeping, in pieces of one batch's
 * scan cost with a cond_resched() between them.
 */
const RECLAIM_RESCHED_PIECE_NS = SWAP_CLUSTER_MAX * RECLAIM_SCAN_FOLIO_NS;

/** enum lru_list, with Linux's values (the lru field of mm_vmscan_lru_isolate). */
export const LRU = {
  INACTIVE_ANON: 0,
  ACTIVE_ANON: 1,
  INACTIVE_FILE: 2,
  ACTIVE_FILE: 3,
  UNEVICTABLE: 4,
} as const;
export type LruList = (typeof LRU)[keyof typeof LRU];
const NR_LRU_LISTS = 5;

/** An intrusive doubly-linked LRU list (struct list_head through folio->lru): head is youngest. */
export class FolioList {
  head: Folio | undefined;
  tail: Folio | undefined;
  size = 0;

  addHead(f: Folio): void {
    f.lruPrev = undefined;
    f.lruNext = this.head;
    if (this.head) this.head.lruPrev = f;
    else this.tail = f;
    this.head = f;
    this.size++;
  }

  /** The oldest end: the next folio reclaim looks at. */
  addTail(f: Folio): void {
    f.lruNext = undefined;
    f.lruPrev = this.tail;
    if (this.tail) this.tail.lruNext = f;
    else this.head = f;
    this.tail = f;
    this.size++;
  }

  remove(f: Folio): void {
    if (f.lruPrev) f.lruPrev.lruNext = f.lruNext;
    else this.head = f.lruNext;
    if (f.lruNext) f.lruNext.lruPrev = f.lruPrev;
    else this.tail = f.lruPrev;
    f.lruPrev = f.lruNext = undefined;
    this.size--;
  }
}

/**
 * struct scan_control: one reclaim run's target and tally. Reclaimers keep one each and reset it
 * (no allocation per run).
 */
export class ScanControl {
  nrToReclaim = 0;
  nrScanned = 0;
  nrReclaimed = 0;
  priority = DEF_PRIORITY;
  /** kswapd (PGSCAN_KSWAPD/PGSTEAL_KSWAPD) or direct reclaim (..._DIRECT). */
  isKswapd = false;
  /** DEACTIVATE_FILE of sc->may_deactivate: shrink_active_list may run on the file lists. */
  mayDeactivateFile = false;
  /** CPU time the scanning since the last charge took, to be burned by the reclaimer. */
  costNs = 0;
  /** The memory cgroup reclaim works for (memory.high/max), or undefined: the whole node. */
  targetMemcg: MemCgroup | undefined;
  /** memcg_low_reclaim: groups below memory.low are reclaimed too (nothing else was left). */
  memcgLowReclaim = false;
  /** memcg_low_skipped: a group was passed over (or scanned less) for its memory.low. */
  memcgLowSkipped = false;
  /** The lruvec being shrunk's protection and its group's size (apply_proportional_protection). */
  protectionPages = 0;
  cgroupPages = 0;
  /** Where tracepoints fire (the reclaimer's CPU) and the I/O the reclaimer was working on. */
  ctx!: HitContext;
  ioId = 0;

  reset(ctx: HitContext, ioId: number, isKswapd: boolean, nrToReclaim: number): void {
    this.ctx = ctx;
    this.ioId = ioId;
    this.isKswapd = isKswapd;
    this.nrToReclaim = nrToReclaim;
    this.nrScanned = 0;
    this.nrReclaimed = 0;
    this.priority = DEF_PRIORITY;
    this.costNs = 0;
    this.targetMemcg = undefined;
    this.memcgLowReclaim = false;
    this.memcgLowSkipped = false;
    this.protectionPages = 0;
    this.cgroupPages = 0;
  }
}

/**
 * A replacement policy: what folio_add_lru, folio_mark_accessed and shrink_lruvec do. One instance
 * serves every lruvec of a machine; per-lruvec state lives on the Lruvec (a policy that needs more,
 * as MGLRU's generations, adds its field there, as struct lruvec holds lrugen, and sets it up in
 * initLruvec). A policy is chosen by name from LRU_POLICIES (machine.vm.lru); a new one registers
 * itself there and must be imported by this module's users (page_alloc.ts). Implementations:
 * - initLruvec (optional) runs once per lruvec, when a node or memory cgroup is created (MGLRU's
 *   lru_gen_init_lruvec).
 * - addFolio puts a new page-cache folio on `lruvec` (PG_lru set by the caller; PG_active may be
 *   set already by workingset_refault) and must keep lruvec.nrActiveFile/nrInactiveFile right.
 * - delFolio takes a folio off (it is being freed or removed from the page cache by truncation or
 *   invalidation, not by reclaim).
 * - markAccessed is folio_mark_accessed: the read path calls it once per folio per read(), so it
 *   must be cheap and allocate nothing.
 * - rotateReclaimable: writeback ended on a folio reclaim had marked PG_reclaim.
 * - shrinkLruvec scans at sc.priority toward sc.nrToReclaim (how much of a list: scanCount(), which
 *   applies the group's protection), evicting with evictFolio() (which stores the workingset shadow
 *   and frees the folio), adding to sc.nrScanned, sc.nrReclaimed and sc.costNs, and counting
 *   pgscan/pgsteal with countScan()/countSteal().
 * - refault decides what a folio found over a shadow starts as (after the refault was counted);
 *   evictionLruvec is the lruvec the shadow's clock belongs to.
 */
export interface LruOps {
  readonly name: string;
  initLruvec?(lruvec: Lruvec): void;
  addFolio(lruvec: Lruvec, f: Folio): void;
  delFolio(lruvec: Lruvec, f: Folio): void;
  markAccessed(k: Kernel, lruvec: Lruvec, f: Folio): void;
  rotateReclaimable(lruvec: Lruvec, f: Folio): void;
  shrinkLruvec(k: Kernel, lruvec: Lruvec, sc: ScanControl): void;
  refault(k: Kernel, lruvec: Lruvec, f: Folio, shadow: Shadow, evictionLruvec: Lruvec): void;
}

/**
 * struct lruvec: the LRU lists of one node (and, with memory cgroups, of one memcg on that node),
 * with workingset detection's clock and counters.
 */
export class Lruvec {
  readonly lists: FolioList[] = [];
  /** nonresident_age: ticks on every eviction and activation (mm/workingset.c). */
  nonresidentAge = 0;
  /** WORKINGSET_REFAULT_FILE / WORKINGSET_ACTIVATE_FILE of this lruvec (lruvec_page_state). */
  workingsetRefaultFile = 0;
  workingsetActivateFile = 0;
  /** lruvec->lrugen: MGLRU's generations (core/mm/mglru.ts), when the machine runs it; the lists stay empty then. */
  lrugen: LruGenFolio | undefined;

  constructor(
    readonly pgdat: PgData,
    readonly ops: LruOps,
    /** The owning memory cgroup. */
    readonly memcg: MemCgroup,
    /** The parent group's lruvec on this node (the root's has none): clocks tick up the tree. */
    readonly parent: Lruvec | undefined,
  ) {
    for (let i = 0; i < NR_LRU_LISTS; i++) this.lists.push(new FolioList());
    ops.initLruvec?.(this);
  }

  get memcgId(): number {
    return this.memcg.id;
  }

  /** NR_INACTIVE_FILE (with MGLRU: the generations older than the two youngest, lru_gen_update_size). */
  get nrInactiveFile(): number {
    return this.lrugen ? this.lrugen.nrInactive : this.lists[LRU.INACTIVE_FILE]!.size;
  }

  get nrActiveFile(): number {
    return this.lrugen ? this.lrugen.nrActive : this.lists[LRU.ACTIVE_FILE]!.size;
  }

  /** Folios on any list (lruvec_lru_size summed). */
  get nrPages(): number {
    let n = this.lrugen ? this.lrugen.nrPages : 0;
    for (const l of this.lists) n += l.size;
    return n;
  }
}

/** pg_data_t: one memory node, with its watermarks, its lruvecs and its kswapd. */
export class PgData {
  /** The root memory cgroup's lruvec. */
  lruvec!: Lruvec;
  /** Every memory cgroup's lruvec on this node, the root's first (mem_cgroup_iter's order). */
  readonly lruvecs: Lruvec[] = [];
  /** The root lruvec's refaults[WORKINGSET_FILE] (hierarchical): activations when the last reclaim cycle ended. */
  refaultsSnapshot = 0;
  /** _watermark[WMARK_MIN/LOW/HIGH] of the node's zone, in pages. */
  wmarkMin = 0;
  wmarkLow = 0;
  wmarkHigh = 0;
  kswapd: Task | undefined;
  kswapdAsleep = false;
  kswapdWakePending = false;
  /** kswapd_failures: balance runs in a row that freed nothing. */
  kswapdFailures = 0;
  readonly kswapdSc = new ScanControl();
  /** Direct reclaim's scan control: a direct reclaim runs to completion before it yields. */
  readonly directSc = new ScanControl();

  constructor(readonly nodeId: number) {}
}

/** int_sqrt */
function intSqrt(x: number): number {
  return Math.floor(Math.sqrt(x));
}

/**
 * inactive_is_low: the inactive list is too short for the active one when inactive x ratio <
 * active, with ratio int_sqrt(10 x GiB of the two lists) (1 below 1 GiB): 3 at 1 GiB, 10 at
 * 10 GiB, 31 at 100 GiB.
 */
export function inactiveRatio(totalPages: number): number {
  const gib = Math.floor(totalPages / 262_144);
  return gib > 0 ? intSqrt(10 * gib) : 1;
}

export function inactiveIsLow(lruvec: Lruvec): boolean {
  const inactive = lruvec.nrInactiveFile;
  const active = lruvec.nrActiveFile;
  return inactive * inactiveRatio(inactive + active) < active;
}

/**
 * get_scan_count's share of one list: its size less the part the group's protection covers
 * (apply_proportional_protection, at least SWAP_CLUSTER_MAX so reclaim moves on), >> priority.
 */
export function scanCount(lruSize: number, sc: ScanControl): number {
  let scan = lruSize;
  if (sc.protectionPages > 0) {
    const cgroupSize = Math.max(sc.cgroupPages, sc.protectionPages);
    scan = Math.max(lruSize - Math.floor((lruSize * sc.protectionPages) / (cgroupSize + 1)), SWAP_CLUSTER_MAX);
  }
  return Math.floor(scan / 2 ** sc.priority);
}

/** count_vm_events(PGSCAN_KSWAPD / PGSCAN_DIRECT) for `n` folios isolated from an inactive list. */
export function countScan(k: Kernel, sc: ScanControl, n: number): void {
  if (sc.isKswapd) k.stat.pgscanKswapd += n;
  else k.stat.pgscanDirect += n;
}

/** PGSTEAL_KSWAPD / PGSTEAL_DIRECT */
export function countSteal(k: Kernel, sc: ScanControl, n: number): void {
  if (sc.isKswapd) k.stat.pgstealKswapd += n;
  else k.stat.pgstealDirect += n;
}

/**
 * __remove_mapping for a folio reclaim took off the LRU: it leaves its mapping with a workingset
 * shadow at its index and goes back to the free pages.
 */
export function evictFolio(k: Kernel, lruvec: Lruvec, f: Folio, sc: ScanControl, shadow: Shadow = workingsetEviction(lruvec, f)): void {
  const mapping = f.mapping;
  if (!mapping) throw new SimBug(`reclaiming folio ${f.pfn} with no mapping`);
  k.mm.deleteFromPageCache(sc.ctx, f);
  mapping.shadows.set(f.index, shadow);
  k.mm.freeFolio(f);
}

const FOLIOREF = { RECLAIM: 0, RECLAIM_CLEAN: 1, KEEP: 2, ACTIVATE: 3 } as const;

/** folio_check_references for a file folio. */
function folioCheckReferences(f: Folio): number {
  // SIMPLIFICATION: folio_referenced() counts young PTEs; without accessed bits a mapped folio is
  // taken as referenced through each of its mappings on every scan
  const referencedPtes = f.mapcount;
  const referencedFolio = (f.flags & PG.referenced) !== 0;
  f.flags &= ~PG.referenced;
  if (referencedPtes > 0) {
    f.flags |= PG.referenced;
    // a second reference (an earlier one marked the folio, or several PTEs): activate
    if (referencedFolio || referencedPtes > 1) return FOLIOREF.ACTIVATE;
    return FOLIOREF.KEEP;
  }
  // an unmapped file folio used only through read(): one round on the inactive list was its chance
  if (referencedFolio) return FOLIOREF.RECLAIM_CLEAN;
  return FOLIOREF.RECLAIM;
}

/** struct reclaim_stat, reused by every shrink_inactive_list (the tracepoint's fields). */
const stat = { nrDirty: 0, nrWriteback: 0, nrImmediate: 0, nrActivate: 0, nrRefKeep: 0, nrUnmapFail: 0 };

/** The isolated batch of a shrink (reused: shrinks run one at a time, to completion). */
const isolated: Folio[] = [];

/**
 * isolate_lru_folios: take up to `nrToScan` folios from the tail (oldest end) of one list. Returns
 * how many were taken into `isolated`.
 */
function isolateLruFolios(k: Kernel, lruvec: Lruvec, lru: LruList, nrToScan: number, sc: ScanControl): number {
  const list = lruvec.lists[lru]!;
  isolated.length = 0;
  while (isolated.length < nrToScan) {
    const f = list.tail;
    if (!f) break;
    list.remove(f);
    f.flags &= ~PG.lru;
    isolated.push(f);
  }
  const taken = isolated.length;
  if (k.tp.mm_vmscan_lru_isolate.enabled) k.tp.mm_vmscan_lru_isolate.emit(sc.ctx, sc.ioId, ZONE_NORMAL, 0, nrToScan, taken, 0, taken, ISOLATE_MODE, lru);
  return taken;
}

/** lruvec_add_folio for the two lists: PG_active picks the list, the folio goes to its head. */
function addToList(lruvec: Lruvec, f: Folio): void {
  f.flags |= PG.lru;
  lruvec.lists[f.flags & PG.active ? LRU.ACTIVE_FILE : LRU.INACTIVE_FILE]!.addHead(f);
}

/**
 * shrink_inactive_list for the file LRU: reclaim what one round on the inactive list earned. With
 * `checkReferences` false (the FIFO baseline) references are not looked at and nothing is activated.
 */
function shrinkInactiveList(k: Kernel, lruvec: Lruvec, nrToScan: number, sc: ScanControl, checkReferences: boolean): number {
  const taken = isolateLruFolios(k, lruvec, LRU.INACTIVE_FILE, nrToScan, sc);
  countScan(k, sc, taken);
  stat.nrDirty = stat.nrWriteback = stat.nrImmediate = stat.nrActivate = stat.nrRefKeep = stat.nrUnmapFail = 0;
  let reclaimed = 0;
  // shrink_folio_list
  for (let i = 0; i < taken; i++) {
    const f = isolated[i]!;
    if (f.flags & PG.locked) {
      // folio_trylock failed (a read is filling it): keep
      addToList(lruvec, f);
      continue;
    }
    if (!checkReferences && f.flags & (PG.writeback | PG.dirty)) {
      addToList(lruvec, f);
      continue;
    }
    if (f.flags & PG.writeback) {
      stat.nrWriteback++;
      if (sc.isKswapd && f.flags & PG.reclaim) {
        // seen again still under writeback: the device is behind, keep it where it is
        stat.nrImmediate++;
        addToList(lruvec, f);
        continue;
      }
      // reclaim it when writeback ends (folio_rotate_reclaimable): meanwhile it goes active
      f.flags |= PG.reclaim;
      activate(k, f);
      addToList(lruvec, f);
      continue;
    }
    const references = checkReferences ? folioCheckReferences(f) : FOLIOREF.RECLAIM;
    if (references === FOLIOREF.ACTIVATE) {
      activate(k, f);
      addToList(lruvec, f);
      continue;
    }
    if (references === FOLIOREF.KEEP) {
      stat.nrRefKeep++;
      addToList(lruvec, f);
      continue;
    }
    if (f.flags & PG.dirty) {
      // only the flushers write page cache: mark it for immediate reclaim once written
      stat.nrDirty++;
      f.flags |= PG.reclaim;
      activate(k, f);
      addToList(lruvec, f);
      continue;
    }
    if (f.refs > 0 || f.mapcount > 0) {
      // someone holds a reference (a reader asleep on it): __remove_mapping's refcount freeze fails
      addToList(lruvec, f);
      continue;
    }
    evictFolio(k, lruvec, f, sc);
    reclaimed++;
  }
  isolated.length = 0;
  countSteal(k, sc, reclaimed);
  sc.nrScanned += taken;
  sc.nrReclaimed += reclaimed;
  sc.costNs += taken * RECLAIM_SCAN_FOLIO_NS + reclaimed * RECLAIM_FREE_FOLIO_NS;
  if (k.tp.mm_vmscan_lru_shrink_inactive.enabled) {
    k.tp.mm_vmscan_lru_shrink_inactive.emit(sc.ctx, sc.ioId, lruvec.pgdat.nodeId, taken, reclaimed, stat.nrDirty, stat.nrWriteback, stat.nrImmediate, stat.nrActivate, stat.nrRefKeep, stat.nrUnmapFail, sc.priority, RECLAIM_WB_FILE_ASYNC);
  }
  return reclaimed;
}

/** activate_locked: the folio goes back active (PGACTIVATE). */
function activate(k: Kernel, f: Folio): void {
  f.flags |= PG.active;
  stat.nrActivate++;
  k.stat.pgactivate++;
}

/**
 * shrink_active_list for the file LRU: folios from the active tail move to the inactive list
 * (PG_workingset: they were part of the working set, a refault of theirs is a restore). PG_referenced
 * stays, so one more access before they reach the inactive tail promotes them again.
 */
function shrinkActiveList(k: Kernel, lruvec: Lruvec, nrToScan: number, sc: ScanControl): void {
  const taken = isolateLruFolios(k, lruvec, LRU.ACTIVE_FILE, nrToScan, sc);
  k.stat.pgrefill += taken;
  let referenced = 0;
  for (let i = 0; i < taken; i++) {
    const f = isolated[i]!;
    // SIMPLIFICATION: Linux keeps referenced VM_EXEC file folios active for one more round; folios
    // here do not record whether an executable mapping uses them
    if (f.mapcount > 0) referenced++;
    f.flags = (f.flags & ~PG.active) | PG.workingset;
    addToList(lruvec, f);
  }
  isolated.length = 0;
  k.stat.pgdeactivate += taken;
  sc.costNs += taken * RECLAIM_SCAN_FOLIO_NS;
  if (k.tp.mm_vmscan_lru_shrink_active.enabled) {
    k.tp.mm_vmscan_lru_shrink_active.emit(sc.ctx, sc.ioId, lruvec.pgdat.nodeId, taken, 0, taken, referenced, sc.priority, RECLAIM_WB_FILE_ASYNC);
  }
}

/** The two-list LRU of mm/vmscan.c and mm/swap.c (the default policy). */
export const twoListLru: LruOps = {
  name: 'two-list',

  addFolio(lruvec, f) {
    addToList(lruvec, f);
  },

  delFolio(lruvec, f) {
    lruvec.lists[f.flags & PG.active ? LRU.ACTIVE_FILE : LRU.INACTIVE_FILE]!.remove(f);
    f.flags &= ~(PG.lru | PG.active);
  },

  markAccessed(k, lruvec, f) {
    const flags = f.flags;
    if (!(flags & PG.referenced)) {
      f.flags = flags | PG.referenced;
      return;
    }
    if (flags & PG.active || !(flags & PG.lru)) return;
    // a second access while inactive: folio_activate (PGACTIVATE), and the clock ticks
    lruvec.lists[LRU.INACTIVE_FILE]!.remove(f);
    f.flags = (flags | PG.active) & ~PG.referenced;
    lruvec.lists[LRU.ACTIVE_FILE]!.addHead(f);
    k.stat.pgactivate++;
    workingsetActivation(lruvec);
  },

  rotateReclaimable(lruvec, f) {
    // lru_move_tail: written back for reclaim, it is the next to go
    if (!(f.flags & PG.lru) || f.flags & (PG.locked | PG.dirty)) return;
    this.delFolio(lruvec, f);
    f.flags |= PG.lru;
    lruvec.lists[LRU.INACTIVE_FILE]!.addTail(f);
  },

  shrinkLruvec(k, lruvec, sc) {
    // get_scan_count: no swap, so only the file lists, each scanned size >> priority
    let nrInactive = scanCount(lruvec.nrInactiveFile, sc);
    let nrActive = scanCount(lruvec.nrActiveFile, sc);
    const reclaimedBefore = sc.nrReclaimed;
    while (nrInactive > 0 || nrActive > 0) {
      if (nrInactive > 0) {
        const n = Math.min(nrInactive, SWAP_CLUSTER_MAX);
        nrInactive -= n;
        shrinkInactiveList(k, lruvec, n, sc, true);
      }
      if (nrActive > 0) {
        const n = Math.min(nrActive, SWAP_CLUSTER_MAX);
        nrActive -= n;
        // shrink_list: the active list is aged only when the scan control allows deactivation
        if (sc.mayDeactivateFile) shrinkActiveList(k, lruvec, n, sc);
      }
      if (sc.nrReclaimed - reclaimedBefore >= sc.nrToReclaim) break;
    }
  },

  refault(k, lruvec, f, shadow, evictionLruvec) {
    workingsetRefault(k, lruvec, f, shadow, evictionLruvec);
  },
};

/**
 * A FIFO baseline (no such policy in Linux): folios are evicted in the order they entered the page
 * cache, however often they were read. It shows what the two-list LRU protects against.
 */
export const fifoLru: LruOps = {
  name: 'fifo',

  addFolio(lruvec, f) {
    f.flags &= ~PG.active;
    addToList(lruvec, f);
  },

  delFolio(lruvec, f) {
    lruvec.lists[LRU.INACTIVE_FILE]!.remove(f);
    f.flags &= ~PG.lru;
  },

  markAccessed() {},

  rotateReclaimable() {},

  shrinkLruvec(k, lruvec, sc) {
    let nr = scanCount(lruvec.nrInactiveFile, sc);
    const reclaimedBefore = sc.nrReclaimed;
    while (nr > 0 && sc.nrReclaimed - reclaimedBefore < sc.nrToReclaim) {
      const n = Math.min(nr, SWAP_CLUSTER_MAX);
      nr -= n;
      shrinkInactiveList(k, lruvec, n, sc, false);
    }
  },

  refault() {},
};

/** The policies a machine can choose (machine.vm.lru); MGLRU (core/mm/mglru.ts) registers itself here too. */
export const LRU_POLICIES = new Map<string, LruOps>([
  [twoListLru.name, twoListLru],
  [fifoLru.name, fifoLru],
]);

/** The policy used when a machine names none. */
export const DEFAULT_LRU_POLICY = twoListLru.name;

/** The root lruvec's hierarchical WORKINGSET_ACTIVATE_FILE: every group's on the node. */
function nodeActivations(pgdat: PgData): number {
  let n = 0;
  for (const lv of pgdat.lruvecs) n += lv.workingsetActivateFile;
  return n;
}

/** snapshot_refaults: the end of a reclaim cycle; refaults after this re-enable deactivation. */
function snapshotRefaults(pgdat: PgData): void {
  pgdat.refaultsSnapshot = nodeActivations(pgdat);
}

/** inactive_is_low on the node's (the root's, hierarchical) file lists. */
function nodeInactiveIsLow(pgdat: PgData): boolean {
  let inactive = 0;
  let active = 0;
  for (const lv of pgdat.lruvecs) {
    inactive += lv.nrInactiveFile;
    active += lv.nrActiveFile;
  }
  return inactive * inactiveRatio(inactive + active) < active;
}

/**
 * shrink_node: prepare_scan_control's deactivation decision (refaults show a new working set
 * forming, or the inactive list is low), then shrink_node_memcgs: each group's lruvec in turn
 * (only the target's when reclaim works for one group), passing over groups within memory.min,
 * and within memory.low unless this is the retry that may take from them; above its protection a
 * group is scanned in proportion to its overage.
 */
export function shrinkNode(k: Kernel, pgdat: PgData, sc: ScanControl): void {
  sc.mayDeactivateFile = nodeActivations(pgdat) !== pgdat.refaultsSnapshot || nodeInactiveIsLow(pgdat);
  for (const lruvec of pgdat.lruvecs) {
    const memcg = lruvec.memcg;
    if (sc.targetMemcg !== undefined && memcg !== sc.targetMemcg) continue;
    sc.protectionPages = 0;
    // mem_cgroup_calculate_protection: the reclaim target's own protection does not count
    if (sc.targetMemcg === undefined) {
      if (memcg.belowMin()) continue;
      if (memcg.belowLow()) {
        if (!sc.memcgLowReclaim) {
          sc.memcgLowSkipped = true;
          continue;
        }
        memcg.eventsLow++;
      }
      const min = memcg.emin;
      const low = memcg.elow;
      if (min > 0 || low > 0) {
        if (!sc.memcgLowReclaim && low > min) {
          sc.protectionPages = low;
          sc.memcgLowSkipped = true;
        } else {
          sc.protectionPages = min;
        }
        sc.cgroupPages = memcg.usagePages;
      }
    }
    lruvec.ops.shrinkLruvec(k, lruvec, sc);
    sc.protectionPages = 0;
  }
}

/** pgdat_balanced: free pages above the high watermark (order 0). */
export function pgdatBalanced(k: Kernel, pgdat: PgData): boolean {
  return k.mm.freePages > pgdat.wmarkHigh;
}

/**
 * wakeup_kswapd: an allocation found free memory below the low watermark. kswapd is forked the
 * first time it is needed.
 * SIMPLIFICATION: Linux starts kswapd at boot (kswapd_run); starting it on first use keeps the pids
 * of runs that never reclaim as they were.
 */
export function wakeupKswapd(k: Kernel, pgdat: PgData, ctx: HitContext, ioId: number): void {
  if (pgdat.kswapd && !pgdat.kswapdAsleep) return; // awake: it rechecks the watermarks itself
  if (pgdat.kswapdFailures >= MAX_RECLAIM_RETRIES) return;
  if (pgdatBalanced(k, pgdat)) return;
  if (k.tp.mm_vmscan_wakeup_kswapd.enabled) k.tp.mm_vmscan_wakeup_kswapd.emit(ctx, ioId, pgdat.nodeId, ZONE_NORMAL, 0, GFP_HIGHUSER_MOVABLE);
  if (!pgdat.kswapd) {
    pgdat.kswapd = k.mm.spawnKthread(`kswapd${pgdat.nodeId}`, (t) => kswapd(k, t, pgdat));
    return;
  }
  // the wait entry goes with the wakeup (autoremove_wake_function): later allocations see none
  pgdat.kswapdAsleep = false;
  pgdat.kswapdWakePending = true;
  k.sched.wakeFromContext(pgdat.kswapd);
}

/** kswapd: sleeps until an allocation wakes it, then balances the node to its high watermark. */
function* kswapd(k: Kernel, t: Task, pgdat: PgData): Generator<number, void, void> {
  for (;;) {
    if (k.tp.mm_vmscan_kswapd_wake.enabled) k.tp.mm_vmscan_kswapd_wake.emit(k.sched.cpu(t.cpu), t.ioId, pgdat.nodeId, ZONE_NORMAL, 0);
    const reclaimed = yield* balancePgdat(k, t, pgdat);
    if (reclaimed === 0 && !pgdatBalanced(k, pgdat)) {
      // nothing reclaimable now (dirty or under writeback): wait for the flushers, then retry
      pgdat.kswapdFailures++;
      if (pgdat.kswapdFailures < MAX_RECLAIM_RETRIES) {
        yield* scheduleTimeout(k, t, KSWAPD_RETRY_NS, TaskState.INTERRUPTIBLE);
        continue;
      }
    } else {
      pgdat.kswapdFailures = 0;
    }
    // kswapd_try_to_sleep
    if (k.tp.mm_vmscan_kswapd_sleep.enabled) k.tp.mm_vmscan_kswapd_sleep.emit(k.sched.cpu(t.cpu), t.ioId, pgdat.nodeId);
    pgdat.kswapdWakePending = false;
    pgdat.kswapdAsleep = true;
    while (!pgdat.kswapdWakePending) {
      t.state = TaskState.INTERRUPTIBLE;
      yield* ioSchedule(k, t, false);
    }
    pgdat.kswapdAsleep = false;
    pgdat.kswapdWakePending = false;
  }
}

/**
 * balance_pgdat: reclaim until free pages are above the high watermark, raising the scan priority
 * (scanning twice as much) whenever a pass scanned less than its target or freed nothing.
 */
function* balancePgdat(k: Kernel, t: Task, pgdat: PgData): Generator<number, number, void> {
  const sc = pgdat.kswapdSc;
  sc.reset(k.sched.cpu(t.cpu), t.ioId, true, 0);
  let total = 0;
  do {
    if (pgdatBalanced(k, pgdat)) break;
    // kswapd_shrink_node: aim at the high watermark (at least SWAP_CLUSTER_MAX)
    sc.nrToReclaim = Math.max(pgdat.wmarkHigh, SWAP_CLUSTER_MAX);
    sc.nrScanned = 0;
    sc.nrReclaimed = 0;
    sc.ctx = k.sched.cpu(t.cpu);
    shrinkNode(k, pgdat, sc);
    total += sc.nrReclaimed;
    if (sc.costNs > 0) {
      const ns = sc.costNs;
      sc.costNs = 0;
      yield* k.sched.burnWithCondResched(t, ns, RECLAIM_RESCHED_PIECE_NS);
    }
    const raisePriority = sc.nrScanned < sc.nrToReclaim;
    if (raisePriority || sc.nrReclaimed === 0) sc.priority--;
  } while (sc.priority >= 1);
  snapshotRefaults(pgdat);
  return total;
}

/** HZ: jiffies are 1 ms. */
const JIFFY_NS = 1_000_000;
const HZ = 1000;
/** MEMCG_DELAY_PRECISION_SHIFT, MEMCG_DELAY_SCALING_SHIFT, MEMCG_MAX_HIGH_DELAY_JIFFIES (2 s). */
const MEMCG_DELAY_PRECISION_SHIFT = 20;
const MEMCG_DELAY_SCALING_SHIFT = 14;
const MEMCG_MAX_HIGH_DELAY_JIFFIES = 2 * HZ;

/**
 * calculate_high_delay for one nominal charge batch (MEMCG_CHARGE_BATCH pages): the overage over
 * memory.high, as a 2^20 fixed-point fraction of high, squared and scaled, in jiffies; nothing
 * below HZ/100 (not worth sleeping for), at most 2 s. 10% over high sleeps 640 ms, 4% over 100 ms.
 */
export function highDelayNs(usagePages: number, highPages: number): number {
  if (usagePages <= highPages) return 0;
  const high = Math.max(highPages, 1);
  const overage = Math.floor(((usagePages - high) * 2 ** MEMCG_DELAY_PRECISION_SHIFT) / high);
  const jiffies = Math.floor((overage * overage * HZ) / 2 ** (MEMCG_DELAY_PRECISION_SHIFT + MEMCG_DELAY_SCALING_SHIFT));
  if (jiffies <= HZ / 100) return 0;
  return Math.min(jiffies, MEMCG_MAX_HIGH_DELAY_JIFFIES) * JIFFY_NS;
}

/**
 * __alloc_pages_direct_reclaim -> try_to_free_pages -> do_try_to_free_pages: the allocating task
 * reclaims SWAP_CLUSTER_MAX folios itself, raising the priority until it has them, and burns the
 * CPU time that takes; a task whose memory cgroup is over memory.high or at memory.max reclaims from
 * its group first. Returns the folios reclaimed. Call it when MemoryManager.mustReclaim(task).
 */
export function* directReclaim(k: Kernel, task: Task): Generator<number, number, void> {
  const pgdat = k.mm.node(0);
  const memcg = task.memcg;
  if (memcg !== undefined && memcg.overLimit) {
    // try_charge / mem_cgroup_handle_over_high: the group reclaims from itself first
    if (memcg.usagePages >= memcg.limits.maxPages) memcg.eventsMax++;
    else memcg.eventsHigh++;
    const cpu = k.sched.cpu(task.cpu);
    if (k.tp.mm_vmscan_memcg_reclaim_begin.enabled) k.tp.mm_vmscan_memcg_reclaim_begin.emit(cpu, task.ioId, 0, GFP_HIGHUSER_MOVABLE);
    const n = tryToFreePages(k, pgdat, cpu, task.ioId, memcg);
    const ns = pgdat.directSc.costNs;
    if (ns > 0) yield* k.sched.burnWithCondResched(task, ns, RECLAIM_RESCHED_PIECE_NS);
    if (k.tp.mm_vmscan_memcg_reclaim_end.enabled) k.tp.mm_vmscan_memcg_reclaim_end.emit(k.sched.cpu(task.cpu), task.ioId, n);
    // mem_cgroup_handle_over_high: still over memory.high with reclaim making no progress, the task
    // sleeps off its overage (calculate_high_delay)
    const penaltyNs = n === 0 ? highDelayNs(memcg.usagePages, memcg.limits.highPages) : 0;
    if (penaltyNs > 0) yield* scheduleTimeout(k, task, penaltyNs, TaskState.UNINTERRUPTIBLE);
    if (!k.mm.belowMinWatermark) return n;
  }
  const ctx = k.sched.cpu(task.cpu);
  if (k.tp.mm_vmscan_direct_reclaim_begin.enabled) k.tp.mm_vmscan_direct_reclaim_begin.emit(ctx, task.ioId, 0, GFP_HIGHUSER_MOVABLE);
  k.stat.allocstall++;
  const reclaimed = tryToFreePages(k, pgdat, ctx, task.ioId);
  const costNs = pgdat.directSc.costNs;
  if (costNs > 0) yield* k.sched.burnWithCondResched(task, costNs, RECLAIM_RESCHED_PIECE_NS);
  if (reclaimed > 0) pgdat.kswapdFailures = 0;
  if (k.tp.mm_vmscan_direct_reclaim_end.enabled) k.tp.mm_vmscan_direct_reclaim_end.emit(k.sched.cpu(task.cpu), task.ioId, reclaimed);
  return reclaimed;
}

/**
 * do_try_to_free_pages, synchronously, for the node or for one group (try_to_free_mem_cgroup_pages
 * when `memcg` is given); the CPU time it took is left in pgdat.directSc.costNs. If nothing could be
 * taken while protected groups were passed over, it tries again taking from them (memcg_low_reclaim).
 * Also what an allocation that found no free page at all does in place.
 */
export function tryToFreePages(k: Kernel, pgdat: PgData, ctx: HitContext, ioId: number, memcg?: MemCgroup): number {
  const sc = pgdat.directSc;
  sc.reset(ctx, ioId, false, SWAP_CLUSTER_MAX);
  sc.targetMemcg = memcg;
  for (;;) {
    for (sc.priority = DEF_PRIORITY; sc.priority >= 0; sc.priority--) {
      sc.nrScanned = 0;
      shrinkNode(k, pgdat, sc);
      if (sc.nrReclaimed >= sc.nrToReclaim) break;
    }
    if (sc.nrReclaimed > 0 || !sc.memcgLowSkipped || sc.memcgLowReclaim) break;
    // untapped cgroup reserves: don't fail, retry taking from them
    sc.memcgLowReclaim = true;
    sc.memcgLowSkipped = false;
  }
  snapshotRefaults(pgdat);
  return sc.nrReclaimed;
}
