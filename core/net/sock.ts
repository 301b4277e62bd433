// Models: include/net/sock.h and net/core/sock.c: struct sock_common / struct sock (the
// protocol-independent half of a socket: addresses, state, send and receive buffer budgets, the
// queues, the wait queue sleepers and poll/epoll park on, the sk_data_ready / sk_write_space /
// sk_state_change callbacks), struct proto (the transport's ops table, tcp_prot), the generic
// sleeps (sk_wait_data, sk_stream_wait_memory), SO_SNDBUF / SO_RCVBUF / SO_ZEROCOPY
// (sock_setsockopt) and the error queue (sk_error_queue: MSG_ZEROCOPY completions, read by
// recvmsg(MSG_ERRQUEUE) as struct sock_extended_err, reported by poll as EPOLLERR).
// SIMPLIFICATION: inet_sock's fields (inet_sport, inet_saddr, ...) live on Sock too: IPv4 only.
// SIMPLIFICATION: buffer budgets count payload bytes, not skb truesize (no struct sk_buff and
// page-frag overhead), so a receive buffer's whole free space can be advertised as window.
// SIMPLIFICATION: error-queue entries are not charged to sk_omem_alloc (optmem_max never refuses
// a MSG_ZEROCOPY send with -ENOBUFS).

import type { SkbFrag, UbufInfo } from './skbuff.js';
import type { Kernel } from '../kernel/kernel.js';
import { TaskState, type Task } from '../kernel/sched/task.js';
import { WaitQueue } from '../sim/process.js';
import { ioSchedule } from '../block/blk-core.js';
import { signalPending } from '../kernel/signal.js';
import type { SkBuff } from './skbuff.js';
import type { Socket } from './socket.js';
import { EPOLL } from '../fs/types.js';
import { EINTR, EINVAL } from '../uapi/errno.js';

export const AF_INET = 2;
export const SOCK_STREAM = 1;
export const IPPROTO_TCP = 6;
/** socket(2) / accept4(2) type flags (x86-64: O_NONBLOCK, O_CLOEXEC). */
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SOL_TCP = 6;
export const SO = { ERROR: 4, SNDBUF: 7, RCVBUF: 8, ZEROCOPY: 60 } as const;
export const TCP_NODELAY = 1;
/** shutdown(2)'s how, and sk_shutdown's bits. */
export const SHUT = { RD: 0, WR: 1, RDWR: 2 } as const;
export const RCV_SHUTDOWN = 1;
export const SEND_SHUTDOWN = 2;
/** sk_userlocks: a buffer size the user fixed (SO_SNDBUF/SO_RCVBUF turn autotuning off). */
export const SOCK_SNDBUF_LOCK = 1;
export const SOCK_RCVBUF_LOCK = 2;
/** SOCK_MIN_SNDBUF / SOCK_MIN_RCVBUF (2 x TCP_SKB_MIN_TRUESIZE-ish, include/net/sock.h). */
export const SOCK_MIN_SNDBUF = 4608;
export const SOCK_MIN_RCVBUF = 2304;
/** net.core.wmem_max / rmem_max: what SO_SNDBUF / SO_RCVBUF may ask for (then doubled). */
export const SYSCTL_WMEM_MAX = 212992;
export const SYSCTL_RMEM_MAX = 212992;
/** MSG_* flags of send/recv (include/linux/socket.h). */
export const MSG = {
  PEEK: 0x2,
  DONTWAIT: 0x40,
  WAITALL: 0x100,
  /** MSG_ERRQUEUE: recvmsg reads the error queue (zero-copy completions) instead of data. */
  ERRQUEUE: 0x2000,
  NOSIGNAL: 0x4000,
  /** MSG_ZEROCOPY: send the user pages themselves, completion on the error queue (needs SO_ZEROCOPY). */
  ZEROCOPY: 0x4000000,
  /** MSG_SPLICE_PAGES: the message is pages to take by reference (splice_to_socket, 6.5+). */
  SPLICE_PAGES: 0x8000000,
} as const;

/** struct sock_extended_err (include/uapi/linux/errqueue.h): one error-queue entry. */
export interface SockExtendedErr {
  eeErrno: number;
  eeOrigin: number;
  eeType: number;
  eeCode: number;
  /** SO_EE_ORIGIN_ZEROCOPY: the first send call id of the range. */
  eeInfo: number;
  /** SO_EE_ORIGIN_ZEROCOPY: the last send call id of the range. */
  eeData: number;
}
/** ee_origin of a zero-copy completion. */
export const SO_EE_ORIGIN_ZEROCOPY = 5;
/** ee_code bit: the kernel copied the data after all (lo, no scatter-gather, a linearized skb). */
export const SO_EE_CODE_ZEROCOPY_COPIED = 1;
/** IP_RECVERR: the cmsg type (at level SOL_IP = 0) of an IPv4 socket's error-queue entry. */
export const SOL_IP = 0;
export const IP_RECVERR = 11;

/** enum tcp_state (include/net/tcp_states.h): sk_state for TCP sockets. */
export const TCP = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSE: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
  NEW_SYN_RECV: 12,
} as const;
export const TCP_STATE_NAMES: readonly string[] = [
  '',
  'TCP_ESTABLISHED',
  'TCP_SYN_SENT',
  'TCP_SYN_RECV',
  'TCP_FIN_WAIT1',
  'TCP_FIN_WAIT2',
  'TCP_TIME_WAIT',
  'TCP_CLOSE',
  'TCP_CLOSE_WAIT',
  'TCP_LAST_ACK',
  'TCP_LISTEN',
  'TCP_CLOSING',
  'TCP_NEW_SYN_RECV',
];

/** struct sockaddr_in, host order. */
export interface SockaddrIn {
  readonly addr: number;
  readonly port: number;
}

/**
 * struct proto: the transport's entry points (tcp_prot). Process-context ones are generators
 * (they may sleep); results are 0 / bytes or -errno.
 */
export interface Proto {
  readonly name: string;
  init(sk: Sock): void;
  connect(k: Kernel, sk: Sock, addr: SockaddrIn, task: Task): Generator<number, number, void>;
  /** inet_csk_accept: the next established child, or -errno; sleeps unless nonblocking. */
  accept(k: Kernel, sk: Sock, task: Task, nonblock: boolean): Generator<number, Sock | number, void>;
  listen(k: Kernel, sk: Sock, backlog: number): number;
  /** `msgUbuf`: msg->msg_ubuf, the caller's own zero-copy completion (io_uring's SEND_ZC notification). */
  sendmsg(k: Kernel, sk: Sock, task: Task, va: number, lenBytes: number, flags: number, bvec?: readonly SkbFrag[], msgUbuf?: UbufInfo): Generator<number, number, void>;
  recvmsg(k: Kernel, sk: Sock, task: Task, va: number, lenBytes: number, flags: number): Generator<number, number, void>;
  shutdown(k: Kernel, sk: Sock, how: number): void;
  /** ->close: the last reference to the socket went (close(2) or sock_release). */
  close(k: Kernel, sk: Sock): void;
  /** level: SOL_SOCKET or SOL_TCP. */
  setsockopt(sk: Sock, level: number, optname: number, val: number): number;
  getsockopt(sk: Sock, level: number, optname: number): number;
  /** tcp_poll's mask. */
  poll(sk: Sock): number;
}

/** struct sock (with sock_common and inet_sock's addresses). */
export class Sock {
  readonly kaddr: number;
  // ---- sock_common ----
  readonly family = AF_INET;
  state: number = TCP.CLOSE;
  /** skc_num: local port, host order (inet_num). */
  num = 0;
  /** skc_dport: remote port, host order here (scripts read it in network order through BTF). */
  dport = 0;
  /** skc_rcv_saddr: the bound local address (inet_rcv_saddr), host order. */
  rcvSaddr = 0;
  /** skc_daddr: the remote address, host order. */
  daddr = 0;
  /** sk_cookie (sock_gen_cookie): a unique id per socket (its address here). */
  readonly cookie: number;
  // ---- struct sock ----
  sndbuf: number;
  rcvbuf: number;
  userlocks = 0;
  /** sk_wmem_queued: bytes queued to send, sent and not yet acknowledged. */
  wmemQueued = 0;
  /** sk_rmem_alloc: bytes in the receive queue not yet read. */
  rmemAlloc = 0;
  readonly receiveQueue: SkBuff[] = [];
  /** sk_err (soft error reported once by the next call or SO_ERROR). */
  err = 0;
  /** sk_error_queue: zero-copy completions waiting for recvmsg(MSG_ERRQUEUE). */
  readonly errorQueue: SockExtendedErr[] = [];
  /** SOCK_ZEROCOPY (setsockopt SO_ZEROCOPY): MSG_ZEROCOPY sends go by reference. */
  zerocopy = false;
  /** sk_zckey: the id the next MSG_ZEROCOPY send call gets. */
  zckey = 0;
  /** sk_shutdown: RCV_SHUTDOWN | SEND_SHUTDOWN. */
  shutdown = 0;
  /** The accept queue's length and limit (listen's backlog). */
  ackBacklog = 0;
  maxAckBacklog = 0;
  /** sk_sleep(sk): readers, writers, accept(), connect() and poll/epoll entries wait here. */
  readonly wq = new WaitQueue();
  /** The CPU its softirq work and timers run on (sk_incoming_cpu / the last sender's CPU). */
  cpu = 0;
  /** The socket (struct socket) it belongs to; undefined once orphaned (sock_orphan). */
  socket: Socket | undefined;
  /** SOCK_DEAD: close() has orphaned it. */
  dead = false;
  /** The task that opened it (for tools that print the owner from softirq context). */
  ownerPid = 0;
  // ---- the callbacks in-kernel users override (sunrpc's xs_data_ready, ...) ----
  /** sk_data_ready: new data or a new connection to accept (sock_def_readable). */
  dataReady: (sk: Sock) => void = sockDefWakeup;
  /** sk_write_space: send buffer space freed (sk_stream_write_space). */
  writeSpace: (sk: Sock) => void = sockDefWakeup;
  /** sk_state_change: connected, reset or closed (sock_def_wakeup). */
  stateChange: (sk: Sock) => void = sockDefWakeup;
  /** Opaque data of an in-kernel user (sk_user_data). */
  userData: unknown;

  constructor(
    k: Kernel,
    readonly prot: Proto,
  ) {
    this.kaddr = k.kaddr();
    this.cookie = this.kaddr;
    this.sndbuf = k.net.sysctl.tcpWmem[1];
    this.rcvbuf = k.net.sysctl.tcpRmem[1];
  }
}

/** sock_def_readable / sock_def_wakeup: everyone waiting on the socket re-checks (and epoll items fire). */
export function sockDefWakeup(sk: Sock): void {
  sk.wq.wakeAll();
}

/** sk_stream_memory_free: the send queue may take more. */
export function skStreamMemoryFree(sk: Sock): boolean {
  return sk.wmemQueued < sk.sndbuf;
}

/** sk_stream_wspace / sk_stream_min_wspace: writers are woken when a third of the buffer is free. */
export function skStreamIsWriteable(sk: Sock): boolean {
  return sk.sndbuf - sk.wmemQueued >= sk.wmemQueued >> 1;
}

/**
 * The sleep every blocking socket call takes (sk_wait_event): park on sk_sleep until a callback
 * wakes it, then let the caller re-check its condition. Returns -EINTR if a signal came instead.
 */
export function* skWaitEvent(k: Kernel, task: Task, sk: Sock): Generator<number, number, void> {
  task.state = TaskState.INTERRUPTIBLE;
  sk.wq.add(task);
  yield* ioSchedule(k, task, false);
  sk.wq.remove(task);
  return signalPending(task) ? -EINTR : 0;
}

/** sock_setsockopt's SO_SNDBUF / SO_RCVBUF: doubled for bookkeeping overhead, locked against autotuning. */
export function sockSetBuf(sk: Sock, optname: number, val: number): number {
  if (optname === SO.SNDBUF) {
    sk.userlocks |= SOCK_SNDBUF_LOCK;
    sk.sndbuf = Math.max(Math.min(val, SYSCTL_WMEM_MAX) * 2, SOCK_MIN_SNDBUF);
    sk.writeSpace(sk);
    return 0;
  }
  sk.userlocks |= SOCK_RCVBUF_LOCK;
  sk.rcvbuf = Math.max(Math.min(val, SYSCTL_RMEM_MAX) * 2, SOCK_MIN_RCVBUF);
  return 0;
}

/** sock_setsockopt's SO_ZEROCOPY: 0 or 1. */
export function sockSetZerocopy(sk: Sock, val: number): number {
  if (val !== 0 && val !== 1) return -EINVAL;
  sk.zerocopy = val === 1;
  return 0;
}

/**
 * sock_queue_err_skb + sk_error_report: an entry on the error queue, the socket's waiters (poll,
 * epoll: EPOLLERR) woken.
 */
export function sockQueueErr(sk: Sock, serr: SockExtendedErr): void {
  sk.errorQueue.push(serr);
  skErrorReport(sk);
}

/** sk_error_report (sock_def_error_report): waiters woken with EPOLLERR. */
export function skErrorReport(sk: Sock): void {
  sk.wq.wakeAll(EPOLL.ERR);
}

/** sock_dequeue_err_skb: the oldest error-queue entry, or undefined. */
export function sockDequeueErr(sk: Sock): SockExtendedErr | undefined {
  return sk.errorQueue.shift();
}

/** The POLLIN / POLLOUT bits a stream socket reports for readable / writable. */
export const POLL_IN = EPOLL.IN | EPOLL.RDNORM;
export const POLL_OUT = EPOLL.OUT | EPOLL.WRNORM;
