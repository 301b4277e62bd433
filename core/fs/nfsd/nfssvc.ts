// Models: fs/nfsd/nfssvc.c, fs/nfsd/nfs3proc.c, fs/nfsd/vfs.c and fs/nfsd/nfsfh.c: the NFS
// server of one machine. nfsd threads (8 by default, RPCNFSDCOUNT) serve NFSv3 GETATTR, LOOKUP,
// ACCESS, READ, WRITE, COMMIT and CREATE on an export of a local filesystem, through that
// machine's VFS: READ is nfsd_read (the file's ->read_iter through its page cache, so a cache miss
// costs the server's disk), WRITE is nfsd_vfs_write (->write_iter, then vfs_fsync_range for
// FILE_SYNC/DATA_SYNC), COMMIT is nfsd_commit (vfs_fsync_range). File handles name (fsid, inode
// number) and fh_verify finds the inode again; the nfsd_file cache keeps one open file per inode
// (its readahead state lasts across calls). The maximum READ/WRITE payload
// (nfsd_get_default_max_blksize) is 1 MiB on machines with 4 GiB or more, halved below that.
// SIMPLIFICATION: READ data is copied into the thread's buffer (nfsd splices page-cache pages into
// the reply without a copy); the export's root directory has no inode of its own (its
// attributes are kept here, its ctime moves on CREATE); no duplicate reply cache.

import type { Kernel } from '../../kernel/kernel.js';
import { DEFAULT_PRIO, Task, type TaskBody } from '../../kernel/sched/task.js';
import { MmStruct, fileRaStateInit } from '../../mm/mm_types.js';
import { doMmap, MAP, PROT } from '../../mm/mmap.js';
import { userAccess } from '../../mm/memory.js';
import { DEFAULT_RA_PAGES } from '../../mm/readahead.js';
import { NS_PER_JIFFY } from '../../mm/page-writeback-throttle.js';
import { SvcServ, type SvcProcedure, type SvcRqst } from '../../net/sunrpc/svc.js';
import { O, type File, type Inode, type Kiocb } from '../types.js';
import type { Ext4Inode } from '../ext4/super.js';
import {
  NF3DIR,
  NF3REG,
  NFS3_ACCESS_ALL,
  NFS3_OK,
  NFS3_VERSION,
  NFS3ERR_IO,
  NFS3ERR_NOENT,
  NFS3ERR_STALE,
  NFS_FILE_SYNC,
  NFS_PROGRAM,
  NFS3PROC,
  nfs3Access,
  nfs3Commit,
  nfs3Create,
  nfs3Getattr,
  nfs3Lookup,
  nfs3Read,
  nfs3Write,
  type Fattr3,
  type Nfs3AccessArgs,
  type Nfs3CommitArgs,
  type Nfs3CreateArgs,
  type Nfs3Fh,
  type Nfs3GetattrArgs,
  type Nfs3LookupArgs,
  type Nfs3ReadArgs,
  type Nfs3WriteArgs,
} from '../nfs/nfs3xdr.js';
import type { NfsExportInfo } from '../nfs/super.js';

/** RPCNFSDCOUNT: nfsd threads rpc.nfsd starts by default. */
export const NFSD_DEFAULT_THREADS = 8;
/** NFSSVC_MAXBLKSIZE: the largest READ/WRITE payload nfsd ever takes. */
export const NFSSVC_MAXBLKSIZE = 1 << 20;
/** CPU time of fh_verify (decode the handle, find the inode, check the export). */
const FH_VERIFY_NS = 1_000;
/** The inode number of a filesystem's root (EXT2_ROOT_INO). */
const ROOT_INO = 2;

/** nfsd_get_default_max_blksize: 1/4096 of memory, as a power of two from 8 KiB to 1 MiB. */
export function nfsdMaxBlksize(memoryBytes: number): number {
  const target = memoryBytes / 4096;
  let blksize = NFSSVC_MAXBLKSIZE;
  while (blksize > target && blksize >= 8 * 1024 * 2) blksize /= 2;
  return blksize;
}

/** The NFS server of one machine, exporting one directory. */
export class Nfsd {
  readonly serv: SvcServ;
  readonly threads: Task[] = [];
  readonly fsid: number;
  readonly maxBlksize: number;
  /** The write verifier: the server instance (a reboot changes it). */
  readonly writeVerf: number;
  /** fh -> inode for handles given out (fh_verify's exportfs_decode_fh). */
  private readonly byFileid = new Map<number, { readonly inode: Inode; readonly path: string }>();
  /** The nfsd_file cache: one open file per inode. */
  private readonly files = new Map<Inode, File>();
  /** The export root's times (its directory has no inode in the model). */
  private rootCtimeNs = 0;

  constructor(
    readonly k: Kernel,
    readonly exportPath: string,
    nthreads = NFSD_DEFAULT_THREADS,
  ) {
    const fs = k.vfs.fsFor(exportPath);
    if (!fs) throw new Error(`nfsd: ${exportPath} is not on a mounted filesystem`);
    this.fsid = fs.dev;
    this.maxBlksize = nfsdMaxBlksize(k.mm.totalPages * 4096);
    this.writeVerf = Math.imul(k.seed + 7, 0x2545f491) >>> 0;
    const procs = new Map<number, SvcProcedure<unknown>>();
    const add = <R>(proc: number, p: SvcProcedure<R>): void => {
      procs.set(proc, p as SvcProcedure<unknown>);
    };
    add(NFS3PROC.GETATTR, { pcName: 'GETATTR', pcFunc: (r) => this.getattr(r), resultBytes: nfs3Getattr.resultBytes });
    add(NFS3PROC.LOOKUP, { pcName: 'LOOKUP', pcFunc: (r) => this.lookup(r), resultBytes: nfs3Lookup.resultBytes });
    add(NFS3PROC.ACCESS, { pcName: 'ACCESS', pcFunc: (r) => this.access(r), resultBytes: nfs3Access.resultBytes });
    add(NFS3PROC.READ, { pcName: 'READ', pcFunc: (r) => this.read(r), resultBytes: nfs3Read.resultBytes });
    add(NFS3PROC.WRITE, { pcName: 'WRITE', pcFunc: (r) => this.write(r), resultBytes: nfs3Write.resultBytes });
    add(NFS3PROC.COMMIT, { pcName: 'COMMIT', pcFunc: (r) => this.commit(r), resultBytes: nfs3Commit.resultBytes });
    add(NFS3PROC.CREATE, { pcName: 'CREATE', pcFunc: (r) => this.create(r), resultBytes: nfs3Create.resultBytes });
    this.serv = new SvcServ(k, 'nfsd', NFS_PROGRAM.number, NFS3_VERSION, procs);
    for (let i = 0; i < nthreads; i++) this.threads.push(this.startThread(i));
  }

  /** What a client's mount of `path` learns from MOUNT and FSINFO (undefined: not exported, MNT3ERR_ACCES). */
  exportInfo(path = this.exportPath): NfsExportInfo | undefined {
    if (path !== this.exportPath) return undefined;
    return { rootFh: this.rootFh, rootAttr: this.rootAttr(), rtmaxBytes: this.maxBlksize, wtmaxBytes: this.maxBlksize };
  }

  get rootFh(): Nfs3Fh {
    return { fsid: this.fsid, fileid: ROOT_INO };
  }

  /** kthread_create(nfsd): a kernel thread with an address space of its own for its rq_pages buffer. */
  private startThread(i: number): Task {
    const k = this.k;
    const pid = k.nextPid++;
    const cpu = i % k.sched.cpus.length;
    const t = new Task(k.kaddr(), pid, pid, 'nfsd', DEFAULT_PRIO, true, new MmStruct(k.kaddr()), undefined, cpu, (task) => k.sched.wakeFromContext(task));
    k.tasks.push(t);
    k.sched.wakeUpNewTask(t, this.threadBody(t), k.sched.cpu(cpu));
    return t;
  }

  private bufVa = new Map<Task, number>();

  private *threadBody(t: Task): TaskBody {
    const k = this.k;
    // svc_alloc_arg's rq_pages: room for the largest payload, faulted in once
    const va = doMmap(k, k.sched.cpu(t.cpu), t.mm!, undefined, this.maxBlksize, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, 0);
    yield* userAccess(k, t, va, this.maxBlksize, true);
    this.bufVa.set(t, va);
    yield* this.serv.threadBody(t);
  }

  private rootAttr(): Fattr3 {
    return { type: NF3DIR, mode: 0o755, nlink: 2, sizeBytes: 4096, usedBytes: 4096, fsid: this.fsid, fileid: ROOT_INO, atimeNs: 0, mtimeNs: this.rootCtimeNs, ctimeNs: this.rootCtimeNs };
  }

  /** nfsd's fill_post_wcc / encode_fattr3 of a file. */
  private fattrOf(inode: Inode): Fattr3 {
    const jiffy = (inode as Partial<Ext4Inode>).timesJiffy ?? -1;
    const timeNs = jiffy < 0 ? 0 : jiffy * NS_PER_JIFFY;
    const used = Math.ceil(inode.sizeBytes / 4096) * 4096;
    return { type: NF3REG, mode: inode.mode & 0o7777, nlink: 1, sizeBytes: inode.sizeBytes, usedBytes: used, fsid: this.fsid, fileid: inode.ino, atimeNs: timeNs, mtimeNs: timeNs, ctimeNs: timeNs };
  }

  /** fh_verify */
  private *fhVerify(fh: Nfs3Fh): Generator<number, Inode | undefined | 'root', void> {
    yield FH_VERIFY_NS;
    if (fh.fsid !== this.fsid) return undefined;
    if (fh.fileid === ROOT_INO) return 'root';
    return this.byFileid.get(fh.fileid)?.inode;
  }

  private remember(inode: Inode, path: string): Nfs3Fh {
    this.byFileid.set(inode.ino, { inode, path });
    return { fsid: this.fsid, fileid: inode.ino };
  }

  /** nfsd_file_acquire: the cached open file of an inode. */
  private fileOf(inode: Inode): File {
    let f = this.files.get(inode);
    if (!f) {
      const raPages = this.k.queueByDev(inode.bdevDev)?.raPages ?? DEFAULT_RA_PAGES;
      f = { kaddr: this.k.kaddr(), inode, flags: O.RDWR, posBytes: 0, ra: fileRaStateInit(raPages), fMode: 0, refcount: 1, fWbErr: 0 };
      this.files.set(inode, f);
    }
    return f;
  }

  private *getattr(r: SvcRqst) {
    const a = r.call.args as Nfs3GetattrArgs;
    const inode = yield* this.fhVerify(a.fh);
    if (inode === undefined) return { status: NFS3ERR_STALE };
    return { status: NFS3_OK, attr: inode === 'root' ? this.rootAttr() : this.fattrOf(inode) };
  }

  private *lookup(r: SvcRqst) {
    const a = r.call.args as Nfs3LookupArgs;
    const dir = yield* this.fhVerify(a.dir);
    if (dir !== 'root') return { status: NFS3ERR_STALE };
    const path = `${this.exportPath}/${a.name}`;
    const inode = this.k.vfs.lookup(path);
    if (!inode) return { status: NFS3ERR_NOENT, dirAttr: this.rootAttr() };
    return { status: NFS3_OK, fh: this.remember(inode, path), attr: this.fattrOf(inode), dirAttr: this.rootAttr() };
  }

  private *access(r: SvcRqst) {
    const a = r.call.args as Nfs3AccessArgs;
    const inode = yield* this.fhVerify(a.fh);
    if (inode === undefined) return { status: NFS3ERR_STALE, access: 0 };
    return { status: NFS3_OK, attr: inode === 'root' ? this.rootAttr() : this.fattrOf(inode), access: a.access & NFS3_ACCESS_ALL };
  }

  /** nfsd3_proc_read -> nfsd_read: the file's ->read_iter through the server's page cache. */
  private *read(r: SvcRqst) {
    const a = r.call.args as Nfs3ReadArgs;
    const inode = yield* this.fhVerify(a.fh);
    if (inode === undefined || inode === 'root') return { status: NFS3ERR_STALE, count: 0, eof: false };
    const want = Math.max(0, Math.min(a.count, this.maxBlksize, inode.sizeBytes - a.offset));
    let got = 0;
    if (want > 0) {
      const iocb: Kiocb = { kaddr: this.k.kaddr(), file: this.fileOf(inode), posBytes: a.offset, ioId: r.ioId, direct: false, task: r.task };
      got = yield* inode.fops.readIter(iocb, { va: this.bufVa.get(r.task)!, lenBytes: want });
      if (got < 0) return { status: NFS3ERR_IO, attr: this.fattrOf(inode), count: 0, eof: false };
    }
    return { status: NFS3_OK, attr: this.fattrOf(inode), count: got, eof: a.offset + got >= inode.sizeBytes };
  }

  /** nfsd3_proc_write -> nfsd_vfs_write: ->write_iter, then a sync for stable writes. */
  private *write(r: SvcRqst) {
    const a = r.call.args as Nfs3WriteArgs;
    const inode = yield* this.fhVerify(a.fh);
    if (inode === undefined || inode === 'root') return { status: NFS3ERR_STALE, count: 0, committed: 0, verf: this.writeVerf };
    const file = this.fileOf(inode);
    const count = Math.min(a.count, this.maxBlksize);
    let n = 0;
    if (count > 0) {
      const iocb: Kiocb = { kaddr: this.k.kaddr(), file, posBytes: a.offset, ioId: r.ioId, direct: false, task: r.task };
      n = yield* inode.fops.writeIter(iocb, { va: this.bufVa.get(r.task)!, lenBytes: count });
      if (n < 0) return { status: NFS3ERR_IO, attr: this.fattrOf(inode), count: 0, committed: 0, verf: this.writeVerf };
    }
    if (a.stable !== 0) {
      const err = yield* inode.fops.fsync(file, r.task, r.ioId, a.offset, a.offset + n, a.stable !== NFS_FILE_SYNC);
      if (err < 0) return { status: NFS3ERR_IO, attr: this.fattrOf(inode), count: 0, committed: 0, verf: this.writeVerf };
    }
    return { status: NFS3_OK, attr: this.fattrOf(inode), count: n, committed: a.stable, verf: this.writeVerf };
  }

  /** nfsd3_proc_commit -> nfsd_commit: vfs_fsync_range of the range (0, 0: the whole file). */
  private *commit(r: SvcRqst) {
    const a = r.call.args as Nfs3CommitArgs;
    const inode = yield* this.fhVerify(a.fh);
    if (inode === undefined || inode === 'root') return { status: NFS3ERR_STALE, verf: this.writeVerf };
    const end = a.count === 0 ? Infinity : a.offset + a.count;
    const err = yield* inode.fops.fsync(this.fileOf(inode), r.task, r.ioId, a.offset, end, false);
    return { status: err < 0 ? NFS3ERR_IO : NFS3_OK, attr: this.fattrOf(inode), verf: this.writeVerf };
  }

  /** nfsd3_proc_create (UNCHECKED): the file, made if missing. */
  private *create(r: SvcRqst) {
    const a = r.call.args as Nfs3CreateArgs;
    const dir = yield* this.fhVerify(a.dir);
    if (dir !== 'root') return { status: NFS3ERR_STALE, dirAttr: this.rootAttr() };
    const path = `${this.exportPath}/${a.name}`;
    let inode: Inode | undefined = this.k.vfs.lookup(path);
    if (!inode) {
      inode = this.k.vfs.create(path);
      if (!inode) return { status: NFS3ERR_IO, dirAttr: this.rootAttr() };
      // the directory changed
      this.rootCtimeNs = Math.floor(this.k.env.nowNs / NS_PER_JIFFY) * NS_PER_JIFFY;
    }
    return { status: NFS3_OK, fh: this.remember(inode, path), attr: this.fattrOf(inode), dirAttr: this.rootAttr() };
  }
}
