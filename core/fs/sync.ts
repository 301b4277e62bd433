// Models: fs/sync.c's ksys_sync (the sync(2) syscall): wake the flushers, write back every dirty
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
  const inodes = allInodes(k);
  for (const inode of inodes) {
    if (inode.mapping.nrDirty === 0) continue;
    yield* k.wb.writepages(task, inode, ioId, WbSync.ALL, 0, Infinity, Infinity);
  }
  for (const inode of inodes) {
    for (const f of [...inode.mapping.writebackFolios]) yield* folioWaitWriteback(k, task, f);
  }
  // ->sync_fs(sb, 1), ext4_sync_fs: start a commit of the running transaction (or take the one
  // committing) and wait for it
  for (const fs of mountedFilesystems(k)) {
    const j = fs.journal;
    const tid = j.running?.tid ?? j.committing?.tid;
    if (tid !== undefined) yield* j.completeTransaction(task, tid);
  }
  // network filesystems: their dirty data goes to the server and is committed there
  for (const m of k.vfs.remoteMounts) yield* m.syncFs(task, ioId);
  // sync_bdevs: each disk's volatile cache is flushed once
  for (const q of k.queues) yield* blkdevIssueFlush(k, task, q.dev, ioId);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'sync', 0);
}
