// Models: mm/truncate.c's invalidate_inode_pages2_range as O_DIRECT uses it (kiocb_invalidate_pages
// before a direct write, kiocb_invalidate_post_direct_write after it): each cached folio of the
// range is locked, waited out of writeback, unmapped from every page table that maps it
// (unmap_mapping_pages), and removed from the page cache unless it is dirty
// (invalidate_complete_folio2 fails on a dirty folio: -EBUSY). A folio left behind keeps what it
// held, so the cache and its mappings can disagree with the device (dio_warn_stale_pagecache).
// SIMPLIFICATION: after an async direct write (aio, io_uring) the invalidation runs in the
// completion's interrupt context and cannot sleep, so a locked folio or one under writeback
// counts as a failure too; Linux defers it to a workqueue that waits.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import type { Inode } from '../fs/types.js';
import type { HitContext } from '../trace/probe.js';
import { PG, type Folio } from './mm_types.js';
import { unmapMappingFolio } from './memory.js';
import { folioPutRemoved, folioWaitLocked, folioWaitWriteback } from './filemap.js';
import { PAGE_CACHE_LOOKUP_NS } from '../hw/cpu.js';

/** What an invalidation did: CPU time spent, and the folios it could not remove. */
export interface InvalidateResult {
  costNs: number;
  readonly busy: Folio[];
}

/**
 * invalidate_complete_folio2 after the unmap: remove a clean folio, keep (and report) a dirty one.
 * Like Linux it ignores other references: a task sleeping on the folio finds it gone from the
 * page cache when it wakes, retries, and its folio_put frees it.
 */
function invalidateFolio2(k: Kernel, ctx: HitContext, f: Folio, out: InvalidateResult): void {
  if (f.mapcount > 0) out.costNs += unmapMappingFolio(k, f);
  if (f.flags & (PG.dirty | PG.locked | PG.writeback)) {
    out.busy.push(f);
    return;
  }
  k.mm.deleteFromPageCache(ctx, f);
  if (f.refs === 0) k.mm.freeFolio(f);
}

/** The cached folios of [first, last], in index order. */
function cachedFolios(inode: Inode, first: number, last: number): Folio[] {
  const out: Folio[] = [];
  const pages = inode.mapping.pages;
  if (pages.size === 0) return out;
  if (last - first + 1 <= pages.size) {
    for (let i = first; i <= last; i++) {
      const f = pages.get(i);
      if (f) out.push(f);
    }
    return out;
  }
  for (const [i, f] of pages) if (i >= first && i <= last) out.push(f);
  return out.sort((a, b) => a.index - b.index);
}

/** invalidate_inode_pages2_range from process context: sleeps on locked folios and writeback. */
export function* invalidateInodePages2Range(k: Kernel, task: Task, inode: Inode, first: number, last: number): Generator<number, InvalidateResult, void> {
  const out: InvalidateResult = { costNs: 0, busy: [] };
  const folios = cachedFolios(inode, first, last);
  for (const f of folios) {
    yield PAGE_CACHE_LOOKUP_NS;
    f.refs++; // folio_batch holds a reference while it sleeps
    yield* folioWaitLocked(k, task, f);
    yield* folioWaitWriteback(k, task, f);
    f.refs--;
    if (f.mapping !== inode.mapping) {
      folioPutRemoved(k, f); // removed meanwhile
      continue;
    }
    invalidateFolio2(k, k.sched.cpu(task.cpu), f, out);
  }
  return out;
}

/** The same without sleeping, for a direct write completed in interrupt context. */
export function invalidateInodePages2RangeAtomic(k: Kernel, ctx: HitContext, inode: Inode, first: number, last: number): InvalidateResult {
  const out: InvalidateResult = { costNs: 0, busy: [] };
  for (const f of cachedFolios(inode, first, last)) invalidateFolio2(k, ctx, f, out);
  return out;
}
