// Models: net/core/dev.c: the boundary between the protocol stack and the drivers.
// dev_queue_xmit hands a packet to its device's transmit queue (net:net_dev_queue, then
// net:net_dev_xmit around ndo_start_xmit); __netif_receive_skb delivers a received packet to the
// protocol registered for its ethertype (net:netif_receive_skb). This file is the contract the
// stack (core/net/ipv4/) and the drivers (core/drivers/net/) meet at.
// SIMPLIFICATION: no qdisc yet: a packet the driver refuses (ring full) is dropped and counted.

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import { NETDEV_TX, NET_XMIT } from '../netdevice.js';
import type { SkBuff } from '../skbuff.js';

/** What one transmit attempt did: NET_XMIT_* and the CPU time the stack and driver spent. */
export interface XmitResult {
  readonly status: number;
  readonly costNs: number;
}

/** dev_queue_xmit: from process context (a sending task) or softirq (an ACK, a retransmission). */
export function devQueueXmit(k: Kernel, skb: SkBuff, cpu: Cpu): XmitResult {
  const dev = skb.dev;
  if (dev === undefined) return { status: NET_XMIT.DROP, costNs: 0 };
  const r = dev.ops.startXmit(skb, dev, cpu);
  if (r.status !== NETDEV_TX.OK) k.net.stat.txDropped++;
  return { status: r.status === NETDEV_TX.OK ? NET_XMIT.SUCCESS : NET_XMIT.DROP, costNs: r.costNs };
}

/** __netif_receive_skb_core: to the protocol's handler (ip_rcv); an unknown protocol is dropped. */
export function netifReceiveSkb(k: Kernel, skb: SkBuff, cpu: Cpu): number {
  const handler = k.net.packetHandler(skb.protocol);
  if (handler === undefined) {
    k.net.stat.rxDropped++;
    return 0;
  }
  return handler(skb, cpu);
}
