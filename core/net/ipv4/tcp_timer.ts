// Models: net/ipv4/tcp_timer.c and inet_connection_sock.h's timer helpers: the retransmission
// timer (tcp_retransmit_timer: RTO backoff, loss -> cwnd 1 and ssthresh halved, SYN retries,
// giving up after tcp_retries2 / tcp_syn_retries), the persist timer (tcp_probe_timer: zero-window
// probes with exponential backoff), and the delayed-ACK timer (tcp_delack_timer). Timers expire
// into TIMER_SOFTIRQ on the socket's CPU, where their handlers run.
// SIMPLIFICATION: the timer tick itself is not an interrupt; expiry raises the softirq directly.
// SIMPLIFICATION: an RTO retransmits the head segment only (no loss marking of the whole queue).

import type { Kernel } from '../../kernel/kernel.js';
import { SOFTIRQ, type Cpu } from '../../kernel/sched/core.js';
import { Priority } from '../../sim/engine.js';
import { TCP_TIMER_NS } from '../../hw/cpu.js';
import { TCP } from '../sock.js';
import { ICSK_TIME, TCP_RETRIES2, TCP_RTO_MAX_NS, TCP_SYN_RETRIES, type SkTimer, type TcpSock } from '../tcp_sock.js';
import { tcpRetransmitSkb, tcpSendAck, tcpSendProbe0, tcpProbe0WhenNs } from './tcp_output.js';
import { tcpWriteErr } from './tcp.js';
import { ETIMEDOUT } from '../../uapi/errno.js';

interface TimerArm {
  readonly k: Kernel;
  readonly tp: TcpSock;
  readonly timer: SkTimer;
  readonly gen: number;
}

function timerExpired(a: TimerArm): void {
  if (a.timer.gen !== a.gen || a.timer.pending === 0) return;
  const cpu = a.k.sched.cpu(a.tp.cpu);
  a.k.sched.raiseSoftirq(cpu, { vec: SOFTIRQ.TIMER, ioId: 0, costNs: TCP_TIMER_NS, handler: (c) => runTimer(a, c) });
}

function runTimer(a: TimerArm, cpu: Cpu): number {
  const { k, tp, timer } = a;
  if (timer.gen !== a.gen || timer.pending === 0) return 0;
  const what = timer.pending;
  timer.pending = 0;
  if (timer === tp.delackTimer) return tcpDelackTimer(k, tp, cpu);
  if (what === ICSK_TIME.PROBE0) return tcpProbeTimer(k, tp, cpu);
  return tcpRetransmitTimer(k, tp, cpu);
}

function arm(k: Kernel, tp: TcpSock, timer: SkTimer, what: number, delayNs: number): void {
  timer.pending = what;
  timer.gen++;
  timer.expiresNs = k.env.nowNs + delayNs;
  const a: TimerArm = { k, tp, timer, gen: timer.gen };
  k.env.after(Math.max(1, Math.round(delayNs)), Priority.NORMAL, timerExpired, a);
}

/** inet_csk_reset_xmit_timer: ICSK_TIME_RETRANS or ICSK_TIME_PROBE0, capped at TCP_RTO_MAX. */
export function inetCskResetXmitTimer(k: Kernel, tp: TcpSock, what: number, delayNs: number): void {
  arm(k, tp, tp.retransmitTimer, what, Math.min(delayNs, TCP_RTO_MAX_NS));
}

/** inet_csk_clear_xmit_timer */
export function inetCskClearXmitTimer(tp: TcpSock): void {
  tp.retransmitTimer.pending = 0;
  tp.retransmitTimer.gen++;
}

/** The delayed-ACK timer (ICSK_TIME_DACK). */
export function tcpResetDelackTimer(k: Kernel, tp: TcpSock, delayNs: number): void {
  arm(k, tp, tp.delackTimer, ICSK_TIME.DACK, delayNs);
}

/** inet_csk_clear_xmit_timers: every timer of a closing socket. */
export function inetCskClearXmitTimers(tp: TcpSock): void {
  inetCskClearXmitTimer(tp);
  tp.delackTimer.pending = 0;
  tp.delackTimer.gen++;
}

/** tcp_delack_timer_handler: the pending ACK goes now; the next ato grows (up to the RTO). */
function tcpDelackTimer(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  if (!tp.ackPending || tp.state === TCP.CLOSE) return 0;
  tp.ackAtoNs = Math.min(tp.ackAtoNs * 2, tp.rtoNs);
  return tcpSendAck(k, tp, cpu);
}

/** tcp_retransmit_timer: the oldest unacknowledged segment again, the RTO doubled. */
function tcpRetransmitTimer(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  const head = tp.rtxQueue[0];
  if (head === undefined || tp.state === TCP.CLOSE) return 0;
  const limit = tp.state === TCP.SYN_SENT ? TCP_SYN_RETRIES : TCP_RETRIES2;
  if (tp.retransmits >= limit) {
    // tcp_write_timeout -> tcp_write_err: the connection is dead
    tcpWriteErr(k, tp, ETIMEDOUT, cpu);
    return 0;
  }
  if (tp.state !== TCP.SYN_SENT && tp.retransmits === 0) {
    // tcp_enter_loss: the window collapses to one segment (Reno's ssthresh is half of cwnd)
    tp.sndSsthresh = Math.max(tp.sndCwnd >> 1, 2);
    tp.sndCwnd = 1;
    tp.sndCwndCnt = 0;
  }
  const ns = tcpRetransmitSkb(k, tp, head, cpu);
  tp.retransmits++;
  tp.backoff++;
  inetCskResetXmitTimer(k, tp, ICSK_TIME.RETRANS, Math.min(tp.rtoNs * 2 ** tp.backoff, TCP_RTO_MAX_NS));
  return ns;
}

/** tcp_probe_timer: a zero-window probe while the peer's window stays shut; backoff doubles. */
function tcpProbeTimer(k: Kernel, tp: TcpSock, cpu: Cpu): number {
  if (tp.packetsOut > 0 || tp.writeQueue.length === 0 || tp.state === TCP.CLOSE) {
    tp.probesOut = 0;
    tp.backoff = 0;
    return 0;
  }
  const ns = tcpSendProbe0(k, tp, cpu);
  if (tp.packetsOut > 0 || tp.writeQueue.length === 0) {
    // the probe carried data: the window was open after all
    tp.probesOut = 0;
    tp.backoff = 0;
    return ns;
  }
  tp.probesOut++;
  if (tp.backoff < TCP_RETRIES2) tp.backoff++;
  inetCskResetXmitTimer(k, tp, ICSK_TIME.PROBE0, tcpProbe0WhenNs(tp));
  return ns;
}
