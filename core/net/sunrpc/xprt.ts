// Models: net/sunrpc/xprt.c and include/linux/sunrpc/xprt.h: struct rpc_xprt with its ops table
// (struct rpc_xprt_ops: the transport that sends a request and delivers the reply), the slot
// table (struct rpc_rqst slots: tcp_slot_table_entries = 2 preallocated, grown on demand up to
// tcp_max_slot_table_entries = 65536; past that a task waits on the backlog queue), xids, the
// transport write lock (one sender at a time: xprt_reserve_xprt / xprt_release_xprt), the
// receive side's xprt_lookup_rqst / xprt_complete_rqst, write space (xprt_write_space), and
// retransmit timeouts (xprt_adjust_timeout: linear backoff for TCP, major timeout after retrans
// minor ones).
// SIMPLIFICATION: no congestion window (TCP transports have none either; UDP's is not modelled)
// and no rpcbind: the transport is given the server's port.

import type { Kernel } from '../../kernel/kernel.js';
import { EAGAIN, ENOTCONN, ETIMEDOUT } from '../../uapi/errno.js';
import { rpcSleepOn, rpcWakeUpNext, rpcWakeUpQueuedTask, RpcWaitQueue, RPC_TASK_NEED_RECV, RPC_TASK_NEED_XMIT, type RpcTask } from './sched.js';

/** RPC_MIN_SLOT_TABLE / RPC_MAX_SLOT_TABLE_LIMIT: the TCP transport's slot table bounds (sysctl sunrpc.tcp_*slot_table_entries). */
export const TCP_SLOT_TABLE_ENTRIES = 2;
export const TCP_MAX_SLOT_TABLE_ENTRIES = 65536;

/** struct rpc_timeout (ns): TCP mounts back off linearly, timeo and then timeo more per retry. */
export interface RpcTimeout {
  readonly toInitvalNs: number;
  readonly toMaxvalNs: number;
  readonly toIncrementNs: number;
  /** Minor timeouts before a major one (retrans). */
  readonly toRetries: number;
  readonly toExponential: boolean;
}

/** xs_tcp_default_timeout / nfs(5): timeo=600 deciseconds, retrans=2. */
export function tcpTimeout(timeoDeciseconds: number, retrans: number): RpcTimeout {
  const initNs = timeoDeciseconds * 100_000_000;
  // nfs_init_timeout_values: to_maxval = to_initval + to_increment * to_retries, at most NFS_MAX_TCP_TIMEOUT (600 s)
  const maxNs = Math.min(initNs + initNs * retrans, 600 * 1_000_000_000);
  return { toInitvalNs: initNs, toMaxvalNs: maxNs, toIncrementNs: initNs, toRetries: retrans, toExponential: false };
}

/** One RPC call as it goes on the wire: its header fields, the decoded arguments and its XDR size. */
export interface RpcCallMsg {
  readonly xid: number;
  readonly prog: number;
  readonly vers: number;
  readonly proc: number;
  /** The decoded arguments (the server's procedure reads them as its XDR decoder would produce them). */
  readonly args: unknown;
  /** The call record's length in bytes as XDR encodes it (RPC header, credentials, arguments). */
  readonly bytes: number;
}

/** accept_stat of an accepted reply (RFC 5531). */
export const RPC_SUCCESS = 0;
export const RPC_PROC_UNAVAIL = 3;
export const RPC_GARBAGE_ARGS = 4;

/** One RPC reply: the xid it answers, accept_stat, the decoded result and its XDR size. */
export interface RpcReplyMsg {
  readonly xid: number;
  readonly acceptStat: number;
  readonly result: unknown;
  readonly bytes: number;
}

/** struct rpc_rqst: a slot, holding one call in flight. */
export class RpcRqst {
  rqXid = 0;
  rqSeqno = 0;
  rqCall: RpcCallMsg | undefined;
  /** rq_rcv_buf's size: the largest reply the decoder accepts (p_replen). */
  rqRcvsizeBytes = 0;
  /** rq_reply_bytes_recvd, and the reply itself once xprt_complete_rqst has it. */
  rqReplyBytesRecvd = 0;
  rqReply: RpcReplyMsg | undefined;
  /** rq_bytes_sent: how much of the call the transport has taken (a partial send continues later). */
  rqBytesSent = 0;
  /** The current retransmit timeout, minor retries so far, and when the major timeout falls. */
  rqTimeoutNs = 0;
  rqRetries = 0;
  rqMajortimeoNs = 0;
  constructor(
    readonly rqXprt: RpcXprt,
    readonly rqTask: RpcTask,
  ) {}
}

/** RFC 5531 record marking on a byte stream: each record (call or reply) is preceded by a 4-byte marker. */
export const RPC_RECORD_MARKER_BYTES = 4;

/**
 * struct rpc_xprt_ops, the part a transport implements. The RPC layer calls connect and
 * sendRequest from the task's context (the caller's for a sync call, rpciod's for an async one);
 * the transport reports back, from whatever context its events run in (softirq, its worker):
 * - xprtConnected(xprt) once a connect finished (tasks parked on xprt_pending go on);
 * - xprtWriteSpace(xprt) when a send that returned -EAGAIN may go on;
 * - for each whole reply record received: req = xprtLookupRqst(xprt, reply.xid), then, if found,
 *   xprtCompleteRqst(req, reply). The reply object travels with its bytes (reply.bytes of XDR,
 *   plus RPC_RECORD_MARKER_BYTES on the stream); the server side makes it (SvcServ).
 */
export interface RpcXprtOps {
  readonly name: string;
  /**
   * ->connect (xs_connect): start connecting; call xprtConnected(xprt) once connected. A
   * transport that is connected from the start (a test's) sets xprt.connected and leaves it out.
   */
  connect?(xprt: RpcXprt, task: RpcTask): void;
  /**
   * ->send_request (xs_tcp_send_request): put the call record of `req` (req.rqCall, whose `bytes`
   * is what XDR and record marking put in the byte stream, plus 4 for the record marker) on the
   * wire from req.rqBytesSent on. Returns 0 when the whole record is queued, -EAGAIN when the send
   * buffer is full (update rqBytesSent and call xprtWriteSpace when there is room), or another
   * -errno (-ENOTCONN, -EPIPE: the connection is gone and will be remade). Runs in process context
   * (the RPC task's); must not sleep.
   */
  sendRequest(req: RpcRqst): number;
  /** ->close: drop the connection. */
  close?(xprt: RpcXprt): void;
}

/** struct rpc_xprt */
export class RpcXprt {
  readonly kaddr: number;
  connected = false;
  connecting = false;
  /** The slot table: free slots, slots in use (num_reqs) and its bounds. */
  private readonly freeSlots: RpcRqst[] = [];
  numReqs = 0;
  readonly minReqs: number;
  /** max_reqs: sunrpc.tcp_max_slot_table_entries when the transport was made (a module parameter). */
  maxReqs: number;
  /** xprt->sending (the write lock's waiters), ->pending (replies and connects), ->backlog (slots). */
  readonly sending = new RpcWaitQueue('xprt_sending');
  readonly pending = new RpcWaitQueue('xprt_pending');
  readonly backlog = new RpcWaitQueue('xprt_backlog');
  /** snd_task: the holder of the transport write lock. */
  sndTask: RpcTask | undefined;
  /** recv_queue: requests waiting for their reply, by xid. */
  readonly recvQueue = new Map<number, RpcRqst>();
  private xid: number;
  private seqno = 0;

  constructor(
    readonly k: Kernel,
    readonly ops: RpcXprtOps,
    /** The server's name and address as the tracepoints print them (address_strings). */
    readonly servername: string,
    readonly addr: string,
    readonly port: string,
    readonly timeout: RpcTimeout,
    minReqs = TCP_SLOT_TABLE_ENTRIES,
    maxReqs = TCP_MAX_SLOT_TABLE_ENTRIES,
  ) {
    this.kaddr = k.kaddr();
    this.minReqs = minReqs;
    this.maxReqs = maxReqs;
    // xprt_init_xid: a random start (here derived from the machine's seed, drawing nothing)
    this.xid = Math.imul(k.seed + 1, 0x9e3779b1) >>> 0;
  }

  /** xprt_alloc_xid */
  allocXid(): number {
    const x = this.xid;
    this.xid = (this.xid + 1) >>> 0;
    return x;
  }

  nextSeqno(): number {
    return this.seqno++;
  }

  /** xprt_alloc_slot: a free slot, a new one below max_reqs (xprt_dynamic_alloc_slot), or none. */
  allocSlot(task: RpcTask): RpcRqst | undefined {
    const free = this.freeSlots.pop();
    if (free) return resetSlot(free, task);
    if (this.numReqs >= this.maxReqs) return undefined;
    this.numReqs++;
    return new RpcRqst(this, task);
  }

  /** xprt_free_slot: back to the table (the preallocated ones stay), and wake a backlogged task. */
  freeSlot(req: RpcRqst): void {
    this.recvQueue.delete(req.rqXid);
    if (this.backlog.tasks.length > 0) {
      // xprt_wake_up_backlog: the slot goes to the first waiter
      const t = this.backlog.tasks[0]!;
      t.tkRqstp = resetSlot(req, t);
      rpcWakeUpQueuedTask(this.backlog, t);
      return;
    }
    if (this.numReqs > this.minReqs) this.numReqs--;
    else this.freeSlots.push(req);
  }
}

function resetSlot(old: RpcRqst, task: RpcTask): RpcRqst {
  return new RpcRqst(old.rqXprt, task);
}

/** xprt_reserve: a slot for the task, or it sleeps on the backlog (status -EAGAIN). */
export function xprtReserve(xprt: RpcXprt, task: RpcTask): void {
  const req = xprt.allocSlot(task);
  if (req) {
    task.tkRqstp = req;
    task.tkStatus = 0;
    return;
  }
  task.tkStatus = -EAGAIN; // call_reserveresult retries once woken with a slot
  rpcSleepOn(xprt.backlog, task, undefined);
}

/** xprt_request_init: xid, timeouts. */
export function xprtRequestInit(req: RpcRqst): void {
  const xprt = req.rqXprt;
  req.rqXid = xprt.allocXid();
  req.rqTimeoutNs = xprt.timeout.toInitvalNs;
  req.rqRetries = 0;
  xprtResetMajortimeo(req);
}

/** xprt_reset_majortimeo: the major timeout is the sum of the minor ones from now. */
export function xprtResetMajortimeo(req: RpcRqst): void {
  const to = req.rqXprt.timeout;
  let total = 0;
  let t = to.toInitvalNs;
  for (let i = 0; i <= to.toRetries; i++) {
    total += t;
    t = to.toExponential ? t * 2 : t + to.toIncrementNs;
    if (t > to.toMaxvalNs) t = to.toMaxvalNs;
  }
  req.rqMajortimeoNs = req.rqXprt.k.env.nowNs + total;
}

/**
 * xprt_adjust_timeout after a timeout: a minor one backs off (returns 0); past to_retries it is
 * major (returns -ETIMEDOUT) and the timeout starts again from to_initval.
 */
export function xprtAdjustTimeout(req: RpcRqst): number {
  const to = req.rqXprt.timeout;
  const now = req.rqXprt.k.env.nowNs;
  if (now < req.rqMajortimeoNs && req.rqRetries < to.toRetries) {
    req.rqTimeoutNs = Math.min(to.toExponential ? req.rqTimeoutNs * 2 : req.rqTimeoutNs + to.toIncrementNs, to.toMaxvalNs);
    req.rqRetries++;
    return 0;
  }
  req.rqTimeoutNs = to.toInitvalNs;
  req.rqRetries = 0;
  xprtResetMajortimeo(req);
  return -ETIMEDOUT;
}

/** xprt_reserve_xprt: take the write lock, or sleep on xprt->sending. */
export function xprtReserveXprt(xprt: RpcXprt, task: RpcTask): boolean {
  if (xprt.sndTask === undefined || xprt.sndTask === task) {
    xprt.sndTask = task;
    return true;
  }
  rpcSleepOn(xprt.sending, task, undefined);
  return false;
}

/** xprt_release_xprt: drop the write lock and hand it to the next sender. */
export function xprtReleaseXprt(xprt: RpcXprt, task: RpcTask): void {
  if (xprt.sndTask !== task) return;
  xprt.sndTask = undefined;
  const next = rpcWakeUpNext(xprt.sending);
  if (next) xprt.sndTask = next;
}

/** xprt_request_enqueue_receive: the reply to this xid will be matched to the request. */
export function xprtRequestEnqueueReceive(req: RpcRqst): void {
  req.rqXprt.recvQueue.set(req.rqXid, req);
  req.rqTask.tkRunstate |= 1 << RPC_TASK_NEED_RECV;
}

/**
 * xprt_request_transmit: hand the call to the transport. 0 sent, -EAGAIN wait for write space,
 * else the transport's error.
 */
export function xprtRequestTransmit(req: RpcRqst): number {
  const xprt = req.rqXprt;
  const k = xprt.k;
  const task = req.rqTask;
  if (req.rqBytesSent === 0) req.rqSeqno = xprt.nextSeqno();
  const status = xprt.ops.sendRequest(req);
  if (k.tp.xprt_transmit.enabled) k.tp.xprt_transmit.emit(k.sched.ctxCpu, task.ioId, req, status);
  if (status === 0) {
    task.tkRunstate &= ~(1 << RPC_TASK_NEED_XMIT);
    if (task.transmitNs < 0) task.transmitNs = k.env.nowNs;
    req.rqBytesSent = 0;
  }
  return status;
}

/** xprt_connected's counterpart: the transport finished connecting; wake the tasks waiting for it. */
export function xprtConnected(xprt: RpcXprt): void {
  xprt.connected = true;
  xprt.connecting = false;
  for (const t of [...xprt.pending.tasks]) if (!(t.tkRunstate & (1 << RPC_TASK_NEED_RECV))) rpcWakeUpQueuedTask(xprt.pending, t);
}

/**
 * xprt_disconnect_done: the connection is gone (reset, closed). Tasks waiting for replies are
 * woken with -ENOTCONN; they reconnect (->connect) and send their calls again.
 */
export function xprtDisconnectDone(xprt: RpcXprt): void {
  xprt.connected = false;
  xprt.connecting = false;
  for (const t of [...xprt.pending.tasks]) {
    t.tkStatus = -ENOTCONN;
    rpcWakeUpQueuedTask(xprt.pending, t);
  }
}

/** xprt_write_space: the transport has room again; the sender waiting for it goes on. */
export function xprtWriteSpace(xprt: RpcXprt): void {
  const t = xprt.sndTask;
  if (t && t.tkWaitqueue === xprt.pending) rpcWakeUpQueuedTask(xprt.pending, t);
}

/** xprt_lookup_rqst: the request a reply's xid answers (undefined: unknown or already answered). */
export function xprtLookupRqst(xprt: RpcXprt, xid: number): RpcRqst | undefined {
  const req = xprt.recvQueue.get(xid);
  const k = xprt.k;
  if (k.tp.xprt_lookup_rqst.enabled) k.tp.xprt_lookup_rqst.emit(k.sched.ctxCpu, req?.rqTask.ioId ?? 0, xprt, xid, req ? 0 : -2);
  return req;
}

/**
 * xprt_complete_rqst: the transport has the whole reply (softirq or the receiving worker's
 * context): record it and wake the task waiting on xprt->pending with tk_status = bytes received.
 */
export function xprtCompleteRqst(req: RpcRqst, reply: RpcReplyMsg): void {
  const xprt = req.rqXprt;
  const k = xprt.k;
  const task = req.rqTask;
  if (k.tp.xprt_complete_rqst.enabled) k.tp.xprt_complete_rqst.emit(k.sched.ctxCpu, task.ioId, xprt, req.rqXid, reply.bytes);
  xprt.recvQueue.delete(req.rqXid);
  req.rqReply = reply;
  req.rqReplyBytesRecvd = reply.bytes;
  task.replyNs = k.env.nowNs;
  task.tkRunstate &= ~(1 << RPC_TASK_NEED_RECV);
  if (task.tkWaitqueue === xprt.pending) {
    task.tkStatus = reply.bytes;
    rpcWakeUpQueuedTask(xprt.pending, task);
  }
}

/** xprt_release: give the slot back (rpc_count_iostats' rpc_stats_latency first). */
export function xprtRelease(task: RpcTask): void {
  const req = task.tkRqstp;
  if (!req) return;
  const xprt = req.rqXprt;
  xprtReleaseXprt(xprt, task);
  task.tkRqstp = undefined;
  xprt.freeSlot(req);
}
