// Models: net/ipv4/tcp_ipv4.c and inet_hashtables.c: the socket lookup tables (tcp_hashinfo: the
// listening hash by port, the established hash by 4-tuple, the bound ports), tcp_v4_connect
// (route, source address, ephemeral port from ip_local_port_range, SYN_SENT, the ISN, tcp_connect),
// tcp_v4_rcv (a received segment to its socket: established, timewait or listener; nobody: RST),
// the listener's SYN handling (a request sock and a SYN-ACK, dropped when the accept queue is
// full) and tcp_v4_syn_recv_sock (the third ACK makes the child socket, onto the accept queue),
// and struct proto tcp_prot.
// SIMPLIFICATION: the ISN is a hash of the 4-tuple plus the clock (no secret), deterministic.
// SIMPLIFICATION: no SYN cookies; a SYN-ACK is not retransmitted (the client's SYN retry is).

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import type { Task } from '../../kernel/sched/task.js';
import { TCP_RCV_SKB_NS } from '../../hw/cpu.js';
import { EADDRINUSE, EADDRNOTAVAIL, EALREADY, EISCONN, ENETUNREACH } from '../../uapi/errno.js';
import { TCPHDR, type SkBuff } from '../skbuff.js';
import { consumeSkb, kfreeSkb } from '../core/skbuff.js';
import { TCP, type Proto, type Sock, type SockaddrIn } from '../sock.js';
import { TCP_DEFAULT_WSCALE, TCP_MAX_SYN_WINDOW, TcpSock, type RequestSock } from '../tcp_sock.js';
import { ipRouteOutput, ipSelectSaddr } from './ip_output.js';
import { skbPayload, tcpConnectXmit, tcpMtuToMss, tcpPeerMss, tcpSendAck, tcpSendSynack, tcpV4SendReset } from './tcp_output.js';
import { tcpInitTransfer, tcpRcvStateProcess, tcpRttEstimator } from './tcp_input.js';
import { tcpClose, tcpGetsockopt, tcpPoll, tcpRecvmsg, tcpSendmsg, tcpSetState, tcpSetsockopt, tcpShutdown } from './tcp.js';
import { inetCskAccept, inetCskListenStart } from './inet_connection_sock.js';

/** net.ipv4.ip_local_port_range */
export const IP_LOCAL_PORT_RANGE: readonly [number, number] = [32768, 60999];

/** tcp_hashinfo: who owns which port and connection. */
export class TcpHashinfo {
  readonly listening = new Map<number, TcpSock>();
  readonly established = new Map<string, TcpSock>();
  /** Bound local ports (the bhash), with the number of sockets on each. */
  readonly bound = new Map<number, number>();
}

const hashinfos = new WeakMap<Kernel, TcpHashinfo>();

export function tcpHashinfo(k: Kernel): TcpHashinfo {
  let h = hashinfos.get(k);
  if (h === undefined) hashinfos.set(k, (h = new TcpHashinfo()));
  return h;
}

function ehashKey(laddr: number, lport: number, raddr: number, rport: number): string {
  return `${laddr}:${lport}:${raddr}:${rport}`;
}

/** __inet_hash / inet_ehash_insert */
function inetEhashInsert(k: Kernel, tp: TcpSock): void {
  tcpHashinfo(k).established.set(ehashKey(tp.rcvSaddr, tp.num, tp.daddr, tp.dport), tp);
}

/** inet_unhash / inet_put_port: out of the lookup tables (a timewait socket stays until it expires). */
export function inetUnhash(k: Kernel, tp: TcpSock): void {
  const h = tcpHashinfo(k);
  if (h.listening.get(tp.num) === tp) h.listening.delete(tp.num);
  if (tp.timeWait) return;
  const key = ehashKey(tp.rcvSaddr, tp.num, tp.daddr, tp.dport);
  if (h.established.get(key) === tp) h.established.delete(key);
  if (tp.num !== 0 && tp.bindHashed) {
    tp.bindHashed = false;
    const n = (h.bound.get(tp.num) ?? 1) - 1;
    if (n <= 0) h.bound.delete(tp.num);
    else h.bound.set(tp.num, n);
  }
}

/** inet_csk_get_port: bind to `port` (0: an ephemeral one). Returns the port or -EADDRINUSE. */
export function inetCskGetPort(k: Kernel, tp: TcpSock, port: number): number {
  const h = tcpHashinfo(k);
  if (port === 0) {
    const [lo, hi] = IP_LOCAL_PORT_RANGE;
    // __inet_hash_connect: a hashed starting offset, even ports first for connect()
    const span = hi - lo + 1;
    const start = ((tp.daddr ^ (tp.dport * 2654435761)) >>> 0) % span;
    for (let i = 0; i < span; i++) {
      const p = lo + ((start + 2 * i) % span);
      if (!h.bound.has(p)) {
        port = p;
        break;
      }
    }
    if (port === 0) return -EADDRNOTAVAIL;
  } else if (h.bound.has(port)) return -EADDRINUSE;
  h.bound.set(port, (h.bound.get(port) ?? 0) + 1);
  tp.num = port;
  tp.bindHashed = true;
  return port;
}

/** secure_tcp_seq: the initial sequence number of a connection. */
function secureTcpSeq(k: Kernel, saddr: number, daddr: number, sport: number, dport: number): number {
  let h = 2166136261;
  for (const v of [saddr, daddr, sport, dport]) {
    h ^= v >>> 0;
    h = Math.imul(h, 16777619) >>> 0;
  }
  return (h + Math.floor(k.env.nowNs / 64)) % 2 ** 31;
}

/** tcp_connect_init: MSS, windows and the sequence space of a new connection. */
function tcpConnectInit(k: Kernel, tp: TcpSock, isn: number): void {
  tp.mssCache = Math.min(tcpMtuToMss(k, tp.daddr), tp.mssClamp);
  tp.rcvMss = Math.min(tp.mssCache, 536);
  tp.writeSeq = isn;
  tp.sndUna = isn;
  tp.sndNxt = isn;
  tp.sndSml = isn;
  tp.windowClamp = tp.rcvbuf;
  tp.rcvSsthresh = tp.rcvbuf;
  // tcp_select_initial_window: no more than 64 KiB in the SYN, scaled afterwards
  tp.rcvWnd = Math.min(tp.rcvbuf, TCP_MAX_SYN_WINDOW);
  tp.rcvWscale = TCP_DEFAULT_WSCALE;
}

/** tcp_v4_connect: route, source address and port, SYN_SENT, then tcp_connect sends the SYN. */
export function* tcpV4Connect(k: Kernel, sk: Sock, addr: SockaddrIn, task: Task): Generator<number, number, void> {
  const tp = sk as TcpSock;
  const cpu = k.sched.cpu(task.cpu);
  const fn = k.fn.tcp_v4_connect;
  if (fn.entry.enabled) fn.enter(cpu, task.ioId, tp, 0, 16);
  let ret = 0;
  if (ipRouteOutput(k, addr.addr) === undefined) ret = -ENETUNREACH;
  else if (tp.state !== TCP.CLOSE) ret = tp.state === TCP.SYN_SENT ? -EALREADY : -EISCONN;
  else {
    tp.daddr = addr.addr;
    tp.dport = addr.port;
    if (tp.rcvSaddr === 0) tp.rcvSaddr = ipSelectSaddr(k, addr.addr);
    tp.cpu = task.cpu;
    tcpSetState(k, tp, TCP.SYN_SENT, cpu);
    if (tp.num === 0) {
      const p = inetCskGetPort(k, tp, 0);
      if (p < 0) {
        tcpSetState(k, tp, TCP.CLOSE, cpu);
        ret = p;
      }
    }
    if (ret === 0) {
      inetEhashInsert(k, tp);
      tcpConnectInit(k, tp, secureTcpSeq(k, tp.rcvSaddr, tp.daddr, tp.num, tp.dport));
      const c = k.fn.tcp_connect;
      if (c.entry.enabled) c.enter(cpu, task.ioId, tp);
      const ns = tcpConnectXmit(k, tp, cpu, task.ioId);
      if (c.ret.enabled) c.exit(cpu, task.ioId, 0);
      yield ns;
    }
  }
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), task.ioId, ret);
  return ret;
}

/** The listener's answer to a SYN: a request sock and the SYN-ACK (tcp_conn_request). */
function tcpConnRequest(k: Kernel, lsk: TcpSock, skb: SkBuff, cpu: Cpu): number {
  const cb = skb.tcp!;
  const f0 = skb.flow;
  // a retransmitted SYN for a request we hold: its SYN-ACK again (tcp_check_req -> inet_rtx_syn_ack)
  const known = lsk.synQueue.find((r) => r.raddr === f0.saddr && r.rport === f0.sport && r.laddr === f0.daddr && r.rcv_isn === cb.seq);
  if (known !== undefined) {
    consumeSkb(k, skb);
    return tcpSendSynack(k, lsk, known, cpu);
  }
  // sk_acceptq_is_full: the SYN is dropped; the client retries it after its RTO
  if (lsk.ackBacklog > lsk.maxAckBacklog || lsk.synQueue.length + lsk.ackBacklog > lsk.maxAckBacklog) {
    kfreeSkb(k, skb, 'TCP_LISTEN_OVERFLOW');
    return 0;
  }
  const f = skb.flow;
  const req: RequestSock = {
    raddr: f.saddr,
    rport: f.sport,
    laddr: f.daddr,
    snt_isn: secureTcpSeq(k, f.daddr, f.saddr, f.dport, f.sport),
    rcv_isn: cb.seq,
    peerWindow: cb.windowBytes,
    peerMss: tcpPeerMss(cb),
    sentNs: k.env.nowNs,
  };
  lsk.synQueue.push(req);
  consumeSkb(k, skb);
  return tcpSendSynack(k, lsk, req, cpu);
}

/** tcp_check_req + tcp_v4_syn_recv_sock: the handshake's ACK makes the child, onto the accept queue. */
function tcpCheckReq(k: Kernel, lsk: TcpSock, skb: SkBuff, cpu: Cpu): number {
  const cb = skb.tcp!;
  const f = skb.flow;
  const i = lsk.synQueue.findIndex((r) => r.raddr === f.saddr && r.rport === f.sport && r.laddr === f.daddr);
  if (i < 0) return tcpV4SendReset(k, skb, cpu);
  const req = lsk.synQueue[i]!;
  if (cb.ackSeq !== req.snt_isn + 1) return 0;
  lsk.synQueue.splice(i, 1);
  if (lsk.ackBacklog > lsk.maxAckBacklog) {
    // listen overflow at the third ACK: dropped (tcp_abort_on_overflow = 0)
    kfreeSkb(k, skb, 'TCP_LISTEN_OVERFLOW');
    return 0;
  }
  const child = new TcpSock(k, lsk.prot);
  child.state = TCP.SYN_RECV;
  child.num = lsk.num;
  child.rcvSaddr = req.laddr;
  child.daddr = req.raddr;
  child.dport = req.rport;
  child.cpu = cpu.id;
  child.ownerPid = lsk.ownerPid;
  // sk_clone_lock copies the listener: its backlog bound (and the queue length at that moment)
  child.maxAckBacklog = lsk.maxAckBacklog;
  child.ackBacklog = lsk.ackBacklog;
  child.rcvbuf = lsk.rcvbuf;
  child.sndbuf = lsk.sndbuf;
  child.userlocks = lsk.userlocks;
  child.nodelay = lsk.nodelay;
  child.parent = lsk;
  tcpConnectInit(k, child, req.snt_isn + 1);
  child.mssCache = Math.min(child.mssCache, req.peerMss);
  child.rcvNxt = req.rcv_isn + 1;
  child.copiedSeq = child.rcvNxt;
  child.rcvWup = child.rcvNxt;
  child.sndWnd = cb.windowBytes;
  child.maxWindow = cb.windowBytes;
  child.sndWl1 = cb.seq;
  // tcp_synack_rtt_meas: the SYN-ACK's round trip seeds the RTT estimate
  tcpRttEstimator(child, Math.max(1, (k.env.nowNs - req.sentNs) / 1000));
  inetEhashInsert(k, child);
  tcpInitTransfer(k, child);
  tcpSetState(k, child, TCP.ESTABLISHED, cpu);
  // inet_csk_reqsk_queue_add: onto the accept queue; the listener's waiters wake
  lsk.acceptQueue.push(child);
  lsk.ackBacklog++;
  lsk.dataReady(lsk);
  // the ACK may carry data already
  if (skbPayload(skb) > 0) return tcpRcvStateProcess(k, child, skb, cpu);
  consumeSkb(k, skb);
  return 0;
}

/** tcp_v4_rcv: a received TCP segment (NET_RX softirq). Returns CPU ns. */
export function tcpV4Rcv(k: Kernel, skb: SkBuff, cpu: Cpu): number {
  const cb = skb.tcp;
  if (cb === undefined) {
    kfreeSkb(k, skb, 'NOT_SPECIFIED');
    return 0;
  }
  const h = tcpHashinfo(k);
  const f = skb.flow;
  let ns = TCP_RCV_SKB_NS;
  const est = h.established.get(ehashKey(f.daddr, f.dport, f.saddr, f.sport));
  if (est !== undefined) {
    if (est.timeWait) {
      // tcp_timewait_state_process: a retransmitted FIN is ACKed again
      if ((cb.tcpFlags & TCPHDR.FIN) !== 0) {
        if (cb.endSeq > est.rcvNxt) est.rcvNxt = cb.endSeq;
        ns += tcpSendAck(k, est, cpu);
      }
      consumeSkb(k, skb);
      return ns;
    }
    // tcp_v4_rcv: a socket a task holds (lock_sock) takes the segment later, at release_sock
    if (est.ownedByUser) {
      est.backlog.push(skb);
      return ns;
    }
    return ns + tcpRcvStateProcess(k, est, skb, cpu);
  }
  const lsk = h.listening.get(f.dport);
  if (lsk !== undefined && (lsk.rcvSaddr === 0 || lsk.rcvSaddr === f.daddr)) {
    if ((cb.tcpFlags & (TCPHDR.SYN | TCPHDR.ACK | TCPHDR.RST)) === TCPHDR.SYN) return ns + tcpConnRequest(k, lsk, skb, cpu);
    if ((cb.tcpFlags & TCPHDR.ACK) !== 0 && (cb.tcpFlags & TCPHDR.RST) === 0) return ns + tcpCheckReq(k, lsk, skb, cpu);
    consumeSkb(k, skb);
    return ns;
  }
  // no socket: RST (tcp_v4_send_reset), unless it is one
  ns += tcpV4SendReset(k, skb, cpu);
  kfreeSkb(k, skb, 'NO_SOCKET');
  return ns;
}

/** tcp_v4_init_sock -> tcp_init_sock: the defaults TcpSock's fields start from (cwnd 10, RTO 1 s, MSS 536). */
function tcpV4InitSock(_sk: Sock): void {}

/** struct proto tcp_prot */
export const tcpProt: Proto = {
  name: 'TCP',
  init: tcpV4InitSock,
  connect: tcpV4Connect,
  accept: (k, sk, task, nonblock) => inetCskAccept(k, sk as TcpSock, task, nonblock),
  listen: (k, sk, backlog) => inetCskListenStart(k, sk as TcpSock, backlog),
  sendmsg: tcpSendmsg,
  recvmsg: tcpRecvmsg,
  shutdown: tcpShutdown,
  close: tcpClose,
  setsockopt: tcpSetsockopt,
  getsockopt: tcpGetsockopt,
  poll: tcpPoll,
};
