// Models: net/ipv4/tcp.c: the TCP calls a process makes. tcp_sendmsg (copy_from_user into skbs of
// the size goal on the write queue, bounded by sk_sndbuf: sk_stream_wait_memory sleeps or -EAGAIN,
// then tcp_push), tcp_recvmsg (copy_to_user from the receive queue, sk_wait_data when empty,
// tcp_rcv_space_adjust's receive-buffer autotuning, tcp_cleanup_rbuf's ACK and window update),
// tcp_poll's mask, tcp_set_state (sock:inet_sock_set_state), tcp_close / tcp_shutdown (FIN and
// the close states), tcp_done, setsockopt(TCP_NODELAY) and tcp_init_sock. MSG_ZEROCOPY (with
// SO_ZEROCOPY, or io_uring's SEND_ZC notification as msg_ubuf): the user pages become frags by
// reference (skb_zerocopy_iter_stream) and complete when the last skb holding them is freed.
// Content: a copying send snapshots the user bytes (copy_from_user); a receive writes them.
// SIMPLIFICATION: MSG_ZEROCOPY's pinned pages are not charged to RLIMIT_MEMLOCK
// (mm_account_pinned_pages), so a zero-copy send never fails with -ENOBUFS for it.
// SIMPLIFICATION: no MSG_PEEK/urgent data/TCP_CORK; a timewait sock is the closed socket kept in
// the established hash for TCP_TIMEWAIT_LEN to ACK the peer's FIN (no struct inet_timewait_sock).

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import type { Task } from '../../kernel/sched/task.js';
import { copyNs, TCP_RECVMSG_NS, TCP_SENDMSG_NS } from '../../hw/cpu.js';
import { EAGAIN, ENOPROTOOPT, ENOTCONN, EPIPE, EINVAL } from '../../uapi/errno.js';
import { Priority } from '../../sim/engine.js';
import { allocSkb, consumeSkb, msgZerocopyPutAbort, msgZerocopyRealloc, skbHeadPayload, type MsgZerocopyUbuf } from '../core/skbuff.js';
import { copyFromUser, skbCopyDatagramToUser, userMemorySource } from '../core/datagram.js';
import { devForDaddr } from '../core/dev.js';
import { NETIF_F } from '../netdevice.js';
import { gupBioVecs } from '../../mm/memory.js';
import { MAX_SKB_FRAGS, TCPHDR, type SkBuff, type SkbFrag, type UbufInfo } from '../skbuff.js';
import {
  MSG,
  POLL_IN,
  POLL_OUT,
  RCV_SHUTDOWN,
  SEND_SHUTDOWN,
  SHUT,
  SO,
  SOCK_RCVBUF_LOCK,
  TCP,
  TCP_NODELAY,
  skStreamIsWriteable,
  skStreamMemoryFree,
  skWaitEvent,
  sockSetBuf,
  sockSetZerocopy,
  type Sock,
} from '../sock.js';
import { EPOLL } from '../../fs/types.js';
import { PAGE_SIZE } from '../../mm/mm_types.js';
import { TCP_TIMEWAIT_LEN_NS, type TcpSock } from '../tcp_sock.js';
import { SK_RST_REASON_TCP_ABORT_ON_CLOSE, skbPayload, tcpReceiveWindow, tcpSelectWindowRaw, tcpSendActiveReset, tcpSendAck, tcpSendFin, tcpSizeGoal, tcpWriteXmit } from './tcp_output.js';
import { inetCskClearXmitTimers } from './tcp_timer.js';
import { inetUnhash } from './tcp_ipv4.js';
import { tcpRcvStateProcess } from './tcp_input.js';
import { KVEC_VA } from '../socket.js';

/** tcp_set_state: the new state, traced (sock:inet_sock_set_state) and kprobe-able. */
export function tcpSetState(k: Kernel, tp: TcpSock, state: number, cpu: Cpu): void {
  const fn = k.fn.tcp_set_state;
  if (fn.entry.enabled) fn.enter(cpu, 0, tp, state);
  const old = tp.state;
  if (k.tp.inet_sock_set_state.enabled) k.tp.inet_sock_set_state.emit(cpu, 0, tp, old, state);
  tp.state = state;
  if (state === TCP.CLOSE) inetUnhash(k, tp);
  if (fn.ret.enabled) fn.exit(cpu, 0, 0);
}

/** inet_csk_destroy_sock -> tcp_v4_destroy_sock: the orphan's last act (tcp:tcp_destroy_sock). */
function inetCskDestroySock(k: Kernel, tp: TcpSock, cpu: Cpu): void {
  inetCskClearXmitTimers(tp);
  if (k.tp.tcp_destroy_sock.enabled) k.tp.tcp_destroy_sock.emit(cpu, 0, tp);
  for (const skb of tp.writeQueue) consumeSkb(k, skb);
  for (const skb of tp.rtxQueue) consumeSkb(k, skb);
  for (const skb of tp.receiveQueue) consumeSkb(k, skb);
  tp.writeQueue.length = 0;
  tp.rtxQueue.length = 0;
  tp.receiveQueue.length = 0;
  tp.wmemQueued = 0;
  tp.rmemAlloc = 0;
}

/** tcp_done: the connection is over (reset, timeout, last ACK). */
export function tcpDone(k: Kernel, tp: TcpSock, cpu: Cpu): void {
  tcpSetState(k, tp, TCP.CLOSE, cpu);
  inetCskClearXmitTimers(tp);
  tp.shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
  if (tp.dead) inetCskDestroySock(k, tp, cpu);
  else tp.stateChange(tp);
}

/** tcp_write_err: a fatal error (ETIMEDOUT after the retries) ends the connection. */
export function tcpWriteErr(k: Kernel, tp: TcpSock, err: number, cpu: Cpu): void {
  tp.err = err;
  tcpDone(k, tp, cpu);
}

/**
 * tcp_time_wait: the full socket closes now (TCP_CLOSE); its place in the established hash is
 * kept for TCP_TIMEWAIT_LEN so a retransmitted FIN from the peer is still ACKed.
 */
export function tcpTimeWait(k: Kernel, tp: TcpSock, cpu: Cpu): void {
  tp.timeWait = true;
  tcpDone(k, tp, cpu);
  k.env.after(TCP_TIMEWAIT_LEN_NS, Priority.NORMAL, (t: TcpSock) => {
    t.timeWait = false;
    inetUnhash(k, t);
  }, tp);
}

/** lock_sock: the task owns the socket; the softirq queues segments to its backlog meanwhile. */
export function lockSock(tp: TcpSock): void {
  tp.ownedByUser = true;
}

/** release_sock -> __release_sock: the backlog's segments are processed now, in the task's context. Returns CPU ns. */
export function releaseSock(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  let ns = 0;
  while (tp.backlog.length > 0) ns += tcpRcvStateProcess(k, tp, tp.backlog.shift()!, cpu);
  tp.ownedByUser = false;
  return ns;
}

/**
 * sk_wait_event as the TCP calls use it: release the socket (its backlog is processed), sleep
 * unless that made `ready` true, take the socket again.
 */
function* tcpWait(k: Kernel, task: Task, tp: TcpSock, ready: () => boolean): Generator<number, number, void> {
  const ns = releaseSock(k, tp, k.sched.cpu(task.cpu));
  if (ns > 0) yield ns;
  const w = ready() ? 0 : yield* skWaitEvent(k, task, tp);
  lockSock(tp);
  return w;
}

/** Conditions the TCP sleeps wait for (or an error, a shutdown, the end of the connection). */
function connectDone(tp: TcpSock): boolean {
  return tp.state !== TCP.SYN_SENT && tp.state !== TCP.SYN_RECV;
}
function sendSpace(tp: TcpSock): boolean {
  return skStreamMemoryFree(tp) || tp.err !== 0 || (tp.shutdown & SEND_SHUTDOWN) !== 0 || tp.state === TCP.CLOSE;
}
function recvReady(tp: TcpSock): boolean {
  return tp.receiveQueue.length > 0 || tp.err !== 0 || (tp.shutdown & RCV_SHUTDOWN) !== 0 || tp.state === TCP.CLOSE;
}

/** The end of tcp_sendmsg / tcp_recvmsg: release_sock (the backlog is processed), then the kretprobe. */
function* tcpCallEnd(k: Kernel, tp: TcpSock, task: Task, fn: { readonly ret: { readonly enabled: boolean }; exit(ctx: Cpu, ioId: number, ret: number): void }, ret: number): Generator<number, number, void> {
  const ns = releaseSock(k, tp, k.sched.cpu(task.cpu));
  if (ns > 0) yield ns;
  if (fn.ret.enabled) fn.exit(k.sched.cpu(task.cpu), task.ioId, ret);
  return ret;
}

/** The writes that may not wait: MSG_DONTWAIT or O_NONBLOCK (the caller folded it into flags). */
function nonblock(flags: number): boolean {
  return (flags & MSG.DONTWAIT) !== 0;
}

/**
 * tcp_sendmsg: copies the user's bytes into skbs of the size goal on the write queue while the
 * send buffer has room, pushing as it goes; sleeps (sk_stream_wait_memory) or returns -EAGAIN
 * when it is full. Returns the bytes taken or -errno.
 */
export function* tcpSendmsg(k: Kernel, sk: Sock, task: Task, va: number, size: number, flags: number, bvec?: readonly SkbFrag[], msgUbuf?: UbufInfo): Generator<number, number, void> {
  const tp = sk as TcpSock;
  const fn = k.fn.tcp_sendmsg;
  const cpuOf = () => k.sched.cpu(task.cpu);
  if (fn.entry.enabled) fn.enter(cpuOf(), task.ioId, tp, va, size);
  lockSock(tp);
  yield TCP_SENDMSG_NS;
  let copied = 0;
  let err = 0;
  let newSkbs = 0;
  // sk_stream_wait_connect: a connect() still in progress
  while (tp.state === TCP.SYN_SENT || tp.state === TCP.SYN_RECV) {
    if (nonblock(flags)) {
      err = -EAGAIN;
      break;
    }
    const w = yield* tcpWait(k, task, tp, () => connectDone(tp));
    if (w < 0) {
      err = w;
      break;
    }
  }
  const sizeGoal = tcpSizeGoal(k, tp);
  // MSG_SPLICE_PAGES: the bytes are pages taken by reference (splice_to_socket's bio_vec)
  let pages = bvec !== undefined && (flags & MSG.SPLICE_PAGES) !== 0 ? new BvecIter(bvec) : undefined;
  // MSG_ZEROCOPY: io_uring's notification (msg_ubuf), or the socket's own (SO_ZEROCOPY)
  const zc = tcpZerocopySetup(k, tp, task, va, size, flags, msgUbuf);
  const uarg = zc?.uarg;
  if (zc?.pages !== undefined) pages = zc.pages;
  // the tail skb cannot take these bytes (its frags are full, or it holds the other kind): a new one
  let forceNew = false;
  while (err === 0 && copied < size) {
    if (tp.err !== 0 || (tp.shutdown & SEND_SHUTDOWN) !== 0 || (tp.state !== TCP.ESTABLISHED && tp.state !== TCP.CLOSE_WAIT)) {
      // sk_stream_wait_connect / do_error: a pending error once, else EPIPE (not connected, or shut)
      err = -EPIPE;
      // sock_error: a pending error is reported (and cleared) by a call that moved nothing
      if (tp.err !== 0 && copied === 0) {
        err = -tp.err;
        tp.err = 0;
      }
      break;
    }
    let tail: SkBuff | undefined = tp.writeQueue[tp.writeQueue.length - 1];
    let room = !forceNew && tail !== undefined && (tail.tcp!.tcpFlags & TCPHDR.FIN) === 0 ? sizeGoal - skbPayload(tail) : 0;
    if (room <= 0) {
      // a new skb needs send-buffer room (sk_stream_memory_free)
      if (!skStreamMemoryFree(tp)) {
        // wait_for_space: push what is queued, then sleep until ACKs free space
        const c = cpuOf();
        yield tcpPushNs(k, tp, c);
        if (nonblock(flags)) {
          if (copied === 0) err = -EAGAIN;
          break;
        }
        const w = yield* skStreamWaitMemory(k, task, tp);
        if (w < 0) {
          err = w;
          break;
        }
        continue;
      }
      // sk_flush_backlog every 16 new skbs: ACKs that arrived meanwhile open cwnd and free space
      if (++newSkbs % 16 === 0 && tp.backlog.length > 0) {
        const ns = releaseSock(k, tp, cpuOf());
        lockSock(tp);
        if (ns > 0) yield ns;
      }
      tail = allocSkb(k, task.ioId, { saddr: tp.rcvSaddr, daddr: tp.daddr, sport: tp.num, dport: tp.dport });
      tail.sk = tp;
      tail.tcp = { seq: tp.writeSeq, endSeq: tp.writeSeq, ackSeq: 0, tcpFlags: TCPHDR.ACK, windowBytes: 0, whenNs: 0, retrans: 0 };
      tp.writeQueue.push(tail);
      room = sizeGoal;
      forceNew = false;
    }
    const skb = tail!;
    // the tail fills up to the size goal whatever sk_sndbuf says: only a new skb waits for room
    // (sk_stream_memory_free), so sk_wmem_queued may pass sndbuf by up to one skb, as in Linux
    const want = Math.min(room, size - copied);
    if (pages !== undefined) {
      // skb_zerocopy_iter_stream: an skb holds one ubuf_info's pages at most (-EEXIST: a new one)
      if (uarg !== undefined && skb.ubuf !== undefined && skb.ubuf !== uarg) {
        forceNew = true;
        continue;
      }
      // skb_splice_from_iter: each page becomes a frag (or extends the last one), no copy
      const took = skbAppendPages(skb, pages, want);
      if (took === 0) {
        forceNew = true;
        continue;
      }
      if (uarg !== undefined && skb.ubuf === undefined) {
        // skb_zcopy_set: the skb holds the user pages until it is freed
        skb.ubuf = uarg;
        uarg.hold();
      }
      k.net.copies.zerocopyBytes += took;
      skb.tcp!.endSeq += took;
      tp.writeSeq += took;
      tp.wmemQueued += took;
      copied += took;
      yield SPLICE_PAGE_NS * Math.ceil(took / PAGE_SIZE);
      if (skbPayload(skb) >= sizeGoal) {
        const ns = tcpWriteXmit(k, tp, cpuOf());
        if (ns > 0) yield ns;
      }
      continue;
    }
    if (skb.dataLenBytes > 0) {
      // copied bytes do not follow page frags in the linear head: a new skb
      forceNew = true;
      continue;
    }
    const n = want;
    // skb_copy_to_page_nocache: copy_from_user, charged per byte. The skb grows before the copy's
    // time passes: the socket is the sender's meanwhile (lock_sock), so nothing sends it half-filled
    if (va !== KVEC_VA) {
      k.net.copies.userToSkbBytes += n;
      k.stat.userCopyBytes += n;
      skbAddContent(skb, copyFromUser(task.mm, va + copied, n), n);
    }
    skb.lenBytes += n;
    skb.tcp!.endSeq += n;
    tp.writeSeq += n;
    tp.wmemQueued += n;
    copied += n;
    yield copyNs(n);
    // a full skb goes out at once (tcp_push_one / __tcp_push_pending_frames when forced)
    if (skbPayload(skb) >= sizeGoal) {
      const ns = tcpWriteXmit(k, tp, cpuOf());
      if (ns > 0) yield ns;
    }
  }
  if (copied > 0) {
    // tcp_push: what is left goes out (Nagle may hold a small tail)
    const ns = tcpPushNs(k, tp, cpuOf());
    if (ns > 0) yield ns;
  }
  // net_zcopy_put / net_zcopy_put_abort: the call's own reference to its ubuf_info goes
  if (zc?.own !== undefined) {
    if (copied > 0) zc.own.complete(true);
    else msgZerocopyPutAbort(zc.own);
  }
  return yield* tcpCallEnd(k, tp, task, fn, copied > 0 ? copied : err);
}

/** What tcp_sendmsg_locked decides for MSG_ZEROCOPY: the ubuf_info, and the user pages if they go by reference. */
interface TcpZerocopy {
  readonly uarg: UbufInfo;
  /** The socket's own ubuf_info (SO_ZEROCOPY), whose call reference tcp_sendmsg drops. */
  readonly own: MsgZerocopyUbuf | undefined;
  /** The user pages as frags (undefined: the route has no scatter-gather, the bytes are copied). */
  readonly pages: BvecIter | undefined;
}

/**
 * The MSG_ZEROCOPY set-up of tcp_sendmsg_locked: io_uring's msg_ubuf, else (SOCK_ZEROCOPY set)
 * msg_zerocopy_realloc; without it the flag is ignored. The pages go by reference when the
 * route's device does scatter-gather (sk_route_caps & NETIF_F_SG); else the bytes are copied and
 * the completion says so.
 */
function tcpZerocopySetup(k: Kernel, tp: TcpSock, task: Task, va: number, size: number, flags: number, msgUbuf: UbufInfo | undefined): TcpZerocopy | undefined {
  if ((flags & MSG.ZEROCOPY) === 0 || size === 0 || va === KVEC_VA || task.mm === undefined) return undefined;
  let own: MsgZerocopyUbuf | undefined;
  if (msgUbuf === undefined) {
    if (!tp.zerocopy) return undefined;
    own = msgZerocopyRealloc(tp, size, tp.writeQueue[tp.writeQueue.length - 1]?.ubuf);
  }
  const uarg = msgUbuf ?? own!;
  const dev = k.net.deviceWithAddr(tp.daddr) !== undefined ? undefined : devForDaddr(k, tp.daddr);
  const vecs = dev === undefined || (dev.features & NETIF_F.SG) !== 0 ? gupBioVecs(task.mm, va, size) : undefined;
  if (vecs === undefined) {
    // the notification will say the bytes were copied (uarg->zerocopy = 0)
    uarg.hold();
    uarg.complete(false);
    return { uarg, own, pages: undefined };
  }
  // pin_user_pages: each page a frag whose bytes are read from the user's memory when read
  const source = userMemorySource(task.mm);
  let at = va;
  const frags: SkbFrag[] = vecs.map((v) => {
    const f = { pfn: v.pfn, offsetBytes: v.offsetBytes, lenBytes: v.lenBytes, source, sourceOffsetBytes: at };
    at += v.lenBytes;
    return f;
  });
  return { uarg, own, pages: new BvecIter(frags) };
}

/** The linear head grows by `n` copied bytes: their content (if any) follows what it holds. */
function skbAddContent(skb: SkBuff, bytes: Uint8Array | undefined, n: number): void {
  const old = skbHeadPayload(skb);
  if (bytes === undefined && old === undefined) return;
  const have = skb.lenBytes - skb.dataLenBytes - skb.headerBytes;
  const out = new Uint8Array(have + n);
  if (old !== undefined) out.set(old.subarray(0, have));
  if (bytes !== undefined) out.set(bytes, have);
  skb.headContent = out;
}

/** CPU time to take one page by reference into an skb (get_page, the frag's bookkeeping). */
const SPLICE_PAGE_NS = 40;

/** An iov_iter over a bio_vec array: where the next page reference comes from. */
class BvecIter {
  private index = 0;
  private offBytes = 0;
  constructor(private readonly vecs: readonly SkbFrag[]) {}

  /** The rest of the current vector, or undefined at the end. */
  current(): SkbFrag | undefined {
    const v = this.vecs[this.index];
    if (v === undefined) return undefined;
    const skip = this.offBytes;
    return skip === 0 ? v : { ...v, offsetBytes: v.offsetBytes + skip, lenBytes: v.lenBytes - skip, ...(v.source === undefined ? {} : { sourceOffsetBytes: (v.sourceOffsetBytes ?? 0) + skip }) };
  }

  advance(bytes: number): void {
    this.offBytes += bytes;
    const v = this.vecs[this.index];
    if (v !== undefined && this.offBytes >= v.lenBytes) {
      this.index++;
      this.offBytes = 0;
    }
  }
}

/**
 * skb_append_pagefrags as skb_splice_from_iter drives it: up to `maxBytes` from the iterator as
 * frags of `skb`, a page continuing the last frag extending it (skb_can_coalesce), else a new
 * frag while the skb has fewer than MAX_SKB_FRAGS (sysctl_max_skb_frags). Returns the bytes taken:
 * 0 when the skb holds copied bytes or has no frag left, so the caller starts a new skb.
 */
function skbAppendPages(skb: SkBuff, it: BvecIter, maxBytes: number): number {
  if (skb.lenBytes - skb.headerBytes > skb.dataLenBytes) return 0;
  let took = 0;
  while (took < maxBytes) {
    const v = it.current();
    if (v === undefined) break;
    const len = Math.min(maxBytes - took, v.lenBytes);
    const last = skb.frags[skb.frags.length - 1];
    if (last !== undefined && last.pfn === v.pfn && last.offsetBytes + last.lenBytes === v.offsetBytes && last.source === v.source) {
      skb.frags[skb.frags.length - 1] = { ...last, lenBytes: last.lenBytes + len };
    } else {
      if (skb.frags.length >= MAX_SKB_FRAGS) break;
      skb.frags.push({ ...v, lenBytes: len });
    }
    skb.lenBytes += len;
    skb.dataLenBytes += len;
    took += len;
    it.advance(len);
  }
  return took;
}

function tcpPushNs(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  if (tp.writeQueue.length === 0) return 0;
  const tail = tp.writeQueue[tp.writeQueue.length - 1]!;
  tail.tcp!.tcpFlags |= TCPHDR.PSH;
  return tcpWriteXmit(k, tp, cpu);
}

/** sk_stream_wait_memory: sleep until the send buffer has room (or an error / shutdown). */
function* skStreamWaitMemory(k: Kernel, task: Task, tp: TcpSock): Generator<number, number, void> {
  while (!sendSpace(tp)) {
    const w = yield* tcpWait(k, task, tp, () => sendSpace(tp));
    if (w < 0) return w;
  }
  return 0;
}

/**
 * tcp_recvmsg: copies queued bytes to the user, sleeping in sk_wait_data while nothing is
 * there (or -EAGAIN). Returns bytes, 0 at end of stream, or -errno.
 */
export function* tcpRecvmsg(k: Kernel, sk: Sock, task: Task, va: number, len: number, flags: number): Generator<number, number, void> {
  const tp = sk as TcpSock;
  const fn = k.fn.tcp_recvmsg;
  const cpuOf = () => k.sched.cpu(task.cpu);
  if (fn.entry.enabled) fn.enter(cpuOf(), task.ioId, tp, va, len, flags, 0);
  lockSock(tp);
  yield TCP_RECVMSG_NS;
  let copied = 0;
  let err = tp.state === TCP.LISTEN ? -ENOTCONN : 0;
  const target = (flags & MSG.WAITALL) !== 0 ? len : 1;
  while (err === 0 && copied < len) {
    const skb = tp.receiveQueue[0];
    if (skb !== undefined) {
      const avail = skb.tcp!.endSeq - tp.copiedSeq - ((skb.tcp!.tcpFlags & TCPHDR.FIN) !== 0 ? 1 : 0);
      const n = Math.min(avail, len - copied);
      // skb_copy_datagram_msg: copy_to_user, charged per byte
      yield copyNs(n);
      if (va !== KVEC_VA) {
        k.net.copies.skbToUserBytes += n;
        k.stat.userCopyBytes += n;
        skbCopyDatagramToUser(task.mm, skb, tp.copiedSeq - skb.tcp!.seq, va + copied, n, va, len);
      }
      tp.copiedSeq += n;
      tp.rmemAlloc -= n;
      copied += n;
      if (n === avail) {
        tp.receiveQueue.shift();
        consumeSkb(k, skb);
      }
      continue;
    }
    if (copied >= target) break;
    if (tp.err !== 0) {
      if (copied === 0) {
        err = -tp.err;
        tp.err = 0;
      }
      break;
    }
    if ((tp.shutdown & RCV_SHUTDOWN) !== 0) break;
    if (tp.state === TCP.CLOSE) {
      if (copied === 0 && !tp.timeWait && tp.bytesReceived === 0 && tp.sndUna === 0) err = -ENOTCONN;
      break;
    }
    if (nonblock(flags)) {
      if (copied === 0) err = -EAGAIN;
      break;
    }
    // tcp_cleanup_rbuf before sleeping: the window we freed goes to the peer now
    if (copied > 0) {
      const ns = tcpCleanupRbuf(k, tp, copied, cpuOf());
      if (ns > 0) yield ns;
    }
    // sk_wait_data (the backlog may hold what we wait for: release_sock processes it first)
    if (tp.backlog.length > 0) {
      const ns = releaseSock(k, tp, cpuOf());
      lockSock(tp);
      if (ns > 0) yield ns;
      continue;
    }
    const w = yield* tcpWait(k, task, tp, () => recvReady(tp));
    if (w < 0) {
      err = w;
      break;
    }
  }
  if (copied > 0) {
    tcpRcvSpaceAdjust(k, tp, cpuOf());
    const ns = tcpCleanupRbuf(k, tp, copied, cpuOf());
    if (ns > 0) yield ns;
  }
  return yield* tcpCallEnd(k, tp, task, fn, copied > 0 ? copied : err);
}

/**
 * tcp_cleanup_rbuf: after the reader took `copied` bytes, ACK now if a delayed ACK covers more than
 * a segment, or if the window can at least double (a window update: this is what reopens a zero
 * window). Returns CPU ns.
 */
export function tcpCleanupRbuf(k: Kernel, tp: TcpSock, copied: number, cpu: Cpu): number {
  const fn = k.fn.tcp_cleanup_rbuf;
  if (fn.entry.enabled) fn.enter(cpu, 0, tp, copied);
  let timeToAck = false;
  if (tp.ackPending && tp.rcvNxt - tp.rcvWup > tp.rcvMss) timeToAck = true;
  if (copied > 0 && !timeToAck && (tp.shutdown & RCV_SHUTDOWN) === 0) {
    const now = tcpReceiveWindow(tp);
    if (2 * now <= tp.windowClamp) {
      const next = tcpSelectWindowRaw(tp);
      if (next > 0 && next >= 2 * now) timeToAck = true;
    }
  }
  const ns = timeToAck && tp.state !== TCP.CLOSE ? tcpSendAck(k, tp, cpu) : 0;
  if (fn.ret.enabled) fn.exit(cpu, 0, 0);
  return ns;
}

/**
 * tcp_rcv_space_adjust (dynamic right-sizing): once per RTT, if the reader took more than last
 * time, grow sk_rcvbuf to twice that (plus 16 segments, plus the growth) up to tcp_rmem[2].
 */
export function tcpRcvSpaceAdjust(k: Kernel, tp: TcpSock, cpu: Cpu): void {
  const rttUs = tp.srttUs >> 3;
  const sinceNs = k.env.nowNs - tp.rcvqSpace.timeNs;
  if (rttUs === 0 || sinceNs < rttUs * 1000) return;
  const copied = tp.copiedSeq - tp.rcvqSpace.seq;
  if (copied > tp.rcvqSpace.space) {
    if (k.tp.tcp_rcv_space_adjust.enabled) k.tp.tcp_rcv_space_adjust.emit(cpu, 0, tp);
    if (k.net.sysctl.tcpModerateRcvbuf && (tp.userlocks & SOCK_RCVBUF_LOCK) === 0) {
      const space = Math.max(tp.rcvqSpace.space, 1);
      let rcvwin = copied * 2 + 16 * tp.rcvMss;
      rcvwin += Math.floor((rcvwin * (copied - space)) / space) * 2;
      const rcvbuf = Math.min(rcvwin, k.net.sysctl.tcpRmem[2]);
      if (rcvbuf > tp.rcvbuf) {
        tp.rcvbuf = rcvbuf;
        tp.windowClamp = rcvbuf;
        tp.rcvSsthresh = rcvbuf;
      }
    }
    tp.rcvqSpace.space = copied;
  }
  tp.rcvqSpace.seq = tp.copiedSeq;
  tp.rcvqSpace.timeNs = k.env.nowNs;
}

/** tcp_poll: readable with data, EOF or an error; writable with send-buffer room. */
export function tcpPoll(sk: Sock): number {
  const tp = sk as TcpSock;
  let mask = 0;
  if (tp.state === TCP.LISTEN) return tp.acceptQueue.length > 0 ? POLL_IN : 0;
  if (tp.shutdown === (SEND_SHUTDOWN | RCV_SHUTDOWN) || tp.state === TCP.CLOSE) mask |= EPOLL.HUP;
  if ((tp.shutdown & RCV_SHUTDOWN) !== 0) mask |= POLL_IN | EPOLL.RDHUP;
  if (tp.state !== TCP.SYN_SENT && tp.state !== TCP.SYN_RECV) {
    if (tp.rcvNxt - tp.copiedSeq > 0 && tp.receiveQueue.length > 0) mask |= POLL_IN;
    if ((tp.shutdown & SEND_SHUTDOWN) === 0) {
      if (skStreamIsWriteable(tp)) mask |= POLL_OUT;
    } else mask |= POLL_OUT;
  }
  if (tp.err !== 0 || tp.errorQueue.length > 0) mask |= EPOLL.ERR;
  return mask;
}

/** tcp_close_state: the state closing moves to, and whether a FIN must be sent. */
function tcpCloseState(k: Kernel, tp: TcpSock, cpu: Cpu): boolean {
  const next: Record<number, number> = {
    [TCP.ESTABLISHED]: TCP.FIN_WAIT1,
    [TCP.SYN_RECV]: TCP.FIN_WAIT1,
    [TCP.CLOSE_WAIT]: TCP.LAST_ACK,
  };
  const ns = next[tp.state];
  if (ns === undefined) return false;
  tcpSetState(k, tp, ns, cpu);
  return true;
}

/** tcp_shutdown: SHUT_WR sends our FIN; the socket stays open for reading. */
export function tcpShutdown(k: Kernel, sk: Sock, how: number): void {
  const tp = sk as TcpSock;
  if (how === SHUT.RD) {
    tp.shutdown |= RCV_SHUTDOWN;
    tp.wq.wakeAll();
    return;
  }
  const cpu = k.sched.cpu(tp.cpu);
  if (how === SHUT.RDWR) tp.shutdown |= RCV_SHUTDOWN;
  if ((tp.shutdown & SEND_SHUTDOWN) === 0 && tcpCloseState(k, tp, cpu)) {
    tp.shutdown |= SEND_SHUTDOWN;
    tcpSendFin(k, tp, cpu);
  }
  tp.wq.wakeAll();
}

/**
 * tcp_close: the socket is orphaned; unread data means a reset (RFC 2525), else FIN and the close
 * states run on without it; a listener or unconnected socket just goes.
 */
export function tcpClose(k: Kernel, sk: Sock): void {
  const tp = sk as TcpSock;
  const cpu = k.sched.cpu(tp.cpu);
  const fn = k.fn.tcp_close;
  if (fn.entry.enabled) fn.enter(cpu, 0, tp, 0);
  tp.shutdown = RCV_SHUTDOWN | SEND_SHUTDOWN;
  tp.dead = true;
  tp.socket = undefined;
  if (tp.state === TCP.LISTEN) {
    // inet_csk_listen_stop: children not yet accepted are closed too
    for (const child of tp.acceptQueue) tcpClose(k, child);
    tp.acceptQueue.length = 0;
    tcpDone(k, tp, cpu);
  } else if (tp.state === TCP.CLOSE || tp.state === TCP.SYN_SENT) {
    if (tp.state === TCP.SYN_SENT) tcpSetState(k, tp, TCP.CLOSE, cpu);
    inetCskDestroySock(k, tp, cpu);
  } else if (tp.receiveQueue.length > 0) {
    // data the application never read: RST instead of FIN (RFC 2525, tcp_send_active_reset)
    tcpSetState(k, tp, TCP.CLOSE, cpu);
    tcpSendActiveReset(k, tp, cpu, SK_RST_REASON_TCP_ABORT_ON_CLOSE);
    inetCskDestroySock(k, tp, cpu);
  } else if (tcpCloseState(k, tp, cpu)) {
    tcpSendFin(k, tp, cpu);
  } else if (tp.state === TCP.CLOSE) inetCskDestroySock(k, tp, cpu);
  if (fn.ret.enabled) fn.exit(cpu, 0, 0);
}

/** do_tcp_setsockopt / sock_setsockopt for the options the model has. */
export function tcpSetsockopt(sk: Sock, level: number, optname: number, val: number): number {
  const tp = sk as TcpSock;
  if (level === 1) {
    if (optname === SO.SNDBUF || optname === SO.RCVBUF) {
      const r = sockSetBuf(tp, optname, val);
      if (optname === SO.RCVBUF) {
        tp.windowClamp = tp.rcvbuf;
        tp.rcvSsthresh = tp.rcvbuf;
      }
      return r;
    }
    if (optname === SO.ZEROCOPY) return sockSetZerocopy(tp, val);
    return -ENOPROTOOPT;
  }
  if (level === 6 && optname === TCP_NODELAY) {
    tp.nodelay = val !== 0;
    return 0;
  }
  return level === 6 ? -ENOPROTOOPT : -EINVAL;
}

export function tcpGetsockopt(sk: Sock, level: number, optname: number): number {
  const tp = sk as TcpSock;
  if (level === 1) {
    if (optname === SO.SNDBUF) return tp.sndbuf;
    if (optname === SO.RCVBUF) return tp.rcvbuf;
    if (optname === SO.ERROR) {
      const e = tp.err;
      tp.err = 0;
      return e;
    }
    if (optname === SO.ZEROCOPY) return tp.zerocopy ? 1 : 0;
    return -ENOPROTOOPT;
  }
  if (level === 6 && optname === TCP_NODELAY) return tp.nodelay ? 1 : 0;
  return -ENOPROTOOPT;
}
