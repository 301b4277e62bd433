// Models: fs/nfs/dir.c: nfs_lookup (a LOOKUP RPC on a dcache miss, making a positive or negative
// dentry whose verifier is the directory's change attribute), nfs_lookup_revalidate on a dcache
// hit (nfs_check_verifier: the directory's attributes, revalidated by GETATTR once acdirmin and
// its doubling have run out, must not have changed, else a full LOOKUP; then
// nfs_lookup_verify_inode: an open forces __nfs_revalidate_inode, which is close-to-open
// consistency, unless nocto), and nfs_create (CREATE). The nfs_lookup_* and
// nfs_lookup_revalidate_* tracepoints.
// SIMPLIFICATION: the path below the mount point is looked up as one name in the export's root
// directory (the server's ext4 model has no directory inodes).

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { ENOENT } from '../../uapi/errno.js';
import { LOOKUP, type RemoteMount } from '../namei.js';
import type { Inode } from '../types.js';
import { nfs3Create, nfs3Lookup, NFS3_ACCESS_READ, NFS3ERR_NOENT } from './nfs3xdr.js';
import { nfs3CallSync, nfs3StatToErrno, nfsFattr, nfsFattrInit } from './nfs3proc.js';
import { nfsAttributeCacheExpired, nfsFhget, nfsPermission, nfsRefreshInode, nfsRevalidateInode, type NfsInode } from './inode.js';
import type { NfsServer } from './super.js';
import { nfsCommitInodeSync } from './write.js';
import { WbSync } from '../../mm/page-writeback.js';
import { folioWaitWriteback } from '../../mm/filemap.js';

/** A dentry below the mount: its inode (undefined: negative) and its verifier (d_time). */
export interface NfsDentry {
  readonly kaddr: number;
  readonly dName: { readonly name: string };
  readonly inode: NfsInode | undefined;
  readonly verifier: number;
}

/** nfs_lookup: LOOKUP `name` in the root directory; caches the dentry. */
function* nfsLookup(k: Kernel, server: NfsServer, task: Task, ioId: number, name: string, flags: number): Generator<number, NfsInode | number, void> {
  const dir = server.root;
  const dentry = { kaddr: k.kaddr(), dName: { name } };
  const cpu = () => k.sched.cpu(task.cpu);
  if (k.tp.nfs_lookup_enter.enabled) k.tp.nfs_lookup_enter.emit(cpu(), ioId, dir, dentry, flags);
  const stamp = nfsFattrInit(server);
  const res = yield* nfs3CallSync(server, task, ioId, nfs3Lookup, { dir: dir.fh, name });
  let ret: NfsInode | number;
  if (typeof res === 'number') {
    ret = res;
  } else {
    if (res.dirAttr) nfsRefreshInode(k, dir, nfsFattr(res.dirAttr, stamp), ioId);
    if (res.fh && res.attr) {
      ret = nfsFhget(k, server, res.fh, nfsFattr(res.attr, stamp), `${server.mountPoint}/${name}`);
      server.dentries.set(name, { ...dentry, inode: ret, verifier: dir.changeAttr });
    } else {
      ret = nfs3StatToErrno(res.status);
      // a negative dentry: the name is known not to exist until the directory changes
      if (res.status === NFS3ERR_NOENT) server.dentries.set(name, { ...dentry, inode: undefined, verifier: dir.changeAttr });
    }
  }
  if (k.tp.nfs_lookup_exit.enabled) k.tp.nfs_lookup_exit.emit(cpu(), ioId, dir, dentry, flags, typeof ret === 'number' ? ret : 0);
  return ret;
}

/** nfs_lookup_revalidate: is the cached dentry still right? Returns it, -ENOENT, or undefined (look up again). */
function* nfsLookupRevalidate(k: Kernel, server: NfsServer, task: Task, ioId: number, d: NfsDentry, flags: number): Generator<number, NfsInode | number | undefined, void> {
  const dir = server.root;
  const cpu = () => k.sched.cpu(task.cpu);
  if (k.tp.nfs_lookup_revalidate_enter.enabled) k.tp.nfs_lookup_revalidate_enter.emit(cpu(), ioId, dir, d, flags);
  let ret: NfsInode | number | undefined;
  // nfs_check_verifier: the directory's attributes, revalidated if they have expired
  let dirOk = true;
  if (nfsAttributeCacheExpired(dir)) dirOk = (yield* nfsRevalidateInode(k, task, ioId, dir)) === 0;
  if (!dirOk || dir.changeAttr !== d.verifier) {
    ret = undefined;
  } else if (!d.inode) {
    ret = -ENOENT;
  } else if (flags & LOOKUP.OPEN && !server.options.nocto && !d.inode.isDir) {
    // nfs_lookup_verify_inode: close-to-open, the attributes are fetched on every open
    const r = yield* nfsRevalidateInode(k, task, ioId, d.inode);
    ret = r < 0 ? r : d.inode;
  } else {
    ret = d.inode;
  }
  if (k.tp.nfs_lookup_revalidate_exit.enabled) {
    k.tp.nfs_lookup_revalidate_exit.emit(cpu(), ioId, dir, d, flags, typeof ret === 'number' ? ret : 0);
  }
  return ret;
}

/** The export as the VFS walks it. */
export function nfsRemoteMount(k: Kernel, server: NfsServer): RemoteMount {
  return {
    mountPoint: server.mountPoint,
    *walk(task: Task, ioId: number, name: string, flags: number): Generator<number, Inode | number, void> {
      const d = server.dentries.get(name);
      let r: NfsInode | number | undefined = d ? yield* nfsLookupRevalidate(k, server, task, ioId, d, flags) : undefined;
      if (r === undefined) {
        server.dentries.delete(name);
        r = yield* nfsLookup(k, server, task, ioId, name, flags);
      }
      if (typeof r === 'number' || !(flags & LOOKUP.OPEN)) return r;
      // may_open -> inode_permission -> nfs_permission
      const perm = yield* nfsPermission(k, task, ioId, r, NFS3_ACCESS_READ);
      return perm < 0 ? perm : r;
    },
    *syncFs(task: Task, ioId: number): Generator<number, number, void> {
      // sync_inodes_sb: each inode's dirty pages written and waited for, then nfs_write_inode's COMMIT
      let ret = 0;
      for (const inode of server.inodes.values()) {
        if (inode.mapping.nrDirty > 0) yield* k.wb.writepages(task, inode, ioId, WbSync.ALL, 0, Infinity, Infinity);
        for (const f of [...inode.mapping.writebackFolios]) yield* folioWaitWriteback(k, task, f);
        const r = yield* nfsCommitInodeSync(k, task, ioId, inode);
        if (ret === 0) ret = r;
      }
      return ret;
    },
    *create(task: Task, ioId: number, name: string, mode: number): Generator<number, Inode | number, void> {
      const dir = server.root;
      const dentry = { kaddr: k.kaddr(), dName: { name } };
      const cpu = () => k.sched.cpu(task.cpu);
      if (k.tp.nfs_create_enter.enabled) k.tp.nfs_create_enter.emit(cpu(), ioId, dir, dentry, LOOKUP.OPEN | LOOKUP.CREATE);
      const stamp = nfsFattrInit(server);
      const res = yield* nfs3CallSync(server, task, ioId, nfs3Create, { dir: dir.fh, name, mode });
      let ret: Inode | number;
      if (typeof res === 'number') ret = res;
      else if (!res.fh || !res.attr) ret = nfs3StatToErrno(res.status);
      else {
        if (res.dirAttr) nfsRefreshInode(k, dir, nfsFattr(res.dirAttr, stamp), ioId);
        const inode = nfsFhget(k, server, res.fh, nfsFattr(res.attr, stamp), `${server.mountPoint}/${name}`);
        server.dentries.set(name, { ...dentry, inode, verifier: dir.changeAttr });
        ret = inode;
      }
      if (k.tp.nfs_create_exit.enabled) k.tp.nfs_create_exit.emit(cpu(), ioId, dir, dentry, LOOKUP.OPEN | LOOKUP.CREATE, typeof ret === 'number' ? ret : 0);
      return ret;
    },
  };
}
