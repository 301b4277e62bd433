// Models: include/linux/netdevice.h: struct net_device and its ops table (struct net_device_ops),
// the feature bits a driver advertises (NETIF_F_SG, NETIF_F_TSO, NETIF_F_GSO), the per-queue
// transmit state and struct napi_struct. Drivers (core/drivers/net/) fill these in; the stack
// (core/net/) only goes through them. ethtool_ops carries the interrupt moderation ethtool -c/-C reads and sets.

import type { Cpu } from '../kernel/sched/core.js';
import type { SkBuff } from './skbuff.js';

/** netdev_tx_t */
export const NETDEV_TX = { OK: 0, BUSY: 0x10 } as const;
/** dev_queue_xmit's results (NET_XMIT_*). */
export const NET_XMIT = { SUCCESS: 0, DROP: 1, CN: 2 } as const;

/** Feature bits (include/linux/netdev_features.h), as a bit set. */
export const NETIF_F = { SG: 1 << 0, IP_CSUM: 1 << 1, TSO: 1 << 2, GSO: 1 << 3, GRO: 1 << 4, LOOPBACK: 1 << 5 } as const;

/** struct net_device_ops, reduced to what the stack calls. */
export interface NetDeviceOps {
  /** ndo_start_xmit: takes the skb (returns NETDEV_TX.OK) or refuses it (BUSY: ring full). Returns CPU ns spent via `cost`. */
  startXmit(skb: SkBuff, dev: NetDevice, cpu: Cpu): { status: number; costNs: number };
}

/** struct ethtool_coalesce: what ethtool -c shows and -C sets (the fields kiotrace models). */
export interface EthtoolCoalesce {
  readonly rxUsecs: number;
  readonly rxFrames: number;
  readonly txUsecs: number;
  readonly txFrames: number;
  readonly useAdaptiveRx: boolean;
}

/** struct ethtool_ops, reduced to interrupt moderation. */
export interface EthtoolOps {
  getCoalesce(dev: NetDevice): EthtoolCoalesce;
  /** Returns 0, or a negative errno (-EINVAL) for a value the device does not take. */
  setCoalesce(dev: NetDevice, c: Partial<EthtoolCoalesce>): number;
}

/** struct net_device */
export interface NetDevice {
  readonly kaddr: number;
  readonly name: string;
  readonly ifindex: number;
  /** MTU in bytes (1500 on Ethernet). */
  mtu: number;
  /** NETIF_F_* bits enabled (ethtool -K changes them). */
  features: number;
  /** The most fragments one packet may have (MAX_SKB_FRAGS unless the NIC's descriptors allow fewer). */
  maxFrags: number;
  /** gso_max_size: the largest GSO/TSO packet the device takes, in bytes. */
  gsoMaxSizeBytes: number;
  readonly numTxQueues: number;
  readonly numRxQueues: number;
  /** IPv4 addresses on the device, host order, with prefix lengths. */
  readonly ipv4: { readonly addr: number; readonly prefixLen: number }[];
  readonly ops: NetDeviceOps;
  /** dev->ethtool_ops (absent: the device has no ethtool support, as lo's coalescing). */
  readonly ethtoolOps?: EthtoolOps;
  /** Per-tx-queue state: stopped by the driver when its ring is full (netif_tx_stop_queue). */
  readonly txQueueStopped: boolean[];
}

/** struct napi_struct: a device queue's polling context. */
export interface NapiStruct {
  readonly dev: NetDevice;
  /** The rx queue (and MSI-X vector) it polls. */
  readonly index: number;
  /** NAPI_POLL_WEIGHT (64): the most packets one poll may process. */
  weight: number;
  /** ->poll: processes up to `budget` packets, returns how many; fewer than budget means done (napi_complete_done). */
  poll(napi: NapiStruct, budget: number, cpu: Cpu): { workDone: number; costNs: number };
}

/** IPv4 dotted-quad to number and back (in4_pton / %pI4). */
export function ipv4(dotted: string): number {
  const parts = dotted.split('.').map(Number);
  return (((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) >>> 0;
}
export function ipv4String(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}
