// Models: drivers/char/mem.c (/dev/mem, major 1 minor 1: open_port, mmap_mem, range_is_allowed)
// with arch/x86/mm/init.c's devmem_is_allowed under CONFIG_STRICT_DEVMEM (the Kconfig default;
// IO_STRICT_DEVMEM off), and kernel/resource.c's iomem tree (/proc/iomem) that says what a
// physical address is: System RAM, or a PCI device's BAR (its registers). User tasks reach devices
// only through syscalls; mapping device memory is the exception, and it needs privilege: the node
// is 0640 root:kmem (anyone else: -EACCES) and open_port wants CAP_SYS_RAWIO (-EPERM). Mapping
// RAM is refused (-EPERM); mapping a BAR gives the task the device's registers.
// SIMPLIFICATION: namei has no permission checks, so the node's DAC check (inode_permission: mode
// 0640, owner root, group kmem) is made in the driver's open, with CAP_DAC_OVERRIDE as its bypass.
// SIMPLIFICATION: RAM is one range from 0 (no 32-bit PCI hole); BARs sit in a 64-bit MMIO window
// above it; a load from a mapped BAR is one uncached read (readl), without a page fault.

import { mkdev, type Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { CAP, capable } from '../../kernel/capability.js';
import type { File, FileOperations, Inode } from '../../fs/types.js';
import { immediate } from '../../fs/read_write.js';
import { PAGE_SIZE, type Vma } from '../../mm/mm_types.js';
import { EACCES, EINVAL, EPERM } from '../../uapi/errno.js';
import { ChrdevInode } from './lp.js';

export const MEM_MAJOR = 1;
/** Where the host bridge's 64-bit prefetchable MMIO window starts (BARs are assigned from here). */
export const PCI_MMIO64_BASE = 0x3800_0000_0000;
/** Each device's BARs get their own 1 MiB of the window. */
const BAR_STRIDE_BYTES = 1024 * 1024;
/** An uncached MMIO read over PCIe (a readl from user space through the mapping). */
export const MMIO_READ_NS = 900;

/** One entry of /proc/iomem: a physical range and who owns it. */
export interface IomemResource {
  readonly start: number;
  /** Inclusive, as /proc/iomem prints it. */
  readonly end: number;
  readonly name: string;
  /** A 32-bit register read at `offset` into the range (device BARs). */
  readonly readl?: (offset: number) => number;
}

/** /dev/mem and the physical address map it checks against. */
export class DevMem {
  readonly iomem: IomemResource[] = [];
  readonly inode: ChrdevInode;
  private nextBar = PCI_MMIO64_BASE;

  constructor(
    ramBytes: number,
    /** The kernel whose capability checks the open goes through (its cap_capable kprobe). */
    readonly k?: Kernel,
  ) {
    this.iomem.push({ start: 0, end: ramBytes - 1, name: 'System RAM' });
    this.inode = new ChrdevInode(900, mkdev(MEM_MAJOR, 1), memFileOperations(this), '/dev/mem');
  }

  /** pci_assign_resource + pci_request_region: a device's BAR of `sizeBytes`, with its registers. */
  addBar(name: string, sizeBytes: number, readl: (offset: number) => number): IomemResource {
    const r: IomemResource = { start: this.nextBar, end: this.nextBar + sizeBytes - 1, name, readl };
    this.nextBar += BAR_STRIDE_BYTES;
    this.iomem.push(r);
    return r;
  }

  resourceAt(addr: number): IomemResource | undefined {
    return this.iomem.find((r) => addr >= r.start && addr <= r.end);
  }

  /** devmem_is_allowed for every page of the range: never RAM; device memory and holes are. */
  rangeIsAllowed(addr: number, bytes: number): boolean {
    for (let a = addr; a < addr + bytes; a += PAGE_SIZE) if (this.resourceAt(a)?.name === 'System RAM') return false;
    return true;
  }

  /** A 32-bit load from physical address `addr` (the device answers; nothing there reads as all ones). */
  readl(addr: number): number {
    const r = this.resourceAt(addr);
    return r?.readl ? r.readl(addr - r.start) >>> 0 : 0xffff_ffff;
  }
}

/** The /dev/mem node's owner and mode: root:kmem 0640 (a user outside kmem may not open it). */
function memPermission(task: Task, k: Kernel | undefined): number {
  return capable(task, CAP.DAC_OVERRIDE, k) ? 0 : -EACCES;
}

export function memFileOperations(mem: DevMem): FileOperations {
  return {
    name: 'mem_fops',
    // SIMPLIFICATION: read()/write() of /dev/mem (read_mem/write_mem) are not modelled
    readIter() {
      return immediate(-EINVAL);
    },
    writeIter() {
      return immediate(-EINVAL);
    },
    fsync() {
      return immediate(-EINVAL);
    },
    open(_inode: Inode, _file: File, task: Task) {
      const dac = memPermission(task, mem.k);
      if (dac < 0) return dac;
      // open_port
      return capable(task, CAP.SYS_RAWIO, mem.k) ? 0 : -EPERM;
    },
    // mmap_mem: the file offset is the physical address
    mmap(_file: File, vma: Vma) {
      const phys = vma.pgoff * PAGE_SIZE;
      const bytes = vma.endVa - vma.startVa;
      if (!mem.rangeIsAllowed(phys, bytes)) return -EPERM;
      return 0;
    },
  };
}
