// Models: net/socket.c and include/linux/net.h: struct socket and its family's ops table (struct
// proto_ops: inet_stream_ops), the socket as a file (sockfs inode, socket_file_ops: read/write
// and ->poll on a socket fd go to the protocol), the socket syscalls (__sys_socket, __sys_bind,
// __sys_listen, do_accept, __sys_connect, __sys_sendto, __sys_recvfrom, ___sys_sendmsg,
// ___sys_recvmsg, __sys_shutdown, __sys_setsockopt, __sys_getsockopt), and the in-kernel API
// (sock_create_kern, kernel_bind/listen/accept/connect, kernel_sendmsg, kernel_recvmsg,
// sock_release) that sunrpc-like users call. recvmsg(MSG_ERRQUEUE) (ip_recv_error) hands the
// error queue's oldest entry back as an IP_RECVERR cmsg holding struct sock_extended_err.
// SIMPLIFICATION: one socket family (AF_INET) and type (SOCK_STREAM, TCP); a sockaddr is read
// from / written to the task's user bytes (MmStruct.userBytes) at the pointer's address.

import { pipeConsume, type PipeInodeInfo } from '../fs/pipe.js';
import type { SkbFrag, UbufInfo } from './skbuff.js';
import type { Kernel } from '../kernel/kernel.js';
import type { Task } from '../kernel/sched/task.js';
import { syscallEnter, syscallExit, SYSCALL_ENTRY_NS, SYSCALL_EXIT_NS } from '../kernel/entry.js';
import { VFS_DISPATCH_NS } from '../hw/cpu.js';
import { AddressSpace, fileRaStateInit } from '../mm/mm_types.js';
import { userRangeMapped } from '../mm/memory.js';
import { immediate } from '../fs/read_write.js';
import { O, type AddressSpaceOps, type File, type FileOperations, type Inode, type Kiocb, type PollTable, type UserBuffer } from '../fs/types.js';
import { EAFNOSUPPORT, EAGAIN, EBADF, EFAULT, EINVAL, ENODEV, ENOTSOCK, EOPNOTSUPP, EPROTONOSUPPORT } from '../uapi/errno.js';
import { AF_INET, IP_RECVERR, MSG, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_STREAM, IPPROTO_TCP, SOL_IP, sockDequeueErr, type SockaddrIn, type Sock, type SockExtendedErr } from './sock.js';

/** S_IFSOCK: a socket inode's mode. */
export const S_IFSOCK = 0o140000;

/** socket_state (SS_*) */
export const SS = { FREE: 0, UNCONNECTED: 1, CONNECTING: 2, CONNECTED: 3, DISCONNECTING: 4 } as const;

/** struct proto_ops: the family's socket calls (inet_stream_ops). */
export interface ProtoOps {
  readonly family: number;
  release(k: Kernel, sock: Socket): void;
  bind(k: Kernel, sock: Socket, addr: SockaddrIn): number;
  connect(k: Kernel, sock: Socket, addr: SockaddrIn, task: Task, nonblock: boolean): Generator<number, number, void>;
  /** Fills `newsock` with the next connection; 0 or -errno. */
  accept(k: Kernel, sock: Socket, newsock: Socket, task: Task, nonblock: boolean): Generator<number, number, void>;
  getname(sock: Socket, peer: boolean): SockaddrIn;
  listen(k: Kernel, sock: Socket, backlog: number): number;
  shutdown(k: Kernel, sock: Socket, how: number): number;
  sendmsg(k: Kernel, sock: Socket, task: Task, va: number, lenBytes: number, flags: number, bvec?: readonly SkbFrag[], msgUbuf?: UbufInfo): Generator<number, number, void>;
  recvmsg(k: Kernel, sock: Socket, task: Task, va: number, lenBytes: number, flags: number): Generator<number, number, void>;
  poll(sock: Socket): number;
  setsockopt(sock: Socket, level: number, optname: number, val: number): number;
  getsockopt(sock: Socket, level: number, optname: number): number;
}

/** A protocol family's socket constructor (struct net_proto_family's ->create: inet_create). */
export type NetProtoFamilyCreate = (k: Kernel, sock: Socket, protocol: number, kern: boolean) => number;
const families = new WeakMap<Kernel, Map<number, NetProtoFamilyCreate>>();

/** sock_register: a family's create() for socket(family, ...). */
export function sockRegister(k: Kernel, family: number, create: NetProtoFamilyCreate): void {
  let m = families.get(k);
  if (m === undefined) families.set(k, (m = new Map()));
  m.set(family, create);
}

const noBlocks: AddressSpaceOps = {
  mapBlocks() {
    return undefined;
  },
};

/** struct socket_alloc's vfs_inode: the sockfs inode behind a socket's file. */
class SockInode implements Inode {
  readonly mapping: AddressSpace;
  metadataDirty = false;
  writeHint = 0;
  readonly mode = S_IFSOCK | 0o777;
  sizeBytes = 0;
  readonly blockSizeBytes = 4096;
  readonly aops = noBlocks;
  readonly bdevDev = 0;
  readonly sDev = 0;
  readonly path: string;

  constructor(
    readonly kaddr: number,
    readonly ino: number,
    readonly fops: FileOperations,
    readonly socket: Socket,
  ) {
    this.mapping = new AddressSpace(kaddr + 8, this);
    this.path = `socket:[${ino}]`;
  }
}

/** struct socket */
export class Socket {
  readonly kaddr: number;
  state: number = SS.UNCONNECTED;
  sk: Sock | undefined;
  file: File | undefined;
  readonly inode: SockInode;

  constructor(
    k: Kernel,
    readonly type: number,
    public ops: ProtoOps,
  ) {
    this.kaddr = k.kaddr();
    this.inode = new SockInode(k.kaddr(), this.kaddr & 0xffffff, socketFileOps(k), this);
  }
}

function nonblocking(file: File | undefined, iocb?: Kiocb): boolean {
  return (file !== undefined && (file.flags & O.NONBLOCK) !== 0) || iocb?.nowait === true;
}

/** socket_file_ops: read(2)/write(2) on a socket fd are recvmsg/sendmsg without flags. */
function socketFileOps(k: Kernel): FileOperations {
  const sockOf = (file: File): Socket => (file.inode as SockInode).socket;
  return {
    name: 'socket_file_ops',
    readIter(iocb: Kiocb, buf: UserBuffer) {
      const sock = sockOf(iocb.file);
      return sock.ops.recvmsg(k, sock, iocb.task, buf.va, buf.lenBytes, nonblocking(iocb.file, iocb) ? MSG.DONTWAIT : 0);
    },
    writeIter(iocb: Kiocb, buf: UserBuffer) {
      const sock = sockOf(iocb.file);
      return sock.ops.sendmsg(k, sock, iocb.task, buf.va, buf.lenBytes, nonblocking(iocb.file, iocb) ? MSG.DONTWAIT : 0);
    },
    fsync() {
      return immediate(-EINVAL);
    },
    // sock_mmap: TCP has no ->mmap
    mmap() {
      return -ENODEV;
    },
    /** sock_poll: registers on sk_sleep, then the protocol's mask (tcp_poll). */
    poll(file: File, pt: PollTable | undefined): number {
      const sock = sockOf(file);
      if (pt !== undefined && sock.sk !== undefined) pt.wait(file, sock.sk.wq);
      return sock.ops.poll(sock);
    },
    /**
     * splice_to_socket (fs/splice.c, 6.5+): the pipe's buffers go to the protocol as a bio_vec
     * with MSG_SPLICE_PAGES, so page-cache pages become skb frags by reference; what was sent
     * leaves the pipe.
     */
    *spliceWrite(pipe: PipeInodeInfo, file: File, _posBytes: number, lenBytes: number, task: Task) {
      const sock = sockOf(file);
      const bvec: SkbFrag[] = [];
      let n = 0;
      for (const b of pipe.bufs) {
        if (n >= lenBytes) break;
        const len = Math.min(b.lenBytes, lenBytes - n);
        bvec.push({ pfn: b.pfn, offsetBytes: b.offsetBytes, lenBytes: len });
        n += len;
      }
      if (n === 0) return 0;
      const ret = yield* sock.ops.sendmsg(k, sock, task, 0, n, MSG.SPLICE_PAGES | (nonblocking(file) ? MSG.DONTWAIT : 0), bvec);
      if (ret > 0) pipeConsume(pipe, ret);
      return ret;
    },
    /** sock_close -> __sock_release: the protocol's release (inet_release -> tcp_close). */
    release(_inode: Inode, file: File) {
      sockRelease(k, sockOf(file));
    },
  };
}

/** sock_release: the protocol lets go of the socket (close(2) of the last fd, or the kernel user). */
export function sockRelease(k: Kernel, sock: Socket): void {
  if (sock.sk === undefined) return;
  sock.ops.release(k, sock);
  sock.sk = undefined;
}

function createSocket(k: Kernel, family: number, type: number, protocol: number, kern: boolean): Socket | number {
  if (family !== AF_INET) return -EAFNOSUPPORT;
  if (type !== SOCK_STREAM) return -EPROTONOSUPPORT;
  if (protocol !== 0 && protocol !== IPPROTO_TCP) return -EPROTONOSUPPORT;
  const create = families.get(k)?.get(family);
  if (create === undefined) return -EAFNOSUPPORT;
  const sock = new Socket(k, type, NO_OPS);
  const err = create(k, sock, protocol, kern);
  return err < 0 ? err : sock;
}

/** sock_alloc_file: the socket's struct file. */
function sockAllocFile(k: Kernel, sock: Socket, flags: number): File {
  const file: File = {
    kaddr: k.kaddr(),
    inode: sock.inode,
    flags: O.RDWR | (flags & O.NONBLOCK),
    posBytes: 0,
    ra: fileRaStateInit(),
    fMode: 0,
    refcount: 1,
    fWbErr: 0,
  };
  sock.file = file;
  return file;
}

/** sock_from_file: the socket a file is, or undefined. */
export function sockFromFile(file: File): Socket | undefined {
  const inode = file.inode;
  return inode instanceof SockInode ? inode.socket : undefined;
}

/** sockfd_lookup: the socket behind an fd, or -EBADF / -ENOTSOCK. */
function sockfdLookup(task: Task, fd: number): Socket | number {
  const file = task.files?.get(fd);
  if (file === undefined) return -EBADF;
  const inode = file.inode;
  return inode instanceof SockInode ? inode.socket : -ENOTSOCK;
}

/** A sockaddr_in as user memory holds it (family little-endian, port and address big-endian). */
export function sockaddrInBytes(addr: SockaddrIn): Uint8Array {
  const b = new Uint8Array(16);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET, true);
  v.setUint16(2, addr.port, false);
  v.setUint32(4, addr.addr >>> 0, false);
  return b;
}

/** move_addr_to_kernel: the sockaddr_in at `va`, or -EFAULT / -EINVAL / -EAFNOSUPPORT. */
function moveAddrToKernel(task: Task, va: number, addrlen: number): SockaddrIn | number {
  if (addrlen < 16 || addrlen > 128) return -EINVAL;
  const b = task.mm?.userBytes.get(va);
  if (b === undefined || b.length < 16) return -EFAULT;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getUint16(0, true) !== AF_INET) return -EAFNOSUPPORT;
  return { port: v.getUint16(2, false), addr: v.getUint32(4, false) };
}

/** move_addr_to_user: writes the address (and its length) where the caller asked. */
function moveAddrToUser(task: Task, addr: SockaddrIn, va: number, lenVa: number): void {
  if (va === 0 || task.mm === undefined) return;
  task.mm.userBytes.set(va, sockaddrInBytes(addr));
  if (lenVa !== 0) {
    const l = new Uint8Array(4);
    new DataView(l.buffer).setUint32(0, 16, true);
    task.mm.userBytes.set(lenVa, l);
  }
}

/** The ops a socket has before its family's create() fills them in. */
const NO_OPS: ProtoOps = {
  family: 0,
  release() {},
  bind: () => -EOPNOTSUPP,
  connect: () => immediate(-EOPNOTSUPP),
  accept: () => immediate(-EOPNOTSUPP),
  getname: () => ({ addr: 0, port: 0 }),
  listen: () => -EOPNOTSUPP,
  shutdown: () => -EOPNOTSUPP,
  sendmsg: () => immediate(-EOPNOTSUPP),
  recvmsg: () => immediate(-EOPNOTSUPP),
  poll: () => 0,
  setsockopt: () => -EOPNOTSUPP,
  getsockopt: () => -EOPNOTSUPP,
};

// ---- the syscalls ---------------------------------------------------------------------------

export function* sysSocket(k: Kernel, task: Task, family: number, type: number, protocol: number): Generator<number, number, void> {
  syscallEnter(k, task, 'socket', family, type, protocol);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  let ret: number;
  if ((type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC | 0xf)) !== 0) ret = -EINVAL;
  else {
    const sock = createSocket(k, family, type & 0xf, protocol, false);
    if (typeof sock === 'number') ret = sock;
    else {
      if (sock.sk !== undefined) sock.sk.ownerPid = task.tgid;
      ret = task.files!.install(sockAllocFile(k, sock, type & SOCK_NONBLOCK ? O.NONBLOCK : 0));
    }
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'socket', ret);
}

export function* sysBind(k: Kernel, task: Task, fd: number, umyaddr: number, addrlen: number): Generator<number, number, void> {
  syscallEnter(k, task, 'bind', fd, umyaddr, addrlen);
  yield SYSCALL_ENTRY_NS;
  const sock = sockfdLookup(task, fd);
  let ret: number;
  if (typeof sock === 'number') ret = sock;
  else {
    const addr = moveAddrToKernel(task, umyaddr, addrlen);
    ret = typeof addr === 'number' ? addr : sock.ops.bind(k, sock, addr);
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'bind', ret);
}

export function* sysListen(k: Kernel, task: Task, fd: number, backlog: number): Generator<number, number, void> {
  syscallEnter(k, task, 'listen', fd, backlog);
  yield SYSCALL_ENTRY_NS;
  const sock = sockfdLookup(task, fd);
  // __sys_listen: the backlog is capped at net.core.somaxconn
  const ret = typeof sock === 'number' ? sock : sock.ops.listen(k, sock, Math.min(Math.max(backlog, 0), k.net.sysctl.somaxconn));
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'listen', ret);
}

function* doAccept(k: Kernel, task: Task, fd: number, upeer: number, upeerLen: number, flags: number): Generator<number, number, void> {
  const sock = sockfdLookup(task, fd);
  if (typeof sock === 'number') return sock;
  if ((flags & ~(SOCK_NONBLOCK | SOCK_CLOEXEC)) !== 0) return -EINVAL;
  const newsock = new Socket(k, sock.type, sock.ops);
  const err = yield* sock.ops.accept(k, sock, newsock, task, nonblocking(sock.file));
  if (err < 0) return err;
  moveAddrToUser(task, sock.ops.getname(newsock, true), upeer, upeerLen);
  return task.files!.install(sockAllocFile(k, newsock, flags & SOCK_NONBLOCK ? O.NONBLOCK : 0));
}

export function* sysAccept4(k: Kernel, task: Task, fd: number, upeer: number, upeerLen: number, flags: number): Generator<number, number, void> {
  syscallEnter(k, task, 'accept4', fd, upeer, upeerLen, flags);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = yield* doAccept(k, task, fd, upeer, upeerLen, flags);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'accept4', ret);
}

export function* sysAccept(k: Kernel, task: Task, fd: number, upeer: number, upeerLen: number): Generator<number, number, void> {
  syscallEnter(k, task, 'accept', fd, upeer, upeerLen);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = yield* doAccept(k, task, fd, upeer, upeerLen, 0);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'accept', ret);
}

export function* sysConnect(k: Kernel, task: Task, fd: number, uservaddr: number, addrlen: number): Generator<number, number, void> {
  syscallEnter(k, task, 'connect', fd, uservaddr, addrlen);
  yield SYSCALL_ENTRY_NS;
  const sock = sockfdLookup(task, fd);
  let ret: number;
  if (typeof sock === 'number') ret = sock;
  else {
    const addr = moveAddrToKernel(task, uservaddr, addrlen);
    ret = typeof addr === 'number' ? addr : yield* sock.ops.connect(k, sock, addr, task, nonblocking(sock.file));
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'connect', ret);
}

function* sendImpl(k: Kernel, task: Task, sock: Socket, va: number, len: number, flags: number): Generator<number, number, void> {
  if (!userRangeMapped(task, va, len)) return -EFAULT;
  return yield* sock.ops.sendmsg(k, sock, task, va, len, flags | (nonblocking(sock.file) ? MSG.DONTWAIT : 0));
}

/**
 * sock_sendmsg as io_uring's send ops call it: the user buffer [va, va + len), with `msgUbuf` as
 * msg->msg_ubuf for SEND_ZC. -EFAULT when the buffer is not mapped.
 */
export function* sockSendmsgUser(k: Kernel, task: Task, sock: Socket, va: number, len: number, flags: number, msgUbuf?: UbufInfo): Generator<number, number, void> {
  if (!userRangeMapped(task, va, len)) return -EFAULT;
  return yield* sock.ops.sendmsg(k, sock, task, va, len, flags, undefined, msgUbuf);
}

/** sock_recvmsg as io_uring's recv op calls it. */
export function* sockRecvmsgUser(k: Kernel, task: Task, sock: Socket, va: number, len: number, flags: number): Generator<number, number, void> {
  if (!userRangeMapped(task, va, len)) return -EFAULT;
  return yield* sock.ops.recvmsg(k, sock, task, va, len, flags);
}

function* recvImpl(k: Kernel, task: Task, sock: Socket, va: number, len: number, flags: number): Generator<number, number, void> {
  if (!userRangeMapped(task, va, len)) return -EFAULT;
  return yield* sock.ops.recvmsg(k, sock, task, va, len, flags | (nonblocking(sock.file) ? MSG.DONTWAIT : 0));
}

/** sendto(2) (send(2) is sendto without an address on x86-64's libc). */
export function* sysSendto(k: Kernel, task: Task, fd: number, buff: number, len: number, flags = 0, addr = 0, addrLen = 0): Generator<number, number, void> {
  syscallEnter(k, task, 'sendto', fd, buff, len, flags, addr, addrLen);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const sock = sockfdLookup(task, fd);
  // a connected stream socket ignores the address (tcp_sendmsg does not look at msg_name)
  const ret = typeof sock === 'number' ? sock : len < 0 ? -EINVAL : yield* sendImpl(k, task, sock, buff, len, flags);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'sendto', ret);
}

/** recvfrom(2) (recv(2) is recvfrom without an address). */
export function* sysRecvfrom(k: Kernel, task: Task, fd: number, ubuf: number, size: number, flags = 0, addr = 0, addrLen = 0): Generator<number, number, void> {
  syscallEnter(k, task, 'recvfrom', fd, ubuf, size, flags, addr, addrLen);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const sock = sockfdLookup(task, fd);
  let ret: number;
  if (typeof sock === 'number') ret = sock;
  else {
    ret = size < 0 ? -EINVAL : yield* recvImpl(k, task, sock, ubuf, size, flags);
    if (ret >= 0 && addr !== 0) moveAddrToUser(task, sock.ops.getname(sock, true), addr, addrLen);
  }
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'recvfrom', ret);
}

/** struct user_msghdr's iovec array at `va` (msg_iov, msg_iovlen), as copy_msghdr_from_user reads it. */
function iovecs(task: Task, msgVa: number): { va: number; len: number }[] | number {
  const b = task.mm?.userBytes.get(msgVa);
  if (b === undefined || b.length < 56) return -EFAULT;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const iovVa = Number(v.getBigUint64(16, true));
  const iovlen = Number(v.getBigUint64(24, true));
  if (iovlen > 1024) return -EINVAL; // UIO_MAXIOV
  const iov = task.mm!.userBytes.get(iovVa);
  if (iovlen > 0 && (iov === undefined || iov.length < iovlen * 16)) return -EFAULT;
  const out: { va: number; len: number }[] = [];
  if (iov === undefined) return out;
  const iv = new DataView(iov.buffer, iov.byteOffset, iov.byteLength);
  for (let i = 0; i < iovlen; i++) out.push({ va: Number(iv.getBigUint64(i * 16, true)), len: Number(iv.getBigUint64(i * 16 + 8, true)) });
  return out;
}

/** Writes a struct user_msghdr with its iovec array into user memory (what a program's sendmsg prepares). */
export function putMsghdr(task: Task, msgVa: number, iovVa: number, iov: readonly { va: number; len: number }[]): void {
  const m = new Uint8Array(56);
  const v = new DataView(m.buffer);
  v.setBigUint64(16, BigInt(iovVa), true);
  v.setBigUint64(24, BigInt(iov.length), true);
  const a = new Uint8Array(16 * iov.length);
  const av = new DataView(a.buffer);
  iov.forEach((e, i) => {
    av.setBigUint64(i * 16, BigInt(e.va), true);
    av.setBigUint64(i * 16 + 8, BigInt(e.len), true);
  });
  task.mm!.userBytes.set(msgVa, m);
  task.mm!.userBytes.set(iovVa, a);
}

/** struct user_msghdr's msg_control and msg_controllen offsets, and msg_flags's. */
const MSGHDR_CONTROL = 32;
const MSGHDR_CONTROLLEN = 40;
const MSGHDR_FLAGS = 48;
/** CMSG_LEN(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in)): ip_recv_error's cmsg. */
const RECVERR_CMSG_LEN = 16 + 16 + 16;
/** MSG_CTRUNC: the control buffer was too small for the cmsg. */
const MSG_CTRUNC = 0x8;

/** Points the msghdr at `msgVa` (putMsghdr's) at a control buffer for recvmsg's cmsgs. */
export function putMsghdrControl(task: Task, msgVa: number, controlVa: number, controlLen: number): void {
  const m = task.mm!.userBytes.get(msgVa)!;
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  v.setBigUint64(MSGHDR_CONTROL, BigInt(controlVa), true);
  v.setBigUint64(MSGHDR_CONTROLLEN, BigInt(controlLen), true);
}

/** The sock_extended_err of an IP_RECVERR cmsg at `controlVa` (what a program reads after recvmsg(MSG_ERRQUEUE)). */
export function cmsgSockExtendedErr(task: Task, controlVa: number): SockExtendedErr | undefined {
  const b = task.mm?.userBytes.get(controlVa);
  if (b === undefined || b.length < RECVERR_CMSG_LEN) return undefined;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (v.getInt32(8, true) !== SOL_IP || v.getInt32(12, true) !== IP_RECVERR) return undefined;
  return { eeErrno: v.getUint32(16, true), eeOrigin: v.getUint8(20), eeType: v.getUint8(21), eeCode: v.getUint8(22), eeInfo: v.getUint32(24, true), eeData: v.getUint32(28, true) };
}

/**
 * ip_recv_error (tcp_recvmsg with MSG_ERRQUEUE): the error queue's oldest entry as an IP_RECVERR
 * cmsg in the msghdr's control buffer, msg_flags |= MSG_ERRQUEUE; 0 bytes of data. -EAGAIN when
 * the queue is empty.
 */
function ipRecvError(task: Task, sk: Sock, msgVa: number): number {
  const m = task.mm?.userBytes.get(msgVa);
  if (m === undefined || m.length < 56) return -EFAULT;
  const serr = sockDequeueErr(sk);
  if (serr === undefined) return -EAGAIN;
  const v = new DataView(m.buffer, m.byteOffset, m.byteLength);
  const controlVa = Number(v.getBigUint64(MSGHDR_CONTROL, true));
  const controlLen = Number(v.getBigUint64(MSGHDR_CONTROLLEN, true));
  let msgFlags = v.getUint32(MSGHDR_FLAGS, true) | MSG.ERRQUEUE;
  if (controlLen < RECVERR_CMSG_LEN || !userRangeMapped(task, controlVa, RECVERR_CMSG_LEN)) {
    msgFlags |= MSG_CTRUNC;
    v.setBigUint64(MSGHDR_CONTROLLEN, 0n, true);
  } else {
    const c = new Uint8Array(RECVERR_CMSG_LEN);
    const cv = new DataView(c.buffer);
    cv.setBigUint64(0, BigInt(RECVERR_CMSG_LEN), true);
    cv.setInt32(8, SOL_IP, true);
    cv.setInt32(12, IP_RECVERR, true);
    cv.setUint32(16, serr.eeErrno, true);
    cv.setUint8(20, serr.eeOrigin);
    cv.setUint8(21, serr.eeType);
    cv.setUint8(22, serr.eeCode);
    cv.setUint32(24, serr.eeInfo, true);
    cv.setUint32(28, serr.eeData, true);
    task.mm!.userBytes.set(controlVa, c);
    v.setBigUint64(MSGHDR_CONTROLLEN, BigInt(RECVERR_CMSG_LEN), true);
  }
  v.setUint32(MSGHDR_FLAGS, msgFlags, true);
  return 0;
}

function* msgImpl(k: Kernel, task: Task, fd: number, msg: number, flags: number, send: boolean): Generator<number, number, void> {
  const sock = sockfdLookup(task, fd);
  if (typeof sock === 'number') return sock;
  if (!send && (flags & MSG.ERRQUEUE) !== 0) return sock.sk === undefined ? -EINVAL : ipRecvError(task, sock.sk, msg);
  const iov = iovecs(task, msg);
  if (typeof iov === 'number') return iov;
  // SIMPLIFICATION: one protocol call per iovec (tcp_sendmsg walks the iov_iter in one call)
  let total = 0;
  for (const e of iov) {
    if (e.len === 0) continue;
    const r = send ? yield* sendImpl(k, task, sock, e.va, e.len, flags) : yield* recvImpl(k, task, sock, e.va, e.len, flags);
    if (r < 0) return total > 0 ? total : r;
    total += r;
    if (r < e.len) break;
  }
  return total;
}

export function* sysSendmsg(k: Kernel, task: Task, fd: number, msg: number, flags = 0): Generator<number, number, void> {
  syscallEnter(k, task, 'sendmsg', fd, msg, flags);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = yield* msgImpl(k, task, fd, msg, flags, true);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'sendmsg', ret);
}

export function* sysRecvmsg(k: Kernel, task: Task, fd: number, msg: number, flags = 0): Generator<number, number, void> {
  syscallEnter(k, task, 'recvmsg', fd, msg, flags);
  yield SYSCALL_ENTRY_NS + VFS_DISPATCH_NS;
  const ret = yield* msgImpl(k, task, fd, msg, flags, false);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'recvmsg', ret);
}

export function* sysShutdown(k: Kernel, task: Task, fd: number, how: number): Generator<number, number, void> {
  syscallEnter(k, task, 'shutdown', fd, how);
  yield SYSCALL_ENTRY_NS;
  const sock = sockfdLookup(task, fd);
  const ret = typeof sock === 'number' ? sock : sock.ops.shutdown(k, sock, how);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'shutdown', ret);
}

/**
 * setsockopt(2). SIMPLIFICATION: the int option value is passed by value in `optval` (a program's
 * `&val` with optlen 4), not read through a user pointer.
 */
export function* sysSetsockopt(k: Kernel, task: Task, fd: number, level: number, optname: number, optval: number, optlen = 4): Generator<number, number, void> {
  syscallEnter(k, task, 'setsockopt', fd, level, optname, optval, optlen);
  yield SYSCALL_ENTRY_NS;
  const sock = sockfdLookup(task, fd);
  const ret = typeof sock === 'number' ? sock : optlen < 4 ? -EINVAL : sock.ops.setsockopt(sock, level, optname, optval);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'setsockopt', ret);
}

/** getsockopt(2). SIMPLIFICATION: the int value is the syscall's result (Linux copies it out and returns 0). */
export function* sysGetsockopt(k: Kernel, task: Task, fd: number, level: number, optname: number, optval = 0, optlen = 0): Generator<number, number, void> {
  syscallEnter(k, task, 'getsockopt', fd, level, optname, optval, optlen);
  yield SYSCALL_ENTRY_NS;
  const sock = sockfdLookup(task, fd);
  const ret = typeof sock === 'number' ? sock : sock.ops.getsockopt(sock, level, optname);
  yield SYSCALL_EXIT_NS;
  return syscallExit(k, task, 'getsockopt', ret);
}

// ---- the in-kernel API (include/linux/net.h kernel_*): sunrpc, nfsd and friends use these ----

/** sock_create_kern: a socket with no file (no fd); the caller owns it until sock_release. */
export function sockCreateKern(k: Kernel, family: number, type: number, protocol: number): Socket | number {
  return createSocket(k, family, type, protocol, true);
}

export function kernelBind(k: Kernel, sock: Socket, addr: SockaddrIn): number {
  return sock.ops.bind(k, sock, addr);
}

export function kernelListen(k: Kernel, sock: Socket, backlog: number): number {
  return sock.ops.listen(k, sock, backlog);
}

/** kernel_accept: the next connection as a new kernel socket (O_NONBLOCK in flags: -EAGAIN if none). */
export function* kernelAccept(k: Kernel, sock: Socket, task: Task, flags: number): Generator<number, Socket | number, void> {
  const newsock = new Socket(k, sock.type, sock.ops);
  const err = yield* sock.ops.accept(k, sock, newsock, task, (flags & O.NONBLOCK) !== 0);
  return err < 0 ? err : newsock;
}

/** kernel_connect: O_NONBLOCK in flags returns -EINPROGRESS at once (sunrpc's xs_tcp_finish_connecting). */
export function kernelConnect(k: Kernel, sock: Socket, addr: SockaddrIn, task: Task, flags: number): Generator<number, number, void> {
  return sock.ops.connect(k, sock, addr, task, (flags & O.NONBLOCK) !== 0);
}

/** kernel_sendmsg: bytes from a kernel buffer (MSG_DONTWAIT in flags: never sleeps). */
export function kernelSendmsg(k: Kernel, sock: Socket, task: Task, lenBytes: number, flags: number): Generator<number, number, void> {
  return sock.ops.sendmsg(k, sock, task, KVEC_VA, lenBytes, flags);
}

/** kernel_recvmsg: bytes into a kernel buffer. */
export function kernelRecvmsg(k: Kernel, sock: Socket, task: Task, lenBytes: number, flags: number): Generator<number, number, void> {
  return sock.ops.recvmsg(k, sock, task, KVEC_VA, lenBytes, flags);
}

/** kernel_sock_shutdown */
export function kernelSockShutdown(k: Kernel, sock: Socket, how: number): number {
  return sock.ops.shutdown(k, sock, how);
}

/**
 * The buffer address kernel_sendmsg / kernel_recvmsg pass: the data is kernel memory (an
 * ITER_KVEC), so its memcpy is not a user<->skb copy in the copy counters.
 */
export const KVEC_VA = -1;
