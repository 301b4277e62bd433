// Models: fs/nfs/write.c: nfs_writepages sends the dirty folios of a range as async WRITE RPCs of
// at most wsize contiguous bytes, UNSTABLE (nfs_initiate_write); nfs_writeback_done ends each
// folio's writeback and, when the server answered UNSTABLE, puts the request on the inode's
// commit list with the write verifier; nfs_commit_inode sends COMMIT for the list
// (nfs_initiate_commit / nfs_commit_done), and a verifier that changed (the server rebooted)
// makes the pages dirty again to be rewritten. Tracepoints nfs_initiate_write,
// nfs_writeback_done, nfs_initiate_commit, nfs_commit_done.
// SIMPLIFICATION: background writeback commits as soon as an inode's last WRITE of a pass is
// answered (Linux's nfs_write_inode commits at the flusher's next pass over the inode); pages
// waiting for COMMIT are clean and not counted as under writeback (no NR_WRITEBACK accounting).

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { PAGE_SIZE, type Folio } from '../../mm/mm_types.js';
import { folioWaitWriteback } from '../../mm/filemap.js';
import { folioClearDirtyForIo, folioEndWriteback, folioStartWriteback, mappingSetError, WbSync } from '../../mm/page-writeback.js';
import { folioMarkDirty } from '../../mm/filemap.js';
import type { RpcProcInfo } from '../../net/sunrpc/clnt.js';
import type { RpcTask } from '../../net/sunrpc/sched.js';
import { EIO } from '../../uapi/errno.js';
import { nfs3Commit, nfs3Write, NFS3_OK, NFS_FILE_SYNC, NFS_UNSTABLE, type Nfs3CommitArgs, type Nfs3CommitRes, type Nfs3WriteArgs, type Nfs3WriteRes } from './nfs3xdr.js';
import { nfs3CallSync, nfsFattr, nfsFattrInit } from './nfs3proc.js';
import { nfsRefreshInode, type NfsInode } from './inode.js';

/** CPU time to set up one WRITE (nfs_pageio descriptor, the nfs_page requests). */
const NFS_PGIO_SETUP_NS = 400;

/** struct nfs_pgio_header for a write. */
export interface NfsWriteHeader {
  readonly inode: NfsInode;
  readonly folios: readonly Folio[];
  readonly args: Nfs3WriteArgs;
  res: Nfs3WriteRes | undefined;
}

/** struct nfs_commit_data */
export interface NfsCommitData {
  readonly inode: NfsInode;
  readonly args: Nfs3CommitArgs;
  res: Nfs3CommitRes | undefined;
}

/** The folios written UNSTABLE and waiting for COMMIT, per inode (the commit list). */
const commitLists = new WeakMap<NfsInode, Folio[]>();

function commitList(inode: NfsInode): Folio[] {
  let l = commitLists.get(inode);
  if (!l) {
    l = [];
    commitLists.set(inode, l);
  }
  return l;
}

/** ->writepages: WRITE UNSTABLE per run of at most wsize contiguous dirty folios. Returns pages sent. */
export function* nfsWritepages(k: Kernel, task: Task, inode: NfsInode, ioId: number, syncMode: number, startBytes: number, endBytes: number, maxPages: number): Generator<number, number, void> {
  const mapping = inode.mapping;
  const first = Math.floor(startBytes / PAGE_SIZE);
  const last = endBytes === Infinity ? Infinity : Math.floor((endBytes - 1) / PAGE_SIZE);
  const dirty: Folio[] = [];
  for (const f of mapping.dirtyFolios) if (f.index >= first && f.index <= last) dirty.push(f);
  dirty.sort((a, b) => a.index - b.index);
  if (dirty.length > maxPages) dirty.length = maxPages;
  const wb = k.wb.bdiFor(inode);
  if (dirty.length === 0) {
    if (mapping.nrDirty === 0) wb.dirty.delete(inode);
    return 0;
  }
  const server = inode.server;
  // noac / O_SYNC-like mounts write FILE_SYNC; else UNSTABLE and COMMIT later
  const stable = server.options.noac ? NFS_FILE_SYNC : NFS_UNSTABLE;
  let run: Folio[] = [];
  let sent = 0;
  const flush = (): void => {
    if (run.length === 0) return;
    nfsInitiateWrite(k, inode, run, ioId, stable, syncMode === WbSync.NONE);
    sent += run.length;
    run = [];
  };
  for (const f of dirty) {
    yield* folioWaitWriteback(k, task, f);
    if (!folioClearDirtyForIo(k, f)) continue;
    folioStartWriteback(k, f);
    if (run.length > 0 && (f.index !== run[run.length - 1]!.index + 1 || run.length >= server.wpages)) {
      yield NFS_PGIO_SETUP_NS;
      flush();
    }
    run.push(f);
  }
  if (run.length > 0) {
    yield NFS_PGIO_SETUP_NS;
    flush();
  }
  if (mapping.nrDirty === 0) wb.dirty.delete(inode);
  k.stat.pgwriteback += sent;
  return sent;
}

/** nfs_initiate_write: the async WRITE of one run. */
function nfsInitiateWrite(k: Kernel, inode: NfsInode, folios: readonly Folio[], ioId: number, stable: number, background: boolean): void {
  const server = inode.server;
  const offset = folios[0]!.index * PAGE_SIZE;
  const count = Math.max(0, Math.min(folios.length * PAGE_SIZE, inode.sizeBytes - offset));
  const hdr: NfsWriteHeader = { inode, folios, args: { fh: inode.fh, offset, count, stable }, res: undefined };
  if (k.tp.nfs_initiate_write.enabled) k.tp.nfs_initiate_write.emit(k.sched.ctxCpu, ioId, hdr);
  const stamp = nfsFattrInit(server);
  inode.writesInFlight++;
  const msg = { rpcProc: nfs3Write as RpcProcInfo<never, unknown>, rpcArgp: hdr.args as unknown, rpcResp: undefined as unknown };
  server.client.runAsync(ioId, msg, {
    rpcCallDone(task: RpcTask) {
      hdr.res = task.tkStatus === 0 ? (msg.rpcResp as Nfs3WriteRes) : undefined;
      if (k.tp.nfs_writeback_done.enabled) k.tp.nfs_writeback_done.emit(k.sched.ctxCpu, task.ioId, task.tkStatus, hdr);
      inode.writesInFlight--;
      const res = hdr.res;
      // our own write changed the file: its post-op attributes are expected, not a remote change
      if (res?.attr) {
        const fattr = nfsFattr(res.attr, stamp);
        nfsWccUpdate(inode, fattr.ctimeNs, fattr.mtimeNs);
        nfsRefreshInode(k, inode, fattr, task.ioId);
      }
      const ok = res !== undefined && res.status === NFS3_OK;
      for (const f of folios) {
        if (!ok && f.mapping) mappingSetError(f.mapping, -EIO);
        folioEndWriteback(k, f);
      }
      if (ok && res.committed < NFS_FILE_SYNC) {
        // nfs_mark_request_commit
        const list = commitList(inode);
        for (const f of folios) list.push(f);
        inode.ncommit += folios.length;
        inode.commitVerf = res.verf;
        if (background && inode.writesInFlight === 0) nfsCommitAsync(k, inode, ioId);
      }
    },
  });
}

/** nfs_wcc_update_inode: our write moved mtime/ctime; take them as ours (no remote change). */
function nfsWccUpdate(inode: NfsInode, ctimeNs: number, mtimeNs: number): void {
  inode.ctimeNs = ctimeNs;
  inode.mtimeNs = mtimeNs;
  inode.changeAttr = Math.floor(ctimeNs / 1e9) * 2 ** 30 + (ctimeNs % 1e9);
}

function takeCommitList(inode: NfsInode): Folio[] {
  const list = commitList(inode);
  commitLists.set(inode, []);
  inode.ncommit = 0;
  return list;
}

/** What a COMMIT reply means for the folios it covered: a new verifier -> write them again. */
function nfsCommitRelease(k: Kernel, inode: NfsInode, folios: readonly Folio[], res: Nfs3CommitRes | undefined, verf: number): number {
  if (res === undefined || res.status !== NFS3_OK) {
    mappingSetError(inode.mapping, -EIO);
    return -EIO;
  }
  if (res.verf !== verf) {
    // the server lost the uncommitted data (nfs_commit_release_pages: "redirty")
    for (const f of folios) if (f.mapping) folioMarkDirty(k, k.sched.ctxCpu, 0, f);
  }
  return 0;
}

/** nfs_commit_inode without FLUSH_SYNC: an async COMMIT of the commit list. */
function nfsCommitAsync(k: Kernel, inode: NfsInode, ioId: number): void {
  const folios = takeCommitList(inode);
  if (folios.length === 0) return;
  const verf = inode.commitVerf;
  const data: NfsCommitData = { inode, args: { fh: inode.fh, offset: 0, count: 0 }, res: undefined };
  if (k.tp.nfs_initiate_commit.enabled) k.tp.nfs_initiate_commit.emit(k.sched.ctxCpu, ioId, data);
  const msg = { rpcProc: nfs3Commit as RpcProcInfo<never, unknown>, rpcArgp: data.args as unknown, rpcResp: undefined as unknown };
  inode.server.client.runAsync(ioId, msg, {
    rpcCallDone(task: RpcTask) {
      data.res = task.tkStatus === 0 ? (msg.rpcResp as Nfs3CommitRes) : undefined;
      if (k.tp.nfs_commit_done.enabled) k.tp.nfs_commit_done.emit(k.sched.ctxCpu, task.ioId, task.tkStatus, data);
      nfsCommitRelease(k, inode, folios, data.res, verf);
    },
  });
}

/** nfs_commit_inode(FLUSH_SYNC): COMMIT the commit list and wait (fsync, close). Returns 0 or -errno. */
export function* nfsCommitInodeSync(k: Kernel, task: Task, ioId: number, inode: NfsInode): Generator<number, number, void> {
  const folios = takeCommitList(inode);
  if (folios.length === 0) return 0;
  const verf = inode.commitVerf;
  const data: NfsCommitData = { inode, args: { fh: inode.fh, offset: 0, count: 0 }, res: undefined };
  const cpu = () => k.sched.cpu(task.cpu);
  if (k.tp.nfs_initiate_commit.enabled) k.tp.nfs_initiate_commit.emit(cpu(), ioId, data);
  const res = yield* nfs3CallSync(inode.server, task, ioId, nfs3Commit, data.args);
  data.res = typeof res === 'number' ? undefined : res;
  if (k.tp.nfs_commit_done.enabled) k.tp.nfs_commit_done.emit(cpu(), ioId, typeof res === 'number' ? res : 0, data);
  return nfsCommitRelease(k, inode, folios, data.res, verf);
}
