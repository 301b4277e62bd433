// Models: the NAND back end of an NVMe SSD (what sits behind the controller of drivers/nvme/host/pci.c):
// dies that each run one array operation at a time (tR, tPROG, tBERS) and the channels (ONFI buses)
// that move data between a die's page register and the controller, after NVMeVirt's Samsung 970 PRO
// profile and MQSim's defaults (kernel-model-facts §10).

import { Priority, type Environment } from '../../sim/engine.js';
import { Kfifo } from '../../lib/kfifo.js';

/** FTL mapping unit: 4 KiB logical page (NVMeVirt spp->pgsz = 8 sectors of 512 B). */
export const LOGICAL_PAGE_BYTES = 4096;

/** tR of a 4 KiB read. NVMeVirt NAND_4KB_READ_LATENCY_{LSB,MSB} = 35760 ∓ 6000 ns (mean). */
export const NAND_READ_4KB_NS = 35_760;
/** tR of a read of more than 4 KiB of one flash page. NVMeVirt NAND_READ_LATENCY_{LSB,MSB} = 36013 ∓ 6000 (mean). */
export const NAND_READ_PAGE_NS = 36_013;
/** tPROG of one flash page (one-shot program). NVMeVirt SAMSUNG_970PRO NAND_PROG_LATENCY. */
export const NAND_PROGRAM_NS = 185_000;
/** tBERS. MQSim default (NVMeVirt's 970 PRO profile sets 0, "not modelled"); kernel-model-facts §10. */
export const NAND_ERASE_NS = 3_800_000;
/** NAND channel bus: NVMeVirt NAND_CHANNEL_BANDWIDTH 800 "MB/s", where its MB() is 2^20 bytes. */
export const NAND_CHANNEL_BYTES_PER_SEC = 800 * 2 ** 20;

/** tR of reading `pages` 4 KiB pages of one flash page (0 pages: no read). */
export function flashPageReadNs(pages: number): number {
  if (pages === 0) return 0;
  return pages === 1 ? NAND_READ_4KB_NS : NAND_READ_PAGE_NS;
}

/** Time to move `bytes` over one NAND channel. */
export function channelTransferNs(bytes: number): number {
  return Math.round((bytes * 1e9) / NAND_CHANNEL_BYTES_PER_SEC);
}

/** A step of a die operation: the array busy (tR/tPROG/tBERS) or data on the die's channel. */
export type Phase = { readonly kind: 'busy'; readonly ns: number } | { readonly kind: 'xfer'; readonly bytes: number };

export type DieOpKind = 'read' | 'program' | 'gc';

/** One operation a die performs; the die holds it from start to the end of its last phase. */
export class DieOp<C> {
  phases: Phase[] = [];
  phaseIdx = 0;
  /** read: pages of one flash page; program/gc: pages programmed. */
  pageCount = 0;
  /** gc: true when this step erases the victim. */
  erase = false;

  constructor(
    readonly kind: DieOpKind,
    /** Index of the die in the array. */
    readonly die: number,
    readonly enqueuedNs: number,
    /** The host command a read serves (null for programs and GC). */
    readonly cmd: C | null,
  ) {}
}

/** What the controller does when an operation reaches its die and when it ends. */
export interface DieOpOwner<C> {
  /** Plans the phases of an operation that reached the die; false when it has nothing to do. */
  beginOp(op: DieOp<C>): boolean;
  finishOp(op: DieOp<C>): void;
}

class Die<C> {
  readonly ops = new Kfifo<DieOp<C>>();
  busy = false;
  dispatching = false;

  constructor(
    readonly channel: number,
    /** Index of the die on its channel. */
    readonly way: number,
  ) {}
}

/** The dies and channels: each die runs its queued operations one at a time, first come first served. */
export class NandArray<C> {
  private readonly dies: Die<C>[] = [];
  private readonly channelFreeAtNs: number[];

  constructor(
    private readonly env: Environment,
    channels: number,
    dieCount: number,
    private readonly owner: DieOpOwner<C>,
  ) {
    // Consecutive dies sit on different channels, so striping spreads over channels first.
    for (let d = 0; d < dieCount; d++) this.dies.push(new Die<C>(d % channels, Math.floor(d / channels)));
    this.channelFreeAtNs = new Array<number>(channels).fill(0);
  }

  channelOf(die: number): number {
    return this.dies[die]!.channel;
  }

  wayOf(die: number): number {
    return this.dies[die]!.way;
  }

  enqueue(op: DieOp<C>): void {
    this.dies[op.die]!.ops.push(op);
    this.dispatch(op.die);
  }

  /** Starts queued operations on an idle die, first come first served. */
  private dispatch(index: number): void {
    const die = this.dies[index]!;
    if (die.dispatching) return;
    die.dispatching = true;
    while (!die.busy) {
      const op = die.ops.shift();
      if (op === undefined) break;
      if (this.owner.beginOp(op)) {
        die.busy = true;
        this.runPhase(op);
      }
    }
    die.dispatching = false;
  }

  private runPhase(op: DieOp<C>): void {
    const phase = op.phases[op.phaseIdx++];
    if (phase === undefined) {
      this.dies[op.die]!.busy = false;
      this.owner.finishOp(op);
      this.dispatch(op.die);
      return;
    }
    if (phase.kind === 'busy') {
      this.env.after(phase.ns, Priority.URGENT, this.phaseDone, op);
      return;
    }
    // The die keeps its data register (and so stays busy) until the channel has moved the data.
    const ch = this.dies[op.die]!.channel;
    const startNs = Math.max(this.env.nowNs, this.channelFreeAtNs[ch]!);
    const endNs = startNs + channelTransferNs(phase.bytes);
    this.channelFreeAtNs[ch] = endNs;
    this.env.at(endNs, Priority.URGENT, this.phaseDone, op);
  }

  private readonly phaseDone = (op: DieOp<C>): void => {
    this.runPhase(op);
  };
}
