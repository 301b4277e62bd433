// Models: block/fops.c (def_blk_fops): a raw block device opened as a file. Buffered I/O goes
// through the device inode's own page cache (blocks map to themselves); O_DIRECT goes straight to
// bios; fsync writes back and flushes the device cache. And block/bdev.c's exclusive claims
// (bd_prepare_to_claim, bd_may_claim, bd_end_claim): open(O_EXCL) and a mounted filesystem each
// hold the device exclusively; a second exclusive holder gets -EBUSY, plain openers do not care.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { AddressSpace, type Vma } from '../mm/mm_types.js';
import { filemapRead, genericPerformWrite } from '../mm/filemap.js';
import { iomapDioRw } from './iomap/direct-io.js';
import { blkdevIssueFlush } from './jbd2/commit.js';
import { O, S_IFBLK, type AddressSpaceOps, type File, type FileOperations, type Inode, type Kiocb, type UserBuffer } from './types.js';
import { EBUSY, ENOSPC } from '../uapi/errno.js';
import { filemapSpliceRead, iterFileSpliceWrite } from './splice.js';

/** The bdev inode's block size: logical blocks of 4 KiB (the page size) for the page cache. */
const BDEV_BLOCK_SIZE = 4096;

export const bdevAops: AddressSpaceOps = {
  mapBlocks(inode: Inode, lblk: number, len: number) {
    const total = Math.floor(inode.sizeBytes / inode.blockSizeBytes);
    if (lblk >= total) return undefined;
    return { lblk, pblk: lblk, len: Math.min(len, total - lblk) };
  },
};

/**
 * bd_prepare_to_claim + bd_finish_claiming: `holder` (an O_EXCL file, a mounted filesystem) takes
 * the device exclusively. 0, or -EBUSY while someone else holds it (bd_may_claim); the same
 * holder may claim again (bd_holders counts its claims).
 */
export function bdClaim(bdev: BdevInode, holder: object): number {
  if (bdev.bdHolder !== undefined && bdev.bdHolder !== holder) return -EBUSY;
  bdev.bdHolder = holder;
  bdev.bdHolders++;
  return 0;
}

/** bd_end_claim: one claim of `holder` ends; the device is free when its last one does. */
export function bdReleaseClaim(bdev: BdevInode, holder: object): void {
  if (bdev.bdHolder !== holder) return;
  if (--bdev.bdHolders === 0) bdev.bdHolder = undefined;
}

export function blkdevFileOperations(k: Kernel): FileOperations {
  /** blkdev_fsync: write back the range, then flush the device's volatile cache. */
  function* blkdevFsync(file: File, task: Task, ioId: number, startBytes: number, endBytes: number): Generator<number, number, void> {
    const err = yield* k.wb.writeAndWait(task, file, ioId, startBytes, endBytes);
    if (err < 0) return err;
    return yield* blkdevIssueFlush(k, task, file.inode.bdevDev, ioId);
  }
  return {
    name: 'def_blk_fops',
    *readIter(iocb: Kiocb, buf: UserBuffer) {
      return iocb.direct ? yield* iomapDioRw(k, iocb, buf, false) : yield* filemapRead(k, iocb, buf);
    },
    *writeIter(iocb: Kiocb, buf: UserBuffer) {
      if (iocb.posBytes + buf.lenBytes > iocb.file.inode.sizeBytes) return -ENOSPC; // past the end of the device
      const ret = iocb.direct ? yield* iomapDioRw(k, iocb, buf, true) : yield* genericPerformWrite(k, iocb, buf);
      // blkdev_write_iter -> generic_write_sync: O_SYNC / O_DSYNC writes reach the media before returning
      if (ret > 0 && iocb.file.flags & O.DSYNC) {
        const r = yield* blkdevFsync(iocb.file, iocb.task, iocb.ioId, iocb.posBytes, iocb.posBytes + ret);
        if (r < 0) return r;
      }
      return ret;
    },
    fsync: blkdevFsync,
    // ext4_file_splice_read / blkdev's filemap_splice_read, iter_file_splice_write
    spliceRead: filemapSpliceRead(k),
    spliceWrite: iterFileSpliceWrite(k),
    mmap(_file: File, _vma: Vma) {
      return 0;
    },
    // blkdev_open: O_EXCL (without O_CREAT) opens with BLK_OPEN_EXCL, the file itself the holder
    open(inode: Inode, file: File) {
      if (!(file.flags & O.EXCL) || !(inode instanceof BdevInode)) return 0;
      return bdClaim(inode, file);
    },
    release(inode: Inode, file: File) {
      if (file.flags & O.EXCL && inode instanceof BdevInode) bdReleaseClaim(inode, file);
    },
  };
}

export class BdevInode implements Inode {
  readonly mapping: AddressSpace;
  metadataDirty = false;
  writeHint = 0;
  readonly mode = S_IFBLK | 0o660;
  readonly blockSizeBytes = BDEV_BLOCK_SIZE;
  readonly aops = bdevAops;
  /** bd_holder: who holds the device exclusively (an O_EXCL file, a mounted filesystem), if anyone. */
  bdHolder: object | undefined;
  /** bd_holders: how many claims that holder has. */
  bdHolders = 0;

  constructor(
    readonly kaddr: number,
    readonly ino: number,
    readonly sDev: number,
    readonly bdevDev: number,
    public sizeBytes: number,
    readonly fops: FileOperations,
    readonly path: string,
    mappingKaddr: number,
  ) {
    this.mapping = new AddressSpace(mappingKaddr, this);
  }
}
