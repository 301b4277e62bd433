// Models: an Ethernet controller (ConnectX/ixgbe-class) as its driver sees it: per queue pair a
// transmit descriptor ring (a packet's descriptors are its buffers: the linear head and each
// fragment, up to a per-packet limit the device advertises), a receive ring of posted buffers,
// completion queues, a DMA engine that fetches a packet's buffers when the MAC is about to need
// them (so the bytes on the wire are the buffers' content at that time), TCP segmentation offload
// (TSO: one large packet cut into MSS-sized frames, headers replicated, sequence numbers advanced),
// receive DMA with RSS spreading flows over queues, and one MSI-X vector per queue pair with
// interrupt moderation as ethtool -C sets it (rx/tx usecs and frames, adaptive-rx).
// Physics only: the driver (core/drivers/net/) posts descriptors, reaps completions, re-arms.
// SIMPLIFICATION: one DMA engine serves every queue in doorbell order (no per-queue arbitration);
// the MAC takes each packet's frames back to back.
// SIMPLIFICATION: the transmit FIFO is modelled by when the DMA may start (no earlier than the MAC
// needs the data minus TX_FIFO_BYTES of wire time), not by its occupancy.
// SIMPLIFICATION: checksum offload is implicit (no checksums are computed or checked).

import { Priority, type Environment } from '../../sim/engine.js';
import type { FlowKey, PayloadSource, TcpSkbCb } from '../../net/skbuff.js';
import { tsoSegmentCb } from '../../net/core/skbuff.js';
import { ETH_DATA_LEN, type EthFrame, type EthernetSwitch, type FrameSink, type LinkConfig, type SwitchPort } from './link.js';

/** One transmit buffer after dma_map_single/skb_frag_dma_map. */
export interface TxBuffer {
  readonly dmaAddr: number;
  readonly lenBytes: number;
  /** Where the DMA reads the bytes from (a referenced page); absent: content not modelled. */
  readonly source?: PayloadSource;
  readonly sourceOffsetBytes?: number;
  /** Or bytes the kernel already holds (the linear head's payload, a linearized copy). */
  readonly bytes?: Uint8Array;
}

/** A packet as the driver posts it: its descriptors plus what the NIC's offloads need. */
export interface TxPacket {
  /** The driver's cookie for the completion (its tx_buffer_info slot). */
  readonly cookie: number;
  /** Header bytes in front of the payload (Ethernet + IP + TCP), in the first buffer. */
  readonly headerBytes: number;
  /** Payload buffers (the header itself is written by the NIC from the packet's metadata). */
  readonly buffers: readonly TxBuffer[];
  /** Descriptors the packet takes on the ring (its buffers, the header's, a TSO context one). */
  readonly descriptors: number;
  readonly payloadBytes: number;
  /** TSO: payload per frame (the MSS); 0 sends it as one frame. */
  readonly mss: number;
  readonly saddr: number;
  readonly daddr: number;
  readonly protocol: number;
  readonly flow: FlowKey;
  readonly tcp: TcpSkbCb | undefined;
  readonly ioId: number;
}

/** A receive completion (a CQE): one frame landed in a posted buffer. */
export interface RxCompletion {
  readonly frame: EthFrame;
  /** When the frame's DMA into host memory finished. */
  readonly doneNs: number;
}

/** A transmit completion: the packet's last frame left the MAC; its buffers may be unmapped. */
export interface TxCompletion {
  readonly cookie: number;
  readonly frames: number;
  readonly ioId: number;
}

/** ethtool -C: interrupt moderation. usecs 0 and frames <= 1: an interrupt per completion. */
export interface CoalesceConfig {
  rxUsecs: number;
  rxFrames: number;
  txUsecs: number;
  txFrames: number;
  /** adaptive-rx: the driver retunes rx usecs/frames from the packet rate (see the driver). */
  adaptiveRx: boolean;
}

export interface NicConfig {
  readonly model: string;
  /** Queue pairs (channels), each with its own MSI-X vector. */
  readonly queues: number;
  /** Descriptors per transmit ring and buffers per receive ring (ethtool -g). */
  readonly txRingSize: number;
  readonly rxRingSize: number;
  /** Buffers one packet may use (the device's per-packet scatter-gather limit). */
  readonly maxFrags: number;
  /** The largest frame payload (an IP packet) it sends and takes: the netdev's MTU. */
  readonly mtu: number;
  /** TCP segmentation offload. */
  readonly tso: boolean;
  /** Generic receive offload (a kernel feature the driver turns on: ethtool -K gro). */
  readonly gro: boolean;
  /** Largest TSO packet, bytes. */
  readonly gsoMaxSizeBytes: number;
  readonly link: LinkConfig;
  /** PCIe bandwidth for DMA, bytes per ns (Gen3 x8: ~7.9 GB/s). */
  readonly dmaBytesPerNs: number;
  /** A DMA read's round trip (descriptor fetch, then data). */
  readonly dmaReadLatencyNs: number;
  readonly coalesce: CoalesceConfig;
}

/** ConnectX-4 Lx-like defaults [mem]: 1024-entry rings, mlx5e's static moderation profile. */
export const DEFAULT_COALESCE: CoalesceConfig = { rxUsecs: 8, rxFrames: 128, txUsecs: 16, txFrames: 32, adaptiveRx: false };

export function defaultNicConfig(link: LinkConfig, queues: number): NicConfig {
  return {
    model: 'ConnectX-4 Lx',
    queues,
    txRingSize: 1024,
    rxRingSize: 1024,
    maxFrags: 17,
    mtu: ETH_DATA_LEN,
    tso: true,
    gro: true,
    gsoMaxSizeBytes: 65536,
    link,
    dmaBytesPerNs: 7.9,
    dmaReadLatencyNs: 500,
    coalesce: { ...DEFAULT_COALESCE },
  };
}

/** How much wire time ahead of the MAC the DMA engine may prefetch (the tx FIFO). */
const TX_FIFO_BYTES = 16 * 1024;
/** Receive DMA is posted writes: no round trip, only a short pipeline delay. */
const RX_DMA_LATENCY_NS = 200;

/** What the NIC calls on the driver (the MSI-X message). */
export interface NicHost {
  readonly env: Environment;
  /** The vector of queue pair `qid` fires (the driver masks it until napi_complete_done re-arms). */
  raiseInterrupt(qid: number): void;
  /** The DMA engine read a packet's buffers (for tracing; the payload is fixed from here on), cut into `frames` frames. */
  onTxDma?(qid: number, pkt: TxPacket, frames: number, startNs: number, endNs: number): void;
}

/** Per-queue-pair hardware state. */
class NicQueue {
  /** Descriptors posted and not yet completed. */
  txInUse = 0;
  readonly txCq: TxCompletion[] = [];
  readonly rxCq: RxCompletion[] = [];
  /** Receive buffers posted by the driver and not yet filled. */
  rxPosted = 0;
  /** The vector is armed (interrupts enabled for this queue pair). */
  armed = true;
  /** Completions since the last interrupt, and the moderation timer's deadline (-1: none). */
  pendingRx = 0;
  pendingTx = 0;
  /** When the first completion of each kind since the last interrupt came (its period starts then). */
  rxFirstNs = 0;
  txFirstNs = 0;
  deadlineNs = -1;
  interrupts = 0;

  constructor(readonly qid: number) {}
}

interface TxEvent {
  readonly nic: Nic;
  readonly q: NicQueue;
  readonly pkt: TxPacket;
  /** When the DMA read began. */
  readonly startNs: number;
}

interface RxEvent {
  readonly nic: Nic;
  readonly q: NicQueue;
  readonly frame: EthFrame;
}

interface TimerEvent {
  readonly nic: Nic;
  readonly q: NicQueue;
}

/** An Ethernet controller plugged into a switch port. */
export class Nic implements FrameSink {
  private readonly qs: NicQueue[] = [];
  readonly port: SwitchPort;
  private host: NicHost | undefined;
  private dmaFreeAtNs = 0;
  private rxDmaFreeAtNs = 0;
  readonly coalesce: CoalesceConfig;
  /** ethtool -S style counters. */
  readonly stats = { txPackets: 0, txFrames: 0, txBytes: 0, rxFrames: 0, rxBytes: 0, rxMissed: 0, tsoPackets: 0 };

  constructor(
    readonly env: Environment,
    readonly config: NicConfig,
    network: EthernetSwitch,
    addrs: readonly number[],
  ) {
    for (let i = 0; i < config.queues; i++) this.qs.push(new NicQueue(i));
    this.port = network.attach(addrs, this, config.link);
    this.coalesce = { ...config.coalesce };
  }

  attach(host: NicHost): void {
    this.host = host;
  }

  get queueCount(): number {
    return this.qs.length;
  }

  txFreeDescriptors(qid: number): number {
    return this.config.txRingSize - this.qs[qid]!.txInUse;
  }

  interruptsOf(qid: number): number {
    return this.qs[qid]!.interrupts;
  }

  /** Posts a packet's descriptors and rings the doorbell. */
  xmit(qid: number, pkt: TxPacket): void {
    const q = this.qs[qid]!;
    q.txInUse += pkt.descriptors;
    const nsPerByte = this.port.nsPerByte;
    // prefetch no further ahead of the MAC than its FIFO holds
    const fifoStartNs = this.port.txFreeAtNs - TX_FIFO_BYTES * nsPerByte;
    const startNs = Math.max(this.env.nowNs, this.dmaFreeAtNs, fifoStartNs);
    let dmaBytes = pkt.headerBytes;
    for (const b of pkt.buffers) dmaBytes += b.lenBytes;
    const endNs = startNs + this.config.dmaReadLatencyNs + dmaBytes / this.config.dmaBytesPerNs;
    this.dmaFreeAtNs = endNs;
    this.env.at(Math.ceil(endNs), Priority.URGENT, txDmaDone, { nic: this, q, pkt, startNs: Math.floor(startNs) });
  }

  /** @internal the packet's buffers are in the NIC: cut it into frames and put them on the wire. */
  txDmaDone(q: NicQueue, pkt: TxPacket, startNs: number): void {
    const payload = readPayload(pkt);
    const mss = pkt.mss > 0 && pkt.payloadBytes > pkt.mss ? pkt.mss : pkt.payloadBytes;
    const segs = mss > 0 ? Math.ceil(pkt.payloadBytes / mss) : 1;
    this.host?.onTxDma?.(q.qid, pkt, segs, startNs, this.env.nowNs);
    if (segs > 1) this.stats.tsoPackets++;
    let lastNs = this.env.nowNs;
    for (let i = 0; i < segs; i++) {
      const off = i * mss;
      const len = Math.min(mss, pkt.payloadBytes - off);
      const frame: EthFrame = {
        saddr: pkt.saddr,
        daddr: pkt.daddr,
        frameBytes: pkt.headerBytes + len,
        protocol: pkt.protocol,
        headerBytes: pkt.headerBytes,
        flow: pkt.flow,
        tcp: pkt.tcp === undefined ? undefined : tsoSegmentCb(pkt.tcp, off, len, i === 0, i === segs - 1),
        payload: payload === undefined ? undefined : payload.subarray(off, off + len),
        ioId: pkt.ioId,
      };
      lastNs = this.port.transmit(frame, lastNs);
      this.stats.txFrames++;
      this.stats.txBytes += frame.frameBytes;
    }
    this.stats.txPackets++;
    this.env.at(Math.ceil(lastNs), Priority.URGENT, txWireDone, { nic: this, q, pkt, startNs });
  }

  /** @internal the last frame left: write the completion, free the descriptors. */
  txWireDone(q: NicQueue, pkt: TxPacket): void {
    q.txInUse -= pkt.descriptors;
    q.txCq.push({ cookie: pkt.cookie, frames: pkt.mss > 0 ? Math.max(1, Math.ceil(pkt.payloadBytes / pkt.mss)) : 1, ioId: pkt.ioId });
    if (q.pendingTx++ === 0) q.txFirstNs = this.env.nowNs;
    this.moderate(q);
  }

  /** The driver posts `n` receive buffers on queue `qid` (refill). */
  postRxBuffers(qid: number, n: number): void {
    const q = this.qs[qid]!;
    q.rxPosted = Math.min(this.config.rxRingSize, q.rxPosted + n);
  }

  rxPostedOf(qid: number): number {
    return this.qs[qid]!.rxPosted;
  }

  /** A frame arrived from the wire: RSS picks the queue, DMA into its next posted buffer. */
  receiveFrame(frame: EthFrame): void {
    if (frame.frameBytes - 14 > this.config.mtu) {
      this.stats.rxMissed++;
      return;
    }
    const q = this.qs[rssQueue(frame.flow, this.qs.length)]!;
    if (q.rxPosted === 0) {
      // rx_missed_errors / rx_out_of_buffer: the ring had no buffer for it
      this.stats.rxMissed++;
      return;
    }
    q.rxPosted--;
    const startNs = Math.max(this.env.nowNs, this.rxDmaFreeAtNs);
    const endNs = startNs + frame.frameBytes / this.config.dmaBytesPerNs;
    this.rxDmaFreeAtNs = endNs;
    this.env.at(Math.ceil(endNs + RX_DMA_LATENCY_NS), Priority.URGENT, rxDmaDone, { nic: this, q, frame });
  }

  /** @internal */
  rxDmaDone(q: NicQueue, frame: EthFrame): void {
    this.stats.rxFrames++;
    this.stats.rxBytes += frame.frameBytes;
    q.rxCq.push({ frame, doneNs: this.env.nowNs });
    if (q.pendingRx++ === 0) q.rxFirstNs = this.env.nowNs;
    this.moderate(q);
  }

  /** Takes up to `max` receive completions of queue `qid`, oldest first. */
  reapRx(qid: number, max: number): RxCompletion[] {
    const cq = this.qs[qid]!.rxCq;
    return cq.splice(0, Math.min(max, cq.length));
  }

  reapTx(qid: number): TxCompletion[] {
    const cq = this.qs[qid]!.txCq;
    return cq.splice(0, cq.length);
  }

  rxPending(qid: number): number {
    return this.qs[qid]!.rxCq.length;
  }

  /** Re-arms the vector (mlx5e_cq_arm after napi_complete_done): completions waiting fire it. */
  arm(qid: number): void {
    const q = this.qs[qid]!;
    q.armed = true;
    q.pendingRx = q.rxCq.length;
    q.pendingTx = q.txCq.length;
    q.rxFirstNs = this.env.nowNs;
    q.txFirstNs = this.env.nowNs;
    if (q.pendingRx + q.pendingTx > 0) this.moderate(q);
  }

  /**
   * Interrupt moderation: with the vector armed, fire once `frames` completions are pending or
   * `usecs` have passed since the first of them (the period starts at the first event, as a CQ in
   * EQE-based mode); usecs 0 fires on every completion.
   */
  private moderate(q: NicQueue): void {
    if (!q.armed) return;
    const c = this.coalesce;
    const rxDue = q.pendingRx > 0 && (c.rxUsecs === 0 || q.pendingRx >= Math.max(1, c.rxFrames));
    const txDue = q.pendingTx > 0 && (c.txUsecs === 0 || q.pendingTx >= Math.max(1, c.txFrames));
    if (rxDue || txDue) {
      this.fire(q);
      return;
    }
    // each kind's period runs from its first completion; the earlier end fires the vector
    const rxEndNs = q.pendingRx > 0 ? q.rxFirstNs + c.rxUsecs * 1000 : Infinity;
    const txEndNs = q.pendingTx > 0 ? q.txFirstNs + c.txUsecs * 1000 : Infinity;
    const endNs = Math.max(this.env.nowNs, Math.min(rxEndNs, txEndNs));
    if (endNs === q.deadlineNs || endNs === Infinity) return;
    if (q.deadlineNs >= 0 && q.deadlineNs < endNs) return;
    q.deadlineNs = endNs;
    this.env.at(endNs, Priority.URGENT, moderationTimer, { nic: this, q });
  }

  /** @internal */
  moderationTimer(q: NicQueue): void {
    // a timer armed before an interrupt that already fired is stale
    if (q.deadlineNs !== this.env.nowNs || !q.armed) return;
    this.fire(q);
  }

  private fire(q: NicQueue): void {
    q.armed = false;
    q.pendingRx = 0;
    q.pendingTx = 0;
    q.deadlineNs = -1;
    q.interrupts++;
    this.host?.raiseInterrupt(q.qid);
  }
}

function txDmaDone(e: TxEvent): void {
  e.nic.txDmaDone(e.q, e.pkt, e.startNs);
}
function txWireDone(e: TxEvent): void {
  e.nic.txWireDone(e.q, e.pkt);
}
function rxDmaDone(e: RxEvent): void {
  e.nic.rxDmaDone(e.q, e.frame);
}
function moderationTimer(e: TimerEvent): void {
  e.nic.moderationTimer(e.q);
}

/** The payload as the DMA reads it now; undefined when no buffer carries content. */
function readPayload(pkt: TxPacket): Uint8Array | undefined {
  if (!pkt.buffers.some((b) => b.source !== undefined || b.bytes !== undefined)) return undefined;
  const out = new Uint8Array(pkt.payloadBytes);
  let at = 0;
  for (const b of pkt.buffers) {
    const n = Math.min(b.lenBytes, pkt.payloadBytes - at);
    if (n <= 0) break;
    if (b.bytes !== undefined) out.set(b.bytes.subarray(0, n), at);
    else if (b.source !== undefined) out.set(b.source.read(b.sourceOffsetBytes ?? 0, n).subarray(0, n), at);
    at += n;
  }
  return out;
}

/** RSS: a flow's 4-tuple hash picks its receive queue (Toeplitz in hardware; any stable hash here). */
export function rssQueue(flow: FlowKey, queues: number): number {
  if (queues <= 1) return 0;
  let h = Math.imul(flow.saddr ^ 0x9e3779b9, 0x85ebca6b) ^ flow.daddr;
  h = Math.imul(h ^ (flow.sport << 16) ^ flow.dport, 0xc2b2ae35);
  h ^= h >>> 15;
  return (h >>> 0) % queues;
}
