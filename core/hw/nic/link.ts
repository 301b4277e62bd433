// Models: the Ethernet wire (IEEE 802.3 full duplex) between NICs: a frame takes its
// serialization time at the link's bit rate, counting what the wire carries besides the frame
// the kernel built (preamble + SFD 8 bytes, FCS 4, inter-frame gap 12, padding to the 64-byte
// minimum frame), plus the propagation delay; and a switch forwarding frames to the port of
// their destination. Physics only: the NICs (nic.ts) and the drivers above them use this.
// SIMPLIFICATION: no ARP and no MAC learning: a frame carries its destination IPv4 address and
// the switch forwards by it (the neighbour table is the topology itself).
// SIMPLIFICATION: a cut-through switch with unbounded egress buffers and no pause frames: a
// frame leaves the egress port once the port has finished the frames before it, so several
// senders to one receiver queue at its port, but nothing is ever dropped there.

import { Priority, type Environment } from '../../sim/engine.js';
import type { TcpSkbCb, FlowKey } from '../../net/skbuff.js';

/** Preamble (7) + start frame delimiter (1). */
export const ETH_PREAMBLE_BYTES = 8;
/** Frame check sequence (CRC-32). */
export const ETH_FCS_LEN = 4;
/** Inter-frame gap: 96 bit times. */
export const ETH_IFG_BYTES = 12;
/** The shortest frame on the wire, FCS included (ETH_ZLEN 60 + FCS). */
export const ETH_MIN_FRAME_BYTES = 64;
/** ETH_DATA_LEN: the Ethernet MTU. */
export const ETH_DATA_LEN = 1500;

/** Bytes a frame of `frameBytes` (destination MAC through payload, no FCS) occupies on the wire. */
export function wireBytes(frameBytes: number): number {
  return Math.max(frameBytes + ETH_FCS_LEN, ETH_MIN_FRAME_BYTES) + ETH_PREAMBLE_BYTES + ETH_IFG_BYTES;
}

/** A frame as the wire carries it: what the receiving NIC and driver rebuild an skb from. */
export interface EthFrame {
  /** Source and destination (IPv4 addresses standing in for MAC addresses, see the header). */
  readonly saddr: number;
  readonly daddr: number;
  /** Destination MAC through the last payload byte (FCS and padding excluded). */
  readonly frameBytes: number;
  /** Ethertype (ETH_P_IP). */
  readonly protocol: number;
  /** Header bytes the kernel built (Ethernet + IP + TCP). */
  readonly headerBytes: number;
  readonly flow: FlowKey;
  /** The TCP header's fields for this segment (sequence numbers rewritten by TSO). */
  readonly tcp: TcpSkbCb | undefined;
  /** Payload as the NIC's DMA read it; undefined when the sender gave no content. */
  readonly payload: Uint8Array | undefined;
  /** The I/O it belongs to on the sending host. */
  readonly ioId: number;
}

/** Where a port delivers frames: the NIC's MAC receive side. */
export interface FrameSink {
  /** The frame's last bit arrived (its FCS checked): the NIC takes it. */
  receiveFrame(frame: EthFrame): void;
}

/** The wire's parameters (a link speed as ethtool reports it, and a one-way latency). */
export interface LinkConfig {
  /** Bit rate: 10_000_000_000 for 10GbE. */
  readonly bitsPerSec: number;
  /** One-way propagation delay sender to receiver, switch included. */
  readonly propagationNs: number;
}

export const DEFAULT_LINK: LinkConfig = { bitsPerSec: 10_000_000_000, propagationNs: 1_000 };

/** One full-duplex port of the switch: its transmit side (the NIC's uplink) and its egress side. */
export class SwitchPort {
  /** When the NIC's transmitter is free (fractional ns: exact serialization accounting). */
  txFreeAtNs = 0;
  /** When the switch's egress towards this NIC is free. */
  egressFreeAtNs = 0;
  framesSent = 0;
  framesReceived = 0;
  /** Bytes on the wire, framing included, each way. */
  wireBytesSent = 0;
  wireBytesReceived = 0;

  constructor(
    readonly sw: EthernetSwitch,
    /** The local IPv4 addresses the switch forwards to this port. */
    readonly addrs: readonly number[],
    readonly sink: FrameSink,
    readonly link: LinkConfig,
  ) {}

  /** ns per wire byte at this port's speed. */
  get nsPerByte(): number {
    return 8e9 / this.link.bitsPerSec;
  }

  /**
   * The NIC starts serializing `frame` no earlier than `readyNs` (its DMA done). Returns when its
   * last bit has left the NIC (the transmit side is then free for the next frame).
   */
  transmit(frame: EthFrame, readyNs: number): number {
    const bytes = wireBytes(frame.frameBytes);
    const startNs = Math.max(readyNs, this.txFreeAtNs);
    const endNs = startNs + bytes * this.nsPerByte;
    this.txFreeAtNs = endNs;
    this.framesSent++;
    this.wireBytesSent += bytes;
    this.sw.forward(this, frame, startNs, bytes);
    return endNs;
  }
}

interface Delivery {
  readonly port: SwitchPort;
  readonly frame: EthFrame;
}

function deliver(d: Delivery): void {
  d.port.framesReceived++;
  d.port.sink.receiveFrame(d.frame);
}

/** The network: ports by address; two ports make a point-to-point link. */
export class EthernetSwitch {
  readonly ports: SwitchPort[] = [];
  private readonly byAddr = new Map<number, SwitchPort>();
  /** Frames for an address no port has. */
  dropped = 0;

  constructor(
    readonly env: Environment,
    readonly link: LinkConfig = DEFAULT_LINK,
  ) {}

  /** Plugs a NIC in (its own speed, or the network's). */
  attach(addrs: readonly number[], sink: FrameSink, link: LinkConfig = this.link): SwitchPort {
    const port = new SwitchPort(this, addrs, sink, link);
    this.ports.push(port);
    for (const a of addrs) this.byAddr.set(a, port);
    return port;
  }

  portFor(addr: number): SwitchPort | undefined {
    return this.byAddr.get(addr);
  }

  /** @internal a frame started leaving `from` at `startNs`: cut through to its destination's port. */
  forward(from: SwitchPort, frame: EthFrame, startNs: number, bytes: number): void {
    const to = this.byAddr.get(frame.daddr);
    if (to === undefined || to === from) {
      this.dropped++;
      return;
    }
    // the egress port repeats the frame as its bits arrive, at the egress speed, once free
    const egressStartNs = Math.max(startNs + from.link.propagationNs, to.egressFreeAtNs);
    const egressEndNs = egressStartNs + bytes * to.nsPerByte;
    to.egressFreeAtNs = egressEndNs;
    to.wireBytesReceived += bytes;
    // the receiving MAC has the frame once its last bit (and the IFG that ends it) is in
    this.env.at(Math.ceil(Math.max(egressEndNs, startNs + bytes * from.nsPerByte + from.link.propagationNs)), Priority.URGENT, deliver, { port: to, frame });
  }
}
