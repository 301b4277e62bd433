// Models: drivers/base/core.c (struct device, device_add: the device hierarchy under /sys/devices,
// parent -> child) with the seed's device-status table (Figure 12.10): one entry per device with
// its type, address, state (idle, busy, suspended, failed) and the request in progress.
// SIMPLIFICATION: Linux keeps no single status table; a device's state is spread over its
// driver (queue depth, error handling) and runtime PM (power/runtime_status). Here the entries
// gather that, and the block queue moves a disk between idle and busy as its in-flight count
// leaves and reaches zero.

import type { Kernel } from '../../kernel/kernel.js';
import type { TracedRequest } from '../../trace/events.js';
import type { DevPmInfo } from '../../power/runtime.js';

/** A device-status table entry's state: the seed's "not functioning, idle, busy", plus suspended. */
export const DeviceState = { IDLE: 0, BUSY: 1, SUSPENDED: 2, FAILED: 3 } as const;
export type DeviceState = (typeof DeviceState)[keyof typeof DeviceState];
export const DEVICE_STATE_NAMES: readonly string[] = ['idle', 'busy', 'suspended', 'failed'];

/** A request as the table's updates carry it (the one that started or ended a busy stretch). */
export type BlockRequest = TracedRequest & { readonly ioId: number };

/** What a device is, as its sysfs subsystem names it. */
export type DeviceType = 'pci-bus' | 'pci-bridge' | 'nvme' | 'ahci' | 'ata-port' | 'disk';

/** struct device, with the status-table fields. */
export class KDevice {
  readonly children: KDevice[] = [];
  state: DeviceState = DeviceState.IDLE;
  /** Time of the last state change, and the time spent in each state before it (ns). */
  stateSinceNs = 0;
  readonly stateNs = [0, 0, 0, 0];
  /** Requests the device has been given and not finished (block devices: read from the queue). */
  inFlight: () => number = () => 0;
  /** Runtime PM (dev->power), set by core/power/runtime.ts when the device takes part. */
  power: DevPmInfo | undefined;
  /** The request in progress, read on demand (block devices: the oldest one the driver holds). */
  inProgress: () => TracedRequest | undefined = () => undefined;

  constructor(
    readonly kaddr: number,
    /** dev_name(): the sysfs name (nvme0n1, 0000:01:00.0, ata1, pci0000:00). */
    readonly name: string,
    readonly type: DeviceType,
    readonly parent: KDevice | undefined,
    /** dev_t (MAJOR << 20 | MINOR) for a device node, 0 otherwise. */
    readonly devt: number,
    /** The bus address: a PCI address (0000:01:00.0) or an ATA device address (ata1.00). */
    readonly busAddress: string,
  ) {
    parent?.children.push(this);
  }

  get major(): number {
    return Math.floor(this.devt / 2 ** 20);
  }

  get minor(): number {
    return this.devt % 2 ** 20;
  }

  /** Time spent in `state` so far, including a stretch in progress. */
  timeInStateNs(state: DeviceState, nowNs: number): number {
    return this.stateNs[state]! + (this.state === state ? nowNs - this.stateSinceNs : 0);
  }
}

/** The device-status table: every device of the machine, parents before children. */
export class DeviceTable {
  readonly devices: KDevice[] = [];
  /** Block devices by dev_t, for the block layer's idle/busy updates and for scripts. */
  private readonly byDevt = new Map<number, KDevice>();

  constructor(private readonly k: Kernel) {}

  /** device_add: a new device under `parent`. */
  add(name: string, type: DeviceType, parent: KDevice | undefined, devt = 0, busAddress = ''): KDevice {
    const d = new KDevice(this.k.kaddr(), name, type, parent, devt, busAddress);
    d.stateSinceNs = this.k.env.nowNs;
    this.devices.push(d);
    if (devt !== 0) this.byDevt.set(devt, d);
    return d;
  }

  byDev(devt: number): KDevice | undefined {
    return this.byDevt.get(devt);
  }

  byName(name: string): KDevice | undefined {
    return this.devices.find((d) => d.name === name);
  }

  /** Moves `d` to `state`, accounting the time in the old one and firing kiotrace:device_state. */
  setState(d: KDevice, state: DeviceState, rq: BlockRequest | undefined): void {
    const old = d.state;
    if (old === state || old === DeviceState.FAILED) return;
    const now = this.k.env.nowNs;
    d.stateNs[old]! += now - d.stateSinceNs;
    d.stateSinceNs = now;
    d.state = state;
    const tp = this.k.tp.device_state;
    // filed under no I/O (ioId 0): a state change is the device's, not a step of one I/O's path
    if (tp.enabled) tp.emit(this.k.sched.ctxCpu, 0, d, old, rq);
  }

  /**
   * The device stops functioning (the errors side calls this when a device is given up on, as
   * scsi_device_set_state(SDEV_OFFLINE) or nvme_kill_queues do): "failed" until it is brought back.
   */
  markFailed(d: KDevice): void {
    this.setState(d, DeviceState.FAILED, undefined);
  }

  /** The device is brought back (echo running > /sys/block/X/device/state): idle again. */
  markRunning(d: KDevice): void {
    if (d.state === DeviceState.FAILED) this.setState(d, DeviceState.IDLE, undefined);
  }

  /** blk-mq: the disk's first request went to the driver (in-flight 0 -> 1). */
  blockBusy(d: KDevice, rq: BlockRequest): void {
    if (d.state === DeviceState.IDLE) this.setState(d, DeviceState.BUSY, rq);
  }

  /** blk-mq: the disk's last in-flight request completed. */
  blockIdle(d: KDevice, rq: BlockRequest): void {
    if (d.state === DeviceState.BUSY) this.setState(d, DeviceState.IDLE, rq);
  }
}
