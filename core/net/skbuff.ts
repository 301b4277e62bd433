// Models: include/linux/skbuff.h (struct sk_buff, skb_frag_t, skb_shared_info, struct ubuf_info)
// and include/net/tcp.h's TCP_SKB_CB: one packet (or one GSO super-packet) as it travels between
// a socket and a NIC. The payload is a linear head the kernel copied into plus page fragments the
// skb only references (zero-copy: page-cache folios from sendfile/splice, pinned user pages from
// MSG_ZEROCOPY / SEND_ZC). The ioId of the I/O that made it travels with it.
// SIMPLIFICATION: payload bytes are not carried unless the sender gave content (a PayloadSource);
// lengths, fragment counts and who owns each byte are what the model needs.

import type { NetDevice } from './netdevice.js';

/**
 * Where a fragment's bytes are read from when the NIC's DMA engine fetches them. A referenced
 * page is read at DMA time, not at send time: a user buffer changed after send() returned but
 * before the NIC fetched it goes out changed (the MSG_ZEROCOPY / SEND_ZC reuse hazard).
 */
export interface PayloadSource {
  /** Content of [offsetBytes, offsetBytes + lenBytes) as it is now. */
  read(offsetBytes: number, lenBytes: number): Uint8Array;
}

/** skb_frag_t: a reference to part of a page (a bio_vec), not a copy. */
export interface SkbFrag {
  /** Physical frame of the page (for DMA mapping and for scripts). */
  readonly pfn: number;
  readonly offsetBytes: number;
  readonly lenBytes: number;
  /** The page's content, when the sender has any (see PayloadSource). */
  readonly source?: PayloadSource;
  readonly sourceOffsetBytes?: number;
}

/** TCP flags (include/net/tcp.h TCPHDR_*). */
export const TCPHDR = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const;

/** struct tcp_skb_cb (TCP_SKB_CB(skb)): the segment's sequence space and header fields. */
export interface TcpSkbCb {
  /** Starting sequence number. */
  seq: number;
  /** seq + payload bytes (+1 for SYN and FIN each). */
  endSeq: number;
  ackSeq: number;
  tcpFlags: number;
  /** The advertised receive window, already scaled back to bytes. */
  windowBytes: number;
  /** When this skb was last sent (for RTT samples and retransmission), simulated ns. */
  whenNs: number;
  /** Times retransmitted. */
  retrans: number;
  /** The MSS option a SYN or SYN-ACK carries (tcp_advertise_mss); absent on other segments. */
  mss?: number;
}

/**
 * struct ubuf_info (MSG_ZEROCOPY, SEND_ZC): reference-counted by the skbs that hold its pages
 * (skb_zcopy_set / skb_zcopy_get); complete() drops one reference, the last one notifies.
 */
export interface UbufInfo {
  /** skb_zcopy_get / net_zcopy_get: one more skb (a clone sent to the device) holds the pages. */
  hold(): void;
  /** sock_zerocopy_callback / io_notif_complete: `zerocopy` false when the kernel had to copy after all. */
  complete(zerocopy: boolean): void;
}

export const ETH_P_IP = 0x0800;
/** Ethernet header bytes the kernel builds (dest, source, ethertype); FCS, preamble and IFG are the wire's. */
export const ETH_HLEN = 14;
export const IPV4_HLEN = 20;
/** TCP header with the timestamp option, as Linux sends on an established connection. */
export const TCP_HLEN = 32;
/** MAX_SKB_FRAGS (include/linux/skbuff.h, CONFIG_MAX_SKB_FRAGS default). */
export const MAX_SKB_FRAGS = 17;

/** A 4-tuple in host order; addresses are IPv4 as 32-bit numbers. */
export interface FlowKey {
  readonly saddr: number;
  readonly daddr: number;
  readonly sport: number;
  readonly dport: number;
}

/** struct sk_buff */
export interface SkBuff {
  readonly kaddr: number;
  /** The I/O this packet belongs to (the send()'s syscall, or the receive path's own origin). */
  ioId: number;
  /** skb->len: every byte, headers the kernel built included. */
  lenBytes: number;
  /** skb->data_len: the bytes in frags (len - data_len is the linear part). */
  dataLenBytes: number;
  /** The linear head's content, when the sender had content (copied at send time). */
  headContent?: Uint8Array;
  /** skb_shinfo(skb)->frags. */
  frags: SkbFrag[];
  /** skb_shinfo(skb)->gso_size: payload bytes per segment when the NIC (TSO) or GSO splits it; 0: not GSO. */
  gsoSize: number;
  gsoSegs: number;
  /** skb->protocol (ETH_P_IP). */
  protocol: number;
  /** The device it goes out on or came in from. */
  dev: NetDevice | undefined;
  /** Transmit/receive queue index (skb_get_queue_mapping). */
  queueMapping: number;
  flow: FlowKey;
  /** Header bytes in front of the payload (Ethernet + IP + TCP). */
  headerBytes: number;
  /** TCP_SKB_CB; undefined for a non-TCP packet. */
  tcp: TcpSkbCb | undefined;
  /** The socket that owns it (skb->sk), as an opaque reference for the protocol. */
  sk: object | undefined;
  /** skb->destructor (sock_wfree, sock_rfree): returns the bytes to the socket's send/receive budget. */
  destructor: ((skb: SkBuff) => void) | undefined;
  /** skb_zcopy(skb): the user pages' owner, completed when the last reference goes. */
  ubuf: UbufInfo | undefined;
  /** Simulated ns it was timestamped (skb->tstamp). */
  tstampNs: number;
}

/** Bytes in the linear head (skb_headlen). */
export function skbHeadlen(skb: SkBuff): number {
  return skb.lenBytes - skb.dataLenBytes;
}
