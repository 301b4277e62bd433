// Models: net/ipv4/af_inet.c: the AF_INET family. inet_create (socket(AF_INET, SOCK_STREAM) gets
// a tcp_sock with tcp_prot), inet_stream_ops (struct proto_ops: inet_bind, inet_stream_connect
// with its blocking wait for the handshake or -EINPROGRESS, inet_accept, inet_listen,
// inet_getname, inet_shutdown, inet_release, sock_common_recvmsg, inet_sendmsg, tcp_poll) and
// inet_init (sock_register, dev_add_pack(ETH_P_IP, ip_rcv)).

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { EADDRNOTAVAIL, EINPROGRESS, EINVAL, EISCONN, EALREADY, ENOTCONN, ECONNREFUSED } from '../../uapi/errno.js';
import { ETH_P_IP } from '../skbuff.js';
import { AF_INET, SHUT, SOL_SOCKET, TCP, skWaitEvent, type SockaddrIn } from '../sock.js';
import { SS, sockRegister, type ProtoOps, type Socket } from '../socket.js';
import { TcpSock } from '../tcp_sock.js';
import { inetCskGetPort, tcpProt } from './tcp_ipv4.js';
import { ipRcv } from './ip_input.js';

/** INADDR_ANY */
export const INADDR_ANY = 0;

function tcpOf(sock: Socket): TcpSock {
  return sock.sk as TcpSock;
}

/** inet_bind: a local address this host has (or INADDR_ANY) and a free port. */
function inetBind(k: Kernel, sock: Socket, addr: SockaddrIn): number {
  const tp = tcpOf(sock);
  if (addr.addr !== INADDR_ANY && addr.addr >>> 24 !== 127 && k.net.deviceWithAddr(addr.addr) === undefined) return -EADDRNOTAVAIL;
  if (tp.state !== TCP.CLOSE || tp.num !== 0) return -EINVAL;
  const p = inetCskGetPort(k, tp, addr.port);
  if (p < 0) return p;
  tp.rcvSaddr = addr.addr;
  return 0;
}

/** inet_stream_connect: start the handshake; a blocking caller sleeps until it ends. */
function* inetStreamConnect(k: Kernel, sock: Socket, addr: SockaddrIn, task: Task, nonblock: boolean): Generator<number, number, void> {
  const tp = tcpOf(sock);
  if (sock.state === SS.CONNECTED) return -EISCONN;
  if (sock.state === SS.CONNECTING) {
    if (tp.state === TCP.ESTABLISHED) {
      sock.state = SS.CONNECTED;
      return -EISCONN;
    }
    if (tp.state === TCP.CLOSE) {
      sock.state = SS.UNCONNECTED;
      const e = tp.err;
      tp.err = 0;
      return e !== 0 ? -e : -ECONNREFUSED;
    }
    if (nonblock) return -EALREADY;
  } else {
    const err = yield* tp.prot.connect(k, tp, addr, task);
    if (err < 0) return err;
    sock.state = SS.CONNECTING;
    if (nonblock) return -EINPROGRESS;
  }
  // inet_wait_for_connect
  while (tp.state === TCP.SYN_SENT || tp.state === TCP.SYN_RECV) {
    const w = yield* skWaitEvent(k, task, tp);
    if (w < 0) return w;
  }
  if (tp.state === TCP.CLOSE) {
    sock.state = SS.UNCONNECTED;
    const e = tp.err;
    tp.err = 0;
    return e !== 0 ? -e : -ECONNREFUSED;
  }
  sock.state = SS.CONNECTED;
  return 0;
}

/** inet_accept: the child sock grafted onto the new socket. */
function* inetAccept(k: Kernel, sock: Socket, newsock: Socket, task: Task, nonblock: boolean): Generator<number, number, void> {
  const tp = tcpOf(sock);
  const child = yield* tp.prot.accept(k, tp, task, nonblock);
  if (typeof child === 'number') return child;
  child.socket = newsock;
  child.ownerPid = task.tgid;
  newsock.sk = child;
  newsock.state = SS.CONNECTED;
  return 0;
}

function inetListen(k: Kernel, sock: Socket, backlog: number): number {
  if (sock.state !== SS.UNCONNECTED) return -EINVAL;
  return tcpOf(sock).prot.listen(k, tcpOf(sock), backlog);
}

function inetShutdown(k: Kernel, sock: Socket, how: number): number {
  if (how < SHUT.RD || how > SHUT.RDWR) return -EINVAL;
  const tp = tcpOf(sock);
  if (tp.state === TCP.CLOSE || tp.state === TCP.SYN_SENT) return -ENOTCONN;
  tp.prot.shutdown(k, tp, how);
  return 0;
}

/** inet_stream_ops */
export const inetStreamOps: ProtoOps = {
  family: AF_INET,
  release(k, sock) {
    const tp = tcpOf(sock);
    tp.prot.close(k, tp);
  },
  bind: inetBind,
  connect: inetStreamConnect,
  accept: inetAccept,
  getname(sock, peer) {
    const tp = tcpOf(sock);
    return peer ? { addr: tp.daddr, port: tp.dport } : { addr: tp.rcvSaddr, port: tp.num };
  },
  listen: inetListen,
  shutdown: inetShutdown,
  sendmsg: (k, sock, task, va, len, flags, bvec, msgUbuf) => tcpOf(sock).prot.sendmsg(k, tcpOf(sock), task, va, len, flags, bvec, msgUbuf),
  recvmsg: (k, sock, task, va, len, flags) => tcpOf(sock).prot.recvmsg(k, tcpOf(sock), task, va, len, flags),
  poll: (sock) => (sock.sk === undefined ? 0 : sock.sk.prot.poll(sock.sk)),
  setsockopt: (sock, level, optname, val) => tcpOf(sock).prot.setsockopt(tcpOf(sock), level === SOL_SOCKET ? 1 : level, optname, val),
  getsockopt: (sock, level, optname) => tcpOf(sock).prot.getsockopt(tcpOf(sock), level === SOL_SOCKET ? 1 : level, optname),
};

/** inet_create: the protocol's sock for a new AF_INET socket. */
function inetCreate(k: Kernel, sock: Socket, _protocol: number, _kern: boolean): number {
  sock.ops = inetStreamOps;
  const tp = new TcpSock(k, tcpProt);
  tp.socket = sock;
  tp.state = TCP.CLOSE;
  tp.windowClamp = tp.rcvbuf;
  tp.rcvSsthresh = tp.rcvbuf;
  tcpProt.init(tp);
  sock.sk = tp;
  return 0;
}

/** inet_init: AF_INET sockets and IPv4 reception. */
export function inetInit(k: Kernel): void {
  sockRegister(k, AF_INET, inetCreate);
  k.net.addPack(ETH_P_IP, (skb, cpu) => ipRcv(k, skb, cpu));
}
