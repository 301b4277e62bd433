// Models: include/linux/mm_types.h and include/linux/page-flags.h: folios (one 4 KiB page each),
// the page cache's address_space, VMAs and page tables (VA -> VPN -> PFN).

import { WaitQueue } from '../sim/process.js';
import type { Inode } from '../fs/types.js';
import { STLB_ENTRIES } from '../hw/cpu.js';
import type { MemCgroup } from '../cgroup/memcontrol.js';
import type { PageVersions } from './data-gen.js';

export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 4096;

/** Page flag bits (PG_*). */
export const PG = {
  locked: 1 << 0,
  referenced: 1 << 1,
  uptodate: 1 << 2,
  dirty: 1 << 3,
  lru: 1 << 4,
  active: 1 << 5,
  workingset: 1 << 6,
  writeback: 1 << 7,
  readahead: 1 << 8,
  reclaim: 1 << 9,
  anon: 1 << 10,
} as const;

/**
 * MGLRU's refs counter in the flags (LRU_REFS_MASK, include/linux/mm_inline.h): accesses through
 * file descriptors after the one PG_referenced records, in LRU_REFS_WIDTH bits above the PG_* bits.
 */
export const LRU_REFS_WIDTH = 2;
export const LRU_REFS_PGOFF = 20;
export const LRU_REFS_MASK = ((1 << LRU_REFS_WIDTH) - 1) << LRU_REFS_PGOFF;

/**
 * struct folio. SIMPLIFICATION: every folio is order 0 (one 4 KiB page); Linux's large folios
 * would change readahead sizes and LRU accounting only in degree.
 */
export class Folio {
  flags = 0;
  mapping: AddressSpace | undefined;
  /** Page offset in the file (folio->index), in pages. */
  index = 0;
  /** Number of PTEs mapping it (folio_mapcount). */
  mapcount = 0;
  /** Extra references held by code using the folio across a sleep (folio_get / folio_put). */
  refs = 0;
  /** Sleepers waiting for PG_locked or PG_writeback to clear (folio_wait_table). */
  waiters: WaitQueue | undefined;
  /** LRU list links (struct list_head lru). */
  lruPrev: Folio | undefined;
  lruNext: Folio | undefined;
  /** LRU_GEN_MASK of folio->flags: the MGLRU generation whose list it is on (-1: none, folio_lru_gen). */
  lruGen = -1;
  /** When it was dirtied (for kupdate-style expiry, kept per folio rather than per inode). */
  dirtiedNs = 0;
  /** The memory cgroup it is charged to (folio_memcg). */
  memcg: MemCgroup | undefined;
  /** The version of the file page this folio holds (data-gen.ts), and the one its writeback
   *  carries (taken when the writeback starts: later stores make a newer version). */
  dataVersion = 0;
  wbVersion = 0;

  constructor(
    readonly kaddr: number,
    readonly pfn: number,
  ) {}

  waitQueue(): WaitQueue {
    if (!this.waiters) this.waiters = new WaitQueue();
    return this.waiters;
  }
}

/** Readahead state of one open file (struct file_ra_state). */
export interface FileRaState {
  /** Where the current window starts (pages). */
  start: number;
  /** Window size (pages). */
  size: number;
  /** Start async readahead when this many pages of the window remain (pages). */
  asyncSize: number;
  /** Maximum window (read_ahead_kb in pages). */
  raPages: number;
  /** Cache misses through mmap (read-around gives up after MMAP_LOTSAMISS). */
  mmapMiss: number;
  /** Byte position of the previous read. */
  prevPos: number;
}

/** file_ra_state_init: a new file's readahead state, its window limit `raPages` (0: a file with no readahead). */
export function fileRaStateInit(raPages = 0): FileRaState {
  return { start: 0, size: 0, asyncSize: 0, raPages, mmapMiss: 0, prevPos: -1 };
}

/** struct address_space: the page cache of one inode, keyed by page offset. */
export class AddressSpace {
  readonly pages = new Map<number, Folio>();
  /** PAGECACHE_TAG_DIRTY / PAGECACHE_TAG_WRITEBACK: the tagged folios, so writeback and fsync
   *  visit only those instead of every cached page. */
  readonly dirtyFolios = new Set<Folio>();
  readonly writebackFolios = new Set<Folio>();
  /** Shadow entries reclaim left at evicted indices (mm/workingset.c; in Linux, the same xarray). */
  readonly shadows = new Map<number, number>();
  /** mapping->wb_err (an errseq_t, lib/errseq.ts): the last writeback error and who has seen it. */
  wbErr = 0;
  /** Page versions written and on the device (data-gen.ts); created by the first write. */
  versions: PageVersions | undefined;

  get nrDirty(): number {
    return this.dirtyFolios.size;
  }

  get nrWriteback(): number {
    return this.writebackFolios.size;
  }

  constructor(
    readonly kaddr: number,
    readonly host: Inode,
  ) {}
}

/** VMA flags (VM_*). */
export const VM = {
  READ: 0x1,
  WRITE: 0x2,
  EXEC: 0x4,
  SHARED: 0x8,
  /** MADV_SEQUENTIAL: faults read ahead as a sequential reader would. */
  SEQ_READ: 0x8000,
  /** MADV_RANDOM: faults read only the page. */
  RAND_READ: 0x10000,
} as const;

/** struct vm_area_struct */
export interface Vma {
  readonly kaddr: number;
  readonly startVa: number;
  readonly endVa: number;
  /** vm_flags; madvise changes the VM_SEQ_READ / VM_RAND_READ hints. */
  flags: number;
  /** The mapped file (undefined for anonymous memory). */
  readonly file: import('../fs/types.js').File | undefined;
  /** File offset of startVa, in pages (vm_pgoff). */
  readonly pgoff: number;
}

/** One page-table entry: the PFN and whether writes are allowed. */
export interface Pte {
  pfn: number;
  writable: boolean;
  /** An anonymous page created by copy-on-write of a MAP_PRIVATE file page. */
  anon: boolean;
}

/** struct mm_struct: a process address space. */
export class MmStruct {
  readonly vmas: Vma[] = [];
  /** The page table, flattened: VPN -> PTE. */
  readonly pageTable = new Map<number, Pte>();
  /** Next address handed out by mmap (top-down allocation as on x86-64). */
  mmapBaseVa = 0x7f00_0000_0000;
  /** The program it runs (execve's filename; mm->exe_file's path): whose symbols its user stacks show. */
  exePath: string | undefined = undefined;
  /** Strings the process keeps in its data segment (paths passed to open), by address. */
  readonly userStrings = new Map<number, string>();
  stringsVa = 0x0040_4000;
  /**
   * Structs and arrays the process hands the kernel by pointer (nanosleep's struct timespec,
   * execve's argv), by address: what a probe reading through the pointer finds. Each kind of
   * struct has one address (a local of the caller, reused call after call).
   */
  readonly userStructs = new Map<number, object>();
  readonly userStructVa = new Map<string, number>();
  /**
   * Data bytes the process put at an address (a buffer's start), where kiotrace carries bytes:
   * what a device shows them (a printer). Elsewhere memory holds no bytes, only page versions.
   */
  readonly userBytes = new Map<number, Uint8Array>();
  /** The VPN each TLB slot translates (-1: empty), indexed by vpn % STLB_ENTRIES.
   *  SIMPLIFICATION: one direct-mapped TLB per address space, as if its tasks never left their
   *  CPU (Linux's TLB is per CPU, set-associative, tagged by PCID). */
  readonly tlb = new Float64Array(STLB_ENTRIES).fill(-1);
  /** CPU time spent in user mode on loads and stores through mappings (userAccess). */
  userAccessNs = 0;

  constructor(readonly kaddr: number) {}

  findVma(va: number): Vma | undefined {
    for (const vma of this.vmas) if (va >= vma.startVa && va < vma.endVa) return vma;
    return undefined;
  }
}
