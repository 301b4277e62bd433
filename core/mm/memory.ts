// Models: mm/memory.c and mm/gup.c: user page faults on file mappings (handle_mm_fault ->
// do_read_fault with fault-around, or __do_fault -> filemap_fault), copy-on-write for
// MAP_PRIVATE, write-protect faults for MAP_SHARED, and pinning user pages for O_DIRECT.
// The fault chain VA -> VPN -> (inode, pgoff) -> block -> sector -> PFN is resolved step by step
// and every step fires a probe; the PTE is installed last. A fault costs what Linux spends: the
// exception's entry and exit, the VMA lookup, the page-table walk, one PTE install per page mapped
// (fault-around maps up to 16 cached pages at once); a user access pays a TLB miss (page walk) the
// first time it touches a page the TLB does not hold, and removing PTEs flushes the TLB.
// SIMPLIFICATION: anonymous memory is populated at mmap time (MAP_POPULATE), so faults here are
// always on file mappings (or COW of them); copy_to_user on an unmapped address fails with EFAULT
// instead of faulting anonymous pages in.

import { PAGE_SIZE, PG, VM, type Folio, type MmStruct, type Pte, type Vma } from './mm_types.js';
import { deviceVersion, lastWrittenVersion, nextPageVersion } from './data-gen.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import type { BioVec } from '../block/blk_types.js';
import { doSyncMmapReadahead, filemapReadFolio, folioMarkDirty, folioPutRemoved, folioWaitLocked, pageCacheAsyncRa } from './filemap.js';
import {
  FAULT_VMA_LOOKUP_NS,
  FOLIO_ALLOC_NS,
  HANDLE_MM_FAULT_NS,
  PAGE_CACHE_LOOKUP_NS,
  PAGE_FAULT_ENTRY_NS,
  PAGE_FAULT_EXIT_NS,
  PTE_INSTALL_NS,
  STLB_ENTRIES,
  TLB_FLUSH_ALL_NS,
  TLB_FLUSH_PAGE_NS,
  TLB_MISS_NS,
  TLB_SINGLE_PAGE_FLUSH_CEILING,
  ZAP_PTE_NS,
  copyNs,
} from '../hw/cpu.js';
import { EFAULT, EIO } from '../uapi/errno.js';

/** fault_around_bytes = 64 KiB: map up to 16 cached neighbours on a read fault. */
export const FAULT_AROUND_PAGES = 16;

/** VM_FAULT_* results (subset). */
export const VM_FAULT = { OK: 0, MAJOR: 0x4, SIGBUS: 0x2, SIGSEGV: 0x40, OOM: 0x1, RETRY: 0x400 } as const;

/** x86 page-fault error code bits. */
export const PF = { PROT: 1, WRITE: 2, USER: 4 } as const;

/** Is every page of [va, va+len) mapped in the task's page table? (access_ok + present) */
export function userRangeMapped(task: Task, va: number, lenBytes: number): boolean {
  const mm = task.mm;
  if (!mm) return false;
  if (lenBytes <= 0) return true;
  const first = Math.floor(va / PAGE_SIZE);
  const last = Math.floor((va + lenBytes - 1) / PAGE_SIZE);
  for (let vpn = first; vpn <= last; vpn++) if (!mm.pageTable.has(vpn)) return false;
  return true;
}

/** pin_user_pages for O_DIRECT: the user buffer as bio vectors, or undefined if unmapped. */
export function gupBioVecs(mm: MmStruct, va: number, lenBytes: number): BioVec[] | undefined {
  const vecs: BioVec[] = [];
  let cur = va;
  const end = va + lenBytes;
  while (cur < end) {
    const pte = mm.pageTable.get(Math.floor(cur / PAGE_SIZE));
    if (!pte) return undefined;
    const off = cur % PAGE_SIZE;
    const len = Math.min(PAGE_SIZE - off, end - cur);
    vecs.push({ pfn: pte.pfn, offsetBytes: off, lenBytes: len });
    cur += len;
  }
  return vecs;
}

/**
 * A user access to [va, va+len) through the task's mappings (what the mmap I/O engine does).
 * Faults in missing pages; returns 0, or -EFAULT / -EIO (SIGSEGV / SIGBUS) on failure.
 */
export function* userAccess(k: Kernel, task: Task, va: number, lenBytes: number, write: boolean): Generator<number, number, void> {
  const mm = task.mm;
  if (!mm) return -EFAULT;
  let cur = va;
  const end = va + lenBytes;
  while (cur < end) {
    const vpn = Math.floor(cur / PAGE_SIZE);
    const off = cur % PAGE_SIZE;
    const len = Math.min(PAGE_SIZE - off, end - cur);
    const pte = mm.pageTable.get(vpn);
    if (!pte || (write && !pte.writable)) {
      const r = yield* pageFault(k, task, cur, write);
      if (r & VM_FAULT.SIGSEGV) return -EFAULT;
      if (r & (VM_FAULT.SIGBUS | VM_FAULT.OOM)) return -EIO;
    }
    // the loads or stores themselves (user time): a page walk if the TLB lacks the page, then the bytes
    const userNs = copyNs(len) + tlbFill(mm, vpn);
    mm.userAccessNs += userNs;
    yield userNs;
    if (write || k.tp.page_data_access.enabled) accessData(k, task, mm.pageTable.get(vpn), write);
    cur += len;
  }
  return 0;
}

/**
 * What a load or store through a file mapping reads or makes: a store to a shared file page makes
 * the page's next version (visible at once to every mapping of the folio and to read()).
 */
function accessData(k: Kernel, task: Task, pte: Pte | undefined, write: boolean): void {
  if (!pte || pte.anon) return;
  const f = k.mm.folioByPfn(pte.pfn);
  const mapping = f?.mapping;
  if (!f || !mapping) return;
  const cpu = k.sched.cpu(task.cpu);
  if (write) {
    f.dataVersion = nextPageVersion(mapping, f.index);
    if (k.tp.page_data_write.enabled) k.tp.page_data_write.emit(cpu, task.ioId, mapping.host, f.index, f.dataVersion, 'mmap');
  }
  if (k.tp.page_data_access.enabled) {
    k.tp.page_data_access.emit(cpu, task.ioId, mapping.host, f.index, f.dataVersion, lastWrittenVersion(mapping, f.index), deviceVersion(mapping, f.index), write ? 1 : 0);
  }
}

/** The exception entry: exceptions:page_fault_user, then handle_mm_fault. Each fault is one I/O. */
export function* pageFault(k: Kernel, task: Task, address: number, write: boolean): Generator<number, number, void> {
  const mm = task.mm!;
  const savedIoId = task.ioId;
  // a fault from user mode enters the kernel; one inside a syscall (copy_to_user) stays in it
  const savedInKernel = task.inKernel;
  task.inKernel = true;
  const ioId = k.newIoId();
  task.ioId = ioId;
  const present = mm.pageTable.has(Math.floor(address / PAGE_SIZE));
  const errorCode = PF.USER | (write ? PF.WRITE : 0) | (present ? PF.PROT : 0);
  const cpu = k.sched.cpu(task.cpu);
  if (k.tp.page_fault_user.enabled) k.tp.page_fault_user.emit(cpu, ioId, address, 0x401000, errorCode);
  k.stat.pgfault++;
  yield PAGE_FAULT_ENTRY_NS + FAULT_VMA_LOOKUP_NS;
  const vma = mm.findVma(address);
  let r: number;
  if (!vma || (write && !(vma.flags & VM.WRITE)) || !(vma.flags & VM.READ)) {
    r = VM_FAULT.SIGSEGV;
  } else {
    r = yield* handleMmFault(k, task, vma, address, write);
    // VM_FAULT_RETRY: the folio went away under us; the arch handler tries again
    while (r === VM_FAULT.RETRY) r = yield* handleMmFault(k, task, vma, address, write);
  }
  // mm_account_fault: a resolved fault counts as major (it waited for I/O) or minor
  if (r === VM_FAULT.MAJOR) task.majFlt++;
  else if (r === VM_FAULT.OK) task.minFlt++;
  yield PAGE_FAULT_EXIT_NS;
  task.ioId = savedIoId;
  task.inKernel = savedInKernel;
  return r;
}

/** handle_mm_fault on a file VMA. */
function* handleMmFault(k: Kernel, task: Task, vma: Vma, address: number, write: boolean): Generator<number, number, void> {
  const mm = task.mm!;
  const ioId = task.ioId;
  const fn = k.fn.handle_mm_fault;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, vma, address, write ? 1 : 0, 0);
  const vpn = Math.floor(address / PAGE_SIZE);
  const file = vma.file;
  if (!file) {
    if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.SIGSEGV);
    return VM_FAULT.SIGSEGV;
  }
  const inode = file.inode;
  const pgoff = vma.pgoff + (vpn - Math.floor(vma.startVa / PAGE_SIZE));
  if (k.tp.fault_vma.enabled) k.tp.fault_vma.emit(k.sched.cpu(task.cpu), ioId, address, vma, inode, pgoff);
  yield HANDLE_MM_FAULT_NS;
  if (pgoff * PAGE_SIZE >= inode.sizeBytes) {
    if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.SIGBUS);
    return VM_FAULT.SIGBUS;
  }
  const existing = mm.pageTable.get(vpn);
  if (existing && write && !existing.writable && !existing.anon && vma.flags & VM.SHARED) {
    // write-protect fault on a shared file page: ->page_mkwrite dirties the folio
    const f = k.mm.folioByPfn(existing.pfn);
    if (f) folioMarkDirty(k, k.sched.cpu(task.cpu), ioId, f);
    existing.writable = true;
    // fault_dirty_shared_page: a store through a shared mapping is throttled like a write()
    yield* k.wb.balanceDirtyPagesRatelimited(task, inode);
    if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.OK);
    return VM_FAULT.OK;
  }

  let major = false;
  let f = inode.mapping.pages.get(pgoff);
  if (f && f.flags & PG.uptodate && !write) {
    // do_read_fault: fault-around maps cached neighbours without further faults
    yield* faultAround(k, task, vma, vpn, pgoff);
    const pte = mm.pageTable.get(vpn);
    if (pte) {
      if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.OK);
      return VM_FAULT.OK;
    }
  }

  // __do_fault -> filemap_fault
  const ff = k.fn.filemap_fault;
  if (ff.entry.enabled) ff.enter(k.sched.cpu(task.cpu), ioId, vma);
  if (k.tp.mm_filemap_fault.enabled) k.tp.mm_filemap_fault.emit(k.sched.cpu(task.cpu), ioId, inode, pgoff);
  yield PAGE_CACHE_LOOKUP_NS;
  f = inode.mapping.pages.get(pgoff);
  let block = -1;
  let sector = -1;
  if (!f) {
    major = true;
    k.stat.pgmajfault++;
    k.stat.pgcacheMiss++;
    const ok = yield* doSyncMmapReadahead(k, task, vma, file, pgoff, ioId);
    f = inode.mapping.pages.get(pgoff);
    if (!f || !ok) {
      if (ff.ret.enabled) ff.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.OOM);
      if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.OOM);
      return VM_FAULT.OOM;
    }
  } else {
    k.stat.pgcacheHit++;
    if (file.ra.mmapMiss > 0) file.ra.mmapMiss--;
    // do_async_mmap_readahead: the reader reached the marker (MADV_RANDOM: no readahead)
    if (f.flags & PG.readahead && !(vma.flags & VM.RAND_READ)) yield* pageCacheAsyncRa(k, task, file, f, file.ra.raPages);
  }
  if (major) {
    // the block and sector this page was read from (the extent status cache answers again)
    const bpp = PAGE_SIZE / inode.blockSizeBytes;
    const ext = inode.aops.mapBlocks(inode, pgoff * bpp, bpp, false);
    if (ext) {
      block = ext.pblk;
      sector = ext.pblk * (inode.blockSizeBytes / 512);
    }
  }
  f.refs++; // folio_get: reclaim must not take it while we sleep on it
  yield* folioWaitLocked(k, task, f);
  // page_not_uptodate: a failed read is tried once more, alone, before the fault gives SIGBUS
  if (f.mapping === inode.mapping && !(f.flags & PG.uptodate)) yield* filemapReadFolio(k, task, inode, f, ioId);
  f.refs--;
  if (f.mapping !== inode.mapping) {
    // invalidated while we slept (folio->mapping changed): drop it, and the fault is retried
    folioPutRemoved(k, f);
    if (ff.ret.enabled) ff.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.RETRY);
    if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.RETRY);
    return VM_FAULT.RETRY;
  }
  if (!(f.flags & PG.uptodate)) {
    if (ff.ret.enabled) ff.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.SIGBUS);
    if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.SIGBUS);
    return VM_FAULT.SIGBUS;
  }
  k.mm.markAccessed(f);
  const result = major ? VM_FAULT.MAJOR : VM_FAULT.OK;
  if (ff.ret.enabled) ff.exit(k.sched.cpu(task.cpu), ioId, result);

  // finish_fault: install the PTE (COW for private writes)
  let pfn = f.pfn;
  let anon = false;
  let writable = false;
  if (write) {
    if (vma.flags & VM.SHARED) {
      folioMarkDirty(k, k.sched.cpu(task.cpu), ioId, f);
      writable = true;
    } else {
      f.refs++;
      yield FOLIO_ALLOC_NS;
      const copy = k.mm.allocFolio(k.sched.cpu(task.cpu));
      f.refs--;
      if (!copy) {
        if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, VM_FAULT.OOM);
        return VM_FAULT.OOM;
      }
      copy.flags = PG.anon | PG.uptodate;
      k.mm.nrAnon++;
      yield copyNs(PAGE_SIZE);
      pfn = copy.pfn;
      anon = true;
      writable = true;
    }
  }
  installPte(task, vpn, pfn, writable, anon, anon ? undefined : f, k);
  yield PTE_INSTALL_NS;
  if (k.tp.set_pte.enabled) {
    k.tp.set_pte.emit(k.sched.cpu(task.cpu), ioId, { address, vpn, ino: inode.ino, pgoff, block, sector, pfn, major });
  }
  // fault_dirty_shared_page: a store through a shared mapping is throttled like a write()
  if (write && vma.flags & VM.SHARED) yield* k.wb.balanceDirtyPagesRatelimited(task, inode);
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, result);
  return result;
}

/** set_pte_at: replaces whatever the VPN mapped (a COW copy drops its file page's mapcount). */
function installPte(task: Task, vpn: number, pfn: number, writable: boolean, anon: boolean, f: Folio | undefined, k: Kernel): void {
  const mm = task.mm!;
  const old = mm.pageTable.get(vpn);
  if (old && !old.anon) {
    const oldFolio = k.mm.folioByPfn(old.pfn);
    if (oldFolio && oldFolio.mapcount > 0) oldFolio.mapcount--;
  }
  mm.pageTable.set(vpn, { pfn, writable, anon });
  if (f) f.mapcount++;
}

/** do_fault_around / filemap_map_pages: map cached, uptodate neighbours read-only. */
function* faultAround(k: Kernel, task: Task, vma: Vma, vpn: number, pgoff: number): Generator<number, void, void> {
  const mm = task.mm!;
  const inode = vma.file!.inode;
  const startVpn = Math.max(Math.floor(vma.startVa / PAGE_SIZE), vpn - (vpn % FAULT_AROUND_PAGES));
  const endVpn = Math.min(Math.floor(vma.endVa / PAGE_SIZE), startVpn + FAULT_AROUND_PAGES);
  const firstPgoff = pgoff - (vpn - startVpn);
  const lastPgoff = firstPgoff + (endVpn - startVpn) - 1;
  if (k.tp.mm_filemap_map_pages.enabled) k.tp.mm_filemap_map_pages.emit(k.sched.cpu(task.cpu), task.ioId, inode, firstPgoff, lastPgoff);
  let mapped = 0;
  for (let v = startVpn; v < endVpn; v++) {
    if (mm.pageTable.has(v)) continue;
    const idx = firstPgoff + (v - startVpn);
    const f = inode.mapping.pages.get(idx);
    if (!f || !(f.flags & PG.uptodate) || f.flags & PG.locked) continue;
    if (f.flags & PG.readahead) continue; // leave the marker to filemap_fault (async readahead)
    installPte(task, v, f.pfn, false, false, f, k);
    k.mm.markAccessed(f);
    mapped++;
  }
  // the xarray walk over the window, and each PTE set
  yield PAGE_CACHE_LOOKUP_NS + mapped * PTE_INSTALL_NS;
}

/**
 * rmap_walk_file: calls `fn` for every PTE that maps folio `f`, in every address space with a
 * shared or private file mapping over its index.
 */
function forEachFolioPte(k: Kernel, f: Folio, fn: (mm: MmStruct, vpn: number, pte: Pte) => void): void {
  const mapping = f.mapping;
  if (!mapping || f.mapcount === 0) return;
  const seen = new Set<MmStruct>();
  for (const t of k.tasks) {
    const mm = t.mm;
    if (!mm || seen.has(mm)) continue;
    seen.add(mm);
    for (const vma of mm.vmas) {
      if (vma.file?.inode.mapping !== mapping) continue;
      const va = vma.startVa + (f.index - vma.pgoff) * PAGE_SIZE;
      if (va < vma.startVa || va >= vma.endVa) continue;
      const vpn = va / PAGE_SIZE;
      const pte = mm.pageTable.get(vpn);
      if (pte && !pte.anon && pte.pfn === f.pfn) fn(mm, vpn, pte);
    }
  }
}

/**
 * folio_mkclean: write-protect every PTE of a folio going to writeback, so the next store through
 * a mapping faults, dirties it again and makes a newer version that writeback will see.
 */
export function folioMkclean(k: Kernel, f: Folio): void {
  forEachFolioPte(k, f, (mm, vpn, pte) => {
    if (!pte.writable) return;
    pte.writable = false;
    flushTlbPages(mm, [vpn]);
  });
}

/**
 * unmap_mapping_folio: remove every PTE of a folio (the next access faults it in again, from the
 * page cache or the device). Returns the CPU time of the zaps and TLB flushes.
 */
export function unmapMappingFolio(k: Kernel, f: Folio): number {
  let costNs = 0;
  forEachFolioPte(k, f, (mm, vpn) => {
    mm.pageTable.delete(vpn);
    f.mapcount--;
    costNs += ZAP_PTE_NS + flushTlbPages(mm, [vpn]);
  });
  return costNs;
}

/** A user access to `vpn` through the TLB: returns the page walk's cost on a miss (0 on a hit). */
export function tlbFill(mm: MmStruct, vpn: number): number {
  const slot = vpn % STLB_ENTRIES;
  if (mm.tlb[slot] === vpn) return 0;
  mm.tlb[slot] = vpn;
  return TLB_MISS_NS;
}

/**
 * flush_tlb_mm_range after PTEs were cleared: INVLPG per page up to the single-page ceiling,
 * beyond it a full flush of the address space. Returns the CPU time it costs.
 */
export function flushTlbPages(mm: MmStruct, vpns: readonly number[]): number {
  if (vpns.length === 0) return 0;
  if (vpns.length > TLB_SINGLE_PAGE_FLUSH_CEILING) {
    mm.tlb.fill(-1);
    return TLB_FLUSH_ALL_NS;
  }
  for (const vpn of vpns) {
    const slot = vpn % STLB_ENTRIES;
    if (mm.tlb[slot] === vpn) mm.tlb[slot] = -1;
  }
  return vpns.length * TLB_FLUSH_PAGE_NS;
}
