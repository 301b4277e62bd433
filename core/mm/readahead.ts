// Models: mm/readahead.c (Linux 6.10+): on-demand readahead. A cold sequential reader gets an
// initial window (4x a one-page request), and each hit on the PG_readahead marker pushes the
// window forward and ramps it (x4 while small, x2 up to half of ra_pages, then ra_pages):
// 16 -> 32 -> 64 -> 128 KiB for 4 KiB reads with the default read_ahead_kb = 128.
// The window arithmetic is pure (tested as a table); the I/O side lives in filemap.ts.
// ra_pages comes from the disk's read_ahead_kb when a file is opened (file_ra_state_init);
// posix_fadvise doubles it (SEQUENTIAL) or bypasses the window (RANDOM: FMODE_RANDOM makes a miss
// read only the pages asked for, as read_ahead_kb = 0 makes it read only the first one).
// SIMPLIFICATION: order-0 folios only, so ra->order stays 0 and windows are never rounded to
// large-folio boundaries.

import type { FileRaState } from './mm_types.js';

/** VM_READAHEAD_PAGES: read_ahead_kb = 128 KiB. */
export const DEFAULT_RA_PAGES = 32;

/** Largest read_ahead_kb kiotrace takes: a window of 64 MiB is already 16384 folios per readahead. */
export const MAX_READ_AHEAD_KB = 64 * 1024;

/**
 * Why `kb` cannot be a disk's read_ahead_kb, or undefined. Linux rounds a KiB count that is not a
 * whole number of pages down without a word; here that is a mistake to point at.
 */
export function readAheadKbProblem(kb: number): string | undefined {
  if (!Number.isSafeInteger(kb) || kb < 0) return 'must be a number of KiB like 128 (0 turns readahead off)';
  if (kb % 4 !== 0) return `must be a whole number of 4 KiB pages, e.g. ${Math.floor(kb / 4) * 4} or ${Math.floor(kb / 4) * 4 + 4}`;
  if (kb > MAX_READ_AHEAD_KB) return `must be at most ${MAX_READ_AHEAD_KB} (${MAX_READ_AHEAD_KB / 1024} MiB)`;
  return undefined;
}

/** roundup_pow_of_two */
function roundupPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** get_init_ra_size */
export function initRaSize(reqPages: number, maxPages: number): number {
  const n = roundupPow2(reqPages);
  if (n <= Math.floor(maxPages / 32)) return n * 4;
  if (n <= Math.floor(maxPages / 4)) return n * 2;
  return maxPages;
}

/** get_next_ra_size */
export function nextRaSize(curPages: number, maxPages: number): number {
  if (curPages < Math.floor(maxPages / 16)) return 4 * curPages;
  if (curPages <= Math.floor(maxPages / 2)) return 2 * curPages;
  return maxPages;
}

/** What to read: pages [start, start + size), marking start + size - asyncSize with PG_readahead. */
export interface RaWindow {
  readonly start: number;
  readonly size: number;
  readonly asyncSize: number;
}

/** ractl_max_pages: a request larger than ra_pages may use a window up to the request (capped). */
function maxPagesFor(ra: FileRaState, reqPages: number, ioPages: number): number {
  let max = ra.raPages;
  if (reqPages > max && ioPages > max) max = Math.min(reqPages, ioPages);
  return max;
}

/**
 * page_cache_sync_ra: a read missed the cache at `index`. `prevMiss(index, max)` returns the
 * index of the nearest uncached page at or below `index` within `max` pages, or -1 when every page
 * back to the start of the file is cached (page_cache_prev_miss). Updates `ra`; returns the window
 * to read.
 */
export function syncRaWindow(
  ra: FileRaState,
  index: number,
  reqPages: number,
  ioPages: number,
  prevMiss: (index: number, max: number) => number,
): RaWindow {
  const maxPages = maxPagesFor(ra, reqPages, ioPages);
  const prevIndex = Math.floor(ra.prevPos / 4096);
  // start of file, oversized read, or sequential cache miss. Linux compares index - prev_index
  // as unsigned, so a backwards seek (or no previous read, prev_pos = -1) is not sequential.
  const delta = index - prevIndex;
  if (index === 0 || reqPages > maxPages || (prevIndex >= 0 && delta >= 0 && delta <= 1)) {
    ra.start = index;
    ra.size = initRaSize(reqPages, maxPages);
    ra.asyncSize = ra.size > reqPages ? ra.size - reqPages : ra.size >> 1;
    return { start: ra.start, size: ra.size, asyncSize: ra.asyncSize };
  }
  // look for the cached history a sequential stream would leave behind
  const miss = prevMiss(index - 1, maxPages);
  let contig = index - miss - 1;
  if (contig <= reqPages) {
    // small random read: read as is, leave the state alone
    return { start: index, size: reqPages, asyncSize: 0 };
  }
  if (miss < 0) contig *= 2;
  ra.start = index;
  ra.size = Math.min(contig + reqPages, maxPages);
  ra.asyncSize = 1;
  return { start: ra.start, size: ra.size, asyncSize: ra.asyncSize };
}

/**
 * page_cache_async_ra: a read touched a folio marked PG_readahead at `index`. `nextMiss(index,
 * max)` returns the first uncached index at or above `index` within `max` pages, or -1.
 * Returns undefined when no readahead should happen.
 */
export function asyncRaWindow(
  ra: FileRaState,
  index: number,
  reqPages: number,
  ioPages: number,
  nextMiss: (index: number, max: number) => number,
): RaWindow | undefined {
  if (ra.raPages === 0) return undefined;
  const maxPages = maxPagesFor(ra, reqPages, ioPages);
  const expected = ra.start + ra.size - ra.asyncSize;
  if (index === expected) {
    ra.start += ra.size;
    ra.size = Math.max(ra.size, nextRaSize(ra.size, maxPages));
    ra.asyncSize = ra.size;
    return { start: ra.start, size: ra.size, asyncSize: ra.asyncSize };
  }
  // marker hit without valid state (e.g. interleaved streams): find where the cached run ends
  const start = nextMiss(index + 1, maxPages);
  if (start <= 0 || start - index > maxPages) return undefined;
  ra.start = start;
  ra.size = start - index + reqPages;
  ra.size = nextRaSize(ra.size, maxPages);
  ra.asyncSize = ra.size;
  return { start: ra.start, size: ra.size, asyncSize: ra.asyncSize };
}

/** force_page_cache_ra reads in chunks of 2 MiB. */
export const FORCE_RA_CHUNK_PAGES = 512;

/**
 * force_page_cache_ra's bound: a forced read (POSIX_FADV_WILLNEED, or a miss on an FMODE_RANDOM
 * file) reads at most the larger of ra_pages and the device's largest request (bdi->io_pages).
 */
export function forceRaPages(nrToRead: number, raPages: number, ioPages: number): number {
  return Math.min(nrToRead, Math.max(ioPages, raPages));
}

/** MMAP_LOTSAMISS: stop read-around after this many mmap misses without hits. */
export const MMAP_LOTSAMISS = 100;

/**
 * do_sync_mmap_readahead's read-around for a major fault at `pgoff`: a window of ra_pages
 * centred on the fault, a quarter of it async. Returns undefined once mmap_miss says the
 * accesses are random.
 */
export function readAroundWindow(ra: FileRaState, pgoff: number): RaWindow | undefined {
  if (ra.raPages === 0) return undefined;
  if (ra.mmapMiss < MMAP_LOTSAMISS * 10) ra.mmapMiss++;
  if (ra.mmapMiss > MMAP_LOTSAMISS) return undefined;
  ra.start = Math.max(0, pgoff - Math.floor(ra.raPages / 2));
  ra.size = ra.raPages;
  ra.asyncSize = Math.floor(ra.raPages / 4);
  return { start: ra.start, size: ra.size, asyncSize: ra.asyncSize };
}
