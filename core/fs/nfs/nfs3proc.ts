// Models: fs/nfs/nfs3proc.c: the NFSv3 client's synchronous procedures (nfs3_proc_getattr,
// nfs3_proc_lookup, nfs3_proc_access, nfs3_proc_create, nfs3_proc_commit run through
// rpc_call_sync in the caller's context) and nfs3_stat_to_errno; each result's attributes come
// back as an nfs_fattr stamped with the RPC's start (time_start) and an attribute generation.

import type { Task } from '../../kernel/sched/task.js';
import { EEXIST, EIO, ENOENT, ENOSPC, ESTALE, ETIMEDOUT, EISDIR } from '../../uapi/errno.js';
import type { RpcProcInfo } from '../../net/sunrpc/clnt.js';
import {
  NFS3_OK,
  NFS3ERR_EXIST,
  NFS3ERR_ISDIR,
  NFS3ERR_NOENT,
  NFS3ERR_NOSPC,
  NFS3ERR_STALE,
  type Fattr3,
} from './nfs3xdr.js';
import type { NfsServer } from './super.js';

/** struct nfs_fattr: fattr3 plus when the RPC that fetched it started, and its generation. */
export interface NfsFattr extends Fattr3 {
  /** time_start, in jiffies. */
  readonly timeStartJiffies: number;
  /** gencount (nfs_inc_attr_generation_counter at nfs_fattr_init). */
  readonly gencount: number;
}

/** nfs3_stat_to_errno for the statuses the server returns. */
export function nfs3StatToErrno(status: number): number {
  switch (status) {
    case NFS3_OK:
      return 0;
    case NFS3ERR_NOENT:
      return -ENOENT;
    case NFS3ERR_EXIST:
      return -EEXIST;
    case NFS3ERR_ISDIR:
      return -EISDIR;
    case NFS3ERR_NOSPC:
      return -ENOSPC;
    case NFS3ERR_STALE:
      return -ESTALE;
    default:
      return -EIO;
  }
}

/** An RPC-level failure as NFS reports it: a soft mount's timeout is an I/O error. */
export function nfsRpcErrno(status: number): number {
  return status === -ETIMEDOUT ? -EIO : status;
}

/** nfs_fattr_init's stamp for a call starting now. */
export interface FattrStamp {
  readonly timeStartJiffies: number;
  readonly gencount: number;
}

export function nfsFattrInit(server: NfsServer): FattrStamp {
  return { timeStartJiffies: server.jiffies(), gencount: server.incAttrGeneration() };
}

export function nfsFattr(attr: Fattr3, stamp: FattrStamp): NfsFattr {
  return { ...attr, timeStartJiffies: stamp.timeStartJiffies, gencount: stamp.gencount };
}

/** rpc_call_sync of one NFSv3 procedure: the result, or a negative errno (RPC failure). */
export function* nfs3CallSync<A, R>(server: NfsServer, ctx: Task, ioId: number, proc: RpcProcInfo<A, R>, args: A): Generator<number, R | number, void> {
  const msg = { rpcProc: proc as RpcProcInfo<never, unknown>, rpcArgp: args as unknown, rpcResp: undefined as unknown };
  const status = yield* server.client.callSync(ctx, ioId, msg);
  if (status < 0) return nfsRpcErrno(status);
  return msg.rpcResp as R;
}
