// Models: struct net (include/net/net_namespace.h): one network namespace per machine, holding
// its devices (dev_base_head), the protocol handlers netif_receive_skb delivers to (ptype_base),
// the sysctls under /proc/sys/net, and the counters kiotrace reports: every byte copied on the
// way between user memory, the page cache, socket buffers and the NIC, by kind of copy.

import type { Cpu } from '../kernel/sched/core.js';
import type { NetDevice } from './netdevice.js';
import type { SkBuff } from './skbuff.js';

/** A packet_type handler (ip_rcv): runs in NET_RX softirq context, returns CPU ns spent. */
export type PacketHandler = (skb: SkBuff, cpu: Cpu) => number;

/** Bytes copied, by where from and where to (the copies a byte costs on its way). */
export interface NetCopyStat {
  /** copy_from_user into socket buffers (send, write on a socket). */
  userToSkbBytes: number;
  /** copy_to_user out of socket buffers (recv, read on a socket). */
  skbToUserBytes: number;
  /** Page-cache pages copied into an skb (a splice/sendfile chunk that could not go by reference). */
  pageToSkbBytes: number;
  /** skb_linearize / __skb_linearize: fragments copied into one buffer (too many for the NIC). */
  linearizeBytes: number;
  /** Bytes sent by page reference (no CPU copy): sendfile/splice, MSG_ZEROCOPY, SEND_ZC. */
  zerocopyBytes: number;
}

/** /proc/sys/net defaults (Linux 6.x). */
export interface NetSysctl {
  /** net.ipv4.tcp_wmem: min, default, max send buffer bytes. */
  tcpWmem: readonly [number, number, number];
  /** net.ipv4.tcp_rmem: min, default, max receive buffer bytes. */
  tcpRmem: readonly [number, number, number];
  /** net.core.somaxconn */
  somaxconn: number;
  /** net.ipv4.tcp_moderate_rcvbuf: receive buffer autotuning. */
  tcpModerateRcvbuf: boolean;
  /** net.core.netdev_budget: packets per NET_RX softirq run; netdev_budget_usecs its time bound. */
  netdevBudget: number;
  netdevBudgetUsecs: number;
  /** net.core.optmem_max: bounds the MSG_ZEROCOPY notifications outstanding per socket. */
  optmemMax: number;
}

export const DEFAULT_NET_SYSCTL: NetSysctl = {
  tcpWmem: [4096, 16384, 4194304],
  tcpRmem: [4096, 131072, 6291456],
  somaxconn: 4096,
  tcpModerateRcvbuf: true,
  netdevBudget: 300,
  netdevBudgetUsecs: 2000,
  optmemMax: 131072,
};

export class NetNamespace {
  readonly devices: NetDevice[] = [];
  readonly copies: NetCopyStat = { userToSkbBytes: 0, skbToUserBytes: 0, pageToSkbBytes: 0, linearizeBytes: 0, zerocopyBytes: 0 };
  /** Packets dropped at the device boundary (no handler, driver refused). */
  readonly stat = { txDropped: 0, rxDropped: 0 };
  sysctl: NetSysctl = DEFAULT_NET_SYSCTL;
  private readonly ptypes = new Map<number, PacketHandler>();
  private nextIfindex = 1;

  /** register_netdevice: gives the device its ifindex (lo is 1, as it registers first). */
  allocIfindex(): number {
    return this.nextIfindex++;
  }

  registerNetdevice(dev: NetDevice): void {
    this.devices.push(dev);
  }

  /** dev_add_pack */
  addPack(protocol: number, handler: PacketHandler): void {
    this.ptypes.set(protocol, handler);
  }

  packetHandler(protocol: number): PacketHandler | undefined {
    return this.ptypes.get(protocol);
  }

  deviceByName(name: string): NetDevice | undefined {
    return this.devices.find((d) => d.name === name);
  }

  /** The device that owns `addr` (a local address), if any. */
  deviceWithAddr(addr: number): NetDevice | undefined {
    return this.devices.find((d) => d.ipv4.some((a) => a.addr === addr));
  }
}
