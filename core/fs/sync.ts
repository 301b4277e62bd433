// Models: fs/sync.c's ksys_sync (the sync(2) syscall): wake the flushers, write back every dirty
// inode of every filesystem with WB_SYNC_ALL and wait for it (sync_inodes_sb), let each
// filesystem commit its journal (->sync_fs), then flush the block devices' caches.
// SIMPLIFICATION: inodes are visited one at a time by the syncing task instead of the flusher
// threads writing in parallel and the caller waiting on them.

import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { WbSync } from '../mm/page-writeback.js';
import { folioWaitWriteback } from '../mm/filemap.js';
import { blkdevIssueFlush, jbd2Commit } from './jbd2/commit.js';
import type { Inode } from './types.js';
import type { Ext4Fs } from './ext4/super.js';

/** Every inode the machine has: each mounted filesystem's (once, whatever its bind mounts) and the block device nodes'. */
export function allInodes(k: Kernel): Inode[] {
  const filesystems = new Set<Ext4Fs>();
  for (const m of k.vfs.mounts) filesystems.add(m.fs);
  const inodes: Inode[] = [];
  for (const fs of filesystems) inodes.push(...fs.inodes.values());
  inodes.push(...k.vfs.devNodes.values());
  return inodes;
}

/** sync(2): always returns 0, as Linux's does (errors go to each file's errseq). */
export function* sysSync(k: Kernel, task: Task): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'sync');
  yield SYSCALL_ENTRY_NS;
  const filesystems = new Set<Ext4Fs>();
  for (const m of k.vfs.mounts) filesystems.add(m.fs);
  const inodes = allInodes(k);
  for (const inode of inodes) {
    if (inode.mapping.nrDirty === 0) continue;
    yield* k.wb.writepages(task, inode, ioId, WbSync.ALL, 0, Infinity, Infinity);
  }
  for (const inode of inodes) {
    for (const f of [...inode.mapping.writebackFolios]) yield* folioWaitWriteback(k, task, f);
  }
  // ->sync_fs(sb, 1): ext4 commits the running transaction when it holds anything
  for (const fs of filesystems) {
    let metadataDirty = false;
    for (const inode of fs.inodes.values()) {
      if (inode.metadataDirty || inode.timesDirty) metadataDirty = true;
      inode.metadataDirty = false;
      inode.timesDirty = false;
    }
    if (metadataDirty) yield* jbd2Commit(k, task, fs, ioId);
  }
  // sync_bdevs: each disk's volatile cache is flushed once
  for (const q of k.queues) yield* blkdevIssueFlush(k, task, q.dev, ioId);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'sync', 0);
}
