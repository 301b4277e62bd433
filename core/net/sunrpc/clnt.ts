// Models: net/sunrpc/clnt.c: struct rpc_clnt, rpc_call_sync / rpc_run_task, and the call state
// machine: call_start -> call_reserve -> call_reserveresult -> call_refresh/call_allocate ->
// call_encode -> call_bind/call_connect -> call_transmit -> call_transmit_status -> call_status
// -> call_decode -> rpc_exit_task, with call_timeout's minor/major timeout handling (soft mounts
// give up with -ETIMEDOUT, hard mounts retransmit forever), and the XDR sizes of the RPC header
// (RFC 5531: a call with AUTH_UNIX credentials and an AUTH_NULL verifier; an accepted reply).
// SIMPLIFICATION: no credential refresh (call_refresh), no rpcbind (call_bind goes straight to
// call_connect), no GSS; a reply whose accept_stat is not SUCCESS ends the call with -EIO.

import type { Kernel } from '../../kernel/kernel.js';
import type { Task } from '../../kernel/sched/task.js';
import { EAGAIN, ECONNRESET, EIO, ENOTCONN, EPIPE, ETIMEDOUT } from '../../uapi/errno.js';
import {
  rpcAction,
  rpcExecute,
  rpcExecuteAsync,
  rpcExit,
  rpcExitTaskAction,
  rpcSleepOn,
  rpcSleepOnTimeout,
  RpcTask,
  RPC_TASK,
  RPC_TASK_NEED_RECV,
  RPC_TASK_NEED_XMIT,
  type RpcCallOps,
} from './sched.js';
import {
  xprtAdjustTimeout,
  xprtRelease,
  xprtReleaseXprt,
  xprtRequestEnqueueReceive,
  xprtRequestInit,
  xprtRequestTransmit,
  xprtReserve,
  xprtReserveXprt,
  RPC_SUCCESS,
  type RpcXprt,
} from './xprt.js';

/** struct rpc_procinfo: one procedure, with its XDR sizes computed from the arguments/result. */
export interface RpcProcInfo<A, R> {
  readonly pProc: number;
  readonly pName: string;
  /** The arguments' XDR length in bytes (after the RPC call header). */
  argBytes(args: A): number;
  /** p_replen: the largest result the decoder takes for these arguments (bytes after the reply header). */
  maxResultBytes(args: A): number;
  /** The result's XDR length in bytes (after the reply header). */
  resultBytes(res: R): number;
}

/** struct rpc_program */
export interface RpcProgram {
  readonly name: string;
  readonly number: number;
}

/** struct rpc_message */
export interface RpcMessage {
  readonly rpcProc: RpcProcInfo<never, unknown>;
  readonly rpcArgp: unknown;
  rpcResp: unknown;
}

/** RPC call header: xid, msg_type, rpcvers, prog, vers, proc; AUTH_UNIX cred; AUTH_NULL verifier. */
export function rpcCallHeaderBytes(nodename: string): number {
  const machinename = 4 + Math.ceil(nodename.length / 4) * 4;
  // auth_unix body: stamp, machinename, uid, gid, gids<> (none)
  const credBody = 4 + machinename + 4 + 4 + 4;
  return 6 * 4 + (8 + credBody) + 8;
}

/** Accepted reply header: xid, msg_type, reply_stat, verifier (AUTH_NULL), accept_stat. */
export const RPC_REPLY_HEADER_BYTES = 24;

/** cl_clid: clients are numbered per machine from 0 (rpc_alloc_clid). */
const nextClid = new WeakMap<Kernel, number>();

/** struct rpc_clnt */
export class RpcClnt {
  readonly clClid: number;
  readonly callHeaderBytes: number;
  constructor(
    readonly k: Kernel,
    readonly clXprt: RpcXprt,
    readonly clProgram: RpcProgram,
    readonly clVers: number,
    /** cl_nodename: the client's host name, in every AUTH_UNIX credential. */
    readonly clNodename: string,
    /** A soft mount: a major timeout fails the call (RPC_TASK_SOFT on every task). */
    readonly clSoftrtry: boolean,
  ) {
    this.clClid = nextClid.get(k) ?? 0;
    nextClid.set(k, this.clClid + 1);
    this.callHeaderBytes = rpcCallHeaderBytes(clNodename);
  }

  /** rpc_release_resources_task's xprt_release, after the latency tracepoint. */
  releaseResources(task: RpcTask): void {
    const k = this.k;
    if (task.tkRqstp && k.tp.rpc_stats_latency.enabled) {
      const now = k.env.nowNs;
      const tx = task.transmitNs < 0 ? now : task.transmitNs;
      const rx = task.replyNs < 0 ? now : task.replyNs;
      k.tp.rpc_stats_latency.emit(k.sched.ctxCpu, task.ioId, task, Math.floor((tx - task.tkStartNs) / 1000), Math.floor((rx - tx) / 1000), Math.floor((now - task.tkStartNs) / 1000));
    }
    xprtRelease(task);
  }

  private newTask(ioId: number, msg: RpcMessage, flags: number, ops: RpcCallOps): RpcTask {
    const task = new RpcTask(this.k, this, msg, flags | (this.clSoftrtry ? RPC_TASK.SOFT : 0), ops, ioId);
    task.tkAction = callStart;
    return task;
  }

  /** rpc_call_sync: runs the call in `ctx` (the caller sleeps for the reply). Returns 0 or -errno. */
  *callSync(ctx: Task, ioId: number, msg: RpcMessage): Generator<number, number, void> {
    const task = this.newTask(ioId, msg, 0, {});
    yield* rpcExecute(this.k, ctx, task);
    return task.tkStatus;
  }

  /** rpc_run_task with RPC_TASK_ASYNC: rpciod runs it; `ops.rpcCallDone` sees the result. */
  runAsync(ioId: number, msg: RpcMessage, ops: RpcCallOps): RpcTask {
    const task = this.newTask(ioId, msg, RPC_TASK.ASYNC, ops);
    rpcExecuteAsync(task);
    return task;
  }
}

/** call_start: count the call, and on to getting a slot. */
const callStart = rpcAction('call_start', (task) => {
  const k = task.k;
  if (k.tp.rpc_request.enabled) k.tp.rpc_request.emit(k.sched.ctxCpu, task.ioId, task);
  task.tkAction = callReserve;
});

/** call_reserve: a request slot (xprt_reserve), maybe after waiting on the backlog. */
const callReserve = rpcAction('call_reserve', (task) => {
  task.tkStatus = 0;
  task.tkAction = callReserveresult;
  xprtReserve(task.tkClient.clXprt, task);
});

const callReserveresult = rpcAction('call_reserveresult', (task) => {
  if (task.tkRqstp) {
    task.tkStatus = 0;
    task.tkAction = callAllocate;
    return;
  }
  // woken from the backlog without a slot: try again
  task.tkAction = callReserve;
});

/** call_allocate: the send and receive buffers (sized by call_encode here). */
const callAllocate = rpcAction('call_allocate', (task) => {
  task.tkAction = callEncode;
});

/** call_encode: xid, the call record (header + XDR arguments) and the reply buffer's size. */
const callEncode = rpcAction('call_encode', (task) => {
  const req = task.tkRqstp!;
  const clnt = task.tkClient;
  const proc = task.tkMsg.rpcProc as RpcProcInfo<unknown, unknown>;
  const args = task.tkMsg.rpcArgp;
  xprtRequestInit(req);
  req.rqCall = { xid: req.rqXid, prog: clnt.clProgram.number, vers: clnt.clVers, proc: proc.pProc, args, bytes: clnt.callHeaderBytes + proc.argBytes(args) };
  req.rqRcvsizeBytes = RPC_REPLY_HEADER_BYTES + proc.maxResultBytes(args);
  task.tkRunstate |= 1 << RPC_TASK_NEED_XMIT;
  task.tkAction = callConnect;
});

/** call_bind -> call_connect: a connected transport, or start connecting and wait on xprt->pending. */
const callConnect = rpcAction('call_connect', (task) => {
  const xprt = task.tkClient.clXprt;
  if (xprt.connected) {
    task.tkAction = callTransmit;
    return;
  }
  task.tkAction = callConnect;
  if (!xprt.connecting) {
    xprt.connecting = true;
    xprt.ops.connect?.(xprt, task);
  }
  if (!xprt.connected) rpcSleepOn(xprt.pending, task, undefined);
});

/** call_transmit: take the write lock and hand the record to the transport. */
const callTransmit = rpcAction('call_transmit', (task) => {
  task.tkAction = callTransmitStatus;
  if (!(task.tkRunstate & (1 << RPC_TASK_NEED_XMIT))) return;
  const req = task.tkRqstp!;
  const xprt = req.rqXprt;
  if (!xprtReserveXprt(xprt, task)) {
    task.tkStatus = -EAGAIN;
    return;
  }
  // the reply may come back before the sender runs again: match it from now on
  xprtRequestEnqueueReceive(req);
  const status = xprtRequestTransmit(req);
  task.tkStatus = status;
  if (status === -EAGAIN) {
    // xprt_wait_for_buffer_space: keep the lock, xprt_write_space wakes us
    rpcSleepOn(xprt.pending, task, undefined);
    return;
  }
  xprtReleaseXprt(xprt, task);
});

/** call_transmit_status: sent -> wait for the reply (with the retransmit timeout); else retry. */
const callTransmitStatus = rpcAction('call_transmit_status', (task) => {
  const req = task.tkRqstp!;
  const xprt = req.rqXprt;
  const status = task.tkStatus;
  if (status === 0) {
    task.tkAction = callStatus;
    task.tkFlags |= RPC_TASK.SENT;
    // xprt_request_wait_receive: unless the reply is already here
    if (req.rqReply) task.tkStatus = req.rqReplyBytesRecvd;
    else rpcSleepOnTimeout(xprt.pending, task, undefined, req.rqTimeoutNs);
    return;
  }
  if (status === -EAGAIN) {
    task.tkAction = callTransmit;
    return;
  }
  // the connection is gone (-ENOTCONN, -EPIPE, -ECONNRESET): reconnect and send again
  xprt.connected = false;
  xprt.recvQueue.delete(req.rqXid);
  task.tkRunstate &= ~(1 << RPC_TASK_NEED_RECV);
  task.tkStatus = 0;
  task.tkAction = callConnect;
});

/** call_status: a reply (decode it), a timeout (call_timeout), or an error. */
const callStatus = rpcAction('call_status', (task) => {
  const k = task.k;
  if (k.tp.rpc_call_status.enabled) k.tp.rpc_call_status.emit(k.sched.ctxCpu, task.ioId, task);
  const req = task.tkRqstp!;
  if (req.rqReply) {
    task.tkAction = callDecode;
    return;
  }
  const status = task.tkStatus;
  if (status === -ETIMEDOUT) {
    // call_timeout -> rpc_check_timeout
    if (k.tp.xprt_timer.enabled) k.tp.xprt_timer.emit(k.sched.ctxCpu, task.ioId, req.rqXprt, req.rqXid, status);
    if (xprtAdjustTimeout(req) !== 0) {
      task.majorTimeouts++;
      if (task.tkFlags & RPC_TASK.SOFT) {
        req.rqXprt.recvQueue.delete(req.rqXid);
        rpcExit(task, -ETIMEDOUT);
        return;
      }
      // hard: "server not responding, still trying"
    }
    // retransmit (the server's duplicate reply cache answers a repeat)
    task.tkStatus = 0;
    task.tkRunstate |= 1 << RPC_TASK_NEED_XMIT;
    task.tkAction = callTransmit;
    return;
  }
  if (status === -ENOTCONN || status === -ECONNRESET || status === -EPIPE) {
    // the connection went away under the call: no reply will come on it; reconnect, send again
    req.rqXprt.recvQueue.delete(req.rqXid);
    task.tkStatus = 0;
    task.tkRunstate &= ~(1 << RPC_TASK_NEED_RECV);
    task.tkRunstate |= 1 << RPC_TASK_NEED_XMIT;
    task.tkAction = callConnect;
    return;
  }
  rpcExit(task, status < 0 ? status : -EIO);
});

/** call_decode: the result as the XDR decoder returns it. */
const callDecode = rpcAction('call_decode', (task) => {
  const reply = task.tkRqstp!.rqReply!;
  if (reply.acceptStat !== RPC_SUCCESS) {
    rpcExit(task, -EIO);
    return;
  }
  task.tkMsg.rpcResp = reply.result;
  task.tkStatus = 0;
  task.tkAction = rpcExitTaskAction;
});
