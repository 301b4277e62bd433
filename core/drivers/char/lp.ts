// Models: drivers/char/lp.c: the line printer character device (major 6, /dev/lp0). lp_open lets
// one opener in at a time (the LP_BUSY bit; a second open gets -EBUSY) and lp_release lets it go;
// lp_write copies the user's bytes in pieces of at most LP_BUFFER_SIZE into the driver's buffer
// (copy_from_user: -EFAULT on a bad pointer) and hands them to the port, sleeping while the
// printer's small buffer is full until its interrupt says there is room again. write() returns
// once every byte is on its way: a writer is held to the line's speed. A signal ends the sleep:
// write() returns the bytes handed to the printer so far (-EINTR if none).
// SIMPLIFICATION: no IEEE 1284 reverse channel: read() is -EINVAL (no ->read); no LPGETSTATUS
// ioctls, no LP_ABORT / paper-out handling (the printer never refuses data).
// SIMPLIFICATION: kiotrace keeps data bytes only where a device shows them: the bytes written
// come from the writer's memory where it put real bytes (MmStruct.userBytes), else they are zeros.

import type { Kernel } from '../../kernel/kernel.js';
import { mkdev } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { TaskState } from '../../kernel/sched/task.js';
import { ioSchedule } from '../../block/blk-core.js';
import { WaitQueue } from '../../sim/process.js';
import { AddressSpace, type Vma } from '../../mm/mm_types.js';
import { userRangeMapped } from '../../mm/memory.js';
import { S_IFCHR, type AddressSpaceOps, type File, type FileOperations, type Inode, type Kiocb, type UserBuffer } from '../../fs/types.js';
import { SerialPrinter } from '../../hw/printer.js';
import { immediate } from '../../fs/read_write.js';
import { copyNs, HARDIRQ_BASE_NS } from '../../hw/cpu.js';
import { EBUSY, EFAULT, EINTR, EINVAL, ENODEV } from '../../uapi/errno.js';
import { signalPending } from '../../kernel/signal.js';

export const LP_MAJOR = 6;
/** LP_BUFFER_SIZE: the driver's bounce buffer, one page. */
export const LP_BUFFER_SIZE = 4096;
/** The parallel port's legacy interrupt line (parport0 on IRQ 7). */
export const LP_IRQ = 7;

/** A character device has no page-cache blocks. */
const noBlocks: AddressSpaceOps = {
  mapBlocks() {
    return undefined;
  },
};

/**
 * Kernel addresses of character-device inodes and their mappings: a range of their own, so
 * adding a device node does not move the addresses every other object gets.
 */
export function chrdevKaddr(devt: number, which: 0 | 1): number {
  return 0x2_0000_0000_0000 + devt * 128 + which * 64;
}

/** The /dev node of a character device (an inode whose i_rdev names the driver). */
export class ChrdevInode implements Inode {
  readonly mapping: AddressSpace;
  metadataDirty = false;
  writeHint = 0;
  readonly mode = S_IFCHR | 0o660;
  sizeBytes = 0;
  readonly blockSizeBytes = 4096;
  readonly aops = noBlocks;
  /** No block device behind it. */
  readonly bdevDev = 0;

  readonly kaddr: number;

  constructor(
    readonly ino: number,
    /** i_rdev: the device number (MKDEV(major, minor)). */
    readonly sDev: number,
    readonly fops: FileOperations,
    readonly path: string,
  ) {
    this.kaddr = chrdevKaddr(sDev, 0);
    this.mapping = new AddressSpace(chrdevKaddr(sDev, 1), this);
  }
}

/** One printer port: struct lp_struct (its flags, wait queue and the printer behind it). */
export class LpDevice {
  /** LP_BUSY: someone has the device open. */
  busy = false;
  /** Writers sleeping until the printer's buffer has room (lp_struct's waitq). */
  readonly waitq = new WaitQueue();
  /** Bytes accepted by write() so far. */
  writtenBytes = 0;
  /** Opens refused with -EBUSY. */
  busyRefusals = 0;
  readonly inode: ChrdevInode;

  constructor(
    private readonly k: Kernel,
    readonly name: string,
    readonly minor: number,
    readonly printer: SerialPrinter,
    ino: number,
  ) {
    this.inode = new ChrdevInode(ino, mkdev(LP_MAJOR, minor), lpFileOperations(k, this), `/dev/${name}`);
    printer.onTxEmpty = () => this.interrupt();
  }

  /** The printer's interrupt: lp's handler wakes the writer waiting for room. */
  private interrupt(): void {
    if (this.waitq.length === 0) return;
    const k = this.k;
    k.sched.raiseIrq(k.sched.cpu(0), {
      irq: LP_IRQ,
      name: 'parport0',
      ioId: 0,
      costNs: HARDIRQ_BASE_NS,
      handler: () => {
        this.waitq.wakeAll();
        return 0;
      },
    });
  }
}

/** The bytes behind a user buffer, as copy_from_user would read them. */
function copyFromUser(task: Task, va: number, lenBytes: number): Uint8Array {
  const src = task.mm?.userBytes.get(va);
  const out = new Uint8Array(lenBytes);
  if (src) out.set(src.subarray(0, Math.min(lenBytes, src.length)));
  return out;
}

export function lpFileOperations(k: Kernel, lp: LpDevice): FileOperations {
  /** lp_write: piece by piece through the driver's buffer, each piece pushed out as room appears. */
  function* lpWrite(iocb: Kiocb, buf: UserBuffer): Generator<number, number, void> {
    const task = iocb.task;
    if (!userRangeMapped(task, buf.va, buf.lenBytes)) return -EFAULT;
    const bytes = copyFromUser(task, buf.va, buf.lenBytes);
    let written = 0;
    while (written < bytes.length) {
      const piece = Math.min(LP_BUFFER_SIZE, bytes.length - written);
      yield copyNs(piece);
      k.stat.userCopyBytes += piece;
      let sent = 0;
      while (sent < piece) {
        const n = lp.printer.transmit(bytes.subarray(written + sent, written + piece));
        sent += n;
        lp.writtenBytes += n;
        if (sent < piece) {
          // the printer's buffer is full: sleep until its interrupt (lp_wait_ready)
          task.state = TaskState.INTERRUPTIBLE;
          lp.waitq.add(task);
          yield* ioSchedule(k, task, false);
          if (signalPending(task)) {
            // interrupted (lprm killing the printing job): what is in the printer still prints
            lp.waitq.remove(task);
            return written + sent > 0 ? written + sent : -EINTR;
          }
        }
      }
      written += piece;
    }
    return written;
  }
  return {
    name: 'lp_fops',
    readIter() {
      return immediate(-EINVAL);
    },
    writeIter: lpWrite,
    fsync() {
      return immediate(-EINVAL);
    },
    mmap(_file: File, _vma: Vma) {
      return -ENODEV;
    },
    open() {
      // lp_open: test_and_set_bit(LP_BUSY)
      if (lp.busy) {
        lp.busyRefusals++;
        return -EBUSY;
      }
      lp.busy = true;
      return 0;
    },
    release() {
      lp.busy = false;
    },
  };
}
