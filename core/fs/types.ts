// Models: include/linux/fs.h: inodes, open files, kiocbs and the ops tables the VFS dispatches
// through (file_operations, address_space_operations), plus the per-process fd table.

import type { Task } from '../kernel/sched/task.js';
import type { AddressSpace, FileRaState, Folio, Vma } from '../mm/mm_types.js';
import type { BioVec } from '../block/blk_types.js';
import type { WaitQueue } from '../sim/process.js';
import type { PipeInodeInfo } from './pipe.js';

/**
 * EIOCBQUEUED (include/linux/errno.h, kernel-internal): an async kiocb's ->read_iter/->write_iter
 * queued the I/O and will report the result through ki_complete.
 */
export const EIOCBQUEUED = 529;

/** A run of file blocks mapped to device blocks (struct ext4_extent, or identity for a bdev). */
export interface MappedExtent {
  /** First logical block (file offset / block size). */
  readonly lblk: number;
  /** First physical block on the device. */
  readonly pblk: number;
  readonly len: number;
}

/**
 * struct address_space_operations, reduced: how the page cache finds the device blocks behind file
 * blocks. Filesystems fill holes and allocate on write.
 */
export interface AddressSpaceOps {
  /** Map `len` blocks starting at `lblk`; allocates when `create` (ext4_map_blocks). */
  mapBlocks(inode: Inode, lblk: number, len: number, create: boolean): MappedExtent | undefined;
  /**
   * ->write_end's filesystem part for a page a buffered write just filled, when the filesystem
   * takes the page itself instead of leaving it dirty for writeback (ext4's data=journal:
   * ext4_journalled_write_end puts it in the running transaction).
   */
  writeEnd?(inode: Inode, folio: Folio): void;
  /**
   * ->readahead / ->read_folio of a filesystem with no block device under it (NFS): start reading
   * the locked folios; each is unlocked (folio_end_read) when its data has arrived.
   */
  readahead?(task: Task, inode: Inode, folios: readonly Folio[], ioId: number): Generator<number, void, void>;
  /** ->writepages of such a filesystem: start writing the range's dirty folios; returns the pages sent. */
  writepages?(task: Task, inode: Inode, ioId: number, syncMode: number, startBytes: number, endBytes: number, maxPages: number): Generator<number, number, void>;
  /** Its own backing_dev_info (super_setup_bdi): the readahead window and largest I/O, in pages. */
  readonly bdi?: { readonly raPages: number; readonly ioPages: number };
}

/** struct inode_operations, the part a filesystem whose attributes live elsewhere (NFS) implements. */
export interface InodeOperations {
  /** ->getattr (stat): bring the attributes up to date; 0 or -errno. May sleep. */
  getattr(task: Task, ioId: number, inode: Inode): Generator<number, number, void>;
}

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFCHR = 0o020000;

/** struct inode */
export interface Inode {
  readonly kaddr: number;
  readonly ino: number;
  /** Device number of the filesystem (s_dev), or of the bdev for a block-device inode. */
  readonly sDev: number;
  readonly mode: number;
  sizeBytes: number;
  readonly blockSizeBytes: number;
  readonly mapping: AddressSpace;
  readonly aops: AddressSpaceOps;
  readonly fops: FileOperations;
  /** The block device data goes to (dev_t). */
  readonly bdevDev: number;
  /** Metadata changed since the last journal commit (i_size, blocks): fsync must commit. */
  metadataDirty: boolean;
  /** Name, for writeback tracepoints and listings. */
  readonly path: string;
  /** i_write_hint: the data lifetime fcntl(F_SET_RW_HINT) set (RWH_*), copied into each bio written. */
  writeHint: number;
  /** i_op where the filesystem has one (absent: attributes are the inode's own, generic_fillattr). */
  readonly iop?: InodeOperations;
}

/** enum rw_hint (include/uapi/linux/fcntl.h): the expected lifetime of written data. */
export const RWH_WRITE_LIFE = { NOT_SET: 0, NONE: 1, SHORT: 2, MEDIUM: 3, LONG: 4, EXTREME: 5 } as const;

/** Open flags (include/uapi/asm-generic/fcntl.h, x86-64 values). */
export const O = {
  RDONLY: 0,
  WRONLY: 1,
  RDWR: 2,
  ACCMODE: 3,
  CREAT: 0o100,
  /** With O_CREAT: fail if the file exists; without, on a block device: claim it exclusively. */
  EXCL: 0o200,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  /** O_NONBLOCK: a read or write that would sleep returns -EAGAIN (pipes, sockets). */
  NONBLOCK: 0o4000,
  DSYNC: 0o10000,
  DIRECT: 0o40000,
  SYNC: 0o4010000,
} as const;

/** f_mode bits that posix_fadvise sets (include/linux/fs.h). */
export const FMODE = {
  /** POSIX_FADV_RANDOM: page-cache misses read only the pages asked for, no readahead window. */
  RANDOM: 1 << 12,
  /** POSIX_FADV_NOREUSE: the data will be accessed once. */
  NOREUSE: 1 << 23,
} as const;

/** struct file */
export interface File {
  readonly kaddr: number;
  readonly inode: Inode;
  /** f_flags: fcntl(F_SETFL) changes O_NONBLOCK and O_APPEND. */
  flags: number;
  posBytes: number;
  readonly ra: FileRaState;
  /** f_mode's FMODE_* bits that change at run time (posix_fadvise). */
  fMode: number;
  refcount: number;
  /** f_wb_err: the mapping's errseq_t as this file last reported it (sampled at open). */
  fWbErr: number;
  /** f_ep: the epoll items watching this file, set by epoll_ctl (core/fs/eventpoll.ts). */
  fEp?: FileEpHead;
}

/** struct epitems_head as a file sees it: its last fput takes it out of every epoll set (eventpoll_release). */
export interface FileEpHead {
  eventpollRelease(file: File): void;
}

/** struct kiocb: one read or write in flight, with the I/O id it belongs to. */
export interface Kiocb {
  readonly kaddr: number;
  readonly file: File;
  posBytes: number;
  readonly ioId: number;
  /** IOCB_DIRECT etc. mirrored from the file's flags. */
  readonly direct: boolean;
  readonly task: Task;
  /** IOCB_NOWAIT: return -EAGAIN instead of sleeping (io_uring's first, inline attempt). */
  readonly nowait?: boolean;
  /** IOCB_HIPRI: completion is polled (io_uring IORING_SETUP_IOPOLL). */
  readonly hipri?: boolean;
  /**
   * ki_complete: set for an async kiocb (!is_sync_kiocb). Its O_DIRECT I/O returns -EIOCBQUEUED
   * at once and this is called with the result from the last bio's end_io (interrupt context).
   */
  readonly kiComplete?: (iocb: Kiocb, res: number) => void;
}

/** A user buffer as the kernel sees it (a user VA range, resolved to pages on copy). */
export interface UserBuffer {
  readonly va: number;
  readonly lenBytes: number;
  /**
   * ITER_BVEC: the pages behind `va`, pinned once at registration (io_uring fixed buffers), so
   * O_DIRECT builds its bios from them without pinning user pages per I/O.
   */
  readonly pinned?: readonly BioVec[];
  /**
   * A pipe instead of user memory (splice): as a read's destination (ITER_PIPE) the page-cache
   * pages go into the pipe by reference; as a write's source the bytes come from the pipe's pages.
   */
  readonly pipe?: PipeInodeInfo;
}

/**
 * struct file_operations. Process-context entry points are generators: they may sleep.
 * Results follow the kernel convention: >= 0 success, negative errno on failure.
 */
export interface FileOperations {
  readonly name: string;
  readIter(iocb: Kiocb, buf: UserBuffer): Generator<number, number, void>;
  writeIter(iocb: Kiocb, buf: UserBuffer): Generator<number, number, void>;
  fsync(file: File, task: Task, ioId: number, startBytes: number, endBytes: number, datasync: boolean): Generator<number, number, void>;
  /** Checks a new mapping; 0 or -errno (generic_file_mmap). */
  mmap(file: File, vma: Vma): number;
  /** ->open, called by vfs_open once the file exists: 0, or -errno to fail the open (lp_open's -EBUSY). */
  open?(inode: Inode, file: File, task: Task): number;
  /** ->flush, at every close (filp_close): NFS writes dirty data back and commits it (close-to-open). */
  flush?(file: File, task: Task, ioId: number): Generator<number, number, void>;
  /** ->release, when the last reference to the file goes (fput): a device forgets its opener. */
  release?(inode: Inode, file: File): void;
  /**
   * ->poll: the EPOLL* events ready now; with a poll table, also registers the caller on the wait
   * queue(s) that will be woken when that changes (poll_wait). Files without it are always ready
   * for reading and writing (DEFAULT_POLLMASK).
   */
  poll?(file: File, pt: PollTable | undefined): number;
  /** ->splice_read: up to `lenBytes` from the kiocb's position into `pipe`; bytes moved or -errno. */
  spliceRead?(iocb: Kiocb, pipe: PipeInodeInfo, lenBytes: number): Generator<number, number, void>;
  /** ->splice_write: up to `lenBytes` from `pipe` (consumed) to the file at `posBytes`; bytes or -errno. */
  spliceWrite?(pipe: PipeInodeInfo, file: File, posBytes: number, lenBytes: number, task: Task, ioId: number): Generator<number, number, void>;
}

/** poll_table (include/linux/poll.h): what ->poll hands the wait queues it may be woken from. */
export interface PollTable {
  /** poll_wait: the caller (select/poll's task, or an epoll item) waits on `wq` too. */
  wait(file: File, wq: WaitQueue): void;
}

/** Event bits (include/uapi/linux/eventpoll.h; POLL* of poll(2) share the low ones). */
export const EPOLL = {
  IN: 0x001,
  PRI: 0x002,
  OUT: 0x004,
  ERR: 0x008,
  HUP: 0x010,
  RDNORM: 0x040,
  RDBAND: 0x080,
  WRNORM: 0x100,
  WRBAND: 0x200,
  MSG: 0x400,
  RDHUP: 0x2000,
  EXCLUSIVE: 1 << 28,
  WAKEUP: 1 << 29,
  ONESHOT: 1 << 30,
  ET: 2 ** 31,
} as const;

/** DEFAULT_POLLMASK: a file without ->poll is always readable and writable. */
export const DEFAULT_POLLMASK = EPOLL.IN | EPOLL.OUT | EPOLL.RDNORM | EPOLL.WRNORM;

/** fput (fs/file_table.c): drops a reference; the last one releases the file (__fput -> ->release). */
export function fput(file: File): void {
  if (--file.refcount !== 0) return;
  file.fEp?.eventpollRelease(file);
  file.inode.fops.release?.(file.inode, file);
}

/** The per-process table of open files (struct files_struct). */
export class FdTable {
  private readonly files: (File | undefined)[] = [];

  /** Lowest free fd, as Linux allocates. */
  install(file: File): number {
    // fds 0..2 are the standard streams, which the simulated processes keep open
    let fd = 3;
    while (this.files[fd] !== undefined) fd++;
    this.files[fd] = file;
    return fd;
  }

  get(fd: number): File | undefined {
    if (!Number.isInteger(fd) || fd < 0) return undefined;
    return this.files[fd];
  }

  remove(fd: number): File | undefined {
    const f = this.get(fd);
    if (f) this.files[fd] = undefined;
    return f;
  }
}
