// Models: fs/ext4/file.c (ext4_file_read_iter, ext4_file_write_iter, ext4_file_mmap) and
// fs/ext4/fsync.c (ext4_sync_file): buffered I/O through the page cache, O_DIRECT through iomap
// (falling back to a buffered write when the page cache of the range cannot be invalidated),
// and fsync = write back + wait, then wait for the journal transaction that last changed the inode
// (jbd2_complete_transaction), with a cache flush of its own when that commit is already on disk.

import type { Kernel } from '../../kernel/kernel.js';
import type { FuncProbes } from '../../trace/events.js';
import type { Task } from '../../kernel/sched/task.js';
import { O, type File, type FileOperations, type Kiocb, type UserBuffer } from '../types.js';
import type { Vma } from '../../mm/mm_types.js';
import { filemapRead, genericPerformWrite } from '../../mm/filemap.js';
import { iomapDioRw } from '../iomap/direct-io.js';
import { blkdevIssueFlush } from '../jbd2/commit.js';
import { jbd2LogDoCheckpoint } from '../jbd2/checkpoint.js';
import { EIO, ENOTBLK, EROFS } from '../../uapi/errno.js';
import { NS_PER_JIFFY } from '../../mm/page-writeback-throttle.js';
import { EXT4_BLOCK_SIZE, type Ext4Fs, type Ext4Inode } from './super.js';
import { filemapSpliceRead, iterFileSpliceWrite } from '../splice.js';

/** Runs a ->read_iter body between its kprobe and kretprobe hits. */
function* traced(k: Kernel, fn: FuncProbes['ext4_file_read_iter'], iocb: Kiocb, buf: UserBuffer, inner: Generator<number, number, void>): Generator<number, number, void> {
  if (fn.entry.enabled) fn.enter(k.sched.cpu(iocb.task.cpu), iocb.ioId, iocb, buf.va);
  const ret = yield* inner;
  if (fn.ret.enabled) fn.exit(k.sched.cpu(iocb.task.cpu), iocb.ioId, ret);
  return ret;
}

export function ext4FileOperations(k: Kernel, fsOf: (file: File) => Ext4Fs): FileOperations {
  const ops: FileOperations = {
    name: 'ext4_file_operations',
    readIter(iocb: Kiocb, buf: UserBuffer) {
      const inner = iocb.direct ? iomapDioRw(k, iocb, buf, false) : filemapRead(k, iocb, buf);
      const fn = k.fn.ext4_file_read_iter;
      // without its kprobes attached, ext4_file_read_iter adds no generator frame
      return fn.entry.enabled || fn.ret.enabled ? traced(k, fn, iocb, buf, inner) : inner;
    },
    *writeIter(iocb: Kiocb, buf: UserBuffer) {
      const fn = k.fn.ext4_file_write_iter;
      if (fn.entry.enabled) fn.enter(k.sched.cpu(iocb.task.cpu), iocb.ioId, iocb, buf.va);
      const inode = iocb.file.inode as Ext4Inode;
      const fs = fsOf(iocb.file);
      // the handles this write starts: their waits, and -EROFS once the journal has aborted
      const j = fs.journal;
      const credits = HANDLE_METADATA_CREDITS + (j.dataMode === 'journal' ? Math.ceil(buf.lenBytes / EXT4_BLOCK_SIZE) + 1 : 0);
      const jret = j.aborted ? -EROFS : j.handleMustWait(credits) ? yield* j.startHandleWait(iocb.task, credits, (t) => jbd2LogDoCheckpoint(k, j, t)) : 0;
      if (jret < 0) {
        if (fn.ret.enabled) fn.exit(k.sched.cpu(iocb.task.cpu), iocb.ioId, jret);
        return jret;
      }
      // file_modified -> file_update_time: mtime and ctime
      fs.fileUpdateTime(inode, Math.floor(k.env.nowNs / NS_PER_JIFFY));
      // ext4_dio_supported: no O_DIRECT with data=journal, the write goes through the page cache
      const direct = iocb.direct && fs.journal.dataMode !== 'journal';
      let ret = direct ? yield* iomapDioRw(k, iocb, buf, true) : yield* genericPerformWrite(k, iocb, buf);
      if (ret === -ENOTBLK) {
        // ext4_dio_write_iter -> direct_write_fallback: the cache could not be invalidated, so
        // the data goes through it, written back and waited for as O_DIRECT would have been
        ret = yield* genericPerformWrite(k, iocb, buf);
        if (ret > 0) {
          const r = yield* k.wb.writeAndWait(iocb.task, iocb.file, iocb.ioId, iocb.posBytes, iocb.posBytes + ret);
          if (r < 0) ret = r;
        }
      }
      let result = ret;
      // generic_write_sync: O_DSYNC / O_SYNC writes are followed by fsync of the range
      if (ret > 0 && iocb.file.flags & O.DSYNC) {
        const r = yield* ops.fsync(iocb.file, iocb.task, iocb.ioId, iocb.posBytes, iocb.posBytes + ret, (iocb.file.flags & O.SYNC) !== O.SYNC);
        if (r < 0) result = r;
      }
      if (fn.ret.enabled) fn.exit(k.sched.cpu(iocb.task.cpu), iocb.ioId, result);
      return result;
    },
    *fsync(file: File, task: Task, ioId: number, startBytes: number, endBytes: number, datasync: boolean) {
      const inode = file.inode as Ext4Inode;
      const fn = k.fn.ext4_sync_file;
      const cpu = () => k.sched.cpu(task.cpu);
      if (fn.entry.enabled) fn.enter(cpu(), ioId, file, startBytes, endBytes, datasync ? 1 : 0);
      if (k.tp.ext4_sync_file_enter.enabled) k.tp.ext4_sync_file_enter.emit(cpu(), ioId, inode, datasync);
      const j = fsOf(file).journal;
      let ret = j.aborted ? -EIO : yield* k.wb.writeAndWait(task, file, ioId, startBytes, endBytes);
      if (ret === 0) {
        // ext4_fsync_journal: wait for the transaction that last changed what this sync needs
        // (jbd2_complete_transaction; fast commits are off); when that one has already written
        // its commit block, the data just written needs a cache flush of its own
        const tid = datasync ? inode.datasyncTid : inode.syncTid;
        const needsBarrier = j.geo.barrier && !j.transWillSendDataBarrier(tid);
        ret = yield* j.completeTransaction(task, tid);
        if (needsBarrier) {
          const err = yield* blkdevIssueFlush(k, task, inode.bdevDev, ioId);
          if (ret === 0) ret = err;
        }
      }
      if (k.tp.ext4_sync_file_exit.enabled) k.tp.ext4_sync_file_exit.emit(cpu(), ioId, inode, ret);
      if (fn.ret.enabled) fn.exit(cpu(), ioId, ret);
      return ret;
    },
    // ext4_file_splice_read / blkdev's filemap_splice_read, iter_file_splice_write
    spliceRead: filemapSpliceRead(k),
    spliceWrite: iterFileSpliceWrite(k),
    mmap(_file: File, _vma: Vma) {
      return 0;
    },
  };
  return ops;
}

/**
 * Metadata blocks one write's handles may dirty (their credits): the inode, a block bitmap, a group
 * descriptor; a data=journal write needs a log block per page besides.
 */
const HANDLE_METADATA_CREDITS = 3;
