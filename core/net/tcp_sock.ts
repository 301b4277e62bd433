// Models: include/linux/tcp.h (struct tcp_sock), include/net/inet_connection_sock.h (the icsk_*
// fields: retransmit/probe and delayed-ACK timers, RTO, backoff, the accept queue) and the
// constants of include/net/tcp.h: one TCP endpoint's sequence space, windows, congestion state
// and RTT estimate. The algorithms that change them are in core/net/ipv4/tcp*.ts.
// SIMPLIFICATION: sequence numbers are plain integers from the ISN on, never wrapping at 2^32
// (tracepoints show them modulo 2^32 as __u32).

import type { Kernel } from '../kernel/kernel.js';
import type { SkBuff } from './skbuff.js';
import { Sock, type Proto } from './sock.js';

/** TCP_INIT_CWND (RFC 6928). */
export const TCP_INIT_CWND = 10;
/** TCP_INFINITE_SSTHRESH */
export const TCP_INFINITE_SSTHRESH = 0x7fffffff;
/** TCP_TIMEOUT_INIT (1 s, RFC 6298), TCP_RTO_MIN (200 ms), TCP_RTO_MAX (120 s). */
export const TCP_TIMEOUT_INIT_NS = 1_000_000_000;
export const TCP_RTO_MIN_NS = 200_000_000;
export const TCP_RTO_MAX_NS = 120_000_000_000;
/** TCP_DELACK_MIN (HZ/25 = 40 ms) and TCP_DELACK_MAX (HZ/5 = 200 ms): the delayed-ACK timer's range. */
export const TCP_DELACK_MIN_NS = 40_000_000;
export const TCP_DELACK_MAX_NS = 200_000_000;
/** TCP_ATO_MIN: the smallest ack timeout (HZ/25). */
export const TCP_ATO_MIN_NS = 40_000_000;
/** TCP_TIMEWAIT_LEN (60 s): how long a closed connection's TIME_WAIT lasts. */
export const TCP_TIMEWAIT_LEN_NS = 60_000_000_000;
/** net.ipv4.tcp_retries2 / tcp_syn_retries: retransmissions before giving up. */
export const TCP_RETRIES2 = 15;
export const TCP_SYN_RETRIES = 6;
/** TCP_MAX_QUICKACKS: segments ACKed at once after the connection starts (quick-ack mode). */
export const TCP_MAX_QUICKACKS = 16;
/** The window scale Linux picks for tcp_rmem[2] = 6 MiB (tcp_select_initial_window). */
export const TCP_DEFAULT_WSCALE = 7;
/** The largest window a SYN can carry (no scaling in SYN segments). */
export const TCP_MAX_SYN_WINDOW = 65535;
/** MAX_TCP_HEADER + skb overhead per segment in the send buffer (tcp_sndbuf_expand's per_mss). */
export const TCP_SKB_OVERHEAD_BYTES = 576;

/** inet_connection_sock's timer kinds (ICSK_TIME_*). */
export const ICSK_TIME = { RETRANS: 1, DACK: 2, PROBE0: 3 } as const;

/** A timer of the socket: armed until expiresNs; re-arming or clearing bumps gen (lazy cancel). */
export interface SkTimer {
  pending: number;
  expiresNs: number;
  gen: number;
}

/** A half-open connection on a listener (struct request_sock, TCP_NEW_SYN_RECV). */
export interface RequestSock {
  readonly raddr: number;
  readonly rport: number;
  readonly laddr: number;
  /** Our ISN (the SYN-ACK's sequence number) and the peer's. */
  readonly snt_isn: number;
  readonly rcv_isn: number;
  /** The window the peer's SYN advertised, and its MSS option. */
  readonly peerWindow: number;
  readonly peerMss: number;
  /** When the SYN-ACK went (the handshake's RTT sample). */
  readonly sentNs: number;
}

/** struct tcp_sock (with inet_connection_sock's fields). */
export class TcpSock extends Sock {
  // ---- sending ----
  /** Tail of the data the user wrote (write_seq), first unacked (snd_una), next to send (snd_nxt). */
  writeSeq = 0;
  sndUna = 0;
  sndNxt = 0;
  /** End of the last sub-MSS segment sent (snd_sml): Minshall's Nagle holds a small segment only while that one is unacked. */
  sndSml = 0;
  /** The peer's advertised window in bytes, and the largest it ever advertised. */
  sndWnd = 0;
  maxWindow = 0;
  /** Sequence of the segment that last updated snd_wnd (snd_wl1). */
  sndWl1 = 0;
  /** mss_cache: the current MSS (payload bytes per segment). */
  mssCache = 536;
  /** The MSS the peer announced in its SYN (rx_opt.mss_clamp). */
  mssClamp = 65535;
  sndCwnd = TCP_INIT_CWND;
  sndSsthresh = TCP_INFINITE_SSTHRESH;
  /** Acked packets counted toward the next additive increase (snd_cwnd_cnt). */
  sndCwndCnt = 0;
  /** Segments sent and not acked (packets_out), retransmitted and not acked (retrans_out), marked lost (lost_out). */
  packetsOut = 0;
  retransOut = 0;
  lostOut = 0;
  /** high_seq: snd_nxt when loss recovery began (0: not recovering); retransmit_high: retransmitted up to. */
  highSeq = 0;
  retransmitHigh = 0;
  totalRetrans = 0;
  /** The most packets out during the current window, and whether sending was cwnd-limited. */
  maxPacketsOut = 0;
  cwndUsageSeq = 0;
  isCwndLimited = false;
  /** Segments sent and ACKed, sent in total (for tcp_info and tools). */
  segsOut = 0;
  segsIn = 0;
  dataSegsOut = 0;
  dataSegsIn = 0;
  /** bytes_acked: bytes of ours the peer acknowledged; bytes_sent: sent, retransmissions included. */
  bytesAcked = 0;
  bytesSent = 0;
  bytesRetrans = 0;
  /** TCP_NODELAY (nonagle) */
  nodelay = false;
  /** Unsent skbs (sk_write_queue) and sent-but-unacked ones (tcp_rtx_queue). */
  readonly writeQueue: SkBuff[] = [];
  readonly rtxQueue: SkBuff[] = [];
  // ---- RTT and retransmission ----
  /** Smoothed RTT << 3 and mean deviation (tcp_rtt_estimator's srtt_us, mdev_us, rttvar_us), µs. */
  srttUs = 0;
  mdevUs = 0;
  rttvarUs = 0;
  /** icsk_rto */
  rtoNs = TCP_TIMEOUT_INIT_NS;
  /** icsk_backoff (exponential backoff of RTO and zero-window probes) and icsk_retransmits. */
  backoff = 0;
  retransmits = 0;
  /** icsk_probes_out: zero-window probes unanswered. */
  probesOut = 0;
  /** icsk_retransmit_timer: ICSK_TIME_RETRANS or ICSK_TIME_PROBE0 (icsk_pending). */
  readonly retransmitTimer: SkTimer = { pending: 0, expiresNs: 0, gen: 0 };
  /** icsk_delack_timer */
  readonly delackTimer: SkTimer = { pending: 0, expiresNs: 0, gen: 0 };
  // ---- receiving ----
  /** Next sequence expected (rcv_nxt), next to copy to the user (copied_seq). */
  rcvNxt = 0;
  copiedSeq = 0;
  /** rcv_wup: rcv_nxt when the window was last advertised; rcv_wnd: that window. */
  rcvWup = 0;
  rcvWnd = 0;
  /** The furthest right edge (rcv_nxt + window) any segment advertised: never taken back. */
  rcvPromisedEdge = 0;
  /** window_clamp: the largest window to advertise; rcv_ssthresh: the current growth cap. */
  windowClamp = 0;
  rcvSsthresh = 0;
  /** rx_opt.rcv_wscale / snd_wscale */
  rcvWscale = TCP_DEFAULT_WSCALE;
  sndWscale = TCP_DEFAULT_WSCALE;
  /** bytes_received: payload bytes the peer sent that we took in order. */
  bytesReceived = 0;
  /** icsk_ack: pending ACK (ICSK_ACK_SCHED), quick-ack credit, the ato and the peer's MSS estimate. */
  ackPending = false;
  ackQuick = 0;
  /** icsk_ack.ato: the delayed-ACK timeout (0 until the first data arrives). */
  ackAtoNs = 0;
  /** icsk_ack.lrcvtime: when data last arrived. */
  ackLrcvtimeNs = 0;
  rcvMss = 536;
  /** rcvq_space: receive autotuning's per-RTT sample (bytes copied, from which sequence, since when). */
  rcvqSpace = { space: 0, seq: 0, timeNs: 0 };
  /** rcv_rtt_est: the receiver's RTT estimate in µs (0: none yet). */
  rcvRttUs = 0;
  // ---- listening ----
  /** icsk_accept_queue: established children not yet accepted, and the half-open requests. */
  readonly acceptQueue: TcpSock[] = [];
  readonly synQueue: RequestSock[] = [];
  /** sock_owned_by_user: a task is inside a socket call (lock_sock); segments wait in the backlog. */
  ownedByUser = false;
  /** sk_backlog: segments that arrived while the socket was owned, processed at release_sock. */
  readonly backlog: SkBuff[] = [];
  /** Its port is counted in the bind hash (inet_bind_bucket). */
  bindHashed = false;
  /** Closed but still hashed as a TIME_WAIT endpoint (ACKs the peer's FIN retransmissions). */
  timeWait = false;
  /** The listener a child came from (until accept takes it). */
  parent: TcpSock | undefined;
  /** When the connection was born (for tools; the SYN's time). */
  readonly createdNs: number;

  constructor(k: Kernel, prot: Proto) {
    super(k, prot);
    this.createdNs = k.env.nowNs;
  }
}
