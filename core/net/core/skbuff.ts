// Models: net/core/skbuff.c: allocating an skb (__alloc_skb, with its owner's ioId) and the two
// ways one ends: consume_skb (delivered or transmitted: normal) and kfree_skb (dropped). Either
// runs the destructor (the socket gets its buffer budget back) and completes the zero-copy
// ubuf_info once the pages are no longer referenced. Also __skb_linearize (the fragments copied
// into one buffer, which also releases the zero-copy pages: skb_copy_ubufs) and skb_segment
// (software GSO: a large skb cut into MSS-sized ones that share its pages). MSG_ZEROCOPY's
// struct ubuf_info_msgzc (msg_zerocopy_realloc: a send call's id range, extended by the next call
// while its skb is still unsent; __msg_zerocopy_callback: the range's sock_extended_err on the
// error queue, merged with the previous one when contiguous) and skb_orphan_frags_rx (a zero-copy
// skb about to be delivered locally gets its user pages copied: skb_copy_ubufs).
// SIMPLIFICATION: a linearized skb keeps no separate head allocation; its payload becomes the
// linear head's content (headContent) and its frags go.

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import type { HitContext } from '../../trace/probe.js';
import type { FlowKey, SkBuff, SkbFrag, TcpSkbCb, UbufInfo } from '../skbuff.js';
import { SO_EE_CODE_ZEROCOPY_COPIED, SO_EE_ORIGIN_ZEROCOPY, skErrorReport, sockQueueErr, type Sock } from '../sock.js';
import { ETH_P_IP, TCPHDR, skbHeadlen } from '../skbuff.js';
import { copyNs } from '../../hw/cpu.js';

/** __alloc_skb: an empty skb for `flow`; the caller adds its head bytes, frags and headers. */
export function allocSkb(k: Kernel, ioId: number, flow: FlowKey): SkBuff {
  return {
    kaddr: k.kaddr(),
    ioId,
    lenBytes: 0,
    dataLenBytes: 0,
    frags: [],
    gsoSize: 0,
    gsoSegs: 0,
    protocol: ETH_P_IP,
    dev: undefined,
    queueMapping: 0,
    flow,
    headerBytes: 0,
    tcp: undefined,
    sk: undefined,
    destructor: undefined,
    ubuf: undefined,
    tstampNs: k.env.nowNs,
  };
}

/** enum skb_drop_reason (include/net/dropreason-core.h, 6.18) from SKB_DROP_REASON_NOT_SPECIFIED = 2 on, in order. */
const SKB_DROP_REASON_NAMES: readonly string[] = [
  'NOT_SPECIFIED', 'NO_SOCKET', 'SOCKET_CLOSE', 'SOCKET_FILTER', 'SOCKET_RCVBUFF', 'UNIX_DISCONNECT',
  'UNIX_SKIP_OOB', 'PKT_TOO_SMALL', 'TCP_CSUM', 'UDP_CSUM', 'NETFILTER_DROP', 'OTHERHOST', 'IP_CSUM',
  'IP_INHDR', 'IP_RPFILTER', 'UNICAST_IN_L2_MULTICAST', 'XFRM_POLICY', 'IP_NOPROTO', 'PROTO_MEM',
  'TCP_AUTH_HDR', 'TCP_MD5NOTFOUND', 'TCP_MD5UNEXPECTED', 'TCP_MD5FAILURE', 'TCP_AONOTFOUND',
  'TCP_AOUNEXPECTED', 'TCP_AOKEYNOTFOUND', 'TCP_AOFAILURE', 'SOCKET_BACKLOG', 'TCP_FLAGS',
  'TCP_ABORT_ON_DATA', 'TCP_ZEROWINDOW', 'TCP_OLD_DATA', 'TCP_OVERWINDOW', 'TCP_OFOMERGE',
  'TCP_RFC7323_PAWS', 'TCP_RFC7323_PAWS_ACK', 'TCP_RFC7323_TW_PAWS', 'TCP_RFC7323_TSECR',
  'TCP_LISTEN_OVERFLOW', 'TCP_OLD_SEQUENCE', 'TCP_INVALID_SEQUENCE', 'TCP_INVALID_END_SEQUENCE',
  'TCP_INVALID_ACK_SEQUENCE', 'TCP_RESET', 'TCP_INVALID_SYN', 'TCP_CLOSE', 'TCP_FASTOPEN', 'TCP_OLD_ACK',
  'TCP_TOO_OLD_ACK', 'TCP_ACK_UNSENT_DATA', 'TCP_OFO_QUEUE_PRUNE', 'TCP_OFO_DROP', 'IP_OUTNOROUTES',
  'BPF_CGROUP_EGRESS', 'IPV6DISABLED', 'NEIGH_CREATEFAIL', 'NEIGH_FAILED', 'NEIGH_QUEUEFULL', 'NEIGH_DEAD',
  'NEIGH_HH_FILLFAIL', 'TC_EGRESS', 'SECURITY_HOOK', 'QDISC_DROP', 'QDISC_OVERLIMIT', 'QDISC_CONGESTED',
  'CAKE_FLOOD', 'FQ_BAND_LIMIT', 'FQ_HORIZON_LIMIT', 'FQ_FLOW_LIMIT', 'CPU_BACKLOG', 'XDP', 'TC_INGRESS',
  'UNHANDLED_PROTO', 'SKB_CSUM', 'SKB_GSO_SEG', 'SKB_UCOPY_FAULT', 'DEV_HDR', 'DEV_READY', 'FULL_RING',
  'NOMEM', 'HDR_TRUNC', 'TAP_FILTER', 'TAP_TXFILTER', 'ICMP_CSUM', 'INVALID_PROTO', 'IP_INADDRERRORS',
  'IP_INNOROUTES', 'IP_LOCAL_SOURCE', 'IP_INVALID_SOURCE', 'IP_LOCALNET', 'IP_INVALID_DEST', 'PKT_TOO_BIG',
  'DUP_FRAG', 'FRAG_REASM_TIMEOUT', 'FRAG_TOO_FAR', 'TCP_MINTTL', 'IPV6_BAD_EXTHDR', 'IPV6_NDISC_FRAG',
  'IPV6_NDISC_HOP_LIMIT', 'IPV6_NDISC_BAD_CODE', 'IPV6_NDISC_BAD_OPTIONS', 'IPV6_NDISC_NS_OTHERHOST',
  'QUEUE_PURGE', 'TC_COOKIE_ERROR', 'PACKET_SOCK_ERROR', 'TC_CHAIN_NOTFOUND', 'TC_RECLASSIFY_LOOP',
  'VXLAN_INVALID_HDR', 'VXLAN_VNI_NOT_FOUND', 'MAC_INVALID_SOURCE', 'VXLAN_ENTRY_EXISTS', 'NO_TX_TARGET',
  'IP_TUNNEL_ECN', 'TUNNEL_TXINFO', 'LOCAL_MAC', 'ARP_PVLAN_DISABLE', 'MAC_IEEE_MAC_CONTROL',
  'BRIDGE_INGRESS_STP_STATE', 'CAN_RX_INVALID_FRAME', 'CANFD_RX_INVALID_FRAME', 'CANXL_RX_INVALID_FRAME',
  'PFMEMALLOC', 'DUALPI2_STEP_DROP', 'PSP_INPUT', 'PSP_OUTPUT', 'RECURSION_LIMIT', 'MAX',
];

/** The value kfree_skb's `reason` field reports for a drop reason's name (NOT_SPECIFIED for an unknown one). */
export function skbDropReason(name: string): number {
  const i = SKB_DROP_REASON_NAMES.indexOf(name);
  return i < 0 ? 2 : i + 2;
}

function releaseSkb(skb: SkBuff, zerocopyDone: boolean): void {
  const d = skb.destructor;
  if (d !== undefined) {
    skb.destructor = undefined;
    d(skb);
  }
  const u = skb.ubuf;
  if (u !== undefined) {
    skb.ubuf = undefined;
    u.complete(zerocopyDone);
  }
}

/** consume_skb: the packet did its job (sent, or delivered to the socket's reader). `ctx`: the CPU it runs on (default: the one in context). */
export function consumeSkb(k: Kernel, skb: SkBuff, ctx?: HitContext): void {
  if (k.tp.consume_skb.enabled) k.tp.consume_skb.emit(ctx ?? k.sched.ctxCpu, skb.ioId, skb);
  releaseSkb(skb, true);
}

/** kfree_skb_reason: the packet was dropped; `reason` is enum skb_drop_reason's name. */
export function kfreeSkb(k: Kernel, skb: SkBuff, reason: string, ctx?: HitContext): void {
  if (k.tp.kfree_skb.enabled) k.tp.kfree_skb.emit(ctx ?? k.sched.ctxCpu, skb.ioId, skb, skbDropReason(reason));
  releaseSkb(skb, true);
}

/** Payload bytes in the linear head (after the headers). */
function headPayloadBytes(skb: SkBuff): number {
  return Math.max(0, skbHeadlen(skb) - skb.headerBytes);
}

/** The head's payload content, whether headContent holds the headers too or the payload only. */
export function skbHeadPayload(skb: SkBuff): Uint8Array | undefined {
  const c = skb.headContent;
  if (c === undefined) return undefined;
  const n = headPayloadBytes(skb);
  return c.length > n ? c.subarray(c.length - n) : c;
}

/** Bytes an skb's payload (head payload + frags) holds, content read now; undefined when it carries none. */
export function skbPayloadNow(skb: SkBuff): Uint8Array | undefined {
  const head = skbHeadPayload(skb);
  if (head === undefined && !skb.frags.some((f) => f.source !== undefined)) return undefined;
  const out = new Uint8Array(headPayloadBytes(skb) + skb.dataLenBytes);
  if (head !== undefined) out.set(head.subarray(0, headPayloadBytes(skb)));
  let at = headPayloadBytes(skb);
  for (const f of skb.frags) {
    if (f.source !== undefined) out.set(f.source.read(f.sourceOffsetBytes ?? 0, f.lenBytes).subarray(0, f.lenBytes), at);
    at += f.lenBytes;
  }
  return out;
}

/** Fixed part of a linearization: the new buffer's allocation (kmalloc of up to 64 KiB). */
const LINEARIZE_ALLOC_NS = 300;

/**
 * __skb_linearize: copies the fragments into the linear head (charged per byte, counted in
 * k.net.copies.linearizeBytes). A zero-copy skb's user pages are then free: its ubuf_info
 * completes now, as copied (skb_copy_ubufs -> skb_zcopy_clear(skb, false)). Returns CPU ns.
 */
export function skbLinearize(k: Kernel, skb: SkBuff, cpu: Cpu): number {
  const bytes = skb.dataLenBytes;
  if (bytes === 0) return 0;
  const fn = k.fn.__pskb_pull_tail;
  if (fn.entry.enabled) fn.enter(cpu, skb.ioId, skb, bytes);
  const content = skbPayloadNow(skb);
  if (content !== undefined) skb.headContent = content;
  skb.frags = [];
  skb.dataLenBytes = 0;
  k.net.copies.linearizeBytes += bytes;
  const u = skb.ubuf;
  if (u !== undefined) {
    skb.ubuf = undefined;
    u.complete(false);
  }
  if (fn.ret.enabled) fn.exit(cpu, skb.ioId, skb.kaddr);
  return LINEARIZE_ALLOC_NS + copyNs(bytes);
}

/** TSO/GSO's header rewrite for the segment at payload offset `off`: seq advanced, FIN/PSH on the last only, CWR on the first only. */
export function tsoSegmentCb(cb: TcpSkbCb, off: number, len: number, first: boolean, last: boolean): TcpSkbCb {
  let flags = cb.tcpFlags;
  if (!last) flags &= ~(TCPHDR.FIN | TCPHDR.PSH);
  if (!first) flags &= ~TCPHDR.CWR;
  const seq = cb.seq + off;
  return { ...cb, seq, endSeq: seq + len + (flags & TCPHDR.FIN ? 1 : 0) + (flags & TCPHDR.SYN ? 1 : 0), tcpFlags: flags };
}

/** The frags covering payload bytes [off, off + len) of the frag area (references, no copy). */
export function sliceFrags(frags: readonly SkbFrag[], off: number, len: number): SkbFrag[] {
  const out: SkbFrag[] = [];
  let at = 0;
  for (const f of frags) {
    const from = Math.max(off, at);
    const to = Math.min(off + len, at + f.lenBytes);
    if (to > from) {
      const skip = from - at;
      out.push({ pfn: f.pfn, offsetBytes: f.offsetBytes + skip, lenBytes: to - from, ...(f.source === undefined ? {} : { source: f.source, sourceOffsetBytes: (f.sourceOffsetBytes ?? 0) + skip }) });
    }
    at += f.lenBytes;
    if (at >= off + len) break;
  }
  return out;
}

/** Software segmentation cost per segment (header copy and fix-up). */
export const GSO_SEGMENT_NS = 150;

/**
 * skb_segment: a GSO skb cut into MSS-sized skbs sharing its pages (headers replicated). The
 * owner's destructor and zero-copy completion move to the last segment, which completes last.
 */
export function skbSegment(k: Kernel, skb: SkBuff): SkBuff[] {
  const mss = skb.gsoSize;
  const headPay = headPayloadBytes(skb);
  const total = headPay + skb.dataLenBytes;
  if (mss <= 0 || total <= mss) return [skb];
  const head = skbHeadPayload(skb);
  const segs: SkBuff[] = [];
  const n = Math.ceil(total / mss);
  for (let i = 0; i < n; i++) {
    const off = i * mss;
    const len = Math.min(mss, total - off);
    const inHead = Math.max(0, Math.min(len, headPay - off));
    const frags = sliceFrags(skb.frags, Math.max(0, off - headPay), len - inHead);
    const seg = allocSkb(k, skb.ioId, skb.flow);
    seg.lenBytes = skb.headerBytes + len;
    seg.dataLenBytes = len - inHead;
    seg.frags = frags;
    if (head !== undefined && inHead > 0) seg.headContent = head.subarray(off, off + inHead);
    seg.protocol = skb.protocol;
    seg.dev = skb.dev;
    seg.queueMapping = skb.queueMapping;
    seg.headerBytes = skb.headerBytes;
    seg.tcp = skb.tcp === undefined ? undefined : tsoSegmentCb(skb.tcp, off, len, i === 0, i === n - 1);
    seg.sk = skb.sk;
    seg.tstampNs = skb.tstampNs;
    segs.push(seg);
  }
  const last = segs[segs.length - 1]!;
  const d = skb.destructor;
  // the owner accounts the original skb (sock_wfree of its truesize): give it that one back
  if (d !== undefined) last.destructor = () => d(skb);
  last.ubuf = skb.ubuf;
  skb.destructor = undefined;
  skb.ubuf = undefined;
  return segs;
}

/** msg_zerocopy_realloc's byte_limit: one notification covers at most a few TSO packets' worth. */
const MSG_ZEROCOPY_BYTE_LIMIT = 1 << 19;

/**
 * struct ubuf_info_msgzc: the user pages of send calls [id, id + len) of one socket. References:
 * the send call while it runs, each skb holding the pages (clones included); the last one gone
 * queues the completion (__msg_zerocopy_callback).
 */
export class MsgZerocopyUbuf implements UbufInfo {
  refs = 1;
  /** Cleared when any holder had to copy instead (skb_zcopy_clear(skb, false)). */
  zerocopy = true;
  len = 1;

  constructor(
    readonly sk: Sock,
    readonly id: number,
    public bytelen: number,
  ) {}

  hold(): void {
    this.refs++;
  }

  complete(zerocopy: boolean): void {
    if (!zerocopy) this.zerocopy = false;
    if (--this.refs === 0) msgZerocopyCallback(this);
  }
}

/**
 * msg_zerocopy_realloc: the ubuf_info for a MSG_ZEROCOPY send call of `size` bytes. When the write
 * queue's tail skb still holds the previous call's (unsent) and ids are contiguous, that one
 * grows to cover this call too; else a new one takes the next id (sk_zckey). The caller holds
 * one reference until the call ends.
 */
export function msgZerocopyRealloc(sk: Sock, size: number, tail: UbufInfo | undefined): MsgZerocopyUbuf {
  if (tail instanceof MsgZerocopyUbuf && tail.sk === sk && tail.bytelen + size <= MSG_ZEROCOPY_BYTE_LIMIT && tail.id + tail.len === sk.zckey) {
    tail.len++;
    tail.bytelen += size;
    sk.zckey++;
    tail.hold();
    return tail;
  }
  return new MsgZerocopyUbuf(sk, sk.zckey++, size);
}

/** msg_zerocopy_put_abort: a call that sent nothing gives its id back (no completion for it). */
export function msgZerocopyPutAbort(uarg: MsgZerocopyUbuf): void {
  uarg.sk.zckey--;
  uarg.len--;
  uarg.complete(true);
}

/**
 * __msg_zerocopy_callback: ee_info..ee_data = the call ids now complete, ee_code COPIED if the
 * kernel copied after all. Appended to the previous error-queue entry when it is a zero-copy one
 * ending just before (skb_zerocopy_notify_extend), else queued; the socket's waiters woken.
 */
function msgZerocopyCallback(uarg: MsgZerocopyUbuf): void {
  const sk = uarg.sk;
  if (uarg.len === 0 || sk.dead) return;
  const lo = uarg.id;
  const hi = uarg.id + uarg.len - 1;
  const last = sk.errorQueue[sk.errorQueue.length - 1];
  if (last !== undefined && last.eeOrigin === SO_EE_ORIGIN_ZEROCOPY && lo === last.eeData + 1 && last.eeData - last.eeInfo + 1 + uarg.len < 2 ** 32) {
    last.eeData += uarg.len;
    skErrorReport(sk);
    return;
  }
  sockQueueErr(sk, { eeErrno: 0, eeOrigin: SO_EE_ORIGIN_ZEROCOPY, eeType: 0, eeCode: uarg.zerocopy ? 0 : SO_EE_CODE_ZEROCOPY_COPIED, eeInfo: lo, eeData: hi });
}

/**
 * skb_orphan_frags_rx -> skb_copy_ubufs: a zero-copy skb delivered to a local socket (over lo)
 * must not keep the sender's pages: they are copied now (what the buffer holds now is what the
 * receiver gets) and the skb's hold on them completes as copied. Returns CPU ns.
 */
export function skbOrphanFragsRx(k: Kernel, skb: SkBuff): number {
  const u = skb.ubuf;
  if (u === undefined) return 0;
  const bytes = skb.dataLenBytes;
  const content = skbPayloadNow(skb);
  if (content !== undefined) skb.headContent = content;
  skb.frags = [];
  skb.dataLenBytes = 0;
  // SIMPLIFICATION: counted with the linearizations (a copy of the frags into kernel memory)
  k.net.copies.linearizeBytes += bytes;
  skb.ubuf = undefined;
  u.complete(false);
  return copyNs(bytes);
}
