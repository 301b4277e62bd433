// Models: mm/mmap.c and mm/util.c (vm_mmap, do_mmap, do_munmap): creating and removing VMAs.
// File mappings start empty and fill on fault; anonymous mappings are populated at once.

import { PAGE_SIZE, PG, VM, type MmStruct, type Vma } from './mm_types.js';
import type { Kernel } from '../kernel/kernel.js';
import type { File } from '../fs/types.js';
import type { HitContext } from '../trace/probe.js';
import { O, fput } from '../fs/types.js';
import { EACCES, EINVAL, ENOMEM } from '../uapi/errno.js';
import { ZAP_PTE_NS } from '../hw/cpu.js';
import { flushTlbPages } from './memory.js';

export const PROT = { READ: 0x1, WRITE: 0x2, EXEC: 0x4 } as const;
export const MAP = { SHARED: 0x01, PRIVATE: 0x02, FIXED: 0x10, ANONYMOUS: 0x20, POPULATE: 0x8000 } as const;


/** do_mmap. Returns the address, or -errno. `file` is undefined for MAP_ANONYMOUS. */
export function doMmap(k: Kernel, ctx: HitContext, mm: MmStruct, file: File | undefined, lenBytes: number, prot: number, flags: number, offBytes: number): number {
  if (lenBytes <= 0) return -EINVAL;
  if (offBytes % PAGE_SIZE !== 0 || offBytes < 0) return -EINVAL;
  const shared = (flags & MAP.SHARED) !== 0;
  const priv = (flags & MAP.PRIVATE) !== 0;
  if (shared === priv) return -EINVAL;
  if (file) {
    const acc = file.flags & O.ACCMODE;
    if (acc === O.WRONLY) return -EACCES;
    if (shared && prot & PROT.WRITE && acc !== O.RDWR) return -EACCES;
  } else if (!(flags & MAP.ANONYMOUS)) {
    return -EINVAL;
  }
  const pages = Math.ceil(lenBytes / PAGE_SIZE);
  mm.mmapBaseVa -= pages * PAGE_SIZE + PAGE_SIZE; // leave a guard gap
  const startVa = mm.mmapBaseVa;
  let vmFlags = 0;
  if (prot & PROT.READ) vmFlags |= VM.READ;
  if (prot & PROT.WRITE) vmFlags |= VM.WRITE;
  if (prot & PROT.EXEC) vmFlags |= VM.EXEC;
  if (shared) vmFlags |= VM.SHARED;
  const vma: Vma = { kaddr: k.kaddr(), startVa, endVa: startVa + pages * PAGE_SIZE, flags: vmFlags, file, pgoff: offBytes / PAGE_SIZE };
  if (file) {
    const r = file.inode.fops.mmap(file, vma);
    if (r < 0) return r;
    file.refcount++;
  } else {
    // MAP_ANONYMOUS: populate now
    for (let i = 0; i < pages; i++) {
      const f = k.mm.allocFolio(ctx);
      if (!f) return -ENOMEM;
      f.flags = PG.anon | PG.uptodate;
      k.mm.nrAnon++;
      mm.pageTable.set(Math.floor(startVa / PAGE_SIZE) + i, { pfn: f.pfn, writable: (prot & PROT.WRITE) !== 0, anon: true });
    }
  }
  mm.vmas.push(vma);
  return startVa;
}

/**
 * The VPNs in [firstVpn, endVpn) that have a PTE, in address order (zap_pte_range's walk). A large
 * file mapping touched in a few places is walked through its PTEs, not page by page.
 */
function mappedVpns(mm: MmStruct, firstVpn: number, endVpn: number): number[] {
  if (endVpn - firstVpn <= mm.pageTable.size) {
    const vpns: number[] = [];
    for (let vpn = firstVpn; vpn < endVpn; vpn++) if (mm.pageTable.has(vpn)) vpns.push(vpn);
    return vpns;
  }
  const vpns: number[] = [];
  for (const vpn of mm.pageTable.keys()) if (vpn >= firstVpn && vpn < endVpn) vpns.push(vpn);
  return vpns.sort((a, b) => a - b);
}

/** What do_munmap returned, and the CPU time its PTE zapping and TLB flush cost. */
export interface MunmapResult {
  readonly ret: number;
  readonly costNs: number;
}

/** do_munmap: remove whole VMAs in [addr, addr+len) (partial unmaps split nothing: EINVAL). */
export function doMunmap(k: Kernel, mm: MmStruct, addr: number, lenBytes: number): MunmapResult {
  if (addr % PAGE_SIZE !== 0 || lenBytes <= 0) return { ret: -EINVAL, costNs: 0 };
  let costNs = 0;
  const end = addr + Math.ceil(lenBytes / PAGE_SIZE) * PAGE_SIZE;
  for (let i = mm.vmas.length - 1; i >= 0; i--) {
    const vma = mm.vmas[i]!;
    if (vma.endVa <= addr || vma.startVa >= end) continue;
    // SIMPLIFICATION: a range that covers only part of a VMA unmaps the whole VMA.
    const vpns = mappedVpns(mm, vma.startVa / PAGE_SIZE, vma.endVa / PAGE_SIZE);
    // unmap_region: zap_pte_range over the PTEs, then the TLB flush
    costNs += vpns.length * ZAP_PTE_NS + flushTlbPages(mm, vpns);
    for (const vpn of vpns) {
      const pte = mm.pageTable.get(vpn);
      if (!pte) continue;
      mm.pageTable.delete(vpn);
      const f = k.mm.folioByPfn(pte.pfn);
      if (!f) continue;
      if (pte.anon) {
        k.mm.nrAnon--;
        k.mm.freeFolio(f);
      } else if (f.mapcount > 0) {
        f.mapcount--;
      }
    }
    if (vma.file) fput(vma.file);
    mm.vmas.splice(i, 1);
  }
  return { ret: 0, costNs };
}
