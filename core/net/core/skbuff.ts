// Models: net/core/skbuff.c: allocating an skb (__alloc_skb, with its owner's ioId) and the two
// ways one ends: consume_skb (delivered or transmitted: normal) and kfree_skb (dropped). Either
// runs the destructor (the socket gets its buffer budget back) and completes the zero-copy
// ubuf_info once the pages are no longer referenced. Also __skb_linearize (the fragments copied
// into one buffer, which also releases the zero-copy pages: skb_copy_ubufs) and skb_segment
// (software GSO: a large skb cut into MSS-sized ones that share its pages).
// SIMPLIFICATION: a linearized skb keeps no separate head allocation; its payload becomes the
// linear head's content (headContent) and its frags go.

import type { Kernel } from '../../kernel/kernel.js';
import type { HitContext } from '../../trace/probe.js';
import type { FlowKey, SkBuff, SkbFrag, TcpSkbCb } from '../skbuff.js';
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

/** enum skb_drop_reason values (include/net/dropreason-core.h, 6.18) for the drops kiotrace makes. */
export const SKB_DROP_REASON: Readonly<Record<string, number>> = {
  NOT_SPECIFIED: 2,
  NO_SOCKET: 3,
  SOCKET_RCVBUFF: 6,
  PKT_TOO_SMALL: 9,
  TCP_ZEROWINDOW: 32,
  TCP_OLD_DATA: 33,
  TCP_OVERWINDOW: 34,
  QDISC_DROP: 64,
  UNHANDLED_PROTO: 74,
  FULL_RING: 80,
  NOMEM: 81,
  PKT_TOO_BIG: 93,
};

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
  if (k.tp.kfree_skb.enabled) k.tp.kfree_skb.emit(ctx ?? k.sched.ctxCpu, skb.ioId, skb, SKB_DROP_REASON[reason] ?? SKB_DROP_REASON.NOT_SPECIFIED!);
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
export function skbLinearize(k: Kernel, skb: SkBuff): number {
  const bytes = skb.dataLenBytes;
  if (bytes === 0) return 0;
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
function sliceFrags(frags: readonly SkbFrag[], off: number, len: number): SkbFrag[] {
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
