// Models: net/core/dev.c: the boundary between the protocol stack and the drivers.
// dev_queue_xmit hands a packet to its device's transmit queue (net:net_dev_queue; the queue
// picked per CPU as XPS does; the qdisc holds it while the driver's ring is full), validate_xmit_skb
// fixes it for the device (software GSO when the device lacks TSO, __skb_linearize when it lacks
// scatter-gather), and ndo_start_xmit runs between net:net_dev_start_xmit and net:net_dev_xmit.
// On receive: napi_schedule from a driver's hardirq, NET_RX_SOFTIRQ's net_rx_action polling each
// scheduled NAPI instance with its weight (64) under netdev_budget packets and netdev_budget_usecs
// per run (napi:napi_poll after each poll; time_squeeze and a re-raise when the budget runs out),
// and __netif_receive_skb delivering to the protocol registered for the ethertype
// (net:netif_receive_skb), after skb_orphan_frags_rx copies a local zero-copy skb's user pages. This file is the contract the stack (core/net/ipv4/) and the drivers
// (core/drivers/net/) meet at.
// SIMPLIFICATION: the qdisc is one FIFO of txqueuelen packets per transmit queue (pfifo_fast's
// single band); a woken queue drains it inline instead of from NET_TX_SOFTIRQ.
// SIMPLIFICATION: no ksoftirqd: a NET_RX run that used up its budget re-raises the softirq, which
// runs right after on the same CPU.

import type { Kernel } from '../../kernel/kernel.js';
import { SOFTIRQ, type Cpu, type SoftirqWork } from '../../kernel/sched/core.js';
import { SOFTIRQ_BASE_NS } from '../../hw/cpu.js';
import { NETDEV_TX, NETIF_F, NET_XMIT, type NapiStruct, type NetDevice } from '../netdevice.js';
import type { NetNamespace } from '../net_namespace.js';
import type { SkBuff } from '../skbuff.js';
import { GSO_SEGMENT_NS, kfreeSkb, skbLinearize, skbOrphanFragsRx, skbSegment } from './skbuff.js';

/** What one transmit attempt did: NET_XMIT_* and the CPU time the stack and driver spent. */
export interface XmitResult {
  readonly status: number;
  readonly costNs: number;
}

/** dev->tx_queue_len: DEFAULT_TX_QUEUE_LEN. */
export const DEFAULT_TX_QUEUE_LEN = 1000;
/** __dev_queue_xmit's own work (queue pick, qdisc lock and enqueue/dequeue). */
const DEV_QUEUE_XMIT_NS = 120;
/** __netif_receive_skb_core's own work (ptype walk) per packet. */
const NETIF_RECEIVE_NS = 60;

/** struct softnet_data: a CPU's NAPI poll list and its /proc/net/softnet_stat counters. */
export interface SoftnetData {
  readonly pollList: NapiStruct[];
  /** NET_RX_SOFTIRQ raised and not yet run. */
  rxRaised: boolean;
  readonly rxWork: SoftirqWork;
  /** Packets polled, and runs that ended with work left (budget or time exhausted). */
  processed: number;
  timeSqueeze: number;
}

interface NetCoreState {
  readonly softnet: SoftnetData[];
  readonly scheduled: Set<NapiStruct>;
  readonly napiAddr: Map<NapiStruct, number>;
  /** Per device, per transmit queue: the qdisc's backlog. */
  readonly qdisc: Map<NetDevice, SkBuff[][]>;
}

const states = new WeakMap<NetNamespace, NetCoreState>();

function coreState(k: Kernel): NetCoreState {
  let st = states.get(k.net);
  if (st === undefined) {
    st = { softnet: [], scheduled: new Set(), napiAddr: new Map(), qdisc: new Map() };
    states.set(k.net, st);
  }
  return st;
}

/** this_cpu_ptr(&softnet_data) */
export function softnetData(k: Kernel, cpu: Cpu): SoftnetData {
  const st = coreState(k);
  let sd = st.softnet[cpu.id];
  if (sd === undefined) {
    const created: SoftnetData = {
      pollList: [],
      rxRaised: false,
      rxWork: { vec: SOFTIRQ.NET_RX, ioId: 0, costNs: SOFTIRQ_BASE_NS, handler: (c) => netRxAction(k, c, created) },
      processed: 0,
      timeSqueeze: 0,
    };
    sd = created;
    st.softnet[cpu.id] = sd;
  }
  return sd;
}

function qdiscOf(k: Kernel, dev: NetDevice): SkBuff[][] {
  const st = coreState(k);
  let q = st.qdisc.get(dev);
  if (q === undefined) {
    q = [];
    for (let i = 0; i < dev.numTxQueues; i++) q.push([]);
    st.qdisc.set(dev, q);
  }
  return q;
}

/** Packets waiting in `dev`'s qdisc on transmit queue `qid`. */
export function qdiscBacklog(k: Kernel, dev: NetDevice, qid: number): number {
  return qdiscOf(k, dev)[qid]!.length;
}

/** netif_xmit_stopped (a function, so a driver's stop inside a call is seen). */
function txQueueStopped(dev: NetDevice, qid: number): boolean {
  return dev.txQueueStopped[qid] === true;
}

/** netif_napi_add: the instance gets its address (what napi:napi_poll reports). */
export function netifNapiAdd(k: Kernel, napi: NapiStruct): void {
  coreState(k).napiAddr.set(napi, k.kaddr());
}

/**
 * The device a packet to `daddr` leaves on: the one whose connected subnet holds it, else the
 * first non-loopback device with an address (the default route). What fib_lookup answers on a
 * host with connected routes and one default route; undefined when the host has no such device.
 */
export function devForDaddr(k: Kernel, daddr: number): NetDevice | undefined {
  let fallback: NetDevice | undefined;
  for (const dev of k.net.devices) {
    if ((dev.features & NETIF_F.LOOPBACK) !== 0) continue;
    for (const a of dev.ipv4) {
      const mask = a.prefixLen === 0 ? 0 : (0xffff_ffff << (32 - a.prefixLen)) >>> 0;
      if (((a.addr & mask) >>> 0) === ((daddr & mask) >>> 0)) return dev;
      fallback ??= dev;
    }
  }
  return fallback;
}

/** dev_queue_xmit: from process context (a sending task) or softirq (an ACK, a retransmission). */
export function devQueueXmit(k: Kernel, skb: SkBuff, cpu: Cpu): XmitResult {
  const dev = skb.dev;
  if (dev === undefined) {
    kfreeSkb(k, skb, 'NOT_SPECIFIED', cpu);
    k.net.stat.txDropped++;
    return { status: NET_XMIT.DROP, costNs: 0 };
  }
  if (k.tp.net_dev_queue.enabled) k.tp.net_dev_queue.emit(cpu, skb.ioId, skb, dev);
  // netdev_pick_tx: XPS maps each CPU to its own transmit queue
  const qid = cpu.id % dev.numTxQueues;
  skb.queueMapping = qid;
  const backlog = qdiscOf(k, dev)[qid]!;
  let costNs = DEV_QUEUE_XMIT_NS;
  if (backlog.length > 0 || dev.txQueueStopped[qid] === true) {
    if (backlog.length >= DEFAULT_TX_QUEUE_LEN) {
      kfreeSkb(k, skb, 'QDISC_DROP', cpu);
      k.net.stat.txDropped++;
      return { status: NET_XMIT.DROP, costNs };
    }
    backlog.push(skb);
    return { status: NET_XMIT.SUCCESS, costNs };
  }
  costNs += xmitValidated(k, dev, qid, skb, cpu, backlog);
  return { status: NET_XMIT.SUCCESS, costNs };
}

/**
 * validate_xmit_skb + dev_hard_start_xmit: GSO in software when the device has no TSO,
 * linearization when it has no scatter-gather; what the driver refuses (ring full) goes back to
 * the head of the qdisc. Returns CPU ns.
 */
function xmitValidated(k: Kernel, dev: NetDevice, qid: number, skb: SkBuff, cpu: Cpu, backlog: SkBuff[]): number {
  let costNs = 0;
  let segs: SkBuff[] = [skb];
  if (skb.gsoSize > 0 && (dev.features & NETIF_F.TSO) === 0) {
    segs = skbSegment(k, skb);
    costNs += GSO_SEGMENT_NS * segs.length;
  }
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    if (s.frags.length > 0 && (dev.features & NETIF_F.SG) === 0) costNs += skbLinearize(k, s, cpu);
    if (txQueueStopped(dev, qid)) {
      backlog.unshift(...segs.slice(i));
      break;
    }
    if (k.tp.net_dev_start_xmit.enabled) k.tp.net_dev_start_xmit.emit(cpu, s.ioId, s, dev);
    const lenBytes = s.lenBytes;
    const r = dev.ops.startXmit(s, dev, cpu);
    costNs += r.costNs;
    if (k.tp.net_dev_xmit.enabled) k.tp.net_dev_xmit.emit(cpu, s.ioId, s, r.status, dev, lenBytes);
    if (r.status !== NETDEV_TX.OK) {
      // NETDEV_TX_BUSY: the driver did not take it; it waits for the queue to wake
      backlog.unshift(...segs.slice(i));
      break;
    }
  }
  return costNs;
}

/**
 * netif_tx_wake_queue: the driver freed ring space; the qdisc's backlog goes out (qdisc_run)
 * until the ring fills again. Returns CPU ns.
 */
export function netifTxWakeQueue(k: Kernel, dev: NetDevice, qid: number, cpu: Cpu): number {
  dev.txQueueStopped[qid] = false;
  const backlog = qdiscOf(k, dev)[qid]!;
  let costNs = 0;
  while (backlog.length > 0 && !txQueueStopped(dev, qid)) {
    const skb = backlog.shift()!;
    costNs += DEV_QUEUE_XMIT_NS + xmitValidated(k, dev, qid, skb, cpu, backlog);
  }
  return costNs;
}

/** __netif_receive_skb_core: to the protocol's handler (ip_rcv); an unknown protocol is dropped. */
export function netifReceiveSkb(k: Kernel, skb: SkBuff, cpu: Cpu): number {
  const dev = skb.dev;
  if (dev !== undefined && k.tp.netif_receive_skb.enabled) k.tp.netif_receive_skb.emit(cpu, skb.ioId, skb, dev);
  const handler = k.net.packetHandler(skb.protocol);
  if (handler === undefined) {
    k.net.stat.rxDropped++;
    kfreeSkb(k, skb, 'UNHANDLED_PROTO', cpu);
    return NETIF_RECEIVE_NS;
  }
  // skb_orphan_frags_rx: a local zero-copy skb (over lo) gives the sender's pages back, copied
  const orphanNs = skb.ubuf === undefined ? 0 : skbOrphanFragsRx(k, skb);
  return NETIF_RECEIVE_NS + orphanNs + handler(skb, cpu);
}

/** napi_schedule, from the driver's hardirq: onto this CPU's poll list, NET_RX_SOFTIRQ raised. */
export function napiSchedule(k: Kernel, napi: NapiStruct, cpu: Cpu, ioId: number): void {
  const st = coreState(k);
  if (st.scheduled.has(napi)) return;
  st.scheduled.add(napi);
  const sd = softnetData(k, cpu);
  sd.pollList.push(napi);
  raiseNetRx(k, cpu, sd, ioId);
}

function raiseNetRx(k: Kernel, cpu: Cpu, sd: SoftnetData, ioId: number): void {
  if (sd.rxRaised) return;
  sd.rxRaised = true;
  sd.rxWork.ioId = ioId;
  k.sched.raiseSoftirq(cpu, sd.rxWork);
}

/**
 * net_rx_action: polls the scheduled instances round robin, each up to its weight; one that used
 * its whole weight stays scheduled (napi_complete_done was not called) and goes to the tail. The
 * run stops when netdev_budget packets or netdev_budget_usecs of CPU are used (time_squeeze) and
 * raises itself again if work is left. Returns CPU ns.
 */
function netRxAction(k: Kernel, cpu: Cpu, sd: SoftnetData): number {
  sd.rxRaised = false;
  const st = coreState(k);
  let budget = k.net.sysctl.netdevBudget;
  const limitNs = k.net.sysctl.netdevBudgetUsecs * 1000;
  let usedNs = 0;
  while (sd.pollList.length > 0) {
    const napi = sd.pollList.shift()!;
    const r = napi.poll(napi, napi.weight, cpu);
    if (k.tp.napi_poll.enabled) k.tp.napi_poll.emit(cpu, cpu.irqIoId, napi, st.napiAddr.get(napi) ?? 0, r.workDone, napi.weight);
    usedNs += r.costNs;
    budget -= r.workDone;
    sd.processed += r.workDone;
    if (r.workDone >= napi.weight) sd.pollList.push(napi);
    else st.scheduled.delete(napi);
    if (sd.pollList.length > 0 && (budget <= 0 || usedNs >= limitNs)) {
      sd.timeSqueeze++;
      raiseNetRx(k, cpu, sd, cpu.irqIoId);
      break;
    }
  }
  return usedNs;
}
