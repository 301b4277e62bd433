// Models: mm/page_alloc.c (a free list of page frames) and mm/vmscan.c's two-list LRU for file
// pages: new folios start on the inactive list, a second access activates them, and reclaim
// evicts clean, unmapped folios from the inactive tail.
// SIMPLIFICATION: order-0 pages only; no kswapd (allocation does direct reclaim when memory runs
// low); mapped folios are not unmapped by reclaim; no workingset/shadow entries.

import { Folio, PG, type AddressSpace } from './mm_types.js';
import type { Kernel } from '../kernel/kernel.js';
import type { HitContext } from '../trace/probe.js';
import { SimBug } from '../sim/errors.js';

/** Memory kept back for the kernel image, page tables and slab (not available to the page cache). */
const KERNEL_RESERVED_FRACTION = 0.04;
/** Reclaim when free memory falls below this fraction (the low watermark, roughly). */
const LOW_WATERMARK_FRACTION = 0.01;
/** Pages reclaimed per direct-reclaim pass (SWAP_CLUSTER_MAX). */
const SWAP_CLUSTER_MAX = 32;

/** An intrusive doubly-linked LRU list. */
class LruList {
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

  remove(f: Folio): void {
    if (f.lruPrev) f.lruPrev.lruNext = f.lruNext;
    else this.head = f.lruNext;
    if (f.lruNext) f.lruNext.lruPrev = f.lruPrev;
    else this.tail = f.lruPrev;
    f.lruPrev = f.lruNext = undefined;
    this.size--;
  }
}

export class MemoryManager {
  readonly totalPages: number;
  /** Freed PFNs, the next allocation's on top. */
  private readonly freedPfns: number[] = [];
  /** PFNs from here up were never handed out: boot lists no free page one by one, so memory size costs nothing. */
  private nextNeverUsedPfn: number;
  private nrFree: number;
  /** Folios by PFN - firstPfn (dense: PFNs below firstPfn are the kernel's and never handed out). */
  private readonly folios: (Folio | undefined)[] = [];
  private readonly firstPfn: number;
  readonly inactive = new LruList();
  readonly active = new LruList();
  private readonly lowWatermarkPages: number;
  /** Page-cache pages (all file folios). */
  nrFilePages = 0;
  nrDirty = 0;
  nrWriteback = 0;
  nrAnon = 0;
  reclaimed = 0;

  constructor(
    private readonly k: Kernel,
    memoryBytes: number,
  ) {
    this.totalPages = Math.floor(memoryBytes / 4096);
    const reserved = Math.floor(this.totalPages * KERNEL_RESERVED_FRACTION);
    const usable = this.totalPages - reserved;
    // hand out low PFNs first, then the most recently freed page
    this.nextNeverUsedPfn = reserved;
    this.firstPfn = reserved;
    this.nrFree = usable;
    this.lowWatermarkPages = Math.max(64, Math.floor(this.totalPages * LOW_WATERMARK_FRACTION));
  }

  get freePages(): number {
    return this.nrFree;
  }

  /** Pages a writer may dirty against: free + file pages (global_dirtyable_memory). */
  get dirtyablePages(): number {
    return this.nrFree + this.nrFilePages;
  }

  /**
   * Allocates a page; reclaims from the inactive list when below the watermark. Returns undefined
   * only when nothing at all can be reclaimed.
   */
  allocFolio(ctx: HitContext): Folio | undefined {
    if (this.nrFree <= this.lowWatermarkPages) this.shrinkInactive(ctx, SWAP_CLUSTER_MAX);
    if (this.nrFree === 0) return undefined;
    this.nrFree--;
    const pfn = this.freedPfns.length > 0 ? this.freedPfns.pop()! : this.nextNeverUsedPfn++;
    let f = this.folios[pfn - this.firstPfn];
    if (!f) {
      f = new Folio(this.k.kaddr(), pfn);
      this.folios[pfn - this.firstPfn] = f;
    }
    f.flags = 0;
    f.mapping = undefined;
    f.index = 0;
    f.mapcount = 0;
    f.refs = 0;
    f.dirtiedNs = 0;
    return f;
  }

  freeFolio(f: Folio): void {
    if (f.flags & PG.lru) this.lruDel(f);
    f.flags = 0;
    f.mapping = undefined;
    this.freedPfns.push(f.pfn);
    this.nrFree++;
  }

  folioByPfn(pfn: number): Folio | undefined {
    return pfn >= this.firstPfn ? this.folios[pfn - this.firstPfn] : undefined;
  }

  /** folio_add_lru: new page-cache folios start inactive. */
  lruAdd(f: Folio): void {
    f.flags |= PG.lru;
    this.inactive.addHead(f);
  }

  private lruDel(f: Folio): void {
    if (f.flags & PG.active) this.active.remove(f);
    else this.inactive.remove(f);
    f.flags &= ~(PG.lru | PG.active);
  }

  /** folio_mark_accessed: referenced once -> PG_referenced; twice while inactive -> activate. */
  markAccessed(f: Folio): void {
    if (!(f.flags & PG.lru)) return;
    if (f.flags & PG.active) {
      f.flags |= PG.referenced;
      return;
    }
    if (f.flags & PG.referenced) {
      this.inactive.remove(f);
      f.flags = (f.flags | PG.active) & ~PG.referenced;
      this.active.addHead(f);
      this.balanceActive();
    } else {
      f.flags |= PG.referenced;
    }
  }

  /** inactive_is_low: keep the active list from outgrowing inactive × inactive_ratio. */
  private balanceActive(): void {
    const totalGiB = ((this.active.size + this.inactive.size) * 4096) / 1024 ** 3;
    const ratio = totalGiB >= 1 ? Math.floor(Math.sqrt(10 * totalGiB)) : 1;
    let budget = SWAP_CLUSTER_MAX;
    while (this.inactive.size * ratio < this.active.size && budget-- > 0) {
      const f = this.active.tail;
      if (!f) break;
      this.active.remove(f);
      f.flags &= ~(PG.active | PG.referenced);
      this.inactive.addHead(f);
    }
  }

  /** shrink_inactive_list: evict clean, unlocked, unmapped folios from the tail. */
  shrinkInactive(ctx: HitContext, nrToReclaim: number): number {
    let reclaimed = 0;
    let scanned = 0;
    const maxScan = Math.max(nrToReclaim * 8, 256);
    while (reclaimed < nrToReclaim && scanned < maxScan) {
      const f = this.inactive.tail;
      if (!f) break;
      scanned++;
      this.inactive.remove(f);
      const busy = PG.locked | PG.dirty | PG.writeback;
      if (f.flags & busy || f.mapcount > 0 || f.refs > 0) {
        // folio_check_references keeps mapped folios; locked, dirty or in-use ones wait their turn.
        // An unmapped clean file folio goes even if PG_referenced (FOLIOREF_RECLAIM_CLEAN).
        this.inactive.addHead(f);
        continue;
      }
      f.flags &= ~PG.lru;
      this.deleteFromPageCache(ctx, f);
      this.freeFolio(f);
      reclaimed++;
    }
    this.reclaimed += reclaimed;
    return reclaimed;
  }

  /** __filemap_remove_folio */
  deleteFromPageCache(ctx: HitContext, f: Folio): void {
    const mapping: AddressSpace | undefined = f.mapping;
    if (!mapping) return;
    if (mapping.pages.get(f.index) !== f) throw new SimBug(`folio ${f.pfn} is not in its mapping at ${f.index}`);
    if (this.k.tp.mm_filemap_delete_from_page_cache.enabled) this.k.tp.mm_filemap_delete_from_page_cache.emit(ctx, 0, f);
    mapping.pages.delete(f.index);
    this.nrFilePages--;
    f.mapping = undefined;
  }
}
