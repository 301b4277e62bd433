// Models: net/ipv4/tcp_input.c: what a received segment does to a connection. tcp_ack (snd_una
// advances, the retransmit queue is cleaned, an RTT sample feeds tcp_rtt_estimator and the RTO,
// the peer's window updates snd_wnd, the congestion window grows: slow start then Reno's additive
// increase, only while sending was cwnd-limited; a window that opens ends the zero-window probes;
// freed send space wakes writers and grows sndbuf), tcp_data_queue (in-order data to the receive
// queue within rcvbuf, sk_data_ready), FIN handling (tcp_fin), RST (tcp_reset), the ACK decision
// (__tcp_ack_snd_check: at once every second full segment, in quick-ack mode or for old data,
// else delayed), tcp_rcv_synsent_state_process and tcp_rcv_state_process's transitions.
// SIMPLIFICATION: no out-of-order queue, SACK or fast retransmit: a segment beyond rcv_nxt is
// dropped with a duplicate ACK and the sender's RTO repairs the hole.

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import { TCPHDR, type SkBuff } from '../skbuff.js';
import { consumeSkb, kfreeSkb, sliceFrags } from '../core/skbuff.js';
import { skStreamIsWriteable, TCP, SEND_SHUTDOWN, RCV_SHUTDOWN, SOCK_SNDBUF_LOCK } from '../sock.js';
import { TCP_ATO_MIN_NS, TCP_INIT_CWND, TCP_MAX_QUICKACKS, TCP_RTO_MAX_NS, TCP_RTO_MIN_NS, TCP_SKB_OVERHEAD_BYTES, type TcpSock } from '../tcp_sock.js';
import { SK_RST_REASON_TCP_ABORT_ON_DATA, skbPayload, tcpPeerMss, tcpReceiveWindow, tcpSelectWindowRaw, tcpSendActiveReset, tcpSendAck, tcpSendDelayedAck, tcpSkbPcount, tcpWriteXmit, tcpXmitRetransmitQueue } from './tcp_output.js';
import { inetCskClearXmitTimer, inetCskResetXmitTimer } from './tcp_timer.js';
import { ICSK_TIME } from '../tcp_sock.js';
import { tcpDone, tcpSetState, tcpTimeWait } from './tcp.js';
import { ECONNREFUSED, ECONNRESET, EPIPE } from '../../uapi/errno.js';

/** tcp_rtt_estimator + tcp_set_rto (RFC 6298): srtt += (m - srtt)/8, mdev += (|err| - mdev)/4, RTO = srtt + 4 mdev (at least 200 ms). */
export function tcpRttEstimator(tp: TcpSock, mUs: number): void {
  const m = Math.max(1, Math.round(mUs));
  if (tp.srttUs === 0) {
    tp.srttUs = m << 3;
    tp.mdevUs = m << 1;
    tp.rttvarUs = Math.max(tp.mdevUs, TCP_RTO_MIN_NS / 1000);
  } else {
    const err = m - (tp.srttUs >> 3);
    tp.srttUs += err;
    const aerr = Math.abs(err);
    tp.mdevUs += (aerr - (tp.mdevUs >> 2)) | 0;
    tp.rttvarUs = Math.max(tp.mdevUs, TCP_RTO_MIN_NS / 1000);
  }
  // __tcp_set_rto: srtt + rttvar, where rttvar >= tcp_rto_min
  tp.rtoNs = Math.min(((tp.srttUs >> 3) + tp.rttvarUs) * 1000, TCP_RTO_MAX_NS);
}

/** tcp_reno_cong_avoid: slow start below ssthresh (tcp_slow_start), then +1 MSS per cwnd of ACKs. */
function tcpCongAvoid(tp: TcpSock, acked: number): void {
  // tcp_is_cwnd_limited: in slow start while cwnd < 2 x the packets out; after, if sending hit cwnd
  const limited = tp.sndCwnd < tp.sndSsthresh ? tp.sndCwnd < 2 * tp.maxPacketsOut : tp.isCwndLimited;
  if (!limited) return;
  let left = acked;
  if (tp.sndCwnd < tp.sndSsthresh) {
    const cwnd = Math.min(tp.sndCwnd + left, tp.sndSsthresh);
    left -= cwnd - tp.sndCwnd;
    tp.sndCwnd = cwnd;
    if (left <= 0) return;
  }
  // tcp_cong_avoid_ai
  tp.sndCwndCnt += left;
  if (tp.sndCwndCnt >= tp.sndCwnd) {
    const delta = Math.floor(tp.sndCwndCnt / tp.sndCwnd);
    tp.sndCwndCnt -= delta * tp.sndCwnd;
    tp.sndCwnd += delta;
  }
}

/**
 * tcp_sndbuf_expand: the send buffer follows the congestion window (2 x cwnd segments with their
 * overhead), bounded by tcp_wmem[2]; not when the user fixed SO_SNDBUF.
 */
export function tcpSndbufExpand(k: Kernel, tp: TcpSock): void {
  if ((tp.userlocks & SOCK_SNDBUF_LOCK) !== 0) return;
  const perMss = tp.mssCache + TCP_SKB_OVERHEAD_BYTES;
  const sndmem = 2 * Math.max(tp.sndCwnd, TCP_INIT_CWND) * perMss;
  const buf = Math.min(sndmem, k.net.sysctl.tcpWmem[2]);
  if (buf > tp.sndbuf) tp.sndbuf = buf;
}

/**
 * tcp_ack: processes the acknowledgment and window in `skb`. Returns whether it acknowledged
 * new data (FLAG_SND_UNA_ADVANCED).
 */
function tcpAck(k: Kernel, tp: TcpSock, skb: SkBuff, cpu: Cpu): { advanced: boolean; ns: number } {
  const cb = skb.tcp!;
  const ack = cb.ackSeq;
  let ns = 0;
  if (ack > tp.sndNxt || ack < tp.sndUna) return { advanced: false, ns };
  // tcp_ack_update_window
  const nwin = cb.windowBytes;
  const windowOpened = tp.sndWnd === 0 && nwin > 0;
  if (ack > tp.sndUna || cb.seq > tp.sndWl1 || (cb.seq === tp.sndWl1 && nwin !== tp.sndWnd)) {
    tp.sndWnd = nwin;
    tp.sndWl1 = cb.seq;
    if (nwin > tp.maxWindow) tp.maxWindow = nwin;
  }
  const advanced = ack > tp.sndUna;
  if (advanced) {
    // tcp_clean_rtx_queue
    let ackedPkts = 0;
    let rttSampleNs = -1;
    while (tp.rtxQueue.length > 0) {
      const head = tp.rtxQueue[0]!;
      const hcb = head.tcp!;
      if (hcb.endSeq > ack) {
        // partial ACK of a GSO skb: trim the acknowledged head (tcp_trim_head)
        const trimmed = ack - hcb.seq;
        if (trimmed > 0) {
          const before = tcpSkbPcountOf(tp, head);
          head.lenBytes -= trimmed;
          if (head.dataLenBytes > 0) {
            // tcp_trim_head -> __pskb_trim_head: the acknowledged bytes leave the frags
            head.frags = sliceFrags(head.frags, trimmed, head.dataLenBytes - trimmed);
            head.dataLenBytes -= trimmed;
          }
          hcb.seq = ack;
          tp.wmemQueued -= trimmed;
          const after = tcpSkbPcountOf(tp, head);
          ackedPkts += before - after;
          tp.packetsOut -= before - after;
        }
        break;
      }
      tp.rtxQueue.shift();
      const pcount = tcpSkbPcountOf(tp, head);
      ackedPkts += pcount;
      tp.packetsOut -= pcount;
      if (hcb.endSeq <= tp.highSeq) tp.lostOut = Math.max(0, tp.lostOut - pcount);
      if (hcb.retrans > 0) tp.retransOut = Math.max(0, tp.retransOut - pcount);
      else if (rttSampleNs < 0) rttSampleNs = k.env.nowNs - hcb.whenNs;
      tp.wmemQueued -= skbPayload(head);
      consumeSkb(k, head);
    }
    tp.bytesAcked += ack - tp.sndUna;
    tp.sndUna = ack;
    tp.retransmits = 0;
    if (rttSampleNs >= 0) {
      tcpRttEstimator(tp, rttSampleNs / 1000);
      tp.backoff = 0;
    }
    tcpCongAvoid(tp, ackedPkts);
    // loss recovery: over once snd_una passes high_seq, else the next lost segments go
    if (tp.highSeq > 0) {
      if (tp.sndUna >= tp.highSeq) {
        tp.highSeq = 0;
        tp.lostOut = 0;
        tp.retransOut = 0;
      } else ns += tcpXmitRetransmitQueue(k, tp, cpu);
    }
    // tcp_rearm_rto
    if (tp.packetsOut === 0) inetCskClearXmitTimer(tp);
    else inetCskResetXmitTimer(k, tp, ICSK_TIME.RETRANS, tp.rtoNs);
    // tcp_new_space -> sk_stream_write_space
    tcpSndbufExpand(k, tp);
    if (skStreamIsWriteable(tp)) tp.writeSpace(tp);
  }
  // tcp_ack_probe: a window that lets the next segment go ends the persist timer
  if (tp.retransmitTimer.pending === ICSK_TIME.PROBE0 && (windowOpened || advanced)) {
    const head = tp.writeQueue[0];
    if (head === undefined || head.tcp!.seq + Math.min(skbPayload(head), tp.mssCache) <= tp.sndUna + tp.sndWnd) {
      inetCskClearXmitTimer(tp);
      tp.backoff = 0;
      tp.probesOut = 0;
    }
  }
  // tcp_data_snd_check
  if (tp.writeQueue.length > 0) ns += tcpWriteXmit(k, tp, cpu);
  return { advanced, ns };
}

function tcpSkbPcountOf(tp: TcpSock, skb: SkBuff): number {
  return Math.max(1, Math.ceil(skbPayload(skb) / tp.mssCache));
}

/** tcp_incr_quickack: ACK the next segments at once (up to half the window's worth, at most `max`). */
export function tcpIncrQuickack(tp: TcpSock, max: number): void {
  const quickacks = Math.min(Math.floor(tp.rcvWnd / (2 * tp.rcvMss)) || 2, max);
  if (quickacks > tp.ackQuick) tp.ackQuick = quickacks;
}

/**
 * tcp_event_data_recv: the peer's MSS estimate (tcp_measure_rcv_mss) and the ack timeout: the first
 * data starts quick-ack mode at TCP_ATO_MIN; then ato follows the gaps between arrivals, and a gap
 * longer than the RTO (a sender that stalled) goes back to quick ACKs.
 */
function tcpEventDataRecv(k: Kernel, tp: TcpSock, len: number): void {
  if (len > tp.rcvMss) tp.rcvMss = len;
  const now = k.env.nowNs;
  if (tp.ackAtoNs === 0) {
    tcpIncrQuickack(tp, TCP_MAX_QUICKACKS);
    tp.ackAtoNs = TCP_ATO_MIN_NS;
  } else {
    const m = now - tp.ackLrcvtimeNs;
    if (m <= TCP_ATO_MIN_NS / 2) tp.ackAtoNs = tp.ackAtoNs / 2 + TCP_ATO_MIN_NS / 2;
    else if (m < tp.ackAtoNs) tp.ackAtoNs = Math.min(tp.ackAtoNs / 2 + m, tp.rtoNs);
    else if (m > tp.rtoNs) tcpIncrQuickack(tp, TCP_MAX_QUICKACKS);
  }
  tp.ackLrcvtimeNs = now;
}

/** tcp_data_queue: in-order payload into the receive queue; returns whether an ACK must go now. */
function tcpDataQueue(k: Kernel, tp: TcpSock, skb: SkBuff, cpu: Cpu): boolean {
  const cb = skb.tcp!;
  const len = skbPayload(skb);
  if (len === 0) return false;
  if (cb.seq !== tp.rcvNxt) {
    // old data (a retransmission, a zero-window probe's byte) or a hole: ACK what we have
    kfreeSkb(k, skb, cb.seq < tp.rcvNxt ? 'TCP_OLD_DATA' : 'TCP_OFO_DROP');
    return true;
  }
  if (tcpReceiveWindow(tp) === 0 && cb.seq >= tp.rcvPromisedEdge) {
    kfreeSkb(k, skb, 'TCP_ZEROWINDOW');
    return true;
  }
  // tcp_try_rmem_schedule: the receive buffer must hold it. What the window promised is taken:
  // SIMPLIFICATION: the window's rounding to its scale unit stands in for Linux's truesize slack
  if (tp.rmemAlloc + len > tp.rcvbuf + (1 << tp.rcvWscale)) {
    if (k.tp.sock_rcvqueue_full.enabled) k.tp.sock_rcvqueue_full.emit(cpu, skb.ioId, tp, len);
    kfreeSkb(k, skb, 'PROTO_MEM');
    return true;
  }
  tp.receiveQueue.push(skb);
  tp.rmemAlloc += len;
  tp.rcvNxt += len;
  tp.bytesReceived += len;
  tp.dataSegsIn += tcpSkbPcount(skb);
  tcpEventDataRecv(k, tp, skb.gsoSize > 0 ? skb.gsoSize : len);
  tp.ackPending = true;
  tp.dataReady(tp);
  return false;
}

/** __tcp_ack_snd_check: every second full segment (with the window moving on), quick-ack mode, or later. */
function tcpAckSndCheck(k: Kernel, tp: TcpSock, cpu: Cpu, now: boolean): number {
  if (!tp.ackPending && !now) return 0;
  if (now || (tp.rcvNxt - tp.rcvWup > tp.rcvMss && tcpSelectWindowRaw(tp) >= tp.rcvWnd) || tp.ackQuick > 0) return tcpSendAck(k, tp, cpu);
  tcpSendDelayedAck(k, tp);
  return 0;
}

/** tcp_fin: the peer will send no more. */
function tcpFin(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  tp.shutdown |= RCV_SHUTDOWN;
  // tcp_rcv_nxt_update: the FIN's sequence number counts in bytes_received, as in Linux
  tp.rcvNxt += 1;
  tp.bytesReceived += 1;
  let ns = 0;
  switch (tp.state) {
    case TCP.SYN_RECV:
    case TCP.ESTABLISHED:
      tcpSetState(k, tp, TCP.CLOSE_WAIT, cpu);
      break;
    case TCP.FIN_WAIT1:
      // simultaneous close
      ns += tcpSendAck(k, tp, cpu);
      tcpSetState(k, tp, TCP.CLOSING, cpu);
      break;
    case TCP.FIN_WAIT2:
      ns += tcpSendAck(k, tp, cpu);
      tcpTimeWait(k, tp, cpu);
      return ns;
    default:
      break;
  }
  if (!tp.dead) {
    tp.stateChange(tp);
    tp.dataReady(tp);
  }
  return ns + tcpSendAck(k, tp, cpu);
}

/** tcp_reset: the peer reset the connection. */
function tcpReset(k: Kernel, tp: TcpSock, cpu: Cpu): void {
  if (k.tp.tcp_receive_reset.enabled) k.tp.tcp_receive_reset.emit(cpu, 0, tp);
  tp.err = tp.state === TCP.SYN_SENT ? ECONNREFUSED : tp.state === TCP.CLOSE_WAIT ? EPIPE : ECONNRESET;
  tcpDone(k, tp, cpu);
}

/**
 * tcp_rcv_established and tcp_rcv_state_process for a socket past LISTEN: the segment's ACK,
 * data and FIN, and the state transitions they cause. Returns CPU ns beyond the receive cost.
 */
export function tcpRcvStateProcess(k: Kernel, tp: TcpSock, skb: SkBuff, cpu: Cpu): number {
  const cb = skb.tcp!;
  let ns = 0;
  tp.segsIn += tcpSkbPcount(skb);
  tp.cpu = cpu.id;
  if ((cb.tcpFlags & TCPHDR.RST) !== 0) {
    tcpReset(k, tp, cpu);
    consumeSkb(k, skb);
    return 0;
  }
  if (tp.state === TCP.SYN_SENT) return tcpRcvSynsentStateProcess(k, tp, skb, cpu);
  const fn = k.fn.tcp_rcv_established;
  const established = tp.state === TCP.ESTABLISHED;
  if (established && fn.entry.enabled) fn.enter(cpu, skb.ioId, tp, skb);
  if (established && k.tp.tcp_probe.enabled) k.tp.tcp_probe.emit(cpu, skb.ioId, tp, skb);
  if ((cb.tcpFlags & TCPHDR.ACK) !== 0) {
    const r = tcpAck(k, tp, skb, cpu);
    ns += r.ns;
    const finAcked = tp.sndUna === tp.writeSeq && tp.writeQueue.length === 0;
    switch (tp.state) {
      case TCP.FIN_WAIT1:
        if (finAcked) {
          tcpSetState(k, tp, TCP.FIN_WAIT2, cpu);
          tp.shutdown |= SEND_SHUTDOWN;
          // an orphan does not wait for the peer's FIN in FIN_WAIT2: the timewait sock will
          if (tp.dead && (cb.tcpFlags & TCPHDR.FIN) === 0) {
            tcpTimeWait(k, tp, cpu);
            consumeSkb(k, skb);
            return ns;
          }
          if (!tp.dead) tp.stateChange(tp);
        }
        break;
      case TCP.CLOSING:
        if (finAcked) {
          tcpTimeWait(k, tp, cpu);
          consumeSkb(k, skb);
          return ns;
        }
        break;
      case TCP.LAST_ACK:
        if (finAcked) {
          tcpDone(k, tp, cpu);
          consumeSkb(k, skb);
          return ns;
        }
        break;
      default:
        break;
    }
  }
  let ackNow = false;
  const payload = skbPayload(skb);
  const fin = (cb.tcpFlags & TCPHDR.FIN) !== 0;
  if (payload > 0 && tp.dead && cb.endSeq - (fin ? 1 : 0) > tp.rcvNxt) {
    // new data for a socket the application closed: nobody can read it, so reset
    ns += tcpSendActiveReset(k, tp, cpu, SK_RST_REASON_TCP_ABORT_ON_DATA);
    tcpDone(k, tp, cpu);
    consumeSkb(k, skb);
    return ns;
  }
  if (payload > 0) ackNow = tcpDataQueue(k, tp, skb, cpu);
  else if (!fin && cb.seq < tp.rcvNxt) ackNow = true; // a zero-window probe (seq = snd_una - 1): answer with the window
  if (fin && cb.endSeq - 1 === tp.rcvNxt) {
    ns += tcpFin(k, tp, cpu);
    ackNow = false;
  } else {
    // a segment we already have (our ACK was lost: a retransmitted FIN or data): ACK it again
    if (cb.endSeq > cb.seq && cb.endSeq <= tp.rcvNxt) ackNow = true;
    if (tp.state !== TCP.CLOSE) ns += tcpAckSndCheck(k, tp, cpu, ackNow);
  }
  if (payload === 0 || ackNow) consumeSkb(k, skb);
  if (established && fn.ret.enabled) fn.exit(cpu, skb.ioId, 0);
  return ns;
}

/** tcp_rcv_synsent_state_process: the SYN-ACK completes our connect(). */
function tcpRcvSynsentStateProcess(k: Kernel, tp: TcpSock, skb: SkBuff, cpu: Cpu): number {
  const cb = skb.tcp!;
  consumeSkb(k, skb);
  if ((cb.tcpFlags & (TCPHDR.SYN | TCPHDR.ACK)) !== (TCPHDR.SYN | TCPHDR.ACK) || cb.ackSeq !== tp.writeSeq) return 0;
  const synSent = tp.rtxQueue.shift();
  if (synSent !== undefined) {
    if (synSent.tcp!.retrans === 0) tcpRttEstimator(tp, (k.env.nowNs - synSent.tcp!.whenNs) / 1000);
    consumeSkb(k, synSent);
  }
  tp.packetsOut = 0;
  tp.retransmits = 0;
  tp.backoff = 0;
  inetCskClearXmitTimer(tp);
  // tcp_ack -> tcp_snd_una_update: the SYN's sequence number counts in bytes_acked
  tp.bytesAcked += cb.ackSeq - tp.sndUna;
  tp.sndUna = cb.ackSeq;
  tp.sndNxt = cb.ackSeq;
  tp.sndSml = cb.ackSeq;
  tp.rcvNxt = cb.seq + 1;
  tp.copiedSeq = tp.rcvNxt;
  tp.rcvWup = tp.rcvNxt;
  tp.sndWnd = cb.windowBytes;
  tp.sndWl1 = cb.seq;
  tp.maxWindow = cb.windowBytes;
  // the SYN-ACK's MSS option: no segment larger than the peer takes
  tp.mssCache = Math.min(tp.mssCache, tcpPeerMss(cb));
  tcpInitTransfer(k, tp);
  tcpSetState(k, tp, TCP.ESTABLISHED, cpu);
  tp.stateChange(tp);
  tp.writeSpace(tp);
  return tcpSendAck(k, tp, cpu);
}

/** tcp_init_transfer / tcp_init_buffer_space: buffers and receive autotuning start once connected. */
export function tcpInitTransfer(k: Kernel, tp: TcpSock): void {
  tcpSndbufExpand(k, tp);
  tp.rcvqSpace = { space: Math.min(tp.rcvWnd, 10 * tp.mssCache), seq: tp.copiedSeq, timeNs: k.env.nowNs };
  tp.sndCwnd = TCP_INIT_CWND;
}
