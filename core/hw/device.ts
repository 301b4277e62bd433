// Models: the host/device boundary of a PCIe or SATA storage device: submission of commands into
// hardware queues, DMA over scatter-gather lists, completion entries, and interrupts (MSI-X / MSI).
// Devices here are physics only; the kernel drivers in core/drivers/ talk to them through this.

import type { Environment } from '../sim/engine.js';
import type { FaultInjector } from './fault-inject.js';

export type DeviceOp = 'read' | 'write' | 'flush';

/** One entry of a DMA scatter-gather list (after dma_map_sg: bus address + length). */
export interface SgEntry {
  readonly dmaAddr: number;
  readonly lenBytes: number;
}

/** A command as the device sees it (an NVMe SQE, or an ATA FPDMA command). */
export interface DeviceCommand {
  /** Command identifier, unique among the commands outstanding on its queue. */
  readonly cid: number;
  readonly op: DeviceOp;
  /** Start in 512-byte sectors. */
  readonly sector: number;
  readonly nrSectors: number;
  /** Force Unit Access: complete only when the data is on stable media. */
  readonly fua: boolean;
  readonly sgList: readonly SgEntry[];
  /** NVMe write stream (the Streams directive's DSPEC); 0 or absent for a write without one. */
  readonly dspec?: number;
}

export interface DeviceCompletion {
  readonly cmd: DeviceCommand;
  /** 0 on success, a device status code otherwise. */
  readonly status: number;
}

export type DmaDirection = 'to-device' | 'from-device';

/**
 * What the device calls on the host side. raiseInterrupt is the wire; the on* hooks let the driver
 * fire probe sites for steps that only the hardware sees.
 */
export interface DeviceHost {
  readonly env: Environment;
  /** MSI-X vector (NVMe: one per queue pair) or the single MSI of an AHCI port. */
  raiseInterrupt(vector: number): void;
  /** The controller fetched a command from queue `qid`. */
  onFetch(qid: number, cmd: DeviceCommand): void;
  /** Media work for a command started (NAND read/program, or HDD seek+rotate+transfer). */
  onMediaStart(qid: number, cmd: DeviceCommand, detail: MediaDetail): void;
  /** A DMA transfer of the command's data between host memory and the device. */
  onDma(qid: number, cmd: DeviceCommand, direction: DmaDirection, bytes: number, startNs: number, endNs: number): void;
  /** An SSD's garbage collection chose a victim erase block on a die (an FTL's own step, no command). */
  onFtlGc?(die: number, block: number, validPages: number, freeBlocks: number): void;
  /** An SSD erased a block; the page totals so far give its write amplification. */
  onFtlErase?(die: number, block: number, copiedPages: number, hostPages: number, nandPages: number): void;
}

/** What the media did for a command, for tracing (fields that do not apply are -1). */
export interface MediaDetail {
  /** NVMe: channel / die that served the first page. HDD: -1. */
  readonly channel: number;
  readonly die: number;
  /** HDD: seek and rotational wait; NVMe: queueing wait behind the die. */
  readonly seekNs: number;
  readonly rotationNs: number;
  /** Media busy time (tR/tPROG, or transfer off the platter). */
  readonly mediaNs: number;
  /** true when served from the device's cache (DRAM write buffer, or disk cache). */
  readonly cacheHit: boolean;
}

/** A block device's hardware: command queues with completions that the driver reaps on interrupt. */
export interface BlockDeviceHw {
  readonly model: string;
  readonly capacitySectors: number;
  readonly rotational: boolean;
  /** Number of I/O queues (NVMe: queue pairs; SATA: 1). */
  readonly queueCount: number;
  /** Commands that can be outstanding per queue. */
  readonly queueDepth: number;
  /** Puts a command into queue `qid` and rings the doorbell. */
  submit(qid: number, cmd: DeviceCommand): void;
  /** Takes the completion entries posted on queue `qid` so far, oldest first. */
  reap(qid: number): DeviceCompletion[];
  /** Counters for the run's report (media reads/writes, GC copies, cache hits...). */
  counters(): Readonly<Record<string, number>>;
  /** Injected faults, when the scenario gives the device some. */
  readonly faults?: FaultInjector | undefined;
  /** Write streams the device allocates to its namespace (NVMe NSSA); 0 or absent: none. */
  readonly writeStreams?: number;
}
