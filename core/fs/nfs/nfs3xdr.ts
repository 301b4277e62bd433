// Models: fs/nfs/nfs3xdr.c and include/uapi/linux/nfs3.h: the NFSv3 procedures (RFC 1813) as
// decoded objects, and the size XDR gives each call's arguments and each reply's result, so a
// byte-stream transport carries exactly as many bytes as Linux's would: file handles as knfsd
// makes them for ext4 (28 bytes), fattr3 84 bytes, post_op_attr 4 + 84, wcc_data 4 + 24 + 88,
// opaque data padded to 4 bytes.
// SIMPLIFICATION: file handles are (fsid, fileid) pairs; names are bounded by NFS3_MAXNAMLEN only.

import type { RpcProcInfo, RpcProgram } from '../../net/sunrpc/clnt.js';

export const NFS_PROGRAM: RpcProgram = { name: 'nfs', number: 100003 };
export const NFS3_VERSION = 3;

/** Procedure numbers (RFC 1813 section 3). */
export const NFS3PROC = { NULL: 0, GETATTR: 1, SETATTR: 2, LOOKUP: 3, ACCESS: 4, READ: 6, WRITE: 7, CREATE: 8, COMMIT: 21 } as const;

/** nfsstat3 values this model returns. */
export const NFS3_OK = 0;
export const NFS3ERR_NOENT = 2;
export const NFS3ERR_IO = 5;
export const NFS3ERR_EXIST = 17;
export const NFS3ERR_NOTDIR = 20;
export const NFS3ERR_ISDIR = 21;
export const NFS3ERR_NOSPC = 28;
export const NFS3ERR_STALE = 70;

/** ftype3 */
export const NF3REG = 1;
export const NF3DIR = 2;

/** stable_how */
export const NFS_UNSTABLE = 0;
export const NFS_DATA_SYNC = 1;
export const NFS_FILE_SYNC = 2;

/** ACCESS3_* bits. */
export const NFS3_ACCESS_READ = 0x0001;
export const NFS3_ACCESS_ALL = 0x003f;

/** nfs_fh3 as the client and server exchange it. */
export interface Nfs3Fh {
  readonly fsid: number;
  readonly fileid: number;
}

/** fattr3; times in ns (nfstime3's seconds and nseconds). */
export interface Fattr3 {
  readonly type: number;
  readonly mode: number;
  readonly nlink: number;
  readonly sizeBytes: number;
  readonly usedBytes: number;
  readonly fsid: number;
  readonly fileid: number;
  readonly atimeNs: number;
  readonly mtimeNs: number;
  readonly ctimeNs: number;
}

export interface Nfs3GetattrArgs { readonly fh: Nfs3Fh }
export interface Nfs3GetattrRes { readonly status: number; readonly attr?: Fattr3 }
export interface Nfs3LookupArgs { readonly dir: Nfs3Fh; readonly name: string }
export interface Nfs3LookupRes { readonly status: number; readonly fh?: Nfs3Fh; readonly attr?: Fattr3; readonly dirAttr?: Fattr3 }
export interface Nfs3AccessArgs { readonly fh: Nfs3Fh; readonly access: number }
export interface Nfs3AccessRes { readonly status: number; readonly attr?: Fattr3; readonly access: number }
export interface Nfs3ReadArgs { readonly fh: Nfs3Fh; readonly offset: number; readonly count: number }
export interface Nfs3ReadRes { readonly status: number; readonly attr?: Fattr3; readonly count: number; readonly eof: boolean }
export interface Nfs3WriteArgs { readonly fh: Nfs3Fh; readonly offset: number; readonly count: number; readonly stable: number }
/** The write verifier is the server's boot instance: a change tells the client to resend uncommitted data. */
export interface Nfs3WriteRes { readonly status: number; readonly attr?: Fattr3; readonly count: number; readonly committed: number; readonly verf: number }
export interface Nfs3CommitArgs { readonly fh: Nfs3Fh; readonly offset: number; readonly count: number }
export interface Nfs3CommitRes { readonly status: number; readonly attr?: Fattr3; readonly verf: number }
export interface Nfs3CreateArgs { readonly dir: Nfs3Fh; readonly name: string; readonly mode: number }
export interface Nfs3CreateRes { readonly status: number; readonly fh?: Nfs3Fh; readonly attr?: Fattr3; readonly dirAttr?: Fattr3 }

/** XDR sizes. */
const pad4 = (n: number): number => Math.ceil(n / 4) * 4;
export const NFS3_FH_BYTES = 28;
const FH3 = 4 + NFS3_FH_BYTES;
const FATTR3 = 84;
const POST_OP_ATTR = 4 + FATTR3;
const WCC_DATA = 4 + 24 + POST_OP_ATTR;
const STATUS = 4;
const filename3 = (name: string): number => 4 + pad4(name.length);
/** A non-OK status carries no result body beyond its post-op attributes (sized as with them). */

export const NFS3_MAXNAMLEN = 255;

export const nfs3Getattr: RpcProcInfo<Nfs3GetattrArgs, Nfs3GetattrRes> = {
  pProc: NFS3PROC.GETATTR,
  pName: 'GETATTR',
  argBytes: () => FH3,
  maxResultBytes: () => STATUS + FATTR3,
  resultBytes: (r) => STATUS + (r.attr ? FATTR3 : 0),
};

export const nfs3Lookup: RpcProcInfo<Nfs3LookupArgs, Nfs3LookupRes> = {
  pProc: NFS3PROC.LOOKUP,
  pName: 'LOOKUP',
  argBytes: (a) => FH3 + filename3(a.name),
  maxResultBytes: () => STATUS + FH3 + 2 * POST_OP_ATTR,
  resultBytes: (r) => STATUS + (r.fh ? FH3 + POST_OP_ATTR : 0) + POST_OP_ATTR,
};

export const nfs3Access: RpcProcInfo<Nfs3AccessArgs, Nfs3AccessRes> = {
  pProc: NFS3PROC.ACCESS,
  pName: 'ACCESS',
  argBytes: () => FH3 + 4,
  maxResultBytes: () => STATUS + POST_OP_ATTR + 4,
  resultBytes: () => STATUS + POST_OP_ATTR + 4,
};

export const nfs3Read: RpcProcInfo<Nfs3ReadArgs, Nfs3ReadRes> = {
  pProc: NFS3PROC.READ,
  pName: 'READ',
  argBytes: () => FH3 + 8 + 4,
  // status, post-op attributes, count, eof, then the data as opaque<> (length word + padded bytes)
  maxResultBytes: (a) => STATUS + POST_OP_ATTR + 4 + 4 + 4 + pad4(a.count),
  resultBytes: (r) => STATUS + POST_OP_ATTR + (r.status === NFS3_OK ? 4 + 4 + 4 + pad4(r.count) : 0),
};

export const nfs3Write: RpcProcInfo<Nfs3WriteArgs, Nfs3WriteRes> = {
  pProc: NFS3PROC.WRITE,
  pName: 'WRITE',
  argBytes: (a) => FH3 + 8 + 4 + 4 + 4 + pad4(a.count),
  maxResultBytes: () => STATUS + WCC_DATA + 4 + 4 + 8,
  resultBytes: (r) => STATUS + WCC_DATA + (r.status === NFS3_OK ? 4 + 4 + 8 : 0),
};

export const nfs3Commit: RpcProcInfo<Nfs3CommitArgs, Nfs3CommitRes> = {
  pProc: NFS3PROC.COMMIT,
  pName: 'COMMIT',
  argBytes: () => FH3 + 8 + 4,
  maxResultBytes: () => STATUS + WCC_DATA + 8,
  resultBytes: (r) => STATUS + WCC_DATA + (r.status === NFS3_OK ? 8 : 0),
};

export const nfs3Create: RpcProcInfo<Nfs3CreateArgs, Nfs3CreateRes> = {
  pProc: NFS3PROC.CREATE,
  pName: 'CREATE',
  // createhow3 UNCHECKED + sattr3 with the mode set (set_it + mode, then five unset fields)
  argBytes: (a) => FH3 + filename3(a.name) + 4 + (4 + 4) + 5 * 4,
  maxResultBytes: () => STATUS + 4 + FH3 + POST_OP_ATTR + WCC_DATA,
  resultBytes: (r) => STATUS + (r.status === NFS3_OK ? 4 + FH3 + POST_OP_ATTR : 0) + WCC_DATA,
};
