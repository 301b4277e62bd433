// Models: net/ipv4/tcp_output.c: building and sending segments. tcp_transmit_skb (a clone of the
// queued skb with the header's ACK and window), tcp_select_window (the receive window advertised
// from the free receive space, never shrinking, zero below one MSS), tcp_write_xmit (as much of the
// write queue as the congestion window, the peer's window and Nagle allow, in GSO/TSO-sized skbs),
// tcp_mss_to_mtu / tcp_xmit_size_goal, pure ACKs (tcp_send_ack) and delayed ones, SYN / SYN-ACK
// (with the MSS option, tcp_advertise_mss) / FIN / RST, tcp_retransmit_skb, and the zero-window
// probe (tcp_send_probe0 / tcp_write_wakeup).
// SIMPLIFICATION: no SACK, TSQ, pacing or TLP; every skb is sent as one clone of its whole length.

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import { TCP_XMIT_SKB_NS } from '../../hw/cpu.js';
import { NETIF_F } from '../netdevice.js';
import { IPV4_HLEN, TCP_HLEN, TCPHDR, type FlowKey, type SkBuff, type TcpSkbCb } from '../skbuff.js';
import { allocSkb, consumeSkb, skbHeadPayload, sliceFrags } from '../core/skbuff.js';
import { TCP } from '../sock.js';
import { ICSK_TIME, TCP_DELACK_MAX_NS, TCP_DELACK_MIN_NS, TCP_MAX_SYN_WINDOW, TCP_RTO_MAX_NS, TCP_RTO_MIN_NS, type RequestSock, type TcpSock } from '../tcp_sock.js';
import { ipQueueXmit, ipRouteOutput } from './ip_output.js';
import { inetCskResetXmitTimer, tcpResetDelackTimer } from './tcp_timer.js';

/** Payload bytes of a segment (skb->len minus the headers). */
export function skbPayload(skb: SkBuff): number {
  return skb.lenBytes - skb.headerBytes;
}

/** tcp_skb_pcount: segments a (GSO) skb stands for. */
export function tcpSkbPcount(skb: SkBuff): number {
  return skb.gsoSegs > 1 ? skb.gsoSegs : 1;
}

/** tcp_mtu_to_mss: the payload one segment carries on the route's device. */
export function tcpMtuToMss(k: Kernel, daddr: number): number {
  const dev = ipRouteOutput(k, daddr);
  return (dev?.mtu ?? 1500) - IPV4_HLEN - TCP_HLEN;
}

/** TCPOLEN_TSTAMP_ALIGNED: the timestamp option every segment carries (part of TCP_HLEN). */
const TCPOLEN_TSTAMP_ALIGNED = 12;
/** TCP_MSS_DEFAULT: the MSS assumed of a peer whose SYN has no MSS option (RFC 1122). */
const TCP_MSS_DEFAULT = 536;

/** tcp_advertise_mss: our SYN's / SYN-ACK's MSS option, the route's MTU less the IP and bare TCP headers. */
function tcpAdvertiseMss(k: Kernel, daddr: number): number {
  return tcpMtuToMss(k, daddr) + TCPOLEN_TSTAMP_ALIGNED;
}

/**
 * The segment size the peer's SYN or SYN-ACK allows (tcp_parse_options' mss_clamp, less the
 * timestamp option as tcp_sync_mss takes it off): a peer on a smaller MTU gets no larger frames.
 */
export function tcpPeerMss(cb: TcpSkbCb): number {
  return (cb.mss ?? TCP_MSS_DEFAULT) - TCPOLEN_TSTAMP_ALIGNED;
}

/**
 * tcp_xmit_size_goal: how many payload bytes one skb may carry. With scatter-gather and TSO/GSO
 * it is the largest multiple of the MSS the device's gso_max_size takes, else one MSS.
 */
export function tcpSizeGoal(k: Kernel, tp: TcpSock): number {
  const mss = tp.mssCache;
  const dev = ipRouteOutput(k, tp.daddr);
  if (dev === undefined || (dev.features & NETIF_F.SG) === 0 || (dev.features & (NETIF_F.TSO | NETIF_F.GSO)) === 0) return mss;
  const goal = dev.gsoMaxSizeBytes - 1 - IPV4_HLEN - TCP_HLEN;
  return Math.max(mss, Math.floor(goal / mss) * mss);
}

/** tcp_receive_window: what is left of the window we last advertised. */
export function tcpReceiveWindow(tp: TcpSock): number {
  return Math.max(0, tp.rcvWup + tp.rcvWnd - tp.rcvNxt);
}

/** tcp_space / tcp_full_space: free and total receive buffer, as window bytes. */
function tcpSpace(tp: TcpSock): number {
  return Math.max(0, tp.rcvbuf - tp.rmemAlloc);
}

/**
 * __tcp_select_window: the window free space allows. Below one MSS of free space it is zero
 * (receiver-side silly window avoidance); it is a multiple of the window scale unit.
 */
export function tcpSelectWindowRaw(tp: TcpSock): number {
  const mss = tp.rcvMss;
  const full = Math.min(tp.rcvbuf, tp.windowClamp);
  let free = Math.min(tcpSpace(tp), full);
  if (free < full >> 1) {
    tp.ackQuick = 0;
    if (free < mss) return 0;
  }
  if (free > tp.rcvSsthresh) free = tp.rcvSsthresh;
  const unit = 1 << tp.rcvWscale;
  return Math.floor(free / unit) * unit;
}

/**
 * tcp_select_window: the window for an outgoing segment; never less than what is already promised.
 * kprobe/kretprobe:__tcp_select_window fire around the free-space computation here.
 * SIMPLIFICATION: they fire only on this transmit path, not where tcp_cleanup_rbuf and the ACK
 * decision ask for the window they would advertise.
 * SIMPLIFICATION: the promise is kept rounded down to the scale unit (Linux rounds up, so the
 * right edge creeps forward by up to one unit per ACK, which its truesize slack absorbs and the
 * model's payload-exact rcvbuf would not); what a sender already saw stays acceptable
 * (rcvPromisedEdge), so the rounding never drops a segment sent into the promised window.
 */
export function tcpSelectWindow(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  const cur = tcpReceiveWindow(tp);
  const fn = k.fn.__tcp_select_window;
  if (fn.entry.enabled) fn.enter(cpu, 0, tp);
  let win = tcpSelectWindowRaw(tp);
  if (fn.ret.enabled) fn.exit(cpu, 0, win);
  // the right edge promised so far: data up to it is taken even when rounding shrank the window
  tp.rcvPromisedEdge = Math.max(tp.rcvPromisedEdge, tp.rcvNxt + cur);
  if (win < cur) {
    const unit = 1 << tp.rcvWscale;
    win = Math.floor(cur / unit) * unit;
  }
  tp.rcvWnd = win;
  tp.rcvWup = tp.rcvNxt;
  return win;
}

function flowOf(tp: TcpSock): FlowKey {
  return { saddr: tp.rcvSaddr, daddr: tp.daddr, sport: tp.num, dport: tp.dport };
}

/**
 * tcp_transmit_skb: sends a clone of `skb` (the original stays queued for retransmission) with
 * the current ACK and window. Returns CPU ns.
 */
export function tcpTransmitSkb(k: Kernel, tp: TcpSock, skb: SkBuff, cpu: Cpu): number {
  const cb = skb.tcp!;
  const payload = skbPayload(skb);
  const clone = allocSkb(k, skb.ioId, flowOf(tp));
  clone.lenBytes = payload;
  clone.dataLenBytes = skb.dataLenBytes;
  clone.frags = skb.frags;
  clone.headContent = skb.headContent;
  // the clone shares the user pages of a zero-copy skb: it holds the ubuf_info too (skb_zcopy_get)
  if (skb.ubuf !== undefined) {
    clone.ubuf = skb.ubuf;
    skb.ubuf.hold();
  }
  const flags = cb.tcpFlags | (tp.state === TCP.SYN_SENT && (cb.tcpFlags & TCPHDR.SYN) !== 0 ? 0 : TCPHDR.ACK);
  const win = (cb.tcpFlags & TCPHDR.SYN) !== 0 ? Math.min(tcpSelectWindow(k, tp, cpu), TCP_MAX_SYN_WINDOW) : tcpSelectWindow(k, tp, cpu);
  clone.tcp = { seq: cb.seq, endSeq: cb.endSeq, ackSeq: tp.rcvNxt, tcpFlags: flags, windowBytes: win, whenNs: k.env.nowNs, retrans: cb.retrans };
  // tcp_syn_options: a SYN tells the peer the largest segment we take
  if ((cb.tcpFlags & TCPHDR.SYN) !== 0) clone.tcp.mss = tcpAdvertiseMss(k, tp.daddr);
  if (payload > tp.mssCache) {
    clone.gsoSize = tp.mssCache;
    clone.gsoSegs = Math.ceil(payload / tp.mssCache);
  }
  clone.sk = tp;
  cb.whenNs = k.env.nowNs;
  tp.segsOut += tcpSkbPcount(clone);
  if (payload > 0) {
    tp.dataSegsOut += tcpSkbPcount(clone);
    tp.bytesSent += payload;
  }
  // an ACK goes with every segment: the pending (delayed) ACK is sent (tcp_event_ack_sent)
  if ((flags & TCPHDR.ACK) !== 0) tcpEventAckSent(tp);
  const ns = ipQueueXmit(k, clone, cpu);
  return TCP_XMIT_SKB_NS + Math.max(0, ns);
}

/** tcp_event_ack_sent: an ACK left; the delayed-ACK timer and quick-ack credit follow. */
function tcpEventAckSent(tp: TcpSock): void {
  if (tp.ackQuick > 0) tp.ackQuick--;
  tp.ackPending = false;
  if (tp.delackTimer.pending !== 0) {
    tp.delackTimer.pending = 0;
    tp.delackTimer.gen++;
  }
}

/** tcp_packets_in_flight: sent and unacked, less what is marked lost, plus its retransmissions. */
export function tcpPacketsInFlight(tp: TcpSock): number {
  return tp.packetsOut - tp.lostOut + tp.retransOut;
}

/**
 * tcp_xmit_retransmit_queue: in loss recovery, the lost segments go again in order, as far as cwnd
 * lets (slow start from 1 after an RTO: go-back-N).
 */
export function tcpXmitRetransmitQueue(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  let ns = 0;
  for (const skb of tp.rtxQueue) {
    const cb = skb.tcp!;
    if (cb.endSeq > tp.highSeq) break;
    if (cb.seq < tp.retransmitHigh) continue;
    // __tcp_retransmit_skb: nothing that starts beyond the peer's window, and cut to fit it
    const wndEnd = tp.sndUna + tp.sndWnd;
    if (tcpPacketsInFlight(tp) >= tp.sndCwnd || cb.seq >= wndEnd) break;
    const payload = skbPayload(skb);
    if (cb.seq + payload > wndEnd && payload > 0) {
      const avail = wndEnd - cb.seq;
      tcpFragment(k, tp, skb, avail > tp.mssCache ? Math.floor(avail / tp.mssCache) * tp.mssCache : avail, tp.rtxQueue);
      return ns + tcpXmitRetransmitQueue(k, tp, cpu);
    }
    ns += tcpRetransmitSkb(k, tp, skb, cpu);
    tp.retransmitHigh = cb.endSeq;
  }
  return ns;
}

/** tcp_cwnd_validate: remember whether this window's sending was limited by cwnd. */
function tcpCwndValidate(tp: TcpSock, isCwndLimited: boolean): void {
  if (tp.sndUna >= tp.cwndUsageSeq || isCwndLimited || tp.packetsOut > tp.maxPacketsOut) {
    tp.isCwndLimited = isCwndLimited;
    tp.maxPacketsOut = tp.packetsOut;
    tp.cwndUsageSeq = tp.sndNxt;
  }
}

/** tso_fragment / tcp_fragment: splits the head of `skb` (first `len` payload bytes) into its own skb, in `queue`. */
function tcpFragment(k: Kernel, tp: TcpSock, skb: SkBuff, len: number, queue: SkBuff[] = tp.writeQueue): void {
  const cb = skb.tcp!;
  const head = allocSkb(k, skb.ioId, skb.flow);
  head.lenBytes = len;
  head.sk = tp;
  head.tcp = { seq: cb.seq, endSeq: cb.seq + len, ackSeq: 0, tcpFlags: cb.tcpFlags & ~(TCPHDR.FIN | TCPHDR.PSH), windowBytes: 0, whenNs: 0, retrans: 0 };
  head.tcp.whenNs = cb.whenNs;
  head.tcp.retrans = cb.retrans;
  // a copied head's content: the first len bytes go with the head (the rest stays the skb's tail)
  const content = skb.dataLenBytes === 0 ? skbHeadPayload(skb) : undefined;
  if (content !== undefined) head.headContent = content.subarray(0, len);
  skb.lenBytes -= len;
  cb.seq += len;
  if (skb.dataLenBytes > 0) {
    // a page skb: the head takes the first frags (split inside a page where the cut falls)
    head.frags = sliceFrags(skb.frags, 0, len);
    head.dataLenBytes = len;
    skb.frags = sliceFrags(skb.frags, len, skb.dataLenBytes - len);
    skb.dataLenBytes -= len;
    if (skb.ubuf !== undefined) {
      head.ubuf = skb.ubuf;
      skb.ubuf.hold();
    }
  }
  queue.splice(queue.indexOf(skb), 0, head);
}

/**
 * tcp_write_xmit: sends queued segments while the congestion window, the peer's receive window
 * and Nagle allow. When the peer's window stops everything and nothing is in flight, the
 * zero-window probe timer is armed (tcp_check_probe_timer). Returns CPU ns.
 */
export function tcpWriteXmit(k: Kernel, tp: TcpSock, cpu: Cpu, pushOne = false): number {
  let ns = 0;
  let cwndLimited = false;
  const mss = tp.mssCache;
  while (tp.writeQueue.length > 0) {
    const skb = tp.writeQueue[0]!;
    const cb = skb.tcp!;
    const payload = skbPayload(skb);
    const inFlight = tcpPacketsInFlight(tp);
    if (inFlight >= tp.sndCwnd && (cb.tcpFlags & TCPHDR.FIN) === 0) {
      cwndLimited = true;
      break;
    }
    // tcp_snd_wnd_test: the segment's first MSS must fit the peer's window
    const wndEnd = tp.sndUna + tp.sndWnd;
    const firstEnd = cb.seq + Math.min(payload, mss);
    if (payload > 0 && firstEnd > wndEnd) break;
    // tcp_nagle_test with tcp_minshall_check: the last, sub-MSS segment waits while an earlier
    // small segment is unacknowledged (unless TCP_NODELAY); full segments in flight do not hold it
    if (payload < mss && payload > 0 && !tp.nodelay && !pushOne && tp.packetsOut > 0 && (cb.tcpFlags & TCPHDR.FIN) === 0 && tp.writeQueue.length === 1 && tp.sndSml > tp.sndUna && tp.sndSml <= tp.sndNxt) break;
    // tcp_mss_split_point: no more than the window and cwnd allow in one (GSO) skb
    const cwndQuota = tp.sndCwnd - inFlight;
    let limit = Math.min(payload, wndEnd - cb.seq, cwndQuota * mss);
    if (limit < payload && limit > mss) limit = Math.floor(limit / mss) * mss;
    if (limit < payload && limit > 0) tcpFragment(k, tp, skb, limit);
    const sent = tp.writeQueue.shift()!;
    ns += tcpTransmitSkb(k, tp, sent, cpu);
    tcpEventNewDataSent(k, tp, sent);
    // tcp_minshall_update: remember where the last small segment ended
    const sentPayload = skbPayload(sent);
    if (sentPayload > 0 && sentPayload % mss !== 0) tp.sndSml = sent.tcp!.endSeq;
    if (pushOne) break;
  }
  tcpCwndValidate(tp, cwndLimited);
  // tcp_check_probe_timer: stopped by a closed window with nothing in flight
  if (tp.writeQueue.length > 0 && tp.packetsOut === 0 && tp.retransmitTimer.pending === 0) {
    inetCskResetXmitTimer(k, tp, ICSK_TIME.PROBE0, tcpProbe0WhenNs(tp));
  }
  return ns;
}

/** tcp_event_new_data_sent: the segment moves to the retransmit queue; the RTO timer runs. */
function tcpEventNewDataSent(k: Kernel, tp: TcpSock, skb: SkBuff): void {
  const cb = skb.tcp!;
  const priorPackets = tp.packetsOut;
  tp.sndNxt = cb.endSeq;
  tp.rtxQueue.push(skb);
  tp.packetsOut += Math.max(1, Math.ceil(skbPayload(skb) / tp.mssCache));
  if (priorPackets === 0 || tp.retransmitTimer.pending === ICSK_TIME.PROBE0) inetCskResetXmitTimer(k, tp, ICSK_TIME.RETRANS, tp.rtoNs);
}

/** tcp_probe0_base / tcp_probe0_when: the persist timer's backed-off interval. */
export function tcpProbe0WhenNs(tp: TcpSock): number {
  const base = Math.max(tp.rtoNs, TCP_RTO_MIN_NS);
  return Math.min(base * 2 ** tp.backoff, TCP_RTO_MAX_NS);
}

/** A control segment (SYN, FIN without data, ACK, RST) built for `flow`. */
function ctlSkb(k: Kernel, tp: TcpSock | undefined, flow: FlowKey, seq: number, flags: number, ioId: number): SkBuff {
  const skb = allocSkb(k, ioId, flow);
  skb.sk = tp;
  skb.tcp = { seq, endSeq: seq + ((flags & (TCPHDR.SYN | TCPHDR.FIN)) !== 0 ? 1 : 0), ackSeq: 0, tcpFlags: flags, windowBytes: 0, whenNs: k.env.nowNs, retrans: 0 };
  return skb;
}

/** tcp_send_ack: a pure ACK with the current window. Returns CPU ns. */
export function tcpSendAck(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  if ((tp.state === TCP.CLOSE && !tp.timeWait) || tp.state === TCP.LISTEN) return 0;
  const skb = ctlSkb(k, tp, flowOf(tp), tp.sndNxt, TCPHDR.ACK, 0);
  const ns = tcpTransmitSkb(k, tp, skb, cpu);
  consumeSkb(k, skb);
  return ns;
}

/** tcp_send_delayed_ack: ACK later (the delayed-ACK timer, ato bounded by TCP_DELACK_MAX). */
export function tcpSendDelayedAck(k: Kernel, tp: TcpSock): void {
  tp.ackPending = true;
  if (tp.delackTimer.pending !== 0) return;
  tcpResetDelackTimer(k, tp, Math.min(Math.max(tp.ackAtoNs, TCP_DELACK_MIN_NS), TCP_DELACK_MAX_NS));
}

/** tcp_connect: the SYN (tcp_connect_init set the sequence space); the RTO timer runs. */
export function tcpConnectXmit(k: Kernel, tp: TcpSock, cpu: Cpu, ioId: number): number {
  const skb = ctlSkb(k, tp, flowOf(tp), tp.writeSeq, TCPHDR.SYN, ioId);
  tp.writeSeq += 1;
  const ns = tcpTransmitSkb(k, tp, skb, cpu);
  tcpEventNewDataSent(k, tp, skb);
  return ns;
}

/** tcp_v4_send_synack: the listener answers a SYN from its request sock. */
export function tcpSendSynack(k: Kernel, listener: TcpSock, req: RequestSock, cpu: Cpu): number {
  const flow: FlowKey = { saddr: req.laddr, daddr: req.raddr, sport: listener.num, dport: req.rport };
  const skb = ctlSkb(k, listener, flow, req.snt_isn, TCPHDR.SYN | TCPHDR.ACK, 0);
  skb.tcp!.ackSeq = req.rcv_isn + 1;
  skb.tcp!.windowBytes = Math.min(listener.rcvbuf, TCP_MAX_SYN_WINDOW);
  skb.tcp!.mss = tcpAdvertiseMss(k, req.raddr);
  skb.lenBytes = 0;
  return TCP_XMIT_SKB_NS + Math.max(0, ipQueueXmit(k, skb, cpu));
}

/** tcp_send_fin: FIN on the tail of the write queue (or alone), then pushed. */
export function tcpSendFin(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  const tail = tp.writeQueue[tp.writeQueue.length - 1];
  if (tail !== undefined) {
    tail.tcp!.tcpFlags |= TCPHDR.FIN;
    tail.tcp!.endSeq += 1;
  } else {
    tp.writeQueue.push(ctlSkb(k, tp, flowOf(tp), tp.writeSeq, TCPHDR.FIN | TCPHDR.ACK, 0));
  }
  tp.writeSeq += 1;
  return tcpWriteXmit(k, tp, cpu, true);
}

/** The reason tcp_send_reset reports (enum sk_rst_reason): SK_RST_REASON_NO_SOCKET. */
export const SK_RST_REASON_NO_SOCKET = 1;

/** tcp_v4_send_reset: a RST answering a segment no socket takes (a SYN to a closed port). */
export function tcpV4SendReset(k: Kernel, skbIn: SkBuff, cpu: Cpu): number {
  const cb = skbIn.tcp!;
  if ((cb.tcpFlags & TCPHDR.RST) !== 0) return 0;
  const f = skbIn.flow;
  const flow: FlowKey = { saddr: f.daddr, daddr: f.saddr, sport: f.dport, dport: f.sport };
  const skb = ctlSkb(k, undefined, flow, (cb.tcpFlags & TCPHDR.ACK) !== 0 ? cb.ackSeq : 0, TCPHDR.RST | TCPHDR.ACK, skbIn.ioId);
  skb.tcp!.ackSeq = cb.endSeq;
  if (k.tp.tcp_send_reset.enabled) k.tp.tcp_send_reset.emit(cpu, skbIn.ioId, undefined, skbIn, SK_RST_REASON_NO_SOCKET);
  return TCP_XMIT_SKB_NS + Math.max(0, ipQueueXmit(k, skb, cpu));
}

/** enum sk_rst_reason's SK_RST_REASON_TCP_ABORT_ON_DATA (data for a closed socket) and _ON_CLOSE (close() with unread data). */
export const SK_RST_REASON_TCP_ABORT_ON_DATA = 8;
export const SK_RST_REASON_TCP_ABORT_ON_CLOSE = 11;

/** tcp_send_active_reset: a RST from our side of the connection (close with unread data). */
export function tcpSendActiveReset(k: Kernel, tp: TcpSock, cpu: Cpu, reason: number): number {
  const skb = ctlSkb(k, tp, flowOf(tp), tp.sndNxt, TCPHDR.RST | TCPHDR.ACK, 0);
  skb.tcp!.ackSeq = tp.rcvNxt;
  if (k.tp.tcp_send_reset.enabled) k.tp.tcp_send_reset.emit(cpu, 0, tp, skb, reason);
  return TCP_XMIT_SKB_NS + Math.max(0, ipQueueXmit(k, skb, cpu));
}

/** tcp_retransmit_skb: sends the queued segment again (the RTO timer's and SYN retries' path). */
export function tcpRetransmitSkb(k: Kernel, tp: TcpSock, skb: SkBuff, cpu: Cpu): number {
  const fn = k.fn.tcp_retransmit_skb;
  const segs = tcpSkbPcount(skb);
  if (fn.entry.enabled) fn.enter(cpu, skb.ioId, tp, skb, segs);
  skb.tcp!.retrans++;
  tp.retransOut += segs;
  tp.totalRetrans += segs;
  tp.bytesRetrans += skbPayload(skb);
  const ns = tcpTransmitSkb(k, tp, skb, cpu);
  if (k.tp.tcp_retransmit_skb.enabled) k.tp.tcp_retransmit_skb.emit(cpu, skb.ioId, tp, skb, 0);
  if (fn.ret.enabled) fn.exit(cpu, skb.ioId, 0);
  return ns;
}

/**
 * tcp_send_probe0 -> tcp_write_wakeup: with a window open, new data goes; with it closed, a
 * zero-length segment one below snd_una (tcp_xmit_probe_skb) makes the peer ACK its window.
 */
export function tcpSendProbe0(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  const fn = k.fn.tcp_send_probe0;
  if (fn.entry.enabled) fn.enter(cpu, 0, tp);
  let ns: number;
  const head = tp.writeQueue[0];
  const wndEnd = tp.sndUna + tp.sndWnd;
  if (head !== undefined && head.tcp!.seq < wndEnd) {
    // what is left of the window goes, cut to fit (tcp_write_wakeup's tcp_fragment)
    const seg = Math.min(wndEnd - head.tcp!.seq, skbPayload(head), tp.mssCache);
    if (seg < skbPayload(head)) tcpFragment(k, tp, head, seg);
    const skb = tp.writeQueue.shift()!;
    skb.tcp!.tcpFlags |= TCPHDR.PSH;
    ns = tcpTransmitSkb(k, tp, skb, cpu);
    tcpEventNewDataSent(k, tp, skb);
  } else {
    const skb = ctlSkb(k, tp, flowOf(tp), tp.sndUna - 1, TCPHDR.ACK, 0);
    ns = tcpTransmitSkb(k, tp, skb, cpu);
    consumeSkb(k, skb);
  }
  if (fn.ret.enabled) fn.exit(cpu, 0, 0);
  return ns;
}
