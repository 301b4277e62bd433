// Models: drivers/net/ethernet/mellanox/mlx5/core/en_main.c, en_tx.c, en_rx.c, en_txrx.c and
// en/dim: an mlx5e-class Ethernet driver. ndo_start_xmit (mlx5e_xmit) maps the linear head and
// each fragment for DMA and posts their descriptors (one TSO context when the skb is GSO), after
// linearizing an skb with more buffers than the device takes; it stops the queue when the ring
// has no room for a worst-case packet. The channel's MSI-X vector (mlx5_compN) schedules NAPI;
// mlx5e_napi_poll reaps transmit completions (consume_skb: the socket's destructor, the zero-copy
// notification), wakes a stopped queue, builds skbs from receive completions up to its budget,
// hands them to GRO (napi_gro_receive, flushed at the poll's end) or __netif_receive_skb, refills the ring and, when under budget, completes NAPI and
// re-arms the completion queues. ethtool -C sets the moderation; adaptive-rx (DIM) retunes it.
// SIMPLIFICATION: adaptive-rx picks the moderation profile from the measured packet rate at each
// sample (every NET_DIM_NEVENTS interrupts) instead of net_dim's step-and-compare search.
// SIMPLIFICATION: the per-packet buffer limit is checked over the whole packet (i40e checks every
// MSS window of a TSO packet).

import type { Kernel } from '../../kernel/kernel.js';
import type { Cpu } from '../../kernel/sched/core.js';
import { DMA_MAP_SG_ENTRY_NS, HARDIRQ_BASE_NS } from '../../hw/cpu.js';
import type { Nic, NicHost, TxBuffer, TxPacket } from '../../hw/nic/nic.js';
import { NETDEV_TX, NETIF_F, type EthtoolCoalesce, type NapiStruct, type NetDevice } from '../../net/netdevice.js';
import { EINVAL } from '../../uapi/errno.js';
import { ETH_HLEN, skbHeadlen, type SkBuff } from '../../net/skbuff.js';
import { allocSkb, consumeSkb, skbHeadPayload, skbLinearize } from '../../net/core/skbuff.js';
import { napiSchedule, netifNapiAdd, netifReceiveSkb, netifTxWakeQueue } from '../../net/core/dev.js';
import { napiGroFlush, napiGroReceive } from '../../net/core/gro.js';

/** The CQ moderation fields' widths: cq_period 12 bits (usecs), cq_max_count 16 bits. */
const MLX5E_MAX_CQ_PERIOD_USECS = 4095;
const MLX5E_MAX_CQ_COUNT = 65535;
/** NAPI_POLL_WEIGHT */
export const NAPI_POLL_WEIGHT = 64;
/** mlx5e_xmit's fixed part: WQE build, doorbell record and MMIO write. */
const XMIT_NS = 250;
/** Per transmit completion: unmap and napi_consume_skb's bookkeeping (the destructor is extra). */
const TX_CLEAN_NS = 80;
/** Per received frame: CQE parse, build_skb, eth_type_trans. */
const RX_PKT_NS = 200;
/** Per receive buffer re-posted (page pool recycle + WQE). */
const RX_REFILL_NS = 30;
/** First irq number of a NIC's vectors (an x86 PCI MSI range after the NVMe controllers'). */
const MLX5_IRQ_BASE = 150;
/** Vectors numbered apart per NIC: at most this many channels each. */
const MLX5_MAX_CHANNELS = 64;
/** net_dim samples its statistics every NET_DIM_NEVENTS interrupts. */
const NET_DIM_NEVENTS = 64;
/** net_dim's EQE-based rx profiles (usecs, frames), lowest latency first. */
const RX_DIM_PROFILES: readonly (readonly [usecs: number, frames: number])[] = [
  [1, 256],
  [8, 256],
  [64, 256],
  [128, 256],
  [256, 256],
];
/** Packet rates (packets per second) separating the profiles above. */
const RX_DIM_PPS_STEPS: readonly number[] = [100_000, 300_000, 600_000, 1_000_000];

/** A channel: one queue pair, its vector and its NAPI instance. */
class Mlx5eChannel implements NapiStruct {
  weight = NAPI_POLL_WEIGHT;
  /** Transmitted skbs by their descriptor cookie, until their completion. */
  readonly inflight = new Map<number, SkBuff>();
  nextCookie = 1;
  /** DIM: interrupts and packets since the last sample, and when it began. */
  dimEvents = 0;
  dimPackets = 0;
  dimStartNs = 0;

  constructor(
    readonly drv: Mlx5eDriver,
    readonly dev: NetDevice,
    readonly index: number,
    readonly cpuId: number,
  ) {}

  poll(_napi: NapiStruct, budget: number, cpu: Cpu): { workDone: number; costNs: number } {
    return this.drv.napiPoll(this, budget, cpu);
  }
}

/** What a scenario sets for a NIC's kernel side. */
export interface Mlx5eParams {
  readonly name: string;
  readonly addr: number;
  readonly prefixLen: number;
  /** PCI bus number, for the vectors' names. */
  readonly bus: number;
}

export class Mlx5eDriver implements NicHost {
  readonly dev: NetDevice;
  readonly channels: Mlx5eChannel[] = [];
  /** Skbs linearized because they had more buffers than the device takes. */
  linearized = 0;

  constructor(
    readonly k: Kernel,
    readonly nic: Nic,
    readonly params: Mlx5eParams,
  ) {
    const cfg = nic.config;
    const features = NETIF_F.SG | NETIF_F.IP_CSUM | NETIF_F.GSO | (cfg.tso ? NETIF_F.TSO : 0) | (cfg.gro ? NETIF_F.GRO : 0);
    const stopped: boolean[] = [];
    for (let i = 0; i < cfg.queues; i++) stopped.push(false);
    this.dev = {
      kaddr: k.kaddr(),
      name: params.name,
      ifindex: k.net.allocIfindex(),
      mtu: cfg.mtu,
      features,
      maxFrags: cfg.maxFrags,
      gsoMaxSizeBytes: cfg.gsoMaxSizeBytes,
      numTxQueues: cfg.queues,
      numRxQueues: cfg.queues,
      ipv4: [{ addr: params.addr, prefixLen: params.prefixLen }],
      ops: { startXmit: (skb, dev, cpu) => this.startXmit(skb, dev, cpu) },
      ethtoolOps: { getCoalesce: () => this.getCoalesce(), setCoalesce: (_dev, c) => this.setCoalesce(c) },
      txQueueStopped: stopped,
    };
    const nrCpus = k.sched.cpus.length;
    for (let i = 0; i < cfg.queues; i++) {
      const ch = new Mlx5eChannel(this, this.dev, i, i % nrCpus);
      netifNapiAdd(k, ch);
      this.channels.push(ch);
      nic.postRxBuffers(i, cfg.rxRingSize);
    }
    nic.attach(this);
    k.net.registerNetdevice(this.dev);
  }

  get env() {
    return this.k.env;
  }

  /** The most descriptors one packet can take: header, every buffer, a TSO context. */
  private get stopRoom(): number {
    return this.nic.config.maxFrags + 2;
  }

  /** ndo_start_xmit (mlx5e_xmit). */
  startXmit(skb: SkBuff, dev: NetDevice, cpu: Cpu): { status: number; costNs: number } {
    const qid = skb.queueMapping % this.channels.length;
    const ch = this.channels[qid]!;
    let costNs = XMIT_NS;
    const headPayloadBytes = Math.max(0, skbHeadlen(skb) - skb.headerBytes);
    let nrBufs = (headPayloadBytes > 0 ? 1 : 0) + skb.frags.length;
    if (nrBufs > this.nic.config.maxFrags) {
      // more buffers than the device's descriptors take: one copy into a single buffer
      costNs += skbLinearize(this.k, skb, cpu);
      this.linearized++;
      nrBufs = 1;
    }
    const descriptors = 1 + nrBufs + (skb.gsoSize > 0 ? 1 : 0);
    if (this.nic.txFreeDescriptors(qid) < descriptors) {
      dev.txQueueStopped[qid] = true;
      return { status: NETDEV_TX.BUSY, costNs };
    }
    const buffers: TxBuffer[] = [];
    const head = skbHeadPayload(skb);
    const payloadBytes = skb.lenBytes - skb.headerBytes;
    const linearBytes = skb.lenBytes - skb.dataLenBytes - skb.headerBytes;
    if (linearBytes > 0) buffers.push({ dmaAddr: skb.kaddr, lenBytes: linearBytes, ...(head === undefined ? {} : { bytes: head }) });
    for (const f of skb.frags) {
      buffers.push({ dmaAddr: f.pfn * 4096 + f.offsetBytes, lenBytes: f.lenBytes, ...(f.source === undefined ? {} : { source: f.source, sourceOffsetBytes: f.sourceOffsetBytes ?? 0 }) });
    }
    costNs += DMA_MAP_SG_ENTRY_NS * (buffers.length + 1);
    const cookie = ch.nextCookie++;
    ch.inflight.set(cookie, skb);
    const pkt: TxPacket = {
      cookie,
      headerBytes: skb.headerBytes,
      buffers,
      descriptors,
      payloadBytes,
      mss: skb.gsoSize > 0 && (dev.features & NETIF_F.TSO) !== 0 ? skb.gsoSize : 0,
      saddr: skb.flow.saddr,
      daddr: skb.flow.daddr,
      protocol: skb.protocol,
      flow: skb.flow,
      tcp: skb.tcp,
      ioId: skb.ioId,
    };
    this.nic.xmit(qid, pkt);
    // netif_tx_stop_queue: no room left for a worst-case packet
    if (this.nic.txFreeDescriptors(qid) < this.stopRoom) dev.txQueueStopped[qid] = true;
    return { status: NETDEV_TX.OK, costNs };
  }

  /** The DMA engine read a packet: kiotrace:nic_tx_dma. */
  onTxDma(qid: number, pkt: TxPacket, frames: number, startNs: number, endNs: number): void {
    const tp = this.k.tp.nic_tx_dma;
    if (!tp.enabled) return;
    const ch = this.channels[qid]!;
    const skb = ch.inflight.get(pkt.cookie);
    if (skb === undefined) return;
    let bytes = pkt.headerBytes;
    for (const b of pkt.buffers) bytes += b.lenBytes;
    tp.emit(this.k.sched.cpu(ch.cpuId), skb.ioId, this.dev, qid, skb, bytes, pkt.buffers.length, frames, startNs, endNs);
  }

  /** The channel's MSI-X vector (mlx5e_completion_event -> napi_schedule). */
  raiseInterrupt(qid: number): void {
    const ch = this.channels[qid]!;
    const cpu = this.k.sched.cpu(ch.cpuId);
    this.k.sched.raiseIrq(cpu, {
      irq: MLX5_IRQ_BASE + this.params.bus * MLX5_MAX_CHANNELS + qid,
      name: `mlx5_comp${qid}@pci:0000:${this.params.bus.toString(16).padStart(2, '0')}:00.0`,
      ioId: 0,
      costNs: HARDIRQ_BASE_NS,
      handler: (c) => {
        napiSchedule(this.k, ch, c, c.irqIoId);
        return 0;
      },
    });
  }

  /** mlx5e_napi_poll */
  napiPoll(ch: Mlx5eChannel, budget: number, cpu: Cpu): { workDone: number; costNs: number } {
    const k = this.k;
    const qid = ch.index;
    let costNs = 0;
    // transmit completions: the skbs are done (their budget does not count against NAPI's)
    for (const c of this.nic.reapTx(qid)) {
      const skb = ch.inflight.get(c.cookie);
      if (skb === undefined) continue;
      ch.inflight.delete(c.cookie);
      costNs += TX_CLEAN_NS;
      consumeSkb(k, skb, cpu);
    }
    if (this.dev.txQueueStopped[qid] === true && this.nic.txFreeDescriptors(qid) >= this.stopRoom) costNs += netifTxWakeQueue(k, this.dev, qid, cpu);
    const comps = this.nic.reapRx(qid, budget);
    const gro = (this.dev.features & NETIF_F.GRO) !== 0;
    for (const comp of comps) {
      const f = comp.frame;
      const skb = allocSkb(k, k.newIoId(), f.flow);
      skb.lenBytes = f.frameBytes - ETH_HLEN;
      skb.headerBytes = f.headerBytes - ETH_HLEN;
      if (f.payload !== undefined) skb.headContent = f.payload;
      skb.protocol = f.protocol;
      skb.dev = this.dev;
      skb.queueMapping = qid;
      skb.tcp = f.tcp;
      skb.tstampNs = comp.doneNs;
      cpu.irqIoId = skb.ioId;
      costNs += RX_PKT_NS + (gro ? napiGroReceive(k, ch, skb, cpu) : netifReceiveSkb(k, skb, cpu));
    }
    if (gro) costNs += napiGroFlush(k, ch, cpu);
    this.nic.postRxBuffers(qid, comps.length);
    costNs += RX_REFILL_NS * comps.length;
    ch.dimPackets += comps.length;
    if (comps.length < budget) {
      // napi_complete_done: interrupts back on
      if (this.nic.coalesce.adaptiveRx) this.dimSample(ch);
      this.nic.arm(qid);
    }
    return { workDone: comps.length, costNs };
  }

  /** net_dim, simplified (see the header): every NET_DIM_NEVENTS interrupts, the profile for the packet rate. */
  private dimSample(ch: Mlx5eChannel): void {
    ch.dimEvents++;
    if (ch.dimEvents < NET_DIM_NEVENTS) return;
    const nowNs = this.k.env.nowNs;
    const pps = nowNs > ch.dimStartNs ? (ch.dimPackets * 1e9) / (nowNs - ch.dimStartNs) : 0;
    let idx = 0;
    while (idx < RX_DIM_PPS_STEPS.length && pps >= RX_DIM_PPS_STEPS[idx]!) idx++;
    const [usecs, frames] = RX_DIM_PROFILES[idx]!;
    this.nic.coalesce.rxUsecs = usecs;
    this.nic.coalesce.rxFrames = frames;
    ch.dimEvents = 0;
    ch.dimPackets = 0;
    ch.dimStartNs = nowNs;
  }

  /** mlx5e_get_coalesce (ethtool -c). */
  getCoalesce(): EthtoolCoalesce {
    const c = this.nic.coalesce;
    return { rxUsecs: c.rxUsecs, rxFrames: c.rxFrames, txUsecs: c.txUsecs, txFrames: c.txFrames, useAdaptiveRx: c.adaptiveRx };
  }

  /** mlx5e_set_coalesce (ethtool -C): every channel's moderation; -EINVAL past the CQ's 12-bit period or 16-bit count. */
  setCoalesce(c: Partial<EthtoolCoalesce>): number {
    const usecsOk = (v: number | undefined): boolean => v === undefined || (Number.isInteger(v) && v >= 0 && v <= MLX5E_MAX_CQ_PERIOD_USECS);
    const framesOk = (v: number | undefined): boolean => v === undefined || (Number.isInteger(v) && v >= 0 && v <= MLX5E_MAX_CQ_COUNT);
    if (!usecsOk(c.rxUsecs) || !usecsOk(c.txUsecs) || !framesOk(c.rxFrames) || !framesOk(c.txFrames)) return -EINVAL;
    const m = this.nic.coalesce;
    if (c.rxUsecs !== undefined) m.rxUsecs = c.rxUsecs;
    if (c.rxFrames !== undefined) m.rxFrames = c.rxFrames;
    if (c.txUsecs !== undefined) m.txUsecs = c.txUsecs;
    if (c.txFrames !== undefined) m.txFrames = c.txFrames;
    if (c.useAdaptiveRx !== undefined) m.adaptiveRx = c.useAdaptiveRx;
    return 0;
  }
}
