// Models: block/fops.c (def_blk_fops): a raw block device opened as a file. Buffered I/O goes
// through the device inode's own page cache (blocks map to themselves); O_DIRECT goes straight to
// bios; fsync writes back and flushes the device cache.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { AddressSpace, type Vma } from '../mm/mm_types.js';
import { filemapRead, genericPerformWrite } from '../mm/filemap.js';
import { iomapDioRw } from './iomap/direct-io.js';
import { blkdevIssueFlush } from './jbd2/commit.js';
import { O, S_IFBLK, type AddressSpaceOps, type File, type FileOperations, type Inode, type Kiocb, type UserBuffer } from './types.js';
import { ENOSPC } from '../uapi/errno.js';

/** The bdev inode's block size: logical blocks of 4 KiB (the page size) for the page cache. */
const BDEV_BLOCK_SIZE = 4096;

export const bdevAops: AddressSpaceOps = {
  mapBlocks(inode: Inode, lblk: number, len: number) {
    const total = Math.floor(inode.sizeBytes / inode.blockSizeBytes);
    if (lblk >= total) return undefined;
    return { lblk, pblk: lblk, len: Math.min(len, total - lblk) };
  },
};

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
    mmap(_file: File, _vma: Vma) {
      return 0;
    },
  };
}

export class BdevInode implements Inode {
  readonly mapping: AddressSpace;
  metadataDirty = false;
  readonly mode = S_IFBLK | 0o660;
  readonly blockSizeBytes = BDEV_BLOCK_SIZE;
  readonly aops = bdevAops;

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
