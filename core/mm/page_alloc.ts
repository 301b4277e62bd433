// Models: mm/page_alloc.c: the free page frames of each node, its zone watermarks as
// init_per_zone_wmark_min and __setup_per_zone_wmarks compute them (min from min_free_kbytes =
// int_sqrt(16 x lowmem KiB), clamped to 128 KiB..256 MiB; low and high each a further
// max(min / 4, watermark_scale_factor / 10000 of the zone) above), and the allocation fast and slow
// paths: below the low watermark an allocation wakes kswapd; below min the allocating task reclaims
// itself (direct reclaim, core/mm/vmscan.ts). The page cache's LRU entry points (folio_add_lru,
// folio_mark_accessed) go to the node's lruvec and its policy's ops table.
// SIMPLIFICATION: order-0 pages only, one node with one zone, no lowmem_reserve or watermark boost;
// an allocation that finds no free page at all reclaims in place without being charged the time
// (callers that can sleep reclaim first, below min, and are charged).

import { Folio, PG, type AddressSpace } from './mm_types.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task, TaskBody } from '../kernel/sched/task.js';
import type { HitContext } from '../trace/probe.js';
import type { VmSpec } from '../userspace/job.js';
import { SimBug } from '../sim/errors.js';
import { DEFAULT_LRU_POLICY, LRU_POLICIES, Lruvec, PgData, tryToFreePages, wakeupKswapd, type LruOps } from './vmscan.js';
import { MemCgroup, NO_LIMITS, type MemcgLimits } from '../cgroup/memcontrol.js';
import { unpackShadow } from './workingset.js';
// MGLRU registers itself among the policies
import './mglru.js';

/** Memory kept back for the kernel image, page tables and slab (not available to the page cache). */
const KERNEL_RESERVED_FRACTION = 0.04;
/** vm.watermark_scale_factor's default: 10 / 10000 of memory between watermarks. */
export const DEFAULT_WATERMARK_SCALE_FACTOR = 10;
/** min_free_kbytes' bounds when the kernel computes it. */
const MIN_FREE_KBYTES_FLOOR = 128;
const MIN_FREE_KBYTES_CEIL = 262_144;

export interface Watermarks {
  readonly minFreeKbytes: number;
  readonly minPages: number;
  readonly lowPages: number;
  readonly highPages: number;
}

/** The watermarks of a zone of `managedPages`, as Linux computes them from the vm knobs. */
export function computeWatermarks(managedPages: number, vm: Partial<VmSpec> = {}): Watermarks {
  const lowmemKbytes = managedPages * 4;
  const minFreeKbytes = vm.minFreeKbytes ?? Math.min(MIN_FREE_KBYTES_CEIL, Math.max(MIN_FREE_KBYTES_FLOOR, Math.floor(Math.sqrt(lowmemKbytes * 16))));
  const minPages = Math.floor(minFreeKbytes / 4);
  const scale = vm.watermarkScaleFactor ?? DEFAULT_WATERMARK_SCALE_FACTOR;
  const gap = Math.max(Math.floor(minPages / 4), Math.floor((managedPages * scale) / 10_000));
  return { minFreeKbytes, minPages, lowPages: minPages + gap, highPages: minPages + 2 * gap };
}

export class MemoryManager {
  readonly totalPages: number;
  /** Pages the allocator manages (zone_managed_pages): memory less the kernel's reserve. */
  readonly managedPages: number;
  /** Freed PFNs, the next allocation's on top. */
  private readonly freedPfns: number[] = [];
  /** PFNs from here up were never handed out: boot lists no free page one by one, so memory size costs nothing. */
  private nextNeverUsedPfn: number;
  private nrFree: number;
  /** Folios by PFN - firstPfn (dense: PFNs below firstPfn are the kernel's and never handed out). */
  private readonly folios: (Folio | undefined)[] = [];
  private readonly firstPfn: number;
  private readonly nodes: PgData[] = [];
  /** The root memory cgroup's lruvec on the one node. */
  private readonly lruvec0: Lruvec;
  private readonly ops: LruOps;
  /** Memory cgroups by id: the root first. */
  readonly memcgs: MemCgroup[] = [];
  readonly watermarks: Watermarks;
  /** Page-cache pages (all file folios). */
  nrFilePages = 0;
  nrDirty = 0;
  nrWriteback = 0;
  nrAnon = 0;
  /** Forks a kernel thread (kthread_run); set by the machine at boot. */
  spawnKthread: (comm: string, body: (t: Task) => TaskBody) => Task = () => {
    throw new SimBug('no kernel thread spawner');
  };

  constructor(
    private readonly k: Kernel,
    memoryBytes: number,
    vm: Partial<VmSpec> = {},
  ) {
    this.totalPages = Math.floor(memoryBytes / 4096);
    const reserved = Math.floor(this.totalPages * KERNEL_RESERVED_FRACTION);
    this.managedPages = this.totalPages - reserved;
    // hand out low PFNs first, then the most recently freed page
    this.nextNeverUsedPfn = reserved;
    this.firstPfn = reserved;
    this.nrFree = this.managedPages;
    const ops = LRU_POLICIES.get(vm.lru ?? DEFAULT_LRU_POLICY);
    if (!ops) throw new SimBug(`unknown LRU policy ${vm.lru}`);
    this.watermarks = computeWatermarks(this.managedPages, vm);
    this.ops = ops;
    const node = new PgData(0);
    node.wmarkMin = this.watermarks.minPages;
    node.wmarkLow = this.watermarks.lowPages;
    node.wmarkHigh = this.watermarks.highPages;
    this.nodes.push(node);
    const root = new MemCgroup(0, '', NO_LIMITS);
    this.memcgs.push(root);
    node.lruvec = new Lruvec(node, ops, root, undefined);
    node.lruvecs.push(node.lruvec);
    root.lruvecs.push(node.lruvec);
    this.lruvec0 = node.lruvec;
  }

  /** A memory cgroup under the root (mkdir /sys/fs/cgroup/NAME), with its lruvec on each node. */
  createMemcg(name: string, limits: MemcgLimits): MemCgroup {
    const memcg = new MemCgroup(this.memcgs.length, name, limits);
    this.memcgs.push(memcg);
    for (const node of this.nodes) {
      const lruvec = new Lruvec(node, this.ops, memcg, node.lruvec);
      node.lruvecs.push(lruvec);
      memcg.lruvecs.push(lruvec);
    }
    return memcg;
  }

  memcgByName(name: string): MemCgroup | undefined {
    return this.memcgs.find((m) => m.name === name);
  }

  get freePages(): number {
    return this.nrFree;
  }

  /** Pages a writer may dirty against: free + file pages (global_dirtyable_memory). */
  get dirtyablePages(): number {
    return this.nrFree + this.nrFilePages;
  }

  node(nid: number): PgData {
    const n = this.nodes[nid];
    if (!n) throw new SimBug(`no memory node ${nid}`);
    return n;
  }

  /** The lruvec a folio belongs on (mem_cgroup_lruvec(folio_memcg(folio), folio_pgdat(folio))). */
  folioLruvec(f: Folio): Lruvec {
    const memcg = f.memcg;
    return memcg === undefined ? this.lruvec0 : memcg.lruvecs[0]!;
  }

  /** __alloc_pages_slowpath's test before direct reclaim: free memory is at or below the min watermark. */
  get belowMinWatermark(): boolean {
    return this.nrFree <= this.lruvec0.pgdat.wmarkMin;
  }

  /**
   * Whether `task` must reclaim before it allocates: free memory at or below min, or its memory
   * cgroup over memory.high or at memory.max. Callers that can sleep check it and run directReclaim().
   */
  mustReclaim(task: Task): boolean {
    return this.nrFree <= this.lruvec0.pgdat.wmarkMin || (task.memcg !== undefined && task.memcg.overLimit);
  }

  /**
   * Allocates a page. Below the low watermark this wakes kswapd. Returns undefined only when
   * nothing at all can be reclaimed.
   */
  allocFolio(ctx: HitContext, ioId = 0): Folio | undefined {
    const pgdat = this.lruvec0.pgdat;
    // mem_cgroup_charge: to the allocating task's group (none to look up on a machine without groups)
    const memcg = this.memcgs.length > 1 ? this.k.sched.cpu(ctx.cpuId).current.memcg : undefined;
    if (memcg !== undefined && memcg.usagePages >= memcg.limits.maxPages) {
      tryToFreePages(this.k, pgdat, ctx, ioId, memcg);
      if (memcg.usagePages >= memcg.limits.maxPages) {
        memcg.eventsMax++;
        return undefined;
      }
    }
    if (this.nrFree <= pgdat.wmarkLow) {
      wakeupKswapd(this.k, pgdat, ctx, ioId);
      if (this.nrFree === 0) tryToFreePages(this.k, pgdat, ctx, ioId);
      if (this.nrFree === 0) return undefined;
    }
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
    f.memcg = memcg;
    if (memcg !== undefined && ++memcg.usagePages > memcg.peakPages) memcg.peakPages = memcg.usagePages;
    return f;
  }

  freeFolio(f: Folio): void {
    if (f.flags & PG.lru) {
      const lruvec = this.folioLruvec(f);
      lruvec.ops.delFolio(lruvec, f);
    }
    f.flags = 0;
    f.mapping = undefined;
    if (f.memcg !== undefined) {
      f.memcg.usagePages--;
      f.memcg = undefined;
    }
    this.freedPfns.push(f.pfn);
    this.nrFree++;
  }

  folioByPfn(pfn: number): Folio | undefined {
    return pfn >= this.firstPfn ? this.folios[pfn - this.firstPfn] : undefined;
  }

  /**
   * folio_add_lru for a folio just added to the page cache at (mapping, index): a shadow entry left
   * there by reclaim is a refault (workingset_refault, which may start the folio active).
   */
  lruAdd(f: Folio): void {
    const lruvec = this.folioLruvec(f);
    const mapping = f.mapping;
    if (mapping !== undefined && mapping.shadows.size > 0) {
      const shadow = mapping.shadows.get(f.index);
      if (shadow !== undefined) {
        mapping.shadows.delete(f.index);
        this.k.stat.workingsetRefaultFile++;
        lruvec.workingsetRefaultFile++;
        const evictedFrom = this.memcgs[unpackShadow(shadow).memcgId]?.lruvecs[0] ?? this.lruvec0;
        lruvec.ops.refault(this.k, lruvec, f, shadow, evictedFrom);
      }
    }
    f.flags |= PG.lru;
    lruvec.ops.addFolio(lruvec, f);
  }

  /** folio_mark_accessed (the read path calls it once per folio per read). */
  markAccessed(f: Folio): void {
    const lruvec = this.folioLruvec(f);
    lruvec.ops.markAccessed(this.k, lruvec, f);
  }

  /** folio_end_writeback's folio_rotate_reclaimable: reclaim asked for this folio when it was dirty. */
  rotateReclaimable(f: Folio): void {
    f.flags &= ~PG.reclaim;
    const lruvec = this.folioLruvec(f);
    lruvec.ops.rotateReclaimable(lruvec, f);
  }

  /** __filemap_remove_folio without a shadow (truncation, invalidation, POSIX_FADV_DONTNEED). */
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
