// Models: net/core/skbuff.c: allocating an skb (__alloc_skb, with its owner's ioId) and the two
// ways one ends: consume_skb (delivered or transmitted: normal) and kfree_skb (dropped). Either
// runs the destructor (the socket gets its buffer budget back) and completes the zero-copy
// ubuf_info once the pages are no longer referenced.

import type { Kernel } from '../../kernel/kernel.js';
import type { FlowKey, SkBuff } from '../skbuff.js';
import { ETH_P_IP } from '../skbuff.js';

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

/** consume_skb: the packet did its job (sent, or delivered to the socket's reader). */
export function consumeSkb(_k: Kernel, skb: SkBuff): void {
  releaseSkb(skb, true);
}

/** kfree_skb_reason: the packet was dropped; `reason` is enum skb_drop_reason's name. */
export function kfreeSkb(_k: Kernel, skb: SkBuff, _reason: string): void {
  releaseSkb(skb, true);
}
