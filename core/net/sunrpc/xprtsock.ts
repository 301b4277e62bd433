// Models: net/sunrpc/xprtsock.c and net/sunrpc/svcsock.c, the byte-stream half of the TCP
// transports: RFC 5531 record marking (each call or reply is one record, a 4-byte marker then
// its XDR bytes), xs_tcp_send_request's non-blocking kernel_sendmsg that may take part of a
// record (the rest goes when the socket has write space again: xs_tcp_write_space ->
// xprt_write_space), xs_read_stream cutting whole records out of what arrives (->sk_data_ready)
// and matching each reply to its request by xid, and the server's svc_tcp_recvfrom /
// svc_tcp_sendto doing the same for calls and replies.
// SIMPLIFICATION: the decoded message of each record travels beside the byte stream (a record's
// object is handed over when its last byte arrives, in stream order) instead of being XDR-decoded
// from the bytes.

import type { Kernel } from '../../kernel/kernel.js';
import type { Task, TaskBody } from '../../kernel/sched/task.js';
import { Priority } from '../../sim/engine.js';
import { EAGAIN } from '../../uapi/errno.js';
import { kernelAccept, kernelBind, kernelConnect, kernelListen, kernelRecvmsg, kernelSendmsg, sockCreateKern, sockRelease, type Socket } from '../socket.js';
import { AF_INET, IPPROTO_TCP, MSG, SOCK_STREAM } from '../sock.js';
import { ipv4String } from '../netdevice.js';
import { RPC_RECORD_MARKER_BYTES, xprtCompleteRqst, xprtConnected, xprtDisconnectDone, xprtLookupRqst, xprtWriteSpace, type RpcCallMsg, type RpcReplyMsg, type RpcRqst, type RpcXprt, type RpcXprtOps } from './xprt.js';
import type { SvcServ } from './svc.js';
import { SvcXprt } from './svc.js';

/**
 * What the RPC transports need of a connected kernel stream socket: a non-blocking send
 * (kernel_sendmsg with MSG_DONTWAIT). The socket owner calls the transport's dataReady(bytes)
 * as bytes arrive in order (->sk_data_ready after tcp_read_sock) and writeSpace() when a send
 * that took less than asked may go on (->sk_write_space).
 */
export interface RpcStreamSocket {
  /** Queue up to `bytes` for sending; returns the bytes taken (0 when the send buffer is full) or -errno. */
  sendmsg(bytes: number): number;
}

/**
 * The records of one direction of a stream: the sender adds each record's message and length;
 * the receiver, told how many bytes arrived, gets back the messages whose records are complete.
 */
export class RpcRecordStream<M> {
  private readonly records: { readonly msg: M; readonly bytes: number }[] = [];
  private head = 0;
  /** Bytes of the first record already received. */
  private partial = 0;

  /** A record of `xdrBytes` (plus its marker) holding `msg` enters the stream; returns its length on the wire. */
  push(msg: M, xdrBytes: number): number {
    const bytes = xdrBytes + RPC_RECORD_MARKER_BYTES;
    this.records.push({ msg, bytes });
    return bytes;
  }

  /** `n` more bytes arrived, in order: the messages whose last byte is among them. */
  received(n: number): M[] {
    const out: M[] = [];
    let left = this.partial + n;
    while (this.head < this.records.length && left >= this.records[this.head]!.bytes) {
      const r = this.records[this.head++]!;
      left -= r.bytes;
      out.push(r.msg);
    }
    this.partial = left;
    if (this.head > 64 && this.head * 2 > this.records.length) {
      this.records.splice(0, this.head);
      this.head = 0;
    }
    return out;
  }
}

/** The client side (xs_tcp): calls out as records, replies in and matched by xid. */
export class XsTcpTransport implements RpcXprtOps {
  readonly name = 'tcp';
  xprt: RpcXprt | undefined;
  /** The record being sent, and its length on the wire. */
  private sending: { readonly req: RpcRqst; readonly bytes: number } | undefined;

  constructor(
    private readonly sock: RpcStreamSocket,
    /** The stream's calls (this side pushes) and replies (this side receives). */
    readonly calls: RpcRecordStream<RpcCallMsg>,
    readonly replies: RpcRecordStream<RpcReplyMsg>,
    /** xs_tcp_setup_socket's kernel_connect: calls `connected` once established (absent: connected at once). */
    private readonly connector?: (connected: () => void) => void,
  ) {}

  /** ->connect (xs_connect): start the connection; xprt_connected wakes the waiting calls. */
  connect(xprt: RpcXprt): void {
    this.xprt = xprt;
    if (this.connector) this.connector(() => xprtConnected(xprt));
    else xprtConnected(xprt);
  }

  /** The socket was reset or closed (xs_tcp_state_change -> xprt_disconnect_done). */
  disconnected(): void {
    this.sending = undefined;
    if (this.xprt) xprtDisconnectDone(this.xprt);
  }

  /** xs_tcp_send_request: the record from where the last send stopped; -EAGAIN until all of it is queued. */
  sendRequest(req: RpcRqst): number {
    this.xprt = req.rqXprt;
    if (req.rqBytesSent === 0 || this.sending?.req !== req) {
      this.sending = { req, bytes: this.calls.push(req.rqCall!, req.rqCall!.bytes) };
      req.rqBytesSent = 0;
    }
    const total = this.sending.bytes;
    const n = this.sock.sendmsg(total - req.rqBytesSent);
    if (n < 0) return n;
    req.rqBytesSent += n;
    if (req.rqBytesSent < total) return -EAGAIN;
    this.sending = undefined;
    return 0;
  }

  /** ->sk_data_ready: bytes of replies arrived; each whole one completes its request. */
  dataReady(bytes: number): void {
    const xprt = this.xprt;
    for (const reply of this.replies.received(bytes)) {
      const req = xprt ? xprtLookupRqst(xprt, reply.xid) : undefined;
      if (req) xprtCompleteRqst(req, reply);
    }
  }

  /** ->sk_write_space: the sender waiting for room goes on. */
  writeSpace(): void {
    if (this.xprt) xprtWriteSpace(this.xprt);
  }
}

/** The server side (svc_tcp): calls in, to the server's threads; replies out as records. */
export class SvcTcpTransport {
  readonly svcXprt: SvcXprt;
  /** Reply bytes svc_tcp_sendto could not queue yet (sent as write space comes). */
  private backlogBytes = 0;

  constructor(
    private readonly sock: RpcStreamSocket,
    private readonly serv: SvcServ,
    readonly calls: RpcRecordStream<RpcCallMsg>,
    readonly replies: RpcRecordStream<RpcReplyMsg>,
    remote: string,
  ) {
    this.svcXprt = new SvcXprt({ name: 'tcp', sendto: (_x, reply) => this.sendto(reply) }, remote);
  }

  /** svc_tcp_recvfrom: whole calls go to the server's threads. */
  dataReady(bytes: number): void {
    for (const call of this.calls.received(bytes)) this.serv.enqueue(this.svcXprt, call);
  }

  /** svc_tcp_sendto: the reply record; what the socket cannot take now waits for write space. */
  private sendto(reply: RpcReplyMsg): void {
    this.backlogBytes += this.replies.push(reply, reply.bytes);
    this.writeSpace();
  }

  /** ->sk_write_space: send what is waiting. */
  writeSpace(): void {
    if (this.backlogBytes === 0) return;
    const n = this.sock.sendmsg(this.backlogBytes);
    if (n > 0) this.backlogBytes -= n;
  }
}

// ---- the transports over kernel TCP sockets (xs_tcp_setup_socket, svc_tcp's listener) ----------

/** NFS's well-known port, and the reserved ports a client binds from (xprt_min_resvport). */
export const NFS_PORT = 2049;
const XPRT_MIN_RESVPORT = 665;

/** One connection's two record streams: the calls the client sends, the replies the server sends. */
export interface RpcConnStreams {
  readonly calls: RpcRecordStream<RpcCallMsg>;
  readonly replies: RpcRecordStream<RpcReplyMsg>;
}

/**
 * The server side of the streams' side channel: a client registers its connection's streams
 * under the reserved port it binds before connecting, the server's listener picks them up when
 * it accepts that port's connection.
 */
export class RpcStreamRendezvous {
  private readonly byPort = new Map<number, RpcConnStreams>();
  private nextPort = XPRT_MIN_RESVPORT;

  /** A reserved port for a new client connection, with its streams registered. */
  register(streams: RpcConnStreams): number {
    const port = this.nextPort++;
    this.byPort.set(port, streams);
    return port;
  }

  take(port: number): RpcConnStreams | undefined {
    const s = this.byPort.get(port);
    this.byPort.delete(port);
    return s;
  }
}

/**
 * Runs a kernel socket call that cannot sleep (MSG_DONTWAIT) to its end, now.
 * SIMPLIFICATION: the CPU time of the RPC transports' sends is not charged (the transport ops
 * are synchronous; Linux charges it to the RPC task or the nfsd thread).
 */
function runNow(gen: Generator<number, number, void>): number {
  let r = gen.next();
  while (r.done !== true) r = gen.next();
  return r.value;
}

/** A connected kernel socket as the record transports use it; `task` is whose context the sends run in. */
function kernelStream(k: Kernel, sock: Socket, task: Task): RpcStreamSocket {
  return {
    sendmsg(bytes) {
      const n = runNow(kernelSendmsg(k, sock, task, bytes, MSG.DONTWAIT));
      return n === -EAGAIN ? 0 : n;
    },
  };
}

/**
 * The socket's write-space callback: the transport goes on after the TCP code that freed the
 * space has returned (from a zero-delay event, not inside tcp_ack).
 */
function onWriteSpace(k: Kernel, sock: Socket, then: () => void): void {
  const sk = sock.sk!;
  const dflt = sk.writeSpace;
  sk.writeSpace = (s) => {
    dflt(s);
    k.env.at(k.env.nowNs, Priority.NORMAL, then, undefined);
  };
}

/** xs_read_stream in its own kernel thread: read what arrives, hand the byte counts on, stop at EOF. */
function* streamReader(k: Kernel, sock: Socket, task: Task, onBytes: (n: number) => void): Generator<number, number, void> {
  for (;;) {
    const n = yield* kernelRecvmsg(k, sock, task, 1 << 20, 0);
    if (n <= 0) return n;
    onBytes(n);
  }
}

/**
 * The client's TCP transport to `server` (its address, NFS_PORT): a kernel socket bound to a
 * reserved port, connected and read by an `xprtiod` kernel thread when the first call connects.
 */
export function xsTcpTransport(k: Kernel, serverAddr: number, rendezvous: RpcStreamRendezvous, spawnKthread: (comm: string, body: (t: Task) => TaskBody) => Task): XsTcpTransport {
  const streams: RpcConnStreams = { calls: new RpcRecordStream(), replies: new RpcRecordStream() };
  const created = sockCreateKern(k, AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (typeof created === 'number') throw new Error(`sock_create_kern for the RPC transport: ${created}`);
  const sock = created;
  const port = rendezvous.register(streams);
  kernelBind(k, sock, { addr: 0, port });
  let reader: Task | undefined;
  const stream: RpcStreamSocket = { sendmsg: (bytes) => (reader === undefined ? 0 : kernelStream(k, sock, reader).sendmsg(bytes)) };
  const xs: XsTcpTransport = new XsTcpTransport(stream, streams.calls, streams.replies, (connected) => {
    reader = spawnKthread('xprtiod', (t) =>
      (function* (): TaskBody {
        const err = yield* kernelConnect(k, sock, { addr: serverAddr, port: NFS_PORT }, t, 0);
        if (err < 0) return;
        onWriteSpace(k, sock, () => xs.writeSpace());
        connected();
        yield* streamReader(k, sock, t, (n) => xs.dataReady(n));
        xs.disconnected();
      })(),
    );
  });
  return xs;
}

/**
 * svc_tcp's listener (svc_create_xprt "tcp" on NFS_PORT): a kernel thread accepts each client
 * connection and gives it a server transport and a reader thread of its own.
 */
export function svcTcpListen(k: Kernel, serv: SvcServ, rendezvous: RpcStreamRendezvous, spawnKthread: (comm: string, body: (t: Task) => TaskBody) => Task): void {
  const created = sockCreateKern(k, AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (typeof created === 'number') throw new Error(`sock_create_kern for the RPC listener: ${created}`);
  const lsock = created;
  kernelBind(k, lsock, { addr: 0, port: NFS_PORT });
  kernelListen(k, lsock, 64);
  spawnKthread('nfsd-listen', (t) =>
    (function* (): TaskBody {
      for (;;) {
        const conn = yield* kernelAccept(k, lsock, t, 0);
        if (typeof conn === 'number') return;
        const peer = conn.ops.getname(conn, true);
        const streams = rendezvous.take(peer.port);
        if (streams === undefined) {
          sockRelease(k, conn);
          continue;
        }
        spawnKthread('svc-tcp', (rt) =>
          (function* (): TaskBody {
            const svc = new SvcTcpTransport(kernelStream(k, conn, rt), serv, streams.calls, streams.replies, `${ipv4String(peer.addr)}:${peer.port}`);
            onWriteSpace(k, conn, () => svc.writeSpace());
            yield* streamReader(k, conn, rt, (n) => svc.dataReady(n));
          })(),
        );
      }
    })(),
  );
}
