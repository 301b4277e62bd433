// Models: fs/nfs/read.c and fs/nfs/pagelist.c: nfs_readahead / nfs_read_folio coalesce the
// locked folios into requests of at most rsize (nfs_pageio_add_request), each sent as an async
// READ RPC (nfs_initiate_read, run by rpciod); nfs_readpage_done applies the reply's post-op
// attributes (nfs3_read_done -> nfs_refresh_inode) and ends each folio's read (pages past the
// data the server returned are zero-filled, as at EOF). Tracepoints nfs_initiate_read and
// nfs_readpage_done.

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import type { Folio } from '../../mm/mm_types.js';
import { PAGE_SIZE } from '../../mm/mm_types.js';
import { folioEndRead } from '../../mm/filemap.js';
import type { RpcProcInfo } from '../../net/sunrpc/clnt.js';
import type { RpcTask } from '../../net/sunrpc/sched.js';
import { nfs3Read, NFS3_OK, type Nfs3ReadArgs, type Nfs3ReadRes } from './nfs3xdr.js';
import { nfsFattr, nfsFattrInit } from './nfs3proc.js';
import { nfsRefreshInode, type NfsInode } from './inode.js';

/** CPU time to set up one READ (nfs_pageio descriptor, the nfs_page requests). */
const NFS_PGIO_SETUP_NS = 400;

/** struct nfs_pgio_header for a read: the folios one READ fills. */
export interface NfsReadHeader {
  readonly inode: NfsInode;
  readonly folios: readonly Folio[];
  readonly args: Nfs3ReadArgs;
  res: Nfs3ReadRes | undefined;
}

/** ->readahead / ->read_folio: one READ per run of at most rsize contiguous folios. */
export function* nfsReadahead(k: Kernel, task: Task, inode: NfsInode, folios: readonly Folio[], ioId: number): Generator<number, void, void> {
  const server = inode.server;
  let i = 0;
  while (i < folios.length) {
    const run: Folio[] = [folios[i]!];
    i++;
    while (i < folios.length && run.length < server.rpages && folios[i]!.index === run[run.length - 1]!.index + 1) run.push(folios[i++]!);
    yield NFS_PGIO_SETUP_NS;
    nfsInitiateRead(k, inode, run, ioId);
  }
}

/** nfs_initiate_read: the async READ for one run of folios. */
function nfsInitiateRead(k: Kernel, inode: NfsInode, folios: readonly Folio[], ioId: number): void {
  const server = inode.server;
  const offset = folios[0]!.index * PAGE_SIZE;
  const count = Math.min(folios.length * PAGE_SIZE, server.rsize);
  const hdr: NfsReadHeader = { inode, folios, args: { fh: inode.fh, offset, count }, res: undefined };
  if (k.tp.nfs_initiate_read.enabled) k.tp.nfs_initiate_read.emit(k.sched.ctxCpu, ioId, hdr);
  const stamp = nfsFattrInit(server);
  const msg = { rpcProc: nfs3Read as RpcProcInfo<never, unknown>, rpcArgp: hdr.args as unknown, rpcResp: undefined as unknown };
  server.client.runAsync(ioId, msg, {
    rpcCallDone(task: RpcTask) {
      hdr.res = task.tkStatus === 0 ? (msg.rpcResp as Nfs3ReadRes) : undefined;
      nfsReadpageDone(k, task, hdr, stamp);
    },
  });
}

/** nfs_readpage_done + nfs_read_completion: attributes, then each folio uptodate (or failed). */
function nfsReadpageDone(k: Kernel, task: RpcTask, hdr: NfsReadHeader, stamp: ReturnType<typeof nfsFattrInit>): void {
  if (k.tp.nfs_readpage_done.enabled) k.tp.nfs_readpage_done.emit(k.sched.ctxCpu, task.ioId, task.tkStatus, hdr);
  const res = hdr.res;
  const ok = res !== undefined && res.status === NFS3_OK;
  if (res?.attr) nfsRefreshInode(k, hdr.inode, nfsFattr(res.attr, stamp), task.ioId);
  for (const f of hdr.folios) folioEndRead(f, ok);
}
