// Models: fs/sync.c's ksys_sync (the sync(2) syscall; syncfs(2) for one filesystem, and
// sync_file_range(2)'s write and waits on a byte range): wake the flushers, write back every dirty
// inode of every filesystem with WB_SYNC_ALL and wait for it (sync_inodes_sb), let each
// filesystem commit its journal (->sync_fs: ext4_sync_fs waits for the running transaction), send
// a network filesystem's dirty data and commit it on the server (NFS: WRITE, COMMIT), then flush
// the block devices' caches.
// SIMPLIFICATION: inodes are visited one at a time by the syncing task instead of the flusher
// threads writing in parallel and the caller waiting on them.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { WbSync } from '../mm/page-writeback.js';
import { folioWaitWriteback } from '../mm/filemap.js';
import { blkdevIssueFlush } from './jbd2/commit.js';
import type { Inode } from './types.js';
import type { Ext4Fs } from './ext4/super.js';
import { EBADF, EINVAL } from '../uapi/errno.js';
import { PAGE_SIZE } from '../mm/mm_types.js';

/** Each mounted filesystem once, whatever its bind mounts. */
function mountedFilesystems(k: Kernel): Set<Ext4Fs> {
  return new Set(k.vfs.mounts.map((m) => m.fs));
}

/** Every inode the machine has: each mounted filesystem's and the block device nodes'. */
export function allInodes(k: Kernel): Inode[] {
  const inodes: Inode[] = [];
  for (const fs of mountedFilesystems(k)) inodes.push(...fs.inodes.values());
  inodes.push(...k.vfs.devNodes.values());
  return inodes;
}

/** sync(2): always returns 0, as Linux's does (errors go to each file's errseq). */
export function* sysSync(k: Kernel, task: Task): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'sync');
  yield SYSCALL_ENTRY_NS;
  yield* syncFilesystems(k, task, ioId, mountedFilesystems(k), allInodes(k), k.queues.map((q) => q.dev));
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'sync', 0);
}

/**
 * Writes back every dirty inode of `inodes` with WB_SYNC_ALL and waits for it, commits each of
 * `filesystems`' journals (->sync_fs) and flushes each of `devs`' volatile caches.
 */
function* syncFilesystems(k: Kernel, task: Task, ioId: number, filesystems: Iterable<Ext4Fs>, inodes: readonly Inode[], devs: readonly number[]): Generator<number, void, void> {
  for (const inode of inodes) {
    if (inode.mapping.nrDirty === 0) continue;
    yield* k.wb.writepages(task, inode, ioId, WbSync.ALL, 0, Infinity, Infinity);
  }
  for (const inode of inodes) {
    for (const f of [...inode.mapping.writebackFolios]) yield* folioWaitWriteback(k, task, f);
  }
  // ->sync_fs(sb, 1), ext4_sync_fs: start a commit of the running transaction (or take the one
  // committing) and wait for it
  for (const fs of filesystems) {
    const j = fs.journal;
    const tid = j.running?.tid ?? j.committing?.tid;
    if (tid !== undefined) yield* j.completeTransaction(task, tid);
  }
  // network filesystems: their dirty data goes to the server and is committed there
  for (const m of k.vfs.remoteMounts) yield* m.syncFs(task, ioId);
  // sync_bdevs: each disk's volatile cache is flushed once
  for (const dev of devs) yield* blkdevIssueFlush(k, task, dev, ioId);
}

/** syncfs(2): sync(2) for the one filesystem `fd` is on (sync_filesystem), its device's cache flushed. */
export function* sysSyncfs(k: Kernel, task: Task, fd: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'syncfs', fd);
  yield SYSCALL_ENTRY_NS;
  const file = task.files?.get(fd);
  let ret = -EBADF;
  if (file) {
    const fs = [...mountedFilesystems(k)].find((f) => f.dev === file.inode.sDev);
    yield* syncFilesystems(k, task, ioId, fs ? [fs] : [], fs ? [...fs.inodes.values()] : [file.inode], [file.inode.bdevDev]);
    ret = 0;
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'syncfs', ret);
}

/** sync_file_range(2)'s flags (include/uapi/linux/fs.h). */
export const SYNC_FILE_RANGE = { WAIT_BEFORE: 1, WRITE: 2, WAIT_AFTER: 4 } as const;

/**
 * sync_file_range(2) (ksys_sync_file_range): of the byte range (nbytes 0: to the end of the file),
 * wait for writeback under way, start writeback of the dirty pages (WB_SYNC_NONE), and wait for
 * it, as the flags ask. No journal commit, no cache flush: it makes nothing durable.
 */
export function* sysSyncFileRange(k: Kernel, task: Task, fd: number, offsetBytes: number, nbytes: number, flags: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'sync_file_range', fd, offsetBytes, nbytes, flags);
  yield SYSCALL_ENTRY_NS;
  const file = task.files?.get(fd);
  let ret = 0;
  if (!file) ret = -EBADF;
  else if (offsetBytes < 0 || nbytes < 0 || flags & ~(SYNC_FILE_RANGE.WAIT_BEFORE | SYNC_FILE_RANGE.WRITE | SYNC_FILE_RANGE.WAIT_AFTER)) ret = -EINVAL;
  else {
    const inode = file.inode;
    const endBytes = nbytes === 0 ? Infinity : offsetBytes + nbytes;
    const inRange = (index: number): boolean => index * PAGE_SIZE < endBytes && (index + 1) * PAGE_SIZE > offsetBytes;
    const waitRange = function* (): Generator<number, void, void> {
      for (const f of [...inode.mapping.writebackFolios]) if (inRange(f.index)) yield* folioWaitWriteback(k, task, f);
    };
    if (flags & SYNC_FILE_RANGE.WAIT_BEFORE) yield* waitRange();
    if (flags & SYNC_FILE_RANGE.WRITE && inode.mapping.nrDirty > 0) yield* k.wb.writepages(task, inode, ioId, WbSync.NONE, offsetBytes, endBytes, Infinity);
    if (flags & SYNC_FILE_RANGE.WAIT_AFTER) yield* waitRange();
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'sync_file_range', ret);
}
