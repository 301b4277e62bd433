// Models: fs/ext4/file.c (ext4_file_read_iter, ext4_file_write_iter, ext4_file_mmap) and
// fs/ext4/fsync.c (ext4_sync_file): buffered I/O through the page cache, O_DIRECT through iomap
// (falling back to a buffered write when the page cache of the range cannot be invalidated),
// and fsync = write back + wait, then a journal commit if metadata changed (else a cache flush).

import type { Kernel } from '../../kernel/kernel.js';
import type { FuncProbes } from '../../trace/events.js';
import type { Task } from '../../kernel/sched/task.js';
import { O, type File, type FileOperations, type Kiocb, type UserBuffer } from '../types.js';
import type { Vma } from '../../mm/mm_types.js';
import { filemapRead, genericPerformWrite } from '../../mm/filemap.js';
import { iomapDioRw } from '../iomap/direct-io.js';
import { blkdevIssueFlush, jbd2Commit } from '../jbd2/commit.js';
import { ENOTBLK, EROFS } from '../../uapi/errno.js';
import type { Ext4Fs, Ext4Inode } from './super.js';

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
      if (fsOf(iocb.file).readOnly) {
        // ext4_journal_check_start on an aborted journal
        if (fn.ret.enabled) fn.exit(k.sched.cpu(iocb.task.cpu), iocb.ioId, -EROFS);
        return -EROFS;
      }
      const inode = iocb.file.inode as Ext4Inode;
      let ret = iocb.direct ? yield* iomapDioRw(k, iocb, buf, true) : yield* genericPerformWrite(k, iocb, buf);
      if (ret === -ENOTBLK) {
        // ext4_dio_write_iter -> direct_write_fallback: the cache could not be invalidated, so
        // the data goes through it, written back and waited for as O_DIRECT would have been
        ret = yield* genericPerformWrite(k, iocb, buf);
        if (ret > 0) {
          const r = yield* k.wb.writeAndWait(iocb.task, iocb.file, iocb.ioId, iocb.posBytes, iocb.posBytes + ret);
          if (r < 0) ret = r;
        }
      }
      if (ret > 0) inode.timesDirty = true;
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
      let ret = yield* k.wb.writeAndWait(task, file, ioId, startBytes, endBytes);
      const needCommit = inode.metadataDirty || (!datasync && inode.timesDirty);
      if (ret < 0) {
        // file_write_and_wait_range failed: report it, commit nothing
      } else if (needCommit) {
        inode.metadataDirty = false;
        inode.timesDirty = false;
        ret = yield* jbd2Commit(k, task, fsOf(file), ioId);
      } else {
        ret = yield* blkdevIssueFlush(k, task, inode.bdevDev, ioId);
      }
      if (k.tp.ext4_sync_file_exit.enabled) k.tp.ext4_sync_file_exit.emit(cpu(), ioId, inode, ret);
      if (fn.ret.enabled) fn.exit(cpu(), ioId, ret);
      return ret;
    },
    mmap(_file: File, _vma: Vma) {
      return 0;
    },
  };
  return ops;
}
