// Models: fs/open.c (do_sys_openat2, vfs_open, close_fd; vfs_create on O_CREAT) and fs/sync.c
// (fsync, fdatasync -> vfs_fsync -> vfs_fsync_range), plus the mmap/munmap syscalls of mm/mmap.c
// and msync of mm/msync.c.

import { errseqSample } from '../lib/errseq.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, userString, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { O, fput, type File, type Inode } from './types.js';
import { LOOKUP } from './namei.js';
import { DEFAULT_RA_PAGES } from '../mm/readahead.js';
import { doMmap, doMunmap, MAP } from '../mm/mmap.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';
import { EBADF, EEXIST, EINVAL, EISDIR, ENOENT, ENOMEM } from '../uapi/errno.js';
import { PAGE_SIZE, VM, type Vma, fileRaStateInit } from '../mm/mm_types.js';

/** AT_FDCWD */
export const AT_FDCWD = -100;

/** struct path as far as probes read it: the dentry and its name. */
export interface VfsPath {
  readonly kaddr: number;
  readonly dentry: { readonly kaddr: number; readonly d_name: { readonly name: string } };
}


/** The dentry of a path's last component, as kprobes on VFS functions read it. */
function dentryOf(k: Kernel, path: string): VfsPath['dentry'] {
  return { kaddr: k.kaddr(), d_name: { name: path.slice(path.lastIndexOf('/') + 1) } };
}

/** S_IFREG | 0644: the mode fio's files are created with. */
const CREATE_MODE = 0o100644;

function* openImpl(k: Kernel, task: Task, ioId: number, path: string, flags: number): Generator<number, number, void> {
  yield VFS_DISPATCH_NS;
  if (!task.files) return -EBADF;
  if (!path.startsWith('/')) return -ENOENT;
  // SIMPLIFICATION: directories cannot be opened at all (Linux allows O_RDONLY for getdents)
  // path_openat: the walk through the dentry cache (kprobes lookup_fast, d_lookup)
  k.vfs.pathWalk(k, task, ioId, path);
  if (k.vfs.isMountPoint(path)) return -EISDIR;
  const remote = k.vfs.remoteMounts.length > 0 ? k.vfs.remoteFor(path) : undefined;
  let inode: Inode | undefined;
  if (remote) {
    // a network filesystem's walk: ->d_revalidate or ->lookup (an RPC), open's permission check
    const r = yield* remote.mount.walk(task, ioId, remote.name, LOOKUP.OPEN | (flags & O.CREAT ? LOOKUP.CREATE : 0));
    if (typeof r !== 'number') inode = r;
    else if (r !== -ENOENT || !(flags & O.CREAT)) return r;
    if (inode && flags & O.CREAT && flags & O.EXCL) return -EEXIST;
    if (!inode) {
      const c = yield* remote.mount.create(task, ioId, remote.name, CREATE_MODE);
      if (typeof c === 'number') return c;
      inode = c;
    }
  } else inode = k.vfs.lookup(path);
  // O_CREAT | O_EXCL: the caller must be the one creating it (do_open's -EEXIST)
  if (inode && flags & O.CREAT && flags & O.EXCL) return -EEXIST;
  if (!inode && flags & O.CREAT) {
    const create = k.fn.vfs_create;
    // SIMPLIFICATION: no mnt_idmap or parent-directory inode objects; idmap and dir read as NULL
    if (create.entry.enabled) create.enter(k.sched.cpu(task.cpu), ioId, 0, undefined, dentryOf(k, path), CREATE_MODE, 0);
    inode = k.vfs.create(path);
    if (create.ret.enabled) create.exit(k.sched.cpu(task.cpu), ioId, inode ? 0 : -ENOENT);
  }
  if (!inode) return -ENOENT;
  const file: File = {
    kaddr: k.kaddr(),
    inode,
    flags,
    posBytes: 0,
    // file_ra_state_init: the window limit of the disk the file lives on (its bdi's ra_pages)
    ra: fileRaStateInit(inode.aops.bdi?.raPages ?? k.queueByDev(inode.bdevDev)?.raPages ?? DEFAULT_RA_PAGES),
    fMode: 0,
    refcount: 1,
    // do_dentry_open: filemap_sample_wb_err
    fWbErr: errseqSample(inode.mapping.wbErr),
  };
  const fn = k.fn.vfs_open;
  if (fn.entry.enabled) {
    // struct path { mnt, dentry }: scripts read ((struct path *)arg0)->dentry->d_name.name
    const pathObj: VfsPath = { kaddr: k.kaddr(), dentry: dentryOf(k, path) };
    fn.enter(k.sched.cpu(task.cpu), ioId, pathObj, file);
  }
  // do_dentry_open -> f_op->open: a device may refuse a second opener (lp_open, blkdev_open with O_EXCL)
  const opened = inode.fops.open?.(inode, file, task) ?? 0;
  if (opened < 0) {
    if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, opened);
    return opened;
  }
  if (flags & O.TRUNC && (flags & O.ACCMODE) !== O.RDONLY && inode.sizeBytes > 0) {
    // SIMPLIFICATION: O_TRUNC drops the size but keeps the allocated blocks for reuse.
    inode.sizeBytes = 0;
    inode.metadataDirty = true;
  }
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, 0);
  return task.files.install(file);
}

export function* sysOpenat(k: Kernel, task: Task, dfd: number, path: string, flags: number, mode: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'openat', dfd, userString(task, path), flags, mode);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* openImpl(k, task, ioId, path, flags);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'openat', ret);
}

export function* sysOpen(k: Kernel, task: Task, path: string, flags: number, mode: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'open', userString(task, path), flags, mode);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* openImpl(k, task, ioId, path, flags);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'open', ret);
}

export function* sysClose(k: Kernel, task: Task, fd: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'close', fd);
  yield SYSCALL_ENTRY_NS;
  const f = task.files?.remove(fd);
  let ret = f ? 0 : -EBADF;
  if (f) {
    // filp_close: ->flush first (NFS sends its dirty data), then the reference goes
    const flush = f.inode.fops.flush;
    if (flush) ret = yield* flush(f, task, ioId);
    fput(f);
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'close', ret);
}

function* fsyncImpl(k: Kernel, task: Task, ioId: number, fd: number, datasync: boolean): Generator<number, number, void> {
  const file = task.files?.get(fd);
  if (!file) return -EBADF;
  // do_fsync -> vfs_fsync -> vfs_fsync_range(file, 0, LLONG_MAX, datasync)
  const outer = k.fn.vfs_fsync;
  if (outer.entry.enabled) outer.enter(k.sched.cpu(task.cpu), ioId, file, datasync ? 1 : 0);
  const fn = k.fn.vfs_fsync_range;
  if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, file, 0, Number.MAX_SAFE_INTEGER, datasync ? 1 : 0);
  yield VFS_DISPATCH_NS;
  const ret = yield* file.inode.fops.fsync(file, task, ioId, 0, Infinity, datasync);
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, ret);
  if (outer.ret.enabled) outer.exit(k.sched.cpu(task.cpu), ioId, ret);
  return ret;
}

export function* sysFsync(k: Kernel, task: Task, fd: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'fsync', fd);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* fsyncImpl(k, task, ioId, fd, false);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'fsync', ret);
}

export function* sysFdatasync(k: Kernel, task: Task, fd: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'fdatasync', fd);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* fsyncImpl(k, task, ioId, fd, true);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'fdatasync', ret);
}

export function* sysMmap(k: Kernel, task: Task, addr: number, len: number, prot: number, flags: number, fd: number, off: number): Generator<number, number, void> {
  syscallEnter(k, task, 'mmap', addr, len, prot, flags, fd, off);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  let ret: number;
  let file: File | undefined;
  if (!task.mm) ret = -EINVAL;
  else if (!(flags & MAP.ANONYMOUS) && !(file = task.files?.get(fd))) ret = -EBADF;
  else ret = doMmap(k, k.sched.cpu(task.cpu), task.mm, file, len, prot, flags, off);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'mmap', ret);
}

export function* sysMunmap(k: Kernel, task: Task, addr: number, len: number): Generator<number, number, void> {
  syscallEnter(k, task, 'munmap', addr, len);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const r = task.mm ? doMunmap(k, task.mm, addr, len) : { ret: -EINVAL, costNs: 0 };
  const ret = r.ret;
  yield r.costNs + SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'munmap', ret);
}

// msync (mm/msync.c): MS_SYNC writes back and waits for the file range behind each shared
// mapping in [addr, addr+len), as vfs_fsync_range(file, start, end, datasync=1) does; MS_ASYNC
// has done nothing since Linux 2.6.19 (dirty pages are already tracked through the PTEs).

/** MS_* flags (include/uapi/asm-generic/mman-common.h). */
export const MS = { ASYNC: 1, INVALIDATE: 2, SYNC: 4 } as const;

function* msyncImpl(k: Kernel, task: Task, ioId: number, addr: number, len: number, flags: number): Generator<number, number, void> {
  const mm = task.mm;
  if (!mm) return -EINVAL;
  if (flags & ~(MS.ASYNC | MS.INVALIDATE | MS.SYNC)) return -EINVAL;
  if (addr % PAGE_SIZE !== 0 || len < 0) return -EINVAL;
  if (flags & MS.ASYNC && flags & MS.SYNC) return -EINVAL;
  const end = addr + Math.ceil(len / PAGE_SIZE) * PAGE_SIZE;
  if (end === addr) return 0;
  let unmappedError = 0;
  let cur = addr;
  for (;;) {
    // find_vma: the first VMA ending above cur
    let vma: Vma | undefined;
    for (const v of mm.vmas) if (v.endVa > cur && (!vma || v.startVa < vma.startVa)) vma = v;
    if (!vma) return -ENOMEM;
    if (cur < vma.startVa) {
      // a hole in the range: go on, but report it
      unmappedError = -ENOMEM;
      cur = vma.startVa;
      if (cur >= end) return unmappedError;
    }
    const fileStart = cur - vma.startVa + vma.pgoff * PAGE_SIZE;
    const fileEnd = fileStart + Math.min(end, vma.endVa) - cur;
    cur = vma.endVa;
    const file = vma.file;
    if (flags & MS.SYNC && file && vma.flags & VM.SHARED) {
      const fn = k.fn.vfs_fsync_range;
      if (fn.entry.enabled) fn.enter(k.sched.cpu(task.cpu), ioId, file, fileStart, fileEnd - 1, 1);
      yield VFS_DISPATCH_NS;
      const err = yield* file.inode.fops.fsync(file, task, ioId, fileStart, fileEnd, true);
      if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), ioId, err);
      if (err < 0 || cur >= end) return err < 0 ? err : unmappedError;
    } else if (cur >= end) {
      return unmappedError;
    }
  }
}

export function* sysMsync(k: Kernel, task: Task, addr: number, len: number, flags: number): Generator<number, number, void> {
  const ioId = syscallEnter(k, task, 'msync', addr, len, flags);
  yield SYSCALL_ENTRY_NS;
  const ret = yield* msyncImpl(k, task, ioId, addr, len, flags);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'msync', ret);
}
