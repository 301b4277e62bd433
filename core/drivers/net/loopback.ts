// Models: drivers/net/loopback.c (the lo device: 127.0.0.1/8, MTU 65536, TSO/GSO/SG so TCP hands
// it 64 KiB skbs whole; loopback_xmit gives each packet straight back to the stack) and the part of
// net/core/dev.c it goes through: netif_rx -> enqueue_to_backlog (the CPU's softnet backlog) ->
// NET_RX_SOFTIRQ -> process_backlog -> __netif_receive_skb.
// SIMPLIFICATION: the per-CPU backlog lives here until dev.c grows its own; its limit is
// net.core.netdev_max_backlog (1000) and netdev_budget bounds one softirq run.

import type { Kernel } from '../../kernel/kernel.js';
import { SOFTIRQ, type Cpu, type SoftirqWork } from '../../kernel/sched/core.js';
import { NETDEV_TX, NETIF_F, type NetDevice } from '../../net/netdevice.js';
import { ipv4, type NetDeviceOps } from '../../net/netdevice.js';
import { MAX_SKB_FRAGS, type SkBuff } from '../../net/skbuff.js';
import { netifReceiveSkb } from '../../net/core/dev.js';
import { kfreeSkb } from '../../net/core/skbuff.js';
import { LOOPBACK_XMIT_NS, SOFTIRQ_BASE_NS } from '../../hw/cpu.js';

/** net.core.netdev_max_backlog */
export const NETDEV_MAX_BACKLOG = 1000;
/** The loopback device's MTU (LOOPBACK_MTU since 4.x: 64 KiB). */
export const LOOPBACK_MTU = 65536;
/** lo's kernel address: a fixed one, so registering it does not move any other object's address. */
const LOOPBACK_KADDR = 0x3_0000_0000_0000;

/** softnet_data's input_pkt_queue, one per CPU. */
class Backlog {
  readonly queue: SkBuff[] = [];
  scheduled = false;
  dropped = 0;
}

const backlogs = new WeakMap<Kernel, Backlog[]>();

function backlogOf(k: Kernel, cpu: Cpu): Backlog {
  let list = backlogs.get(k);
  if (list === undefined) backlogs.set(k, (list = []));
  return (list[cpu.id] ??= new Backlog());
}

/** netif_rx: queue the packet on this CPU's backlog and raise NET_RX (from process or softirq context). */
export function netifRx(k: Kernel, skb: SkBuff, cpu: Cpu): void {
  const b = backlogOf(k, cpu);
  if (b.queue.length >= NETDEV_MAX_BACKLOG) {
    b.dropped++;
    k.net.stat.rxDropped++;
    kfreeSkb(k, skb, 'CPU_BACKLOG');
    return;
  }
  b.queue.push(skb);
  if (b.scheduled) return;
  b.scheduled = true;
  const work: SoftirqWork = { vec: SOFTIRQ.NET_RX, ioId: skb.ioId, costNs: SOFTIRQ_BASE_NS, handler: (c) => processBacklog(k, b, c) };
  k.sched.raiseSoftirq(cpu, work);
}

/** process_backlog: delivers up to netdev_budget packets; more left re-raises NET_RX. */
function processBacklog(k: Kernel, b: Backlog, cpu: Cpu): number {
  let ns = 0;
  let n = 0;
  const budget = k.net.sysctl.netdevBudget;
  while (b.queue.length > 0 && n < budget) {
    const skb = b.queue.shift()!;
    ns += netifReceiveSkb(k, skb, cpu);
    n++;
  }
  b.scheduled = false;
  if (b.queue.length > 0) {
    b.scheduled = true;
    k.sched.raiseSoftirq(cpu, { vec: SOFTIRQ.NET_RX, ioId: b.queue[0]!.ioId, costNs: SOFTIRQ_BASE_NS, handler: (c) => processBacklog(k, b, c) });
  }
  return ns;
}

const loopbackOps: NetDeviceOps = {
  /** loopback_xmit: the packet becomes a received one on the same CPU. */
  startXmit(skb: SkBuff, dev: NetDevice, cpu: Cpu) {
    const k = kernels.get(dev)!;
    netifRx(k, skb, cpu);
    return { status: NETDEV_TX.OK, costNs: LOOPBACK_XMIT_NS };
  },
};

const kernels = new WeakMap<NetDevice, Kernel>();

/** loopback_net_init: registers lo (ifindex 1) with 127.0.0.1/8. */
export function loopbackNetInit(k: Kernel): NetDevice {
  const dev: NetDevice = {
    kaddr: LOOPBACK_KADDR,
    name: 'lo',
    ifindex: k.net.allocIfindex(),
    mtu: LOOPBACK_MTU,
    features: NETIF_F.SG | NETIF_F.IP_CSUM | NETIF_F.TSO | NETIF_F.GSO | NETIF_F.LOOPBACK,
    maxFrags: MAX_SKB_FRAGS,
    gsoMaxSizeBytes: 65536,
    numTxQueues: 1,
    numRxQueues: 1,
    ipv4: [{ addr: ipv4('127.0.0.1'), prefixLen: 8 }],
    ops: loopbackOps,
    txQueueStopped: [false],
  };
  kernels.set(dev, k);
  k.net.registerNetdevice(dev);
  return dev;
}
