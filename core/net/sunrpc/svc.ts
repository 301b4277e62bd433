// Models: net/sunrpc/svc.c and net/sunrpc/svc_xprt.c, the RPC server side: struct svc_serv with
// its pool of server threads (nfsd), svc_xprt_enqueue waking an idle thread when a transport has
// a whole call, each thread's loop svc_recv -> svc_process (dispatch to the program's procedure)
// -> svc_send (the transport's xpo_sendto), and the svc_process / svc_send tracepoints.
// SIMPLIFICATION: one pool; calls wait in one FIFO (Linux queues the transport, and a thread
// takes one call from it per pass); no duplicate reply cache (a retransmitted call runs again).

import type { Kernel } from '../../kernel/kernel.js';
import { TaskState, type Task, type TaskBody } from '../../kernel/sched/task.js';
import { ioSchedule } from '../../block/blk-core.js';
import { RPC_PROC_UNAVAIL, RPC_SUCCESS, type RpcCallMsg, type RpcReplyMsg } from './xprt.js';
import { RPC_REPLY_HEADER_BYTES } from './clnt.js';

/** struct svc_xprt_ops, the part the server's transport implements. */
export interface SvcXprtOps {
  readonly name: string;
  /**
   * ->xpo_sendto (svc_tcp_sendto): send `reply` (reply.bytes of XDR, plus the record marker) to
   * the client. Called from the server thread's context; must not sleep.
   */
  sendto(xprt: SvcXprt, reply: RpcReplyMsg): void;
}

/** struct svc_xprt: one client connection as the server sees it. */
export class SvcXprt {
  constructor(
    readonly ops: SvcXprtOps,
    /** xpt_remotebuf: the peer's address, for tracepoints. */
    readonly remote: string,
  ) {}
}

/** struct svc_rqst: a call a server thread works on. */
export interface SvcRqst {
  readonly rqXprt: SvcXprt;
  readonly call: RpcCallMsg;
  /** The server thread. */
  readonly task: Task;
  /** The I/O id the call's work carries on the server. */
  readonly ioId: number;
}

/** struct svc_procedure: a handler and the XDR size of what it returns. */
export interface SvcProcedure<R> {
  readonly pcName: string;
  pcFunc(rqstp: SvcRqst): Generator<number, R, void>;
  resultBytes(res: R): number;
}

/** CPU time of svc_process's header decode and reply encode. */
const SVC_PROCESS_NS = 500;

/** struct svc_serv for one program and version. */
export class SvcServ {
  private readonly calls: { xprt: SvcXprt; call: RpcCallMsg }[] = [];
  private readonly idle: Task[] = [];
  /** Calls taken by threads, and replies sent. */
  nrCalls = 0;

  constructor(
    readonly k: Kernel,
    readonly progName: string,
    readonly prog: number,
    readonly vers: number,
    readonly procedures: ReadonlyMap<number, SvcProcedure<unknown>>,
  ) {}

  /**
   * svc_xprt_enqueue: the server transport (svc_tcp_recvfrom on a byte stream) has read a whole
   * call record, call.bytes of XDR after its record marker; an idle thread takes it. Any context.
   */
  enqueue(xprt: SvcXprt, call: RpcCallMsg): void {
    this.calls.push({ xprt, call });
    const t = this.idle.shift();
    if (t) t.wake();
  }

  /** A server thread: svc_recv, svc_process, svc_send, forever. */
  *threadBody(self: Task): TaskBody {
    const k = this.k;
    for (;;) {
      const next = this.calls.shift();
      if (!next) {
        self.state = TaskState.INTERRUPTIBLE;
        this.idle.push(self);
        yield* ioSchedule(k, self, false);
        continue;
      }
      this.nrCalls++;
      const ioId = k.newIoId();
      self.ioId = ioId;
      const rqstp: SvcRqst = { rqXprt: next.xprt, call: next.call, task: self, ioId };
      const cpu = (): ReturnType<typeof k.sched.cpu> => k.sched.cpu(self.cpu);
      const proc = next.call.prog === this.prog && next.call.vers === this.vers ? this.procedures.get(next.call.proc) : undefined;
      if (k.tp.svc_process.enabled) k.tp.svc_process.emit(cpu(), ioId, rqstp, this.progName);
      yield SVC_PROCESS_NS;
      let reply: RpcReplyMsg;
      if (!proc) {
        reply = { xid: next.call.xid, acceptStat: RPC_PROC_UNAVAIL, result: undefined, bytes: RPC_REPLY_HEADER_BYTES };
      } else {
        const result = yield* proc.pcFunc(rqstp);
        reply = { xid: next.call.xid, acceptStat: RPC_SUCCESS, result, bytes: RPC_REPLY_HEADER_BYTES + proc.resultBytes(result) };
      }
      next.xprt.ops.sendto(next.xprt, reply);
      if (k.tp.svc_send.enabled) k.tp.svc_send.emit(cpu(), ioId, rqstp, reply.bytes);
      self.ioId = 0;
    }
  }
}
