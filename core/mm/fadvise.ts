// Models: mm/fadvise.c (the fadvise64 syscall -> generic_fadvise) and mm/truncate.c's
// mapping_try_invalidate, which POSIX_FADV_DONTNEED uses to drop clean page-cache folios.
// NORMAL and SEQUENTIAL set the open file's readahead limit (the disk's read_ahead_kb, or twice
// it), RANDOM sets FMODE_RANDOM (a miss reads only what was asked for), WILLNEED starts a forced
// read of the range, DONTNEED starts writeback of the range's dirty pages without waiting and then
// drops the folios nobody dirties, maps, locks or holds.
// SIMPLIFICATION: no per-CPU LRU batches, so Linux's retry after lru_add_drain_all would find the
// same folios and is not made; folios that could not be dropped are not deactivated
// (deactivate_file_folio); invalidation costs a page-cache lookup per folio.
// SIMPLIFICATION: a negative offset is -EINVAL (Linux takes it and the range comes out empty).
// SIMPLIFICATION: POSIX_FADV_NOREUSE sets FMODE_NOREUSE, which nothing here reads (Linux reads it
// only in MGLRU's accounting of accesses through mappings).

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { FMODE, type File } from '../fs/types.js';
import { PAGE_SIZE, PG, type AddressSpace, type Folio } from './mm_types.js';
import { forcePageCacheRa } from './filemap.js';
import { DEFAULT_RA_PAGES } from './readahead.js';
import { WbSync } from './page-writeback.js';
import { PAGE_CACHE_LOOKUP_NS, VFS_DISPATCH_NS } from '../hw/cpu.js';
import { EBADF, EINVAL } from '../uapi/errno.js';

/** include/uapi/linux/fadvise.h */
export const POSIX_FADV = { NORMAL: 0, RANDOM: 1, SEQUENTIAL: 2, WILLNEED: 3, DONTNEED: 4, NOREUSE: 5 } as const;

/** LLONG_MAX as a byte offset: "to the end of the file" (2^53 - 1 is a whole page short of it, like it). */
const LLONG_MAX_BYTES = Number.MAX_SAFE_INTEGER;

/** Folios looked at per batch of invalidation (a folio_batch holds 31). */
const FOLIO_BATCH_SIZE = 31;

/** fadvise64(fd, offset, len, advice): 0 or -errno. */
export function* sysFadvise64(k: Kernel, task: Task, fd: number, offsetBytes: number, lenBytes: number, advice: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'fadvise64', fd, offsetBytes, lenBytes, advice);
  yield SYSCALL_ENTRY_NS;
  const file = task.files?.get(fd);
  const ret = file ? yield* genericFadvise(k, task, ioId, file, offsetBytes, lenBytes, advice) : -EBADF;
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'fadvise64', ret);
}

/** generic_fadvise (vfs_fadvise: ext4 and block devices have no ->fadvise of their own). */
export function* genericFadvise(k: Kernel, task: Task, ioId: number, file: File, offsetBytes: number, lenBytes: number, advice: number): Generator<number, number, void> {
  const fn = k.fn.generic_fadvise;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, file, offsetBytes, lenBytes, advice);
  yield VFS_DISPATCH_NS;
  const ret = yield* adviseImpl(k, task, ioId, file, offsetBytes, lenBytes, advice);
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, ret);
  return ret;
}

function* adviseImpl(k: Kernel, task: Task, ioId: number, file: File, offsetBytes: number, lenBytes: number, advice: number): Generator<number, number, void> {
  if (lenBytes < 0 || offsetBytes < 0) return -EINVAL;
  const inode = file.inode;
  // len 0 means "to the end"; the end byte is inclusive
  const endByte = lenBytes === 0 || offsetBytes + lenBytes > LLONG_MAX_BYTES ? LLONG_MAX_BYTES : offsetBytes + lenBytes - 1;
  const bdiRaPages = inode.aops.bdi?.raPages ?? k.queueByDev(inode.bdevDev)?.raPages ?? DEFAULT_RA_PAGES;
  switch (advice) {
    case POSIX_FADV.NORMAL:
      file.ra.raPages = bdiRaPages;
      file.fMode &= ~(FMODE.RANDOM | FMODE.NOREUSE);
      return 0;
    case POSIX_FADV.RANDOM:
      file.fMode |= FMODE.RANDOM;
      return 0;
    case POSIX_FADV.SEQUENTIAL:
      file.ra.raPages = bdiRaPages * 2;
      file.fMode &= ~FMODE.RANDOM;
      return 0;
    case POSIX_FADV.NOREUSE:
      file.fMode |= FMODE.NOREUSE;
      return 0;
    case POSIX_FADV.WILLNEED: {
      // first and last partial page included; fadvise succeeds whatever the read does
      const startIndex = Math.floor(offsetBytes / PAGE_SIZE);
      const endIndex = Math.floor(endByte / PAGE_SIZE);
      yield* forcePageCacheRa(k, task, file, startIndex, endIndex - startIndex + 1, ioId);
      return 0;
    }
    case POSIX_FADV.DONTNEED: {
      // __filemap_fdatawrite_range(WB_SYNC_NONE): start writing dirty pages, do not wait for them
      yield* k.wb.writepages(task, inode, ioId, WbSync.NONE, offsetBytes, endByte + 1, Infinity);
      // only whole pages go: a partial first or last page stays (unless it is the file's last)
      const startIndex = Math.ceil(offsetBytes / PAGE_SIZE);
      let endIndex = Math.floor(endByte / PAGE_SIZE);
      if (endByte % PAGE_SIZE !== PAGE_SIZE - 1 && endByte !== inode.sizeBytes - 1) {
        if (endIndex === 0) return 0;
        endIndex--;
      }
      if (endIndex >= startIndex) yield* mappingTryInvalidate(k, task, ioId, inode.mapping, startIndex, endIndex);
      return 0;
    }
    default:
      return -EINVAL;
  }
}

/** What an invalidation did: folios dropped, and folios it had to keep (dirty, mapped or held). */
export interface InvalidateResult {
  readonly invalidated: number;
  readonly failed: number;
}

/** The cached folios with index in [start, end], in index order. */
function cachedFolios(mapping: AddressSpace, start: number, end: number): Folio[] {
  const out: Folio[] = [];
  if (end - start + 1 <= mapping.pages.size) {
    for (let i = start; i <= end; i++) {
      const f = mapping.pages.get(i);
      if (f) out.push(f);
    }
    return out;
  }
  for (const [i, f] of mapping.pages) if (i >= start && i <= end) out.push(f);
  return out.sort((a, b) => a.index - b.index);
}

/**
 * mapping_try_invalidate: drop the clean, unmapped, unused folios with index in [start, end].
 * Locked folios and folios under writeback are skipped as find_lock_entries skips them; dirty,
 * mapped or referenced ones fail (mapping_evict_folio) and are counted.
 */
export function* mappingTryInvalidate(k: Kernel, task: Task, ioId: number, mapping: AddressSpace, start: number, end: number): Generator<number, InvalidateResult, void> {
  const fn = k.fn.mapping_try_invalidate;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, mapping, start, end);
  const folios = cachedFolios(mapping, start, end);
  let invalidated = 0;
  let failed = 0;
  for (let b = 0; b < folios.length; b += FOLIO_BATCH_SIZE) {
    const batch = Math.min(FOLIO_BATCH_SIZE, folios.length - b);
    yield batch * PAGE_CACHE_LOOKUP_NS;
    for (let i = b; i < b + batch; i++) {
      const f = folios[i]!;
      // it may have been reclaimed or truncated while we slept
      if (f.mapping !== mapping || f.flags & (PG.locked | PG.writeback)) continue;
      if (f.flags & PG.dirty || f.mapcount > 0 || f.refs > 0) {
        failed++;
        continue;
      }
      k.mm.deleteFromPageCache(k.sched.cpu(task.cpu), f);
      k.mm.freeFolio(f);
      invalidated++;
    }
  }
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, invalidated);
  return { invalidated, failed };
}
