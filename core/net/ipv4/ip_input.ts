// Models: net/ipv4/ip_input.c: ip_rcv (the ETH_P_IP packet_type handler __netif_receive_skb calls)
// -> ip_rcv_finish -> ip_local_deliver -> the transport's handler (tcp_v4_rcv for IPPROTO_TCP).
// SIMPLIFICATION: every IPv4 packet is TCP and addressed to this host (no forwarding, no
// checksum or header validation, no fragments).

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import type { SkBuff } from '../skbuff.js';
import { kfreeSkb } from '../core/skbuff.js';
import { tcpV4Rcv } from './tcp_ipv4.js';

/** ip_rcv: returns CPU ns spent in the protocol stack for this packet. */
export function ipRcv(k: Kernel, skb: SkBuff, _cpu: Cpu): number {
  if (skb.tcp === undefined) {
    kfreeSkb(k, skb, 'IP_NOPROTO');
    return 0;
  }
  // the link and IP headers are pulled (skb_pull): the transport sees its header and payload
  return tcpV4Rcv(k, skb, _cpu);
}
