// Models: net/ipv4/route.c (ip_route_output_key, reduced to the FIB lookups a host makes: a local
// address or 127/8 goes out on loopback, else the device whose subnet holds the destination) and
// net/ipv4/ip_output.c (ip_queue_xmit: the IP header in front of the TCP segment, then
// dev_queue_xmit on the route's device).
// SIMPLIFICATION: no gateways, neighbour (ARP) resolution, fragmentation or netfilter; a
// destination no device's subnet holds is unreachable.

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import type { NetDevice } from '../netdevice.js';
import { ETH_HLEN, IPV4_HLEN, TCP_HLEN, type SkBuff } from '../skbuff.js';
import { devQueueXmit } from '../core/dev.js';

/** The route's output device for `daddr`, or undefined (-ENETUNREACH). */
export function ipRouteOutput(k: Kernel, daddr: number): NetDevice | undefined {
  const net = k.net;
  if (daddr >>> 24 === 127 || net.deviceWithAddr(daddr) !== undefined) return net.deviceByName('lo');
  for (const dev of net.devices) {
    for (const a of dev.ipv4) {
      const mask = a.prefixLen === 0 ? 0 : (~0 << (32 - a.prefixLen)) >>> 0;
      if (((a.addr & mask) >>> 0) === ((daddr & mask) >>> 0) && dev.name !== 'lo') return dev;
    }
  }
  return undefined;
}

/** The source address a connection to `daddr` gets (inet_select_addr on the route's device). */
export function ipSelectSaddr(k: Kernel, daddr: number): number {
  const dev = ipRouteOutput(k, daddr);
  if (dev === undefined) return 0;
  if (dev.name === 'lo') return daddr; // a local destination is its own source
  return dev.ipv4[0]?.addr ?? 0;
}

/** Header bytes in front of a TCP payload: Ethernet, IPv4, TCP with timestamps. */
export const TCP_IP_HEADER_BYTES = ETH_HLEN + IPV4_HLEN + TCP_HLEN;

/**
 * ip_queue_xmit: routes the segment, adds the IP and link headers and hands it to the device.
 * Returns the CPU ns the device path took (dev_queue_xmit and the driver), or -1 if unroutable.
 */
export function ipQueueXmit(k: Kernel, skb: SkBuff, cpu: Cpu): number {
  const dev = ipRouteOutput(k, skb.flow.daddr);
  if (dev === undefined) {
    k.net.stat.txDropped++;
    return -1;
  }
  skb.dev = dev;
  skb.headerBytes = TCP_IP_HEADER_BYTES;
  skb.lenBytes += TCP_IP_HEADER_BYTES;
  return devQueueXmit(k, skb, cpu).costNs;
}
