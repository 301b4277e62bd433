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

import { EAGAIN } from '../../uapi/errno.js';
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
