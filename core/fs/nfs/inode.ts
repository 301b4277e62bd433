// Models: fs/nfs/inode.c and include/linux/nfs_fs.h: struct nfs_inode and the attribute cache.
// nfsi->attrtimeo starts at acregmin (acdirmin for a directory); the cached attributes are
// expired once jiffies leaves [read_cache_jiffies, read_cache_jiffies + attrtimeo)
// (nfs_attribute_cache_expired); __nfs_revalidate_inode then sends GETATTR, and
// nfs_refresh_inode -> nfs_update_inode applies the reply: read_cache_jiffies = the RPC's start;
// an unchanged file whose attrtimeo window had run out gets attrtimeo doubled (capped at
// acregmax); a change (NFSv3: ctime, the change attribute; mtime; size) resets attrtimeo to
// acregmin and marks the data invalid, so nfs_revalidate_mapping drops the cached pages
// (nfs_invalidate_mapping). nfs_getattr (stat) revalidates when the cache has expired; reads do
// through nfs_revalidate_mapping. The access cache (nfs_permission) sends ACCESS on a miss.
// SIMPLIFICATION: no delegations, no atime updates, one credential (one access-cache entry).

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { AddressSpace, PAGE_SIZE } from '../../mm/mm_types.js';
import type { AddressSpaceOps, FileOperations, Inode, InodeOperations } from '../types.js';
import { S_IFREG } from '../types.js';
import { invalidateInodePages2Range } from '../../mm/truncate.js';
import { folioWaitWriteback } from '../../mm/filemap.js';
import { nfs3Access, nfs3Getattr, NF3DIR, NFS3_ACCESS_ALL, type Fattr3, type Nfs3Fh } from './nfs3xdr.js';
import { nfs3CallSync, nfs3StatToErrno, nfsFattr, nfsFattrInit, type NfsFattr } from './nfs3proc.js';
import type { NfsServer } from './super.js';

/** nfsi->cache_validity bits (include/linux/nfs_fs.h). */
export const NFS_INO = {
  INVALID_DATA: 1 << 1,
  INVALID_ATIME: 1 << 2,
  INVALID_ACCESS: 1 << 3,
  INVALID_ACL: 1 << 4,
  REVAL_FORCED: 1 << 6,
  INVALID_CHANGE: 1 << 8,
  INVALID_CTIME: 1 << 9,
  INVALID_MTIME: 1 << 10,
  INVALID_SIZE: 1 << 11,
  INVALID_OTHER: 1 << 12,
} as const;

/** S_IFDIR */
const S_IFDIR = 0o040000;

/** nfs_timespec_to_change_attr: NFSv3 has no change attribute; the client makes one from ctime. */
export function changeAttrOf(ctimeNs: number): number {
  return Math.floor(ctimeNs / 1e9) * 2 ** 30 + (ctimeNs % 1e9);
}

/** struct nfs_inode (with its VFS inode). */
export class NfsInode implements Inode {
  readonly kaddr: number;
  readonly mapping: AddressSpace;
  readonly blockSizeBytes = PAGE_SIZE;
  readonly bdevDev: number;
  readonly sDev: number;
  metadataDirty = false;
  writeHint = 0;
  /** Attributes as last applied. */
  sizeBytes = 0;
  mtimeNs = 0;
  ctimeNs = 0;
  changeAttr = 0;
  /** nfsi->attrtimeo and the jiffy it last changed; read_cache_jiffies; cache_validity; attr_gencount. */
  attrtimeo: number;
  attrtimeoTimestamp: number;
  readCacheJiffies = 0;
  cacheValidity = 0;
  attrGencount = 0;
  /** nfsi->flags (NFS_INO_STALE, ...): none modelled, reported as 0. */
  readonly nfsiFlags = 0;
  /** The access cache's one entry (the permitted ACCESS3 bits), or undefined. */
  accessCache: number | undefined;
  /** Requests written UNSTABLE and not yet committed (the commit list), and the verifier they carry. */
  ncommit = 0;
  commitVerf = 0;
  /** WRITE RPCs in flight. */
  writesInFlight = 0;

  constructor(
    readonly server: NfsServer,
    readonly fh: Nfs3Fh,
    readonly mode: number,
    readonly path: string,
  ) {
    const k = server.k;
    this.kaddr = k.kaddr();
    this.mapping = new AddressSpace(k.kaddr(), this);
    this.sDev = server.sDev;
    this.bdevDev = server.sDev;
    const now = server.jiffies();
    this.attrtimeo = this.isDir ? server.acdirminJiffies : server.acregminJiffies;
    this.attrtimeoTimestamp = now;
  }

  get ino(): number {
    return this.fh.fileid;
  }
  get fileid(): number {
    return this.fh.fileid;
  }
  get isDir(): boolean {
    return (this.mode & 0o170000) === S_IFDIR;
  }
  get aops(): AddressSpaceOps {
    return this.server.aops;
  }
  get fops(): FileOperations {
    return this.server.fops;
  }
  get iop(): InodeOperations {
    return this.server.iop;
  }
  /** nfs_fhandle_hash: a 32-bit hash of the file handle. */
  get fhandleHash(): number {
    return (Math.imul(this.fh.fsid ^ 0x5bd1e995, 0x01000193) ^ Math.imul(this.fh.fileid, 0x9e3779b1)) >>> 0;
  }
  /** NFS_MINATTRTIMEO / NFS_MAXATTRTIMEO */
  get minAttrtimeo(): number {
    return this.isDir ? this.server.acdirminJiffies : this.server.acregminJiffies;
  }
  get maxAttrtimeo(): number {
    return this.isDir ? this.server.acdirmaxJiffies : this.server.acregmaxJiffies;
  }
}

/** The mode a fattr3 describes. */
export function fattrMode(attr: Fattr3): number {
  return (attr.type === NF3DIR ? S_IFDIR : S_IFREG) | (attr.mode & 0o7777);
}

/** nfs_fhget: the inode for a file handle (iget5_locked: one per fileid), its attributes applied. */
export function nfsFhget(k: Kernel, server: NfsServer, fh: Nfs3Fh, fattr: NfsFattr, path: string): NfsInode {
  let inode = server.inodes.get(fh.fileid);
  if (!inode) {
    inode = new NfsInode(server, fh, fattrMode(fattr), path);
    server.inodes.set(fh.fileid, inode);
    // a new inode takes the attributes as they are
    applyAttrs(inode, fattr);
    inode.readCacheJiffies = fattr.timeStartJiffies;
    inode.attrGencount = fattr.gencount;
    return inode;
  }
  nfsRefreshInode(k, inode, fattr);
  return inode;
}

function applyAttrs(inode: NfsInode, fattr: NfsFattr): void {
  inode.sizeBytes = fattr.sizeBytes;
  inode.mtimeNs = fattr.mtimeNs;
  inode.ctimeNs = fattr.ctimeNs;
  inode.changeAttr = changeAttrOf(fattr.ctimeNs);
}

/** time_in_range_open(a, b, c): b <= a < c. */
function timeInRangeOpen(a: number, b: number, c: number): boolean {
  return a >= b && a < c;
}

/** nfs_attribute_cache_expired (nfs_attribute_timeout): jiffies past read_cache_jiffies + attrtimeo. */
export function nfsAttributeCacheExpired(inode: NfsInode): boolean {
  return !timeInRangeOpen(inode.server.jiffies(), inode.readCacheJiffies, inode.readCacheJiffies + inode.attrtimeo);
}

/** nfs_check_cache_invalid: the attributes in `flags` must be fetched again. */
export function nfsCheckCacheInvalid(inode: NfsInode, flags: number): boolean {
  return nfsAttributeCacheExpired(inode) || (inode.cacheValidity & flags) !== 0;
}

/**
 * nfs_refresh_inode: attributes from any reply. Those fetched after the last change applied
 * (gencount newer) update the inode; older ones are only checked.
 */
export function nfsRefreshInode(k: Kernel, inode: NfsInode, fattr: NfsFattr, ioId = 0): number {
  const ctx = k.sched.ctxCpu;
  if (k.tp.nfs_refresh_inode_enter.enabled) k.tp.nfs_refresh_inode_enter.emit(ctx, ioId, inode);
  if (fattr.gencount - inode.attrGencount > 0) nfsUpdateInode(k, inode, fattr);
  else if (changeAttrOf(fattr.ctimeNs) !== inode.changeAttr || fattr.sizeBytes !== inode.sizeBytes) {
    // nfs_check_inode_attributes: an older reply that disagrees marks the cache invalid
    inode.cacheValidity |= NFS_INO.INVALID_CHANGE | NFS_INO.INVALID_SIZE;
  }
  if (k.tp.nfs_refresh_inode_exit.enabled) k.tp.nfs_refresh_inode_exit.emit(ctx, ioId, inode, 0);
  return 0;
}

/** nfs_update_inode: apply newer attributes; the attrtimeo rule. */
export function nfsUpdateInode(k: Kernel, inode: NfsInode, fattr: NfsFattr): void {
  const now = inode.server.jiffies();
  let invalid = 0;
  let attrChanged = false;
  const change = changeAttrOf(fattr.ctimeNs);
  if (change !== inode.changeAttr) {
    // the change attribute moved: data, access and ACLs may all be stale
    invalid |= NFS_INO.INVALID_DATA | NFS_INO.INVALID_ACCESS | NFS_INO.INVALID_ACL;
    attrChanged = true;
  }
  if (fattr.mtimeNs !== inode.mtimeNs) {
    invalid |= NFS_INO.INVALID_DATA;
    attrChanged = true;
  }
  // the server's size wins unless we have writes it has not seen yet
  if (fattr.sizeBytes !== inode.sizeBytes && inode.mapping.nrDirty === 0 && inode.writesInFlight === 0) {
    invalid |= NFS_INO.INVALID_DATA;
    attrChanged = true;
    inode.sizeBytes = fattr.sizeBytes;
  }
  inode.mtimeNs = fattr.mtimeNs;
  inode.ctimeNs = fattr.ctimeNs;
  inode.changeAttr = change;
  // the attributes just fetched are valid from when their RPC started
  inode.readCacheJiffies = fattr.timeStartJiffies;
  inode.cacheValidity &= ~(NFS_INO.INVALID_CHANGE | NFS_INO.INVALID_CTIME | NFS_INO.INVALID_MTIME | NFS_INO.INVALID_SIZE | NFS_INO.INVALID_OTHER | NFS_INO.INVALID_ATIME | NFS_INO.REVAL_FORCED);
  if (attrChanged) {
    inode.attrtimeo = inode.minAttrtimeo;
    inode.attrtimeoTimestamp = now;
    inode.attrGencount = inode.server.incAttrGeneration();
  } else if (!timeInRangeOpen(now, inode.attrtimeoTimestamp, inode.attrtimeoTimestamp + inode.attrtimeo)) {
    // unchanged across a whole window: trust the cache twice as long
    inode.attrtimeo = Math.min(inode.attrtimeo * 2, inode.maxAttrtimeo);
    inode.attrtimeoTimestamp = now;
  }
  // a file with no reader of its old data: nothing to invalidate (nfs_set_cache_invalid)
  if (inode.mapping.pages.size === 0) invalid &= ~NFS_INO.INVALID_DATA;
  inode.cacheValidity |= invalid;
}

/** __nfs_revalidate_inode: GETATTR and apply it. Returns 0 or -errno. */
export function* nfsRevalidateInode(k: Kernel, task: Task, ioId: number, inode: NfsInode): Generator<number, number, void> {
  const cpu = () => k.sched.cpu(task.cpu);
  const fn = k.fn.__nfs_revalidate_inode;
  if (fn.entry.enabled) fn.enter(cpu(), ioId, inode.server, inode);
  if (k.tp.nfs_revalidate_inode_enter.enabled) k.tp.nfs_revalidate_inode_enter.emit(cpu(), ioId, inode);
  const server = inode.server;
  const stamp = nfsFattrInit(server);
  const res = yield* nfs3CallSync(server, task, ioId, nfs3Getattr, { fh: inode.fh });
  let status: number;
  if (typeof res === 'number') status = res;
  else if (!res.attr) status = nfs3StatToErrno(res.status);
  else status = nfsRefreshInode(k, inode, nfsFattr(res.attr, stamp), ioId);
  if (k.tp.nfs_revalidate_inode_exit.enabled) k.tp.nfs_revalidate_inode_exit.emit(cpu(), ioId, inode, status);
  if (fn.ret.enabled) fn.exit(cpu(), ioId, status);
  return status;
}

/** nfs_invalidate_mapping: write back, then drop every cached page of the file. */
export function* nfsInvalidateMapping(k: Kernel, task: Task, ioId: number, inode: NfsInode): Generator<number, number, void> {
  const cpu = () => k.sched.cpu(task.cpu);
  if (k.tp.nfs_invalidate_mapping_enter.enabled) k.tp.nfs_invalidate_mapping_enter.emit(cpu(), ioId, inode);
  let ret = 0;
  if (inode.mapping.pages.size > 0) {
    // nfs_sync_mapping: dirty data goes to the server first
    if (inode.mapping.nrDirty > 0) {
      yield* k.wb.writepages(task, inode, ioId, 1, 0, Infinity, Infinity);
      for (const f of [...inode.mapping.writebackFolios]) yield* folioWaitWriteback(k, task, f);
    }
    const r = yield* invalidateInodePages2Range(k, task, inode, 0, Number.MAX_SAFE_INTEGER);
    if (r.costNs > 0) yield r.costNs;
    if (r.busy.length > 0) ret = -16; // -EBUSY: a page could not go; the data stays flagged invalid
  }
  if (ret === 0) inode.cacheValidity &= ~NFS_INO.INVALID_DATA;
  if (k.tp.nfs_invalidate_mapping_exit.enabled) k.tp.nfs_invalidate_mapping_exit.emit(cpu(), ioId, inode, ret);
  return ret;
}

/** nfs_revalidate_mapping: before a read, make sure the cached pages may be used. */
export function* nfsRevalidateMapping(k: Kernel, task: Task, ioId: number, inode: NfsInode): Generator<number, number, void> {
  // nfs_mapping_need_revalidate_inode
  if (nfsCheckCacheInvalid(inode, NFS_INO.INVALID_CHANGE)) {
    const r = yield* nfsRevalidateInode(k, task, ioId, inode);
    if (r < 0) return r;
  }
  if (inode.cacheValidity & NFS_INO.INVALID_DATA) return yield* nfsInvalidateMapping(k, task, ioId, inode);
  return 0;
}

/**
 * nfs_getattr (stat): dirty data is written first so the server's times are right, then the
 * attributes are revalidated when the cache has expired (always with noac/actimeo=0).
 */
export function* nfsGetattr(k: Kernel, task: Task, ioId: number, inode: NfsInode): Generator<number, number, void> {
  const cpu = () => k.sched.cpu(task.cpu);
  const fn = k.fn.nfs_getattr;
  // SIMPLIFICATION: the idmap, path and kstat arguments read as NULL
  if (fn.entry.enabled) fn.enter(cpu(), ioId, 0, 0, 0, 0x7ff, 0);
  if (k.tp.nfs_getattr_enter.enabled) k.tp.nfs_getattr_enter.emit(cpu(), ioId, inode);
  let err = 0;
  if (!inode.isDir && inode.mapping.nrDirty > 0) {
    yield* k.wb.writepages(task, inode, ioId, 1, 0, Infinity, Infinity);
    for (const f of [...inode.mapping.writebackFolios]) yield* folioWaitWriteback(k, task, f);
  }
  if (nfsCheckCacheInvalid(inode, NFS_INO.INVALID_CHANGE | NFS_INO.INVALID_SIZE | NFS_INO.INVALID_MTIME | NFS_INO.INVALID_CTIME)) {
    err = yield* nfsRevalidateInode(k, task, ioId, inode);
  }
  if (k.tp.nfs_getattr_exit.enabled) k.tp.nfs_getattr_exit.emit(cpu(), ioId, inode, err);
  if (fn.ret.enabled) fn.exit(cpu(), ioId, err);
  return err;
}

/**
 * nfs_permission -> nfs_do_access: the access cache answers while it is valid (attributes not
 * expired, not invalidated); expired attributes are revalidated first; a miss sends ACCESS.
 * Returns 0, -EACCES or the RPC's error; nfs_access_enter/exit around it.
 */
export function* nfsPermission(k: Kernel, task: Task, ioId: number, inode: NfsInode, mask: number): Generator<number, number, void> {
  const cpu = () => k.sched.cpu(task.cpu);
  if (k.tp.nfs_access_enter.enabled) k.tp.nfs_access_enter.emit(cpu(), ioId, inode);
  const err = yield* nfsDoAccess(k, task, ioId, inode);
  const permitted = inode.accessCache ?? 0;
  const ret = err < 0 ? err : (permitted & mask) === mask ? 0 : -13;
  if (k.tp.nfs_access_exit.enabled) k.tp.nfs_access_exit.emit(cpu(), ioId, inode, mask, permitted, ret);
  return ret;
}

/** The access cache, refreshed by ACCESS when it cannot answer. 0 or -errno. */
function* nfsDoAccess(k: Kernel, task: Task, ioId: number, inode: NfsInode): Generator<number, number, void> {
  if (inode.accessCache !== undefined && !(inode.cacheValidity & NFS_INO.INVALID_ACCESS)) {
    if (!nfsAttributeCacheExpired(inode)) return 0;
    const r = yield* nfsRevalidateInode(k, task, ioId, inode);
    if (r < 0) return r;
    if (inode.accessCache !== undefined && !(inode.cacheValidity & NFS_INO.INVALID_ACCESS)) return 0;
  }
  const server = inode.server;
  const stamp = nfsFattrInit(server);
  const res = yield* nfs3CallSync(server, task, ioId, nfs3Access, { fh: inode.fh, access: NFS3_ACCESS_ALL });
  if (typeof res === 'number') return res;
  if (res.attr) nfsRefreshInode(k, inode, nfsFattr(res.attr, stamp), ioId);
  const err = nfs3StatToErrno(res.status);
  if (err < 0) return err;
  inode.accessCache = res.access;
  inode.cacheValidity &= ~NFS_INO.INVALID_ACCESS;
  return 0;
}
