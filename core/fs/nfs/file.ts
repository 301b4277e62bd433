// Models: fs/nfs/file.c: nfs_file_read (nfs_revalidate_mapping, then the page cache's
// generic_file_read_iter), nfs_file_write (buffered: generic_perform_write dirties pages that
// writeback sends as WRITE; O_APPEND revalidates the size first; a noac mount or O_SYNC file
// flushes and commits before returning), nfs_file_fsync (write back and wait, then COMMIT),
// nfs_file_flush on close (close-to-open: dirty data reaches the server before close returns).
// SIMPLIFICATION: O_DIRECT reads and writes go through the page cache (no nfs_direct_*).

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { O, type File, type FileOperations, type Inode, type Kiocb, type UserBuffer } from '../types.js';
import type { Vma } from '../../mm/mm_types.js';
import { filemapRead, genericPerformWrite } from '../../mm/filemap.js';
import { EAGAIN } from '../../uapi/errno.js';
import { nfsRevalidateInode, nfsRevalidateMapping, type NfsInode } from './inode.js';
import { nfsCommitInodeSync } from './write.js';

/** vfs_fsync_range's core for NFS: write back and wait, then COMMIT. */
function* nfsFsync(k: Kernel, file: File, task: Task, ioId: number, startBytes: number, endBytes: number): Generator<number, number, void> {
  const inode = file.inode as NfsInode;
  const cpu = () => k.sched.cpu(task.cpu);
  if (k.tp.nfs_fsync_enter.enabled) k.tp.nfs_fsync_enter.emit(cpu(), ioId, inode);
  let ret = yield* k.wb.writeAndWait(task, file, ioId, startBytes, endBytes);
  const c = yield* nfsCommitInodeSync(k, task, ioId, inode);
  if (ret === 0) ret = c;
  if (k.tp.nfs_fsync_exit.enabled) k.tp.nfs_fsync_exit.emit(cpu(), ioId, inode, ret);
  return ret;
}

/** nfs_file_read: make sure the cached pages may be used, then read through the page cache. */
function* nfsFileRead(k: Kernel, iocb: Kiocb, buf: UserBuffer): Generator<number, number, void> {
  const inode = iocb.file.inode as NfsInode;
  if (iocb.nowait) return -EAGAIN;
  const r = yield* nfsRevalidateMapping(k, iocb.task, iocb.ioId, inode);
  if (r < 0) return r;
  return yield* filemapRead(k, iocb, buf);
}

/** nfs_file_write: buffered; O_APPEND asks the server for the size; noac and O_DSYNC flush and commit. */
function* nfsFileWrite(k: Kernel, iocb: Kiocb, buf: UserBuffer): Generator<number, number, void> {
  const inode = iocb.file.inode as NfsInode;
  if (iocb.nowait) return -EAGAIN;
  if (iocb.file.flags & O.APPEND) {
    // nfs_revalidate_file_size: append at the server's end of file
    const r = yield* nfsRevalidateInode(k, iocb.task, iocb.ioId, inode);
    if (r < 0) return r;
    iocb.posBytes = inode.sizeBytes;
  }
  const ret = yield* genericPerformWrite(k, iocb, buf);
  if (ret > 0 && (inode.server.options.noac || iocb.file.flags & O.DSYNC)) {
    const r = yield* nfsFsync(k, iocb.file, iocb.task, iocb.ioId, iocb.posBytes, iocb.posBytes + ret);
    if (r < 0) return r;
  }
  return ret;
}

export function nfsFileOperations(k: Kernel): FileOperations {
  return {
    name: 'nfs_file_operations',
    *readIter(iocb: Kiocb, buf: UserBuffer) {
      const fn = k.fn.nfs_file_read;
      if (fn.entry.enabled) fn.enter(k.sched.cpu(iocb.task.cpu), iocb.ioId, iocb, buf.va);
      const ret = yield* nfsFileRead(k, iocb, buf);
      if (fn.ret.enabled) fn.exit(k.sched.cpu(iocb.task.cpu), iocb.ioId, ret);
      return ret;
    },
    *writeIter(iocb: Kiocb, buf: UserBuffer) {
      const fn = k.fn.nfs_file_write;
      if (fn.entry.enabled) fn.enter(k.sched.cpu(iocb.task.cpu), iocb.ioId, iocb, buf.va);
      const ret = yield* nfsFileWrite(k, iocb, buf);
      if (fn.ret.enabled) fn.exit(k.sched.cpu(iocb.task.cpu), iocb.ioId, ret);
      return ret;
    },
    open(inode: Inode, file: File, task: Task) {
      // nfs_file_open: the attributes were made current by the open's lookup (close-to-open)
      const fn = k.fn.nfs_file_open;
      if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), task.ioId, inode, file);
      if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), task.ioId, 0);
      return 0;
    },
    fsync(file: File, task: Task, ioId: number, startBytes: number, endBytes: number) {
      return nfsFsync(k, file, task, ioId, startBytes, endBytes);
    },
    *flush(file: File, task: Task, ioId: number) {
      // nfs_file_flush: only writers have anything to flush
      if ((file.flags & O.ACCMODE) === O.RDONLY) return 0;
      return yield* nfsFsync(k, file, task, ioId, 0, Infinity);
    },
    mmap(_file: File, _vma: Vma) {
      return 0;
    },
  };
}
